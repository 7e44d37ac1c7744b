package docs_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/httpapi/central"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/docs"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/iamapi"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/rest"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/sys"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/transit"
	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

const rootToken = testenv.RootToken

type obj = map[string]any

// env is a dev server and the parsed document.
type env struct {
	t   *testing.T
	srv *server.Server
	ts  *httptest.Server
	doc obj
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with the configuration changed by configure.
func newEnvWith(t *testing.T, configure func(*server.Config)) *env {
	t.Helper()
	te := testenv.Start(t, testenv.Configure(configure))
	var d obj
	if err := json.Unmarshal(docs.Document(), &d); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	return &env{t: t, srv: te.Server, ts: te.HTTP, doc: d}
}

var methods = []string{"get", "post", "put", "patch", "delete"}

// documented returns the documented "METHOD /path" routes.
func (e *env) documented() map[string]bool {
	out := map[string]bool{}
	for p, item := range e.doc["paths"].(obj) {
		for m := range item.(obj) {
			if slices.Contains(methods, m) || m == "head" || m == "options" || m == "trace" {
				out[strings.ToUpper(m)+" "+p] = true
			}
		}
	}
	return out
}

// secretForms are the OpenAPI paths a secret route ending in {rest...}
// stands for (okms-rest.md 1.2): the secret, its versions, one version.
var secretForms = []string{"/{path}", "/{path}/version", "/{path}/version/{version}"}

// openAPIPaths converts a net/http route pattern ("GET /a/{b}/c/{rest...}")
// to its method and the OpenAPI paths it serves.
func openAPIPaths(pattern string) (string, []string, error) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || !strings.HasPrefix(path, "/") {
		return "", nil, fmt.Errorf("%q is not a METHOD /path pattern", pattern)
	}
	path = strings.TrimSuffix(path, "{$}")
	if base, ok := strings.CutSuffix(path, "/{rest...}"); ok {
		if !strings.HasSuffix(base, "/secret") {
			return "", nil, fmt.Errorf("%q: {rest...} is only known on secret routes", pattern)
		}
		var out []string
		for _, f := range secretForms {
			out = append(out, base+f)
		}
		return method, out, nil
	}
	if strings.Contains(path, "...}") {
		return "", nil, fmt.Errorf("%q: unknown multi-segment wildcard", pattern)
	}
	return method, []string{path}, nil
}

func TestOpenAPIPaths(t *testing.T) {
	m, ps, err := openAPIPaths("PUT /api/{okmsId}/v2/secret/{rest...}")
	want := []string{"/api/{okmsId}/v2/secret/{path}", "/api/{okmsId}/v2/secret/{path}/version", "/api/{okmsId}/v2/secret/{path}/version/{version}"}
	if err != nil || m != "PUT" || !slices.Equal(ps, want) {
		t.Errorf("got %s %v %v", m, ps, err)
	}
	if m, ps, err := openAPIPaths("GET /v2/iam/policy/{id}"); err != nil || m != "GET" || !slices.Equal(ps, []string{"/v2/iam/policy/{id}"}) {
		t.Errorf("got %s %v %v", m, ps, err)
	}
	if _, _, err := openAPIPaths("/v2/okms/resource"); err == nil {
		t.Error("a method-less pattern converts")
	}
}

