package iam

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
)

// identity is one caller of the matrix.
type identity struct {
	name string
	// fail is set when the credential cannot authenticate: the refusal
	// expected ("no token" or "unauthenticated").
	fail string
	// certOnly: the caller presents a client certificate and no token;
	// surface A takes tokens only (okms-rest.md 5.1).
	certOnly bool
	bypass   bool    // account root or ADMIN user (iam.md 4.3)
	grants   []grant // its policies, all on the domain URN
	urn      string  // what a credential it creates binds
	cred     cred
	skip     string // why the identity cannot be built on this server
	// sa: the identity is a service account (iam.md 3), not a user; its
	// token, when it has one, is fetched by afterAdvance once the clock
	// has moved past the expiring identities' expiry.
	sa           bool
	afterAdvance func(t *testing.T)
}

// has reports whether id holds action, set being its granted actions.
func (id *identity) has(set map[string]bool, action string) bool { return id.bypass || set[action] }

// expectation is the answer iam.md section 6 calls for.
type expectation struct {
	outcome string // "ok", or the refusal: "denied", "unauthenticated", "no token"
	visible bool   // lists: the probe shows
}

// expect computes the answer to op for id holding set, on the variant
// needing need.
func expect(op operation, id *identity, set map[string]bool, need []string) expectation {
	if id.fail != "" || (id.certOnly && (op.surface == "A" || op.surface == "iam")) {
		f := id.fail
		if f == "" || (f == "no token" && op.surface != "C" && op.surface != "T") {
			// Surfaces A and B answer every authentication failure with 401
			// Unauthenticated (iam.md 7.1).
			f = "unauthenticated"
		}
		return expectation{outcome: f}
	}
	if op.list != "" {
		return expectation{outcome: "ok", visible: id.has(set, op.list)}
	}
	if op.admin {
		if id.bypass {
			return expectation{outcome: "ok"}
		}
		return expectation{outcome: "denied"}
	}
	for _, a := range need {
		if !id.has(set, a) {
			return expectation{outcome: "denied"}
		}
	}
	return expectation{outcome: "ok"}
}

// auditedCase is a matrix request whose audit pair is looked for.
type auditedCase struct {
	label string
	rid   string
	want  expectation
	op    operation
}

// tally counts the matrix's figures (reliability-security.md T7).
type tally struct {
	mu                 sync.Mutex
	cases              int
	existenceChecks    int
	stateChecks        int
	skipped            int
	unexpectedAllows   []string
	unexpectedDenials  []string
	otherMismatches    []string
	unauthorizedShown  int // list entries shown without the list action
	audited            []auditedCase
	perSurface         map[string]int
	perIdentityAllowed map[string]int
}

func (tl *tally) add(f func(*tally)) {
	tl.mu.Lock()
	defer tl.mu.Unlock()
	f(tl)
}

