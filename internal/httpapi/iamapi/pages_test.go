package iamapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"testing"
)

// TestIdentityPages (issue 13, point 1): the identity lists (users,
// groups, a user's tokens, policies) are complete without pagination
// headers and paged with them, by the same opaque cursors as every list:
// bound to the list and the caller, any other cursor a 400
// PaginationCursorInvalid.
func TestIdentityPages(t *testing.T) {
	e := newEnv(t)
	e.createGroup("admins", "ADMIN")
	e.createUser("boss", "admins")
	boss := e.createToken("boss", "t", "")
	var logins []string
	for i := range 23 {
		login := fmt.Sprintf("u%02d", i)
		e.createUser(login, "")
		e.createToken("u00", fmt.Sprintf("t%02d", i), "")
		logins = append(logins, login)
	}
	logins = append([]string{"boss"}, logins...)
	slices.Sort(logins)

	walk := func(token, target string) ([]string, []string) {
		t.Helper()
		var all, cursors []string
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			h := map[string]string{"X-Pagination-Size": "10"}
			if cursor != "" {
				h["X-Pagination-Cursor"] = cursor
			}
			r := e.Send(request{Method: "GET", Target: target, Token: token, Header: h})
			if r.Status != http.StatusOK {
				t.Fatalf("GET %s: %d %s", target, r.Status, r.Body)
			}
			var page []string
			if err := json.Unmarshal(r.Body, &page); err != nil || len(page) > 10 {
				t.Fatalf("GET %s: page %s", target, r.Body)
			}
			all = append(all, page...)
			if cursor = r.Header.Get("X-Pagination-Cursor-Next"); cursor == "" {
				return all, cursors
			}
			cursors = append(cursors, cursor)
		}
		t.Fatalf("GET %s: paging does not end", target)
		return nil, nil
	}
	got, cursors := walk("", "/1.0/me/identity/user")
	if !slices.Equal(got, logins) || len(cursors) != 2 {
		t.Errorf("paged users = %v (%d cursors), want %v", got, len(cursors), logins)
	}
	var whole []string
	if err := json.Unmarshal(e.Must("GET", "/1.0/me/identity/user", "").Body, &whole); err != nil || !slices.Equal(whole, logins) {
		t.Errorf("users without pagination headers = %v, want all of them", whole)
	}
	if tokens, _ := walk("", "/1.0/me/identity/user/u00/token"); len(tokens) != 23 {
		t.Errorf("paged tokens: %d, want 23", len(tokens))
	}
	for range 12 {
		e.Must("POST", "/1.0/me/api/oauth2/client", `{"name":"eso","flow":"CLIENT_CREDENTIALS"}`)
	}
	if clients, cs := walk("", "/1.0/me/api/oauth2/client"); len(clients) != 12 || len(cs) != 1 {
		t.Errorf("paged service accounts: %d in %d pages, want 12 in 2", len(clients), len(cs)+1)
	}
	for name, rq := range map[string]request{
		"forged":                {Target: "/1.0/me/identity/user", Header: map[string]string{"X-Pagination-Cursor": "eyJhIjoidTA1In0"}},
		"another caller":        {Target: "/1.0/me/identity/user", Token: boss, Header: map[string]string{"X-Pagination-Cursor": cursors[0]}},
		"another list":          {Target: "/1.0/me/identity/group", Header: map[string]string{"X-Pagination-Cursor": cursors[0]}},
		"another user's tokens": {Target: "/1.0/me/identity/user/u01/token", Header: map[string]string{"X-Pagination-Cursor": cursors[0]}},
	} {
		rq.Method = "GET"
		r := e.Send(rq)
		if r.Status != http.StatusBadRequest {
			t.Errorf("%s cursor: %d %s, want 400", name, r.Status, r.Body)
			continue
		}
		r.Expect(t, http.StatusBadRequest, "Client::BadRequest::PaginationCursorInvalid")
	}
	r := e.Send(request{Method: "GET", Target: "/v2/iam/policy", Header: map[string]string{"X-Pagination-Size": "x"}})
	r.Expect(t, http.StatusBadRequest, "Client::BadRequest::PaginationSizeInvalid")
}
