package transit_test

import (
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
	testenv.Unsetenv("VAULT_", "TRANSIT_")
	wiretest.Main(m, !hvacInstalled())
}

func hvacInstalled() bool { return testenv.HvacMissing() == nil }

// harness is a real coffer server (testenv: dev mode, in-memory store,
// root token "root", a fake clock) over TCP on 127.0.0.1.
type harness struct {
	*testenv.Env
	t *testing.T
}

func newHarness(t *testing.T) *harness { return &harness{Env: testenv.Start(t), t: t} }

// modes are the two addressing modes: /v1/ for the default domain, and
// /api/{okmsId}/v1/; addr and client are testenv's for them.
var modes = testenv.VaultModes

func (h *harness) addr(mode string) string          { return h.VaultAddr(mode) }
func (h *harness) client(mode string) *vault.Client { return h.VaultClient(h.t, mode) }

// response is a raw HTTP answer, read in full by do.
type response = wiretest.Response

// do sends a raw request with the root token (testenv.VaultDo).
func (h *harness) do(method, path, body string, extra ...string) response {
	h.t.Helper()
	return *h.VaultDo(h.t, method, path, body, extra...)
}
