package kv2_test

import (
	"context"
	"encoding/json"
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

// rootToken is the dev-mode root token of every test server.
const rootToken = "root"

// TestMain clears the VAULT_* environment, which the Vault client reads
// (vault-kv2.md section 7: tests must not depend on the developer's shell).
func TestMain(m *testing.M) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "VAULT_") {
			os.Unsetenv(name)
		}
	}
	os.Exit(m.Run())
}

// clock is a manual clock: time moves only when a test says so, which
// makes every timestamp of a response deterministic.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// epoch is the start of every test clock; its fraction has trailing zeros
// so that responses show Vault's trimming (vault-kv2.md 2.6).
var epoch = time.Date(2026, 5, 1, 10, 0, 0, 123456700, time.UTC)

// harness is a real coffer server over TCP, on 127.0.0.1, with its clock.
type harness struct {
	t      *testing.T
	srv    *server.Server
	http   *httptest.Server
	domain string
	clock  *clock
}

// newHarness starts a dev-mode server (in-memory store, root token
// "root"); dataDir, when set, gives a bolt store there instead.
func newHarness(t *testing.T, dataDir ...string) *harness {
	t.Helper()
	h := &harness{t: t, clock: &clock{t: epoch}}
	cfg := server.Defaults()
	cfg.Dev = true
	if len(dataDir) > 0 {
		cfg.Dev, cfg.DataDir, cfg.RootToken = false, dataDir[0], rootToken
	}
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

// addr is the VAULT_ADDR of an addressing mode (vault-kv2.md section 1):
// the server itself for the default domain, or /api/{okmsId} under it.
func (h *harness) addr(mode string) string {
	if mode == "domain" {
		return h.http.URL + "/api/" + h.domain
	}
	return h.http.URL
}

// modes are the two addressing modes every client test runs in.
var modes = []string{"default", "domain"}

// prefix is the path prefix of raw requests in a mode.
func (h *harness) prefix(mode string) string {
	if mode == "domain" {
		return "/api/" + h.domain
	}
	return ""
}

// client returns the official Vault client for mode, configured as a user
// would: address, token, and no retries.
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

// response is a raw HTTP answer.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a raw request with the root token; extra is a list of header
// name, value pairs ("X-Vault-Token", "" drops the token).
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
		h.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// patchType is the header pair of a merge-patch request.
var patchType = []string{"Content-Type", "application/merge-patch+json"}

// json decodes the body as a JSON object (numbers as json.Number).
func (r response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(strings.NewReader(string(r.body)))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("decode %q: %v", r.body, err)
	}
	return m
}

// errors returns the errors array of an error body.
func (r response) errors(t *testing.T) []string {
	t.Helper()
	raw, ok := r.json(t)["errors"].([]any)
	if !ok {
		t.Fatalf("body %s has no errors array", r.body)
	}
	out := make([]string, len(raw))
	for i, e := range raw {
		out[i], _ = e.(string)
	}
	return out
}

// get walks a decoded JSON value along keys ("data", "metadata", …).
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

// expect checks a response's status; on failure it shows the body.
func expect(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.status, status, r.body)
	}
}
