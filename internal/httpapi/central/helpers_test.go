package central_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// These tests drive surface A end to end: the real server (testenv: dev
// mode, the in-memory store under the encryption layer) behind httptest
// on 127.0.0.1, with a fake clock and a discarding logger. Each case that
// changes state gets a server of its own, so cases run in parallel and
// never see each other's state.

const rootToken = testenv.RootToken

// t0 is where every fake clock starts.
var t0 = testenv.T0

// publicURL is the base URL the test servers announce.
const publicURL = "https://coffer.example"

// unknownDomain is a well-formed okmsId that no domain has.
const unknownDomain = "0b9f2a6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"

// Headers of the contract (okms-rest.md 1.1, 7, 8.2).
const (
	hQueryID    = "X-Ovh-QueryID"
	hRequestID  = "X-Request-Id"
	hPageSize   = "X-Pagination-Size"
	hCursor     = "X-Pagination-Cursor"
	hCursorNext = "X-Pagination-Cursor-Next"
)

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
	return newEnvLogging(t, slog.New(slog.DiscardHandler))
}

// newEnvLogging is newEnv with the server's logger (which also receives
// the audit events).
func newEnvLogging(t *testing.T, log *slog.Logger) *env {
	t.Helper()
	te := testenv.Start(t, testenv.Configure(func(c *server.Config) { c.Logger, c.PublicURL = log, publicURL }))
	return &env{t: t, srv: te.Server, ts: te.HTTP, clock: te.Clock, domain: te.Domain}
}

// request is one HTTP request.
type request struct {
	method string
	// target is the escaped URL after /v2/okms/resource/{okmsId}
	// ("/secret/a%2Fb"), or an absolute path starting with /v2/ or /api/
	// (surface B) in which {okmsId} is replaced by the domain.
	target string
	okmsID string // "" is the server's domain
	// header adds request headers; an empty value removes the header.
	// Authorization: Bearer root is sent unless removed or replaced, and
	// Content-Type: application/json with a body.
	header  map[string]string
	body    string
	chunked bool // send the body without Content-Length
}

// response is what came back, body read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (e *env) url(rq request) string {
	domain := cmp.Or(rq.okmsID, e.domain)
	if strings.HasPrefix(rq.target, "/v2/") || strings.HasPrefix(rq.target, "/api/") {
		return e.ts.URL + strings.ReplaceAll(rq.target, "{okmsId}", domain)
	}
	return e.ts.URL + "/v2/okms/resource/" + domain + rq.target
}

func (e *env) send(rq request) *response {
	e.t.Helper()
	return fromWire(wiretest.Must(e.t, e.ts.Client(), e.wire(rq)))
}

// wire is rq as it goes out: Authorization: Bearer root, and
// Content-Type: application/json with a body, unless rq.header says
// otherwise. A redirect is an answer of its own: surface A never sends
// one.
func (e *env) wire(rq request) wiretest.Request {
	def := map[string]string{"Authorization": "Bearer " + rootToken}
	if rq.body != "" {
		def["Content-Type"] = "application/json"
	}
	return wiretest.Request{Method: rq.method, URL: e.url(rq), Default: def, Header: rq.header,
		Body: rq.body, Chunked: rq.chunked}
}

// fromWire is r as these tests read it.
func fromWire(r *wiretest.Response) *response {
	return &response{status: r.Status, header: r.Header, body: r.Body}
}

// wire is r as package wiretest reads it.
func (r *response) wire() *wiretest.Response {
	return &wiretest.Response{Status: r.status, Header: r.header, Body: r.body}
}

// call sends a request with the default headers.
func (e *env) call(method, target, body string) *response {
	e.t.Helper()
	return e.send(request{method: method, target: target, body: body})
}

// must sends a request that has to succeed with a 2xx status.
func (e *env) must(method, target, body string) *response {
	e.t.Helper()
	r := e.call(method, target, body)
	if r.status/100 != 2 {
		e.t.Fatalf("%s %s = %d %s, want a success", method, target, r.status, r.body)
	}
	return r
}

// create creates a secret on surface A at path with data (a JSON object)
// and extra members of the body (`"metadata":{...}`).
func (e *env) create(path, data string, extra ...string) {
	e.t.Helper()
	body := fmt.Sprintf(`{"path":%q,"version":{"data":%s}`, path, data)
	for _, x := range extra {
		body += "," + x
	}
	e.must("POST", "/secret", body+"}")
}

// write adds a version holding data through PUT .../secret/{path}.
func (e *env) write(path, data string) {
	e.t.Helper()
	e.must("PUT", "/secret/"+esc(path), `{"version":{"data":`+data+`}}`)
}

