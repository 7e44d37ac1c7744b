package testenv

import (
	"context"
	"io"
	"log"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// RootToken is the root token of every server [Start] starts, unless an
// option sets another.
const RootToken = "root"

// Env is one running coffer server and what a test needs to reach it.
// Its Client sends to the server: by default a request's Target is the
// URL path after the server's address, {okmsId} replaced by the default
// domain, with the root token as Authorization: Bearer (see
// [wiretest.Bearer]); a surface's tests set their own Resolve and Expect.
type Env struct {
	*wiretest.Client
	Server *server.Server
	HTTP   *httptest.Server // on 127.0.0.1, TLS if the server has it; closed when the test ends
	URL    string           // HTTP.URL
	Clock  *Clock           // the server's clock
	Domain string           // the server's default domain (okmsId)

	stop *stop // shared by the copies Bind makes
}

// stop closes a server once.
type stop struct {
	once sync.Once
	err  error
}

// An Option changes how [Start] builds a server.
type Option func(*options)

type options struct {
	clock     *Clock
	configure []func(*server.Config)
	selfURL   bool
}

// SelfURL makes the server announce, as its PublicURL, the address of its
// httptest listener: pages and documents that show the URL clients reach
// the server at then show the real one.
func SelfURL() Option { return func(o *options) { o.selfURL = true } }

// WithClock gives the server clock c instead of a new one at [T0]: nodes
// of one test may share a clock, or a test may start its clock elsewhere.
func WithClock(c *Clock) Option { return func(o *options) { o.clock = c } }

// Configure changes the server's configuration before it starts; the
// configuration it receives already has the dev store, the root token,
// the clock and the discarding logger set. Options apply in order; a nil
// f changes nothing.
func Configure(f func(*server.Config)) Option {
	return func(o *options) {
		if f != nil {
			o.configure = append(o.configure, f)
		}
	}
}

// OnDisk makes the server keep its root key and its bbolt store in dir,
// with [RootToken] as its root token: server.New as coffer server runs
// it, not in dev mode. A second server on the same dir reopens them.
func OnDisk(dir string) Option {
	return Configure(func(c *server.Config) {
		c.Dev, c.DataDir, c.RootToken = false, dir, RootToken
	})
}

// Start starts a server for the test: by default server.New in dev mode
// (the in-memory store under the encryption layer) with root token
// [RootToken], a fake clock at [T0] and a logger that discards, behind an
// httptest server on 127.0.0.1. Everything is stopped when the test ends;
// an error closing the server fails the test.
func Start(t testing.TB, opts ...Option) *Env {
	t.Helper()
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.clock == nil {
		o.clock = NewClock(T0)
	}
	cfg := server.Config{
		Dev: true, DevRootToken: RootToken, Now: o.clock.Now,
		Logger: slog.New(slog.DiscardHandler), Out: io.Discard,
	}
	for _, f := range o.configure {
		f(&cfg)
	}
	ts := httptest.NewUnstartedServer(nil)
	if o.selfURL {
		scheme := "http://"
		if cfg.TLSAuto || cfg.TLSCert != "" {
			scheme = "https://"
		}
		cfg.PublicURL = scheme + ts.Listener.Addr().String()
	}
	return serve(t, cfg, o.clock, ts)
}

// Serve starts a server with exactly cfg, whose clock is clock (nil if
// cfg.Now is not a test clock), behind an httptest server on 127.0.0.1
// (serving TLS with the server's configuration when it has one: TLSAuto,
// or a certificate), and stops both when the test ends.
func Serve(t testing.TB, cfg server.Config, clock *Clock) *Env {
	t.Helper()
	return serve(t, cfg, clock, httptest.NewUnstartedServer(nil))
}

// serve is Serve on the unstarted httptest server ts.
func serve(t testing.TB, cfg server.Config, clock *Clock, ts *httptest.Server) *Env {
	t.Helper()
	srv, err := server.New(t.Context(), cfg)
	if err != nil {
		ts.Close()
		t.Fatalf("server.New: %v", err)
	}
	ts.Config.Handler = srv.Handler()
	if tlsConfig := srv.TLSConfig(); tlsConfig != nil {
		// httptest's client trusts the certificate itself; a test that
		// wants coffer's own trust reads the installation CA.
		ts.TLS = tlsConfig
		ts.Config.ErrorLog = log.New(io.Discard, "", 0) // handshakes refused on purpose
		ts.StartTLS()
	} else {
		ts.Start()
	}
	e := &Env{Server: srv, HTTP: ts, URL: ts.URL, Clock: clock, Domain: srv.DefaultDomain(), stop: &stop{}}
	e.Client = &wiretest.Client{T: t, HTTPClient: ts.Client(), Resolve: e.resolve}
	t.Cleanup(func() {
		if err := e.Close(); err != nil {
			t.Errorf("server.Close: %v", err)
		}
	})
	return e
}

// resolve is the Client's default Resolve.
func (e *Env) resolve(rq *wiretest.Request) {
	rq.URL = e.URL + strings.ReplaceAll(rq.Target, "{okmsId}", e.Domain)
	wiretest.Bearer(rq, RootToken)
}

// Bind returns a copy of e whose Client belongs to test t.
func (e *Env) Bind(t testing.TB) *Env {
	own := *e
	own.Client = e.Client.Bind(t)
	return &own
}

// Close stops the server before the test ends (to start another on the
// same directory, say): the httptest server, the service's background
// work, then the server. It returns the error of server.Close; a second
// call does nothing and returns the same.
func (e *Env) Close() error {
	e.stop.once.Do(func() {
		e.HTTP.Close()
		e.Server.Service().Wait()
		e.stop.err = e.Server.Close()
	})
	return e.stop.err
}

// root is the caller of the setup helpers: the account root.
var root = service.Caller{Principal: auth.Principal{Root: true, Name: "test"}, Surface: "test"}

// Group creates a group with role (ADMIN, READER...) through the
// service, as the root; it stops the test if that fails.
func (e *Env) Group(t testing.TB, name, role string) {
	t.Helper()
	if _, err := e.Server.Service().CreateGroup(context.Background(), root, service.GroupInput{Name: name, Role: &role}); err != nil {
		t.Fatalf("create group %s: %v", name, err)
	}
}

// UserToken creates a user without a password, in group unless it is "",
// and returns a personal access token of theirs that never expires.
func (e *Env) UserToken(t testing.TB, login, group string) string {
	t.Helper()
	in := service.UserInput{Login: login}
	if group != "" {
		in.Group = &group
	}
	svc := e.Server.Service()
	if _, err := svc.CreateUser(context.Background(), root, in); err != nil {
		t.Fatalf("create user %s: %v", login, err)
	}
	tok, _, err := svc.CreatePAT(context.Background(), root, login, "test", "", time.Time{})
	if err != nil {
		t.Fatalf("create a token for %s: %v", login, err)
	}
	return tok
}
