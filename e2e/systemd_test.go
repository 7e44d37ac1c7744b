package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const unitFile = "../contrib/systemd/coffer.service"

// unitFor returns a copy of the unit whose commands run the binary under
// test (systemd-analyze verify checks that they exist).
func unitFor(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "coffer.service")
	if err := os.WriteFile(path, bytes.ReplaceAll(b, []byte("/usr/local/bin/coffer"), []byte(coffer(t))), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSystemdUnit: systemd-analyze verify accepts contrib/systemd's unit
// and its timer, and systemd-analyze security rates the service's
// sandboxing OK (exposure below 2 on its 0–10 scale).
func TestSystemdUnit(t *testing.T) {
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Skip("systemd-analyze is not installed")
	}
	unit := unitFor(t)
	dir := filepath.Dir(unit)
	for _, name := range []string{"coffer-backup.service", "coffer-backup.timer"} {
		b, err := os.ReadFile(filepath.Join("../contrib/systemd", name))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, name), bytes.ReplaceAll(b, []byte("/usr/local/bin/coffer"), []byte(coffer(t))), 0o644)
	}
	// The unit with its passphrase-seal lines in force.
	b, _ := os.ReadFile(unit)
	sealed := regexp.MustCompile(`(?m)^#((?:LoadCredential=unseal-passphrase|ExecStartPost=).*)$`).ReplaceAll(b, []byte("$1"))
	sealed = regexp.MustCompile(`(?m)^(?:Environment=COFFER_ROOT_KEY_FILE|LoadCredential=root\.key).*\n`).ReplaceAll(sealed, nil)
	if bytes.Equal(sealed, b) {
		t.Fatal("the unit has no passphrase-seal variant")
	}
	sealedUnit := filepath.Join(t.TempDir(), "coffer.service")
	os.WriteFile(sealedUnit, sealed, 0o644)
	for _, u := range []string{unit, sealedUnit, filepath.Join(dir, "coffer-backup.service"), filepath.Join(dir, "coffer-backup.timer")} {
		out, err := exec.Command("systemd-analyze", "verify", u).CombinedOutput()
		if err != nil || len(bytes.TrimSpace(out)) > 0 {
			t.Errorf("systemd-analyze verify %s: %v\n%s", filepath.Base(u), err, out)
		}
	}
	out, err := exec.Command("systemd-analyze", "security", "--offline=true", unit).CombinedOutput()
	if err != nil {
		t.Skipf("systemd-analyze security --offline is not supported here: %v\n%s", err, out)
	}
	m := regexp.MustCompile(`Overall exposure level for coffer\.service: ([0-9.]+) (\S+)`).FindSubmatch(out)
	if m == nil {
		t.Fatalf("no overall exposure in:\n%s", out)
	}
	if score, _ := strconv.ParseFloat(string(m[1]), 64); score >= 2 {
		t.Errorf("systemd-analyze security: exposure %s %s, want below 2:\n%s", m[1], m[2], out)
	}
	t.Logf("systemd-analyze security: exposure %s %s", m[1], m[2])
}

