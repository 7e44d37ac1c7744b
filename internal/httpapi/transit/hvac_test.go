package transit_test

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// python is Debian's interpreter, which sees Debian's python3-hvac.
const python = testenv.Python

// TestHvac drives a real coffer server with python hvac through
// testdata/hvac_transit.py in both addressing modes: keys, batch
// encrypt/decrypt, rewrap, data keys, sign/verify, HMAC, random, hash,
// config, trim, delete; the envelopes hvac received are compared with
// goldens (hvac_<name>.golden; -update rewrites them). Skipped where hvac
// is not installed.
func TestHvac(t *testing.T) {
	if !hvacInstalled() {
		t.Skipf("%s cannot import hvac (apt-get install python3-hvac)", python)
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t)
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, python, "testdata/hvac_transit.py")
			cmd.Env = hvacEnv(map[string]string{"COFFER_ADDR": h.addr(mode), "COFFER_TOKEN": rootToken})
			out, err := cmd.CombinedOutput()
			var checks []string
			for _, line := range strings.Split(string(out), "\n") {
				if rest, ok := strings.CutPrefix(line, "ENVELOPE "); ok {
					name, body, _ := strings.Cut(rest, " ")
					if mode == "default" {
						checkGolden(t, "hvac_"+name, h.normalise(response{Status: 200, Body: []byte(body)}))
					}
					continue
				}
				checks = append(checks, line)
			}
			t.Logf("hvac_transit.py:\n%s", strings.Join(checks, "\n"))
			if err != nil {
				t.Fatalf("hvac_transit.py: %v", err)
			}
			if !bytes.Contains(out, []byte("ok   verify hmac")) {
				t.Fatal("hvac_transit.py did not run its checks")
			}
		})
	}
}

// hvacEnv is testenv's: this process's environment without the VAULT_*
// variables hvac would read and without proxies, plus vars.
var hvacEnv = testenv.HvacEnv
