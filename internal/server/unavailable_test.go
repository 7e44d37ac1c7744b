package server_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/storage/storagetest"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// TestStorageUnavailable: while the database cannot be reached, every
// surface answers 503 with Retry-After in its own envelope (never 500),
// /readyz answers 503, and coffer_storage_unavailable_total counts the
// failed transactions; once the database is back the server serves again
// by itself.
func TestStorageUnavailable(t *testing.T) {
	u, err := url.Parse(testenv.PGSchema(t))
	if err != nil {
		t.Fatal(err)
	}
	gate := storagetest.NewGate(t, u.Host)
	u.Host = gate.Addr()

	const token = "cof_root_unavailable-test"
	te := testenv.Serve(t, server.Config{Storage: "postgres", PGURL: u.String(), DataDir: t.TempDir(),
		RootToken: token, Logger: slog.New(slog.DiscardHandler), Out: io.Discard}, nil)
	srv, ts := te.Server, te.HTTP
	domain := srv.DefaultDomain()
	do := func(method, target, body string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+target, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	if resp, b := do("POST", "/api/"+domain+"/v2/secret", `{"path":"app/db","version":{"data":{"k":"v"}}}`); resp.StatusCode != 200 {
		t.Fatalf("create a secret = %d %s", resp.StatusCode, b)
	}

	requests := []struct {
		surface, method, target, body string
		envelope                      *regexp.Regexp
	}{
		{"B", "GET", "/api/" + domain + "/v2/secret/app%2Fdb?includeData=true", "",
			regexp.MustCompile(`^\{"error_code":50425858,"error_id":"ServiceUnavailable","errors":\["the storage is unavailable; try again later"\],"request_id":"[^"]+"\}`)},
		{"B", "POST", "/api/" + domain + "/v2/secret/app%2Fdb/version", `{"data":{"k":"w"}}`,
			regexp.MustCompile(`"error_id":"ServiceUnavailable"`)},
		{"A", "GET", "/v2/okms/resource/" + domain + "/secret/app%2Fdb", "",
			regexp.MustCompile(`^\{"class":"Server::ServiceUnavailable","message":"the storage is unavailable; try again later"\}`)},
		{"C", "GET", "/v1/secret/data/app/db", "",
			regexp.MustCompile(`^\{"errors":\["the storage is unavailable; try again later"\],"error_code":50425858,"error_id":"ServiceUnavailable","request_id":"[^"]+"\}`)},
		{"C", "POST", "/api/" + domain + "/v1/secret/data/app/db", `{"data":{"k":"w"}}`,
			regexp.MustCompile(`"error_id":"ServiceUnavailable"`)},
		{"iam", "GET", "/1.0/me/identity/user", "", regexp.MustCompile(`^\{"class":"Server::ServiceUnavailable"`)},
		{"sys", "POST", "/sys/domains/" + domain + "/key/rotate", "",
			regexp.MustCompile(`^\{"errors":\["the storage is unavailable; try again later"\]\}`)},
		{"system", "GET", "/readyz", "", regexp.MustCompile(`"status":"unavailable"`)},
	}
	gate.SetClosed(true)
	for _, rq := range requests {
		resp, b := do(rq.method, rq.target, rq.body)
		if resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") != "2" || !rq.envelope.Match(b) {
			t.Errorf("surface %s, %s %s while the database is down = %d (Retry-After %q) %s; want 503, Retry-After 2, matching %s",
				rq.surface, rq.method, rq.target, resp.StatusCode, resp.Header.Get("Retry-After"), b, rq.envelope)
		}
	}
	_, metrics := do("GET", "/metrics", "")
	m := regexp.MustCompile(`(?m)^coffer_storage_unavailable_total\{region="local"\} (\d+)$`).FindSubmatch(metrics)
	if m == nil {
		t.Errorf("no coffer_storage_unavailable_total in /metrics")
	} else if n, _ := strconv.Atoi(string(m[1])); n < len(requests) {
		t.Errorf("coffer_storage_unavailable_total after %d failed requests: %q", len(requests), m)
	}
	if regexp.MustCompile(`coffer_http_requests_total\{[^}]*code="500"`).Match(metrics) {
		t.Errorf("some request was answered 500 during the outage:\n%s", metrics)
	}

	// Back: the server serves again by itself (a request or two may still
	// meet a connection that died with the outage).
	gate.SetClosed(false)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for _, rq := range requests {
		for {
			resp, b := do(rq.method, rq.target, rq.body)
			if resp.StatusCode < 300 {
				break
			}
			if resp.StatusCode != http.StatusServiceUnavailable || ctx.Err() != nil {
				t.Fatalf("surface %s, %s %s after the database came back = %d %s", rq.surface, rq.method, rq.target, resp.StatusCode, b)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	resp, b := do("GET", "/api/"+domain+"/v2/secret/app%2Fdb?includeData=true", "")
	var got struct {
		Metadata struct{ CurrentVersion int }
	}
	if json.Unmarshal(b, &got); resp.StatusCode != 200 || got.Metadata.CurrentVersion != 3 {
		t.Errorf("the secret after the outage = %d %s; want version 3 (the two writes made after it)", resp.StatusCode, b)
	}
}