// TestSystemdSyscalls runs the server under strace through start-up, a
// write (fsync), reads, metrics (/proc), a reload (SIGHUP), sd_notify and
// shutdown, and checks that every system call it made is one the unit's
// SystemCallFilter allows, as systemd-analyze expands its groups: the
// filter does not break the server.
func TestSystemdSyscalls(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the binary under strace")
	}
	for _, tool := range []string{"strace", "systemd-analyze"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	allowed, denied := unitSyscallFilter(t)

	dir := t.TempDir()
	notify := filepath.Join(dir, "notify.sock")
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notify, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	trace := filepath.Join(dir, "strace.out")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "strace", "-f", "-qq", "-o", trace, "-e", "trace=all", "-e", "signal=none", "--",
		coffer(t), "server", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"),
		"--audit-file", filepath.Join(dir, "audit.log"), "--tls-auto")
	cmd.Env = append(os.Environ(), "NOTIFY_SOCKET="+notify, "COFFER_INIT_ROOT_TOKEN=cof_root_strace-test", "COFFER_LOG_LEVEL=warn")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Skipf("strace cannot run here: %v", err)
	}
	sock.SetReadDeadline(time.Now().Add(60 * time.Second))
	buf := make([]byte, 512)
	n, err := sock.Read(buf)
	if err != nil || !strings.HasPrefix(string(buf[:n]), "READY=1") {
		cmd.Process.Kill()
		cmd.Wait()
		t.Skipf("the server did not start under strace (ptrace not allowed?): %v %q\n%s", err, buf[:n], stderr.String())
	}
	addr := strings.TrimPrefix(string(buf[:n]), "READY=1\nSTATUS=serving https on ")
	for _, args := range [][]string{
		{"secret", "create", "strace/db", "password=s3cret"},
		{"secret", "get", "strace/db", "--include-data"},
		{"secret", "list"},
	} {
		c := exec.Command(coffer(t), append(args, "--addr", "https://"+addr, "--ca", filepath.Join(dir, "data", "ca.pem"), "--token", "cof_root_strace-test")...)
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("coffer %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	if out, err := exec.Command(coffer(t), "healthcheck", "--addr", addr).CombinedOutput(); err != nil {
		t.Fatalf("healthcheck: %v\n%s", err, out)
	}
	probeMetrics(t, addr)
	// The signals go to the server, strace's child, as systemd sends them.
	kids, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", cmd.Process.Pid, cmd.Process.Pid))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(kids)))
	if err != nil || pid == 0 {
		t.Fatalf("the server's pid under strace: %q, %v", kids, err)
	}
	syscall.Kill(pid, syscall.SIGHUP)
	time.Sleep(200 * time.Millisecond)
	syscall.Kill(pid, syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the server under strace: %v\n%s", err, stderr.String())
	}

	used := map[string]int{}
	f, err := os.Open(trace)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	call := regexp.MustCompile(`^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]`)
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if m := call.FindStringSubmatch(sc.Text()); m != nil {
			used[m[1]]++
		}
	}
	var bad, seen []string
	for name := range used {
		seen = append(seen, name)
		if !allowed[name] || denied[name] {
			bad = append(bad, name)
		}
	}
	slices.Sort(seen)
	if len(used) < 20 {
		t.Fatalf("only %d system calls traced: %v", len(used), seen)
	}
	// execve is strace's own start of the binary; systemd allows it too.
	if bad = slices.DeleteFunc(bad, func(s string) bool { return s == "execve" }); len(bad) > 0 {
		slices.Sort(bad)
		t.Errorf("system calls the unit's SystemCallFilter denies: %v", bad)
	}
	t.Logf("%d distinct system calls, all allowed by the unit: %v", len(used), seen)
}

// probeMetrics reads /metrics, whose process collector reads /proc.
func probeMetrics(t *testing.T, addr string) {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Get("https://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !bytes.Contains(b, []byte("process_open_fds")) {
		t.Fatalf("GET /metrics = %d %.300s", resp.StatusCode, b)
	}
}

// unitSyscallFilter returns the system calls the unit's SystemCallFilter
// lines allow and deny, with systemd-analyze's groups expanded.
func unitSyscallFilter(t *testing.T) (allowed, denied map[string]bool) {
	t.Helper()
	out, err := exec.Command("systemd-analyze", "syscall-filter").Output()
	if err != nil {
		t.Skipf("systemd-analyze syscall-filter: %v", err)
	}
	groups := map[string][]string{}
	var cur string
	for line := range strings.SplitSeq(string(out), "\n") {
		switch {
		case strings.HasPrefix(line, "@"):
			cur = strings.TrimSpace(line)
		case strings.HasPrefix(line, "    ") && !strings.HasPrefix(strings.TrimSpace(line), "#") && cur != "":
			groups[cur] = append(groups[cur], strings.TrimSpace(line))
		}
	}
	var expand func(name string, into map[string]bool)
	expand = func(name string, into map[string]bool) {
		if !strings.HasPrefix(name, "@") {
			into[name] = true
			return
		}
		for _, m := range groups[name] {
			expand(m, into)
		}
	}
	b, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	allowed, denied = map[string]bool{}, map[string]bool{}
	expand("@default", allowed) // always permitted
	for line := range strings.SplitSeq(string(b), "\n") {
		v, ok := strings.CutPrefix(line, "SystemCallFilter=")
		if !ok {
			continue
		}
		into := allowed
		if v, ok = strings.CutPrefix(v, "~"); ok {
			into = denied
		}
		for _, name := range strings.Fields(v) {
			expand(name, into)
		}
	}
	if len(allowed) < 100 || len(denied) == 0 {
		t.Fatalf("the unit's filter expands to %d allowed and %d denied calls", len(allowed), len(denied))
	}
	return allowed, denied
}