// TestAuthorizationMatrix runs every operation of surfaces A, B, C and
// Transit (T)
// against every kind of caller, over real HTTP and TLS, and compares each
// answer with the one computed from the specification (spec_test.go):
// exact status and envelope, 0 unexpected allows, 0 unexpected denials,
// the same refusal whether or not the object exists, and no state change
// after a refusal (iam.md 6, reliability-security.md T7).
func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	auditPath := filepath.Join(t.TempDir(), "audit.log")
	e := newEnv(t, options{tls: true, auditFile: auditPath})
	ids := setupIdentities(t, e)
	e.must(t, "POST", e.restURL("/secret"), `{"path":"`+probePath+`","version":{"data":{"k":"probe"}}}`)
	setupKeys(t, e)

	// The expiring policy and token work until they expire; then the
	// clock moves past their expiry, before every case.
	for _, id := range ids {
		if id.name == "expired-policy" || id.name == "expired-pat" {
			if r := e.do(t, id.cred, getReq(e.restURL("/secret/"+esc(probePath)))); r.status != http.StatusOK {
				t.Fatalf("%s before the expiry: %s, want 200", id.name, r)
			}
		}
	}
	e.clock.Advance(2 * time.Hour)
	now := e.clock.Now()
	for _, id := range ids {
		if id.afterAdvance != nil {
			id.afterAdvance(t)
		}
	}

	ops := allOperations()
	for _, op := range ops {
		for _, a := range append(slices.Clone(op.need), op.needOther...) {
			if !slices.Contains(catalogue, a) {
				t.Fatalf("operation %s needs %q, which is not in the catalogue of iam.md 5", op.name, a)
			}
		}
	}
	tl := &tally{perSurface: map[string]int{}, perIdentityAllowed: map[string]int{}}
	t.Run("cases", func(t *testing.T) {
		for _, id := range ids {
			t.Run(id.name, func(t *testing.T) {
				t.Parallel()
				if id.skip != "" {
					tl.add(func(tl *tally) { tl.skipped += len(ops) })
					t.Skip(id.skip)
				}
				set := granted(id.grants, now)
				for i, op := range ops {
					runCase(t, e, tl, op, id, set, fmt.Sprintf("m/%s/%d", id.name, i))
				}
			})
		}
	})
	t.Logf("authorization matrix: %d operations × %d identities = %d cases run (%d skipped: %d identities not buildable here); "+
		"per surface %v; %d existence comparisons; %d no-change checks after refusals; "+
		"%d unexpected allows, %d unexpected denials, %d other mismatches, %d list entries shown without permission",
		len(ops), len(ids), tl.cases, tl.skipped, tl.skipped/max(len(ops), 1), tl.perSurface, tl.existenceChecks, tl.stateChecks,
		len(tl.unexpectedAllows), len(tl.unexpectedDenials), len(tl.otherMismatches), tl.unauthorizedShown)
	t.Logf("allowed cases per identity: %v", tl.perIdentityAllowed)
	t.Run("audit pairs", func(t *testing.T) { checkAuditPairs(t, auditPath, tl.audited) })
	t.Run("list filtering", testListFiltering)
	for _, s := range tl.unexpectedAllows {
		t.Errorf("unexpected allow: %s", s)
	}
	for _, s := range tl.unexpectedDenials {
		t.Errorf("unexpected denial: %s", s)
	}
	for _, s := range tl.otherMismatches {
		t.Errorf("mismatch: %s", s)
	}
	if tl.unauthorizedShown != 0 {
		t.Errorf("%d list entries shown without the list permission", tl.unauthorizedShown)
	}
}

