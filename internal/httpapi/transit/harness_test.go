package transit_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/seed-3e8d63de/coffer/internal/testenv"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// rootToken is the root token of every test server.
const rootToken = testenv.RootToken

// TestMain clears the VAULT_* and TRANSIT_* environment, which the Vault
// client and go-kms-wrapping read, and reports the golden files no test
// wrote after a full run (a partial one where hvac, whose goldens these
// are too, is not installed).
func TestMain(m *testing.M) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "VAULT_") || strings.HasPrefix(name, "TRANSIT_") {
			os.Unsetenv(name)
		}
	}
	wiretest.Main(m, !hvacInstalled())
}

func hvacInstalled() bool { return exec.Command(python, "-c", "import hvac").Run() == nil }

// harness is a real coffer server (testenv: dev mode, in-memory store,
// root token "root", a fake clock) over TCP on 127.0.0.1.
type harness struct {
	*testenv.Env
	t *testing.T
}

func newHarness(t *testing.T) *harness { return &harness{Env: testenv.Start(t), t: t} }

// modes are the two addressing modes: /v1/ for the default domain, and
// /api/{okmsId}/v1/.
var modes = []string{"default", "domain"}

func (h *harness) addr(mode string) string {
	if mode == "domain" {
		return h.URL + "/api/" + h.Domain
	}
	return h.URL
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
	req, err := http.NewRequest(method, h.URL+path, rd)
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
	res, err := h.HTTP.Client().Do(req)
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