// setState changes the state of a version (state in surface A's case).
func (e *env) setState(path string, id int, state string) {
	e.t.Helper()
	e.must("PUT", fmt.Sprintf("/secret/%s/version/%d", esc(path), id), `{"state":"`+state+`"}`)
}

func (e *env) getSecret(target string) secretOut {
	e.t.Helper()
	return decode[secretOut](e.t, e.must("GET", target, ""))
}

// listAll follows the pagination cursor of a listing to its end and
// returns every item.
func (e *env) listAll(target string) []json.RawMessage {
	e.t.Helper()
	var all []json.RawMessage
	cursor := ""
	for range 1000 {
		r := e.send(request{method: "GET", target: target, header: map[string]string{hCursor: cursor}})
		if r.status != http.StatusOK {
			e.t.Fatalf("GET %s (cursor %q) = %d %s", target, cursor, r.status, r.body)
		}
		all = append(all, decode[[]json.RawMessage](e.t, r)...)
		if cursor = r.header.Get(hCursorNext); cursor == "" {
			return all
		}
	}
	e.t.Fatalf("GET %s: the cursor never ends", target)
	return nil
}

// snapshot renders everything a client can read through surface A: the
// domain configuration, every secret with its metadata and every version
// with its data. A refused write must leave it unchanged.
func (e *env) snapshot() string {
	e.t.Helper()
	var b strings.Builder
	b.Write(e.must("GET", "/secretConfig", "").body)
	for _, item := range e.listAll("/secret") {
		var s secretOut
		if err := json.Unmarshal(item, &s); err != nil {
			e.t.Fatalf("decode secret item: %v", err)
		}
		b.WriteString("\n")
		b.Write(item)
		for _, raw := range e.listAll("/secret/" + esc(s.Path) + "/version") {
			var v versionOut
			if err := json.Unmarshal(raw, &v); err != nil {
				e.t.Fatalf("decode version item: %v", err)
			}
			b.WriteString("\n  ")
			b.Write(e.must("GET", fmt.Sprintf("/secret/%s/version/%d?includeData=true", esc(s.Path), v.ID), "").body)
		}
	}
	return b.String()
}

func esc(path string) string { return url.PathEscape(path) }

func decode[T any](t *testing.T, r *response) T {
	t.Helper()
	return wiretest.Decode[T](t, r.body)
}

// Wire shapes of surface A as the tests read them, written from
// okms-rest.md 5.1 and 5.2 rather than taken from the implementation.

type iamOut struct {
	ID          string            `json:"id"`
	URN         string            `json:"urn"`
	DisplayName string            `json:"displayName"`
	Tags        map[string]string `json:"tags"`
	State       string            `json:"state"`
}

type metadataOut struct {
	CasRequired            bool              `json:"casRequired"`
	CreatedAt              string            `json:"createdAt"`
	UpdatedAt              string            `json:"updatedAt"`
	CurrentVersion         uint32            `json:"currentVersion"`
	OldestVersion          uint32            `json:"oldestVersion"`
	MaxVersions            uint32            `json:"maxVersions"`
	DeactivateVersionAfter string            `json:"deactivateVersionAfter"`
	CustomMetadata         map[string]string `json:"customMetadata"`
}

type versionOut struct {
	ID            uint32          `json:"id"`
	State         string          `json:"state"`
	CreatedAt     string          `json:"createdAt"`
	DeactivatedAt *string         `json:"deactivatedAt"`
	Data          json.RawMessage `json:"data"`
}

type secretOut struct {
	IAM      iamOut      `json:"iam"`
	Path     string      `json:"path"`
	Metadata metadataOut `json:"metadata"`
	Version  *versionOut `json:"version"`
}

type configOut struct {
	CasRequired            bool   `json:"casRequired"`
	DeactivateVersionAfter string `json:"deactivateVersionAfter"`
	MaxVersions            uint32 `json:"maxVersions"`
}

type ovhError struct {
	Class   string `json:"class"`
	Message string `json:"message"`
}

// classStatus gives the status of each OVH error class of okms-rest.md
// 8.2, by prefix; 405 is coffer's own.
var classStatus = []struct {
	prefix string
	status int
}{
	{"Client::BadRequest::", 400},
	{"Client::Unauthorized", 401},
	{"Client::Forbidden", 403},
	{"Client::NotFound::", 404},
	{"Client::MethodNotAllowed", 405},
	{"Client::Conflict::", 409},
	{"Client::PayloadTooLarge", 413},
	{"Client::TooManyRequests", 429},
	{"Server::InternalServerError", 500},
	{"Server::ServiceUnavailable", 503},
}

var (
	uuidRE = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
)

