package transit_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// rootToken is the dev-mode root token of every test server.
const rootToken = testenv.RootToken

// TestMain clears the VAULT_* and TRANSIT_* environment, which the Vault
// client and go-kms-wrapping read, and reports golden files no test
// wrote.
func TestMain(m *testing.M) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "VAULT_") || strings.HasPrefix(name, "TRANSIT_") {
			os.Unsetenv(name)
		}
	}
	wiretest.Main(m, false)
}

var epoch = time.Date(2026, 5, 1, 10, 0, 0, 123456700, time.UTC)

// harness is a real coffer server (dev mode: in-memory store, root token
// "root") over TCP on 127.0.0.1.
type harness struct {
	t      *testing.T
	srv    *server.Server
	http   *httptest.Server
	domain string
	clock  *testenv.Clock
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	te := testenv.Start(t, testenv.WithClock(testenv.NewClock(epoch)))
	return &harness{t: t, srv: te.Server, http: te.HTTP, domain: te.Domain, clock: te.Clock}
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
	hdr := map[string]string{}
	for i := 0; i+1 < len(extra); i += 2 {
		hdr[extra[i]] = extra[i+1]
	}
	r := wiretest.Must(h.t, h.http.Client(), wiretest.Request{Method: method, URL: h.http.URL + path, Body: body,
		Default: map[string]string{"X-Vault-Token": rootToken}, Header: hdr, FollowRedirects: true})
	return response{status: r.Status, header: r.Header, body: r.Body}
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
