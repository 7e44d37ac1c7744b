package iamapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/service"
)

const (
	usersPath = "/1.0/me/identity/user"
	// password is the one password of these tests: hashing is slow.
	password = "correct horse battery staple"
)

func TestUsers_Create(t *testing.T) {
	t.Parallel()
	withGroup := func(e *env) { e.createGroup("ops", "REGULAR") }
	withAlice := func(e *env) { e.createUser("alice", "") }
	cases := []apiCase{
		{name: "200/login only", body: `{"login":"alice"}`, status: 200, golden: "user_create",
			check: func(t *testing.T, e *env, r *response) {
				if got := decode[[]string](t, e.Must("GET", usersPath, "")); !slices.Equal(got, []string{"alice"}) {
					t.Errorf("GET %s = %q, want [alice]", usersPath, got)
				}
			}},
		{name: "200/every member", setup: withGroup, status: 200, golden: "user_create_full",
			body: `{"login":"bob.smith@corp","description":"Bob","email":"bob@example.com","group":"ops"}`},
		{name: "200/with a password, never shown", status: 200, body: `{"login":"carol","password":"` + password + `"}`,
			check: func(t *testing.T, e *env, r *response) {
				noMember(t, r, "password")
				if strings.Contains(string(r.Body), password) {
					t.Errorf("the response shows the password: %s", r.Body)
				}
				if _, err := e.srv.Service().Login(t.Context(), service.SignIn{Login: "carol", Password: password}); err != nil {
					t.Errorf("Login(carol, password) = %v, want the password set", err)
				}
			}},
		{name: "200/an empty password is no password", body: `{"login":"dave","password":""}`, status: 200},
		{name: "200/unknown members are ignored", body: `{"login":"erin","type":"USER","groups":[]}`, status: 200},
		{name: "200/null members are absent", body: `{"login":"frank","description":null,"group":null}`, status: 200},
		{name: "400/bad login", body: `{"login":"bad login!"}`, status: 400, class: "Client::BadRequest::InvalidUser",
			golden: "error_InvalidUser"},
		{name: "400/login missing", body: `{"description":"x"}`, status: 400, class: "Client::BadRequest::InvalidUser"},
		{name: "400/login of 65 characters", body: `{"login":"` + strings.Repeat("a", 65) + `"}`, status: 400,
			class: "Client::BadRequest::InvalidUser"},
		{name: "400/login with a slash", body: `{"login":"a/b"}`, status: 400, class: "Client::BadRequest::InvalidUser"},
		{name: "400/password too short, never quoted", body: `{"login":"gina","password":"hunter2"}`, status: 400,
			class: "Client::BadRequest::InvalidUser",
			check: func(t *testing.T, _ *env, r *response) {
				msg := message(t, r)
				wantContains(t, "message", msg, "password")
				if strings.Contains(msg, "hunter2") {
					t.Errorf("message %q quotes the password", msg)
				}
			}},
		{name: "400/unknown group", body: `{"login":"hal","group":"nope"}`, status: 400,
			class: "Client::BadRequest::InvalidUser",
			check: func(t *testing.T, _ *env, r *response) { wantContains(t, "message", message(t, r), "group") }},
		{name: "400/login of the wrong type", body: `{"login":42}`, status: 400,
			class: "Client::BadRequest::RequestBodyInvalidJson", golden: "error_RequestBodyInvalidJson"},
		{name: "409/duplicate login", setup: withAlice, body: `{"login":"alice"}`, status: 409,
			class: "Client::Conflict::UserAlreadyExists", golden: "error_UserAlreadyExists"},
		{name: "200/logins are case-sensitive", setup: withAlice, body: `{"login":"Alice"}`, status: 200},
	}
	cases = append(cases, authCases(nil, "", `{"login":"alice"}`, 200, true)...)
	cases = append(cases, bodyCases(nil, "", true)...)
	for i := range cases {
		cases[i].target = usersPath
	}
	runCases(t, http.MethodPost, cases)
}

func TestUsers_List(t *testing.T) {
	t.Parallel()
	three := func(e *env) {
		e.createGroup("ops", "NONE")
		for _, l := range []string{"zoe", "alice", "mallory"} {
			e.createUser(l, "ops")
		}
	}
	cases := []apiCase{
		{name: "200/no user", status: 200, golden: "user_list_empty"},
		{name: "200/logins in order", setup: three, status: 200, golden: "user_list"},
	}
	cases = append(cases, authCases(three, "", "", 200)...)
	for i := range cases {
		cases[i].target = usersPath
	}
	runCases(t, http.MethodGet, cases)
}

func TestUsers_Get(t *testing.T) {
	t.Parallel()
	setup := func(e *env) {
		e.createGroup("ops", "REGULAR")
		e.Must("POST", usersPath, `{"login":"alice","description":"Alice","email":"alice@example.com","group":"ops"}`)
	}
	cases := []apiCase{
		{name: "200/user", setup: setup, target: usersPath + "/alice", status: 200, golden: "user_get",
			check: func(t *testing.T, e *env, r *response) {
				u := decode[map[string]any](t, r)
				if u["urn"] != userURN("alice") || u["status"] != "OK" || u["creation"] != at(0) {
					t.Errorf("user = %v, want urn %s, status OK, creation %s", u, userURN("alice"), at(0))
				}
			}},
		{name: "404/unknown login", setup: setup, target: usersPath + "/bob", status: 404,
			class: "Client::NotFound::UserNotFound", golden: "error_UserNotFound"},
		{name: "404/login with an escaped slash", setup: setup, target: usersPath + "/al%2Fice", status: 404,
			class: "Client::NotFound::UserNotFound"},
		{name: "404/login of 65 characters", setup: setup, target: usersPath + "/" + strings.Repeat("a", 65), status: 404,
			class: "Client::NotFound::UserNotFound"},
		{name: "404/login of another case", setup: setup, target: usersPath + "/ALICE", status: 404,
			class: "Client::NotFound::UserNotFound"},
	}
	cases = append(cases, authCases(setup, usersPath+"/alice", "", 200)...)
	runCases(t, http.MethodGet, cases)
}

