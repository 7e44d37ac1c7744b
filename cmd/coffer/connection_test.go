package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestLogin: the token is checked, then saved with mode 0600, and later
// commands use it; profiles select other settings.
func TestLogin(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	cfgDir := h.env["COFFER_CONFIG_DIR"]
	cfgFile := filepath.Join(cfgDir, "config.json")

	// A refused token saves nothing.
	h.env["COFFER_TOKEN"] = "cof_pat_wrong"
	h.check("login_refused", 1, "login")
	if _, err := os.Stat(cfgFile); err == nil {
		t.Fatalf("a refused login wrote %s", cfgFile)
	}
	delete(h.env, "COFFER_TOKEN")
	h.run("login").expectFailure(t, 2, "no token")

	// The token on standard input.
	r := h.runIn(rootToken+"\n", "login")
	if r.code != 0 {
		t.Fatalf("login from stdin: %+v", r)
	}
	h.golden("login", r)
	fi, err := os.Stat(cfgFile)
	if err != nil || runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Fatalf("config file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
	if di, _ := os.Stat(cfgDir); runtime.GOOS != "windows" && di.Mode().Perm() != 0o700 {
		t.Errorf("config directory mode %v, want 0700", di.Mode().Perm())
	}
	var cfg configFile
	b, _ := os.ReadFile(cfgFile)
	if err := json.Unmarshal(b, &cfg); err != nil || cfg.Current != "default" || cfg.Profiles["default"].Token != rootToken ||
		cfg.Profiles["default"].Addr != h.ts.URL {
		t.Fatalf("config after login = %s (%v)", b, err)
	}
	// Commands now work without COFFER_TOKEN nor COFFER_ADDR.
	delete(h.env, "COFFER_ADDR")
	h.ok("secret", "create", "app/db", "k=v")
	if out := h.ok("secret", "get", "app/db", "--field", "k"); out != "v" {
		t.Errorf("secret get with the saved token = %q", out)
	}
	// A flag or the environment overrides the profile.
	h.env["COFFER_TOKEN"] = "cof_pat_wrong"
	h.fails(1, "HTTP 401", "secret", "list")
	h.fails(1, "HTTP 401", "secret", "list", "--token", "cof_pat_other")
	delete(h.env, "COFFER_TOKEN")
	h.ok("secret", "list", "--token", rootToken)

	// A second profile, for a named domain, with login --profile.
	r = h.run("login", "--profile", "staging", "--addr", h.ts.URL, "--token", rootToken, "--okms-id", h.domain, "--format", "json")
	if r.code != 0 || !strings.Contains(r.stdout, `"profile": "staging"`) {
		t.Fatalf("login --profile staging: %+v", r)
	}
	h.ok("profile", "set", "broken", "--addr", "http://127.0.0.1:1")
	h.check("profile_list", 0, "profile", "list")
	h.fails(1, "cannot reach http://127.0.0.1:1", "secret", "list", "--profile", "broken")
	h.env["COFFER_PROFILE"] = "broken"
	h.fails(1, "cannot reach http://127.0.0.1:1", "secret", "list")
	delete(h.env, "COFFER_PROFILE")
	h.check("profile_use", 0, "profile", "use", "staging")
	h.ok("secret", "list")
	h.fails(1, `no profile "nope"`, "profile", "use", "nope")
	h.fails(2, "not an http:// or https:// URL", "profile", "set", "x", "--addr", "nowhere")
	h.check("profile_list_json", 0, "profile", "list", "--format", "json")
	h.ok("profile", "delete", "broken")
	h.fails(1, `no profile "broken"`, "profile", "delete", "broken")

	// Logout forgets the token of the current profile, nothing else.
	h.check("logout", 0, "logout")
	h.fails(1, "HTTP 401", "secret", "list")
	h.ok("secret", "list", "--profile", "default")
	if out := h.ok("logout"); !strings.Contains(out, "no saved token") {
		t.Errorf("second logout: %q", out)
	}
	b, _ = os.ReadFile(cfgFile)
	if err := json.Unmarshal(b, &cfg); err != nil || cfg.Profiles["staging"].Token != "" || cfg.Profiles["staging"].OkmsID != h.domain {
		t.Errorf("config after logout = %s", b)
	}

	// A configuration file others can read is reported.
	if runtime.GOOS != "windows" {
		if err := os.Chmod(cfgFile, 0o644); err != nil {
			t.Fatal(err)
		}
		r := h.run("secret", "list", "--profile", "default")
		if !strings.Contains(r.stderr, "readable by others") {
			t.Errorf("no warning for a config file of mode 0644: %q", r.stderr)
		}
	}
}

// TestConfigDir: without COFFER_CONFIG_DIR the file is under the user's
// configuration directory.
func TestConfigDir(t *testing.T) {
	t.Parallel()
	if runtime.GOOS != "linux" {
		t.Skip("the layout checked is Linux's")
	}
	x := &cli{e: &env{getenv: func(k string) string {
		return map[string]string{"HOME": "/home/u"}[k]
	}}}
	if p, err := x.configPath(); err != nil || p != "/home/u/.config/coffer/config.json" {
		t.Errorf("configPath with HOME = %q, %v", p, err)
	}
	x.e.getenv = func(k string) string {
		return map[string]string{"HOME": "/home/u", "XDG_CONFIG_HOME": "/xdg"}[k]
	}
	if p, _ := x.configPath(); p != "/xdg/coffer/config.json" {
		t.Errorf("configPath with XDG_CONFIG_HOME = %q", p)
	}
	x.e.getenv = func(string) string { return "" }
	if _, err := x.configPath(); err == nil {
		t.Errorf("configPath without HOME succeeded")
	}
}