// setupIdentities creates, through the identity API, every caller of the
// matrix; policies are on the domain URN, which covers its secrets.
func setupIdentities(t *testing.T, e *env) []*identity {
	t.Helper()
	all := func(ns ...string) []string {
		var out []string
		for _, n := range ns {
			out = append(out, n+"*")
		}
		return out
	}
	both := func(suffixes ...string) []string {
		return append(prefixed(kms, suffixes...), prefixed(ovh, suffixes...)...)
	}
	expiry := t0.Add(time.Hour)
	ids := []*identity{
		{name: "no-token", fail: "no token", urn: userURN("nobody")},
		{name: "malformed-token", fail: "unauthenticated", urn: userURN("nobody"),
			cred: cred{token: "cof_pat_!!not~a~token!!"}},
		{name: "root", bypass: true, urn: accountURN},
		{name: "no-policy"},
		{name: "metadata-only", grants: []grant{{allow: both("secret/get")}}},
		{name: "reader", grants: []grant{{allow: both("secret/get", "secret/version/getData")}}},
		{name: "writer", grants: []grant{{allow: both("secret/create", "secret/version/create", "secret/updateMetadata", "secret/get")}}},
		// Service key roles (issue 15): a key user who may use keys and not
		// manage them, a key manager who may manage them and not use them.
		// Surface A has no crypto actions.
		{name: "key-user", grants: []grant{{allow: append(prefixed(kms, "serviceKey/get", "serviceKey/encrypt", "serviceKey/decrypt",
			"serviceKey/dataKey/*", "serviceKey/sign", "serviceKey/verify", "random/get"), ovh+"serviceKey/get")}}},
		{name: "key-manager", grants: []grant{{allow: append(both("serviceKey/create", "serviceKey/import", "serviceKey/get",
			"serviceKey/update", "serviceKey/activate", "serviceKey/deactivate", "serviceKey/delete"),
			kms+"serviceKey/wrapKey", kms+"serviceKey/unwrapKey")}}},
		// Creation without the version action: the existence-dependent
		// Vault writes (iam.md 6) refuse it on existing secrets.
		{name: "creator", grants: []grant{{allow: both("secret/create")}}},
		{name: "admin", bypass: true},
		// A wide allow with an except of its own, and a deny in another
		// policy that wins over it (iam.md 4.3), with wildcards at either
		// end (4.2).
		{name: "allow-deny", grants: []grant{
			{allow: all(kms, ovh), except: []string{ovh + "secret/version/edit"}},
			{deny: []string{kms + "secret/version/getData", ovh + "secret/version/getData", "*/delete", kms + "secretConfig/*"}},
		}},
		{name: "expired-policy", grants: []grant{{allow: all(kms, ovh), expiredAt: expiry}}},
		{name: "revoked-pat", fail: "unauthenticated", grants: []grant{{allow: all(kms, ovh)}}},
		{name: "expired-pat", fail: "unauthenticated", grants: []grant{{allow: all(kms, ovh)}}},
		{name: "other-domain-cert", certOnly: true, fail: "unauthenticated"},
		{name: "other-installation-cert", certOnly: true, fail: "unauthenticated"},
		// Service accounts (iam.md 3, 7.2): an OAuth2 access token and a
		// certificate bound to a service account's URN act as it, under its
		// policies; an expired token, and a deleted account's token or
		// certificate, authenticate no more.
		{name: "service-account", sa: true, grants: []grant{
			{allow: append(both("secret/get", "secret/version/getData"), ovh+"credential/get", ovh+"credential/create")}}},
		{name: "service-account-cert", sa: true, certOnly: true, grants: []grant{{allow: both("secret/create", "secret/version/create", "secret/get")}}},
		{name: "expired-oauth2-token", sa: true, fail: "unauthenticated", grants: []grant{{allow: all(kms, ovh)}}},
		{name: "deleted-service-account", sa: true, fail: "unauthenticated", grants: []grant{{allow: all(kms, ovh)}}},
		{name: "deleted-service-account-cert", sa: true, certOnly: true, fail: "unauthenticated", grants: []grant{{allow: all(kms, ovh)}}},
	}
	e.createGroup(t, "admins", "ADMIN")
	for _, id := range ids {
		switch id.name {
		case "no-token", "malformed-token", "other-domain-cert", "other-installation-cert":
			continue
		case "root":
			id.cred = cred{token: e.root}
			continue
		}
		if id.sa {
			setupServiceAccount(t, e, id)
			continue
		}
		group := ""
		if id.name == "admin" {
			group = "admins"
		}
		e.createUser(t, id.name, group, "")
		id.urn = userURN(id.name)
		var expires time.Time
		if id.name == "expired-pat" {
			expires = expiry
		}
		id.cred = cred{token: e.createPAT(t, id.name, "m", expires)}
		if id.name == "revoked-pat" {
			e.revokePAT(t, id.name, "m")
		}
		for i, g := range id.grants {
			e.createPolicy(t, policyDoc{name: fmt.Sprintf("%s-%d", id.name, i), identities: []string{id.urn},
				resources: []string{e.domainURN()}, allow: g.allow, except: g.except, deny: g.deny, expiredAt: g.expiredAt})
		}
	}
	// The certificates name identities that would pass everything here:
	// the account root and the ADMIN user. Only the domain check stands
	// between them and the data (iam.md 7.3, verification step 2).
	bind := []string{accountURN, userURN("admin")}
	for _, id := range ids {
		switch id.name {
		case "other-domain-cert":
			other, r := e.createDomain(t)
			if other == "" {
				id.skip = fmt.Sprintf("a second domain of this installation is needed and cannot be created: "+
					"POST /v2/okms/resource (okms-rest.md 5.3, service.CreateDomain) answers %s", r)
				continue
			}
			cr, r := e.createCredential(t, cred{}, other, 30, bind...)
			if cr.ID == "" {
				t.Fatalf("credential of domain %s: %s", other, r)
			}
			id.cred = cred{client: withCertificate(e.client, keyPair(t, cr))}
		case "other-installation-cert":
			// Another coffer installation: its default domain, its own CA.
			o := newEnv(t, options{})
			cr, r := o.createCredential(t, cred{}, o.domain, 30, bind...)
			if cr.ID == "" {
				t.Fatalf("credential of the other installation: %s", r)
			}
			id.cred = cred{client: withCertificate(e.client, keyPair(t, cr))}
		}
		if id.urn == "" {
			id.urn = userURN("nobody")
		}
	}
	for _, id := range ids {
		// Callers refused at authentication somewhere: a certificate is on
		// surface A and identity management, which take tokens only.
		if id.fail != "" || id.certOnly {
			if id.cred.client == nil {
				id.cred.client = e.client
			}
			id.cred.client = spread(id.cred.client)
		}
	}
	return ids
}