func TestUsers_Update(t *testing.T) {
	t.Parallel()
	setup := func(e *env) {
		e.createGroup("ops", "REGULAR")
		e.createGroup("dev", "NONE")
		e.Must("POST", usersPath, `{"login":"alice","description":"Alice","email":"alice@example.com","group":"ops"}`)
		e.clock.Advance(90 * time.Second)
	}
	target := usersPath + "/alice"
	cases := []apiCase{
		{name: "200/description and group", setup: setup, body: `{"description":"Alice L.","group":"dev"}`, status: 200,
			golden: "user_update",
			check: func(t *testing.T, e *env, r *response) {
				u := decode[map[string]any](t, r)
				if u["email"] != "alice@example.com" || u["creation"] != at(0) || u["lastUpdate"] != at(90*time.Second) {
					t.Errorf("user = %v, want email kept, creation %s, lastUpdate %s", u, at(0), at(90*time.Second))
				}
				if got := string(e.Must("GET", target, "").Body); got != string(r.Body) {
					t.Errorf("GET after PUT = %s, want the PUT response %s", got, r.Body)
				}
			}},
		{name: "200/leave the group", setup: setup, body: `{"group":""}`, status: 200,
			check: func(t *testing.T, _ *env, r *response) {
				if g := decode[map[string]any](t, r)["group"]; g != "" {
					t.Errorf("group = %v, want none", g)
				}
			}},
		{name: "200/empty object changes nothing but lastUpdate", setup: setup, body: `{}`, status: 200},
		{name: "200/terraform-provider-ovh body with user", setup: setup, status: 200,
			body: `{"user":"alice","description":"tf","email":"alice@example.com","group":"ops"}`},
		{name: "200/login in the body is ignored", setup: setup, body: `{"login":"mallory"}`, status: 200,
			check: func(t *testing.T, _ *env, r *response) {
				if l := decode[map[string]any](t, r)["login"]; l != "alice" {
					t.Errorf("login = %v, want alice", l)
				}
			}},
		{name: "200/set a password", setup: setup, body: `{"password":"` + password + `"}`, status: 200,
			check: func(t *testing.T, e *env, r *response) {
				noMember(t, r, "password")
				if _, err := e.srv.Service().Login(t.Context(), service.SignIn{Login: "alice", Password: password}); err != nil {
					t.Errorf("Login(alice, password) = %v, want the password set", err)
				}
			}},
		{name: "400/unknown group", setup: setup, body: `{"group":"nope"}`, status: 400, class: "Client::BadRequest::InvalidUser"},
		{name: "400/password too short", setup: setup, body: `{"password":"short"}`, status: 400,
			class: "Client::BadRequest::InvalidUser"},
		{name: "404/unknown login", setup: setup, target: usersPath + "/bob", body: `{}`, status: 404,
			class: "Client::NotFound::UserNotFound"},
		{name: "404/malformed login", setup: setup, target: usersPath + "/b%20b", body: `{}`, status: 404,
			class: "Client::NotFound::UserNotFound"},
	}
	cases = append(cases, authCases(setup, target, `{"description":"x"}`, 200)...)
	cases = append(cases, bodyCases(setup, target)...)
	for i := range cases {
		if cases[i].target == "" {
			cases[i].target = target
		}
	}
	runCases(t, http.MethodPut, cases)
}

func TestUsers_Delete(t *testing.T) {
	t.Parallel()
	setup := func(e *env) {
		e.createUser("alice", "")
		e.createUser("bob", "")
		e.createToken("alice", "ci", "")
	}
	cases := []apiCase{
		{name: "204/user and its tokens", setup: setup, target: usersPath + "/alice", status: 204, golden: "user_delete",
			check: func(t *testing.T, e *env, r *response) {
				e.Call("GET", usersPath+"/alice", "").Expect(t, 404, "Client::NotFound::UserNotFound")
				e.Call("GET", usersPath+"/alice/token/ci", "").Expect(t, 404, "Client::NotFound::TokenNotFound")
				if got := decode[[]string](t, e.Must("GET", usersPath, "")); !slices.Equal(got, []string{"bob"}) {
					t.Errorf("users after delete = %q, want [bob]", got)
				}
				// Recreating the login does not bring the tokens back.
				e.createUser("alice", "")
				if got := decode[[]string](t, e.Must("GET", usersPath+"/alice/token", "")); len(got) != 0 {
					t.Errorf("tokens of a recreated user = %q, want none", got)
				}
			}},
		{name: "404/unknown login", setup: setup, target: usersPath + "/carol", status: 404,
			class: "Client::NotFound::UserNotFound"},
		{name: "404/twice", setup: func(e *env) { setup(e); e.Must("DELETE", usersPath+"/bob", "") },
			target: usersPath + "/bob", status: 404, class: "Client::NotFound::UserNotFound"},
	}
	cases = append(cases, authCases(setup, usersPath+"/bob", "", 204)...)
	runCases(t, http.MethodDelete, cases)
}