// contract is what every response of surface A carries (okms-rest.md
// 1.1, 2.8, 8.2): the common checks of wiretest.Contract, X-Ovh-QueryID
// equal to X-Request-Id, times in the members named *At, and for errors
// the OVH envelope.
var contract = wiretest.Contract{QueryID: true, TimeMember: regexp.MustCompile(`At$`), Envelope: ovhEnvelope}

// ovhEnvelope checks an error body: exactly {class, message}, with the
// class given and a status that matches it.
func ovhEnvelope(t *testing.T, r *wiretest.Response, _, class string) {
	t.Helper()
	var env map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &env); err != nil {
		t.Fatalf("error body is not an object: %s", r.Body)
	}
	if keys := slices.Sorted(maps.Keys(env)); !slices.Equal(keys, []string{"class", "message"}) {
		t.Errorf("error envelope members = %v, want class, message", keys)
	}
	e := wiretest.Decode[ovhError](t, r.Body)
	if e.Class != class {
		t.Errorf("class = %q, want %q; body %s", e.Class, class, r.Body)
	}
	if e.Message == "" {
		t.Errorf("message is empty: %s", r.Body)
	}
	known := false
	for _, c := range classStatus {
		if strings.HasPrefix(e.Class, c.prefix) {
			known = true
			if c.status != r.Status {
				t.Errorf("class %s answered with %d; okms-rest.md 8.2 says %d", e.Class, r.Status, c.status)
			}
		}
	}
	if !known {
		t.Errorf("class %q is not one of okms-rest.md 8.2", e.Class)
	}
}

// expect checks the status and what every response of surface A carries
// (see contract). It stops the test if the status is not the one
// expected.
func (r *response) expect(t *testing.T, status int, class string) {
	t.Helper()
	contract.Expect(t, r.wire(), status, class)
}

// errorOf decodes an error response.
func errorOf(t *testing.T, r *response) ovhError {
	t.Helper()
	return decode[ovhError](t, r)
}

// Golden files (wiretest.Golden): testdata/<name>.golden holds the
// status line, the headers that are part of the contract and the body
// byte for byte, with the request id, the okmsId and the secret ids
// (random per server and per secret) normalised.

var pinnedHeaders = []string{"Cache-Control", "Content-Type", hCursorNext, hQueryID, hRequestID}

func (e *env) golden(t *testing.T, name string, r *response) {
	t.Helper()
	rid := r.header.Get(hRequestID)
	wiretest.Golden(t, name, wiretest.Render(r.wire(), pinnedHeaders, func(h, s string) string {
		if h == hCursorNext {
			return "<cursor>"
		}
		if rid != "" {
			s = strings.ReplaceAll(s, rid, "<request-id>")
		}
		s = strings.ReplaceAll(s, e.domain, "<okms-id>")
		return uuidRE.ReplaceAllString(s, "<secret-id>")
	}))
}

// TestMain reports golden files no test wrote.
func TestMain(m *testing.M) { wiretest.Main(m, false) }

// apiCase is one request of an endpoint table and what must come back.
type apiCase struct {
	name   string
	setup  func(e *env) // state before the request; every call must succeed
	method string       // default: the table's method
	target string       // see request.target
	okmsID string
	header map[string]string
	// headerFn adds headers known only once setup has run (a cursor).
	headerFn func(e *env) map[string]string
	body     string
	chunked  bool
	status   int
	class    string // OVH error class when status >= 400
	golden   string // testdata/<golden>.golden pins the response
	check    func(t *testing.T, e *env, r *response)
}

// runCases runs a table, each case on a server of its own, with the
// table's method and target unless the case names its own. A case name
// starts with the expected status ("400/cas mismatch"). After a refused
// write, everything readable must be as it was before the request.
func runCases(t *testing.T, method, target string, cases []apiCase) {
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
				rq := request{target: cmp.Or(tc.target, target), okmsID: tc.okmsID, header: maps.Clone(tc.header),
					body: tc.body, chunked: tc.chunked}
				if tc.headerFn != nil {
					if rq.header == nil {
						rq.header = map[string]string{}
					}
					maps.Copy(rq.header, tc.headerFn(e))
				}
				return e.wire(rq)
			}}
		if tc.check != nil {
			wc[i].Check = func(t *testing.T, e *env, r *wiretest.Response) { tc.check(t, e, fromWire(r)) }
		}
	}
	table.Run(t, wc)
}

// Classes used by many tables.
const (
	clsUnauthorized = "Client::Unauthorized"
	clsBadJSON      = "Client::BadRequest::RequestBodyInvalidJson"
	clsDomain       = "Client::NotFound::DomainNotFound"
	clsNotFound     = "Client::NotFound::SecretNotFound"
	clsBadPath      = "Client::BadRequest::SecretPathInvalidCharacter"
)