// setupServiceAccount makes id a service account with its policies, and
// its credential: a certificate bound to its URN, or an access token,
// fetched now for the expiring one and after the clock's advance for the
// others; a deleted account is deleted once its credential exists.
func setupServiceAccount(t *testing.T, e *env, id *identity) {
	t.Helper()
	clientID, secret := e.createServiceAccount(t, id.name)
	id.urn = serviceAccountURN(clientID)
	for i, g := range id.grants {
		e.createPolicy(t, policyDoc{name: fmt.Sprintf("%s-%d", id.name, i), identities: []string{id.urn},
			resources: []string{e.domainURN()}, allow: g.allow, except: g.except, deny: g.deny, expiredAt: g.expiredAt})
	}
	deleted := strings.HasPrefix(id.name, "deleted-")
	switch {
	case id.certOnly:
		cr, r := e.createCredential(t, cred{}, e.domain, 30, id.urn)
		if cr.ID == "" {
			t.Fatalf("credential of %s: %s", id.name, r)
		}
		id.cred = cred{client: withCertificate(e.client, keyPair(t, cr))}
		if deleted {
			e.must(t, "DELETE", "/1.0/me/api/oauth2/client/"+clientID, "")
		}
	case id.name == "expired-oauth2-token":
		id.cred.token = e.oauthToken(t, clientID, secret)
	default:
		id.afterAdvance = func(t *testing.T) {
			id.cred.token = e.oauthToken(t, clientID, secret)
			if deleted {
				e.must(t, "DELETE", "/1.0/me/api/oauth2/client/"+clientID, "")
			}
		}
	}
}

