package iamapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

const tokensPath = usersPath + "/alice/token"

func withAlice(e *env) { e.createUser("alice", "") }

func TestTokens_Create(t *testing.T) {
	t.Parallel()
	withCI := func(e *env) { withAlice(e); e.createToken("alice", "ci", "") }
	cases := []apiCase{
		{Name: "200/token shown once", Setup: withAlice, Body: `{"name":"ci","description":"CI pipeline"}`, Status: 200,
			Golden: "token_create",
			Check: func(t *testing.T, e *env, r *response) {
				tok := wiretest.DecodeBody[map[string]any](t, r)["token"].(string)
				if !patValue.MatchString(tok) || len(tok) != len("cof_pat_")+43 {
					t.Errorf("token = %q, want cof_pat_ and 43 base64url characters", tok)
				}
				for _, target := range []string{tokensPath, tokensPath + "/ci", usersPath + "/alice"} {
					if body := string(e.Must("GET", target, "").Body); strings.Contains(body, tok) {
						t.Errorf("GET %s shows the token value: %s", target, body)
					}
				}
			}},
		{Name: "200/with an expiry", Setup: withAlice, Body: `{"name":"ci","expiresAt":"2026-02-01T00:00:00Z"}`, Status: 200,
			Golden: "token_create_expiring"},
		{Name: "200/expiry with a fraction and an offset", Setup: withAlice, Status: 200,
			Body: `{"name":"ci","expiresAt":"2026-02-01T01:00:00.75+01:00"}`,
			Check: func(t *testing.T, _ *env, r *response) {
				if got := wiretest.DecodeBody[map[string]any](t, r)["expiresAt"]; got != "2026-02-01T00:00:00Z" {
					t.Errorf("expiresAt = %v, want 2026-02-01T00:00:00Z", got)
				}
			}},
		{Name: "200/null expiry is never", Setup: withAlice, Body: `{"name":"ci","expiresAt":null}`, Status: 200,
			Check: func(t *testing.T, _ *env, r *response) {
				if got := wiretest.DecodeBody[map[string]any](t, r)["expiresAt"]; got != nil {
					t.Errorf("expiresAt = %v, want null", got)
				}
			}},
		{Name: "400/expiry not a date", Setup: withAlice, Body: `{"name":"ci","expiresAt":"tomorrow"}`, Status: 400,
			Err:   "Client::BadRequest::InvalidToken",
			Check: func(t *testing.T, _ *env, r *response) { wantContains(t, "message", message(t, r), "expiresAt") }},
		{Name: "400/expiry in the past", Setup: withAlice, Body: `{"name":"ci","expiresAt":"2026-01-10T08:59:59Z"}`,
			Status: 400, Err: "Client::BadRequest::InvalidToken"},
		{Name: "400/expiresIn is refused, not ignored", Setup: withAlice, Body: `{"name":"ci","expiresIn":3600}`,
			Status: 400, Err: "Client::BadRequest::InvalidToken", Golden: "error_InvalidToken"},
		{Name: "400/bad name", Setup: withAlice, Body: `{"name":"c i"}`, Status: 400, Err: "Client::BadRequest::InvalidToken"},
		{Name: "400/name missing", Setup: withAlice, Body: `{"description":"x"}`, Status: 400,
			Err: "Client::BadRequest::InvalidToken"},
		{Name: "404/unknown user", Target: usersPath + "/bob/token", Body: `{"name":"ci"}`, Status: 404,
			Err: "Client::NotFound::UserNotFound"},
		{Name: "404/malformed login", Target: usersPath + "/b%2Fb/token", Body: `{"name":"ci"}`, Status: 404,
			Err: "Client::NotFound::UserNotFound"},
		{Name: "409/duplicate name", Setup: withCI, Body: `{"name":"ci"}`, Status: 409,
			Err: "Client::Conflict::TokenAlreadyExists", Golden: "error_TokenAlreadyExists"},
		{Name: "200/same name for another user", Setup: func(e *env) { withCI(e); e.createUser("bob", "") },
			Target: usersPath + "/bob/token", Body: `{"name":"ci"}`, Status: 200},
	}
	cases = append(cases, authCases(withAlice, "", `{"name":"ci"}`, 200)...)
	cases = append(cases, bodyCases(withAlice, "")...)
	for i := range cases {
		if cases[i].Target == "" {
			cases[i].Target = tokensPath
		}
	}
	runCases(t, http.MethodPost, cases)
}

