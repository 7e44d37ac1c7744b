package iamapi_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/server"
)

// These tests drive the identity-management API end to end: the real
// server (server.New in dev mode, the in-memory store under the
// encryption layer) behind httptest on 127.0.0.1, with a fake clock. Each
// case gets a server of its own, so cases run in parallel and never see
// each other's state. Users are created without passwords unless the case
// is about passwords: Argon2id costs 64 MiB and real time per hash.

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

const rootToken = "root"

// t0 is where every fake clock starts: half a second past the minute, so
// that every time on the wire shows its truncation to whole seconds.
var t0 = time.Date(2026, 1, 10, 9, 0, 0, 500_000_000, time.UTC)

// fakeClock is the server's clock; tests advance it instead of sleeping.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is one running server and the test that owns it.
type env struct {
	t      *testing.T
	srv    *server.Server
	ts     *httptest.Server
	clock  *fakeClock
	domain string
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, nil)
}

// newEnvWith is newEnv with the configuration changed by configure.
func newEnvWith(t *testing.T, configure func(*server.Config)) *env {
	t.Helper()
	clock := &fakeClock{now: t0}
	cfg := server.Config{
		Dev: true, DevRootToken: rootToken, Now: clock.Now,
		Logger: slog.New(slog.DiscardHandler), Out: io.Discard,
	}
	if configure != nil {
		configure(&cfg)
	}
	srv, err := server.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("server.Close: %v", err)
		}
	})
	return &env{t: t, srv: srv, ts: ts, clock: clock, domain: srv.DefaultDomain()}
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
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
		if rq.chunked {
			body = io.MultiReader(body) // hides the length: chunked encoding
		}
	}
	target := e.ts.URL + strings.ReplaceAll(rq.target, "{okmsId}", e.domain)
	req, err := http.NewRequestWithContext(e.t.Context(), rq.method, target, body)
	if err != nil {
		e.t.Fatalf("new request %s %s: %v", rq.method, rq.target, err)
	}
	switch tok := cmp.Or(rq.token, rootToken); tok {
	case noToken:
	default:
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if rq.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range rq.header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	client := *e.ts.Client()
	// A redirect is an answer of its own: these routes never send one.
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", rq.method, rq.target, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: read body: %v", rq.method, rq.target, err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: b}
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
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, r.body, err)
	}
	return v
}

var (
	uuidV4    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	anyUUID   = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	patValue  = regexp.MustCompile(`cof_pat_[A-Za-z0-9_-]{43}`)
	wholeSecZ = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)
	// timeMember names the members that hold times.
	timeMember = regexp.MustCompile(`(At|^creation|^lastUpdate|^lastUsed)$`)
)

// expect checks the status and what every response of these routes
// carries (okms-rest.md 8.2): X-Request-Id, X-Ovh-QueryID equal to it,
// Cache-Control: no-store, a JSON body with Content-Type: application/json
// (204: no body), times in whole seconds with Z, and for errors the OVH
// envelope with exactly class and message, of the class given. It stops
// the test if the status is not the one expected.
func (r *response) expect(t *testing.T, status int, class string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	rid := r.header.Get("X-Request-Id")
	if !uuidV4.MatchString(rid) {
		t.Errorf("X-Request-Id = %q, want a UUID v4", rid)
	}
	if got := r.header.Get("X-Ovh-QueryID"); got != rid {
		t.Errorf("X-Ovh-QueryID = %q, want the request id %q", got, rid)
	}
	if got := r.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if status == http.StatusNoContent {
		if len(r.body) != 0 {
			t.Errorf("204 body = %q, want none", r.body)
		}
		return
	}
	if got := r.header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	var v any
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, r.body)
	}
	if status < 400 {
		if class != "" {
			t.Fatalf("test bug: class %q given for status %d", class, status)
		}
		checkTimes(t, "", v)
		return
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &env); err != nil {
		t.Fatalf("error body is not an object: %s", r.body)
	}
	if keys := slices.Sorted(maps.Keys(env)); !slices.Equal(keys, []string{"class", "message"}) {
		t.Errorf("error envelope members = %v, want class, message", keys)
	}
	e := decode[struct{ Class, Message string }](t, r)
	if e.Class != class {
		t.Errorf("class = %q, want %q; body %s", e.Class, class, r.body)
	}
	if e.Message == "" {
		t.Errorf("message is empty")
	}
}

