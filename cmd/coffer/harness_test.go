package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// The client commands are tested end to end: run() in-process, with
// captured standard streams and a fake environment, against a real server
// (server.New, in memory unless a test needs files) behind httptest, each
// test with a server of its own. Golden files under testdata/ pin the
// table and JSON outputs; go test -update rewrites them.

const rootToken = testenv.RootToken

// t0 is the server's clock: fixed, so that times are stable.
var t0 = testenv.T0

// childFlag as first argument turns the test binary into the child of the
// coffer run tests (see TestMain).
const childFlag = "-coffer-test-child"

func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == childFlag {
		os.Exit(child(os.Args[2:]))
	}
	code := m.Run()
	if code == 0 && wiretest.FullRun() {
		// Every client command must have succeeded at least once, and
		// failed at least once, in some test.
		for _, path := range leafCommands() {
			if _, ok := succeeded.Load(path); !ok {
				fmt.Fprintf(os.Stderr, "no test runs %q successfully\n", path)
				code = 1
			}
			if _, ok := failed.Load(path); !ok {
				fmt.Fprintf(os.Stderr, "no test runs %q to a failure\n", path)
				code = 1
			}
		}
	}
	os.Exit(wiretest.After(code, false))
}

// child is the program coffer run starts in the tests. It prints, as JSON,
// its arguments, the values of the environment variables named by
// "env=NAME,NAME" and its own /proc/self/cmdline, then exits with the code
// of "exit=N" (default 0). Arguments are "key=value" words.
func child(args []string) int {
	out := struct {
		Args    []string          `json:"args"`
		Env     map[string]string `json:"env"`
		Cmdline []string          `json:"cmdline"`
		Environ []string          `json:"environ"`
	}{Args: os.Args, Env: map[string]string{}}
	code := 0
	for _, a := range args {
		k, v, _ := strings.Cut(a, "=")
		switch k {
		case "env":
			for _, name := range strings.Split(v, ",") {
				if val, ok := os.LookupEnv(name); ok {
					out.Env[name] = val
				}
			}
		case "exit":
			fmt.Sscan(v, &code)
		}
	}
	if b, err := os.ReadFile("/proc/self/cmdline"); err == nil {
		out.Cmdline = strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
	}
	out.Environ = os.Environ()
	b, _ := json.Marshal(out)
	os.Stdout.Write(b)
	return code
}

// harness is one server and the environment of the commands run against
// it.
type harness struct {
	t      *testing.T
	srv    *server.Server
	ts     *httptest.Server
	dir    string            // temporary directory: configuration, files
	env    map[string]string // what getenv returns
	domain string
}

type options struct {
	auditFile bool             // audit to a file, readable with coffer audit tail
	tls       bool             // TLS from the installation CA in a data directory
	seal      string           // the server's --seal; the Argon2id cost of passphrase is lowered
	dataDir   bool             // an embedded store in a data directory instead of memory
	now       func() time.Time // the server's clock, instead of the fixed t0
}

func newHarness(t *testing.T, opt options) *harness {
	t.Helper()
	dir := t.TempDir()
	te := testenv.Start(t, testenv.Configure(func(cfg *server.Config) {
		if opt.auditFile {
			cfg.AuditFile = filepath.Join(dir, "audit.log")
		}
		if opt.now != nil {
			cfg.Now = opt.now
		}
		if opt.tls {
			// The installation CA lands in the data directory: not dev mode.
			cfg.Dev, cfg.TLSAuto, cfg.DataDir, cfg.RootToken = false, true, filepath.Join(dir, "data"), rootToken
			// Certificates are checked against the real time by the TLS
			// stack: issue them at the real time too.
			cfg.Now = nil
		}
		if opt.seal != "" {
			cfg.Seal, cfg.KDFTime, cfg.KDFMemory, cfg.KDFThreads = opt.seal, 1, 64, 1
		}
		if opt.dataDir {
			cfg.Dev, cfg.DataDir, cfg.RootToken = false, filepath.Join(dir, "data"), rootToken
		}
	}))
	srv, ts := te.Server, te.HTTP
	return &harness{t: t, srv: srv, ts: ts, dir: dir, domain: srv.DefaultDomain(), env: map[string]string{
		"COFFER_ADDR":       ts.URL,
		"COFFER_TOKEN":      rootToken,
		"COFFER_CONFIG_DIR": filepath.Join(dir, "config"),
		"HOME":              dir,
	}}
}

// result is what one command did.
type result struct {
	args   []string
	code   int
	stdout string
	stderr string
}

// terminal is a buffer that says it is a terminal (progress tests).
type terminal struct{ bytes.Buffer }

func (*terminal) IsTerminal() bool { return true }

// runIn runs coffer with args, stdin and the harness's environment.
func (h *harness) runIn(stdin string, args ...string) result {
	h.t.Helper()
	var out, errb bytes.Buffer
	code := run(h.t.Context(), args, func(k string) string { return h.env[k] }, strings.NewReader(stdin), &out, &errb)
	record(args, code)
	return result{args: args, code: code, stdout: out.String(), stderr: errb.String()}
}

