package iamapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

const tokensPath = usersPath + "/alice/token"

func withAlice(e *env) { e.createUser("alice", "") }

func TestTokens_Create(t *testing.T) {
	t.Parallel()
	withCI := func(e *env) { withAlice(e); e.createToken("alice", "ci", "") }
	cases := []apiCase{
		{name: "200/token shown once", setup: withAlice, body: `{"name":"ci","description":"CI pipeline"}`, status: 200,
			golden: "token_create",
			check: func(t *testing.T, e *env, r *response) {
				tok := decode[map[string]any](t, r)["token"].(string)
				if !patValue.MatchString(tok) || len(tok) != len("cof_pat_")+43 {
					t.Errorf("token = %q, want cof_pat_ and 43 base64url characters", tok)
				}
				for _, target := range []string{tokensPath, tokensPath + "/ci", usersPath + "/alice"} {
					if body := string(e.Must("GET", target, "").Body); strings.Contains(body, tok) {
						t.Errorf("GET %s shows the token value: %s", target, body)
					}
				}
			}},
		{name: "200/with an expiry", setup: withAlice, body: `{"name":"ci","expiresAt":"2026-02-01T00:00:00Z"}`, status: 200,
			golden: "token_create_expiring"},
		{name: "200/expiry with a fraction and an offset", setup: withAlice, status: 200,
			body: `{"name":"ci","expiresAt":"2026-02-01T01:00:00.75+01:00"}`,
			check: func(t *testing.T, _ *env, r *response) {
				if got := decode[map[string]any](t, r)["expiresAt"]; got != "2026-02-01T00:00:00Z" {
					t.Errorf("expiresAt = %v, want 2026-02-01T00:00:00Z", got)
				}
			}},
		{name: "200/null expiry is never", setup: withAlice, body: `{"name":"ci","expiresAt":null}`, status: 200,
			check: func(t *testing.T, _ *env, r *response) {
				if got := decode[map[string]any](t, r)["expiresAt"]; got != nil {
					t.Errorf("expiresAt = %v, want null", got)
				}
			}},
		{name: "400/expiry not a date", setup: withAlice, body: `{"name":"ci","expiresAt":"tomorrow"}`, status: 400,
			class: "Client::BadRequest::InvalidToken",
			check: func(t *testing.T, _ *env, r *response) { wantContains(t, "message", message(t, r), "expiresAt") }},
		{name: "400/expiry in the past", setup: withAlice, body: `{"name":"ci","expiresAt":"2026-01-10T08:59:59Z"}`,
			status: 400, class: "Client::BadRequest::InvalidToken"},
		{name: "400/expiresIn is refused, not ignored", setup: withAlice, body: `{"name":"ci","expiresIn":3600}`,
			status: 400, class: "Client::BadRequest::InvalidToken", golden: "error_InvalidToken"},
		{name: "400/bad name", setup: withAlice, body: `{"name":"c i"}`, status: 400, class: "Client::BadRequest::InvalidToken"},
		{name: "400/name missing", setup: withAlice, body: `{"description":"x"}`, status: 400,
			class: "Client::BadRequest::InvalidToken"},
		{name: "404/unknown user", target: usersPath + "/bob/token", body: `{"name":"ci"}`, status: 404,
			class: "Client::NotFound::UserNotFound"},
		{name: "404/malformed login", target: usersPath + "/b%2Fb/token", body: `{"name":"ci"}`, status: 404,
			class: "Client::NotFound::UserNotFound"},
		{name: "409/duplicate name", setup: withCI, body: `{"name":"ci"}`, status: 409,
			class: "Client::Conflict::TokenAlreadyExists", golden: "error_TokenAlreadyExists"},
		{name: "200/same name for another user", setup: func(e *env) { withCI(e); e.createUser("bob", "") },
			target: usersPath + "/bob/token", body: `{"name":"ci"}`, status: 200},
	}
	cases = append(cases, authCases(withAlice, "", `{"name":"ci"}`, 200)...)
	cases = append(cases, bodyCases(withAlice, "")...)
	for i := range cases {
		if cases[i].target == "" {
			cases[i].target = tokensPath
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
		{name: "200/no token", setup: withAlice, target: tokensPath, status: 200},
		{name: "200/names in order", setup: two, target: tokensPath, status: 200, golden: "token_list",
			check: func(t *testing.T, _ *env, r *response) {
				if got := decode[[]string](t, r); !slices.Equal(got, []string{"ci", "deploy"}) {
					t.Errorf("tokens = %q, want [ci deploy]", got)
				}
			}},
		{name: "404/unknown user", setup: two, target: usersPath + "/bob/token", status: 404,
			class: "Client::NotFound::UserNotFound"},
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
		{name: "200/token without its value", setup: setup, target: tokensPath + "/ci", status: 200, golden: "token_get",
			check: func(t *testing.T, _ *env, r *response) { noMember(t, r, "token") }},
		{name: "404/unknown name", setup: setup, target: tokensPath + "/cd", status: 404,
			class: "Client::NotFound::TokenNotFound", golden: "error_TokenNotFound"},
		{name: "404/unknown user", setup: setup, target: usersPath + "/bob/token/ci", status: 404,
			class: "Client::NotFound::TokenNotFound"},
		{name: "404/malformed name", setup: setup, target: tokensPath + "/c%2Fi", status: 404,
			class: "Client::NotFound::TokenNotFound"},
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
		{name: "204/token", setup: setup, target: tokensPath + "/ci", status: 204, golden: "token_revoke",
			check: func(t *testing.T, e *env, _ *response) {
				if got := decode[[]string](t, e.Must("GET", tokensPath, "")); !slices.Equal(got, []string{"cd"}) {
					t.Errorf("tokens after revoke = %q, want [cd]", got)
				}
			}},
		{name: "404/unknown name", setup: setup, target: tokensPath + "/qa", status: 404,
			class: "Client::NotFound::TokenNotFound"},
		{name: "404/twice", setup: func(e *env) { setup(e); e.Must("DELETE", tokensPath+"/ci", "") },
			target: tokensPath + "/ci", status: 404, class: "Client::NotFound::TokenNotFound"},
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
	e.clock.Advance(time.Minute)
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
	got := decode[map[string]any](t, e.Must("GET", usersPath+"/alice/token/ci", ""))
	if got["lastUsed"] != at(0) {
		t.Errorf("lastUsed of a used token = %v, want %s", got["lastUsed"], at(0))
	}
}
