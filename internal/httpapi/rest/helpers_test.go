package rest_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// These tests drive surface B end to end: the real server (testenv: dev
// mode, the in-memory store under the encryption layer) behind httptest
// on 127.0.0.1, with a fake clock. Each case gets a server of its own, so
// cases run in parallel and never see each other's state.

// rootToken is the servers' root token and unknownDomain a well-formed
// okmsId that no domain has.
const (
	rootToken     = testenv.RootToken
	unknownDomain = "0b9f2a6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"
)

// raceEnabled is set under the race detector (race_test.go): cases that
// only repeat a sequential loop thousands of times are skipped there.
var raceEnabled bool

// t0 is where every fake clock starts.
var t0 = testenv.T0

// request and response are those of package wiretest. A request's Target
// is the escaped URL after /api/{okmsId}/v2 ("/secret/a%2Fb"), or an
// absolute path starting with /api/ or /v2/ (surface A) in which
// {okmsId} is replaced by the domain; its Domain is the okmsId ("" the
// server's).
type (
	request  = wiretest.Request
	response = wiretest.Response
)

// env is one running server and the test that owns it; its Client sends
// to surface B.
type env struct {
	*testenv.Env
	t *testing.T
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{Env: testenv.Start(t), t: t}
	e.Resolve, e.Expect = e.resolve, contract.Expect
	return e
}

// bind returns a copy of e for test t.
func (e *env) bind(t *testing.T) *env { return &env{Env: e.Env.Bind(t), t: t} }

// resolve completes a request: its URL, Authorization: Bearer root, and
// Content-Type: application/json with a body, unless its Header says
// otherwise. A redirect is an answer of its own: surface B never sends
// one.
func (e *env) resolve(rq *request) {
	domain := cmp.Or(rq.Domain, e.Domain)
	if strings.HasPrefix(rq.Target, "/api/") || strings.HasPrefix(rq.Target, "/v2/") {
		rq.URL = e.HTTP.URL + strings.ReplaceAll(rq.Target, "{okmsId}", domain)
	} else {
		rq.URL = e.HTTP.URL + "/api/" + domain + "/v2" + rq.Target
	}
	wiretest.Bearer(rq, rootToken)
}

// writeN adds n versions {"n":i}.
func (e *env) writeN(path string, n int) {
	e.t.Helper()
	for i := range n {
		e.WriteSecret(path, fmt.Sprintf(`{"n":%d}`, i))
	}
}

func (e *env) getSecret(target string) api.GetSecretResponse {
	e.t.Helper()
	return wiretest.DecodeBody[api.GetSecretResponse](e.t, e.Must("GET", target, ""))
}