// checkTimes verifies every time member of a decoded body: a string in
// whole seconds with Z, or null.
func checkTimes(t *testing.T, name string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			checkTimes(t, k, x)
		}
	case []any:
		for _, x := range v {
			checkTimes(t, name, x)
		}
	case string:
		if timeMember.MatchString(name) && !wholeSecZ.MatchString(v) {
			t.Errorf("%s = %q, want RFC 3339 UTC in whole seconds with Z", name, v)
		}
	}
}

// message returns the message of an error response.
func message(t *testing.T, r *response) string {
	t.Helper()
	return decode[struct{ Message string }](t, r).Message
}

// Golden files: testdata/<name>.golden holds the status line, the headers
// that are part of the contract and the body byte for byte, with the
// request id, the okmsId and policy ids (random per server) and token
// values normalised. Times come from the fake clock and are kept as they
// are. go test -update rewrites the files; TestMain reports files no test
// wrote.

var (
	goldenMu   sync.Mutex
	goldenUsed = map[string]string{} // golden name -> test name
)

var pinnedHeaders = []string{"Cache-Control", "Content-Type", "X-Ovh-QueryID", "X-Request-Id"}

func (e *env) golden(t *testing.T, name string, r *response) {
	t.Helper()
	goldenMu.Lock()
	prev, dup := goldenUsed[name]
	if !dup {
		goldenUsed[name] = t.Name()
	}
	goldenMu.Unlock()
	if dup && prev != t.Name() {
		t.Fatalf("golden file %s.golden is already written by %s", name, prev)
	}
	rid := r.header.Get("X-Request-Id")
	norm := func(s string) string {
		if rid != "" {
			s = strings.ReplaceAll(s, rid, "<request-id>")
		}
		s = strings.ReplaceAll(s, e.domain, "<okms-id>")
		s = patValue.ReplaceAllString(s, "<token>")
		return anyUUID.ReplaceAllString(s, "<uuid>")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "%d %s\n", r.status, http.StatusText(r.status))
	for _, h := range pinnedHeaders {
		if v := r.header.Get(h); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", h, norm(v))
		}
	}
	b.WriteString("\n")
	b.WriteString(norm(string(r.body)))
	b.WriteString("\n")
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden file (create it with go test -update): %v", err)
	}
	if !bytes.Equal(b.Bytes(), want) {
		t.Errorf("response differs from %s (rewrite with -update if intended)\ngot:\n%s\nwant:\n%s", path, b.Bytes(), want)
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	// Only a full run writes every golden file.
	full := flag.Lookup("test.run").Value.String() == "" && flag.Lookup("test.skip").Value.String() == "" &&
		!testing.Short()
	if code == 0 && full {
		files, _ := filepath.Glob(filepath.Join("testdata", "*.golden"))
		for _, f := range files {
			name := strings.TrimSuffix(filepath.Base(f), ".golden")
			if _, ok := goldenUsed[name]; ok {
				continue
			}
			if *update {
				_ = os.Remove(f)
				continue
			}
			fmt.Fprintf(os.Stderr, "%s is written by no test: remove it or run go test -update\n", f)
			code = 1
		}
	}
	os.Exit(code)
}

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
	names := map[string]bool{}
	for _, tc := range cases {
		if names[tc.name] {
			t.Fatalf("test bug: two cases are named %q", tc.name)
		}
		names[tc.name] = true
		if !strings.HasPrefix(tc.name, fmt.Sprintf("%d/", tc.status)) {
			t.Fatalf("test bug: case %q must start with its status %d", tc.name, tc.status)
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			target := tc.target
			if tc.targetFn != nil {
				target = tc.targetFn(e)
			}
			rq := request{method: cmp.Or(tc.method, method), target: target, token: tc.token,
				header: maps.Clone(tc.header), body: tc.body, chunked: tc.chunked}
			refused := rq.method != http.MethodGet && tc.status >= 400
			var before string
			if refused {
				before = e.snapshot()
			}
			r := e.send(rq)
			r.expect(t, tc.status, tc.class)
			if tc.golden != "" {
				e.golden(t, tc.golden, r)
			}
			if refused {
				if after := e.snapshot(); after != before {
					t.Errorf("the refused request changed the stored state\nbefore: %s\nafter:  %s", before, after)
				}
			}
			if tc.check != nil {
				tc.check(t, e, r)
			}
		})
	}
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
	var m map[string]json.RawMessage
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not an object: %s", r.body)
	}
	if _, ok := m[name]; ok {
		t.Errorf("body has a %q member, want none: %s", name, r.body)
	}
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
