package webui_test

import (
	"net/http"
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
	e.allow("bob", []string{e.domainURN(e.domain)}, "okms:apikms:secret/get")
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
