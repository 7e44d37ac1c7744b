package webui_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/webui"
)

// TestRootRedirectsToPanel: a person opening the server's address lands
// on the panel, and the panel on the sign-in page.
func TestRootRedirectsToPanel(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.client()
	r := c.get("/")
	if r.status != http.StatusFound || r.header.Get("Location") != "/ui/" {
		t.Fatalf("GET / = %d Location %q, want 302 to /ui/", r.status, r.header.Get("Location"))
	}
	r = c.get("/ui/")
	if r.status != http.StatusSeeOther || r.header.Get("Location") != "/ui/secrets" {
		t.Fatalf("GET /ui/ = %d Location %q, want 303 to /ui/secrets", r.status, r.header.Get("Location"))
	}
	r = c.get("/ui/secrets")
	if r.status != http.StatusSeeOther || !strings.HasPrefix(r.header.Get("Location"), "/ui/signin") {
		t.Fatalf("GET /ui/secrets signed out = %d Location %q, want 303 to the sign-in page", r.status, r.header.Get("Location"))
	}
}

// pagesOf lists GET pages of the panel worth checking, signed in as root,
// with a secret, a version and a certificate to show.
func pagesOf(t *testing.T, e *env, c *client) []string {
	t.Helper()
	e.putSecret(e.domain, "prod/db", `{"password":"x"}`)
	cred, _, err := e.svc.CreateCredential(e.ctx(), root, e.domain, credentialInput())
	if err != nil {
		t.Fatal(err)
	}
	d := "/ui/d/" + e.domain
	pages := []string{
		"/ui/signin", "/ui/secrets", d + "/secrets", d + "/secrets?prefix=prod/", d + "/secrets?q=db",
		"/ui/create", "/ui/create?region=local", d + "/create", d + "/activation", d + "/api",
		d + "/secret?path=prod/db", d + "/secret?path=prod/db&tab=versions",
		d + "/secret/new-version?path=prod/db", d + "/secret/delete?path=prod/db",
		d + "/secret/delete-version?path=prod/db&version=1",
		d + "/secret?path=nope", // 404
		"/ui/nowhere",           // 404
		d + "/credentials/" + cred.ID + "/revoke",
	}
	for _, tab := range []string{"general", "certificates", "users", "tokens", "policies", "audit"} {
		pages = append(pages, d+"/settings?tab="+tab)
	}
	return pages
}

func credentialInput() service.CredentialInput {
	return service.CredentialInput{Name: "ci", IdentityURNs: []string{policy.AccountURN("eu", "coffer")}}
}

var (
	inlineScript  = regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>\s*[^<\s]`)
	styleAttr     = regexp.MustCompile(`(?i)\sstyle\s*=`)
	eventHandler  = regexp.MustCompile(`(?i)<[^>]+\son[a-z]+\s*=`)
	styleElement  = regexp.MustCompile(`(?i)<style[\s>]`)
	javascriptURL = regexp.MustCompile(`(?i)(href|src|action)\s*=\s*"\s*javascript:`)
)