// commonCases are the cases every route of surface A shares (okms-rest.md
// 1, 5.1, 8.2): bearer tokens only, a missing or wrong token, a malformed
// and an unknown okmsId. setup, target and body make a valid request
// answered with ok. pin writes the golden files of the error envelopes.
func commonCases(setup func(*env), target, body string, ok int, pin bool) []apiCase {
	g := func(name string) string {
		if pin {
			return name
		}
		return ""
	}
	return []apiCase{
		{name: fmt.Sprintf("%d/Authorization: Bearer token", ok), setup: setup, target: target, body: body, status: ok},
		{name: fmt.Sprintf("%d/lower-case bearer scheme", ok), setup: setup, target: target, body: body, status: ok,
			header: map[string]string{"Authorization": "bearer " + rootToken}},
		{name: "401/no token", setup: setup, target: target, body: body, status: 401, class: clsUnauthorized,
			header: map[string]string{"Authorization": ""}, golden: g("error_Unauthorized")},
		{name: "401/wrong bearer token", setup: setup, target: target, body: body, status: 401, class: clsUnauthorized,
			header: map[string]string{"Authorization": "Bearer not-the-root-token"}},
		// okms-rest.md 1: surface A accepts bearer tokens only.
		{name: "401/X-Vault-Token only", setup: setup, target: target, body: body, status: 401, class: clsUnauthorized,
			header: map[string]string{"Authorization": "", "X-Vault-Token": rootToken}},
		{name: "401/basic credentials", setup: setup, target: target, body: body, status: 401, class: clsUnauthorized,
			header: map[string]string{"Authorization": "Basic cm9vdDpyb290"}},
		// okms-rest.md 5.1: OVH application-key signatures are not supported.
		{name: "401/OVH application signature", setup: setup, target: target, body: body, status: 401, class: clsUnauthorized,
			header: map[string]string{"Authorization": "", "X-Ovh-Application": "app", "X-Ovh-Consumer": "ck",
				"X-Ovh-Timestamp": "1767949200", "X-Ovh-Signature": "$1$0000000000000000000000000000000000000000"}},
		{name: "401/malformed okmsId without a token", setup: setup, target: target, body: body, status: 401,
			class: clsUnauthorized, okmsID: "not-a-uuid", header: map[string]string{"Authorization": ""}},
		{name: "404/malformed okmsId", setup: setup, target: target, body: body, status: 404, class: clsDomain,
			okmsID: "not-a-uuid", golden: g("error_DomainNotFound")},
		{name: "404/unknown okmsId", setup: setup, target: target, body: body, status: 404, class: clsDomain,
			okmsID: unknownDomain},
	}
}

// bodyCases are the cases every route with a JSON body shares
// (okms-rest.md 1.1): bodies that are not one acceptable JSON object.
func bodyCases(setup func(*env), target string, pin bool) []apiCase {
	g := func(name string) string {
		if pin {
			return name
		}
		return ""
	}
	huge := `{"pad":"` + strings.Repeat("x", 1<<20) + `"}`
	return []apiCase{
		{name: "400/invalid JSON", setup: setup, target: target, body: `{"a":`, status: 400, class: clsBadJSON,
			golden: g("error_RequestBodyInvalidJson")},
		{name: "400/empty body", setup: setup, target: target, status: 400, class: clsBadJSON},
		{name: "400/body is an array", setup: setup, target: target, body: `[{}]`, status: 400, class: clsBadJSON},
		{name: "400/duplicate member name in the body", setup: setup, target: target, body: `{"x":1,"x":2}`, status: 400, class: clsBadJSON},
		{name: "400/form-encoded body", setup: setup, target: target, body: "path=a&data=b", status: 400, class: clsBadJSON,
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		{name: "413/body over 1 MiB", setup: setup, target: target, body: huge, status: 413, class: "Client::PayloadTooLarge",
			golden: g("error_PayloadTooLarge")},
		{name: "413/chunked body over 1 MiB", setup: setup, target: target, body: huge, chunked: true, status: 413,
			class: "Client::PayloadTooLarge"},
	}
}

// at returns t0 + d formatted as surfaces A and B do.
func at(d time.Duration) string { return t0.Add(d).UTC().Format("2006-01-02T15:04:05Z") }

// want compares got and want with a message naming what was read.
func want[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// members returns the member names of a JSON object body, sorted.
func members(t *testing.T, raw []byte) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not a JSON object: %s", raw)
	}
	return slices.Sorted(maps.Keys(m))
}

// wantMembers checks the member names of a JSON object.
func wantMembers(t *testing.T, what string, raw []byte, names ...string) {
	t.Helper()
	slices.Sort(names)
	if got := members(t, raw); !slices.Equal(got, names) {
		t.Errorf("%s members = %v, want %v", what, got, names)
	}
}
