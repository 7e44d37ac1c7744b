package kv2_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/seed-3e8d63de/coffer/internal/testenv"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// rootToken is the dev-mode root token of every test server.
const rootToken = testenv.RootToken

// TestMain clears the VAULT_* environment, which the Vault client reads
// (vault-kv2.md section 7: tests must not depend on the developer's shell),
// and reports golden files no test wrote.
func TestMain(m *testing.M) {
	testenv.Unsetenv("VAULT_")
	wiretest.Main(m, false)
}

// response is a raw HTTP answer, read in full by do.
type response struct {
	status int
	header http.Header
	body   []byte
}

// harness is a real coffer server over TCP, on 127.0.0.1, with its clock.
type harness struct {
	*testenv.Env
	t *testing.T
}

// newHarness starts a dev-mode server (in-memory store, root token
// "root"); dataDir, when set, gives a bolt store there instead.
func newHarness(t *testing.T, dataDir ...string) *harness {
	t.Helper()
	opts := []testenv.Option{testenv.WithClock(testenv.NewClock(testenv.VaultEpoch))}
	if len(dataDir) > 0 {
		opts = append(opts, testenv.OnDisk(dataDir[0]))
	}
	te := testenv.Start(t, opts...)
	return &harness{Env: te, t: t}
}

// addr, prefix and client are testenv's for the Vault surfaces: the
// VAULT_ADDR, the raw path prefix and the official client of an
// addressing mode; modes are the two every client test runs in.
func (h *harness) addr(mode string) string          { return h.VaultAddr(mode) }
func (h *harness) prefix(mode string) string        { return h.VaultPrefix(mode) }
func (h *harness) client(mode string) *vault.Client { return h.VaultClient(h.t, mode) }

var modes = testenv.VaultModes

// do sends a raw request with the root token (testenv.VaultDo).
func (h *harness) do(method, path, body string, extra ...string) response {
	h.t.Helper()
	r := h.VaultDo(h.t, method, path, body, extra...)
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
func get(v any, keys ...string) any { return wiretest.Get(v, keys...) }

// expect checks a response's status; on failure it shows the body.
func expect(t *testing.T, what string, r response, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.status, status, r.body)
	}
}
