package iam

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

// groupURN is the URN of a group of the account.
func groupURN(name string) string { return "urn:v1:eu:identity:group:coffer/" + name }

// TestRightsDieWithTheUser is issue 13's points 3 and 6 over real TLS:
// what carries a user's rights beyond a request dies with the user, and a
// user created again under the same login inherits nothing.
//
//   - A non-admin user binds its group into an access certificate; once
//     the user is deleted (or leaves the group) the certificate no longer
//     authenticates, and the deletion revokes it.
//   - ann has a token, a policy naming her and a certificate the root
//     bound to her. Deleted and created again, the new ann gets none of
//     it: the old token and certificate fail, and the policy no longer
//     names her.
func TestRightsDieWithTheUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{tls: true, dataDir: t.TempDir()})
	e.createGroup(t, "apps", "REGULAR")
	e.createPolicy(t, policyDoc{name: "apps", identities: []string{groupURN("apps")}, resources: []string{e.domainURN()},
		allow: []string{"okms:apiovh:credential/create", "okms:apiovh:credential/get", "okms:apikms:secret/get", "okms:apikms:secret/version/getData"}})
	e.must(t, "POST", e.restURL("/secret"), `{"path":"apps/db","version":{"data":{"password":"s3cret"}}}`)
	read := e.restURL("/secret/apps%2Fdb?includeData=true")

	groupCert := func(t *testing.T, login string) (credential, cred) {
		t.Helper()
		e.createUser(t, login, "apps", "")
		tok := e.createPAT(t, login, "ci", time.Time{})
		cr, r := e.createCredential(t, cred{token: tok}, e.domain, 30, groupURN("apps"))
		if cr.ID == "" {
			t.Fatalf("%s binds its group into a certificate: %s", login, r)
		}
		c := cred{client: withCertificate(e.client, keyPair(t, cr))}
		if r := e.do(t, c, getReq(read)); r.status != 200 {
			t.Fatalf("the group certificate reads: %s, want 200", r)
		}
		return cr, c
	}

	t.Run("issuer deleted", func(t *testing.T) {
		cr, c := groupCert(t, "ci")
		if r := e.asRoot(t, getReq(e.centralURL("/credential/"+cr.ID))); r.status != 200 ||
			decode[struct{ Issuer string }](t, r).Issuer != userURN("ci") {
			t.Errorf("the credential shows its issuer: %s", r)
		}
		e.must(t, "DELETE", "/1.0/me/identity/user/ci", "")
		if r := e.do(t, c, getReq(read)); r.status != 401 {
			t.Errorf("the certificate of a deleted user reads: %s, want 401", r)
		}
		if r := e.asRoot(t, getReq(e.centralURL("/credential/"+cr.ID))); r.status != 404 {
			t.Errorf("the credential of a deleted user: %s, want 404 (revoked)", r)
		}
	})

	t.Run("issuer left the group", func(t *testing.T) {
		_, c := groupCert(t, "ci2")
		e.must(t, "PUT", "/1.0/me/identity/user/ci2", `{"group":""}`)
		if r := e.do(t, c, getReq(read)); r.status != 401 {
			t.Errorf("the group certificate of a user out of the group reads: %s, want 401", r)
		}
		e.must(t, "PUT", "/1.0/me/identity/user/ci2", `{"group":"apps"}`)
		if r := e.do(t, c, getReq(read)); r.status != 200 {
			t.Errorf("back in the group: %s, want 200", r)
		}
	})

	t.Run("a new ann inherits nothing", func(t *testing.T) {
		e.createUser(t, "ann", "", "")
		pid := e.createPolicy(t, policyDoc{name: "ann", identities: []string{userURN("ann")}, resources: []string{e.domainURN()},
			allow: []string{"okms:apikms:secret/get", "okms:apikms:secret/version/getData"}})
		tok := e.createPAT(t, "ann", "laptop", time.Time{})
		cr, r := e.createCredential(t, cred{}, e.domain, 30, userURN("ann"))
		if cr.ID == "" {
			t.Fatalf("the root binds ann into a certificate: %s", r)
		}
		cert := cred{client: withCertificate(e.client, keyPair(t, cr))}
		for name, c := range map[string]cred{"token": {token: tok}, "certificate": cert} {
			if r := e.do(t, c, getReq(read)); r.status != 200 {
				t.Fatalf("ann's %s reads: %s, want 200", name, r)
			}
		}
		e.must(t, "DELETE", "/1.0/me/identity/user/ann", "")
		e.createUser(t, "ann", "", "")
		fresh := e.createPAT(t, "ann", "laptop", time.Time{})
		for name, c := range map[string]cred{"old token": {token: tok}, "old certificate": cert} {
			if r := e.do(t, c, getReq(read)); r.status != 401 {
				t.Errorf("the %s of the former ann: %s, want 401", name, r)
			}
		}
		if r := e.do(t, cred{token: fresh}, getReq(read)); r.status != 403 {
			t.Errorf("the new ann reads with the former ann's policy: %s, want 403", r)
		}
		var p struct{ Identities []string }
		if err := json.Unmarshal(e.must(t, "GET", "/v2/iam/policy/"+pid, "").body, &p); err != nil || slices.Contains(p.Identities, userURN("ann")) {
			t.Errorf("the policy still names ann: %+v, %v", p, err)
		}
	})
}
