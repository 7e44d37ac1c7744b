package transit_test

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/seed-3e8d63de/coffer/internal/server"
)

// update rewrites the golden files (go test -run TestGolden -update).
var update = flag.Bool("update", false, "rewrite testdata/*.golden")

// rootToken is the dev-mode root token of every test server.
const rootToken = "root"

// TestMain clears the VAULT_* and TRANSIT_* environment, which the Vault
// client and go-kms-wrapping read.
func TestMain(m *testing.M) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "VAULT_") || strings.HasPrefix(name, "TRANSIT_") {
			os.Unsetenv(name)
		}
	}
	os.Exit(m.Run())
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

var epoch = time.Date(2026, 5, 1, 10, 0, 0, 123456700, time.UTC)

// harness is a real coffer server (dev mode: in-memory store, root token
// "root") over TCP on 127.0.0.1.
type harness struct {
	t      *testing.T
	srv    *server.Server
	http   *httptest.Server
	domain string
	clock  *clock
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{t: t, clock: &clock{t: epoch}}
	cfg := server.Defaults()
	cfg.Dev = true
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Out = io.Discard
	cfg.Now = h.clock.Now
	s, err := server.New(context.Background(), cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	h.srv, h.domain = s, s.DefaultDomain()
	h.http = httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		h.http.Close()
		s.Close()
	})
	return h
}

// modes are the two addressing modes: /v1/ for the default domain, and
// /api/{okmsId}/v1/.
var modes = []string{"default", "domain"}

func (h *harness) addr(mode string) string {
	if mode == "domain" {
		return h.http.URL + "/api/" + h.domain
	}
	return h.http.URL
}

func (h *harness) prefix(mode string) string {
	if mode == "domain" {
		return "/api/" + h.domain
	}
	return ""
}

// client is the official Vault client for mode.
func (h *harness) client(mode string) *vault.Client {
	h.t.Helper()
	cfg := vault.DefaultConfig()
	cfg.Address = h.addr(mode)
	cfg.MaxRetries = 0
	c, err := vault.NewClient(cfg)
	if err != nil {
		h.t.Fatalf("vault.NewClient: %v", err)
	}
	c.SetToken(rootToken)
	return c
}

type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a raw request with the root token; extra are header name,
// value pairs ("X-Vault-Token", "" drops the token).
func (h *harness) do(method, path, body string, extra ...string) response {
	h.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, h.http.URL+path, rd)
	if err != nil {
		h.t.Fatalf("NewRequest %s %s: %v", method, path, err)
	}
	req.Header.Set("X-Vault-Token", rootToken)
	for i := 0; i+1 < len(extra); i += 2 {
		if extra[i+1] == "" {
			req.Header.Del(extra[i])
			continue
		}
		req.Header.Set(extra[i], extra[i+1])
	}
	res, err := h.http.Client().Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
	return m
}

func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func expect(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.status, status, r.body)
	}
}