// TestCSPOnEveryHTMLResponse: every HTML response of the panel, errors
// included, carries the strict policy, and no page relies on what it
// forbids (inline scripts, inline styles, event-handler attributes).
func TestCSPOnEveryHTMLResponse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.client()
	c.signIn("", e.root)
	pages := pagesOf(t, e, c)
	// Signed-out pages and refusals too.
	anon := e.client()
	check := func(name string, r response) {
		t.Helper()
		if !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
			return
		}
		csp := r.header.Get("Content-Security-Policy")
		if csp != webui.ContentSecurityPolicy {
			t.Errorf("%s: Content-Security-Policy = %q, want %q", name, csp, webui.ContentSecurityPolicy)
		}
		for _, want := range []string{"script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "default-src 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: policy lacks %s", name, want)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("%s: policy allows something unsafe: %s", name, csp)
		}
		if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: missing nosniff or X-Frame-Options", name)
		}
		if r.header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: Cache-Control = %q, want no-store", name, r.header.Get("Cache-Control"))
		}
		for re, what := range map[*regexp.Regexp]string{inlineScript: "an inline script", styleAttr: "a style attribute",
			eventHandler: "an event-handler attribute", styleElement: "a style element", javascriptURL: "a javascript: URL"} {
			if m := re.FindString(r.body); m != "" {
				t.Errorf("%s: the page has %s, which the policy blocks: %q", name, what, m)
			}
		}
	}
	n := 0
	for _, p := range pages {
		r := c.get(p)
		for i := 0; i < 3 && r.status == http.StatusSeeOther; i++ {
			check("redirect from "+p, r)
			p = r.header.Get("Location")
			r = c.get(p)
		}
		if r.status != 200 && r.status != 404 {
			t.Errorf("GET %s = %d, want 200 (or 404 for the missing ones)\n%.1500s", p, r.status, r.body)
		}
		check("GET "+p, r)
		n++
	}
	for _, p := range []string{"/ui/signin", "/ui/signin?expired=1", "/ui/nowhere"} {
		check("anonymous GET "+p, anon.get(p))
		n++
	}
	check("POST without CSRF", c.post("/ui/d/"+e.domain+"/create", url.Values{"path": {"a"}}))
	check("cross-site POST", c.do("POST", "/ui/signout", url.Values{}, http.Header{"Sec-Fetch-Site": {"cross-site"}}))
	check("value page", c.post("/ui/d/"+e.domain+"/secret/value", url.Values{"csrf": {csrfOf(t, c.get("/ui/d/"+e.domain+"/create").body)}, "path": {"prod/db"}}))
	check("sign-in failure", anon.post("/ui/signin", url.Values{"method": {"password"}, "login": {"x"}, "password": {"y"}}))
	if n < 25 {
		t.Fatalf("checked %d pages only", n)
	}
	// Non-HTML responses carry the policy too.
	r := c.get("/ui/static/app.js")
	if r.header.Get("Content-Security-Policy") == "" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/javascript") {
		t.Errorf("app.js: CSP %q, Content-Type %q", r.header.Get("Content-Security-Policy"), r.header.Get("Content-Type"))
	}
}

