package iamapi_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
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

// env is one running server and the test that owns it.
type env struct {
	t      *testing.T
	srv    *server.Server
	ts     *httptest.Server
	clock  *testenv.Clock
	domain string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with the configuration changed by configure.
func newEnvWith(t *testing.T, configure func(*server.Config)) *env {
	t.Helper()
	var opts []testenv.Option
	if configure != nil {
		opts = append(opts, testenv.Configure(configure))
	}
	te := testenv.Start(t, opts...)
	return &env{t: t, srv: te.Server, ts: te.HTTP, clock: te.Clock, domain: te.Domain}
}

// request is one HTTP request.
type request struct {
	method string
	// target is the escaped URL path and query; {okmsId} is replaced by
	// the server's default domain.
	target string
	// token is sent as Authorization: Bearer; "" sends the root token and
	// noToken sends none.
	token string
	// header adds request headers; an empty value removes the header.
	header  map[string]string
	body    string
	chunked bool // send the body without Content-Length
}

// noToken as request.token sends no credential.
const noToken = "-"

// response is what came back, body read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) send(rq request) *response {
	e.t.Helper()
	return fromWire(wiretest.Must(e.t, e.ts.Client(), e.wire(rq)))
}

// wire is rq as it goes out: the token as Authorization: Bearer, and
// Content-Type: application/json with a body, unless rq.header says
// otherwise. A redirect is an answer of its own: these routes never send
// one.
func (e *env) wire(rq request) wiretest.Request {
	def := map[string]string{}
	if tok := cmp.Or(rq.token, rootToken); tok != noToken {
		def["Authorization"] = "Bearer " + tok
	}
	if rq.body != "" {
		def["Content-Type"] = "application/json"
	}
	return wiretest.Request{Method: rq.method, URL: e.ts.URL + strings.ReplaceAll(rq.target, "{okmsId}", e.domain),
		Default: def, Header: rq.header, Body: rq.body, Chunked: rq.chunked}
}

// fromWire is r as these tests read it.
func fromWire(r *wiretest.Response) *response {
	return &response{status: r.Status, header: r.Header, body: r.Body}
}

// wire is r as package wiretest reads it.
func (r *response) wire() *wiretest.Response {
	return &wiretest.Response{Status: r.status, Header: r.header, Body: r.body}
}

// call sends a request as the account root.
func (e *env) call(method, target, body string) *response {
	e.t.Helper()
	return e.send(request{method: method, target: target, body: body})
}

// as sends a request with token.
func (e *env) as(token, method, target, body string) *response {
	e.t.Helper()
	return e.send(request{method: method, target: target, body: body, token: token})
}

// must sends a request as the account root that has to succeed.
func (e *env) must(method, target, body string) *response {
	e.t.Helper()
	r := e.call(method, target, body)
	if r.status/100 != 2 {
		e.t.Fatalf("%s %s = %d %s, want a success", method, target, r.status, r.body)
	}
	return r
}

// Setup helpers: each call must succeed.

func (e *env) createGroup(name, role string) {
	e.t.Helper()
	e.must("POST", "/1.0/me/identity/group", fmt.Sprintf(`{"name":%q,"role":%q}`, name, role))
}

// createUser creates a user without a password, in group unless "".
func (e *env) createUser(login, group string) {
	e.t.Helper()
	body := fmt.Sprintf(`{"login":%q}`, login)
	if group != "" {
		body = fmt.Sprintf(`{"login":%q,"group":%q}`, login, group)
	}
	e.must("POST", "/1.0/me/identity/user", body)
}

// createToken creates a personal access token for login and returns its
// value; expiresAt "" is never.
func (e *env) createToken(login, name, expiresAt string) string {
	e.t.Helper()
	body := fmt.Sprintf(`{"name":%q}`, name)
	if expiresAt != "" {
		body = fmt.Sprintf(`{"name":%q,"expiresAt":%q}`, name, expiresAt)
	}
	r := e.must("POST", "/1.0/me/identity/user/"+login+"/token", body)
	tok := decode[map[string]any](e.t, r)["token"].(string)
	if !strings.HasPrefix(tok, "cof_pat_") {
		e.t.Fatalf("token = %q, want a cof_pat_ token", tok)
	}
	return tok
}

