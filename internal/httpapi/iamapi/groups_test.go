package iamapi_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

const groupsPath = "/1.0/me/identity/group"

func TestGroups_Create(t *testing.T) {
	t.Parallel()
	withOps := func(e *env) { e.createGroup("ops", "NONE") }
	cases := []apiCase{
		{Name: "200/group", Body: `{"name":"ops","description":"Operators","role":"ADMIN"}`, Status: 200,
			Golden: "group_create"},
		{Name: "200/role defaults to NONE", Body: `{"name":"ops"}`, Status: 200,
			Check: func(t *testing.T, _ *env, r *response) {
				if role := wiretest.DecodeBody[map[string]any](t, r)["role"]; role != "NONE" {
					t.Errorf("role = %v, want NONE", role)
				}
			}},
		{Name: "200/every role", Body: `{"name":"a","role":"UNPRIVILEGED"}`, Status: 200},
		{Name: "400/unknown role", Body: `{"name":"ops","role":"ROOT"}`, Status: 400,
			Err: "Client::BadRequest::InvalidGroup", Golden: "error_InvalidGroup"},
		{Name: "400/role in lower case", Body: `{"name":"ops","role":"admin"}`, Status: 400,
			Err: "Client::BadRequest::InvalidGroup"},
		{Name: "400/bad name", Body: `{"name":"o p s","role":"NONE"}`, Status: 400, Err: "Client::BadRequest::InvalidGroup"},
		{Name: "400/name missing", Body: `{"role":"NONE"}`, Status: 400, Err: "Client::BadRequest::InvalidGroup"},
		{Name: "409/duplicate name", Setup: withOps, Body: `{"name":"ops","role":"ADMIN"}`, Status: 409,
			Err: "Client::Conflict::GroupAlreadyExists", Golden: "error_GroupAlreadyExists"},
	}
	cases = append(cases, authCases(nil, "", `{"name":"ops"}`, 200)...)
	cases = append(cases, bodyCases(nil, "")...)
	for i := range cases {
		cases[i].Target = groupsPath
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
		{Name: "200/no group", Status: 200, Check: func(t *testing.T, _ *env, r *response) {
			if string(r.Body) != "[]" {
				t.Errorf("body = %s, want []", r.Body)
			}
		}},
		{Name: "200/names in order", Setup: two, Status: 200, Golden: "group_list"},
	}
	cases = append(cases, authCases(two, "", "", 200)...)
	for i := range cases {
		cases[i].Target = groupsPath
	}
	runCases(t, http.MethodGet, cases)
}

func TestGroups_Get(t *testing.T) {
	t.Parallel()
	setup := func(e *env) {
		e.Must("POST", groupsPath, `{"name":"ops","description":"Operators","role":"REGULAR"}`)
	}
	cases := []apiCase{
		{Name: "200/group", Setup: setup, Target: groupsPath + "/ops", Status: 200, Golden: "group_get"},
		{Name: "404/unknown name", Setup: setup, Target: groupsPath + "/dev", Status: 404,
			Err: "Client::NotFound::GroupNotFound", Golden: "error_GroupNotFound"},
		{Name: "404/malformed name", Setup: setup, Target: groupsPath + "/o%2Fps", Status: 404,
			Err: "Client::NotFound::GroupNotFound"},
	}
	cases = append(cases, authCases(setup, groupsPath+"/ops", "", 200)...)
	runCases(t, http.MethodGet, cases)
}

func TestGroups_Update(t *testing.T) {
	t.Parallel()
	setup := func(e *env) {
		e.Must("POST", groupsPath, `{"name":"ops","description":"Operators","role":"REGULAR"}`)
		e.Clock.Advance(time.Hour)
	}
	target := groupsPath + "/ops"
	cases := []apiCase{
		{Name: "200/role", Setup: setup, Body: `{"role":"ADMIN"}`, Status: 200, Golden: "group_update",
			Check: func(t *testing.T, _ *env, r *response) {
				g := wiretest.DecodeBody[map[string]any](t, r)
				if g["description"] != "Operators" || g["lastUpdate"] != at(time.Hour) {
					t.Errorf("group = %v, want description kept and lastUpdate %s", g, at(time.Hour))
				}
			}},
		{Name: "200/OVHcloud auth.Group body", Setup: setup, Status: 200,
			Body: `{"name":"ops","description":"d","role":"NONE","defaultGroup":false,"urn":"x"}`},
		{Name: "400/unknown role", Setup: setup, Body: `{"role":"OWNER"}`, Status: 400, Err: "Client::BadRequest::InvalidGroup"},
		{Name: "404/unknown name", Setup: setup, Target: groupsPath + "/dev", Body: `{"role":"ADMIN"}`, Status: 404,
			Err: "Client::NotFound::GroupNotFound"},
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

func TestGroups_Delete(t *testing.T) {
	t.Parallel()
	setup := func(e *env) {
		e.createGroup("ops", "ADMIN")
		e.createGroup("dev", "NONE")
		e.createUser("alice", "ops")
	}
	cases := []apiCase{
		{Name: "204/empty group", Setup: setup, Target: groupsPath + "/dev", Status: 204, Golden: "group_delete",
			Check: func(t *testing.T, e *env, _ *response) {
				if got := wiretest.DecodeBody[[]string](t, e.Must("GET", groupsPath, "")); !slices.Equal(got, []string{"ops"}) {
					t.Errorf("groups after delete = %q, want [ops]", got)
				}
			}},
		{Name: "204/once its members left", Target: groupsPath + "/ops", Status: 204,
			Setup: func(e *env) { setup(e); e.Must("PUT", usersPath+"/alice", `{"group":"dev"}`) }},
		{Name: "409/group with members", Setup: setup, Target: groupsPath + "/ops", Status: 409,
			Err: "Client::Conflict::GroupInUse", Golden: "error_GroupInUse"},
		{Name: "404/unknown name", Setup: setup, Target: groupsPath + "/qa", Status: 404,
			Err: "Client::NotFound::GroupNotFound"},
	}
	cases = append(cases, authCases(setup, groupsPath+"/dev", "", 204)...)
	runCases(t, http.MethodDelete, cases)
}
