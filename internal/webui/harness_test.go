package webui_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// env is one coffer server (dev mode, in memory) behind an httptest
// listener.
type env struct {
	t      testing.TB
	srv    *server.Server
	svc    *service.Service
	ts     *httptest.Server
	clock  *testenv.Clock
	log    *testenv.LogBuffer
	domain string // the default domain
	root   string // the root token
}

// envOptions choose the server's regions and audit.
type envOptions struct {
	regions []string // region ids, the first being the default; empty: one region "local"
	audit   bool     // audit to a file, readable in the panel
	// tlsAuto gives the server an installation CA (dev: in memory), the
	// public CA the API page offers; the test listener stays plain HTTP.
	tlsAuto bool
}

const rootToken = "cof_root_webui-test-root-token"

func newEnv(t testing.TB, opt envOptions) *env {
	t.Helper()
	dir := t.TempDir()
	logs := &testenv.LogBuffer{}
	// The panel's sessions and cookies meet the browser's real time: the
	// clock starts at it. The server announces the URL clients reach it
	// at (the API page shows it).
	te := testenv.Start(t, testenv.WithClock(testenv.NewClock(time.Now().UTC().Truncate(time.Second))), testenv.SelfURL(),
		testenv.Configure(func(cfg *server.Config) {
			cfg.Listen, cfg.DevRootToken = "127.0.0.1:0", rootToken
			cfg.TLSAuto = opt.tlsAuto
			cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			if opt.audit {
				cfg.AuditFile = filepath.Join(dir, "audit.log")
			}
			if len(opt.regions) > 0 {
				cfg.ConfigFile = regionsFile(t, dir, opt.regions)
			}
		}))
	srv := te.Server
	return &env{t: t, srv: srv, svc: srv.Service(), ts: te.HTTP, clock: te.Clock, log: logs, domain: te.Domain, root: rootToken}
}

