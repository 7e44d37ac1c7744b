package iam

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// decision is the audit pair one request must leave (reliability-security.md
// 7): who, which action(s) on which resource, and the outcome of the
// decision and of the operation.
type decision struct {
	surface   string
	action    string // the actions of iam.md 6, comma-separated in order
	resource  string // "" checks resourceHas instead
	outcome   string // of the decision: allowed or denied
	result    string // of the operation (response event): allowed, denied or failed
	principal []string
}

// auditEvent is one line of the audit file.
type auditEvent struct {
	Phase      string   `json:"phase"`
	RequestID  string   `json:"request_id"`
	Surface    string   `json:"surface"`
	Principal  []string `json:"principal"`
	Credential string   `json:"credential"`
	Action     string   `json:"action"`
	Resource   string   `json:"resource"`
	Outcome    string   `json:"outcome"`
	Decision   string   `json:"decision"`
	RemoteAddr string   `json:"remote_addr"`
	Time       string   `json:"time"`
}

// readOnly reports whether every action of a comma-separated list changes
// nothing (a get, a getData, a list): such a request has one audit event
// (request+response) instead of the pair (reliability-security.md 7).
func readOnly(actions string) bool {
	for _, a := range strings.Split(actions, ",") {
		if !strings.HasSuffix(a, "/get") && !strings.HasSuffix(a, "/getData") && !strings.HasSuffix(a, "/list") {
			return false
		}
	}
	return true
}

// auditOf returns a request's audit as a decision and a result: from its
// request and response events, or from the one event of an operation that
// changes nothing (only those may have one); ok is false for anything else.
func auditOf(evs []auditEvent) (decided, result string, ok bool) {
	switch {
	case len(evs) == 2 && evs[0].Phase == "request" && evs[1].Phase == "response":
		return evs[0].Outcome, evs[1].Outcome, true
	case len(evs) == 1 && evs[0].Phase == "request+response" && evs[0].Decision != "" && readOnly(evs[0].Action):
		decided = "allowed"
		if evs[0].Outcome == "denied" {
			decided = "denied"
		}
		return decided, evs[0].Outcome, true
	}
	return "", "", false
}

