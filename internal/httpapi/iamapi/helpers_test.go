package iamapi_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// These tests drive the identity-management API end to end: the real
// server (server.New in dev mode, the in-memory store under the
// encryption layer) behind httptest on 127.0.0.1, with a fake clock. Each
// case gets a server of its own, so cases run in parallel and never see
// each other's state. Users are created without passwords unless the case
// is about passwords: Argon2id costs 64 MiB and real time per hash.

const rootToken = testenv.RootToken

// t0 is where every fake clock starts.
var t0 = testenv.T0

// env is one running server and the test that owns it; its Client sends
// to the identity-management routes.
type env struct {
	*testenv.Env
	t *testing.T
}

// request and response are those of package wiretest. A request's Target
// is the escaped URL path and query, {okmsId} replaced by the server's
// default domain; its Token is sent as Authorization: Bearer, "" sending
// the root token and noToken none.
type (
	request  = wiretest.Request
	response = wiretest.Response
)

// noToken as request.Token sends no credential.
const noToken = wiretest.NoToken

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with the configuration changed by configure.
func newEnvWith(t *testing.T, configure func(*server.Config)) *env {
	t.Helper()
	e := &env{Env: testenv.Start(t, testenv.Configure(configure)), t: t}
	e.Expect = contract.Expect
	return e
}

// as sends a request with token.
func (e *env) as(token, method, target, body string) *response {
	e.t.Helper()
	return e.Send(request{Method: method, Target: target, Body: body, Token: token})
}

// Setup helpers: each call must succeed.

func (e *env) createGroup(name, role string) {
	e.t.Helper()
	e.Must("POST", "/1.0/me/identity/group", fmt.Sprintf(`{"name":%q,"role":%q}`, name, role))
}

// createUser creates a user without a password, in group unless "".
func (e *env) createUser(login, group string) {
	e.t.Helper()
	body := fmt.Sprintf(`{"login":%q}`, login)
	if group != "" {
		body = fmt.Sprintf(`{"login":%q,"group":%q}`, login, group)
	}
	e.Must("POST", "/1.0/me/identity/user", body)
}

// createToken creates a personal access token for login and returns its
// value; expiresAt "" is never.
func (e *env) createToken(login, name, expiresAt string) string {
	e.t.Helper()
	body := fmt.Sprintf(`{"name":%q}`, name)
	if expiresAt != "" {
		body = fmt.Sprintf(`{"name":%q,"expiresAt":%q}`, name, expiresAt)
	}
	r := e.Must("POST", "/1.0/me/identity/user/"+login+"/token", body)
	tok := wiretest.DecodeBody[map[string]any](e.t, r)["token"].(string)
	if !strings.HasPrefix(tok, "cof_pat_") {
		e.t.Fatalf("token = %q, want a cof_pat_ token", tok)
	}
	return tok
}

// createPolicy creates a policy and returns its id.
func (e *env) createPolicy(body string) string {
	e.t.Helper()
	r := e.Must("POST", "/v2/iam/policy", body)
	return wiretest.DecodeBody[map[string]any](e.t, r)["id"].(string)
}

// userURN and domainURN are the URNs of iam.md 2 for this server.
func userURN(login string) string { return "urn:v1:eu:identity:user:coffer/" + login }

func (e *env) domainURN() string { return "urn:v1:eu:resource:okms:" + e.Domain }

// policyDoc returns a policy document granting allow on resource to
// identity, with extra members appended.
func policyDoc(name, identity, resource string, allow []string, extra ...string) string {
	acts := make([]string, len(allow))
	for i, a := range allow {
		acts[i] = fmt.Sprintf(`{"action":%q}`, a)
	}
	doc := fmt.Sprintf(`{"name":%q,"identities":[%q],"resources":[{"urn":%q}],"permissions":{"allow":[%s]}`,
		name, identity, resource, strings.Join(acts, ","))
	for _, x := range extra {
		doc += "," + x
	}
	return doc + "}"
}

var (
	uuidV4   = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	anyUUID  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	patValue = regexp.MustCompile(`cof_pat_[A-Za-z0-9_-]{43}`)
)

// contract is what every response of these routes carries (okms-rest.md
// 8.2): the common checks of wiretest.Contract, X-Ovh-QueryID equal to
// X-Request-Id, times in the members that hold them, and for errors the
// OVH envelope.
var contract = wiretest.Contract{QueryID: true, Envelope: func(t *testing.T, r *wiretest.Response, _, class string) {
	t.Helper()
	wiretest.CheckOVHError(t, r, class)
},
	TimeMember: regexp.MustCompile(`(At|^creation|^lastUpdate|^lastUsed)$`)}

// message returns the message of an error response.
func message(t *testing.T, r *response) string {
	t.Helper()
	return wiretest.DecodeBody[struct{ Message string }](t, r).Message
}

// Golden files (wiretest.Golden): testdata/<name>.golden holds the
// status line, the headers that are part of the contract and the body
// byte for byte, with the request id, the okmsId and policy ids (random
// per server) and token values normalised. Times come from the fake clock
// and are kept as they are.

var pinnedHeaders = []string{"Cache-Control", "Content-Type", "X-Ovh-QueryID", "X-Request-Id"}

