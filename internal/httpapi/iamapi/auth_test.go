package iamapi_test

import (
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// Surface B routes the tests use a personal access token on.
const (
	secretsB = "/api/{okmsId}/v2/secret"
	secretB  = `{"path":"app/db","version":{"data":{"password":"s3cr3t"}}}`
)

// checkB checks only the status of a surface-B response: its envelope is
// the rest package's business.
func checkB(t *testing.T, what string, r *response, status int) {
	t.Helper()
	if r.Status != status {
		t.Errorf("%s = %d %s, want %d", what, r.Status, r.Body, status)
	}
}

// TestPAT_OnSurfaceB follows a token created through this API to surface
// B: a policy granting okms:apikms:secret/get on the domain URN lets it
// list, not create; revoking it makes it fail at once.
func TestPAT_OnSurfaceB(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.Must("POST", secretsB, secretB)
	e.createUser("alice", "")
	tok := e.createToken("alice", "ci", "")

	checkB(t, "list without any policy", e.as(tok, "GET", secretsB, ""), 200)
	if got := wiretest.DecodeBody[[]map[string]any](t, e.as(tok, "GET", secretsB, "")); len(got) != 0 {
		t.Errorf("list without any policy = %v, want no secret", got)
	}
	e.createPolicy(policyDoc("alice-lister", userURN("alice"), e.domainURN(), []string{"okms:apikms:secret/get"}))

	r := e.as(tok, "GET", secretsB, "")
	checkB(t, "list with secret/get", r, 200)
	if got := wiretest.DecodeBody[[]map[string]any](t, r); len(got) != 1 || got[0]["path"] != "app/db" {
		t.Errorf("list with secret/get = %s, want app/db", r.Body)
	}
	checkB(t, "create with secret/get only", e.as(tok, "POST", secretsB, `{"path":"app/x","version":{"data":{"a":"b"}}}`), 403)
	checkB(t, "read a value with secret/get only", e.as(tok, "GET", secretsB+"/app%2Fdb?includeData=true", ""), 403)
	// The token is not an admin's: identity management is closed to it.
	e.as(tok, "GET", usersPath, "").Expect(t, 403, "Client::Forbidden")

	e.Must("DELETE", usersPath+"/alice/token/ci", "")
	checkB(t, "list with a revoked token", e.as(tok, "GET", secretsB, ""), 401)
	e.as(tok, "GET", usersPath, "").Expect(t, 401, "Client::Unauthorized")
}

// TestPAT_Expired: a token stops working at its expiresAt.
func TestPAT_Expired(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser("alice", "")
	e.createPolicy(policyDoc("alice-lister", userURN("alice"), e.domainURN(), []string{"okms:apikms:secret/get"}))
	tok := e.createToken("alice", "ci", at(time.Hour))
	checkB(t, "list before expiry", e.as(tok, "GET", secretsB, ""), 200)
	e.Clock.Advance(time.Hour - time.Second)
	checkB(t, "list a second before expiry", e.as(tok, "GET", secretsB, ""), 200)
	e.Clock.Advance(time.Second)
	checkB(t, "list at expiry", e.as(tok, "GET", secretsB, ""), 401)
	e.as(tok, "GET", usersPath, "").Expect(t, 401, "Client::Unauthorized")
	// The expired token is still listed, with its expiry, until revoked.
	got := wiretest.DecodeBody[map[string]any](t, e.Must("GET", usersPath+"/alice/token/ci", ""))
	if got["expiresAt"] != at(time.Hour) {
		t.Errorf("expiresAt = %v, want %s", got["expiresAt"], at(time.Hour))
	}
}

// TestPAT_UserDeleted: deleting a user revokes its tokens.
func TestPAT_UserDeleted(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createUser("alice", "")
	e.createPolicy(policyDoc("alice-lister", userURN("alice"), e.domainURN(), []string{"okms:apikms:secret/get"}))
	tok := e.createToken("alice", "ci", "")
	checkB(t, "list", e.as(tok, "GET", secretsB, ""), 200)
	e.Must("DELETE", usersPath+"/alice", "")
	checkB(t, "list after the user is deleted", e.as(tok, "GET", secretsB, ""), 401)
	// A new user of the same login does not revive the token.
	e.createUser("alice", "")
	checkB(t, "list after the login is reused", e.as(tok, "GET", secretsB, ""), 401)
}

// TestAdminGroup: a user of a group whose role is ADMIN passes without any
// policy, on the data plane and on identity management; the role applies
// from the next request when it changes.
func TestAdminGroup(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createGroup("admins", "ADMIN")
	e.createUser("root2", "admins")
	tok := e.createToken("root2", "ops", "")

	checkB(t, "create a secret without policy", e.as(tok, "POST", secretsB, secretB), 200)
	checkB(t, "read its value", e.as(tok, "GET", secretsB+"/app%2Fdb?includeData=true", ""), 200)
	e.as(tok, "POST", usersPath, `{"login":"bob"}`).Expect(t, 200, "")
	e.as(tok, "POST", groupsPath, `{"name":"dev","role":"NONE"}`).Expect(t, 200, "")
	e.as(tok, "POST", usersPath+"/bob/token", `{"name":"ci"}`).Expect(t, 200, "")
	e.as(tok, "GET", usersPath, "").Expect(t, 200, "")
	e.as(tok, "POST", policiesPath,
		policyDoc("bob-reader", userURN("bob"), e.domainURN(), []string{"okms:apikms:secret/get"})).Expect(t, 200, "")
	e.as(tok, "GET", policiesPath, "").Expect(t, 200, "")

	// Demoted by another admin (here the root): refused at once.
	e.Must("PUT", groupsPath+"/admins", `{"role":"REGULAR"}`)
	e.as(tok, "GET", usersPath, "").Expect(t, 403, "Client::Forbidden")
	checkB(t, "read a value once demoted", e.as(tok, "GET", secretsB+"/app%2Fdb?includeData=true", ""), 403)
}

// TestNonAdmin: a user outside any ADMIN group is refused every
// identity-management route with 403, whatever policies grant it.
func TestNonAdmin(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createGroup("dev", "REGULAR")
	e.createUser("carol", "dev")
	e.createPolicy(policyDoc("carol-all", userURN("carol"), "*", []string{"*"}))
	pol := policyIDOf(e)
	tok := e.createToken("carol", "ci", "")
	checkB(t, "the policy works on surface B", e.as(tok, "POST", secretsB, secretB), 200)

	const forbidden = "Client::Forbidden"
	r := e.as(tok, "GET", usersPath, "")
	r.Expect(t, 403, forbidden)
	e.Golden(t, "error_Forbidden", r)
	for _, rq := range []struct{ method, target, body string }{
		{"POST", usersPath, `{"login":"mallory"}`},
		{"GET", usersPath + "/carol", ""},
		{"PUT", usersPath + "/carol", `{"group":""}`},
		{"DELETE", usersPath + "/carol", ""},
		{"GET", usersPath + "/carol/token", ""},
		{"POST", usersPath + "/carol/token", `{"name":"more"}`},
		{"GET", usersPath + "/carol/token/ci", ""},
		{"DELETE", usersPath + "/carol/token/ci", ""},
		{"GET", groupsPath, ""},
		{"POST", groupsPath, `{"name":"admins","role":"ADMIN"}`},
		{"GET", groupsPath + "/dev", ""},
		{"PUT", groupsPath + "/dev", `{"role":"ADMIN"}`},
		{"DELETE", groupsPath + "/dev", ""},
		{"GET", policiesPath, ""},
		{"POST", policiesPath, policyDoc("p", userURN("carol"), "*", []string{"*"})},
		{"GET", pol, ""},
		{"PUT", pol, policyDoc("carol-all", userURN("carol"), "*", []string{"*"})},
		{"DELETE", pol, ""},
	} {
		r := e.as(tok, rq.method, rq.target, rq.body)
		if r.Status != 403 {
			t.Errorf("%s %s as a non-admin = %d %s, want 403", rq.method, rq.target, r.Status, r.Body)
			continue
		}
		r.Expect(t, 403, forbidden)
	}
	// Nothing changed: the group is still REGULAR, the token still works.
	if g := wiretest.DecodeBody[map[string]any](t, e.Must("GET", groupsPath+"/dev", "")); g["role"] != "REGULAR" {
		t.Errorf("role of dev = %v, want REGULAR", g["role"])
	}
	checkB(t, "the token still works", e.as(tok, "GET", secretsB, ""), 200)
}
