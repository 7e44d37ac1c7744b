package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

// childOutput is what the test binary prints as the child of coffer run.
type childOutput struct {
	Args    []string          `json:"args"`
	Env     map[string]string `json:"env"`
	Cmdline []string          `json:"cmdline"`
	Environ []string          `json:"environ"`
}

// TestRun: the child gets the values in its environment, exactly, and
// nowhere in its arguments; its exit code is coffer's.
func TestRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	marker := filepath.Join(h.dir, "INJECTED")
	values := hostile(marker)
	delete(values, "CONTROL") // the child's JSON is compared as text; keep it printable
	b, _ := json.Marshal(values)
	h.ok("secret", "create", "app/hostile", "@"+h.writeFile("hostile.json", string(b)))
	h.ok("secret", "create", "app/db", "DB_PASSWORD=s3cr3t-value", "SHARED=from-db")
	h.ok("secret", "create", "app/api", "API_TOKEN=t0ken-value", "SHARED=from-api")

	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	keys := append(sortedKeys(values), "DB_PASSWORD", "API_TOKEN", "SHARED")
	childArgs := []string{self, childFlag, "env=" + strings.Join(keys, ","), "exit=0", "--flag-of-the-child", "-x"}
	args := append([]string{"run", "--secret", "app/hostile", "--secret", "app/db", "--secret", "app/api", "--"}, childArgs...)
	r := h.run(args...)
	if r.code != 0 {
		t.Fatalf("coffer run: %+v", r)
	}
	var got childOutput
	if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
		t.Fatalf("child output: %v\n%s", err, r.stdout)
	}
	for k, v := range values {
		if got.Env[k] != envValue(v) {
			t.Errorf("child $%s = %q, want %q", k, got.Env[k], envValue(v))
		}
	}
	if got.Env["DB_PASSWORD"] != "s3cr3t-value" || got.Env["API_TOKEN"] != "t0ken-value" || got.Env["SHARED"] != "from-api" {
		t.Errorf("child env = %v", got.Env)
	}
	if !slices.Equal(got.Args, childArgs) {
		t.Errorf("child arguments = %q, want exactly %q", got.Args, childArgs)
	}
	if runtime.GOOS == "linux" && !slices.Equal(got.Cmdline, childArgs) {
		t.Errorf("child /proc/self/cmdline = %q, want exactly %q", got.Cmdline, childArgs)
	}
	for _, secretValue := range []string{"s3cr3t-value", "t0ken-value", "from-api"} {
		for _, a := range append(got.Args, got.Cmdline...) {
			if strings.Contains(a, secretValue) {
				t.Errorf("a value is in the child's arguments: %q", a)
			}
		}
		if strings.Contains(r.stderr, secretValue) {
			t.Errorf("coffer run printed a value on stderr: %q", r.stderr)
		}
	}
	if !strings.Contains(r.stderr, "key SHARED of app/api replaces the one of app/db") {
		t.Errorf("no warning about the replaced key: %q", r.stderr)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Errorf("an injected command ran")
	}

	// The child's exit code, standard input and output pass through.
	r = h.run("run", "--secret", "app/db", "--", self, childFlag, "exit=7")
	if r.code != 7 || r.stderr != "" {
		t.Errorf("child exiting 7: coffer exit %d, stderr %q", r.code, r.stderr)
	}
	r = h.runIn("from stdin", "run", "--secret", "app/db", "--", "sh", "-c", `cat; printf ' %s' "$DB_PASSWORD"; echo oops >&2; exit 3`)
	if r.code != 3 || r.stdout != "from stdin s3cr3t-value" || r.stderr != "oops\n" {
		t.Errorf("sh child: %+v", r)
	}
	// Flags after the command are the command's, even without "--".
	r = h.run("run", "--secret", "app/db", "sh", "-c", `printf %s "$DB_PASSWORD"`)
	if r.code != 0 || r.stdout != "s3cr3t-value" {
		t.Errorf("run without --: %+v", r)
	}

	// Failures.
	h.run("run", "--secret", "app/db", "--", "no-such-command-coffer").expectFailure(t, 127, "command not found")
	h.fails(1, "SecretNotFound", "run", "--secret", "app/none", "--", "true")
	h.ok("secret", "create", "app/odd", "db.password=x")
	h.fails(1, "not a valid environment variable name", "run", "--secret", "app/odd", "--", "true")
	r = h.run("run", "--secret", "app/odd", "--normalize-keys", "--", "sh", "-c", `printf %s "$db_password"`)
	if r.code != 0 || r.stdout != "x" {
		t.Errorf("run --normalize-keys: %+v", r)
	}
	h.golden("run_invalid_key", h.run("run", "--secret", "app/odd", "--", "true"))
}
