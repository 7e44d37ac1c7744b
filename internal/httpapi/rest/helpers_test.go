package rest_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// These tests drive surface B end to end: the real server (testenv: dev
// mode, the in-memory store under the encryption layer) behind httptest
// on 127.0.0.1, with a fake clock. Each case gets a server of its own, so
// cases run in parallel and never see each other's state.

const rootToken = testenv.RootToken

// raceEnabled is set under the race detector (race_test.go): cases that
// only repeat a sequential loop thousands of times are skipped there.
var raceEnabled bool

// t0 is where every fake clock starts.
var t0 = testenv.T0

// unknownDomain is a well-formed okmsId that no domain has.
const unknownDomain = "0b9f2a6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"

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
	te := testenv.Start(t)
	return &env{t: t, srv: te.Server, ts: te.HTTP, clock: te.Clock, domain: te.Domain}
}

// request is one HTTP request to surface B.
type request struct {
	method string
	// target is the escaped URL after /api/{okmsId}/v2 ("/secret/a%2Fb"),
	// or an absolute path starting with /api/ or /v2/ (surface A) in which
	// {okmsId} is replaced by the domain.
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
	if strings.HasPrefix(rq.target, "/api/") || strings.HasPrefix(rq.target, "/v2/") {
		return e.ts.URL + strings.ReplaceAll(rq.target, "{okmsId}", domain)
	}
	return e.ts.URL + "/api/" + domain + "/v2" + rq.target
}