// TestEveryRouteDocumented checks the document against the route tables
// of surfaces A and B, identity management and the operator routes, both
// ways: every route a
// surface registers is documented with the same method, and every
// documented route is registered by a surface.
func TestEveryRouteDocumented(t *testing.T) {
	e := newEnv(t)
	svc, log := e.srv.Service(), slog.New(slog.DiscardHandler)
	surfaces := []struct {
		name   string
		routes []string
	}{
		{"rest (surface B)", rest.New(svc, log).Routes()},
		{"central (surface A)", central.New(svc, log, "http://coffer.test", "").Routes()},
		{"iamapi (identity management)", iamapi.New(svc, log).Routes()},
		{"sys (operator routes)", sys.New(svc, nil, log).Routes()},
		{"transit (Vault Transit)", transit.Routes()},
	}
	documented := e.documented()
	registered := map[string]string{} // "METHOD /openapi/path" → surface
	for _, s := range surfaces {
		if len(s.routes) == 0 {
			t.Errorf("%s registers no route", s.name)
		}
		n := 0
		for _, pattern := range s.routes {
			method, paths, err := openAPIPaths(pattern)
			if err != nil {
				t.Errorf("%s: %v", s.name, err)
				continue
			}
			found := false
			for _, p := range paths {
				key := method + " " + p
				registered[key] = s.name
				if documented[key] {
					found = true
					n++
				}
			}
			if !found {
				t.Errorf("%s registers %s, which openapi.json does not document (as %s %s)",
					s.name, pattern, method, strings.Join(paths, " or "))
			}
		}
		t.Logf("%s: %d routes registered, %d operations documented", s.name, len(s.routes), n)
	}
	var extra []string
	for key := range documented {
		if _, ok := registered[key]; !ok {
			extra = append(extra, key)
		}
	}
	sort.Strings(extra)
	for _, key := range extra {
		t.Errorf("openapi.json documents %s, which no surface registers", key)
	}
}

// call sends one request with the root token.
func (e *env) call(method, target, body string, header map[string]string) (int, http.Header, []byte) {
	e.t.Helper()
	def := map[string]string{"Authorization": "Bearer " + rootToken}
	if body != "" {
		def["Content-Type"] = "application/json"
	}
	r := wiretest.Must(e.t, http.DefaultClient, wiretest.Request{Method: method, URL: e.ts.URL + target, Body: body,
		Default: def, Header: header, FollowRedirects: true})
	return r.Status, r.Header, r.Body
}

// noRoute reports whether an answer says that no route serves the request:
// 405, or 404 RouteNotFound in the surface's envelope ("no route matches
// …" in the operator routes' {"errors": [...]}).
func noRoute(status int, body []byte) bool {
	if status == http.StatusMethodNotAllowed {
		return true
	}
	var env struct {
		ErrorID string   `json:"error_id"`
		Class   string   `json:"class"`
		Errors  []string `json:"errors"`
	}
	_ = json.Unmarshal(body, &env)
	sysNoRoute := len(env.Errors) == 1 && strings.HasPrefix(env.Errors[0], "no route matches ")
	return status == http.StatusNotFound && (env.ErrorID == "RouteNotFound" || env.Class == "Client::NotFound::RouteNotFound" || sysNoRoute)
}