// TestCSRFRefused: every state-changing request needs the session's token
// and a same-origin browser request; refusals change nothing.
func TestCSRFRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.client()
	token := c.signIn("", e.root)
	d := "/ui/d/" + e.domain
	e.putSecret(e.domain, "app/db", `{"k":"v"}`)
	posts := []struct {
		path string
		form url.Values
	}{
		{d + "/create", url.Values{"path": {"csrf/new"}, "value": {`{"a":"b"}`}}},
		{d + "/secret/settings", url.Values{"path": {"app/db"}, "maxVersions": {"3"}}},
		{d + "/secret/value", url.Values{"path": {"app/db"}}},
		{d + "/secret/new-version", url.Values{"path": {"app/db"}, "value": {`{"a":"b"}`}}},
		{d + "/secret/state", url.Values{"path": {"app/db"}, "version": {"1"}, "state": {"deactivated"}}},
		{d + "/secret/delete", url.Values{"path": {"app/db"}}},
		{d + "/settings/config", url.Values{"maxVersions": {"3"}}},
		{d + "/credentials", url.Values{"name": {"x"}, "identities": {policy.AccountURN("eu", "coffer")}}},
		{d + "/users", url.Values{"login": {"mallory"}, "password": {"correct horse battery"}}},
		{d + "/groups", url.Values{"groupName": {"evil"}, "role": {"ADMIN"}}},
		{d + "/tokens", url.Values{"login": {"mallory"}, "name": {"t"}}},
		{d + "/policies", url.Values{"name": {"evil"}}},
		{"/ui/activate", url.Values{"region": {"local"}}},
		{"/ui/signout", url.Values{}},
	}
	for _, p := range posts {
		// No token, a wrong token, and the right token from another site.
		cases := []struct {
			name   string
			form   url.Values
			header http.Header
		}{
			{"no token", p.form, nil},
			{"wrong token", with(p.form, "csrf", wrongToken(token)), nil},
			{"cross-site", with(p.form, "csrf", token), http.Header{"Sec-Fetch-Site": {"cross-site"}}},
			{"other origin", with(p.form, "csrf", token), http.Header{"Origin": {"https://evil.example"}}},
		}
		for _, tc := range cases {
			r := c.do("POST", p.path, tc.form, tc.header)
			if r.status != http.StatusForbidden {
				t.Errorf("POST %s (%s) = %d, want 403", p.path, tc.name, r.status)
			}
		}
	}
	// Nothing happened.
	if _, err := e.svc.GetSecret(e.ctx(), root, e.domain, secret.MustParsePath("csrf/new"), svcGet()); err == nil {
		t.Error("a refused POST created a secret")
	}
	if users, _ := e.svc.ListUsers(e.ctx(), root); len(users) != 0 {
		t.Errorf("refused POSTs created users: %v", users)
	}
	v, err := e.svc.GetSecret(e.ctx(), root, e.domain, secret.MustParsePath("app/db"), svcGet())
	if err != nil || v.Version.State != secret.Active {
		t.Errorf("app/db after refused POSTs: %v, %v", v, err)
	}
	// The session still works, and the right token from the same origin
	// is accepted.
	r := c.do("POST", d+"/secret/state", url.Values{"csrf": {token}, "path": {"app/db"}, "version": {"1"}, "state": {"deactivated"}},
		http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {e.ts.URL}})
	if r.status != http.StatusSeeOther {
		t.Errorf("POST with the token, same origin = %d, want 303\n%.1000s", r.status, r.body)
	}
	// The sign-in form is bound to its pre-session cookie.
	anon := e.client()
	r = anon.post("/ui/signin", url.Values{"method": {"token"}, "token": {e.root}})
	if r.status != http.StatusForbidden || strings.Contains(r.header.Get("Set-Cookie"), "coffer_session=") && !strings.Contains(r.header.Get("Set-Cookie"), "Max-Age=0") {
		t.Errorf("sign-in without the form's token = %d, Set-Cookie %q; want 403 and no session", r.status, r.header.Get("Set-Cookie"))
	}
	page := anon.get("/ui/signin")
	r = anon.do("POST", "/ui/signin", url.Values{"csrf": {csrfOf(t, page.body)}, "method": {"token"}, "token": {e.root}},
		http.Header{"Sec-Fetch-Site": {"cross-site"}})
	if r.status != http.StatusForbidden {
		t.Errorf("cross-site sign-in = %d, want 403", r.status)
	}
}

func with(v url.Values, k, val string) url.Values {
	out := url.Values{}
	for kk, vv := range v {
		out[kk] = vv
	}
	out.Set(k, val)
	return out
}