func (e *env) getVersion(path string, id int) api.SecretVersion {
	e.t.Helper()
	return wiretest.DecodeBody[api.SecretVersion](e.t, e.Must("GET", fmt.Sprintf("/secret/%s/version/%d?includeData=true", esc(path), id), ""))
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

// listAll returns every item of a listing, following its cursor.
func (e *env) listAll(target string) []json.RawMessage {
	return e.ListAll(target, api.HeaderCursor, api.HeaderCursorNext)
}

// snapshot renders everything a client can read: the domain
// configuration, every secret with its metadata and every version with
// its data. A refused write must leave it unchanged.
func (e *env) Snapshot() string {
	e.t.Helper()
	var b strings.Builder
	b.Write(e.Must("GET", "/secretConfig", "").Body)
	for _, item := range e.listAll("/secret") {
		var s api.GetSecretResponse
		if err := json.Unmarshal(item, &s); err != nil {
			e.t.Fatalf("decode secret item: %v", err)
		}
		b.WriteString("\n")
		b.Write(item)
		for _, id := range e.versionIDs(s.Path) {
			b.WriteString("\n  ")
			b.Write(e.Must("GET", fmt.Sprintf("/secret/%s/version/%d?includeData=true", esc(s.Path), id), "").Body)
		}
	}
	return b.String()
}

func esc(path string) string { return url.PathEscape(path) }

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
	wiretest.Members(t, r.Body, "error_code", "error_id", "errors", "request_id")
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

// errorOf decodes an error response.
func errorOf(t *testing.T, r *response) api.ErrorResponse {
	t.Helper()
	return wiretest.DecodeBody[api.ErrorResponse](t, r)
}

// Golden files (wiretest.Golden): testdata/<name>.golden holds the
// status line, the headers that are part of the contract and the body
// byte for byte, with the request id and the okmsId (random per server)
// normalised.

var pinnedHeaders = []string{"Cache-Control", "Content-Type", api.HeaderCursorNext, "X-Request-Id"}

func (e *env) Golden(t *testing.T, name string, r *response) {
	t.Helper()
	rid := r.Header.Get("X-Request-Id")
	wiretest.Golden(t, name, wiretest.Render(r, pinnedHeaders, func(h, s string) string {
		if h == api.HeaderCursorNext {
			return "<cursor>"
		}
		if rid != "" {
			s = strings.ReplaceAll(s, rid, "<request-id>")
		}
		return strings.ReplaceAll(s, e.Domain, "<okms-id>")
	}))
}

// TestMain reports golden files no test wrote; a run under the race
// detector skips cases and so is never a full one.
func TestMain(m *testing.M) { wiretest.Main(m, raceEnabled) }

// apiCase is one request of an endpoint table and what must come back:
// its Err is the error_id when its status is 400 or more; its Target is
// as a request's.
type apiCase = wiretest.Case[*env]

// runCases runs a table, each case on a server of its own. A case name
// starts with the expected status ("400/cas mismatch"). After a refused
// write, everything readable must be as it was before the request.
func runCases(t *testing.T, method string, cases []apiCase) {
	t.Helper()
	wiretest.Table[*env]{Method: method, New: newEnv, Expect: contract.Expect}.Run(t, cases)
}

// runShared runs a table of reads on one server prepared once by setup:
// cases without a setup of their own share it (they must not change
// anything, the clock included); the others get a server of their own.
func runShared(t *testing.T, setup func(*env), cases []apiCase) {
	t.Helper()
	shared := newEnv(t)
	setup(shared)
	wiretest.Table[*env]{Method: http.MethodGet, New: newEnv, Shared: shared.bind, Expect: contract.Expect}.Run(t, cases)
}

// commonCases are the cases every endpoint shares (okms-rest.md 1, 8.1):
// both token headers, a missing or wrong token, a malformed and an unknown
// okmsId. setup, target and body make a valid request answered with ok.
// pin writes the golden files of the two error envelopes.
func commonCases(setup func(*env), target, body string, ok int, pin bool) []apiCase {
	g := wiretest.GoldenIf(pin)
	const unauthenticated, notFound = "Unauthenticated", "DomainNotFound"
	cases := wiretest.TokenCases(setup, target, body, ok, rootToken, unauthenticated, g("error_Unauthenticated"))
	cases = append(cases, wiretest.DomainCases(setup, target, body, unauthenticated, notFound, g("error_DomainNotFound"), unknownDomain)...)
	return append(cases,
		apiCase{Name: fmt.Sprintf("%d/X-Vault-Token", ok), Setup: setup, Target: target, Body: body, Status: ok,
			Header: map[string]string{"Authorization": "", "X-Vault-Token": rootToken}},
		apiCase{Name: "401/wrong X-Vault-Token", Setup: setup, Target: target, Body: body, Status: 401, Err: unauthenticated,
			Header: map[string]string{"Authorization": "", "X-Vault-Token": "not-the-root-token"}},
		apiCase{Name: "404/okmsId that is a uuid with its dashes removed", Setup: setup, Target: target, Body: body,
			Status: 404, Err: notFound, Domain: strings.ReplaceAll(unknownDomain, "-", "")},
	)
}

// bodyCases are the cases every endpoint with a JSON body shares
// (okms-rest.md 1.1): bodies that are not one acceptable JSON object.
func bodyCases(setup func(*env), target string, pin bool) []apiCase {
	g := wiretest.GoldenIf(pin)
	const bad = "RequestBodyInvalidJson"
	return append(wiretest.BodyCases(setup, target, bad, g("error_RequestBodyInvalidJson"), "RequestBodyTooLarge", g("error_RequestBodyTooLarge")),
		apiCase{Name: "400/two JSON values", Setup: setup, Target: target, Body: `{} {}`, Status: 400, Err: bad},
		apiCase{Name: "400/body is a string", Setup: setup, Target: target, Body: `"x"`, Status: 400, Err: bad},
		apiCase{Name: "400/invalid UTF-8 outside data", Setup: setup, Target: target, Body: "{\"x\":\"\xff\"}", Status: 400, Err: bad},
		apiCase{Name: "400/form-encoded body with a charset", Setup: setup, Target: target, Body: "a=b", Status: 400, Err: bad,
			Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}},
	)
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
	wiretest.NoMember(t, r.Body, name)
}
