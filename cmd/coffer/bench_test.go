package main

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/server"
)

// runBench runs `coffer bench` with args and returns the exit code and
// the outputs.
func runBench(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	dir := t.TempDir()
	getenv := func(k string) string {
		if k == "COFFER_CONFIG_DIR" {
			return dir
		}
		return ""
	}
	var out, errOut bytes.Buffer
	code := run(t.Context(), append([]string{"bench"}, args...), getenv, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

func TestBench(t *testing.T) {
	cfg := server.Defaults()
	cfg.Dev = true
	cfg.DevRootToken = testToken
	_, ts, _ := startServer(t, cfg)

	t.Run("table", func(t *testing.T) {
		code, out, errOut := runBench(t, "--addr", ts.URL, "--token", testToken, "--scenario", "kv2-read,rest-read",
			"--requests", "50", "--connections", "4", "--warmup", "0", "--baseline")
		if code != 0 {
			t.Fatalf("coffer bench = exit %d, stderr %q; want 0", code, errOut)
		}
		for _, want := range []string{"SCENARIO", "kv2-read", "rest-read", ts.URL, "baseline", "% BASELINE", "load average"} {
			if !strings.Contains(out, want) {
				t.Errorf("coffer bench output lacks %q:\n%s", want, out)
			}
		}
	})
	t.Run("json", func(t *testing.T) {
		code, out, errOut := runBench(t, "--addr", ts.URL, "--token", testToken, "--scenario", "kv2-write",
			"--requests", "30", "--connections", "3", "--format", "json")
		if code != 0 {
			t.Fatalf("coffer bench --format json = exit %d, stderr %q; want 0", code, errOut)
		}
		var rep struct {
			Machine struct{ CPUs int } `json:"machine"`
			Results []struct {
				Scenario string  `json:"scenario"`
				Requests int     `json:"requests"`
				OK       int     `json:"ok"`
				Errors   int     `json:"errors"`
				Rate     float64 `json:"rate"`
				Latency  struct {
					P50, P99 float64
				} `json:"latencyMs"`
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("coffer bench --format json wrote invalid JSON: %v\n%s", err, out)
		}
		if len(rep.Results) != 1 || rep.Machine.CPUs == 0 {
			t.Fatalf("coffer bench --format json = %+v, want one result and the machine", rep)
		}
		r := rep.Results[0]
		if r.Scenario != "kv2-write" || r.Requests != 30 || r.OK != 30 || r.Errors != 0 || r.Rate <= 0 || r.Latency.P50 <= 0 {
			t.Errorf("coffer bench --format json result = %+v, want 30 ok kv2-write requests with a rate and latencies", r)
		}
	})
	t.Run("usage", func(t *testing.T) {
		for _, args := range [][]string{{"--scenario", "nope"}, {"--connections", "0"}, {"--format", "yaml"}} {
			if code, _, _ := runBench(t, append([]string{"--addr", ts.URL}, args...)...); code != 2 {
				t.Errorf("coffer bench %v = exit %d, want 2", args, code)
			}
		}
	})
}

func TestBench_failsOnErrors(t *testing.T) {
	// The setup's writes succeed and the probe's reads too; then every
	// read is a 500.
	var gets atomic.Int64
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.Write([]byte(`{}`))
			return
		}
		if gets.Add(1) <= 20 { // the probe's reads
			w.Write([]byte(`{"data":{}}`))
			return
		}
		http.Error(w, `{"errors":["boom"]}`, http.StatusInternalServerError)
	}))
	defer failing.Close()
	args := []string{"--addr", failing.URL, "--token", testToken, "--requests", "10", "--connections", "1", "--warmup", "0"}

	code, out, errOut := runBench(t, args...)
	if code != 1 || !strings.Contains(errOut, "10 errors, more than --max-errors 0") || !strings.Contains(out, "kv2-read") {
		t.Errorf("coffer bench against 500s = exit %d, stdout %q, stderr %q; want exit 1, the report and the error count", code, out, errOut)
	}
	gets.Store(0)
	code, _, errOut = runBench(t, append(args, "--max-errors", "10")...)
	if code != 0 {
		t.Errorf("coffer bench --max-errors 10 against 10 errors = exit %d (stderr %q), want 0", code, errOut)
	}
}