// TestSessionCookie: the cookie holds a random id, never the token; it is
// HttpOnly and SameSite=Strict, and Secure (with the __Host- prefix)
// under TLS.
func TestSessionCookie(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for _, tlsOn := range []bool{false, true} {
		h := e.srv.Handler()
		base := "http://coffer.test"
		if tlsOn {
			base = "https://coffer.test"
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequest("GET", base+"/ui/signin", nil)
		h.ServeHTTP(rec, req)
		pre := rec.Result().Cookies()
		if len(pre) != 1 || !pre[0].HttpOnly || pre[0].SameSite != http.SameSiteStrictMode || pre[0].Secure != tlsOn {
			t.Fatalf("TLS %v: sign-in page cookies = %+v", tlsOn, pre)
		}
		form := url.Values{"csrf": {csrfOf(t, rec.Body.String())}, "method": {"token"}, "token": {e.root}}
		req = httptest.NewRequest("POST", base+"/ui/signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(pre[0])
		if tlsOn && req.TLS == nil {
			req.TLS = &tls.ConnectionState{}
		}
		rec = httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("TLS %v: sign-in = %d\n%s", tlsOn, rec.Code, rec.Body)
		}
		var session *http.Cookie
		for _, ck := range rec.Result().Cookies() {
			if strings.Contains(ck.Name, "coffer_session") {
				session = ck
			}
		}
		wantName := "coffer_session"
		if tlsOn {
			wantName = "__Host-coffer_session"
		}
		switch {
		case session == nil:
			t.Fatalf("TLS %v: no session cookie in %v", tlsOn, rec.Result().Header["Set-Cookie"])
		case session.Name != wantName:
			t.Errorf("TLS %v: cookie name %q, want %q", tlsOn, session.Name, wantName)
		case !session.HttpOnly || session.SameSite != http.SameSiteStrictMode || session.Secure != tlsOn:
			t.Errorf("TLS %v: cookie %q: HttpOnly %v SameSite %v Secure %v", tlsOn, session.Raw, session.HttpOnly, session.SameSite, session.Secure)
		case tlsOn && (session.Path != "/" || session.Domain != ""):
			t.Errorf("TLS %v: a __Host- cookie needs Path=/ and no Domain: %q", tlsOn, session.Raw)
		case session.MaxAge != 0 || !session.Expires.IsZero():
			t.Errorf("TLS %v: the session cookie has a lifetime of its own: %q", tlsOn, session.Raw)
		case strings.Contains(session.Value, e.root) || len(session.Value) < 40:
			t.Errorf("TLS %v: the cookie value %q is not a random id", tlsOn, session.Value)
		}
		if strings.Contains(rec.Header().Get("Location"), e.root) {
			t.Errorf("TLS %v: the token is in the redirect", tlsOn)
		}
	}
}

// TestSessionExpiry: a session ends after 30 idle minutes, after 12 hours
// whatever the activity, and at sign-out; an ended session's cookie is
// worth nothing.
func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	signedIn := func(c *client) bool {
		t.Helper()
		r := c.get("/ui/d/" + e.domain + "/secrets")
		return r.status == http.StatusOK
	}

	idle := e.client()
	idle.signIn("", e.root)
	e.clock.Advance(29 * time.Minute)
	if !signedIn(idle) {
		t.Fatal("signed out after 29 idle minutes")
	}
	e.clock.Advance(29 * time.Minute) // active 29 minutes ago: still valid
	if !signedIn(idle) {
		t.Fatal("signed out although active 29 minutes ago")
	}
	e.clock.Advance(30*time.Minute + time.Second)
	r := idle.get("/ui/d/" + e.domain + "/secrets")
	if r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "expired=1") {
		t.Fatalf("after 30 idle minutes: %d Location %q, want a redirect to the sign-in page saying it expired", r.status, r.header.Get("Location"))
	}
	if page := idle.get(r.header.Get("Location")); !strings.Contains(page.body, "Your session has expired") {
		t.Errorf("the sign-in page does not say the session expired:\n%.2000s", page.body)
	}
	if signedIn(idle) {
		t.Fatal("an expired session came back")
	}

	busy := e.client()
	busy.signIn("", e.root)
	for range 35 { // 35 × 20 minutes: past 11 hours 40
		e.clock.Advance(20 * time.Minute)
		if !signedIn(busy) {
			t.Fatal("an active session ended before 12 hours")
		}
	}
	e.clock.Advance(20 * time.Minute)
	if signedIn(busy) {
		t.Fatal("an active session outlived 12 hours")
	}

	out := e.client()
	token := out.signIn("", e.root)
	cookies := out.http.Jar.Cookies(mustURL(e.ts.URL + "/ui/"))
	if r := out.post("/ui/signout", url.Values{"csrf": {token}}); r.status != http.StatusSeeOther {
		t.Fatalf("sign out = %d", r.status)
	}
	replay := e.client()
	replay.http.Jar.SetCookies(mustURL(e.ts.URL+"/ui/"), cookies)
	if signedIn(replay) {
		t.Fatal("the cookie of a signed-out session still works")
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestSignInFailuresAreAlike: an unknown login and a wrong password get
// the same answer; a bad token says nothing about what exists.
func TestSignInFailuresAreAlike(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.createUser("alice", "correct horse battery staple", "")
	try := func(login, pw string) response {
		c := e.client()
		page := c.get("/ui/signin")
		return c.post("/ui/signin", url.Values{"csrf": {csrfOf(t, page.body)}, "method": {"password"}, "login": {login}, "password": {pw}})
	}
	norm := func(r response) string {
		b := csrfRE.ReplaceAllString(r.body, "csrf")
		b = regexp.MustCompile(`value="(alice|nobody)"`).ReplaceAllString(b, `value="LOGIN"`)
		return b
	}
	wrong, unknown := try("alice", "wrong password!!"), try("nobody", "wrong password!!")
	if wrong.status != http.StatusUnauthorized || unknown.status != wrong.status {
		t.Fatalf("statuses: wrong password %d, unknown login %d; want 401 for both", wrong.status, unknown.status)
	}
	if norm(wrong) != norm(unknown) {
		t.Errorf("the pages differ between a wrong password and an unknown login")
	}
	if !strings.Contains(wrong.body, "The login or password is incorrect.") {
		t.Errorf("no explanation on the page:\n%.2000s", wrong.body)
	}
	if r := try("alice", "correct horse battery staple"); r.status != http.StatusSeeOther {
		t.Errorf("the right password = %d, want 303", r.status)
	}
}

// TestRevokedTokenEndsSession: a session opened with a token ends when
// the token is revoked; a deleted user's password session ends too.
func TestRevokedTokenEndsSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.createUser("bob", "correct horse battery staple", "")
	e.allow("bob", []string{e.domainURN(e.domain)}, "okms:apiovh:secret/get")
	tok, _, err := e.svc.CreatePAT(e.ctx(), root, "bob", "laptop", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	byToken, byPassword := e.client(), e.client()
	byToken.signIn("", tok)
	byPassword.signIn("bob", "correct horse battery staple")
	list := "/ui/d/" + e.domain + "/secrets"
	if byToken.get(list).status != 200 || byPassword.get(list).status != 200 {
		t.Fatal("signed-in sessions cannot list")
	}
	if err := e.svc.RevokePAT(e.ctx(), root, "bob", "laptop"); err != nil {
		t.Fatal(err)
	}
	if r := byToken.get(list); r.status != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "reason=ended") {
		t.Errorf("after the token's revocation: %d %q, want a redirect to sign in", r.status, r.header.Get("Location"))
	}
	if byPassword.get(list).status != 200 {
		t.Error("the password session ended with the token")
	}
	if err := e.svc.DeleteUser(e.ctx(), root, "bob"); err != nil {
		t.Fatal(err)
	}
	if r := byPassword.get(list); r.status != http.StatusSeeOther {
		t.Errorf("after the user's deletion: %d, want a redirect to sign in", r.status)
	}
}