// createPolicy creates a policy and returns its id.
func (e *env) createPolicy(body string) string {
	e.t.Helper()
	r := e.must("POST", "/v2/iam/policy", body)
	return decode[map[string]any](e.t, r)["id"].(string)
}

// userURN and domainURN are the URNs of iam.md 2 for this server.
func userURN(login string) string { return "urn:v1:eu:identity:user:coffer/" + login }

func (e *env) domainURN() string { return "urn:v1:eu:resource:okms:" + e.domain }

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

func decode[T any](t *testing.T, r *response) T {
	t.Helper()
	return wiretest.Decode[T](t, r.body)
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
var contract = wiretest.Contract{QueryID: true, Envelope: ovhEnvelope,
	TimeMember: regexp.MustCompile(`(At|^creation|^lastUpdate|^lastUsed)$`)}

// ovhEnvelope checks an error body: exactly class and message, of the
// class given.
func ovhEnvelope(t *testing.T, r *wiretest.Response, _, class string) {
	t.Helper()
	var env map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &env); err != nil {
		t.Fatalf("error body is not an object: %s", r.Body)
	}
	if keys := slices.Sorted(maps.Keys(env)); !slices.Equal(keys, []string{"class", "message"}) {
		t.Errorf("error envelope members = %v, want class, message", keys)
	}
	e := wiretest.Decode[struct{ Class, Message string }](t, r.Body)
	if e.Class != class {
		t.Errorf("class = %q, want %q; body %s", e.Class, class, r.Body)
	}
	if e.Message == "" {
		t.Errorf("message is empty")
	}
}

// expect checks the status and what every response of these routes
// carries (see contract). It stops the test if the status is not the one
// expected.
func (r *response) expect(t *testing.T, status int, class string) {
	t.Helper()
	contract.Expect(t, r.wire(), status, class)
}

// message returns the message of an error response.
func message(t *testing.T, r *response) string {
	t.Helper()
	return decode[struct{ Message string }](t, r).Message
}

// Golden files (wiretest.Golden): testdata/<name>.golden holds the
// status line, the headers that are part of the contract and the body
// byte for byte, with the request id, the okmsId and policy ids (random
// per server) and token values normalised. Times come from the fake clock
// and are kept as they are.

var pinnedHeaders = []string{"Cache-Control", "Content-Type", "X-Ovh-QueryID", "X-Request-Id"}

func (e *env) golden(t *testing.T, name string, r *response) {
	t.Helper()
	rid := r.header.Get("X-Request-Id")
	wiretest.Golden(t, name, wiretest.Render(r.wire(), pinnedHeaders, func(_, s string) string {
		if rid != "" {
			s = strings.ReplaceAll(s, rid, "<request-id>")
		}
		s = strings.ReplaceAll(s, e.domain, "<okms-id>")
		s = patValue.ReplaceAllString(s, "<token>")
		return anyUUID.ReplaceAllString(s, "<uuid>")
	}))
}

// TestMain reports golden files no test wrote.
func TestMain(m *testing.M) { wiretest.Main(m, false) }

// apiCase is one request of an endpoint table and what must come back.
type apiCase struct {
	name   string
	setup  func(e *env) // state before the request; every call must succeed
	method string       // default: the table's method
	target string
	// targetFn builds the target once setup has run (a policy id).
	targetFn func(e *env) string
	token    string
	header   map[string]string
	body     string
	chunked  bool
	status   int
	class    string // OVH class when status >= 400
	golden   string // testdata/<golden>.golden pins the response
	check    func(t *testing.T, e *env, r *response)
}