// succeeded and failed hold the paths of the commands that exited with 0,
// and with another code, in some test.
var succeeded, failed sync.Map

func record(args []string, code int) {
	root := newRootCmd(&env{getenv: func(string) string { return "" }, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
	c, _, err := root.Find(vaultStyleFlags(args))
	if err != nil || c == nil {
		return
	}
	if code == 0 {
		succeeded.Store(c.CommandPath(), true)
	} else {
		failed.Store(c.CommandPath(), true)
	}
}

// leafCommands returns the paths of every command of the client groups
// that has no subcommand.
func leafCommands() []string {
	root := newRootCmd(&env{getenv: func(string) string { return "" }, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
	var out []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.HasSubCommands() {
			out = append(out, c.CommandPath())
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	for _, c := range root.Commands() {
		if slices.Contains(clientGroups, c.Name()) {
			walk(c)
		}
	}
	return out
}

func (h *harness) run(args ...string) result {
	h.t.Helper()
	return h.runIn("", args...)
}

// ok runs a command that must succeed and returns its stdout.
func (h *harness) ok(args ...string) string {
	h.t.Helper()
	r := h.run(args...)
	if r.code != 0 {
		h.t.Fatalf("coffer %s: exit %d, want 0\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs a command that must fail with code and one line on stderr
// containing want; it returns the result.
func (h *harness) fails(code int, want string, args ...string) result {
	h.t.Helper()
	r := h.run(args...)
	r.expectFailure(h.t, code, want)
	return r
}

func (r result) expectFailure(t *testing.T, code int, want string) {
	t.Helper()
	if r.code != code {
		t.Errorf("coffer %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(r.args, " "), r.code, code, r.stdout, r.stderr)
		return
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, "coffer: ") || !strings.Contains(last, want) {
		t.Errorf("coffer %s: stderr %q, want a last line \"coffer: ...%s...\"", strings.Join(r.args, " "), r.stderr, want)
	}
}

// jsonOut decodes the stdout of a command run with --format json.
func jsonOut[T any](t *testing.T, r string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(r), &v); err != nil {
		t.Fatalf("output is not the JSON expected (%T): %v\n%s", v, err, r)
	}
	return v
}

// Golden files: testdata/<name>.golden holds the command line, the exit
// code, stdout and stderr, with the server's address, the temporary
// directory, the domain id, other UUIDs (request ids, policy and
// credential ids), token values, PEM blocks and times normalised.

var (
	reUUID  = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	reToken = regexp.MustCompile(`cof_[a-z]+_[A-Za-z0-9_-]{43}`)
	rePEM   = regexp.MustCompile(`-----BEGIN ([A-Z ]+)-----[^-]*-----END [A-Z ]+-----(\\n|\n)?`)
	reTime  = regexp.MustCompile(`\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z`)
)

func (h *harness) normalize(s string) string {
	s = strings.ReplaceAll(s, h.ts.URL, placeholder("addr")(h.ts.URL))
	s = strings.ReplaceAll(s, h.dir, "<dir>")
	s = strings.ReplaceAll(s, h.domain, placeholder("okms-id")(h.domain))
	s = reToken.ReplaceAllStringFunc(s, placeholder("token"))
	s = rePEM.ReplaceAllString(s, "<pem $1>")
	s = reUUID.ReplaceAllStringFunc(s, placeholder("uuid"))
	return reTime.ReplaceAllStringFunc(s, placeholder("time"))
}

// placeholder replaces a match with <tag...> of the same length, so that
// the columns of tables stay aligned in golden files.
func placeholder(tag string) func(string) string {
	return func(m string) string {
		if n := len(m) - len(tag) - 2; n > 0 {
			return "<" + tag + strings.Repeat(".", n) + ">"
		}
		return "<" + tag + ">"
	}
}

// golden compares r with testdata/<name>.golden.
func (h *harness) golden(name string, r result) {
	h.t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "$ coffer %s\nexit %d\n-- stdout --\n%s", commandLine(r.args), r.code, r.stdout)
	if r.stderr != "" {
		fmt.Fprintf(&b, "-- stderr --\n%s", r.stderr)
	}
	wiretest.Golden(h.t, name, []byte(h.normalize(b.String())))
}

// commandLine renders args as a shell would take them.
func commandLine(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == "" || strings.IndexFunc(a, func(r rune) bool { return !strings.ContainsRune(safeChars, r) }) >= 0 {
			out[i] = shellQuote(a)
		}
	}
	return strings.Join(out, " ")
}

const safeChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./:=@%,+<>"

// check runs a command, expects exit code, and compares with a golden file.
func (h *harness) check(name string, code int, args ...string) result {
	h.t.Helper()
	r := h.run(args...)
	if r.code != code {
		h.t.Errorf("coffer %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	h.golden(name, r)
	return r
}

// writeFile writes a file under the harness's directory and returns its
// path.
func (h *harness) writeFile(name, content string) string {
	h.t.Helper()
	p := filepath.Join(h.dir, name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		h.t.Fatal(err)
	}
	return p
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