// runCase runs op as id on fresh objects named after base, checks the
// answer, and for a refusal checks that the same request on the opposite
// existence is refused identically and that nothing changed.
func runCase(t *testing.T, e *env, tl *tally, op operation, id *identity, set map[string]bool, base string) {
	t.Helper()
	x := subject{path: base, ownURN: id.urn, domain: e.domain}
	other := subject{path: base + "-x", ownURN: id.urn, domain: uuid.NewString()}
	switch op.on {
	case onSecret:
		prepareSecret(t, e, x.path, op.deactivate)
	case onFresh:
		// other is the existing secret of the variant, created on demand.
	case onCredential:
		cr, r := e.createCredential(t, cred{}, e.domain, 1, accountURN)
		if cr.ID == "" {
			t.Fatalf("%s: prepare a credential: %s", op.name, r)
		}
		x.cred, other.cred = cr.ID, uuid.NewString()
	case onServiceAccount:
		x.sa, _ = e.createServiceAccount(t, "m")
		other.sa = "0123456789abcdef" // no account has it: ids are random
	case onKey, onFreshKey:
		prepareKeyCase(t, e, op, &x, &other)
	}
	want := expect(op, id, set, op.need)
	before := ""
	switch {
	case want.outcome == "ok":
	case op.on == onSecret || op.on == onFresh:
		before = snapshot(t, e, x.path)
	case op.on == onKey || op.on == onFreshKey:
		before = keySnapshot(t, e, x.key)
		if op.surface == "T" {
			before += transitSnapshot(t, e, x.key)
		}
	}
	rq := op.build(e, x)
	r := e.do(t, id.cred, rq)
	label := fmt.Sprintf("%s as %s: %s %s", op.name, id.name, rq.method, rq.target)
	check(tl, op, id, want, r, label, e.domain)
	tl.add(func(tl *tally) {
		tl.audited = append(tl.audited, auditedCase{label: label, rid: r.header.Get("X-Request-Id"), want: want, op: op})
		tl.cases++
		tl.perSurface[op.surface]++
		if want.outcome == "ok" {
			tl.perIdentityAllowed[id.name]++
		}
	})
	if want.outcome == "ok" {
		return
	}
	if before != "" {
		after := ""
		if op.on == onKey || op.on == onFreshKey {
			after = keySnapshot(t, e, x.key)
			if op.surface == "T" {
				after += transitSnapshot(t, e, x.key)
			}
		} else {
			after = snapshot(t, e, x.path)
		}
		if after != before {
			tl.add(func(tl *tally) {
				tl.otherMismatches = append(tl.otherMismatches, fmt.Sprintf("%s: refused, yet the secret changed\nbefore: %s\nafter:  %s", label, before, after))
			})
		}
		tl.add(func(tl *tally) { tl.stateChecks++ })
	}
	// Authorization before existence (iam.md 6): the refusal must not
	// depend on whether the object exists.
	if op.on == onDomain {
		return
	}
	needOther := op.need
	if op.needOther != nil {
		needOther = op.needOther
	}
	if expect(op, id, set, needOther).outcome == "ok" || refusal(op.surface, r) == "" {
		// The variant is allowed (a different answer is due), or the case
		// already failed.
		return
	}
	switch op.on {
	case onFresh:
		prepareSecret(t, e, other.path, op.deactivate)
	case onFreshKey:
		prepareKey(t, e, other.key, kindAES, false)
	}
	r2 := e.do(t, id.cred, op.build(e, other))
	tl.add(func(tl *tally) {
		tl.existenceChecks++
		if r.normalized() != r2.normalized() {
			tl.otherMismatches = append(tl.otherMismatches, fmt.Sprintf("%s: the refusal depends on existence\n  %s\n  %s", label, r.normalized(), r2.normalized()))
		}
	})
}

// check compares one answer with the expectation and records the outcome;
// domain is the one the matrix's policies are on.
func check(tl *tally, op operation, id *identity, want expectation, r response, label, domain string) {
	got := refusal(op.surface, r)
	switch {
	case want.outcome == "ok" && got != "":
		tl.add(func(tl *tally) { tl.unexpectedDenials = append(tl.unexpectedDenials, fmt.Sprintf("%s = %s", label, r)) })
	case want.outcome == "ok":
		status := op.ok
		if (op.surface == "C" || op.surface == "T") && op.list != "" && !want.visible {
			status = http.StatusNotFound // vault-kv2.md 4.7: nothing visible is a 404
		}
		if r.status != status {
			tl.add(func(tl *tally) {
				tl.otherMismatches = append(tl.otherMismatches, fmt.Sprintf("%s = %s, want %d", label, r, status))
			})
			return
		}
		if op.list != "" {
			shown, probe := listed(op, r, domain)
			if probe != want.visible {
				tl.add(func(tl *tally) {
					tl.otherMismatches = append(tl.otherMismatches, fmt.Sprintf("%s: probe shown %v, want %v: %s", label, probe, want.visible, r))
				})
			}
			unauthorized := 0
			switch {
			case !want.visible:
				unauthorized = shown
			case strings.HasSuffix(op.name, "list domains") && !id.bypass:
				// The policies cover the matrix's domain, not the other one.
				unauthorized = shown - 1
			}
			if unauthorized > 0 {
				tl.add(func(tl *tally) {
					tl.unauthorizedShown += unauthorized
					tl.otherMismatches = append(tl.otherMismatches, fmt.Sprintf("%s: %d entries shown without permission: %s", label, unauthorized, r))
				})
			}
		}
	case r.status/100 == 2:
		tl.add(func(tl *tally) {
			tl.unexpectedAllows = append(tl.unexpectedAllows, fmt.Sprintf("%s = %s, want %s", label, r, want.outcome))
		})
	case got != want.outcome:
		tl.add(func(tl *tally) {
			tl.otherMismatches = append(tl.otherMismatches, fmt.Sprintf("%s = %s, want the refusal %q", label, r, want.outcome))
		})
	}
}