// TestDocumentedRoutesServed probes the running server: for every
// documented path and every method, the server serves the request (it
// answers anything but 405 or 404 RouteNotFound) if and only if the
// document has the operation. This pins the three documented forms of the
// secret routes, which share one {rest...} pattern, method by method.
// Requests carry the root token and harmless bodies: no probe can delete
// the domain (no confirm) or create anything ("{}" bodies).
func TestDocumentedRoutesServed(t *testing.T) {
	e := newEnv(t)
	values := map[string]string{
		"okmsId": e.srv.DefaultDomain(), "path": "docs-probe", "version": "1",
		"credentialId": "0b7e3f8e-2c51-4d7e-9c1f-6b8a0e2d4c11", "login": "docs-probe",
		"name": "docs-probe", "id": "0b7e3f8e-2c51-4d7e-9c1f-6b8a0e2d4c12", "clientId": "0123456789abcdef",
		"keyId": "0b7e3f8e-2c51-4d7e-9c1f-6b8a0e2d4c13",
		// Transit (a {name} is a key name there too).
		"type": "plaintext", "hash": "sha2-256", "source": "platform", "bytes": "16",
	}
	tmpl := regexp.MustCompile(`\{([^}]+)\}`)
	paths := e.doc["paths"].(obj)
	keys := make([]string, 0, len(paths))
	for p := range paths {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	for _, p := range keys {
		target := tmpl.ReplaceAllStringFunc(p, func(v string) string {
			x, ok := values[v[1:len(v)-1]]
			if !ok {
				t.Fatalf("%s: no probe value for %s", p, v)
			}
			return x
		})
		for _, m := range methods {
			_, want := paths[p].(obj)[m]
			body := ""
			if m == "post" || m == "put" || m == "patch" {
				body = "{}"
			}
			t2 := target
			if want && requiresList(paths[p].(obj)[m].(obj)) {
				t2 += "?list=true" // a Vault list: GET with its required list parameter
			}
			status, _, b := e.call(strings.ToUpper(m), t2, body, nil)
			if served := !noRoute(status, b); served != want {
				if want {
					t.Errorf("openapi.json documents %s %s, but the server answers %s %s with %d %s",
						strings.ToUpper(m), p, strings.ToUpper(m), target, status, b)
				} else {
					t.Errorf("the server serves %s %s (%d %s), which openapi.json does not document at %s",
						strings.ToUpper(m), target, status, b, p)
				}
			}
		}
	}
}

// requiresList reports whether an operation has a required query
// parameter list (the Vault Transit key list).
func requiresList(op obj) bool {
	params, _ := op["parameters"].([]any)
	for _, p := range params {
		if pm, ok := p.(obj); ok && pm["in"] == "query" && pm["name"] == "list" && pm["required"] == true {
			return true
		}
	}
	return false
}

func TestServerServesDocs(t *testing.T) {
	e := newEnv(t)
	for _, target := range []string{"/docs/openapi.json", "/docs"} {
		// No credentials: the documentation is public, like OVHcloud's.
		res, err := http.Get(e.ts.URL + target)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("GET %s: %d %s", target, res.StatusCode, body)
		}
		switch target {
		case "/docs/openapi.json":
			if ct := res.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("GET %s: Content-Type %q", target, ct)
			}
			if string(body) != string(docs.Document()) {
				t.Errorf("GET %s is not the document", target)
			}
			var d obj
			if err := json.Unmarshal(body, &d); err != nil || d["openapi"] != "3.0.3" {
				t.Errorf("GET %s: openapi %v, %v", target, d["openapi"], err)
			}
		case "/docs":
			if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
				t.Errorf("GET %s: Content-Type %q", target, ct)
			}
			if csp := res.Header.Get("Content-Security-Policy"); csp != docs.ContentSecurityPolicy {
				t.Errorf("GET %s: Content-Security-Policy %q", target, csp)
			}
			for _, want := range []string{
				"/api/{okmsId}/v2/secret/{path}/version/{version}",
				"/v2/okms/resource/{okmsId}/secret/{path}",
				"/v2/okms/resource/{okmsId}/credential",
				"/1.0/me/identity/user/{login}/token",
				"/v2/iam/policy/{id}",
				"/sys/domains/{okmsId}/key/rotate",
				"<code>okms:apiovh:secret/edit</code>",
				"<code>okms:apikms:secret/version/getData</code>",
			} {
				if !strings.Contains(string(body), want) {
					t.Errorf("GET /docs does not show %s", want)
				}
			}
		}
	}
	// The swaggerEndpoint of a domain is this page.
	status, _, body := e.call("GET", "/v2/okms/resource/"+e.srv.DefaultDomain(), "", nil)
	var dom struct {
		SwaggerEndpoint string `json:"swaggerEndpoint"`
	}
	if err := json.Unmarshal(body, &dom); err != nil || status != 200 || !strings.HasSuffix(dom.SwaggerEndpoint, "/docs") {
		t.Errorf("swaggerEndpoint: %d %s", status, body)
	}
	// Other methods fall through to the server's JSON 404.
	if status, _, _ := e.call("POST", "/docs", "{}", nil); status != http.StatusNotFound {
		t.Errorf("POST /docs: %d", status)
	}
}

// ---- live answers against the documented schemas

// step is one request of a scenario, against the documented operation
// method+template; the answer must have status want and match the
// documented response for it.
type step struct {
	method, template, target, body string
	want                           int
	header                         map[string]string
}