func TestTokens_List(t *testing.T) {
	t.Parallel()
	two := func(e *env) {
		withAlice(e)
		e.createToken("alice", "deploy", "")
		e.createToken("alice", "ci", "2027-01-01T00:00:00Z")
	}
	cases := []apiCase{
		{Name: "200/no token", Setup: withAlice, Target: tokensPath, Status: 200},
		{Name: "200/names in order", Setup: two, Target: tokensPath, Status: 200, Golden: "token_list",
			Check: func(t *testing.T, _ *env, r *response) {
				if got := wiretest.DecodeBody[[]string](t, r); !slices.Equal(got, []string{"ci", "deploy"}) {
					t.Errorf("tokens = %q, want [ci deploy]", got)
				}
			}},
		{Name: "404/unknown user", Setup: two, Target: usersPath + "/bob/token", Status: 404,
			Err: "Client::NotFound::UserNotFound"},
	}
	cases = append(cases, authCases(two, tokensPath, "", 200)...)
	runCases(t, http.MethodGet, cases)
}

func TestTokens_Get(t *testing.T) {
	t.Parallel()
	setup := func(e *env) {
		withAlice(e)
		e.Must("POST", tokensPath, `{"name":"ci","description":"CI pipeline","expiresAt":"2027-01-01T00:00:00Z"}`)
	}
	cases := []apiCase{
		{Name: "200/token without its value", Setup: setup, Target: tokensPath + "/ci", Status: 200, Golden: "token_get",
			Check: func(t *testing.T, _ *env, r *response) { noMember(t, r, "token") }},
		{Name: "404/unknown name", Setup: setup, Target: tokensPath + "/cd", Status: 404,
			Err: "Client::NotFound::TokenNotFound", Golden: "error_TokenNotFound"},
		{Name: "404/unknown user", Setup: setup, Target: usersPath + "/bob/token/ci", Status: 404,
			Err: "Client::NotFound::TokenNotFound"},
		{Name: "404/malformed name", Setup: setup, Target: tokensPath + "/c%2Fi", Status: 404,
			Err: "Client::NotFound::TokenNotFound"},
	}
	cases = append(cases, authCases(setup, tokensPath+"/ci", "", 200)...)
	runCases(t, http.MethodGet, cases)
}

func TestTokens_Revoke(t *testing.T) {
	t.Parallel()
	setup := func(e *env) {
		withAlice(e)
		e.createToken("alice", "ci", "")
		e.createToken("alice", "cd", "")
	}
	cases := []apiCase{
		{Name: "204/token", Setup: setup, Target: tokensPath + "/ci", Status: 204, Golden: "token_revoke",
			Check: func(t *testing.T, e *env, _ *response) {
				if got := wiretest.DecodeBody[[]string](t, e.Must("GET", tokensPath, "")); !slices.Equal(got, []string{"cd"}) {
					t.Errorf("tokens after revoke = %q, want [cd]", got)
				}
			}},
		{Name: "404/unknown name", Setup: setup, Target: tokensPath + "/qa", Status: 404,
			Err: "Client::NotFound::TokenNotFound"},
		{Name: "404/twice", Setup: func(e *env) { setup(e); e.Must("DELETE", tokensPath+"/ci", "") },
			Target: tokensPath + "/ci", Status: 404, Err: "Client::NotFound::TokenNotFound"},
	}
	cases = append(cases, authCases(setup, tokensPath+"/ci", "", 204)...)
	runCases(t, http.MethodDelete, cases)
}

// TestTokens_ValuesNeverShown reads everything a token could appear in
// after creating several: only the creation responses carry values.
func TestTokens_ValuesNeverShown(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.createGroup("ops", "ADMIN")
	e.createUser("alice", "ops")
	e.createUser("bob", "")
	values := []string{
		e.createToken("alice", "ci", ""),
		e.createToken("alice", "cd", "2027-01-01T00:00:00Z"),
		e.createToken("bob", "ci", ""),
	}
	// Use one so that lastUsed is set.
	e.as(values[0], "GET", usersPath, "").Expect(t, 200, "")
	e.Clock.Advance(time.Minute)
	reads := []string{usersPath, usersPath + "/alice", usersPath + "/bob", usersPath + "/alice/token",
		usersPath + "/alice/token/ci", usersPath + "/alice/token/cd", usersPath + "/bob/token",
		usersPath + "/bob/token/ci", groupsPath, groupsPath + "/ops", "/v2/iam/policy"}
	for _, target := range reads {
		r := e.Must("GET", target, "")
		if m := patValue.FindString(string(r.Body)); m != "" {
			t.Errorf("GET %s shows a token value: %s", target, r.Body)
		}
		for _, v := range values {
			if strings.Contains(string(r.Body), v) {
				t.Errorf("GET %s shows the token %s", target, v)
			}
		}
	}
	got := wiretest.DecodeBody[map[string]any](t, e.Must("GET", usersPath+"/alice/token/ci", ""))
	if got["lastUsed"] != at(0) {
		t.Errorf("lastUsed of a used token = %v, want %s", got["lastUsed"], at(0))
	}
}