// runCases runs a table, each case on a server of its own. A case name
// starts with the expected status ("400/bad login"). After a refused
// request, everything the root can list is as it was before it.
func runCases(t *testing.T, method string, cases []apiCase) {
	t.Helper()
	table := wiretest.Table[*env]{
		New: newEnv,
		Send: func(t *testing.T, e *env, rq wiretest.Request) *wiretest.Response {
			return wiretest.Must(t, e.ts.Client(), rq)
		},
		Expect:   contract.Expect,
		Golden:   func(t *testing.T, e *env, name string, r *wiretest.Response) { e.golden(t, name, fromWire(r)) },
		Snapshot: (*env).snapshot,
	}
	wc := make([]wiretest.Case[*env], len(cases))
	for i, tc := range cases {
		wc[i] = wiretest.Case[*env]{Name: tc.name, Method: cmp.Or(tc.method, method), Setup: tc.setup,
			Status: tc.status, Err: tc.class, Golden: tc.golden,
			Request: func(e *env) wiretest.Request {
				target := tc.target
				if tc.targetFn != nil {
					target = tc.targetFn(e)
				}
				return e.wire(request{target: target, token: tc.token, header: maps.Clone(tc.header), body: tc.body, chunked: tc.chunked})
			}}
		if tc.check != nil {
			wc[i].Check = func(t *testing.T, e *env, r *wiretest.Response) { tc.check(t, e, fromWire(r)) }
		}
	}
	table.Run(t, wc)
}

// snapshot renders every user with its tokens, every group and every
// policy, as the account root reads them.
func (e *env) snapshot() string {
	e.t.Helper()
	var b strings.Builder
	for _, login := range decode[[]string](e.t, e.must("GET", "/1.0/me/identity/user", "")) {
		b.Write(e.must("GET", "/1.0/me/identity/user/"+login, "").body)
		for _, tok := range decode[[]string](e.t, e.must("GET", "/1.0/me/identity/user/"+login+"/token", "")) {
			b.Write(e.must("GET", "/1.0/me/identity/user/"+login+"/token/"+tok, "").body)
		}
	}
	for _, g := range decode[[]string](e.t, e.must("GET", "/1.0/me/identity/group", "")) {
		b.Write(e.must("GET", "/1.0/me/identity/group/"+g, "").body)
	}
	b.Write(e.must("GET", "/v2/iam/policy", "").body)
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
		{name: fmt.Sprintf("%d/Authorization: Bearer token", ok), setup: setup, target: target, body: body, status: ok},
		{name: fmt.Sprintf("%d/X-Vault-Token", ok), setup: setup, target: target, body: body, status: ok,
			token: noToken, header: map[string]string{"X-Vault-Token": rootToken}},
		{name: "401/no token", setup: setup, target: target, body: body, token: noToken, status: 401,
			class: "Client::Unauthorized", golden: g},
		{name: "401/wrong token", setup: setup, target: target, body: body, token: "cof_pat_not-a-token", status: 401,
			class: "Client::Unauthorized"},
		{name: "401/basic credentials", setup: setup, target: target, body: body, token: noToken, status: 401,
			class: "Client::Unauthorized", header: map[string]string{"Authorization": "Basic cm9vdDpyb290"}},
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
		{name: "400/invalid JSON", setup: setup, target: target, body: `{"a":`, status: 400, class: bad},
		{name: "400/empty body", setup: setup, target: target, status: 400, class: bad},
		{name: "400/two JSON values", setup: setup, target: target, body: `{} {}`, status: 400, class: bad},
		{name: "400/body is an array", setup: setup, target: target, body: `[{}]`, status: 400, class: bad},
		{name: "400/duplicate member name", setup: setup, target: target, body: `{"x":1,"x":2}`, status: 400, class: bad},
		{name: "400/form-encoded body", setup: setup, target: target, body: "login=a", status: 400, class: bad,
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		{name: "413/body over 1 MiB", setup: setup, target: target, body: huge, status: 413, class: "Client::PayloadTooLarge",
			golden: g},
		{name: "413/chunked body over 1 MiB", setup: setup, target: target, body: huge, chunked: true, status: 413,
			class: "Client::PayloadTooLarge"},
	}
}

// noMember fails if a JSON object body has member name at top level.
func noMember(t *testing.T, r *response, name string) {
	t.Helper()
	wiretest.NoMember(t, r.body, name)
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
