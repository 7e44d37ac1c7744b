package e2e

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/server"
)

// TestValueNeedsGetData keeps one of issue 13's "what held up" findings a
// regression test: a caller holding secret/get but not getData sees a
// secret's metadata and never its value, whatever the surface, the
// encoding of the path (%2F, %252F, "..", "//", a path in another case)
// or the spelling of the domain id (upper case, another domain).
func TestValueNeedsGetData(t *testing.T) {
	l := startLive(t, liveOptions{config: func(c *server.Config) { c.Storage = "memory" }})
	const canary = "CANARY-heldup-5e2a"
	mustStatus(t, l, 200, "POST", "/api/"+l.domain+"/v2/secret", `{"path":"prod/db","version":{"data":{"password":"`+canary+`"}}}`)
	lister := userToken(t, l, "lister")
	mustStatus(t, l, 200, "POST", "/v2/iam/policy", `{"name":"lister","identities":["urn:v1:eu:identity:user:coffer/lister"],`+
		`"resources":[{"urn":"urn:v1:eu:resource:okms:`+l.domain+`"}],`+
		`"permissions":{"allow":[{"action":"okms:apikms:secret/get"},{"action":"okms:apiovh:secret/get"}]}}`)
	d, D := l.domain, strings.ToUpper(l.domain)
	other := "0b9f2a6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"
	for _, path := range []string{
		// Surface B
		"/api/" + d + "/v2/secret/prod%2Fdb?includeData=true",
		"/api/" + d + "/v2/secret/prod%2Fdb/version/1?includeData=true",
		"/api/" + d + "/v2/secret/prod/db?includeData=true",
		"/api/" + d + "/v2/secret/prod%252Fdb?includeData=true",
		"/api/" + d + "/v2/secret/prod%2F..%2Fprod%2Fdb?includeData=true",
		"/api/" + d + "/v2/secret/prod%2F%2Fdb?includeData=true",
		"/api/" + d + "/v2/secret/PROD%2Fdb?includeData=true",
		"/api/" + D + "/v2/secret/prod%2Fdb?includeData=true",
		"/api/" + other + "/v2/secret/prod%2Fdb?includeData=true",
		// Surface A
		"/v2/okms/resource/" + d + "/secret/prod%2Fdb?includeData=true",
		"/v2/okms/resource/" + d + "/secret/prod%2Fdb/version/1?includeData=true",
		"/v2/okms/resource/" + D + "/secret/prod%2Fdb?includeData=true",
		"/v2/okms/resource/" + d + "/secret/prod%252Fdb?includeData=true",
		// Surface C, both addressing forms
		"/v1/secret/data/prod/db",
		"/v1/secret/data/prod//db",
		"/v1/secret/data/prod/../prod/db",
		"/v1/secret/data/prod%2Fdb",
		"/v1/secret/data/PROD/db",
		"/v1/secret/subkeys/prod/db",
		"/api/" + d + "/v1/secret/data/prod/db",
		"/api/" + D + "/v1/secret/data/prod/db",
		"/api/" + other + "/v1/secret/data/prod/db",
	} {
		st, _, b := l.doToken(t, lister, "GET", path, "")
		if st < 400 || st >= 500 || strings.Contains(string(b), canary) {
			t.Errorf("GET %s without getData: %d %.200s", path, st, b)
		}
	}
	// What secret/get grants still works.
	for _, path := range []string{"/api/" + d + "/v2/secret/prod%2Fdb", "/v2/okms/resource/" + d + "/secret/prod%2Fdb",
		"/v1/secret/metadata/prod/db", "/api/" + d + "/v2/secret"} {
		st, _, b := l.doToken(t, lister, "GET", path, "")
		if st != 200 || strings.Contains(string(b), canary) {
			t.Errorf("GET %s with secret/get: %d %.200s, want 200 without the value", path, st, b)
		}
	}
}

// TestOversizedHeaders: a request whose headers exceed the server's limit
// (64 KiB) is refused with 431 before any handler runs.
func TestOversizedHeaders(t *testing.T) {
	l := startLive(t, liveOptions{config: func(c *server.Config) { c.Storage = "memory" }})
	conn, err := net.DialTimeout("tcp", l.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	req := "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("a", 100<<10) + "\r\n\r\n"
	conn.Write([]byte(req))
	buf := make([]byte, 64)
	n, _ := conn.Read(buf)
	if !strings.HasPrefix(string(buf[:n]), "HTTP/1.1 431") {
		t.Errorf("a request with 100 KiB of headers: %q, want 431", buf[:n])
	}
}
