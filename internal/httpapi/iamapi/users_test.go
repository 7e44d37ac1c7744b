package iamapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
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
		{Name: "200/login only", Body: `{"login":"alice"}`, Status: 200, Golden: "user_create",
			Check: func(t *testing.T, e *env, r *response) {
				if got := wiretest.DecodeBody[[]string](t, e.Must("GET", usersPath, "")); !slices.Equal(got, []string{"alice"}) {
					t.Errorf("GET %s = %q, want [alice]", usersPath, got)
				}
			}},
		{Name: "200/every member", Setup: withGroup, Status: 200, Golden: "user_create_full",
			Body: `{"login":"bob.smith@corp","description":"Bob","email":"bob@example.com","group":"ops"}`},
		{Name: "200/with a password, never shown", Status: 200, Body: `{"login":"carol","password":"` + password + `"}`,
			Check: func(t *testing.T, e *env, r *response) {
				noMember(t, r, "password")
				if strings.Contains(string(r.Body), password) {
					t.Errorf("the response shows the password: %s", r.Body)
				}
				if _, err := e.Server.Service().Login(t.Context(), service.SignIn{Login: "carol", Password: password}); err != nil {
					t.Errorf("Login(carol, password) = %v, want the password set", err)
				}
			}},
		{Name: "200/an empty password is no password", Body: `{"login":"dave","password":""}`, Status: 200},
		{Name: "200/unknown members are ignored", Body: `{"login":"erin","type":"USER","groups":[]}`, Status: 200},
		{Name: "200/null members are absent", Body: `{"login":"frank","description":null,"group":null}`, Status: 200},
		{Name: "400/bad login", Body: `{"login":"bad login!"}`, Status: 400, Err: "Client::BadRequest::InvalidUser",
			Golden: "error_InvalidUser"},
		{Name: "400/login missing", Body: `{"description":"x"}`, Status: 400, Err: "Client::BadRequest::InvalidUser"},
		{Name: "400/login of 65 characters", Body: `{"login":"` + strings.Repeat("a", 65) + `"}`, Status: 400,
			Err: "Client::BadRequest::InvalidUser"},
		{Name: "400/login with a slash", Body: `{"login":"a/b"}`, Status: 400, Err: "Client::BadRequest::InvalidUser"},
		{Name: "400/password too short, never quoted", Body: `{"login":"gina","password":"hunter2"}`, Status: 400,
			Err: "Client::BadRequest::InvalidUser",
			Check: func(t *testing.T, _ *env, r *response) {
				msg := message(t, r)
				wantContains(t, "message", msg, "password")
				if strings.Contains(msg, "hunter2") {
					t.Errorf("message %q quotes the password", msg)
				}
			}},
		{Name: "400/unknown group", Body: `{"login":"hal","group":"nope"}`, Status: 400,
			Err:   "Client::BadRequest::InvalidUser",
			Check: func(t *testing.T, _ *env, r *response) { wantContains(t, "message", message(t, r), "group") }},
		{Name: "400/login of the wrong type", Body: `{"login":42}`, Status: 400,
			Err: "Client::BadRequest::RequestBodyInvalidJson", Golden: "error_RequestBodyInvalidJson"},
		{Name: "409/duplicate login", Setup: withAlice, Body: `{"login":"alice"}`, Status: 409,
			Err: "Client::Conflict::UserAlreadyExists", Golden: "error_UserAlreadyExists"},
		{Name: "200/logins are case-sensitive", Setup: withAlice, Body: `{"login":"Alice"}`, Status: 200},
	}
	cases = append(cases, authCases(nil, "", `{"login":"alice"}`, 200, true)...)
	cases = append(cases, bodyCases(nil, "", true)...)
	for i := range cases {
		cases[i].Target = usersPath
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
		{Name: "200/no user", Status: 200, Golden: "user_list_empty"},
		{Name: "200/logins in order", Setup: three, Status: 200, Golden: "user_list"},
	}
	cases = append(cases, authCases(three, "", "", 200)...)
	for i := range cases {
		cases[i].Target = usersPath
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
		{Name: "200/user", Setup: setup, Target: usersPath + "/alice", Status: 200, Golden: "user_get",
			Check: func(t *testing.T, e *env, r *response) {
				u := wiretest.DecodeBody[map[string]any](t, r)
				if u["urn"] != userURN("alice") || u["status"] != "OK" || u["creation"] != at(0) {
					t.Errorf("user = %v, want urn %s, status OK, creation %s", u, userURN("alice"), at(0))
				}
			}},
		{Name: "404/unknown login", Setup: setup, Target: usersPath + "/bob", Status: 404,
			Err: "Client::NotFound::UserNotFound", Golden: "error_UserNotFound"},
		{Name: "404/login with an escaped slash", Setup: setup, Target: usersPath + "/al%2Fice", Status: 404,
			Err: "Client::NotFound::UserNotFound"},
		{Name: "404/login of 65 characters", Setup: setup, Target: usersPath + "/" + strings.Repeat("a", 65), Status: 404,
			Err: "Client::NotFound::UserNotFound"},
		{Name: "404/login of another case", Setup: setup, Target: usersPath + "/ALICE", Status: 404,
			Err: "Client::NotFound::UserNotFound"},
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
		e.Clock.Advance(90 * time.Second)
	}
	target := usersPath + "/alice"
	cases := []apiCase{
		{Name: "200/description and group", Setup: setup, Body: `{"description":"Alice L.","group":"dev"}`, Status: 200,
			Golden: "user_update",
			Check: func(t *testing.T, e *env, r *response) {
				u := wiretest.DecodeBody[map[string]any](t, r)
				if u["email"] != "alice@example.com" || u["creation"] != at(0) || u["lastUpdate"] != at(90*time.Second) {
					t.Errorf("user = %v, want email kept, creation %s, lastUpdate %s", u, at(0), at(90*time.Second))
				}
				if got := string(e.Must("GET", target, "").Body); got != string(r.Body) {
					t.Errorf("GET after PUT = %s, want the PUT response %s", got, r.Body)
				}
			}},
		{Name: "200/leave the group", Setup: setup, Body: `{"group":""}`, Status: 200,
			Check: func(t *testing.T, _ *env, r *response) {
				if g := wiretest.DecodeBody[map[string]any](t, r)["group"]; g != "" {
					t.Errorf("group = %v, want none", g)
				}
			}},
		{Name: "200/empty object changes nothing but lastUpdate", Setup: setup, Body: `{}`, Status: 200},
		{Name: "200/terraform-provider-ovh body with user", Setup: setup, Status: 200,
			Body: `{"user":"alice","description":"tf","email":"alice@example.com","group":"ops"}`},
		{Name: "200/login in the body is ignored", Setup: setup, Body: `{"login":"mallory"}`, Status: 200,
			Check: func(t *testing.T, _ *env, r *response) {
				if l := wiretest.DecodeBody[map[string]any](t, r)["login"]; l != "alice" {
					t.Errorf("login = %v, want alice", l)
				}
			}},
		{Name: "200/set a password", Setup: setup, Body: `{"password":"` + password + `"}`, Status: 200,
			Check: func(t *testing.T, e *env, r *response) {
				noMember(t, r, "password")
				if _, err := e.Server.Service().Login(t.Context(), service.SignIn{Login: "alice", Password: password}); err != nil {
					t.Errorf("Login(alice, password) = %v, want the password set", err)
				}
			}},
		{Name: "400/unknown group", Setup: setup, Body: `{"group":"nope"}`, Status: 400, Err: "Client::BadRequest::InvalidUser"},
		{Name: "400/password too short", Setup: setup, Body: `{"password":"short"}`, Status: 400,
			Err: "Client::BadRequest::InvalidUser"},
		{Name: "404/unknown login", Setup: setup, Target: usersPath + "/bob", Body: `{}`, Status: 404,
			Err: "Client::NotFound::UserNotFound"},
		{Name: "404/malformed login", Setup: setup, Target: usersPath + "/b%20b", Body: `{}`, Status: 404,
			Err: "Client::NotFound::UserNotFound"},
	}
	cases = append(cases, authCases(setup, target, `{"description":"x"}`, 200)...)
	cases = append(cases, bodyCases(setup, target)...)
	for i := range cases {
		if cases[i].Target == "" {
			cases[i].Target = target
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
		{Name: "204/user and its tokens", Setup: setup, Target: usersPath + "/alice", Status: 204, Golden: "user_delete",
			Check: func(t *testing.T, e *env, r *response) {
				e.Call("GET", usersPath+"/alice", "").Expect(t, 404, "Client::NotFound::UserNotFound")
				e.Call("GET", usersPath+"/alice/token/ci", "").Expect(t, 404, "Client::NotFound::TokenNotFound")
				if got := wiretest.DecodeBody[[]string](t, e.Must("GET", usersPath, "")); !slices.Equal(got, []string{"bob"}) {
					t.Errorf("users after delete = %q, want [bob]", got)
				}
				// Recreating the login does not bring the tokens back.
				e.createUser("alice", "")
				if got := wiretest.DecodeBody[[]string](t, e.Must("GET", usersPath+"/alice/token", "")); len(got) != 0 {
					t.Errorf("tokens of a recreated user = %q, want none", got)
				}
			}},
		{Name: "404/unknown login", Setup: setup, Target: usersPath + "/carol", Status: 404,
			Err: "Client::NotFound::UserNotFound"},
		{Name: "404/twice", Setup: func(e *env) { setup(e); e.Must("DELETE", usersPath+"/bob", "") },
			Target: usersPath + "/bob", Status: 404, Err: "Client::NotFound::UserNotFound"},
	}
	cases = append(cases, authCases(setup, usersPath+"/bob", "", 204)...)
	runCases(t, http.MethodDelete, cases)
}
