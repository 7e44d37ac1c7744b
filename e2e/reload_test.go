package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGHUP: the real binary, run from a configuration file, survives
// SIGHUP and reloads: after logrotate's create mode (rename, create,
// SIGHUP) the audit events go to the new file, and a log level changed in
// the file is in force.
func TestSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	auditPath := filepath.Join(dir, "audit.log")
	cfg := filepath.Join(dir, "server.yaml")
	write := func(s string) {
		if err := os.WriteFile(cfg, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// reloadInterval 0: only the signal reloads.
	base := "dev: true\ndevRootToken: hup-token\nreloadInterval: 0s\nauditFile: " + auditPath + "\n"
	write(base)
	p := start(t, nil, "--config", cfg)
	if st, b := p.do(t, "hup-token", "GET", "/v2/okms/resource", ""); st != 200 {
		t.Fatalf("GET /v2/okms/resource = %d %s", st, b)
	}
	if err := os.Rename(auditPath, auditPath+".1"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(auditPath, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	write(base + "logLevel: warn\n")
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	// The log level goes to warn with the reload: its info records (the
	// reopen's, the requests') are no longer written; the audit file tells.
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(p.logs.String(), `"msg":"reload: setting changed","key":"logLevel"`) {
		if time.Now().After(deadline) || p.cmd.ProcessState != nil {
			t.Fatalf("no reload logged within 10s after SIGHUP:\n%s", p.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	requests := strings.Count(p.logs.String(), `"msg":"request"`)
	sent := 1
	for {
		if st, b := p.do(t, "hup-token", "GET", "/v2/okms/resource", ""); st != 200 {
			t.Fatalf("GET /v2/okms/resource after SIGHUP = %d %s", st, b)
		}
		sent++
		if cur, _ := os.ReadFile(auditPath); len(cur) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no audit event in the new file within 10s after SIGHUP")
		}
		time.Sleep(10 * time.Millisecond)
	}
	old, _ := os.ReadFile(auditPath + ".1")
	cur, _ := os.ReadFile(auditPath)
	lines := strings.Split(strings.TrimSpace(string(old))+"\n"+strings.TrimSpace(string(cur)), "\n")
	seen := map[string]bool{}
	for _, l := range lines {
		if seen[l] {
			t.Errorf("audit line twice: %s", l)
		}
		seen[l] = true
	}
	// The domain list changes nothing: one event per request.
	if len(lines) != sent || !strings.Contains(string(old), `"phase":"request+response"`) {
		t.Errorf("%d audit lines for %d requests (old file %d bytes, new %d)", len(lines), sent, len(old), len(cur))
	}
	if strings.Count(p.logs.String(), `"msg":"request"`) != requests {
		t.Errorf("logLevel: warn reloaded by SIGHUP, yet the request was logged at info")
	}
}
