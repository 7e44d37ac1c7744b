package iamapi_test

import (
	"net/http"
	"os"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/server"
)

// TestRoutes_Fallbacks: anything that is not a route answers in the OVH
// envelope, with X-Ovh-QueryID, never a redirect or a text body.
func TestRoutes_Fallbacks(t *testing.T) {
	t.Parallel()
	const (
		notFound   = "Client::NotFound::RouteNotFound"
		notAllowed = "Client::MethodNotAllowed"
	)
	cases := []apiCase{
		{Name: "404/unknown route under /1.0/", Target: "/1.0/me/identity/nothing", Status: 404, Err: notFound,
			Golden: "error_RouteNotFound"},
		{Name: "404/unknown route under /v2/iam/", Target: "/v2/iam/resourceGroup", Status: 404, Err: notFound},
		{Name: "404/unknown route under /auth/", Target: "/auth/oauth2/authorize", Status: 404, Err: notFound},
		{Name: "404/service account of a service account", Target: "/1.0/me/api/oauth2/client/0123456789abcdef/x", Status: 404, Err: notFound},
		{Name: "405/PUT on a service account", Method: "PUT", Target: "/1.0/me/api/oauth2/client/0123456789abcdef", Body: `{}`,
			Status: 405, Err: notAllowed},
		{Name: "404/without a token", Target: "/1.0/nothing", Token: noToken, Status: 404, Err: notFound},
		{Name: "404/trailing slash", Target: usersPath + "/", Status: 404, Err: notFound},
		{Name: "404/trailing slash after a login", Target: usersPath + "/alice/", Status: 404, Err: notFound},
		{Name: "404/dot-dot segment", Target: usersPath + "/../group", Status: 404, Err: notFound},
		{Name: "404/escaped dot-dot segment", Target: usersPath + "/%2E%2E", Status: 404, Err: notFound},
		{Name: "404/dot segment", Target: "/1.0/me/./identity/user", Status: 404, Err: notFound},
		{Name: "404/empty segment", Target: "/1.0/me//identity/user", Status: 404, Err: notFound},
		{Name: "404/token of a token", Target: usersPath + "/alice/token/ci/x", Status: 404, Err: notFound},
		{Name: "405/DELETE on the users", Method: "DELETE", Target: usersPath, Status: 405, Err: notAllowed,
			Golden: "error_MethodNotAllowed"},
		{Name: "405/PATCH on a user", Method: "PATCH", Target: usersPath + "/alice", Body: `{}`, Status: 405, Err: notAllowed},
		{Name: "405/PUT on a token", Method: "PUT", Target: usersPath + "/alice/token/ci", Body: `{}`, Status: 405, Err: notAllowed},
		{Name: "405/POST on a group", Method: "POST", Target: groupsPath + "/ops", Body: `{}`, Status: 405, Err: notAllowed},
		{Name: "405/PUT on the policies", Method: "PUT", Target: policiesPath, Body: `{}`, Status: 405, Err: notAllowed},
		{Name: "405/POST on a policy", Method: "POST", Target: policiesPath + "/x", Body: `{}`, Status: 405, Err: notAllowed},
	}
	runCases(t, http.MethodGet, cases)
}

// TestRoutes_Dispatch: the server sends /1.0/ and /v2/iam/ here and the
// rest of /v2/ to surface A.
func TestRoutes_Dispatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Call("GET", policiesPath, "").Expect(t, 200, "")
	e.Call("GET", usersPath, "").Expect(t, 200, "")
	r := e.Call("GET", "/v2/okms/resource", "")
	if r.Status != 200 {
		t.Errorf("GET /v2/okms/resource = %d %s, want 200 from surface A", r.Status, r.Body)
	}
	// /v2/iam without its slash is not an identity route: surface A's 404.
	if r := e.Call("GET", "/v2/iam", ""); r.Status != 404 {
		t.Errorf("GET /v2/iam = %d %s, want 404", r.Status, r.Body)
	}
}

// TestAuditUnavailable: when the audit event cannot be written, nothing
// runs and the answer is 503 (fail closed). /dev/full refuses every write.
func TestAuditUnavailable(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	e := newEnvWith(t, func(c *server.Config) { c.AuditFile = "/dev/full" })
	r := e.Call("POST", usersPath, `{"login":"alice"}`)
	r.Expect(t, 503, "Server::ServiceUnavailable")
	e.Golden(t, "error_ServiceUnavailable", r)
	e.Call("GET", usersPath, "").Expect(t, 503, "Server::ServiceUnavailable")
	e.Call("POST", policiesPath, policyDoc("p", userURN("alice"), e.domainURN(), []string{"okms:apikms:secret/get"})).
		Expect(t, 503, "Server::ServiceUnavailable")
}