// TestAnswersMatchSchemas runs a scenario on every surface and checks each
// answer, success or error, against the schema the document gives for its
// status: required members present, no undocumented member, types, enums,
// nullability, formats of times, patterns and bounds.
func TestAnswersMatchSchemas(t *testing.T) {
	// An audit file, so that GET /v2/iam/audit can read events back.
	e := newEnvWith(t, func(c *server.Config) { c.AuditFile = filepath.Join(t.TempDir(), "audit.log") })
	id := e.srv.DefaultDomain()
	B := "/api/{okmsId}/v2"
	b := "/api/" + id + "/v2"
	A := "/v2/okms/resource/{okmsId}"
	a := "/v2/okms/resource/" + id

	// The region and an identity URN to bind credentials to.
	_, _, rb := e.call("GET", "/v2/okms/reference/regions", "", nil)
	var regions []struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(rb, &regions); err != nil || len(regions) == 0 {
		t.Fatalf("regions: %s", rb)
	}
	region := regions[0].ID

	steps := []step{
		// Surface B.
		{"POST", B + "/secret", b + "/secret", `{"path":"docs/b","metadata":{"customMetadata":{"team":"dba"},"maxVersions":5},"version":{"data":{"login":"admin","ports":[3306]}}}`, 200, nil},
		{"POST", B + "/secret", b + "/secret", `{"path":"docs/b","version":{"data":{}}}`, 409, nil},
		{"GET", B + "/secret", b + "/secret", "", 200, map[string]string{"X-Pagination-Size": "10"}},
		{"GET", B + "/secret/{path}", b + "/secret/docs%2Fb?includeData=true", "", 200, nil},
		{"PUT", B + "/secret/{path}", b + "/secret/docs%2Fb?cas=1", `{"metadata":{"casRequired":true},"version":{"data":{"v":2}}}`, 200, nil},
		{"PUT", B + "/secret/{path}", b + "/secret/docs%2Fb?cas=1", `{"version":{"data":{"v":3}}}`, 400, nil},
		{"GET", B + "/secret/{path}/version", b + "/secret/docs%2Fb/version", "", 200, nil},
		{"POST", B + "/secret/{path}/version", b + "/secret/docs%2Fb/version?cas=2", `{"data":{"v":3}}`, 200, nil},
		{"GET", B + "/secret/{path}/version/{version}", b + "/secret/docs%2Fb/version/3?includeData=true", "", 200, nil},
		{"PUT", B + "/secret/{path}/version/{version}", b + "/secret/docs%2Fb/version/1", `{"state":"deactivated"}`, 200, nil},
		{"GET", B + "/secret/{path}/version/{version}", b + "/secret/docs%2Fb/version/1", "", 200, nil},
		{"GET", B + "/secretConfig", b + "/secretConfig", "", 200, nil},
		{"PUT", B + "/secretConfig", b + "/secretConfig", `{"maxVersions":12}`, 200, nil},
		{"GET", B + "/secret/{path}", b + "/secret/docs%2Fnone", "", 404, nil},
		{"DELETE", B + "/secret/{path}", b + "/secret/docs%2Fb", "", 204, nil},
		{"GET", B + "/secret", b + "/secret", "", 401, map[string]string{"Authorization": "Bearer nope"}},

		// Identity management, first: credentials bind a user.
		{"POST", "/1.0/me/identity/group", "/1.0/me/identity/group", `{"name":"docs-admins","description":"admins","role":"ADMIN"}`, 200, nil},
		{"GET", "/1.0/me/identity/group", "/1.0/me/identity/group", "", 200, nil},
		{"GET", "/1.0/me/identity/group/{name}", "/1.0/me/identity/group/docs-admins", "", 200, nil},
		{"PUT", "/1.0/me/identity/group/{name}", "/1.0/me/identity/group/docs-admins", `{"description":"the admins"}`, 200, nil},
		{"POST", "/1.0/me/identity/user", "/1.0/me/identity/user", `{"login":"docs-alice","email":"alice@example.com","group":"docs-admins"}`, 200, nil},
		{"POST", "/1.0/me/identity/user", "/1.0/me/identity/user", `{"login":"docs-alice"}`, 409, nil},
		{"GET", "/1.0/me/identity/user", "/1.0/me/identity/user", "", 200, nil},
		{"GET", "/1.0/me/identity/user/{login}", "/1.0/me/identity/user/docs-alice", "", 200, nil},
		{"PUT", "/1.0/me/identity/user/{login}", "/1.0/me/identity/user/docs-alice", `{"description":"Alice"}`, 200, nil},
		{"DELETE", "/1.0/me/identity/group/{name}", "/1.0/me/identity/group/docs-admins", "", 409, nil},
		{"POST", "/1.0/me/identity/user/{login}/token", "/1.0/me/identity/user/docs-alice/token", `{"name":"ci","description":"CI","expiresAt":"2099-01-01T00:00:00Z"}`, 200, nil},
		{"GET", "/1.0/me/identity/user/{login}/token", "/1.0/me/identity/user/docs-alice/token", "", 200, nil},
		{"GET", "/1.0/me/identity/user/{login}/token/{name}", "/1.0/me/identity/user/docs-alice/token/ci", "", 200, nil},
		{"DELETE", "/1.0/me/identity/user/{login}/token/{name}", "/1.0/me/identity/user/docs-alice/token/ci", "", 204, nil},
		{"GET", "/1.0/me/identity/user/{login}/token/{name}", "/1.0/me/identity/user/docs-alice/token/ci", "", 404, nil},
		{"GET", "/v2/iam/policy", "/v2/iam/policy", "", 200, nil},
		{"POST", "/v2/iam/policy", "/v2/iam/policy", `{"name":"docs-bad","identities":[],"resources":[],"permissions":{"allow":[{"action":"okms:apikms:secret/update"}]}}`, 400, nil},

		// Surface A.
		{"GET", "/v2/okms/reference/regions", "/v2/okms/reference/regions", "", 200, nil},
		{"GET", "/v2/okms/reference/secretConfig", "/v2/okms/reference/secretConfig?region=" + region, "", 200, nil},
		{"GET", "/v2/okms/reference/secretConfig", "/v2/okms/reference/secretConfig?region=nowhere", "", 404, nil},
		{"GET", "/v2/okms/resource", "/v2/okms/resource", "", 200, nil},
		{"GET", A, a + "?publicCA=true", "", 200, nil},
		{"PUT", A, a, `{"displayName":"docs"}`, 200, nil},
		{"DELETE", A, a, "", 400, nil},
		{"POST", "/v2/okms/resource", "/v2/okms/resource", `{"region":"` + region + `","displayName":"second"}`, 200, nil},
		{"POST", A + "/secret", a + "/secret", `{"path":"docs/a","metadata":{"deactivateVersionAfter":"1d"},"version":{"data":{"k":"v"}}}`, 200, nil},
		{"GET", A + "/secret", a + "/secret", "", 200, nil},
		{"GET", A + "/secret", a + "/secret?iamTags=x", "", 400, nil},
		{"GET", A + "/secret/{path}", a + "/secret/docs%2Fa?includeData=true", "", 200, nil},
		{"PUT", A + "/secret/{path}", a + "/secret/docs%2Fa", `{"metadata":{"customMetadata":{"a":"b"}},"version":{"data":{"k":"w"}}}`, 200, nil},
		{"GET", A + "/secret/{path}/version", a + "/secret/docs%2Fa/version", "", 200, nil},
		{"POST", A + "/secret/{path}/version", a + "/secret/docs%2Fa/version", `{"data":{"k":"x"}}`, 200, nil},
		{"GET", A + "/secret/{path}/version/{version}", a + "/secret/docs%2Fa/version/3?includeData=true", "", 200, nil},
		{"PUT", A + "/secret/{path}/version/{version}", a + "/secret/docs%2Fa/version/1", `{"state":"DELETED"}`, 200, nil},
		{"PUT", A + "/secret/{path}/version/{version}", a + "/secret/docs%2Fa/version/1", `{"state":"ACTIVE"}`, 400, nil},
		{"GET", A + "/secretConfig", a + "/secretConfig", "", 200, nil},
		{"PUT", A + "/secretConfig", a + "/secretConfig", `{"casRequired":false}`, 200, nil},
		{"DELETE", A + "/secret/{path}", a + "/secret/docs%2Fa", "", 204, nil},
		{"GET", A + "/secret/{path}", a + "/secret/docs%2Fa", "", 404, nil},
		{"POST", A + "/credential", a + "/credential", `{"name":"docs","identityURNs":["@USER@"],"validity":30}`, 200, nil},
		{"GET", A + "/credential", a + "/credential", "", 200, nil},
	}
	var userURN, credID, policyID string
	for _, s := range steps {
		body := strings.ReplaceAll(s.body, "@USER@", userURN)
		status, hdr, got := e.call(s.method, s.target, body, s.header)
		where := s.method + " " + s.target
		if status != s.want {
			t.Errorf("%s: status %d, want %d: %s", where, status, s.want, got)
			continue
		}
		e.checkAnswer(s.method, s.template, status, hdr, got, where)
		switch {
		case s.method == "POST" && s.template == "/1.0/me/identity/user":
			var u struct{ URN string }
			_ = json.Unmarshal(got, &u)
			if u.URN != "" {
				userURN = u.URN
			}
		case s.method == "POST" && s.template == A+"/credential":
			var c struct{ ID string }
			_ = json.Unmarshal(got, &c)
			credID = c.ID
		}
	}
	more := []step{
		{"GET", A + "/credential/{credentialId}", a + "/credential/" + credID, "", 200, nil},
		{"DELETE", A + "/credential/{credentialId}", a + "/credential/" + credID, "", 200, nil},
		{"GET", A + "/credential/{credentialId}", a + "/credential/" + credID, "", 404, nil},
		{"POST", "/v2/iam/policy", "/v2/iam/policy", `{"name":"docs-reader","description":"reads","identities":["` + userURN + `"],"resources":[{"urn":"urn:v1:eu:resource:okms:` + id + `/secret/prod/*"}],"permissions":{"allow":[{"action":"okms:apikms:secret/get"}],"except":[],"deny":[]},"expiredAt":"2099-01-01T00:00:00Z"}`, 200, nil},
	}
	for _, s := range more {
		status, hdr, got := e.call(s.method, s.target, s.body, s.header)
		where := s.method + " " + s.target
		if status != s.want {
			t.Errorf("%s: status %d, want %d: %s", where, status, s.want, got)
			continue
		}
		e.checkAnswer(s.method, s.template, status, hdr, got, where)
		if s.template == "/v2/iam/policy" {
			var p struct{ ID string }
			_ = json.Unmarshal(got, &p)
			policyID = p.ID
		}
	}
	last := []step{
		{"GET", "/v2/iam/policy/{id}", "/v2/iam/policy/" + policyID, "", 200, nil},
		{"PUT", "/v2/iam/policy/{id}", "/v2/iam/policy/" + policyID, `{"name":"docs-reader","identities":["` + userURN + `"],"resources":[{"urn":"urn:v1:eu:resource:okms:` + id + `"}],"permissions":{"allow":[{"action":"okms:apikms:*"}]}}`, 200, nil},
		{"GET", "/v2/iam/policy", "/v2/iam/policy", "", 200, nil},
		{"DELETE", "/v2/iam/policy/{id}", "/v2/iam/policy/" + policyID, "", 204, nil},
		{"DELETE", "/1.0/me/identity/user/{login}", "/1.0/me/identity/user/docs-alice", "", 204, nil},
		{"DELETE", "/1.0/me/identity/group/{name}", "/1.0/me/identity/group/docs-admins", "", 204, nil},
		{"GET", "/1.0/me/identity/user/{login}", "/1.0/me/identity/user/docs-alice", "", 404, nil},
		{"GET", "/v2/iam/audit", "/v2/iam/audit?limit=20", "", 200, nil},
		{"GET", "/v2/iam/audit", "/v2/iam/audit?limit=0", "", 400, nil},

		// Operator routes (the backup file itself is not JSON).
		{"POST", "/sys/master-key/rotate", "/sys/master-key/rotate", "", 200, nil},
		{"POST", "/sys/master-key/rotate", "/sys/master-key/rotate", "", 401, map[string]string{"Authorization": "Bearer nope"}},
		{"POST", "/sys/domains/{okmsId}/key/rotate", "/sys/domains/" + id + "/key/rotate", "", 200, nil},
		{"POST", "/sys/domains/{okmsId}/key/rotate", "/sys/domains/6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f/key/rotate", "", 404, nil},
		{"POST", "/sys/backup", "/sys/backup", `{"passphrase":"short"}`, 400, nil},
		{"POST", "/sys/restore", "/sys/restore", "not a backup", 400, map[string]string{"X-Coffer-Backup-Passphrase": "correct horse battery"}},
		{"GET", "/v2/iam/audit", "/v2/iam/audit?limit=1", "", 200, nil},
	}
	for _, s := range last {
		status, hdr, got := e.call(s.method, s.target, s.body, s.header)
		where := s.method + " " + s.target
		if status != s.want {
			t.Errorf("%s: status %d, want %d: %s", where, status, s.want, got)
			continue
		}
		e.checkAnswer(s.method, s.template, status, hdr, got, where)
	}
	e.serviceAccountAnswers()
}

