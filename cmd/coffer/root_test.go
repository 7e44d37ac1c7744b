package main

import (
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// clientGroups are the commands of the client; server and operator are
// tested elsewhere.
var clientGroups = []string{"login", "logout", "profile", "secret", "kv", "domain", "user", "group", "token",
	"policy", "credential", "audit", "run", "export", "completion", "help", "service-account", "key"}

// TestHelp: every command has an example (README: "Every command has
// --help with examples"), and --help prints it with exit code 0.
func TestHelp(t *testing.T) {
	t.Parallel()
	root := newRootCmd(&env{getenv: func(string) string { return "" }, stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard})
	var walk func(c *cobra.Command, path []string)
	n := 0
	walk = func(c *cobra.Command, path []string) {
		n++
		if c.Example == "" {
			t.Errorf("coffer %s has no example", strings.Join(path, " "))
		}
		for _, sub := range c.Commands() {
			walk(sub, append(slices.Clone(path), sub.Name()))
		}
	}
	for _, c := range root.Commands() {
		walk(c, []string{c.Name()})
	}
	if n < 70 {
		t.Errorf("walked %d commands; expected every client command", n)
	}
	h := &harness{t: t, env: map[string]string{}}
	for _, args := range [][]string{{"--help"}, {"secret", "--help"}, {"secret", "create", "--help"}, {"kv", "get", "-h"},
		{"help", "export"}, {"secret"}, {"secret", "version"}} {
		r := h.run(args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") || r.stderr != "" {
			t.Errorf("coffer %s: exit %d, stdout %q, stderr %q", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
		if len(args) > 1 && args[1] != "version" && args[0] != "secret" && !strings.Contains(r.stdout, "Examples:") {
			t.Errorf("coffer %s: no Examples section", strings.Join(args, " "))
		}
	}
	hr := h.run("export", "--help")
	for _, want := range []string{"'\\''", "--normalize-keys", "db_password"} {
		if !strings.Contains(hr.stdout, want) {
			t.Errorf("coffer export --help does not document %q", want)
		}
	}
}

// TestUsageErrors: command-line mistakes exit with 2 and one line on
// stderr, before anything is sent to the server.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	dir := h.dir
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"bogus"}, `unknown command "bogus" for "coffer"`},
		{"unknown subcommand", []string{"secret", "lst"}, `unknown command "lst" for "coffer secret"; did you mean "list"?`},
		{"unknown flag", []string{"secret", "list", "--bogus"}, "unknown flag: --bogus"},
		{"unknown kv flag", []string{"kv", "get", "-bogus=1", "secret/a"}, "unknown flag: --bogus"},
		{"bad flag value", []string{"secret", "get", "a", "--version", "two"}, `invalid argument "two"`},
		{"malformed DATA", []string{"secret", "create", "a", "nokey"}, `DATA "nokey": expected k=v`},
		{"empty key", []string{"secret", "create", "a", "=v"}, "the key is empty"},
		{"no DATA", []string{"secret", "create", "a"}, "no DATA given"},
		{"DATA file missing", []string{"secret", "create", "a", "@" + dir + "/none.json"}, "no such file"},
		{"DATA file not an object", []string{"kv", "put", "a", "@" + h.writeFile("arr.json", "[1]")}, "not a JSON object"},
		{"DATA file not JSON", []string{"secret", "create", "a", "@" + h.writeFile("bad.json", "{")}, "not JSON"},
		{"DATA duplicate key in file", []string{"secret", "create", "a", "@" + h.writeFile("dup.json", `{"a":1,"a":2}`)}, `key "a" appears twice`},
		{"missing argument", []string{"secret", "get"}, "takes PATH; got 0 argument(s)"},
		{"extra argument", []string{"secret", "list", "x"}, "takes no argument"},
		{"bad version", []string{"secret", "version", "get", "a", "0"}, `version "0"`},
		{"bad format", []string{"secret", "list", "--format", "xml"}, "--format must be table or json"},
		{"bad export format", []string{"export", "a", "--format", "toml"}, "--format must be env, json or yaml"},
		{"nothing to update", []string{"secret", "update", "a"}, "nothing to update"},
		{"cert without key", []string{"secret", "list", "--client-cert", "c.pem"}, "--client-cert and --client-key go together"},
		{"bad address", []string{"secret", "list", "--addr", "127.0.0.1:8200"}, "not an http:// or https:// URL"},
		{"unknown profile", []string{"secret", "list", "--profile", "nope"}, `no profile "nope"`},
		{"run without secret", []string{"run", "--", "true"}, "give at least one --secret"},
		{"run without command", []string{"run", "--secret", "a"}, "takes COMMAND"},
		{"kv versions missing", []string{"kv", "destroy", "a"}, "-versions is required"},
		{"kv bad versions", []string{"kv", "delete", "-versions=x", "a"}, "expected version numbers"},
		{"kv rollback without version", []string{"kv", "rollback", "a"}, "-version is required"},
		{"kv metadata put nothing", []string{"kv", "metadata", "put", "a"}, "nothing to write"},
		{"credential without name", []string{"credential", "create", "--identity", "urn:x"}, "--name is required"},
		{"credential without identity", []string{"credential", "create", "--name", "ci"}, "--identity is required"},
		{"audit bad count", []string{"audit", "tail", "-n", "0"}, "-n must be between 1 and 10000"},
		{"policy file not JSON", []string{"policy", "create", h.writeFile("p.txt", "name: x")}, "is not JSON"},
		{"token expiry twice", []string{"token", "create", "alice", "ci", "--expires-at", "2030-01-01T00:00:00Z", "--expires-in", "1h"}, "exclude each other"},
		{"stdin read twice", []string{"secret", "create", "a", "-", "k=-"}, "standard input was already read"},
	}
	for _, tc := range tests {
		r := h.runIn(`{"k":"v"}`, tc.args...)
		r.expectFailure(t, 2, tc.want)
		if strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("%s: stderr has %d lines, want 1: %q", tc.name, strings.Count(r.stderr, "\n"), r.stderr)
		}
	}
	// Nothing reached the server: no secret was created.
	if out := h.ok("secret", "list", "--format", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("secrets after usage errors: %s", out)
	}
	h.golden("usage_unknown_flag", h.run("secret", "list", "--bogus"))
	h.golden("usage_malformed_data", h.run("secret", "create", "app/db", "login"))
}