// listed returns how many entries a list answer shows and whether the
// probe is among them: the probe secret, or for domains the matrix's one.
func listed(op operation, r response, domain string) (int, bool) {
	if r.status == http.StatusNotFound {
		return 0, false
	}
	var entries []string
	switch {
	case isKeyList(op):
		return listedKeys(op, r)
	case op.surface == "C":
		var v struct{ Data struct{ Keys []string } }
		_ = json.Unmarshal(r.body, &v)
		return len(v.Data.Keys), slices.Contains(v.Data.Keys, strings.TrimPrefix(probePath, probeFolder+"/"))
	case strings.HasSuffix(op.name, "list domains"):
		var v []struct{ ID string }
		_ = json.Unmarshal(r.body, &v)
		for _, d := range v {
			entries = append(entries, d.ID)
		}
		return len(entries), slices.Contains(entries, domain)
	}
	var v []struct{ Path string }
	_ = json.Unmarshal(r.body, &v)
	for _, s := range v {
		entries = append(entries, s.Path)
	}
	return len(entries), slices.Contains(entries, probePath)
}

// prepareSecret creates a secret with version 1 at path, as the root, and
// deactivates that version if asked.
func prepareSecret(t *testing.T, e *env, path string, deactivate bool) {
	t.Helper()
	e.must(t, "POST", e.restURL("/secret"), `{"path":"`+path+`","version":{"data":{"k":"v1"}}}`)
	if deactivate {
		e.must(t, "PUT", e.restURL("/secret/"+esc(path)+"/version/1"), `{"state":"deactivated"}`)
	}
}

// snapshot is what the root reads of the secret at path: its metadata and
// its current version, state and value (the matrix's secrets have one
// version, so this covers every change a refused call could make).
func snapshot(t *testing.T, e *env, path string) string {
	t.Helper()
	return e.asRoot(t, getReq(e.restURL("/secret/"+esc(path)+"?includeData=true"))).normalized()
}

