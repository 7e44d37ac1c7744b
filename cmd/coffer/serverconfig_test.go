package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/testenv"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// The server's settings: one key per flag in the configuration file, the
// environment and the command line layered over each other, print-config,
// and docs/configuration.md kept in step with the flags.

func noEnv(string) string { return "" }

func envOf(kv ...string) func(string) string {
	m := map[string]string{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// TestConfigurationReference: the table of docs/configuration.md is the
// one the flags generate. go test -update rewrites it.
func TestConfigurationReference(t *testing.T) {
	const (
		path  = "../../docs/configuration.md"
		begin = "<!-- BEGIN GENERATED: go test ./cmd/coffer -run TestConfigurationReference -update -->\n"
		end   = "<!-- END GENERATED -->\n"
	)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the generated section's markers", path)
	}
	cmd := newServerCmd(&env{getenv: noEnv, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
	want := referenceTable(cmd.Flags())
	got := doc[i+len(begin) : j]
	if got == want {
		return
	}
	if wiretest.Updating() {
		if err := os.WriteFile(path, []byte(doc[:i+len(begin)]+want+doc[j:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s is out of date with the server's flags; run go test ./cmd/coffer -run TestConfigurationReference -update\n--- doc\n%s\n--- flags\n%s", path, got, want)
}

// TestSettingsFollowFlags: a flag is a setting without anything else to
// write. A flag added to the server command, as another change would add
// one, is a key of the file, a variable of the environment and a row of
// the reference table; and every flag's declared variable is the one its
// name gives.
func TestSettingsFollowFlags(t *testing.T) {
	cmd := newServerCmd(&env{getenv: noEnv, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
	f := cmd.Flags()
	for _, k := range settingKeys(f) {
		if want := "COFFER_" + strings.ToUpper(strings.ReplaceAll(k.flag.Name, "-", "_")); k.env != want {
			t.Errorf("--%s is read from %s; name it %s, as every other flag", k.flag.Name, k.env, want)
		}
		if !strings.Contains(k.flag.Usage, "("+k.env) {
			t.Errorf("--%s's help does not name its variable %s", k.flag.Name, k.env)
		}
	}
	var seal string
	var workers int
	f.StringVar(&seal, "seal-brand-new", "file", "a flag added later")
	f.IntVar(&workers, "brand-new-workers", 4, "another")
	path := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(path, []byte("sealBrandNew: shamir\nbrandNewWorkers: 9\n"), 0o600)
	if _, err := layerSettings(f, noEnv, path); err != nil {
		t.Fatal(err)
	}
	if seal != "shamir" || workers != 9 {
		t.Errorf("from the file: seal %q, workers %d; want shamir, 9", seal, workers)
	}
	if _, err := layerSettings(f, envOf("COFFER_SEAL_BRAND_NEW", "passphrase"), path); err != nil {
		t.Fatal(err)
	}
	if seal != "passphrase" {
		t.Errorf("from the environment over the file: seal %q, want passphrase", seal)
	}
	os.WriteFile(path, []byte("brandNewWorkers: many\n"), 0o600)
	if _, err := layerSettings(f, noEnv, path); err == nil || !strings.Contains(err.Error(), "line 1: brandNewWorkers") {
		t.Errorf("a bad value of a new integer flag = %v, want its line", err)
	}
	table := referenceTable(f)
	for _, w := range []string{"| `sealBrandNew` | `--seal-brand-new` | `COFFER_SEAL_BRAND_NEW` | string | `file` | a flag added later |",
		"| `brandNewWorkers` | `--brand-new-workers` | `COFFER_BRAND_NEW_WORKERS` | integer | `4` | another |"} {
		if !strings.Contains(table, w) {
			t.Errorf("reference table lacks %q:\n%s", w, table)
		}
	}
}

// printed runs coffer server --print-config and returns each key's value
// and origin.
func printed(t *testing.T, getenv func(string) string, args ...string) map[string][2]string {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(t.Context(), append([]string{"server", "--print-config"}, args...), getenv, strings.NewReader(""), &out, &errOut)
	if code != 0 {
		t.Fatalf("coffer server --print-config %v = exit %d: %s", args, code, errOut.String())
	}
	got := map[string][2]string{}
	re := regexp.MustCompile(`^([A-Za-z]+): (.*) # (.*)$`)
	for line := range strings.SplitSeq(out.String(), "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			got[m[1]] = [2]string{m[2], m[3]}
		}
	}
	return got
}

func TestConfigLayering(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "server.yaml")
	os.WriteFile(file, []byte("listen: 127.0.0.1:9000\nrateLimit: 10\nlogLevel: debug\ntlsAuto: true\naccount: from-file\n"), 0o600)
	tests := []struct {
		name   string
		getenv func(string) string
		args   []string
		want   map[string][2]string
	}{
		{"defaults", noEnv, nil, map[string][2]string{
			"listen": {"127.0.0.1:8200", "default"}, "rateLimit": {"0", "default"}, "logLevel": {"info", "default"}, "tlsAuto": {"false", "default"}}},
		{"file", noEnv, []string{"--config", file}, map[string][2]string{
			"listen": {"127.0.0.1:9000", "file line 1"}, "rateLimit": {"10", "file line 2"}, "logLevel": {"debug", "file line 3"},
			"tlsAuto": {"true", "file line 4"}, "dataDir": {"./coffer-data", "default"}}},
		{"file named by the environment", envOf("COFFER_CONFIG", file), nil, map[string][2]string{"listen": {"127.0.0.1:9000", "file line 1"}}},
		{"environment over file", envOf("COFFER_LISTEN", "127.0.0.1:9001", "COFFER_RATE_LIMIT", "5", "COFFER_TLS_AUTO", "false"), []string{"--config", file},
			map[string][2]string{"listen": {"127.0.0.1:9001", "env COFFER_LISTEN"}, "rateLimit": {"5", "env COFFER_RATE_LIMIT"},
				"tlsAuto": {"false", "env COFFER_TLS_AUTO"}, "logLevel": {"debug", "file line 3"}}},
		{"flag over environment and file", envOf("COFFER_LISTEN", "127.0.0.1:9001", "COFFER_LOG_LEVEL", "warn"),
			[]string{"--config", file, "--listen", "127.0.0.1:9002", "--rate-limit", "1", "--account", "flag"},
			map[string][2]string{"listen": {"127.0.0.1:9002", "flag"}, "rateLimit": {"1", "flag"}, "logLevel": {"warn", "env COFFER_LOG_LEVEL"},
				"account": {"flag", "flag"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := printed(t, tc.getenv, tc.args...)
			for k, w := range tc.want {
				if got[k] != w {
					t.Errorf("%s = %q (%s), want %q (%s)", k, got[k][0], got[k][1], w[0], w[1])
				}
			}
		})
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(s), 0o600)
		return p
	}
	tests := []struct {
		name   string
		getenv func(string) string
		file   string
		want   []string
	}{
		{"unknown keys and bad values, in line order", noEnv,
			write("a.yaml", "rateLimit: -1\nlog_level: debug\nlogLevel: loud\ntlsAuto: maybe\nlisten: [a, b]\n"), []string{
				"line 1: rateLimit: want a number of 0 or more",
				`line 2: unknown key "log_level"; did you mean "logLevel"?`,
				"line 3: logLevel: want debug, info, warn or error",
				"line 4: tlsAuto:",
				"line 5: listen: want a single value"}},
		{"a bad region", noEnv, write("b.yaml", "regions:\n  - id: a\n    storage: {type: bolt}\n"), []string{"line 2: regions[0]", "needs a path"}},
		{"not YAML", noEnv, write("c.yaml", "listen: [\n"), []string{"c.yaml", "yaml: line 1"}},
		{"a bad environment variable", envOf("COFFER_MAX_POLICIES", "lots"), write("d.yaml", ""), []string{"COFFER_MAX_POLICIES: want a number"}},
		{"storage beside regions", envOf("COFFER_PG_URL", "postgres://db/x"),
			write("e.yaml", "regions:\n  - id: a\n    storage: {type: memory}\n"), []string{"declares regions"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var out, errOut bytes.Buffer
			code := run(t.Context(), []string{"server", "--config", tc.file, "--data-dir", dir}, tc.getenv, strings.NewReader(""), &out, &errOut)
			if code != 2 {
				t.Fatalf("exit %d, want 2; stderr %s", code, errOut.String())
			}
			last := -1
			for _, w := range tc.want {
				i := strings.Index(errOut.String(), w)
				if i < 0 {
					t.Errorf("stderr %q lacks %q", errOut.String(), w)
				}
				if i < last {
					t.Errorf("%q comes before the problem of an earlier line", w)
				}
				last = i
			}
		})
	}
}

// TestPrintConfigRedacts: secrets and passwords in URLs never show, and
// what print-config prints is a configuration file that gives the same
// configuration.
func TestPrintConfigRedacts(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "server.yaml")
	os.WriteFile(file, []byte(`devRootToken: tok-SECRET-1
pgUrl: "postgres://coffer:pw-SECRET-2@db:5432/coffer?sslmode=disable&sslpassword=pw-SECRET-3"
listen: 127.0.0.1:9100
`), 0o600)
	var out, errOut bytes.Buffer
	if code := run(t.Context(), []string{"server", "--print-config", "--config", file}, noEnv, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if strings.Contains(out.String(), "SECRET") {
		t.Errorf("print-config shows a secret:\n%s", out.String())
	}
	for _, w := range []string{"devRootToken: <redacted> # file line 1", "pgUrl: postgres://coffer:<redacted>@db:5432/coffer?sslmode=disable&sslpassword=<redacted> # file line 2"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("print-config lacks %q:\n%s", w, out.String())
		}
	}
	regions := filepath.Join(dir, "regions.yaml")
	os.WriteFile(regions, []byte("listen: 127.0.0.1:9101\nregions:\n  - id: a\n    storage: {type: postgres, url: 'postgres://u:pw-SECRET-4@db/x'}\n  - id: b\n    storage: {path: /d/b.db}\n"), 0o600)
	again := filepath.Join(dir, "again.yaml")
	out.Reset()
	if code := run(t.Context(), []string{"server", "--print-config", "--config", regions}, noEnv, strings.NewReader(""), &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	if strings.Contains(out.String(), "SECRET") || !strings.Contains(out.String(), "url: postgres://u:<redacted>@db/x") {
		t.Errorf("print-config shows a region's password, or not its URL:\n%s", out.String())
	}
	// Fed back as the configuration, it is the same configuration.
	os.WriteFile(again, out.Bytes(), 0o600)
	first := printed(t, noEnv, "--config", regions)
	second := printed(t, noEnv, "--config", again)
	for k, v := range first {
		if second[k][0] != v[0] {
			t.Errorf("%s = %q from the printed file, %q from the original", k, second[k][0], v[0])
		}
	}
}

// serverRun is a coffer server run in-process through run().
type serverRun struct {
	addr   string
	cancel context.CancelFunc
	done   chan int
	logs   *testenv.LogBuffer
}

// startServerRun runs `coffer server args...` until the test ends, and
// waits until it listens.
func startServerRun(t *testing.T, getenv func(string) string, args ...string) *serverRun {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	s := &serverRun{cancel: cancel, done: make(chan int, 1), logs: &testenv.LogBuffer{}}
	go func() {
		s.done <- run(ctx, append([]string{"server"}, args...), getenv, strings.NewReader(""), io.Discard, pw)
		pw.Close()
	}()
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pr)
		for sc.Scan() {
			s.logs.Write(append(sc.Bytes(), '\n'))
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Msg == "listening" {
				addrc <- rec.Addr
			}
		}
	}()
	t.Cleanup(s.stop)
	select {
	case s.addr = <-addrc:
	case code := <-s.done:
		s.done <- code
		t.Fatalf("coffer server exited with %d: %s", code, s.logs.String())
	case <-time.After(20 * time.Second):
		t.Fatalf("coffer server did not listen: %s", s.logs.String())
	}
	return s
}

// stop stops the server and waits for run to return.
func (s *serverRun) stop() {
	s.cancel()
	code := <-s.done
	s.done <- code
}

// TestServerFromConfigFile: a server started from a configuration file
// runs with its settings: the address, the dev store and the root token.
func TestServerFromConfigFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "server.yaml")
	os.WriteFile(file, []byte("listen: 127.0.0.1:0\ndev: true\ndevRootToken: file-token\n"), 0o600)
	s := startServerRun(t, noEnv, "--config", file)
	req, _ := http.NewRequest("GET", "http://"+s.addr+"/v2/okms/resource", nil)
	req.Header.Set("Authorization", "Bearer file-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /v2/okms/resource with the file's root token = %d", resp.StatusCode)
	}
}

// TestReloadConfigFile: a server whose configuration file changes puts the
// new log level and limits in force by itself, and says that a changed
// listen address needs a restart, naming the key and not the value.
func TestReloadConfigFile(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "server.yaml")
	write := func(s string) {
		// A new file renamed over the old, as configuration management does.
		os.WriteFile(file+".new", []byte(s), 0o600)
		os.Rename(file+".new", file)
	}
	write("listen: 127.0.0.1:0\ndev: true\ndevRootToken: reload-token\nreloadInterval: 20ms\n")
	s := startServerRun(t, noEnv, "--config", file)
	get := func() int {
		req, _ := http.NewRequest("GET", "http://"+s.addr+"/v2/okms/resource", nil)
		req.Header.Set("Authorization", "Bearer reload-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if a, b := get(), get(); a != 200 || b != 200 {
		t.Fatalf("before the change: %d, %d", a, b)
	}
	write("listen: 127.0.0.1:1\ndev: true\ndevRootToken: reload-token\nreloadInterval: 20ms\nlogLevel: warn\nrateLimit: 0.001\nrateBurst: 1\n")
	waitLog(t, s, `"msg":"reload: setting changed","key":"rateLimit"`)
	deadline := time.Now().Add(10 * time.Second)
	for get() != 429 { // the server puts the limits in force right after
		if time.Now().After(deadline) {
			t.Fatal("rateLimit 0.001 not in force 10s after the reload")
		}
		time.Sleep(10 * time.Millisecond)
	}
	logs := s.logs.String()
	for _, w := range []string{`"msg":"reload: a setting changed; it takes effect at the next restart","key":"listen"`,
		`"msg":"reload: setting changed","key":"logLevel"`, `"msg":"reload: setting changed","key":"rateLimit"`} {
		if !strings.Contains(logs, w) {
			t.Errorf("the log lacks %s:\n%s", w, logs)
		}
	}
	if strings.Contains(logs, "127.0.0.1:1") {
		t.Errorf("the log shows a changed value:\n%s", logs)
	}
	// logLevel warn: requests are no longer logged (the access log is info).
	before := strings.Count(s.logs.String(), `"msg":"request"`)
	get()
	if after := strings.Count(s.logs.String(), `"msg":"request"`); after != before {
		t.Errorf("after logLevel: warn, a request was still logged at info")
	}
	// A file that no longer parses changes nothing.
	write("listen: [\n")
	waitLog(t, s, `"msg":"reload: the configuration was not re-read`)
	if a := get(); a != 429 {
		t.Errorf("after a broken file, the limits in force changed: %d", a)
	}
}

// waitLog waits until the server logged want.
func waitLog(t *testing.T, s *serverRun, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.logs.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the server did not log %s within 10s:\n%s", want, s.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDeploymentFilesUseKnownVariables: every COFFER_ variable that the
// image, the compose file, the systemd units and the operators'
// documentation name is one coffer reads: a setting's variable, or one
// the commands read.
func TestDeploymentFilesUseKnownVariables(t *testing.T) {
	t.Parallel()
	known := map[string]bool{"COFFER_TEST_PGURL": true}
	cmd := newServerCmd(&env{getenv: noEnv, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
	for _, k := range settingKeys(cmd.Flags()) {
		known[k.env] = true
	}
	sources, _ := filepath.Glob("*.go")
	lit := regexp.MustCompile(`"(COFFER_[A-Z0-9_]+)"`)
	for _, f := range sources {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, _ := os.ReadFile(f)
		for _, m := range lit.FindAllSubmatch(b, -1) {
			known[string(m[1])] = true
		}
	}
	files := []string{"../../Dockerfile", "../../docker-compose.yml", "../../docs/production.md", "../../docs/configuration.md"}
	units, _ := filepath.Glob("../../contrib/systemd/*")
	files = append(files, units...)
	name := regexp.MustCompile(`\bCOFFER_[A-Z0-9_]*[A-Z0-9]\b`)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range name.FindAllString(string(b), -1) {
			if !known[v] {
				t.Errorf("%s names %s, which coffer does not read", f, v)
			}
		}
	}
}
