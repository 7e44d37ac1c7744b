package iamapi_test

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

const groupsPath = "/1.0/me/identity/group"

func TestGroups_Create(t *testing.T) {
	t.Parallel()
	withOps := func(e *env) { e.createGroup("ops", "NONE") }
	cases := []apiCase{
		{name: "200/group", body: `{"name":"ops","description":"Operators","role":"ADMIN"}`, status: 200,
			golden: "group_create"},
		{name: "200/role defaults to NONE", body: `{"name":"ops"}`, status: 200,
			check: func(t *testing.T, _ *env, r *response) {
				if role := decode[map[string]any](t, r)["role"]; role != "NONE" {
					t.Errorf("role = %v, want NONE", role)
				}
			}},
		{name: "200/every role", body: `{"name":"a","role":"UNPRIVILEGED"}`, status: 200},
		{name: "400/unknown role", body: `{"name":"ops","role":"ROOT"}`, status: 400,
			class: "Client::BadRequest::InvalidGroup", golden: "error_InvalidGroup"},
		{name: "400/role in lower case", body: `{"name":"ops","role":"admin"}`, status: 400,
			class: "Client::BadRequest::InvalidGroup"},
		{name: "400/bad name", body: `{"name":"o p s","role":"NONE"}`, status: 400, class: "Client::BadRequest::InvalidGroup"},
		{name: "400/name missing", body: `{"role":"NONE"}`, status: 400, class: "Client::BadRequest::InvalidGroup"},
		{name: "409/duplicate name", setup: withOps, body: `{"name":"ops","role":"ADMIN"}`, status: 409,
			class: "Client::Conflict::GroupAlreadyExists", golden: "error_GroupAlreadyExists"},
	}
	cases = append(cases, authCases(nil, "", `{"name":"ops"}`, 200)...)
	cases = append(cases, bodyCases(nil, "")...)
	for i := range cases {
		cases[i].target = groupsPath
	}
	runCases(t, http.MethodPost, cases)
}

func TestGroups_List(t *testing.T) {
	t.Parallel()
	two := func(e *env) {
		e.createGroup("ops", "ADMIN")
		e.createGroup("dev", "NONE")
	}
	cases := []apiCase{
		{name: "200/no group", status: 200, check: func(t *testing.T, _ *env, r *response) {
			if string(r.Body) != "[]" {
				t.Errorf("body = %s, want []", r.Body)
			}
		}},
		{name: "200/names in order", setup: two, status: 200, golden: "group_list"},
	}
	cases = append(cases, authCases(two, "", "", 200)...)
	for i := range cases {
		cases[i].target = groupsPath
	}
	runCases(t, http.MethodGet, cases)
}

func TestGroups_Get(t *testing.T) {
	t.Parallel()
	setup := func(e *env) {
		e.Must("POST", groupsPath, `{"name":"ops","description":"Operators","role":"REGULAR"}`)
	}
	cases := []apiCase{
		{name: "200/group", setup: setup, target: groupsPath + "/ops", status: 200, golden: "group_get"},
		{name: "404/unknown name", setup: setup, target: groupsPath + "/dev", status: 404,
			class: "Client::NotFound::GroupNotFound", golden: "error_GroupNotFound"},
		{name: "404/malformed name", setup: setup, target: groupsPath + "/o%2Fps", status: 404,
			class: "Client::NotFound::GroupNotFound"},
	}
	cases = append(cases, authCases(setup, groupsPath+"/ops", "", 200)...)
	runCases(t, http.MethodGet, cases)
}

func TestGroups_Update(t *testing.T) {
	t.Parallel()
	setup := func(e *env) {
		e.Must("POST", groupsPath, `{"name":"ops","description":"Operators","role":"REGULAR"}`)
		e.clock.Advance(time.Hour)
	}
	target := groupsPath + "/ops"
	cases := []apiCase{
		{name: "200/role", setup: setup, body: `{"role":"ADMIN"}`, status: 200, golden: "group_update",
			check: func(t *testing.T, _ *env, r *response) {
				g := decode[map[string]any](t, r)
				if g["description"] != "Operators" || g["lastUpdate"] != at(time.Hour) {
					t.Errorf("group = %v, want description kept and lastUpdate %s", g, at(time.Hour))
				}
			}},
		{name: "200/OVHcloud auth.Group body", setup: setup, status: 200,
			body: `{"name":"ops","description":"d","role":"NONE","defaultGroup":false,"urn":"x"}`},
		{name: "400/unknown role", setup: setup, body: `{"role":"OWNER"}`, status: 400, class: "Client::BadRequest::InvalidGroup"},
		{name: "404/unknown name", setup: setup, target: groupsPath + "/dev", body: `{"role":"ADMIN"}`, status: 404,
			class: "Client::NotFound::GroupNotFound"},
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

func TestGroups_Delete(t *testing.T) {
	t.Parallel()
	setup := func(e *env) {
		e.createGroup("ops", "ADMIN")
		e.createGroup("dev", "NONE")
		e.createUser("alice", "ops")
	}
	cases := []apiCase{
		{name: "204/empty group", setup: setup, target: groupsPath + "/dev", status: 204, golden: "group_delete",
			check: func(t *testing.T, e *env, _ *response) {
				if got := decode[[]string](t, e.Must("GET", groupsPath, "")); !slices.Equal(got, []string{"ops"}) {
					t.Errorf("groups after delete = %q, want [ops]", got)
				}
			}},
		{name: "204/once its members left", target: groupsPath + "/ops", status: 204,
			setup: func(e *env) { setup(e); e.Must("PUT", usersPath+"/alice", `{"group":"dev"}`) }},
		{name: "409/group with members", setup: setup, target: groupsPath + "/ops", status: 409,
			class: "Client::Conflict::GroupInUse", golden: "error_GroupInUse"},
		{name: "404/unknown name", setup: setup, target: groupsPath + "/qa", status: 404,
			class: "Client::NotFound::GroupNotFound"},
	}
	cases = append(cases, authCases(setup, groupsPath+"/dev", "", 204)...)
	runCases(t, http.MethodDelete, cases)
}