func (e *env) Golden(t *testing.T, name string, r *response) {
	t.Helper()
	rid := r.Header.Get("X-Request-Id")
	wiretest.Golden(t, name, wiretest.Render(r, pinnedHeaders, func(_, s string) string {
		if rid != "" {
			s = strings.ReplaceAll(s, rid, "<request-id>")
		}
		s = strings.ReplaceAll(s, e.Domain, "<okms-id>")
		s = patValue.ReplaceAllString(s, "<token>")
		return anyUUID.ReplaceAllString(s, "<uuid>")
	}))
}

// TestMain reports golden files no test wrote.
func TestMain(m *testing.M) { wiretest.Main(m, false) }

// apiCase is one request of an endpoint table and what must come back:
// its Err is the OVH class when its status is 400 or more; its Token is
// as a request's.
type apiCase = wiretest.Case[*env]

// runCases runs a table, each case on a server of its own. A case name
// starts with the expected status ("400/bad login"). After a refused
// request, everything the root can list is as it was before it.
func runCases(t *testing.T, method string, cases []apiCase) {
	t.Helper()
	wiretest.Table[*env]{Method: method, New: newEnv, Expect: contract.Expect}.Run(t, cases)
}

// snapshot renders every user with its tokens, every group and every
// policy, as the account root reads them.
func (e *env) Snapshot() string {
	e.t.Helper()
	var b strings.Builder
	for _, login := range wiretest.DecodeBody[[]string](e.t, e.Must("GET", "/1.0/me/identity/user", "")) {
		b.Write(e.Must("GET", "/1.0/me/identity/user/"+login, "").Body)
		for _, tok := range wiretest.DecodeBody[[]string](e.t, e.Must("GET", "/1.0/me/identity/user/"+login+"/token", "")) {
			b.Write(e.Must("GET", "/1.0/me/identity/user/"+login+"/token/"+tok, "").Body)
		}
	}
	for _, g := range wiretest.DecodeBody[[]string](e.t, e.Must("GET", "/1.0/me/identity/group", "")) {
		b.Write(e.Must("GET", "/1.0/me/identity/group/"+g, "").Body)
	}
	b.Write(e.Must("GET", "/v2/iam/policy", "").Body)
	return b.String()
}

// authCases are the cases every route shares: both token headers, a
// missing or wrong token. setup, target and body make a valid request
// answered with ok. pin writes the golden file of the 401.
func authCases(setup func(*env), target, body string, ok int, pin ...bool) []apiCase {
	g := ""
	if len(pin) > 0 && pin[0] {
		g = "error_Unauthorized"
	}
	return []apiCase{
		{Name: fmt.Sprintf("%d/Authorization: Bearer token", ok), Setup: setup, Target: target, Body: body, Status: ok},
		{Name: fmt.Sprintf("%d/X-Vault-Token", ok), Setup: setup, Target: target, Body: body, Status: ok,
			Token: noToken, Header: map[string]string{"X-Vault-Token": rootToken}},
		{Name: "401/no token", Setup: setup, Target: target, Body: body, Token: noToken, Status: 401,
			Err: "Client::Unauthorized", Golden: g},
		{Name: "401/wrong token", Setup: setup, Target: target, Body: body, Token: "cof_pat_not-a-token", Status: 401,
			Err: "Client::Unauthorized"},
		{Name: "401/basic credentials", Setup: setup, Target: target, Body: body, Token: noToken, Status: 401,
			Err: "Client::Unauthorized", Header: map[string]string{"Authorization": "Basic cm9vdDpyb290"}},
	}
}

// bodyCases are the cases every route with a JSON body shares: bodies
// that are not one acceptable JSON object. pin writes the golden file of
// the 413.
func bodyCases(setup func(*env), target string, pin ...bool) []apiCase {
	g := ""
	if len(pin) > 0 && pin[0] {
		g = "error_PayloadTooLarge"
	}
	const bad = "Client::BadRequest::RequestBodyInvalidJson"
	huge := `{"pad":"` + strings.Repeat("x", 1<<20) + `"}`
	return []apiCase{
		{Name: "400/invalid JSON", Setup: setup, Target: target, Body: `{"a":`, Status: 400, Err: bad},
		{Name: "400/empty body", Setup: setup, Target: target, Status: 400, Err: bad},
		{Name: "400/two JSON values", Setup: setup, Target: target, Body: `{} {}`, Status: 400, Err: bad},
		{Name: "400/body is an array", Setup: setup, Target: target, Body: `[{}]`, Status: 400, Err: bad},
		{Name: "400/duplicate member name", Setup: setup, Target: target, Body: `{"x":1,"x":2}`, Status: 400, Err: bad},
		{Name: "400/form-encoded body", Setup: setup, Target: target, Body: "login=a", Status: 400, Err: bad,
			Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		{Name: "413/body over 1 MiB", Setup: setup, Target: target, Body: huge, Status: 413, Err: "Client::PayloadTooLarge",
			Golden: g},
		{Name: "413/chunked body over 1 MiB", Setup: setup, Target: target, Body: huge, Chunked: true, Status: 413,
			Err: "Client::PayloadTooLarge"},
	}
}

// noMember fails if a JSON object body has member name at top level.
func noMember(t *testing.T, r *response, name string) {
	t.Helper()
	wiretest.NoMember(t, r.Body, name)
}

// wantContains fails unless s contains every part.
func wantContains(t *testing.T, what, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("%s = %q, want it to contain %q", what, s, p)
		}
	}
}

// at returns t0 + d as the wire shows it.
func at(d time.Duration) string { return t0.Add(d).UTC().Format("2006-01-02T15:04:05Z") }
