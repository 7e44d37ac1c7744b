package central_test

import (
	"bufio"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/testenv"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

func TestRoutes(t *testing.T) {
	t.Parallel()
	const (
		notFound   = "Client::NotFound::RouteNotFound"
		notAllowed = "Client::MethodNotAllowed"
		base       = "/v2/okms/resource/{okmsId}"
	)
	cases := []apiCase{
		{Name: "404/unknown path under /v2/okms", Target: "/v2/okms", Status: 404, Err: notFound, Golden: "error_RouteNotFound"},
		{Name: "404/unknown path under /v2", Target: "/v2/unknown", Status: 404, Err: notFound},
		{Name: "404/below a service key", Target: base + "/serviceKey/0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f/x", Status: 404, Err: notFound},
		{Name: "404/log subscriptions are out of scope", Target: base + "/log/subscription", Status: 404, Err: notFound},
		{Name: "404/a plural that is not a route", Target: base + "/secrets", Status: 404, Err: notFound},
		{Name: "404/below secretConfig", Target: base + "/secretConfig/x", Status: 404, Err: notFound},
		{Name: "405/DELETE on the secret collection", Method: "DELETE", Setup: seedDB, Target: base + "/secret", Status: 405,
			Err: notAllowed, Golden: "error_MethodNotAllowed"},
		{Name: "405/PUT on the secret collection", Method: "PUT", Target: base + "/secret", Body: `{}`, Status: 405, Err: notAllowed},
		{Name: "405/PATCH on a secret", Method: "PATCH", Setup: seedDB, Target: "/secret/prod%2Fdb", Body: `{}`, Status: 405, Err: notAllowed},
		{Name: "405/POST on a secret", Method: "POST", Setup: seedDB, Target: "/secret/prod%2Fdb", Body: `{}`, Status: 405, Err: notAllowed},
		{Name: "405/DELETE on a version collection", Method: "DELETE", Setup: seedDB, Target: "/secret/prod%2Fdb/version", Status: 405, Err: notAllowed},
		{Name: "405/POST on one version", Method: "POST", Setup: seedDB, Target: "/secret/prod%2Fdb/version/1", Body: `{}`, Status: 405, Err: notAllowed},
		{Name: "405/DELETE on secretConfig", Method: "DELETE", Target: "/secretConfig", Status: 405, Err: notAllowed},
		{Name: "405/POST on secretConfig", Method: "POST", Target: "/secretConfig", Body: `{}`, Status: 405, Err: notAllowed},
		{Name: "405/DELETE on the domain list", Method: "DELETE", Target: "/v2/okms/resource", Status: 405, Err: notAllowed},
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
		return func(t *testing.T, _ *env, r *response) { want(t, "path", wiretest.DecodeBody[secretOut](t, r).Path, p) }
	}
	data := func(d string) func(*testing.T, *env, *response) {
		return func(t *testing.T, _ *env, r *response) {
			want(t, "data", string(wiretest.DecodeBody[versionOut](t, r).Data), d)
		}
	}
	cases := []apiCase{
		{Name: "200/encoded path", Setup: seed, Target: "/secret/prod%2Fdb", Status: 200, Check: path("prod/db")},
		{Name: "200/raw path", Setup: seed, Target: "/secret/prod/db", Status: 200, Check: path("prod/db")},
		{Name: "200/lower-case %2f", Setup: seed, Target: "/secret/prod%2fdb", Status: 200, Check: path("prod/db")},
		{Name: "200/encoded path, one version", Setup: seed, Target: "/secret/prod%2Fdb/version/3?includeData=true", Status: 200,
			Check: data(`{"v":3}`)},
		{Name: "200/raw path, one version", Setup: seed, Target: "/secret/prod/db/version/3?includeData=true", Status: 200,
			Check: data(`{"v":3}`)},
		{Name: "200/a last segment named version, encoded", Setup: seed, Target: "/secret/prod%2Fversion", Status: 200,
			Check: path("prod/version")},
		{Name: "404/a last segment named version, raw: the versions of prod", Setup: seed, Target: "/secret/prod/version",
			Status: 404, Err: clsNotFound},
		{Name: "200/a path ending in /version/x is a secret path", Target: "/secret/a/version/x", Status: 200,
			Setup: func(e *env) { e.CreateSecret("a/version/x", `{}`) }, Check: path("a/version/x")},
		{Name: "400/empty path", Target: "/secret/", Status: 400, Err: clsBadPath},
		{Name: "400/encoded slash alone", Target: "/secret/%2F", Status: 400, Err: clsBadPath},
		{Name: "400/dot segment", Target: "/secret/prod/./db", Status: 400, Err: clsBadPath},
		{Name: "400/double encoding", Setup: seed, Target: "/secret/prod%252Fdb", Status: 400, Err: clsBadPath},
		{Name: "400/encoded dot-dot segment", Target: "/secret/prod%2F..%2Fdb", Status: 400, Err: clsBadPath},
	}
	runCases(t, "GET", "", cases)
}

func TestListDomains(t *testing.T) {
	t.Parallel()
	cases := []apiCase{
		{Name: "200/the default domain", Status: 200, Golden: "domain_list",
			Check: func(t *testing.T, e *env, r *response) {
				type domain struct {
					ID  string
					IAM iamOut
				}
				ds := wiretest.DecodeBody[[]domain](t, r)
				if len(ds) != 1 || ds[0].ID != e.Domain {
					t.Fatalf("domains = %+v, want the default %s", ds, e.Domain)
				}
				want(t, "iam.id", ds[0].IAM.ID, e.Domain)
				want(t, "iam.urn", ds[0].IAM.URN, "urn:v1:eu:resource:okms:"+e.Domain)
				want(t, "iam.state", ds[0].IAM.State, "OK")
			}},
		{Name: "401/no token", Status: 401, Err: clsUnauthorized, Header: map[string]string{"Authorization": ""}},
		{Name: "401/X-Vault-Token only", Status: 401, Err: clsUnauthorized,
			Header: map[string]string{"Authorization": "", "X-Vault-Token": rootToken}},
	}
	runCases(t, "GET", "/v2/okms/resource", cases)
}

// lockedBuffer collects the server's log lines across goroutines.
type lockedBuffer struct{ testenv.LogBuffer }

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
	sc := bufio.NewScanner(strings.NewReader(l.String()))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var a auditRecord
		if json.Unmarshal(sc.Bytes(), &a) == nil && a.Msg == "audit" && (a.Phase == "request" || a.Phase == "request+response") && a.RequestID == rid {
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
