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
		{name: "404/unknown route under /1.0/", target: "/1.0/me/identity/nothing", status: 404, class: notFound,
			golden: "error_RouteNotFound"},
		{name: "404/unknown route under /v2/iam/", target: "/v2/iam/resourceGroup", status: 404, class: notFound},
		{name: "404/unknown route under /auth/", target: "/auth/oauth2/authorize", status: 404, class: notFound},
		{name: "404/service account of a service account", target: "/1.0/me/api/oauth2/client/0123456789abcdef/x", status: 404, class: notFound},
		{name: "405/PUT on a service account", method: "PUT", target: "/1.0/me/api/oauth2/client/0123456789abcdef", body: `{}`,
			status: 405, class: notAllowed},
		{name: "404/without a token", target: "/1.0/nothing", token: noToken, status: 404, class: notFound},
		{name: "404/trailing slash", target: usersPath + "/", status: 404, class: notFound},
		{name: "404/trailing slash after a login", target: usersPath + "/alice/", status: 404, class: notFound},
		{name: "404/dot-dot segment", target: usersPath + "/../group", status: 404, class: notFound},
		{name: "404/escaped dot-dot segment", target: usersPath + "/%2E%2E", status: 404, class: notFound},
		{name: "404/dot segment", target: "/1.0/me/./identity/user", status: 404, class: notFound},
		{name: "404/empty segment", target: "/1.0/me//identity/user", status: 404, class: notFound},
		{name: "404/token of a token", target: usersPath + "/alice/token/ci/x", status: 404, class: notFound},
		{name: "405/DELETE on the users", method: "DELETE", target: usersPath, status: 405, class: notAllowed,
			golden: "error_MethodNotAllowed"},
		{name: "405/PATCH on a user", method: "PATCH", target: usersPath + "/alice", body: `{}`, status: 405, class: notAllowed},
		{name: "405/PUT on a token", method: "PUT", target: usersPath + "/alice/token/ci", body: `{}`, status: 405, class: notAllowed},
		{name: "405/POST on a group", method: "POST", target: groupsPath + "/ops", body: `{}`, status: 405, class: notAllowed},
		{name: "405/PUT on the policies", method: "PUT", target: policiesPath, body: `{}`, status: 405, class: notAllowed},
		{name: "405/POST on a policy", method: "POST", target: policiesPath + "/x", body: `{}`, status: 405, class: notAllowed},
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
	e.golden(t, "error_ServiceUnavailable", r)
	e.Call("GET", usersPath, "").Expect(t, 503, "Server::ServiceUnavailable")
	e.Call("POST", policiesPath, policyDoc("p", userURN("alice"), e.domainURN(), []string{"okms:apikms:secret/get"})).
		Expect(t, 503, "Server::ServiceUnavailable")
}
