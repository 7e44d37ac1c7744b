package e2e

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// live is a server running in this process on 127.0.0.1, served by
// server.Serve as the binary does (its timeouts and header limit).
type live struct {
	srv    *server.Server
	addr   string // host:port
	base   string // http://host:port
	token  string // the root token
	domain string // the default domain
	dir    string // the data directory
	logs   *testenv.LogBuffer
	audit  string // the audit file, when liveOptions.audit is set
	client *http.Client
	stop   func() // shuts the server down and closes it; also run at cleanup
}

// liveOptions choose the storage of a live server.
type liveOptions struct {
	pgURL  string               // non-empty: PostgreSQL (a schema of the test's own)
	config func(*server.Config) // adjusts the configuration last
	logTo  io.Writer            // also receives the server log
	noLogs bool                 // keep no copy of the server log (long runs): only logTo gets it
	audit  bool                 // audit to <data dir>/audit.log (flushed per event) rather than the log
	dir    string               // the data directory; default a new temporary one
	token  string               // the root token set on first start; default a random one
}

// startLive starts a server on bbolt (or PostgreSQL) in a temporary data
// directory and stops it when the test ends.
func startLive(t *testing.T, opt liveOptions) *live {
	t.Helper()
	dir, token := opt.dir, opt.token
	if dir == "" {
		dir = t.TempDir()
	}
	if token == "" {
		token = "cof_root_" + strings.ToLower(rand.Text())
	}
	l := &live{token: token, dir: dir, logs: &testenv.LogBuffer{},
		audit: filepath.Join(dir, "audit.log")}
	var logOut io.Writer = l.logs
	switch {
	case opt.noLogs && opt.logTo != nil:
		logOut = opt.logTo
	case opt.noLogs:
		logOut = io.Discard
	case opt.logTo != nil:
		logOut = io.MultiWriter(l.logs, opt.logTo)
	}
	cfg := server.Defaults()
	cfg.Listen = "127.0.0.1:0"
	cfg.DataDir = dir
	cfg.RootToken = l.token
	if opt.audit {
		cfg.AuditFile = l.audit
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(logOut, nil))
	cfg.Out = io.Discard
	if opt.pgURL != "" {
		cfg.Storage, cfg.PGURL = "postgres", opt.pgURL
	}
	if opt.config != nil {
		opt.config(&cfg)
	}
	srv, err := server.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	l.srv, l.addr = srv, ln.Addr().String()
	l.base = "http://" + l.addr
	l.domain = srv.DefaultDomain()
	l.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	var once sync.Once
	l.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server.Serve: %v", err)
			}
			l.client.CloseIdleConnections()
			if err := srv.Close(); err != nil {
				t.Errorf("server.Close: %v", err)
			}
		})
	}
	t.Cleanup(l.stop)
	return l
}

// do sends a request with the root token and a JSON body (none when body
// is ""), and returns the status, headers and body.
func (l *live) do(t testing.TB, method, path, body string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	return l.doToken(t, l.token, method, path, body, hdr...)
}

// doToken is do with another token ("" sends none).
func (l *live) doToken(t testing.TB, token, method, path, body string, hdr ...string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, l.base+path, rd)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := l.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp.StatusCode, resp.Header, b
}

// logsContain reports whether the server log holds s.
func (l *live) logsContain(s string) bool { return strings.Contains(l.logs.String(), s) }
