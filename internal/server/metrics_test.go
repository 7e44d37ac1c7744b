package server_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// TestHealthAndMetrics checks /healthz, /readyz and /metrics: the metrics
// count requests per surface and route pattern, storage latency,
// authorization denials and failed authentications, and hold no secret
// path, value or token (reliability-security.md 6).
func TestHealthAndMetrics(t *testing.T) {
	te := testenv.Start(t, testenv.Configure(func(c *server.Config) { c.DevRootToken = "cof_root_metrics-token-CANARY" }))
	srv, ts := te.Server, te.HTTP
	const (
		root  = "cof_root_metrics-token-CANARY"
		path  = "metrics-CANARY-path/db"
		value = "metrics-CANARY-value"
	)
	domain := srv.DefaultDomain()
	do := func(token, method, target, body string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+target, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type") + "\n" + string(b)
	}
	for _, rq := range []struct {
		token, method, target, body string
		status                      int
	}{
		{root, "POST", "/api/" + domain + "/v2/secret", `{"path":"` + path + `","version":{"data":{"k":"` + value + `"}}}`, 200},
		{root, "GET", "/api/" + domain + "/v2/secret/" + strings.ReplaceAll(path, "/", "%2F") + "?includeData=true", "", 200},
		{root, "GET", "/v2/okms/resource/" + domain + "/secret/" + strings.ReplaceAll(path, "/", "%2F"), "", 200},
		{root, "GET", "/v1/secret/data/" + path, "", 200},
		{root, "GET", "/api/" + domain + "/v1/secret/metadata/" + path, "", 200},
		{root, "POST", "/1.0/me/identity/user", `{"login":"nobody"}`, 200},
		{"", "GET", "/api/" + domain + "/v2/secret", "", 401},
		{"cof_root_wrong-CANARY", "GET", "/v1/secret/data/" + path, "", 403},
		{root, "GET", "/no/such/" + path, "", 404},
		{"", "GET", "/healthz", "", 200},
		{"", "GET", "/readyz", "", 200},
	} {
		if st, body := do(rq.token, rq.method, rq.target, rq.body); st != rq.status {
			t.Fatalf("%s %s = %d %s, want %d", rq.method, rq.target, st, body, rq.status)
		}
	}
	// A user without any policy: its reads are denied.
	st, body := do(root, "POST", "/1.0/me/identity/user/nobody/token", `{"name":"t"}`)
	tok := body[strings.Index(body, `"token":"`)+len(`"token":"`):]
	tok = tok[:strings.IndexByte(tok, '"')]
	if st != 200 {
		t.Fatalf("create token = %d %s", st, body)
	}
	if st, body := do(tok, "GET", "/api/"+domain+"/v2/secret/"+strings.ReplaceAll(path, "/", "%2F")+"?includeData=true", ""); st != 403 {
		t.Fatalf("denied read = %d %s", st, body)
	}

	st, body = do("", "GET", "/metrics", "")
	if st != 200 || !strings.HasPrefix(body, "text/plain") {
		t.Fatalf("GET /metrics = %d %.200s", st, body)
	}
	for _, want := range []string{
		`coffer_http_requests_total{code="200",method="POST",route="/api/{okmsId}/v2/secret",surface="B"} 1`,
		`coffer_http_requests_total{code="200",method="GET",route="/api/{okmsId}/v2/secret/{rest...}",surface="B"} 1`,
		`coffer_http_requests_total{code="200",method="GET",route="/v2/okms/resource/{okmsId}/secret/{rest...}",surface="A"} 1`,
		`coffer_http_requests_total{code="200",method="GET",route="/v1/secret/data/{path}",surface="C"} 1`,
		`coffer_http_requests_total{code="200",method="GET",route="/api/{okmsId}/v1/secret/metadata/{path}",surface="C"} 1`,
		`coffer_http_requests_total{code="404",method="GET",route="/",surface="system"} 1`,
		`coffer_http_requests_total{code="200",method="GET",route="/readyz",surface="system"} 1`,
		`coffer_http_request_duration_seconds_bucket{route="/v1/secret/data/{path}",surface="C",le="`,
		`coffer_storage_operation_duration_seconds_count{op="update",region="local"}`,
		`coffer_storage_operation_duration_seconds_count{op="view",region="local"}`,
		`coffer_authorization_denials_total{action="okms:apikms:secret/get,okms:apikms:secret/version/getData",surface="B"} 1`,
		`coffer_authentication_failures_total{surface="B"} 1`,
		`coffer_authentication_failures_total{surface="C"} 1`,
		`coffer_build_info{goversion=`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for _, secret := range []string{"CANARY", path, value, root, tok, "metrics-CANARY"} {
		if strings.Contains(body, secret) {
			t.Errorf("/metrics holds %q", secret)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}

	// Not ready once the storage is closed; still alive.
	srv.Close()
	if st, body := do("", "GET", "/readyz", ""); st != 503 || !strings.Contains(body, `"status":"unavailable"`) {
		t.Errorf("GET /readyz with the storage closed = %d %s, want 503", st, body)
	}
	if st, body := do("", "GET", "/healthz", ""); st != 200 {
		t.Errorf("GET /healthz with the storage closed = %d %s, want 200", st, body)
	}
}