// TestUnreachable: a server that cannot be reached is one clear line and
// exit code 1, for every kind of command.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1 (tcpmux); a port freed by a listener could
	// be taken by a server of a parallel test.
	addr := "http://127.0.0.1:1"
	h := &harness{t: t, env: map[string]string{"COFFER_ADDR": addr, "COFFER_TOKEN": rootToken, "COFFER_CONFIG_DIR": t.TempDir()}}
	for _, args := range [][]string{
		{"secret", "list"}, {"secret", "get", "a", "--okms-id", "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"}, {"kv", "get", "a"},
		{"domain", "list"}, {"user", "list"}, {"policy", "list"}, {"credential", "list"}, {"audit", "tail"},
		{"export", "a"}, {"run", "--secret", "a", "--", "true"}, {"login"},
	} {
		r := h.run(args...)
		r.expectFailure(t, 1, "cannot reach "+addr)
		if strings.Count(r.stderr, "\n") != 1 || !strings.Contains(r.stderr, "connection refused") {
			t.Errorf("coffer %s: stderr %q, want one line saying the connection was refused", strings.Join(args, " "), r.stderr)
		}
	}
}

// TestWrongToken: a token the server refuses is one line and exit code 1
// on every API the commands use.
func TestWrongToken(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	h.env["COFFER_TOKEN"] = "cof_pat_wrong"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"secret", "list"}, "missing or invalid credentials (Unauthorized, HTTP 401"},
		{[]string{"secret", "get", "a", "--okms-id", h.domain}, "(Unauthenticated, HTTP 401"},
		{[]string{"kv", "get", "a"}, "permission denied; invalid token (Unauthenticated, HTTP 403"},
		{[]string{"domain", "list"}, "(Unauthorized, HTTP 401"},
		{[]string{"user", "list"}, "(Unauthorized, HTTP 401"},
		{[]string{"login"}, "the server refused the token, nothing saved"},
	} {
		r := h.run(tc.args...)
		r.expectFailure(t, 1, tc.want)
		if strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("coffer %s: stderr %q, want one line", strings.Join(tc.args, " "), r.stderr)
		}
	}
	h.golden("error_wrong_token", h.run("secret", "get", "app/db", "--okms-id", h.domain))
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	h := &harness{t: t, env: map[string]string{}}
	for _, shell := range []string{"bash", "zsh", "fish", "powershell"} {
		r := h.run("completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, "coffer") || len(r.stdout) < 1000 {
			t.Errorf("coffer completion %s: exit %d, %d bytes", shell, r.code, len(r.stdout))
		}
	}
	h.run("completion", "tcsh").expectFailure(t, 2, "unknown command")
}

func TestVaultStyleFlags(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want []string }{
		{[]string{"kv", "get", "-field=password", "-format=json", "secret/a"}, []string{"kv", "get", "--field=password", "--format=json", "secret/a"}},
		{[]string{"kv", "put", "-cas", "1", "a", "k=-v", "-"}, []string{"kv", "put", "--cas", "1", "a", "k=-v", "-"}},
		{[]string{"kv", "get", "-h", "--field", "x", "a"}, []string{"kv", "get", "-h", "--field", "x", "a"}},
		{[]string{"kv", "delete", "-versions=1,2", "--", "-field"}, []string{"kv", "delete", "--versions=1,2", "--", "-field"}},
		{[]string{"secret", "get", "-field=x"}, []string{"secret", "get", "-field=x"}},
		{[]string{"kv", "put", "a", "-1"}, []string{"kv", "put", "a", "-1"}},
	}
	for _, tc := range tests {
		if got := vaultStyleFlags(tc.in); !slices.Equal(got, tc.want) {
			t.Errorf("vaultStyleFlags(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// TestUnknownFlag: every client command refuses an unknown flag with exit
// code 2 and one line, before doing anything.
func TestUnknownFlag(t *testing.T) {
	t.Parallel()
	h := &harness{t: t, env: map[string]string{"COFFER_ADDR": "http://127.0.0.1:1", "COFFER_CONFIG_DIR": t.TempDir()}}
	leaves := leafCommands()
	if len(leaves) < 60 {
		t.Fatalf("%d leaf commands; expected every client command", len(leaves))
	}
	for _, path := range leaves {
		args := append(strings.Fields(path)[1:], "--no-such-flag")
		r := h.run(args...)
		r.expectFailure(t, 2, "unknown flag: --no-such-flag")
		if strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("coffer %s: stderr %q, want one line", strings.Join(args, " "), r.stderr)
		}
	}
}