func (e *env) send(rq request) *response {
	e.t.Helper()
	r, err := e.try(rq)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// try is send for goroutines other than the test's: it returns its error.
func (e *env) try(rq request) (*response, error) {
	r, err := wiretest.Do(e.t.Context(), e.ts.Client(), e.wire(rq))
	if err != nil {
		return nil, err
	}
	return &response{status: r.Status, header: r.Header, body: r.Body}, nil
}

// wire is rq as it goes out: Authorization: Bearer root, and
// Content-Type: application/json with a body, unless rq.header says
// otherwise. A redirect is an answer of its own: surface B never sends
// one.
func (e *env) wire(rq request) wiretest.Request {
	def := map[string]string{"Authorization": "Bearer " + rootToken}
	if rq.body != "" {
		def["Content-Type"] = "application/json"
	}
	return wiretest.Request{Method: rq.method, URL: e.url(rq), Default: def, Header: rq.header,
		Body: rq.body, Chunked: rq.chunked}
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

// create creates a secret at path with data (a JSON object) and extra
// members of the body (`"metadata":{...}`).
func (e *env) create(path, data string, extra ...string) {
	e.t.Helper()
	body := fmt.Sprintf(`{"path":%q,"version":{"data":%s}`, path, data)
	for _, x := range extra {
		body += "," + x
	}
	e.must("POST", "/secret", body+"}")
}

// write adds a version holding data through PUT /secret/{path}.
func (e *env) write(path, data string) {
	e.t.Helper()
	e.must("PUT", "/secret/"+esc(path), `{"version":{"data":`+data+`}}`)
}

// writeN adds n versions {"n":i}.
func (e *env) writeN(path string, n int) {
	e.t.Helper()
	for i := range n {
		e.write(path, fmt.Sprintf(`{"n":%d}`, i))
	}
}

// setState changes the state of a version.
func (e *env) setState(path string, id int, state string) {
	e.t.Helper()
	e.must("PUT", fmt.Sprintf("/secret/%s/version/%d", esc(path), id), `{"state":"`+state+`"}`)
}

func (e *env) getSecret(target string) api.GetSecretResponse {
	e.t.Helper()
	return decode[api.GetSecretResponse](e.t, e.must("GET", target, ""))
}

func (e *env) getVersion(path string, id int) api.SecretVersion {
	e.t.Helper()
	return decode[api.SecretVersion](e.t, e.must("GET", fmt.Sprintf("/secret/%s/version/%d?includeData=true", esc(path), id), ""))
}

// versionIDs returns the ids of the versions listed for path.
func (e *env) versionIDs(path string) []uint32 {
	e.t.Helper()
	var ids []uint32
	for _, raw := range e.listAll("/secret/" + esc(path) + "/version") {
		var v api.SecretVersion
		if err := json.Unmarshal(raw, &v); err != nil {
			e.t.Fatalf("decode version item: %v", err)
		}
		ids = append(ids, v.ID)
	}
	return ids
}

// listAll follows the pagination cursor of a listing to its end and
// returns every item.
func (e *env) listAll(target string) []json.RawMessage {
	e.t.Helper()
	var all []json.RawMessage
	cursor := ""
	for range 1000 {
		r := e.send(request{method: "GET", target: target, header: map[string]string{api.HeaderCursor: cursor}})
		if r.status != http.StatusOK {
			e.t.Fatalf("GET %s (cursor %q) = %d %s", target, cursor, r.status, r.body)
		}
		all = append(all, decode[[]json.RawMessage](e.t, r)...)
		if cursor = r.header.Get(api.HeaderCursorNext); cursor == "" {
			return all
		}
	}
	e.t.Fatalf("GET %s: the cursor never ends", target)
	return nil
}

// snapshot renders everything a client can read: the domain
// configuration, every secret with its metadata and every version with
// its data. A refused write must leave it unchanged.
func (e *env) snapshot() string {
	e.t.Helper()
	var b strings.Builder
	b.Write(e.must("GET", "/secretConfig", "").body)
	for _, item := range e.listAll("/secret") {
		var s api.GetSecretResponse
		if err := json.Unmarshal(item, &s); err != nil {
			e.t.Fatalf("decode secret item: %v", err)
		}
		b.WriteString("\n")
		b.Write(item)
		for _, id := range e.versionIDs(s.Path) {
			b.WriteString("\n  ")
			b.Write(e.must("GET", fmt.Sprintf("/secret/%s/version/%d?includeData=true", esc(s.Path), id), "").body)
		}
	}
	return b.String()
}

func esc(path string) string { return url.PathEscape(path) }

func decode[T any](t *testing.T, r *response) T {
	t.Helper()
	return wiretest.Decode[T](t, r.body)
}

// errorDef is a row of the error table of okms-rest.md 8.1, copied here
// from the spec rather than from the implementation.
type errorDef struct {
	status int
	code   int32
}

var specErrors = map[string]errorDef{
	"SecretNotFound":                              {404, 17125377},
	"SecretVersionNotFound":                       {404, 17125378},
	"DomainNotFound":                              {404, 16994305},
	"RouteNotFound":                               {404, 50417665},
	"MethodNotAllowed":                            {405, 50405378},
	"RequestBodyInvalidJson":                      {400, 50405379},
	"RequestBodyTooLarge":                         {413, 50405380},
	"PaginationCursorInvalid":                     {400, 50405382},
	"PaginationSizeInvalid":                       {400, 50405383},
	"QueryParameterInvalid":                       {400, 50405384},
	"Unauthenticated":                             {401, 50475011},
	"Forbidden":                                   {403, 16924673},
	"TooManyRequests":                             {429, 50434049},
	"ServiceUnavailable":                          {503, 50425858},
	"InternalError":                               {500, 50401281},
	"SecretAlreadyExists":                         {409, 17145857},
	"SecretFieldRequired":                         {400, 17113089},
	"SecretPathInvalidCharacter":                  {400, 17113090},
	"SecretPathMaxExceeded":                       {400, 17113091},
	"SecretDataInvalidKeyValueJson":               {400, 17113092},
	"SecretDataMaxExceeded":                       {400, 17113093},
	"SecretCustomMetadataMaxExceeded":             {400, 17113094},
	"SecretCustomMetadataKeyInvalidCharacter":     {400, 17113095},
	"SecretCustomMetadataKeyMaxExceeded":          {400, 17113096},
	"SecretCustomMetadataKeyMinRequired":          {400, 17113097},
	"SecretCustomMetadataValueInvalidCharacter":   {400, 17113098},
	"SecretCustomMetadataValueMaxExceeded":        {400, 17113099},
	"SecretCustomMetadataValueMinRequired":        {400, 17113100},
	"SecretDeactivateVersionAfterInvalidDuration": {400, 17113101},
	"SecretMaxVersionsMaxExceeded":                {400, 17113102},
	"SecretMaxVersionsMinRequired":                {400, 17113103},
	"SecretVersionMaxExceeded":                    {400, 17113104},
	"SecretVersionMinRequired":                    {400, 17113105},
	"SecretCasMaxExceeded":                        {400, 17113106},
	"SecretCasMinRequired":                        {400, 17113107},
	"SecretVersionStateInvalid":                   {400, 17113108},
	"SecretCasRequired":                           {400, 17137665},
	"SecretCasMismatch":                           {400, 17137666},
	"SecretVersionStateTransitionInvalid":         {400, 17137667},
	"SecretVersionLimitReached":                   {400, 17137668},
}

var (
	uuidV4    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	wholeSecZ = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)
)

// contract is what every response of surface B carries (okms-rest.md
// 1.1, 2.8, 8.1): the common checks of wiretest.Contract, times in the
// members named *At, and for errors the OKMS envelope.
var contract = wiretest.Contract{TimeMember: regexp.MustCompile(`At$`), Envelope: okmsEnvelope}

// okmsEnvelope checks an error body: exactly error_code, error_id, errors
// and request_id, with the id, code and status of the spec's table and
// the request id of the header.
func okmsEnvelope(t *testing.T, r *wiretest.Response, rid, errID string) {
	t.Helper()
	var env map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &env); err != nil {
		t.Fatalf("error body is not an object: %s", r.Body)
	}
	if keys := slices.Sorted(maps.Keys(env)); !slices.Equal(keys, []string{"error_code", "error_id", "errors", "request_id"}) {
		t.Errorf("error envelope members = %v, want error_code, error_id, errors, request_id", keys)
	}
	e := wiretest.Decode[api.ErrorResponse](t, r.Body)
	if e.ErrorID != errID {
		t.Errorf("error_id = %q, want %q; body %s", e.ErrorID, errID, r.Body)
	}
	def, ok := specErrors[e.ErrorID]
	switch {
	case !ok:
		t.Errorf("error_id %q is not in the table of okms-rest.md 8.1", e.ErrorID)
	case def.code != e.ErrorCode || def.status != r.Status:
		t.Errorf("%s: status %d, error_code %d; the spec says %d, %d", e.ErrorID, r.Status, e.ErrorCode, def.status, def.code)
	}
	if e.RequestID != rid {
		t.Errorf("request_id = %q, X-Request-Id = %q: want the same", e.RequestID, rid)
	}
	if len(e.Errors) == 0 || slices.Contains(e.Errors, "") {
		t.Errorf("errors = %q, want at least one message, none empty", e.Errors)
	}
}

