package e2e

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Limits with clear errors, reliability-security.md T11: for each limit, a
// request at the limit is accepted and one beyond it is refused with 400 or
// 413 and a message naming the field and the limit, never echoing the
// value; on surfaces A, B and C. Then the server's own limits: the
// per-identity request rate (429), secrets, versions and policies per
// domain or account, bounded list pages, and a body over 1 MiB refused
// before it is read.
//
//	go test ./e2e -run TestLimits -v

// boundary is one limit: the request at the limit, and the one beyond.
type boundary struct {
	name    string
	surface string
	method  string
	path    func(i int) string // i: a counter making paths unique
	body    func(n int) string // n: the size at the limit, or one more
	limit   int
	okCode  int
}

func TestLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server")
	}
	l := startLive(t, liveOptions{})
	d := l.domain
	b, a := "/api/"+d+"/v2", "/v2/okms/resource/"+d
	// Secrets the updates and CAS writes address.
	for _, p := range []string{b + "/secret", a + "/secret"} {
		if st, _, body := l.do(t, "POST", p, `{"path":"limits/cas","version":{"data":{"k":"v"}}}`); st != 200 && st != 409 {
			t.Fatalf("create limits/cas = %d %s", st, body)
		}
	}
	if st, _, body := l.do(t, "POST", "/v1/secret/data/limits/casc", `{"data":{"k":"v"}}`); st != 200 {
		t.Fatalf("create limits/casc = %d %s", st, body)
	}

	// data of exactly n bytes of compact JSON: {"k":"xxx…"}
	data := func(n int) string { return `{"k":"` + strings.Repeat("x", n-8) + `"}` }
	deep := func(n int) string { return strings.Repeat(`{"k":`, n-1) + `{}` + strings.Repeat("}", n-1) }
	entries := func(n int) string {
		m := map[string]string{}
		for i := range n {
			m[fmt.Sprintf("k%03d", i)] = "v"
		}
		out, _ := json.Marshal(m)
		return string(out)
	}
	value := func(n int) string { return `{"k":"` + strings.Repeat("v", n) + `"}` }
	key := func(n int) string { return `{"` + strings.Repeat("k", n) + `":"v"}` }
	pathOf := func(prefix string, n int) string { return prefix + strings.Repeat("p", n-len(prefix)) }
	unique := func(prefix string) func(int) string {
		return func(i int) string { return fmt.Sprintf("%s%d", prefix, i) }
	}
	fixed := func(p string) func(int) string { return func(int) string { return p } }

	var cases []boundary
	for _, s := range []struct{ name, create, meta, update string }{
		{"B", b + "/secret", b + "/secret/", b + "/secret/limits%2Fcas"},
		{"A", a + "/secret", a + "/secret/", a + "/secret/limits%2Fcas"},
	} {
		cases = append(cases,
			boundary{"data size (bytes)", s.name, "POST", fixed(s.create), nil, 65536, 200},
			boundary{"JSON depth", s.name, "POST", fixed(s.create), nil, 64, 200},
			boundary{"custom metadata entries", s.name, "POST", fixed(s.create), nil, 64, 200},
			boundary{"custom metadata value (characters)", s.name, "POST", fixed(s.create), nil, 512, 200},
			boundary{"custom metadata key (characters)", s.name, "POST", fixed(s.create), nil, 128, 200},
			boundary{"maxVersions", s.name, "POST", fixed(s.create), nil, 24000, 200},
			boundary{"path (characters)", s.name, "POST", fixed(s.create), nil, 255, 200},
			boundary{"cas", s.name, "PUT", nil, nil, 24000, 0},
		)
		n := len(cases) - 8
		counter := 0
		next := func() string { counter++; return fmt.Sprintf("limits/%s%d", strings.ToLower(s.name), counter) }
		cases[n].body = func(n int) string { return `{"path":"` + next() + `","version":{"data":` + data(n) + `}}` }
		cases[n+1].body = func(n int) string { return `{"path":"` + next() + `","version":{"data":` + deep(n) + `}}` }
		cases[n+2].body = func(n int) string {
			return `{"path":"` + next() + `","metadata":{"customMetadata":` + entries(n) + `},"version":{"data":{}}}`
		}
		cases[n+3].body = func(n int) string {
			return `{"path":"` + next() + `","metadata":{"customMetadata":` + value(n) + `},"version":{"data":{}}}`
		}
		cases[n+4].body = func(n int) string {
			return `{"path":"` + next() + `","metadata":{"customMetadata":` + key(n) + `},"version":{"data":{}}}`
		}
		cases[n+5].body = func(n int) string {
			return fmt.Sprintf(`{"path":"%s","metadata":{"maxVersions":%d},"version":{"data":{}}}`, next(), n)
		}
		prefix := "limits/" + strings.ToLower(s.name) + "/"
		cases[n+6].body = func(n int) string { return `{"path":"` + pathOf(prefix, n) + `","version":{"data":{}}}` }
		// cas: at 24000 the write is well formed and only mismatches (the
		// secret is at version 1); beyond it, the value is invalid.
		update := s.update
		cases[n+7].path = func(n int) string { return fmt.Sprintf("%s?cas=%d", update, n) }
		cases[n+7].body = func(int) string { return `{"version":{"data":{"k":"w"}}}` }
	}
	cases = append(cases,
		boundary{"data size (bytes)", "C", "POST", unique("/v1/secret/data/limits/cdata"), func(n int) string { return `{"data":` + data(n) + `}` }, 65536, 200},
		boundary{"JSON depth", "C", "POST", unique("/v1/secret/data/limits/cdeep"), func(n int) string { return `{"data":` + deep(n) + `}` }, 64, 200},
		boundary{"custom metadata entries", "C", "POST", unique("/v1/secret/metadata/limits/cmeta"), func(n int) string { return `{"custom_metadata":` + entries(n) + `}` }, 64, 204},
		boundary{"custom metadata value (characters)", "C", "POST", unique("/v1/secret/metadata/limits/cval"), func(n int) string { return `{"custom_metadata":` + value(n) + `}` }, 512, 204},
		boundary{"custom metadata key (characters)", "C", "POST", unique("/v1/secret/metadata/limits/ckey"), func(n int) string { return `{"custom_metadata":` + key(n) + `}` }, 128, 204},
		boundary{"max_versions", "C", "POST", unique("/v1/secret/metadata/limits/cmax"), func(n int) string { return fmt.Sprintf(`{"max_versions":%d}`, n) }, 24000, 204},
		boundary{"path (characters)", "C", "POST", func(n int) string { return "/v1/secret/data/" + pathOf("limits/c/", n) }, func(int) string { return `{"data":{}}` }, 255, 200},
		boundary{"options.cas", "C", "POST", fixed("/v1/secret/data/limits/casc"), func(n int) string { return fmt.Sprintf(`{"data":{"k":"w"},"options":{"cas":%d}}`, n) }, 24000, 0},
	)

	var table []string
	for _, c := range cases {
		var at, beyond struct {
			st  int
			msg string
		}
		for k, n := range []int{c.limit, c.limit + 1} {
			st, _, body := l.do(t, c.method, c.path(n), c.body(n))
			msg := errorMessage(body)
			if k == 0 {
				at.st, at.msg = st, msg
			} else {
				beyond.st, beyond.msg = st, msg
			}
		}
		table = append(table, fmt.Sprintf("| %s | %s | %d: %d | %d: %d %s |", c.surface, c.name, c.limit, at.st, c.limit+1, beyond.st, beyond.msg))
		switch {
		case c.okCode != 0 && at.st != c.okCode:
			t.Errorf("%s %s at the limit %d = %d %s, want %d", c.surface, c.name, c.limit, at.st, at.msg, c.okCode)
		case c.okCode == 0 && (at.st != 400 || !strings.Contains(strings.ToLower(at.msg), "match")):
			// cas at the limit: a well-formed value that does not match.
			t.Errorf("%s %s at the limit %d = %d %s, want a CAS mismatch", c.surface, c.name, c.limit, at.st, at.msg)
		}
		if beyond.st != 400 && beyond.st != 413 {
			t.Errorf("%s %s beyond the limit (%d) = %d %s, want 400 or 413", c.surface, c.name, c.limit+1, beyond.st, beyond.msg)
		}
		if strings.Contains(beyond.msg, "xxxxxxxx") || strings.Contains(beyond.msg, "vvvvvvvv") {
			t.Errorf("%s %s: the message echoes the value: %.200s", c.surface, c.name, beyond.msg)
		}
	}

	// The body: 1 MiB accepted, 1 MiB + 1 refused with 413 before it is
	// read (the server answers on the headers alone).
	small := `{"data":{"k":"v"}}`
	full := small + strings.Repeat(" ", 1<<20-len(small))
	for _, s := range []struct{ surface, path string }{
		{"B", b + "/secret/limits%2Fcas/version"}, {"A", a + "/secret/limits%2Fcas/version"}, {"C", "/v1/secret/data/limits/body"},
	} {
		st, _, body := l.do(t, "POST", s.path, full)
		st2, msg := headersOnly(t, l.addr, l.token, s.path, 1<<20+1)
		table = append(table, fmt.Sprintf("| %s | body (bytes) | %d: %d | %d: %d %s (answered on the headers alone) |", s.surface, 1<<20, st, 1<<20+1, st2, msg))
		if st != 200 {
			t.Errorf("%s body of 1 MiB = %d %s, want 200", s.surface, st, body)
		}
		if st2 != 413 {
			t.Errorf("%s body of 1 MiB + 1 = %d %s, want 413 on the headers alone", s.surface, st2, msg)
		}
	}

	// Bounded list pages: 100 at most, whatever the client asks.
	for i := range 105 {
		if st, _, body := l.do(t, "POST", b+"/secret", fmt.Sprintf(`{"path":"limits/page/%03d","version":{"data":{}}}`, i)); st != 200 {
			t.Fatalf("create = %d %s", st, body)
		}
	}
	st, hdr, body := l.do(t, "GET", b+"/secret", "", "X-Pagination-Size", "100000")
	var items []json.RawMessage
	if st != 200 || json.Unmarshal(body, &items) != nil || len(items) != 100 || hdr.Get("X-Pagination-Cursor-Next") == "" {
		t.Errorf("list with X-Pagination-Size 100000 = %d, %d items, next cursor %q; want 200, 100 items and a cursor", st, len(items), hdr.Get("X-Pagination-Cursor-Next"))
	}
	table = append(table, fmt.Sprintf("| B | list page size | asked 100000: %d items | |", len(items)))

	t.Logf("T11 boundary pairs (%d):\n| surface | limit | at the limit | beyond |\n|---|---|---|---|\n%s", len(table), strings.Join(table, "\n"))
}