// TestAuditFile runs a mixed sequence — identity management, allowed and
// denied calls on surfaces A, B and C, a failed operation, refused
// credentials — against a server auditing to a file, then reads the file:
// for a request that may change something, a request event with the
// decision, with the expected action, resource URN, outcome and principal,
// followed by its response event; for a read, a list or a metadata read,
// one request+response event with the decision and the outcome; and
// nothing else; and no secret value, token, password or private key
// anywhere in it (reliability-security.md 7, T8, T15; issue 4).
func TestAuditFile(t *testing.T) {
	t.Parallel()
	auditPath := filepath.Join(t.TempDir(), "audit.log")
	e := newEnv(t, options{auditFile: auditPath})
	canary := "CANARY-" + randomHex(8)
	password := "CANARY-pw-" + randomHex(8)
	var canaries []string // every secret of the run: none may reach the file
	canaries = append(canaries, e.root, canary, canary+"-2", password)

	root := cred{token: e.root}
	rootP := []string{accountURN}
	alice := cred{}
	aliceP := []string{userURN("alice")}
	secret := func(p string) string { return e.domainURN() + "/secret/" + esc(p) }
	allowed := func(surface, action, resource string, p []string) *decision {
		return &decision{surface: surface, action: action, resource: resource, outcome: "allowed", result: "allowed", principal: p}
	}
	denied := func(surface, action, resource string, p []string) *decision {
		return &decision{surface: surface, action: action, resource: resource, outcome: "denied", result: "denied", principal: p}
	}
	policyBody := `{"name":"alice","identities":["` + userURN("alice") + `"],"resources":[{"urn":"` + secret("prod") + `%2F*"}],` +
		`"permissions":{"allow":[{"action":"okms:apikms:secret/get"},{"action":"okms:apikms:secret/version/getData"},` +
		`{"action":"okms:apikms:secret/create"},{"action":"okms:apikms:secret/version/create"},{"action":"okms:apiovh:secret/get"}]}}`

	type step struct {
		name   string
		c      *cred
		rq     request
		status int
		want   *decision // nil: refused before any decision (authentication)
		after  func(r response)
	}
	steps := []step{
		{name: "root creates alice", c: &root, rq: req("POST", "/1.0/me/identity/user", `{"login":"alice","password":"`+password+`"}`),
			status: 200, want: allowed("iam", "coffer:iam/user/create", userURN("alice"), rootP)},
		{name: "root creates alice's token", c: &root, rq: req("POST", "/1.0/me/identity/user/alice/token", `{"name":"ci"}`),
			status: 200, want: allowed("iam", "coffer:iam/token/create", userURN("alice"), rootP),
			after: func(r response) {
				alice.token = decode[struct{ Token string }](t, r).Token
				canaries = append(canaries, alice.token)
			}},
		{name: "root creates alice's policy", c: &root, rq: req("POST", "/v2/iam/policy", policyBody),
			status: 200, want: allowed("iam", "coffer:iam/policy/create", "", rootP)},
		{name: "B create", c: &alice, rq: req("POST", e.restURL("/secret"), `{"path":"prod/db","version":{"data":{"password":"`+canary+`"}}}`),
			status: 200, want: allowed("B", kms+"secret/create", secret("prod/db"), aliceP)},
		{name: "B read value", c: &alice, rq: getReq(e.restURL("/secret/prod%2Fdb?includeData=true")),
			status: 200, want: allowed("B", kms+"secret/get,"+kms+"secret/version/getData", secret("prod/db"), aliceP)},
		{name: "B create outside the policy", c: &alice, rq: req("POST", e.restURL("/secret"), `{"path":"dev/x","version":{"data":{"password":"`+canary+`"}}}`),
			status: 403, want: denied("B", kms+"secret/create", secret("dev/x"), aliceP)},
		{name: "B read a missing secret as root", c: &root, rq: getReq(e.restURL("/secret/prod%2Fnope")),
			status: 404, want: &decision{surface: "B", action: kms + "secret/get", resource: secret("prod/nope"), outcome: "allowed", result: "failed", principal: rootP}},
		{name: "C read value", c: &alice, rq: vaultReq("GET", "/v1/secret/data/prod/db", ""),
			status: 200, want: allowed("C", kms+"secret/get,"+kms+"secret/version/getData", secret("prod/db"), aliceP)},
		{name: "C write a version", c: &alice, rq: vaultReq("POST", "/v1/secret/data/prod/db", `{"data":{"password":"`+canary+`-2"}}`),
			status: 200, want: allowed("C", kms+"secret/version/create", secret("prod/db"), aliceP)},
		{name: "C delete without secret/delete", c: &alice, rq: vaultReq("DELETE", "/api/"+e.domain+"/v1/secret/metadata/prod/db", ""),
			status: 403, want: denied("C", kms+"secret/delete", secret("prod/db"), aliceP)},
		{name: "C list", c: &alice, rq: vaultReq("LIST", "/v1/secret/metadata/", ""),
			status: 200, want: allowed("C", kms+"secret/get", e.domainURN(), aliceP)},
		{name: "A read metadata", c: &alice, rq: getReq(e.centralURL("/secret/prod%2Fdb")),
			status: 200, want: allowed("A", ovh+"secret/get", secret("prod/db"), aliceP)},
		{name: "A read value without okms:apiovh:secret/version/getData", c: &alice, rq: getReq(e.centralURL("/secret/prod%2Fdb?includeData=true")),
			status: 403, want: denied("A", ovh+"secret/get,"+ovh+"secret/version/getData", secret("prod/db"), aliceP)},
		{name: "A list", c: &alice, rq: getReq(e.centralURL("/secret")),
			status: 200, want: allowed("A", ovh+"secret/get", e.domainURN(), aliceP)},
		{name: "identity management by a non-admin", c: &alice, rq: getReq("/1.0/me/identity/user"),
			status: 403, want: denied("iam", "coffer:iam/user/list", "urn:v1:eu:identity:account:coffer", aliceP)},
		{name: "no credential", c: &cred{}, rq: getReq(e.restURL("/secret")), status: 401},
		{name: "root writes the Vault config", c: &root, rq: vaultReq("POST", "/v1/secret/config", `{"max_versions":10}`),
			status: 204, want: allowed("C", kms+"secretConfig/update", e.domainURN(), rootP)},
		{name: "root issues a certificate for alice", c: &root,
			rq:     req("POST", e.centralURL("/credential"), `{"name":"alice","validity":1,"identityURNs":["`+userURN("alice")+`"]}`),
			status: 200, want: allowed("A", ovh+"credential/create", e.domainURN(), rootP),
			after: func(r response) {
				key := decode[credential](t, r).PrivateKeyPEM
				// The key's base64 lines, which no JSON escaping changes.
				for _, l := range strings.Split(key, "\n") {
					if len(l) > 20 && !strings.HasPrefix(l, "-----") {
						canaries = append(canaries, l)
					}
				}
			}},
		{name: "root revokes alice's token", c: &root, rq: req("DELETE", "/1.0/me/identity/user/alice/token/ci", ""),
			status: 204, want: allowed("iam", "coffer:iam/token/delete", userURN("alice"), rootP)},
		{name: "a revoked token", c: &alice, rq: getReq(e.restURL("/secret/prod%2Fdb")), status: 401},
	}

	type sent struct {
		step
		rid string
		res response
	}
	var run []sent
	for _, s := range steps {
		e.clock.Advance(time.Second)
		r := e.do(t, *s.c, s.rq)
		if r.status != s.status {
			t.Fatalf("%s: %s %s = %s, want %d", s.name, s.rq.method, s.rq.target, r, s.status)
		}
		if s.after != nil {
			s.after(r)
		}
		run = append(run, sent{step: s, rid: r.header.Get("X-Request-Id"), res: r})
	}

	raw, err := os.ReadFile(auditPath)
	if err != nil {
		t.Fatal(err)
	}
	var events []auditEvent
	byRID := map[string][]auditEvent{}
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for sc.Scan() {
		var ev auditEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("audit line %q is not JSON: %v", sc.Text(), err)
		}
		events = append(events, ev)
		byRID[ev.RequestID] = append(byRID[ev.RequestID], ev)
	}

	decisions, unauthenticated, wantEvents := 0, 0, 0
	for _, s := range run {
		evs := byRID[s.rid]
		if s.want == nil {
			// Refused by authentication: one event records the refusal,
			// with no principal (there is none) and no credential.
			unauthenticated++
			if len(evs) != 1 || evs[0].Action != "authenticate" || evs[0].Outcome != "denied" || len(evs[0].Principal) != 0 || evs[0].RemoteAddr == "" {
				t.Errorf("%s: refused authentication audited as %+v, want one denied authenticate event", s.name, evs)
			}
			continue
		}
		decisions++
		w := s.want
		decided, result, ok := auditOf(evs)
		if !ok {
			t.Errorf("%s: audit events for request %s: %+v; want a request and a response event, or one request+response event for a read", s.name, s.rid, evs)
			continue
		}
		wantEvents += len(evs)
		resourceOK := func(got string) bool {
			if w.resource == "" { // a policy's URN names its id, known from the answer
				return strings.Contains(got, decode[struct{ ID string }](t, s.res).ID)
			}
			return got == w.resource
		}
		for _, ev := range evs {
			if ev.Surface != w.surface || ev.Action != w.action || !resourceOK(ev.Resource) || !slices.Equal(ev.Principal, w.principal) {
				t.Errorf("%s: %s event = surface %q, action %q, resource %q, principal %v; want %q, %q, %q, %v",
					s.name, ev.Phase, ev.Surface, ev.Action, ev.Resource, ev.Principal, w.surface, w.action, w.resource, w.principal)
			}
			if ev.Credential == "" || ev.RemoteAddr == "" || ev.Time == "" {
				t.Errorf("%s: %s event without credential id, client address or time: %+v", s.name, ev.Phase, ev)
			}
		}
		if decided != w.outcome || result != w.result {
			t.Errorf("%s: outcomes %q then %q, want %q then %q", s.name, decided, result, w.outcome, w.result)
		}
	}
	if len(events) != wantEvents+unauthenticated {
		t.Errorf("the audit file holds %d events, want exactly %d (one pair per decision of a write, one event per read, one per refused authentication)", len(events), wantEvents+unauthenticated)
	}
	for _, c := range canaries {
		if c != "" && bytes.Contains(raw, []byte(c)) {
			t.Errorf("the audit file holds a secret of the run (%.12s…)", c)
		}
	}
	if bytes.Contains(raw, []byte("CANARY")) {
		t.Errorf("the audit file holds a canary")
	}
	t.Logf("audit file: %d requests, %d decisions, %d events, %d refused before authorization; %d canaries absent",
		len(run), decisions, len(events), unauthenticated, len(canaries))
}
