package central_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

func TestRoutes(t *testing.T) {
	t.Parallel()
	const (
		notFound   = "Client::NotFound::RouteNotFound"
		notAllowed = "Client::MethodNotAllowed"
		base       = "/v2/okms/resource/{okmsId}"
	)
	cases := []apiCase{
		{name: "404/unknown path under /v2/okms", target: "/v2/okms", status: 404, class: notFound, golden: "error_RouteNotFound"},
		{name: "404/unknown path under /v2", target: "/v2/unknown", status: 404, class: notFound},
		{name: "404/below a service key", target: base + "/serviceKey/0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f/x", status: 404, class: notFound},
		{name: "404/log subscriptions are out of scope", target: base + "/log/subscription", status: 404, class: notFound},
		{name: "404/a plural that is not a route", target: base + "/secrets", status: 404, class: notFound},
		{name: "404/below secretConfig", target: base + "/secretConfig/x", status: 404, class: notFound},
		{name: "405/DELETE on the secret collection", method: "DELETE", setup: seedDB, target: base + "/secret", status: 405,
			class: notAllowed, golden: "error_MethodNotAllowed"},
		{name: "405/PUT on the secret collection", method: "PUT", target: base + "/secret", body: `{}`, status: 405, class: notAllowed},
		{name: "405/PATCH on a secret", method: "PATCH", setup: seedDB, target: "/secret/prod%2Fdb", body: `{}`, status: 405, class: notAllowed},
		{name: "405/POST on a secret", method: "POST", setup: seedDB, target: "/secret/prod%2Fdb", body: `{}`, status: 405, class: notAllowed},
		{name: "405/DELETE on a version collection", method: "DELETE", setup: seedDB, target: "/secret/prod%2Fdb/version", status: 405, class: notAllowed},
		{name: "405/POST on one version", method: "POST", setup: seedDB, target: "/secret/prod%2Fdb/version/1", body: `{}`, status: 405, class: notAllowed},
		{name: "405/DELETE on secretConfig", method: "DELETE", target: "/secretConfig", status: 405, class: notAllowed},
		{name: "405/POST on secretConfig", method: "POST", target: "/secretConfig", body: `{}`, status: 405, class: notAllowed},
		{name: "405/DELETE on the domain list", method: "DELETE", target: "/v2/okms/resource", status: 405, class: notAllowed},
	}
	runCases(t, "GET", "", cases)
}

// TestSecretPathInURL pins okms-rest.md 1.2 on surface A: the escaped
// path after /secret/ is split first, then decoded once.
func TestSecretPathInURL(t *testing.T) {
	t.Parallel()
	seed := func(e *env) {
		seedDB(e)
		e.WriteSecret("prod/db", `{"v":3}`)
		e.CreateSecret("prod/version", `{"literal":true}`)
	}
	path := func(p string) func(*testing.T, *env, *response) {
		return func(t *testing.T, _ *env, r *response) { want(t, "path", decode[secretOut](t, r).Path, p) }
	}
	data := func(d string) func(*testing.T, *env, *response) {
		return func(t *testing.T, _ *env, r *response) { want(t, "data", string(decode[versionOut](t, r).Data), d) }
	}
	cases := []apiCase{
		{name: "200/encoded path", setup: seed, target: "/secret/prod%2Fdb", status: 200, check: path("prod/db")},
		{name: "200/raw path", setup: seed, target: "/secret/prod/db", status: 200, check: path("prod/db")},
		{name: "200/lower-case %2f", setup: seed, target: "/secret/prod%2fdb", status: 200, check: path("prod/db")},
		{name: "200/encoded path, one version", setup: seed, target: "/secret/prod%2Fdb/version/3?includeData=true", status: 200,
			check: data(`{"v":3}`)},
		{name: "200/raw path, one version", setup: seed, target: "/secret/prod/db/version/3?includeData=true", status: 200,
			check: data(`{"v":3}`)},
		{name: "200/a last segment named version, encoded", setup: seed, target: "/secret/prod%2Fversion", status: 200,
			check: path("prod/version")},
		{name: "404/a last segment named version, raw: the versions of prod", setup: seed, target: "/secret/prod/version",
			status: 404, class: clsNotFound},
		{name: "200/a path ending in /version/x is a secret path", target: "/secret/a/version/x", status: 200,
			setup: func(e *env) { e.CreateSecret("a/version/x", `{}`) }, check: path("a/version/x")},
		{name: "400/empty path", target: "/secret/", status: 400, class: clsBadPath},
		{name: "400/encoded slash alone", target: "/secret/%2F", status: 400, class: clsBadPath},
		{name: "400/dot segment", target: "/secret/prod/./db", status: 400, class: clsBadPath},
		{name: "400/double encoding", setup: seed, target: "/secret/prod%252Fdb", status: 400, class: clsBadPath},
		{name: "400/encoded dot-dot segment", target: "/secret/prod%2F..%2Fdb", status: 400, class: clsBadPath},
	}
	runCases(t, "GET", "", cases)
}

