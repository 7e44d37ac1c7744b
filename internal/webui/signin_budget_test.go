package webui_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// TestSignInLoginBudget (issue 13, point 4): failed sign-ins are budgeted
// per login, before any password check. After six failures even the right
// password gets 429 with a Retry-After, until the delay is over; the
// delay doubles with each further failure. The API (a token) is not
// affected.
func TestSignInLoginBudget(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	const pw = "correct horse battery staple"
	e.createUser("alice", pw, "")
	try := func(password string) response {
		c := e.client()
		page := c.get("/ui/signin")
		return c.post("/ui/signin", url.Values{"csrf": {csrfOf(t, page.body)}, "method": {"password"}, "login": {"alice"}, "password": {password}})
	}
	for i := range 6 {
		if r := try("wrong password!!"); r.status != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d, want 401", i+1, r.status)
		}
	}
	r := try(pw)
	secs, _ := strconv.Atoi(r.header.Get("Retry-After"))
	if r.status != http.StatusTooManyRequests || secs < 1 {
		t.Fatalf("the right password after six failures: %d, Retry-After %q; want 429 with a delay", r.status, r.header.Get("Retry-After"))
	}
	e.clock.Advance(time.Duration(secs) * time.Second)
	if r := try("wrong password!!"); r.status != http.StatusUnauthorized {
		t.Fatalf("a wrong password after the delay: %d, want 401", r.status)
	}
	r = try(pw)
	if next, _ := strconv.Atoi(r.header.Get("Retry-After")); r.status != http.StatusTooManyRequests || next != 2*secs {
		t.Fatalf("after a seventh failure: %d, Retry-After %q; want 429 after %ds", r.status, r.header.Get("Retry-After"), 2*secs)
	}
	e.clock.Advance(time.Duration(2*secs) * time.Second)
	if r := try(pw); r.status != http.StatusSeeOther {
		t.Fatalf("the right password once the delay is over: %d, want 303", r.status)
	}
}
