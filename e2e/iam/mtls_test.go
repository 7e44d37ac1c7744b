package iam

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"slices"
	"testing"
	"time"
)

// TestMTLS: over real TLS, with a client trusting only the installation
// CA (<data-dir>/ca.pem), an access certificate issued through the
// credential API authenticates a Go client as the bound user on surfaces B
// and C, within that user's policy; a revoked, expired or other-domain
// certificate is refused (401 on B, Vault's 403 on C); surface A takes no
// certificate; and the escalation guard keeps a non-admin from binding an
// identity it is not (iam.md 7.3, okms-rest.md 5.4, issue 4).
func TestMTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, options{tls: true, dataDir: t.TempDir()})
	e.createUser(t, "app", "", "")
	e.createPolicy(t, policyDoc{name: "app", identities: []string{userURN("app")}, resources: []string{e.domainURN()},
		allow: prefixed(kms, "secret/get", "secret/version/getData", "secret/create", "secret/version/create")})
	canary := "CANARY-" + randomHex(8)

	issue := func(t *testing.T, days int) (credential, cred) {
		t.Helper()
		cr, r := e.createCredential(t, cred{}, e.domain, days, userURN("app"))
		if cr.ID == "" || cr.Status != "READY" || cr.PrivateKeyPEM == "" {
			t.Fatalf("create credential = %s, want READY with certificate and private key", r)
		}
		return cr, cred{client: withCertificate(e.client, keyPair(t, cr))}
	}
	secretURL := e.restURL("/secret/mtls%2Fdb?includeData=true")
	vaultURLs := []string{"/v1/secret/data/mtls/db", "/api/" + e.domain + "/v1/secret/data/mtls/db"}

	cr, app := issue(t, 30)
	t.Run("certificate profile", func(t *testing.T) {
		block, _ := pem.Decode([]byte(cr.CertificatePEM))
		if block == nil {
			t.Fatalf("certificatePEM is not PEM: %q", cr.CertificatePEM)
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		var uris []string
		for _, u := range cert.URIs {
			uris = append(uris, u.String())
		}
		if cert.Subject.CommonName != e.domain || !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) ||
			!slices.Contains(uris, userURN("app")) {
			t.Errorf("certificate CN %q, EKU %v, URIs %v; want CN the okmsId, clientAuth and the bound user URN (iam.md 7.3)",
				cert.Subject.CommonName, cert.ExtKeyUsage, uris)
		}
	})

	t.Run("create and read", func(t *testing.T) {
		r := e.do(t, app, req("POST", e.restURL("/secret"), `{"path":"mtls/db","version":{"data":{"password":"`+canary+`"}}}`))
		if r.status != 200 {
			t.Fatalf("surface B create with the certificate = %s, want 200", r)
		}
		r = e.do(t, app, getReq(secretURL))
		if s := decode[restSecret](t, r); r.status != 200 || s.Version == nil || !jsonHas(s.Version.Data, "password", canary) {
			t.Errorf("surface B read with the certificate = %s, want the value", r)
		}
		for _, u := range vaultURLs {
			r = e.do(t, app, vaultReq("GET", u, ""))
			var v struct {
				Data struct{ Data json.RawMessage }
			}
			_ = json.Unmarshal(r.body, &v)
			if r.status != 200 || !jsonHas(v.Data.Data, "password", canary) {
				t.Errorf("surface C GET %s with the certificate = %s, want the value", u, r)
			}
		}
		r = e.do(t, app, vaultReq("POST", vaultURLs[0], `{"data":{"password":"`+canary+`-2"}}`))
		if r.status != 200 {
			t.Errorf("surface C write with the certificate = %s, want 200", r)
		}
		// The certificate acts as the user, within the user's policy.
		if r = e.do(t, app, req("DELETE", e.restURL("/secret/mtls%2Fdb"), "")); refusal("B", r) != "denied" {
			t.Errorf("surface B delete without secret/delete = %s, want 403", r)
		}
		if r = e.do(t, app, vaultReq("DELETE", "/v1/secret/metadata/mtls/db", "")); refusal("C", r) != "denied" {
			t.Errorf("surface C delete without secret/delete = %s, want Vault's 403", r)
		}
		// Surface A takes bearer tokens only (okms-rest.md 5.1).
		if r = e.do(t, app, getReq(e.centralURL("/secret/mtls%2Fdb"))); refusal("A", r) != "unauthenticated" {
			t.Errorf("surface A with a certificate only = %s, want 401", r)
		}
	})

	// refused checks that c is refused as unauthenticated on B and C.
	refused := func(t *testing.T, what string, c cred) {
		t.Helper()
		if r := e.do(t, c, getReq(secretURL)); r.status != 401 || refusal("B", r) != "unauthenticated" {
			t.Errorf("%s: surface B = %s, want 401 Unauthenticated", what, r)
		}
		for _, u := range vaultURLs {
			if r := e.do(t, c, vaultReq("GET", u, "")); refusal("C", r) != "unauthenticated" {
				t.Errorf("%s: surface C GET %s = %s, want 403 with Vault's invalid-token errors", what, u, r)
			}
		}
	}

	t.Run("revoked", func(t *testing.T) {
		cr2, c2 := issue(t, 30)
		if r := e.do(t, c2, getReq(secretURL)); r.status != 200 {
			t.Fatalf("a fresh certificate = %s, want 200", r)
		}
		if r := e.must(t, "DELETE", e.centralURL("/credential/"+cr2.ID), ""); decode[credential](t, r).Status != "DELETING" {
			t.Errorf("revoke = %s, want status DELETING", r)
		}
		refused(t, "revoked certificate", c2)
	})

	t.Run("other domain", func(t *testing.T) {
		other, r := e.createDomain(t)
		if other == "" {
			t.Skipf("a second domain of this installation cannot be created: POST /v2/okms/resource answers %s", r)
		}
		cr3, r := e.createCredential(t, cred{}, other, 30, userURN("app"))
		if cr3.ID == "" {
			t.Fatalf("credential of domain %s: %s", other, r)
		}
		c3 := cred{client: withCertificate(e.client, keyPair(t, cr3))}
		refused(t, "certificate of another domain", c3)
		// On its own domain it authenticates; the user has no policy there.
		r = e.do(t, c3, getReq("/api/"+other+"/v2/secret/mtls%2Fdb"))
		if refusal("B", r) != "denied" {
			t.Errorf("the certificate on its own domain = %s, want 403 (authenticated, no policy there)", r)
		}
	})

	t.Run("other installation", func(t *testing.T) {
		o := newEnv(t, options{})
		o.createUser(t, "app", "", "")
		cr4, r := o.createCredential(t, cred{}, o.domain, 30, userURN("app"))
		if cr4.ID == "" {
			t.Fatalf("credential of the other installation: %s", r)
		}
		refused(t, "certificate of another installation's domain", cred{client: withCertificate(e.client, keyPair(t, cr4))})
	})

	t.Run("escalation guard", func(t *testing.T) {
		e.createUser(t, "dev", "", "")
		dev := cred{token: e.createPAT(t, "dev", "m", time.Time{})}
		e.createPolicy(t, policyDoc{name: "dev", identities: []string{userURN("dev")}, resources: []string{e.domainURN()},
			allow: prefixed(ovh, "credential/create", "credential/get")})
		for _, urns := range [][]string{{userURN("app")}, {accountURN}, {userURN("dev"), userURN("app")}} {
			if _, r := e.createCredential(t, dev, e.domain, 1, urns...); refusal("A", r) != "denied" {
				t.Errorf("a non-admin binding %v = %s, want 403", urns, r)
			}
		}
		if cr, r := e.createCredential(t, dev, e.domain, 1, userURN("dev")); cr.ID == "" {
			t.Errorf("a user binding itself = %s, want 200", r)
		}
		e.createGroup(t, "admins", "ADMIN")
		e.createUser(t, "boss", "admins", "")
		boss := cred{token: e.createPAT(t, "boss", "m", time.Time{})}
		if cr, r := e.createCredential(t, boss, e.domain, 1, userURN("app")); cr.ID == "" {
			t.Errorf("an ADMIN user binding another user = %s, want 200", r)
		}
	})

	// Last: it moves the clock.
	t.Run("expired", func(t *testing.T) {
		cr5, c5 := issue(t, 1)
		if r := e.do(t, c5, getReq(secretURL)); r.status != 200 {
			t.Fatalf("a one-day certificate = %s, want 200", r)
		}
		expiredAt, err := time.Parse(time.RFC3339, cr5.ExpiredAt)
		if err != nil {
			t.Fatalf("expiredAt %q: %v", cr5.ExpiredAt, err)
		}
		e.clock.Advance(expiredAt.Sub(e.clock.Now()) + time.Minute)
		refused(t, "expired certificate", c5)
		if r := e.must(t, "GET", e.centralURL("/credential/"+cr5.ID), ""); decode[credential](t, r).Status != "EXPIRED" {
			t.Errorf("expired credential = %s, want status EXPIRED", r)
		}
		if r := e.do(t, app, getReq(secretURL)); r.status != http.StatusOK {
			t.Errorf("the 30-day certificate after a day = %s, want 200", r)
		}
	})
}

// jsonHas reports whether the JSON object raw has member key equal to the
// string want.
func jsonHas(raw json.RawMessage, key, want string) bool {
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	return m[key] == want
}