// headersOnly sends a POST announcing a body of n bytes without sending
// it, and returns the answer: a server that waits for the body times out.
func headersOnly(t *testing.T, addr, token, path string, n int) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: coffer\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", path, token, n)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var sb strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&sb)
	return resp.StatusCode, errorMessage([]byte(sb.String()))
}

// errorMessage extracts the message of an error body of any surface.
func errorMessage(body []byte) string {
	var e struct {
		Errors  []string `json:"errors"`
		Message string   `json:"message"`
		ErrorID string   `json:"error_id"`
		Class   string   `json:"class"`
	}
	if json.Unmarshal(body, &e) != nil {
		return ""
	}
	id := e.ErrorID + e.Class
	// One line: Vault's messages hold newlines and tabs.
	msg := strings.Join(strings.Fields(e.Message+strings.Join(e.Errors, "; ")), " ")
	if id != "" {
		return id + ": " + msg
	}
	return msg
}

// TestServerLimits checks the server's optional limits: the request rate
// of each identity, and the secrets, versions and policies an
// installation may hold, each refused with a clear error.
func TestServerLimits(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server")
	}
	l := startLive(t, liveOptions{config: func(c *server.Config) {
		c.Limits = service.Limits{SecretsPerDomain: 3, VersionsPerDomain: 5, Policies: 2, RequestRate: 1, RequestBurst: 40}
	}})
	b := "/api/" + l.domain + "/v2"
	var table []string
	// Secrets: 3 per domain.
	for i := 1; i <= 4; i++ {
		st, _, body := l.do(t, "POST", b+"/secret", fmt.Sprintf(`{"path":"q/s%d","version":{"data":{}}}`, i))
		want := 200
		if i == 4 {
			want = 400
			table = append(table, fmt.Sprintf("secrets per domain 3: 4th create %d %s", st, errorMessage(body)))
			if !strings.Contains(string(body), "DomainSecretLimitReached") || !strings.Contains(string(body), "3 secrets") {
				t.Errorf("4th secret: %s, want DomainSecretLimitReached naming the limit", body)
			}
		}
		if st != want {
			t.Errorf("create secret %d = %d %s, want %d", i, st, body, want)
		}
	}
	// Versions: 5 per domain; 3 are stored, two more fit.
	for i := 1; i <= 3; i++ {
		st, _, body := l.do(t, "POST", "/v1/secret/data/q/s1", `{"data":{"k":"v"}}`)
		want := 200
		if i == 3 {
			want = 400
			table = append(table, fmt.Sprintf("versions per domain 5: 6th version (surface C) %d %s", st, errorMessage(body)))
			if !strings.Contains(string(body), "DomainVersionLimitReached") {
				t.Errorf("6th version: %s, want DomainVersionLimitReached", body)
			}
		}
		if st != want {
			t.Errorf("version %d = %d %s, want %d", i+3, st, body, want)
		}
	}
	// Policies: 2 for the account.
	for i := 1; i <= 3; i++ {
		st, _, body := l.do(t, "POST", "/v2/iam/policy", fmt.Sprintf(`{"name":"p%d","identities":["urn:v1:eu:identity:group:coffer/g"],"resources":[{"urn":"urn:v1:eu:resource:okms:%s"}],"permissions":{"allow":[{"action":"okms:apikms:secret/get"}]}}`, i, l.domain))
		want := 200
		if i == 3 {
			want = 400
			table = append(table, fmt.Sprintf("policies 2: 3rd policy %d %s", st, errorMessage(body)))
		}
		if st != want {
			t.Errorf("policy %d = %d %s, want %d", i, st, body, want)
		}
	}
	// Another identity, with a budget of its own.
	if st, _, body := l.do(t, "POST", "/1.0/me/identity/user", `{"login":"other"}`); st != 200 {
		t.Fatalf("create user = %d %s", st, body)
	}
	st, _, body := l.do(t, "POST", "/1.0/me/identity/user/other/token", `{"name":"t"}`)
	var tok struct{ Token string }
	if st != 200 || json.Unmarshal(body, &tok) != nil {
		t.Fatalf("create token = %d %s", st, body)
	}
	// Request rate: 1 per second, bursts of 40; the root spends its burst,
	// then meets 429 on every surface.
	var limited []string
	for _, p := range []string{b + "/secret", "/v2/okms/resource/" + l.domain + "/secret", "/v1/secret/metadata/q/s1", "/1.0/me/identity/user"} {
		for range 60 {
			st, _, body := l.do(t, "GET", p, "")
			if st == 429 {
				limited = append(limited, fmt.Sprintf("%s: %s", p, errorMessage(body)))
				break
			}
		}
	}
	if len(limited) != 4 {
		t.Errorf("the request rate limit answered 429 on %d of 4 surfaces: %v", len(limited), limited)
	}
	table = append(table, "request rate 1/s, burst 40: 429 "+strings.Join(limited, " | "))
	// The other identity is not limited: its request is judged (and denied:
	// it has no policy).
	if st, _, body := l.doToken(t, tok.Token, "GET", b+"/secret/q%2Fs1", ""); st != 403 {
		t.Errorf("another identity after the root is limited = %d %s, want 403 (not 429)", st, body)
	}
	t.Logf("T11 server limits:\n%s", strings.Join(table, "\n"))
}