// serviceAccountAnswers checks the answers of the service-account routes
// and of the OAuth2 token endpoint against their schemas.
func (e *env) serviceAccountAnswers() {
	const sas, one, tok = "/1.0/me/api/oauth2/client", "/1.0/me/api/oauth2/client/{clientId}", "/auth/oauth2/token"
	check := func(s step) []byte {
		status, hdr, got := e.call(s.method, s.target, s.body, s.header)
		where := s.method + " " + s.target
		if status != s.want {
			e.t.Errorf("%s: status %d, want %d: %s", where, status, s.want, got)
			return nil
		}
		e.checkAnswer(s.method, s.template, status, hdr, got, where)
		return got
	}
	var sa struct{ ClientID, ClientSecret string }
	_ = json.Unmarshal(check(step{"POST", sas, sas, `{"name":"docs","description":"docs","flow":"CLIENT_CREDENTIALS","callbackUrls":[]}`, 200, nil}), &sa)
	form := map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Authorization": ""}
	basic := map[string]string{"Content-Type": "application/x-www-form-urlencoded",
		"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte(sa.ClientID+":"+sa.ClientSecret))}
	for _, s := range []step{
		{"POST", sas, sas, `{"name":"docs","flow":"AUTHORIZATION_CODE"}`, 400, nil},
		{"GET", sas, sas, "", 200, nil},
		{"GET", one, sas + "/" + sa.ClientID, "", 200, nil},
		{"POST", tok, tok, "grant_type=client_credentials&scope=all", 200, basic},
		{"POST", tok, tok, "grant_type=client_credentials&scope=all&client_id=" + sa.ClientID + "&client_secret=" + sa.ClientSecret, 200, form},
		{"POST", tok, tok, "grant_type=client_credentials", 400, basic},
		{"POST", tok, tok, "grant_type=client_credentials&scope=all&client_id=" + sa.ClientID + "&client_secret=wrong", 401, form},
		{"POST", tok, tok, `{"grant_type":"client_credentials"}`, 400, nil},
		{"DELETE", one, sas + "/" + sa.ClientID, "", 204, nil},
		{"GET", one, sas + "/" + sa.ClientID, "", 404, nil},
	} {
		check(s)
	}
}

// checkAnswer checks one answer against the documented response of the
// operation for its status (or the default response).
func (e *env) checkAnswer(method, template string, status int, hdr http.Header, body []byte, where string) {
	t := e.t
	t.Helper()
	item, ok := e.doc["paths"].(obj)[template].(obj)
	if !ok {
		t.Errorf("%s: %s is not documented", where, template)
		return
	}
	op, ok := item[strings.ToLower(method)].(obj)
	if !ok {
		t.Errorf("%s: %s %s is not documented", where, method, template)
		return
	}
	responses := op["responses"].(obj)
	resp, ok := responses[fmt.Sprint(status)]
	if !ok {
		if status < 300 {
			t.Errorf("%s: success status %d is not documented", where, status)
			return
		}
		resp = responses["default"]
	}
	r := e.resolve(resp).(obj)
	headers, _ := r["headers"].(obj)
	for name := range headers {
		if name != "X-Pagination-Cursor-Next" && hdr.Get(name) == "" {
			t.Errorf("%s: documented header %s is missing", where, name)
		}
	}
	content, _ := r["content"].(obj)
	if content == nil {
		if len(body) != 0 {
			t.Errorf("%s: documented without a body, got %s", where, body)
		}
		return
	}
	if ct := hdr.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type %q", where, ct)
	}
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Errorf("%s: body is not JSON: %v", where, err)
		return
	}
	schema := content["application/json"].(obj)["schema"]
	for _, p := range e.validate(schema, v, "$") {
		t.Errorf("%s: %s\n\tbody: %s", where, p, body)
	}
}

