package kv2_test

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

// TestMain clears the VAULT_* environment, which the Vault client reads
// (vault-kv2.md section 7: tests must not depend on the developer's shell),
// and reports golden files no test wrote.
func TestMain(m *testing.M) {
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "VAULT_") {
			os.Unsetenv(name)
		}
	}
	wiretest.Main(m, false)
}

// epoch is the start of every test clock; its fraction has trailing zeros
// so that responses show Vault's trimming (vault-kv2.md 2.6).
var epoch = time.Date(2026, 5, 1, 10, 0, 0, 123456700, time.UTC)

// harness is a real coffer server over TCP, on 127.0.0.1, with its clock.
type harness struct {
	t      *testing.T
	te     *testenv.Env
	srv    *server.Server
	http   *httptest.Server
	domain string
	clock  *testenv.Clock
}

// newHarness starts a dev-mode server (in-memory store, root token
// "root"); dataDir, when set, gives a bolt store there instead.
func newHarness(t *testing.T, dataDir ...string) *harness {
	t.Helper()
	opts := []testenv.Option{testenv.WithClock(testenv.NewClock(epoch))}
	if len(dataDir) > 0 {
		opts = append(opts, testenv.OnDisk(dataDir[0]))
	}
	te := testenv.Start(t, opts...)
	return &harness{t: t, te: te, srv: te.Server, http: te.HTTP, domain: te.Domain, clock: te.Clock}
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
	hdr := map[string]string{}
	for i := 0; i+1 < len(extra); i += 2 {
		hdr[extra[i]] = extra[i+1]
	}
	r := wiretest.Must(h.t, h.http.Client(), wiretest.Request{Method: method, URL: h.http.URL + path, Body: body,
		Default: map[string]string{"X-Vault-Token": rootToken}, Header: hdr, FollowRedirects: true})
	return response{status: r.Status, header: r.Header, body: r.Body}
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