// expect checks the status and what every response of surface B carries
// (see contract). It stops the test if the status is not the one
// expected.
func (r *response) expect(t *testing.T, status int, errID string) {
	t.Helper()
	contract.Expect(t, r.wire(), status, errID)
}

// wire is r as package wiretest reads it.
func (r *response) wire() *wiretest.Response {
	return &wiretest.Response{Status: r.status, Header: r.header, Body: r.body}
}

// errorOf decodes an error response.
func errorOf(t *testing.T, r *response) api.ErrorResponse {
	t.Helper()
	return decode[api.ErrorResponse](t, r)
}

// Golden files (wiretest.Golden): testdata/<name>.golden holds the
// status line, the headers that are part of the contract and the body
// byte for byte, with the request id and the okmsId (random per server)
// normalised.

var pinnedHeaders = []string{"Cache-Control", "Content-Type", api.HeaderCursorNext, "X-Request-Id"}

func (e *env) golden(t *testing.T, name string, r *response) {
	t.Helper()
	rid := r.header.Get("X-Request-Id")
	wiretest.Golden(t, name, wiretest.Render(r.wire(), pinnedHeaders, func(h, s string) string {
		if h == api.HeaderCursorNext {
			return "<cursor>"
		}
		if rid != "" {
			s = strings.ReplaceAll(s, rid, "<request-id>")
		}
		return strings.ReplaceAll(s, e.domain, "<okms-id>")
	}))
}