// testListFiltering: a user allowed secret/get on …/secret/prod%2F* lists
// only the secrets under prod/ on surfaces A and B and through the Vault
// LIST, on both Vault roots; siblings that merely share the prefix
// (production/, prodx) stay invisible (iam.md 4.2, 6.1). A policy written
// with a raw slash (…/secret/prod/*) is the same policy (4.2, canonical
// form).
func testListFiltering(t *testing.T) {
	e := newEnv(t, options{})
	for _, p := range []string{"prod/a", "prod/b/c", "production/x", "prodx", "prod", "dev/y"} {
		prepareSecret(t, e, p, false)
	}
	for _, pattern := range []string{"/secret/prod%2F*", "/secret/prod/*"} {
		login := "lister" + randomHex(4)
		e.createUser(t, login, "", "")
		tok := e.createPAT(t, login, "m", time.Time{})
		e.createPolicy(t, policyDoc{name: login, identities: []string{userURN(login)}, resources: []string{e.domainURN() + pattern},
			allow: []string{kms + "secret/get", ovh + "secret/get"}})
		c := cred{token: tok}
		t.Run(pattern, func(t *testing.T) {
			wantPaths := []string{"prod/a", "prod/b/c"}
			for _, target := range []string{e.restURL("/secret"), e.centralURL("/secret")} {
				r := e.do(t, c, getReq(target))
				var items []struct{ Path string }
				if r.status == 200 {
					items = decode[[]struct{ Path string }](t, r)
				}
				var got []string
				for _, it := range items {
					got = append(got, it.Path)
				}
				if r.status != 200 || !slices.Equal(got, wantPaths) {
					t.Errorf("GET %s = %d, paths %v; want 200 and exactly %v", target, r.status, got, wantPaths)
				}
			}
			for _, root := range []string{"/v1", "/api/" + e.domain + "/v1"} {
				for folder, want := range map[string][]string{
					"": {"prod/"}, "prod/": {"a", "b/"}, "prod/b/": {"c"}, "production/": nil, "dev/": nil,
				} {
					r := e.do(t, c, vaultReq("LIST", root+"/secret/metadata/"+folder, ""))
					var v struct{ Data struct{ Keys []string } }
					_ = json.Unmarshal(r.body, &v)
					wantStatus := 200
					if want == nil {
						wantStatus = 404 // nothing visible, as when nothing exists
					}
					if r.status != wantStatus || !slices.Equal(v.Data.Keys, want) {
						t.Errorf("LIST %s/secret/metadata/%s = %s; want %d with keys %v", root, folder, r, wantStatus, want)
					}
				}
			}
			// The siblings are refused one by one too.
			for path, status := range map[string]int{"prod/a": 200, "prod/b/c": 200, "production/x": 403, "prodx": 403, "prod": 403} {
				r := e.do(t, c, getReq(e.restURL("/secret/"+esc(path))))
				if r.status != status {
					t.Errorf("GET surface B secret %s = %s, want %d", path, r, status)
				}
			}
		})
	}
}

// checkAuditPairs looks, in the audit file of the matrix, for the pair of
// events of every case that passed authentication: a request event with
// the decision, then a response event (reliability-security.md 7, T15).
// The decision of an existence-dependent Vault write is settled inside the
// operation (iam.md 6), so only its response event tells the refusal.
func checkAuditPairs(t *testing.T, path string, cases []auditedCase) {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	byRID := map[string][]auditEvent{}
	for _, line := range bytes.Split(bytes.TrimSpace(raw), []byte("\n")) {
		var ev auditEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		byRID[ev.RequestID] = append(byRID[ev.RequestID], ev)
	}
	missing, wrong, unauthenticated, undecided := 0, 0, 0, 0
	for _, c := range cases {
		evs := byRID[c.rid]
		switch {
		case c.want.outcome != "ok" && c.want.outcome != "denied":
			unauthenticated++
			continue
		case len(c.op.need) == 0 && c.op.list == "" && !c.op.admin:
			// A reference route: a valid credential and no decision.
			undecided++
			continue
		}
		decided, result, ok := auditOf(evs)
		if !ok {
			missing++
			if missing <= 10 {
				t.Errorf("%s: audit events %+v, want a request and a response event, or one request+response event for a read", c.label, evs)
			}
			continue
		}
		wantOutcome := "allowed"
		if c.want.outcome == "denied" {
			wantOutcome = "denied"
		}
		if (c.op.needOther == nil && decided != wantOutcome) || (result != wantOutcome && result != "failed") ||
			(wantOutcome == "denied" && result != "denied") {
			wrong++
			if wrong <= 10 {
				t.Errorf("%s: audited %q then %q, want %q", c.label, decided, result, wantOutcome)
			}
		}
	}
	t.Logf("audit: %d cases, %d missing pairs, %d wrong outcomes; not looked for: %d refused by authentication, %d without a decision",
		len(cases), missing, wrong, unauthenticated, undecided)
}
