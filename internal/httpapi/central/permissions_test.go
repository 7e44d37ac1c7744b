package central_test

import (
	"context"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// userToken creates user login with a personal access token and one
// policy allowing actions on resources (patterns; {okmsId} is replaced by
// the domain), and returns the token. It goes through the service: the
// IAM routes are not surface A's.
func (e *env) userToken(login string, resources []string, actions ...string) string {
	e.t.Helper()
	ctx := context.Background()
	svc := e.Server.Service()
	root := service.Caller{Principal: auth.Principal{Root: true, Name: "test"}, Surface: "test"}
	if _, err := svc.CreateUser(ctx, root, service.UserInput{Login: login}); err != nil {
		e.t.Fatalf("CreateUser: %v", err)
	}
	tok, _, err := svc.CreatePAT(ctx, root, login, "test", "", time.Time{})
	if err != nil {
		e.t.Fatalf("CreatePAT: %v", err)
	}
	for i, r := range resources {
		resources[i] = "urn:v1:eu:resource:okms:" + e.Domain + r
	}
	_, err = svc.CreatePolicy(ctx, root, policy.Policy{Name: login, Identities: []string{policy.UserURN("eu", "coffer", login)},
		Resources: resources, Allow: actions})
	if err != nil {
		e.t.Fatalf("CreatePolicy: %v", err)
	}
	return tok
}

// as sends a request with token as bearer.
func (e *env) as(token, method, target, body string) *response {
	e.t.Helper()
	return e.Send(request{Method: method, Target: target, Body: body, Header: map[string]string{"Authorization": "Bearer " + token}})
}

// TestPermissions checks that surface A is authorized with the
// okms:apiovh: actions of okms-rest.md 5.2 and 9, secret/edit and
// secret/version/edit included, and answers a denial with 403
// Client::Forbidden, before existence is known.
func TestPermissions(t *testing.T) {
	t.Parallel()
	const forbidden = "Client::Forbidden"
	domainWide := []string{""}
	cases := []struct {
		name    string
		actions []string
		res     []string
		method  string
		target  string
		body    string
		status  int
		class   string
		golden  string
	}{
		{name: "403/surface B's actions do not open surface A", actions: []string{"okms:apikms:*"},
			method: "GET", target: "/secret/prod%2Fdb", status: 403, class: forbidden, golden: "error_Forbidden"},
		{name: "200/secret/get", actions: []string{"okms:apiovh:secret/get"}, method: "GET", target: "/secret/prod%2Fdb", status: 200},
		{name: "403/includeData without getData", actions: []string{"okms:apiovh:secret/get"},
			method: "GET", target: "/secret/prod%2Fdb?includeData=true", status: 403, class: forbidden},
		{name: "200/includeData with getData", actions: []string{"okms:apiovh:secret/get", "okms:apiovh:secret/version/getData"},
			method: "GET", target: "/secret/prod%2Fdb/version/1?includeData=true", status: 200},
		{name: "403/a missing secret is forbidden, not missing", actions: []string{"okms:apiovh:secretConfig/get"},
			method: "GET", target: "/secret/nope", status: 403, class: forbidden},
		{name: "403/update without secret/edit", actions: []string{"okms:apiovh:secret/version/create"},
			method: "PUT", target: "/secret/prod%2Fdb", body: `{"version":{"data":{}}}`, status: 403, class: forbidden},
		{name: "200/update with secret/edit", actions: []string{"okms:apiovh:secret/edit", "okms:apiovh:secret/version/create"},
			method: "PUT", target: "/secret/prod%2Fdb", body: `{"version":{"data":{}}}`, status: 200},
		{name: "403/metadata update without secret/updateMetadata", actions: []string{"okms:apiovh:secret/edit", "okms:apiovh:secret/version/create"},
			method: "PUT", target: "/secret/prod%2Fdb", body: `{"metadata":{"maxVersions":3}}`, status: 403, class: forbidden},
		{name: "200/add a version needs no secret/edit", actions: []string{"okms:apiovh:secret/version/create"},
			method: "POST", target: "/secret/prod%2Fdb/version", body: `{"data":{}}`, status: 200},
		{name: "403/state change without secret/version/edit", actions: []string{"okms:apiovh:secret/version/deactivate"},
			method: "PUT", target: "/secret/prod%2Fdb/version/1", body: `{"state":"DEACTIVATED"}`, status: 403, class: forbidden},
		{name: "403/state change with edit but another state's action", actions: []string{"okms:apiovh:secret/version/edit", "okms:apiovh:secret/version/delete"},
			method: "PUT", target: "/secret/prod%2Fdb/version/1", body: `{"state":"DEACTIVATED"}`, status: 403, class: forbidden},
		{name: "200/state change with secret/version/edit", actions: []string{"okms:apiovh:secret/version/edit", "okms:apiovh:secret/version/deactivate"},
			method: "PUT", target: "/secret/prod%2Fdb/version/1", body: `{"state":"DEACTIVATED"}`, status: 200},
		{name: "403/create", actions: []string{"okms:apiovh:secret/get"}, method: "POST", target: "/secret",
			body: createBody("new", `{}`), status: 403, class: forbidden},
		{name: "200/create", actions: []string{"okms:apiovh:secret/create"}, method: "POST", target: "/secret",
			body: createBody("new", `{}`), status: 200},
		{name: "403/delete", actions: []string{"okms:apiovh:secret/get"}, method: "DELETE", target: "/secret/prod%2Fdb", status: 403, class: forbidden},
		{name: "204/delete", actions: []string{"okms:apiovh:secret/delete"}, method: "DELETE", target: "/secret/prod%2Fdb", status: 204},
		{name: "403/secretConfig on secrets only", actions: []string{"okms:apiovh:secretConfig/get"}, res: []string{"/secret/*"},
			method: "GET", target: "/secretConfig", status: 403, class: forbidden},
		{name: "200/secretConfig/get", actions: []string{"okms:apiovh:secretConfig/get"}, method: "GET", target: "/secretConfig", status: 200},
		{name: "403/secretConfig/update", actions: []string{"okms:apiovh:secretConfig/get"}, method: "PUT", target: "/secretConfig",
			body: `{"maxVersions":3}`, status: 403, class: forbidden},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			seedDB(e)
			res := tc.res
			if res == nil {
				res = domainWide
			}
			tok := e.userToken("alice", append([]string(nil), res...), tc.actions...)
			var before string
			if tc.status >= 400 && tc.method != "GET" {
				before = e.Snapshot()
			}
			r := e.as(tok, tc.method, tc.target, tc.body)
			r.Expect(t, tc.status, tc.class)
			if tc.golden != "" {
				e.Golden(t, tc.golden, r)
			}
			if before != "" {
				if after := e.Snapshot(); after != before {
					t.Errorf("the refused request changed the stored state\nbefore: %s\nafter:  %s", before, after)
				}
			}
		})
	}
}

// TestPermissions_ListFilter: the secret list holds only the secrets on
// which the caller has okms:apiovh:secret/get (okms-rest.md 5.2).
func TestPermissions_ListFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seedDB(e)
	e.CreateSecret("app/one", `{}`)
	e.CreateSecret("app/two", `{}`)
	tok := e.userToken("alice", []string{"/secret/app/*"}, "okms:apiovh:secret/get")
	r := e.as(tok, "GET", "/secret", "")
	r.Expect(t, 200, "")
	var paths []string
	for _, s := range wiretest.DecodeBody[[]secretOut](t, r) {
		paths = append(paths, s.Path)
	}
	want(t, "visible secrets", len(paths), 2)
	if len(paths) == 2 && (paths[0] != "app/one" || paths[1] != "app/two") {
		t.Errorf("visible secrets = %v, want app/one and app/two", paths)
	}
	// The same user with surface B's actions only sees nothing on A.
	kms := e.userToken("bob", []string{""}, "okms:apikms:secret/get")
	r = e.as(kms, "GET", "/secret", "")
	r.Expect(t, 200, "")
	want(t, "list with okms:apikms: actions", string(r.Body), "[]")
}