// TestMain reports golden files no test wrote; a run under the race
// detector skips cases and so is never a full one.
func TestMain(m *testing.M) { wiretest.Main(m, raceEnabled) }

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
	errID    string // error_id when status >= 400
	golden   string // testdata/<golden>.golden pins the response
	check    func(t *testing.T, e *env, r *response)
}

// runCases runs a table, each case on a server of its own. A case name
// starts with the expected status ("400/cas mismatch"). After a refused
// write, everything readable must be as it was before the request.
func runCases(t *testing.T, method string, cases []apiCase) {
	t.Helper()
	runTable(t, method, nil, cases)
}

// runShared runs a table of reads on one server prepared once by setup:
// cases without a setup of their own share it (they must not change
// anything, the clock included); the others get a server of their own.
func runShared(t *testing.T, setup func(*env), cases []apiCase) {
	t.Helper()
	shared := newEnv(t)
	setup(shared)
	runTable(t, http.MethodGet, shared, cases)
}

func runTable(t *testing.T, method string, shared *env, cases []apiCase) {
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
	if shared != nil {
		table.Shared = func(t *testing.T) *env {
			own := *shared
			own.t = t
			return &own
		}
	}
	wc := make([]wiretest.Case[*env], len(cases))
	for i, tc := range cases {
		wc[i] = wiretest.Case[*env]{Name: tc.name, Method: cmp.Or(tc.method, method), Setup: tc.setup,
			Status: tc.status, Err: tc.errID, Golden: tc.golden,
			Request: func(e *env) wiretest.Request {
				rq := request{target: tc.target, okmsID: tc.okmsID, header: maps.Clone(tc.header), body: tc.body, chunked: tc.chunked}
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

// fromWire is r as these tests read it.
func fromWire(r *wiretest.Response) *response {
	return &response{status: r.Status, header: r.Header, body: r.Body}
}

// commonCases are the cases every endpoint shares (okms-rest.md 1, 8.1):
// both token headers, a missing or wrong token, a malformed and an unknown
// okmsId. setup, target and body make a valid request answered with ok.
// pin writes the golden files of the two error envelopes.
func commonCases(setup func(*env), target, body string, ok int, pin bool) []apiCase {
	g := func(name string) string {
		if pin {
			return name
		}
		return ""
	}
	return []apiCase{
		{name: fmt.Sprintf("%d/Authorization: Bearer token", ok), setup: setup, target: target, body: body, status: ok},
		{name: fmt.Sprintf("%d/X-Vault-Token", ok), setup: setup, target: target, body: body, status: ok,
			header: map[string]string{"Authorization": "", "X-Vault-Token": rootToken}},
		{name: fmt.Sprintf("%d/lower-case bearer scheme", ok), setup: setup, target: target, body: body, status: ok,
			header: map[string]string{"Authorization": "bearer " + rootToken}},
		{name: "401/no token", setup: setup, target: target, body: body, status: 401, errID: "Unauthenticated",
			header: map[string]string{"Authorization": ""}, golden: g("error_Unauthenticated")},
		{name: "401/wrong bearer token", setup: setup, target: target, body: body, status: 401, errID: "Unauthenticated",
			header: map[string]string{"Authorization": "Bearer not-the-root-token"}},
		{name: "401/wrong X-Vault-Token", setup: setup, target: target, body: body, status: 401, errID: "Unauthenticated",
			header: map[string]string{"Authorization": "", "X-Vault-Token": "not-the-root-token"}},
		{name: "401/basic credentials", setup: setup, target: target, body: body, status: 401, errID: "Unauthenticated",
			header: map[string]string{"Authorization": "Basic cm9vdDpyb290"}},
		{name: "401/malformed okmsId without a token", setup: setup, target: target, body: body, status: 401,
			errID: "Unauthenticated", okmsID: "not-a-uuid", header: map[string]string{"Authorization": ""}},
		{name: "404/malformed okmsId", setup: setup, target: target, body: body, status: 404, errID: "DomainNotFound",
			okmsID: "not-a-uuid", golden: g("error_DomainNotFound")},
		{name: "404/okmsId that is a uuid with its dashes removed", setup: setup, target: target, body: body,
			status: 404, errID: "DomainNotFound", okmsID: strings.ReplaceAll(unknownDomain, "-", "")},
		{name: "404/unknown okmsId", setup: setup, target: target, body: body, status: 404, errID: "DomainNotFound",
			okmsID: unknownDomain},
	}
}

// bodyCases are the cases every endpoint with a JSON body shares
// (okms-rest.md 1.1): bodies that are not one acceptable JSON object.
func bodyCases(setup func(*env), target string, pin bool) []apiCase {
	g := func(name string) string {
		if pin {
			return name
		}
		return ""
	}
	huge := `{"pad":"` + strings.Repeat("x", 1<<20) + `"}`
	const bad = "RequestBodyInvalidJson"
	return []apiCase{
		{name: "400/invalid JSON", setup: setup, target: target, body: `{"a":`, status: 400, errID: bad, golden: g("error_RequestBodyInvalidJson")},
		{name: "400/empty body", setup: setup, target: target, status: 400, errID: bad},
		{name: "400/two JSON values", setup: setup, target: target, body: `{} {}`, status: 400, errID: bad},
		{name: "400/body is an array", setup: setup, target: target, body: `[{}]`, status: 400, errID: bad},
		{name: "400/body is a string", setup: setup, target: target, body: `"x"`, status: 400, errID: bad},
		{name: "400/duplicate member name in the body", setup: setup, target: target, body: `{"x":1,"x":2}`, status: 400, errID: bad},
		{name: "400/invalid UTF-8 outside data", setup: setup, target: target, body: "{\"x\":\"\xff\"}", status: 400, errID: bad},
		{name: "400/form-encoded body", setup: setup, target: target, body: "path=a&data=b", status: 400, errID: bad,
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		{name: "400/form-encoded body with a charset", setup: setup, target: target, body: "a=b", status: 400, errID: bad,
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}},
		{name: "413/body over 1 MiB", setup: setup, target: target, body: huge, status: 413, errID: "RequestBodyTooLarge",
			golden: g("error_RequestBodyTooLarge")},
		{name: "413/chunked body over 1 MiB", setup: setup, target: target, body: huge, chunked: true, status: 413,
			errID: "RequestBodyTooLarge"},
	}
}

// Data and path builders.

// dataOfSize returns a JSON object whose compact form is n bytes (n >= 8).
func dataOfSize(n int) string { return `{"k":"` + strings.Repeat("x", n-8) + `"}` }

// nested returns a JSON object nested depth levels deep ({} is 1).
func nested(depth int) string {
	return strings.Repeat(`{"a":`, depth-1) + `{}` + strings.Repeat(`}`, depth-1)
}

// pathOfLen returns a valid secret path of n characters with slashes.
func pathOfLen(n int) string {
	return strings.Repeat("seg-abc/", n/8+1)[:n-1] + "z"
}

// seq returns 1..n.
func seq(n int) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(i + 1)
	}
	return out
}

// ts formats a time as surface B does.
func ts(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// at returns t0 + d formatted as surface B does.
func at(d time.Duration) string { return ts(t0.Add(d)) }

func ptr[T any](v T) *T { return &v }

// want compares got and want with a message naming what was read.
func want[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// wantIDs compares version id lists.
func wantIDs(t *testing.T, what string, got, want []uint32) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

// wantData checks the data of a version read with includeData=true: data
// is the exact JSON text, "" means no data member.
func wantData(t *testing.T, what string, v *api.SecretVersion, data string) {
	t.Helper()
	if v == nil {
		t.Fatalf("%s: no version member", what)
	}
	if string(v.Data) != data {
		t.Errorf("%s data = %s, want %q", what, v.Data, data)
	}
}

// noMember fails if a raw JSON object body has member name at top level.
func noMember(t *testing.T, r *response, name string) {
	t.Helper()
	wiretest.NoMember(t, r.body, name)
}
