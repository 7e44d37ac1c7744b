package webui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestSessionOfARecreatedUser (issue 13, point 6): a panel session belongs
// to the user who signed in, not to the login: once bob is deleted and a
// new bob is created with the same password, the old session ends.
func TestSessionOfARecreatedUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	const pw = "correct horse battery staple"
	e.createUser("bob", pw, "")
	e.allow("bob", []string{e.domainURN(e.domain)}, "okms:apiovh:secret/get")
	c := e.client()
	c.signIn("bob", pw)
	list := "/ui/d/" + e.domain + "/secrets"
	if r := c.get(list); r.status != http.StatusOK {
		t.Fatalf("the signed-in session lists: %d", r.status)
	}
	if err := e.svc.DeleteUser(e.ctx(), root, "bob"); err != nil {
		t.Fatal(err)
	}
	e.createUser("bob", pw, "")
	if r := c.get(list); r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "reason=ended") {
		t.Errorf("the former bob's session with a new bob: %d %q, want a redirect to sign in", r.status, r.header.Get("Location"))
	}
}

// TestSessionRenewedAtSignIn keeps one of issue 13's "what held up"
// findings a regression test: each sign-in starts a session of its own,
// so the id a browser held before (planted by someone else, or its own
// earlier session) is worth nothing after it.
func TestSessionRenewedAtSignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.client()
	c.signIn("", e.root)
	u, _ := url.Parse(e.ts.URL + "/ui/")
	before := sessionCookie(c.http.Jar.Cookies(u))
	// Sign in again with the session cookie still set: the form comes from
	// a fresh page (a signed-in browser is sent past the sign-in page).
	fresh := e.client()
	page := fresh.get("/ui/signin")
	c.http.Jar.SetCookies(u, fresh.http.Jar.Cookies(u))
	if r := c.post("/ui/signin", url.Values{"csrf": {csrfOf(t, page.body)}, "method": {"token"}, "token": {e.root}}); r.status != http.StatusSeeOther {
		t.Fatalf("the second sign-in: %d", r.status)
	}
	after := sessionCookie(c.http.Jar.Cookies(u))
	if before == "" || after == "" || before == after {
		t.Fatalf("session ids before and after a sign-in: %q, %q; want two different ids", before, after)
	}
	old := e.client()
	old.http.Jar.SetCookies(u, []*http.Cookie{{Name: "coffer_session", Value: before, Path: "/ui/"}})
	if r := old.get("/ui/d/" + e.domain + "/secrets"); r.status != http.StatusSeeOther {
		t.Errorf("the session id held before the sign-in: %d, want a redirect to sign in", r.status)
	}
}

func sessionCookie(cs []*http.Cookie) string {
	for _, c := range cs {
		if strings.Contains(c.Name, "coffer_session") {
			return c.Value
		}
	}
	return ""
}
