package testenv

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// VaultEpoch is where the clock of a Vault surface's tests starts: its
// fraction has trailing zeros, so that answers show Vault's trimming of
// them (vault-kv2.md 2.6).
var VaultEpoch = time.Date(2026, 5, 1, 10, 0, 0, 123456700, time.UTC)

// Unsetenv unsets, for the whole test binary, every environment variable
// whose name starts with one of prefixes: a TestMain's first step where a
// client reads its settings from the environment (VAULT_*), so that tests
// never depend on the developer's shell (vault-kv2.md 7).
func Unsetenv(prefixes ...string) {
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		for _, p := range prefixes {
			if strings.HasPrefix(name, p) {
				os.Unsetenv(name)
			}
		}
	}
}

// VaultModes are the two addressing modes of the Vault-compatible
// surfaces (vault-kv2.md 1): the server itself for the default domain,
// "default", and /api/{okmsId} under it, "domain".
var VaultModes = []string{"default", "domain"}

// VaultPrefix is the path prefix of raw requests in mode.
func (e *Env) VaultPrefix(mode string) string {
	if mode == "domain" {
		return "/api/" + e.Domain
	}
	return ""
}

// VaultAddr is the VAULT_ADDR of mode.
func (e *Env) VaultAddr(mode string) string { return e.URL + e.VaultPrefix(mode) }

// VaultClient returns the official Vault client for mode, configured as a
// user would: the address, the root token, and no retries.
func (e *Env) VaultClient(t testing.TB, mode string) *vault.Client {
	t.Helper()
	cfg := vault.DefaultConfig()
	cfg.Address = e.VaultAddr(mode)
	cfg.MaxRetries = 0
	c, err := vault.NewClient(cfg)
	if err != nil {
		t.Fatalf("vault.NewClient: %v", err)
	}
	c.SetToken(RootToken)
	return c
}

// VaultDo sends a raw request to path with the root token as
// X-Vault-Token; extra are header name, value pairs ("X-Vault-Token", ""
// drops the token). Redirects are followed, as the Vault client does.
func (e *Env) VaultDo(t testing.TB, method, path, body string, extra ...string) *wiretest.Response {
	t.Helper()
	hdr := map[string]string{}
	for i := 0; i+1 < len(extra); i += 2 {
		hdr[extra[i]] = extra[i+1]
	}
	return wiretest.Must(t, e.HTTP.Client(), wiretest.Request{Method: method, URL: e.URL + path, Body: body,
		Default: map[string]string{"X-Vault-Token": RootToken}, Header: hdr, FollowRedirects: true})
}

// Python is Debian's interpreter, which sees Debian's python3-hvac (the
// pyenv python3 first on some PATHs does not).
const Python = "/usr/bin/python3"

// HvacMissing returns why Python cannot import hvac, nil when it can:
// hvac tests skip then (apt-get install python3-hvac).
func HvacMissing() error { return exec.Command(Python, "-c", "import hvac").Run() }

// HvacEnv is the environment of an hvac script: this process's without
// the VAULT_* variables hvac would read and without proxies, plus vars.
func HvacEnv(vars map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "VAULT_") || strings.HasSuffix(strings.ToLower(name), "_proxy") {
			continue
		}
		env = append(env, kv)
	}
	for k, v := range vars {
		env = append(env, k+"="+v)
	}
	return env
}