// TestValueOnlyByPost: the value is never served to a GET, and neither
// the value nor the token reaches the server log.
func TestValueOnlyByPost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	canary := "CANARY-value-7c1f"
	e.putSecret(e.domain, "app/key", `{"api":"`+canary+`"}`)
	c := e.client()
	token := c.signIn("", e.root)
	d := "/ui/d/" + e.domain
	for _, p := range []string{d + "/secret/value?path=app/key", d + "/secret?path=app/key", d + "/secret?path=app/key&tab=versions",
		d + "/secret/new-version?path=app/key", d + "/secrets"} {
		if r := c.get(p); strings.Contains(r.body, canary) {
			t.Errorf("GET %s shows the value", p)
		}
	}
	r := c.do("POST", d+"/secret/value", url.Values{"csrf": {token}, "path": {"app/key"}}, http.Header{"Accept": {"application/json"}})
	if r.status != 200 || !strings.Contains(r.body, canary) || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("POST value = %d %q (Cache-Control %q)", r.status, r.body, r.header.Get("Cache-Control"))
	}
	r = c.post(d+"/secret/value", url.Values{"csrf": {token}, "path": {"app/key"}})
	if r.status != 200 || !strings.Contains(r.body, canary) || !strings.Contains(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("POST value without script = %d", r.status)
	}
	for _, leak := range []string{canary, e.root} {
		if strings.Contains(e.log.String(), leak) {
			t.Errorf("the server log holds %q", leak)
		}
	}
}

func svcGet() service.GetOptions { return service.GetOptions{} }

// wrongToken returns token with its first character changed: one token in
// 64 starts with "x" already, which made "x"+token[1:] the right token.
func wrongToken(token string) string {
	if token[0] == 'x' {
		return "y" + token[1:]
	}
	return "x" + token[1:]
}