func TestListDomains(t *testing.T) {
	t.Parallel()
	cases := []apiCase{
		{name: "200/the default domain", status: 200, golden: "domain_list",
			check: func(t *testing.T, e *env, r *response) {
				type domain struct {
					ID  string
					IAM iamOut
				}
				ds := decode[[]domain](t, r)
				if len(ds) != 1 || ds[0].ID != e.domain {
					t.Fatalf("domains = %+v, want the default %s", ds, e.domain)
				}
				want(t, "iam.id", ds[0].IAM.ID, e.domain)
				want(t, "iam.urn", ds[0].IAM.URN, "urn:v1:eu:resource:okms:"+e.domain)
				want(t, "iam.state", ds[0].IAM.State, "OK")
			}},
		{name: "401/no token", status: 401, class: clsUnauthorized, header: map[string]string{"Authorization": ""}},
		{name: "401/X-Vault-Token only", status: 401, class: clsUnauthorized,
			header: map[string]string{"Authorization": "", "X-Vault-Token": rootToken}},
	}
	runCases(t, "GET", "/v2/okms/resource", cases)
}

// lockedBuffer collects the server's log lines across goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// auditRecord is one audit event as the server logs it.
type auditRecord struct {
	Msg       string `json:"msg"`
	Phase     string `json:"phase"`
	RequestID string `json:"request_id"`
	Surface   string `json:"surface"`
	Action    string `json:"action"`
	Outcome   string `json:"outcome"`
}

// requestEvent returns the audit request event of a request id.
func (l *lockedBuffer) requestEvent(t *testing.T, rid string) auditRecord {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	sc := bufio.NewScanner(bytes.NewReader(l.b.Bytes()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var a auditRecord
		if json.Unmarshal(sc.Bytes(), &a) == nil && a.Msg == "audit" && a.Phase == "request" && a.RequestID == rid {
			return a
		}
	}
	t.Fatalf("no audit request event for request %s", rid)
	return auditRecord{}
}

// TestActions checks, through the audit trail, that surface A calls the
// service as surface A with the Central dialect: okms:apiovh:* actions,
// secret/edit on every secret update and secret/version/edit on every
// version state change (okms-rest.md 5.1, 9).
func TestActions(t *testing.T) {
	t.Parallel()
	const ns = "okms:apiovh:"
	steps := []struct {
		method, target, body string
		actions              []string
	}{
		{"GET", "/v2/okms/resource", "", []string{"resource/get"}},
		{"POST", "/secret", createBody("prod/db", `{"v":1}`), []string{"secret/create"}},
		{"GET", "/secret", "", []string{"secret/get"}},
		{"GET", "/secret/prod%2Fdb", "", []string{"secret/get"}},
		{"GET", "/secret/prod%2Fdb?includeData=true", "", []string{"secret/get", "secret/version/getData"}},
		{"PUT", "/secret/prod%2Fdb", `{"version":{"data":{}}}`, []string{"secret/edit", "secret/version/create"}},
		{"PUT", "/secret/prod%2Fdb", `{"metadata":{"maxVersions":5}}`, []string{"secret/edit", "secret/updateMetadata"}},
		{"PUT", "/secret/prod%2Fdb", `{"metadata":{"maxVersions":6},"version":{"data":{}}}`,
			[]string{"secret/edit", "secret/version/create", "secret/updateMetadata"}},
		{"GET", "/secret/prod%2Fdb/version", "", []string{"secret/get"}},
		{"POST", "/secret/prod%2Fdb/version", `{"data":{}}`, []string{"secret/version/create"}},
		{"GET", "/secret/prod%2Fdb/version/1", "", []string{"secret/get"}},
		{"GET", "/secret/prod%2Fdb/version/1?includeData=true", "", []string{"secret/get", "secret/version/getData"}},
		{"PUT", "/secret/prod%2Fdb/version/1", `{"state":"DEACTIVATED"}`, []string{"secret/version/edit", "secret/version/deactivate"}},
		{"PUT", "/secret/prod%2Fdb/version/1", `{"state":"ACTIVE"}`, []string{"secret/version/edit", "secret/version/activate"}},
		{"PUT", "/secret/prod%2Fdb/version/1", `{"state":"DELETED"}`, []string{"secret/version/edit", "secret/version/delete"}},
		{"GET", "/secretConfig", "", []string{"secretConfig/get"}},
		{"PUT", "/secretConfig", `{"maxVersions":3}`, []string{"secretConfig/update"}},
		{"DELETE", "/secret/prod%2Fdb", "", []string{"secret/delete"}},
	}
	var logs lockedBuffer
	e := newEnvLogging(t, slog.New(slog.NewJSONHandler(&logs, nil)))
	for _, s := range steps {
		r := e.Must(s.method, s.target, s.body)
		ev := logs.requestEvent(t, r.Header.Get(hQueryID))
		var wantActions []string
		for _, a := range s.actions {
			wantActions = append(wantActions, ns+a)
		}
		want(t, s.method+" "+s.target+" surface", ev.Surface, "A")
		want(t, s.method+" "+s.target+" actions", ev.Action, strings.Join(wantActions, ","))
		want(t, s.method+" "+s.target+" outcome", ev.Outcome, "allowed")
	}
	// A refused request is audited under surface A too.
	r := e.Send(request{Method: http.MethodGet, Target: "/secret/nope"})
	r.Expect(t, 404, clsNotFound)
	want(t, "missing secret surface", logs.requestEvent(t, r.Header.Get(hQueryID)).Surface, "A")
}