func (e *env) resolve(v any) any {
	for {
		m, ok := v.(obj)
		if !ok {
			return v
		}
		ref, ok := m["$ref"].(string)
		if !ok {
			return v
		}
		v = e.doc
		for _, tok := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
			v = v.(obj)[tok]
		}
	}
}

// validate checks v against a schema of the document: the subset of JSON
// Schema the document uses. It returns the problems found.
func (e *env) validate(schema, v any, at string) []string {
	s := e.resolve(schema).(obj)
	if all, ok := s["allOf"].([]any); ok {
		// Merge: the document uses allOf only to extend an object.
		merged := obj{"type": "object", "properties": obj{}, "required": []any{}}
		for _, sub := range all {
			sm := e.resolve(sub).(obj)
			for k, p := range sm["properties"].(obj) {
				merged["properties"].(obj)[k] = p
			}
			req, _ := sm["required"].([]any)
			merged["required"] = append(merged["required"].([]any), req...)
		}
		s = merged
	}
	if v == nil {
		if s["nullable"] == true {
			return nil
		}
		return []string{at + ": null, but the schema is not nullable"}
	}
	var out []string
	bad := func(format string, args ...any) { out = append(out, at+": "+fmt.Sprintf(format, args...)) }
	if enum, ok := s["enum"].([]any); ok && !slices.Contains(enum, v) {
		bad("%v is not one of %v", v, enum)
	}
	typ, _ := s["type"].(string)
	if typ == "" && s["properties"] != nil {
		typ = "object"
	}
	switch typ {
	case "string":
		str, ok := v.(string)
		if !ok {
			bad("%T, want a string", v)
			break
		}
		if _, err := time.Parse(time.RFC3339, str); s["format"] == "date-time" && err != nil {
			bad("%q is not an RFC 3339 date-time", str)
		}
		if pat, ok := s["pattern"].(string); ok && !regexp.MustCompile(pat).MatchString(str) {
			bad("%q does not match %s", str, pat)
		}
	case "integer", "number":
		f, ok := v.(float64)
		if !ok {
			bad("%T, want a number", v)
			break
		}
		if typ == "integer" && f != float64(int64(f)) {
			bad("%v is not an integer", f)
		}
		if m, ok := s["minimum"].(float64); ok && f < m {
			bad("%v < minimum %v", f, m)
		}
		if m, ok := s["maximum"].(float64); ok && f > m {
			bad("%v > maximum %v", f, m)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("%T, want a boolean", v)
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			bad("%T, want an array", v)
			break
		}
		for i, x := range arr {
			out = append(out, e.validate(s["items"], x, fmt.Sprintf("%s[%d]", at, i))...)
		}
	case "object":
		m, ok := v.(obj)
		if !ok {
			bad("%T, want an object", v)
			break
		}
		props, _ := s["properties"].(obj)
		req, _ := s["required"].([]any)
		for _, r := range req {
			if _, ok := m[r.(string)]; !ok {
				bad("required member %q is missing", r)
			}
		}
		for k, x := range m {
			if p, ok := props[k]; ok {
				out = append(out, e.validate(p, x, at+"."+k)...)
				continue
			}
			switch ap := s["additionalProperties"].(type) {
			case bool:
				if !ap {
					bad("member %q is not documented", k)
				}
			case obj:
				out = append(out, e.validate(ap, x, at+"."+k)...)
			default:
				bad("member %q is not documented", k)
			}
		}
	}
	return out
}