// regionsFile writes a configuration file holding regions (in memory),
// the first being the default, and returns its path.
func regionsFile(t testing.TB, dir string, regions []string) string {
	t.Helper()
	var y strings.Builder
	fmt.Fprintf(&y, "defaultRegion: %s\nregions:\n", regions[0])
	for _, r := range regions {
		fmt.Fprintf(&y, "  - id: %s\n    storage: {type: memory}\n", r)
	}
	path := filepath.Join(dir, "coffer.yaml")
	if err := os.WriteFile(path, []byte(y.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// root is the caller the tests seed data as.
var root = service.Caller{Principal: auth.System(), Surface: "test"}

func (e *env) ctx() context.Context { return e.t.Context() }

// putSecret creates a secret with a first version, or adds a version.
func (e *env) putSecret(domain, path, value string) secret.Version {
	e.t.Helper()
	d, err := secret.ParseData([]byte(value))
	if err != nil {
		e.t.Fatalf("ParseData(%s): %v", path, err)
	}
	v, _, err := e.svc.PutVersion(e.ctx(), root, domain, secret.MustParsePath(path), d, service.PutOptions{CreateIfMissing: true})
	if err != nil {
		e.t.Fatalf("PutVersion(%s): %v", path, err)
	}
	return v
}

// setSettings changes a secret's settings.
func (e *env) setSettings(domain, path string, u secret.MetadataUpdate) {
	e.t.Helper()
	if _, err := e.svc.UpdateSecret(e.ctx(), root, domain, secret.MustParsePath(path), service.UpdateSecretInput{Metadata: &u}); err != nil {
		e.t.Fatalf("UpdateSecret(%s): %v", path, err)
	}
}

func (e *env) setState(domain, path string, id uint32, to secret.State) {
	e.t.Helper()
	if _, err := e.svc.SetVersionState(e.ctx(), root, domain, secret.MustParsePath(path), id, to); err != nil {
		e.t.Fatalf("SetVersionState(%s, %d): %v", path, id, err)
	}
}

// createUser creates a user with a password (none if empty: hashing one
// takes a while, under the race detector most of all), in a group if
// given.
func (e *env) createUser(login, password, group string) {
	e.t.Helper()
	in := service.UserInput{Login: login}
	if password != "" {
		in.Password = &password
	}
	if group != "" {
		in.Group = &group
	}
	if _, err := e.svc.CreateUser(e.ctx(), root, in); err != nil {
		e.t.Fatalf("CreateUser(%s): %v", login, err)
	}
}

func (e *env) createGroup(name, role string) {
	e.t.Helper()
	if _, err := e.svc.CreateGroup(e.ctx(), root, service.GroupInput{Name: name, Role: &role}); err != nil {
		e.t.Fatalf("CreateGroup(%s): %v", name, err)
	}
}

// allow gives a user a policy allowing actions on resources.
func (e *env) allow(login string, resources []string, actions ...string) {
	e.t.Helper()
	p := policy.Policy{Name: "p-" + login, Identities: []string{policy.UserURN("eu", "coffer", login)}, Resources: resources, Allow: actions}
	if _, err := e.svc.CreatePolicy(e.ctx(), root, p); err != nil {
		e.t.Fatalf("CreatePolicy(%s): %v", login, err)
	}
}

// activate creates a domain in region and waits until it is ready.
func (e *env) activate(region, name string) string {
	e.t.Helper()
	d, err := e.svc.CreateDomain(e.ctx(), root, region, name)
	if err != nil {
		e.t.Fatalf("CreateDomain(%s): %v", region, err)
	}
	e.svc.Wait()
	return d.ID
}

func (e *env) domainURN(id string) string { return e.svc.DomainURN(id) }

// createPAT returns a new personal access token of a user.
func (e *env) createPAT(login, name string) string {
	e.t.Helper()
	tok, _, err := e.svc.CreatePAT(e.ctx(), root, login, name, "", time.Time{})
	if err != nil {
		e.t.Fatalf("CreatePAT(%s): %v", login, err)
	}
	return tok
}

// client is a browser-like HTTP client: a cookie jar, no redirects
// followed.
type client struct {
	t    testing.TB
	e    *env
	http *http.Client
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	// The httptest server's transport: it trusts the server's certificate
	// when tlsAuto serves TLS.
	return &client{t: e.t, e: e, http: &http.Client{Jar: jar, Transport: e.ts.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// response is a response read in full.
type response struct {
	status int
	header http.Header
	body   string
}

func (c *client) do(method, path string, form url.Values, header http.Header) response {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(c.t.Context(), method, c.e.ts.URL+path, body)
	if err != nil {
		c.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return response{status: res.StatusCode, header: res.Header, body: string(b)}
}

func (c *client) get(path string) response { c.t.Helper(); return c.do("GET", path, nil, nil) }

func (c *client) post(path string, form url.Values) response {
	c.t.Helper()
	return c.do("POST", path, form, nil)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of a page.
func csrfOf(t testing.TB, page string) string {
	t.Helper()
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token in the page:\n%.2000s", page)
	}
	return m[1]
}

// signIn signs in with a login and password, or a token when login is
// empty, and returns the session's CSRF token.
func (c *client) signIn(login, secretText string) string {
	c.t.Helper()
	page := c.get("/ui/signin")
	form := url.Values{"csrf": {csrfOf(c.t, page.body)}}
	if login == "" {
		form.Set("method", "token")
		form.Set("token", secretText)
	} else {
		form.Set("method", "password")
		form.Set("login", login)
		form.Set("password", secretText)
	}
	r := c.post("/ui/signin", form)
	if r.status != http.StatusSeeOther {
		c.t.Fatalf("sign in as %q = %d, want 303:\n%.2000s", login, r.status, r.body)
	}
	page = c.get("/ui/secrets")
	if page.status == http.StatusSeeOther {
		page = c.get(page.header.Get("Location"))
	}
	return csrfOf(c.t, page.body)
}
