package central_test

import (
	"cmp"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
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

// rootToken is the servers' root token, publicURL the base URL they
// announce, and unknownDomain a well-formed okmsId that no domain has.
const (
	rootToken     = testenv.RootToken
	publicURL     = "https://coffer.example"
	unknownDomain = "0b9f2a6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"
)

// t0 is where every fake clock starts.
var t0 = testenv.T0

// request and response are those of package wiretest. A request's Target
// is the escaped URL after /v2/okms/resource/{okmsId} ("/secret/a%2Fb"),
// or an absolute path starting with /v2/ or /api/ (surface B) in which
// {okmsId} is replaced by the domain; its Domain is the okmsId ("" the
// server's).
type (
	request  = wiretest.Request
	response = wiretest.Response
)

// Headers of the contract (okms-rest.md 1.1, 7, 8.2).
const (
	hQueryID    = "X-Ovh-QueryID"
	hRequestID  = "X-Request-Id"
	hPageSize   = "X-Pagination-Size"
	hCursor     = "X-Pagination-Cursor"
	hCursorNext = "X-Pagination-Cursor-Next"
)

// env is one running server and the test that owns it; its Client sends
// to surface A.
type env struct {
	*testenv.Env
	t *testing.T
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvLogging(t, slog.New(slog.DiscardHandler))
}

// newEnvLogging is newEnv with the server's logger (which also receives
// the audit events).
func newEnvLogging(t *testing.T, log *slog.Logger) *env {
	t.Helper()
	e := &env{Env: testenv.Start(t, testenv.Configure(func(c *server.Config) { c.Logger, c.PublicURL = log, publicURL })), t: t}
	e.Resolve, e.Expect = e.resolve, contract.Expect
	return e
}

// resolve completes a request: its URL, Authorization: Bearer root, and
// Content-Type: application/json with a body, unless its Header says
// otherwise. A redirect is an answer of its own: surface A never sends
// one.
func (e *env) resolve(rq *request) {
	domain := cmp.Or(rq.Domain, e.Domain)
	rq.URL = e.HTTP.URL + "/v2/okms/resource/" + domain + rq.Target
	if strings.HasPrefix(rq.Target, "/v2/") || strings.HasPrefix(rq.Target, "/api/") {
		rq.URL = e.HTTP.URL + strings.ReplaceAll(rq.Target, "{okmsId}", domain)
	}
	wiretest.Bearer(rq, rootToken)
}

func (e *env) getSecret(target string) secretOut {
	e.t.Helper()
	return wiretest.DecodeBody[secretOut](e.t, e.Must("GET", target, ""))
}

// listAll returns every item of a listing, following its cursor.
func (e *env) listAll(target string) []json.RawMessage {
	return e.ListAll(target, hCursor, hCursorNext)
}

// snapshot renders everything a client can read through surface A: the
// domain configuration, every secret with its metadata and every version
// with its data. A refused write must leave it unchanged.
func (e *env) Snapshot() string {
	e.t.Helper()
	var b strings.Builder
	b.Write(e.Must("GET", "/secretConfig", "").Body)
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
			b.Write(e.Must("GET", fmt.Sprintf("/secret/%s/version/%d?includeData=true", esc(s.Path), v.ID), "").Body)
		}
	}
	return b.String()
}

func esc(path string) string { return url.PathEscape(path) }

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

type ovhError = wiretest.OVHError

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
	e := wiretest.CheckOVHError(t, r, class)
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

// errorOf decodes an error response.
func errorOf(t *testing.T, r *response) ovhError {
	t.Helper()
	return wiretest.DecodeBody[ovhError](t, r)
}

// Golden files (wiretest.Golden): testdata/<name>.golden holds the
// status line, the headers that are part of the contract and the body
// byte for byte, with the request id, the okmsId and the secret ids
// (random per server and per secret) normalised.

var pinnedHeaders = []string{"Cache-Control", "Content-Type", hCursorNext, hQueryID, hRequestID}

func (e *env) Golden(t *testing.T, name string, r *response) {
	t.Helper()
	rid := r.Header.Get(hRequestID)
	wiretest.Golden(t, name, wiretest.Render(r, pinnedHeaders, func(h, s string) string {
		if h == hCursorNext {
			return "<cursor>"
		}
		if rid != "" {
			s = strings.ReplaceAll(s, rid, "<request-id>")
		}
		s = strings.ReplaceAll(s, e.Domain, "<okms-id>")
		return uuidRE.ReplaceAllString(s, "<secret-id>")
	}))
}

// TestMain reports golden files no test wrote.
func TestMain(m *testing.M) { wiretest.Main(m, false) }

// apiCase is one request of an endpoint table and what must come back:
// its Err is the OVH error class when its status is 400 or more; its
// Target is as a request's.
type apiCase = wiretest.Case[*env]

// runCases runs a table, each case on a server of its own, with the
// table's method and target unless the case names its own. A case name
// starts with the expected status ("400/cas mismatch"). After a refused
// write, everything readable must be as it was before the request.
func runCases(t *testing.T, method, target string, cases []apiCase) {
	t.Helper()
	wiretest.Table[*env]{Method: method, Target: target, New: newEnv, Expect: contract.Expect}.Run(t, cases)
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
	g := wiretest.GoldenIf(pin)
	cases := wiretest.TokenCases(setup, target, body, ok, rootToken, clsUnauthorized, g("error_Unauthorized"))
	cases = append(cases, wiretest.DomainCases(setup, target, body, clsUnauthorized, clsDomain, g("error_DomainNotFound"), unknownDomain)...)
	return append(cases,
		// okms-rest.md 1: surface A accepts bearer tokens only.
		apiCase{Name: "401/X-Vault-Token only", Setup: setup, Target: target, Body: body, Status: 401, Err: clsUnauthorized,
			Header: map[string]string{"Authorization": "", "X-Vault-Token": rootToken}},
		// okms-rest.md 5.1: OVH application-key signatures are not supported.
		apiCase{Name: "401/OVH application signature", Setup: setup, Target: target, Body: body, Status: 401, Err: clsUnauthorized,
			Header: map[string]string{"Authorization": "", "X-Ovh-Application": "app", "X-Ovh-Consumer": "ck",
				"X-Ovh-Timestamp": "1767949200", "X-Ovh-Signature": "$1$0000000000000000000000000000000000000000"}},
	)
}

// bodyCases are the cases every route with a JSON body shares
// (okms-rest.md 1.1): bodies that are not one acceptable JSON object.
func bodyCases(setup func(*env), target string, pin bool) []apiCase {
	g := wiretest.GoldenIf(pin)
	return wiretest.BodyCases(setup, target, clsBadJSON, g("error_RequestBodyInvalidJson"),
		"Client::PayloadTooLarge", g("error_PayloadTooLarge"))
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
