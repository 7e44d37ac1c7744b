package kv2_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// python is Debian's interpreter, which sees Debian's python3-hvac (the
// pyenv python3 first on some PATHs does not).
const python = testenv.Python

// TestHvac drives a real coffer server on 127.0.0.1 with python hvac
// (Debian's python3-hvac 0.11.2) through testdata/hvac_client.py, in both
// addressing modes: reads of active, deactivated and destroyed versions,
// writes with and without CAS, patch, delete, undelete, destroy, list,
// metadata and configuration (vault-kv2.md section 7, issue 17 part 2).
// Skipped where hvac is not installed; CI installs it (.ci/run).
func TestHvac(t *testing.T) {
	t.Parallel()
	if err := testenv.HvacMissing(); err != nil {
		t.Skipf("%s cannot import hvac (apt-get install python3-hvac): %v", python, err)
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, python, "testdata/hvac_client.py")
			cmd.Env = hvacEnv(map[string]string{
				"COFFER_ADDR": h.addr(mode), "COFFER_TOKEN": rootToken, "COFFER_PREFIX": "hvac/" + mode,
			})
			out, err := cmd.CombinedOutput()
			t.Logf("hvac_client.py:\n%s", out)
			if err != nil {
				t.Fatalf("hvac_client.py: %v", err)
			}
			if !strings.Contains(string(out), "ok   read_secret_metadata") {
				t.Fatalf("hvac_client.py did not run its checks")
			}
		})
	}
}

// hvacEnv is the environment of the script (testenv.HvacEnv).
var hvacEnv = testenv.HvacEnv