// TestVersionIDLimit writes versions until the id 24000 is reached
// (okms-rest.md: version ids run from 1 to 24000): the next write is
// refused on every surface with SecretVersionLimitReached.
func TestVersionIDLimit(t *testing.T) {
	if testing.Short() {
		t.Skip("24,000 writes")
	}
	l := startLive(t, liveOptions{config: func(c *server.Config) { c.Storage = "memory" }})
	b := "/api/" + l.domain + "/v2/secret"
	if st, _, body := l.do(t, "POST", b, `{"path":"limits/ids","metadata":{"maxVersions":1},"version":{"data":{}}}`); st != 200 {
		t.Fatalf("create = %d %s", st, body)
	}
	// The 23,999 versions in between go through the service directly: the
	// test is about the surfaces' answer once the last id is taken.
	svc := l.srv.Service()
	p, err := svc.Authenticate(t.Context(), l.token)
	if err != nil {
		t.Fatal(err)
	}
	c := service.Caller{Principal: p, Surface: "B", RequestID: "limits"}
	d, _ := secret.ParseData([]byte(`{"k":"v"}`))
	path := secret.MustParsePath("limits/ids")
	for i := 2; i <= 24000; i++ {
		if _, _, err := svc.PutVersion(t.Context(), c, l.domain, path, d, service.PutOptions{}); err != nil {
			t.Fatalf("version %d: %v", i, err)
		}
	}
	st, _, body := l.do(t, "GET", b+"/limits%2Fids", "")
	if st != 200 || !strings.Contains(string(body), `"currentVersion":24000`) {
		t.Fatalf("after 24,000 versions: %d %s", st, body)
	}
	var out []string
	for _, rq := range []struct{ surface, method, path, body string }{
		{"B", "POST", b + "/limits%2Fids/version", `{"data":{"k":"v"}}`},
		{"A", "POST", "/v2/okms/resource/" + l.domain + "/secret/limits%2Fids/version", `{"data":{"k":"v"}}`},
		{"C", "POST", "/v1/secret/data/limits/ids", `{"data":{"k":"v"}}`},
	} {
		st, _, body := l.do(t, rq.method, rq.path, rq.body)
		out = append(out, fmt.Sprintf("%s %d %s", rq.surface, st, errorMessage(body)))
		if st != 400 || !strings.Contains(string(body), "SecretVersionLimitReached") {
			t.Errorf("%s: version 24,001 = %d %s, want 400 SecretVersionLimitReached", rq.surface, st, body)
		}
	}
	t.Logf("T11 version id 24000 reached; the next write: %s", strings.Join(out, " | "))
}
