package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// reClientID matches the random client ids of service accounts, for the
// golden files.
var reClientID = regexp.MustCompile(`\b[0-9a-f]{16}\b`)

// checkSA is check with the client ids of the output normalised too.
func (h *harness) checkSA(name string, code int, args ...string) result {
	h.t.Helper()
	r := h.run(args...)
	if r.code != code {
		h.t.Errorf("coffer %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, code, r.stdout, r.stderr)
	}
	n := r
	n.args = slicesMap(r.args, func(s string) string { return reClientID.ReplaceAllStringFunc(s, placeholder("client-id")) })
	n.stdout = reClientID.ReplaceAllStringFunc(r.stdout, placeholder("client-id"))
	n.stderr = reClientID.ReplaceAllStringFunc(r.stderr, placeholder("client-id"))
	h.golden(name, n)
	return r
}

func slicesMap(xs []string, f func(string) string) []string {
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = f(x)
	}
	return out
}

func TestServiceAccountCommands(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})

	r := h.checkSA("serviceaccount_create", 0, "service-account", "create", "external-secrets", "--description", "ESO, prod")
	id := reClientID.FindString(r.stdout)
	secret := regexp.MustCompile(`cof_ocs_[A-Za-z0-9_-]{43}`).FindString(r.stdout)
	if id == "" || secret == "" {
		t.Fatalf("service-account create printed no client id or secret: %s", r.stdout)
	}
	secretFile := filepath.Join(h.dir, "ci.secret")
	created := jsonOut[map[string]any](t, h.ok("service-account", "create", "ci", "--secret-file", secretFile, "--format", "json"))
	if _, ok := created["clientSecret"]; ok || created["secretFile"] != secretFile || created["identity"] != "urn:v1:eu:identity:credential:coffer/oauth2-"+created["clientId"].(string) {
		t.Errorf("create --secret-file --format json = %v", created)
	}
	if b, err := os.ReadFile(secretFile); err != nil || !strings.HasPrefix(string(b), "cof_ocs_") {
		t.Errorf("secret file: %q, %v", b, err)
	} else if fi, _ := os.Stat(secretFile); fi.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v, want 0600", fi.Mode().Perm())
	}
	h.fails(2, "is never overwritten", "service-account", "create", "again", "--secret-file", secretFile)
	h.fails(1, "InvalidServiceAccount", "service-account", "create", "bad\x01name")

	h.checkSA("serviceaccount_get", 0, "service-account", "get", id)
	h.checkSA("serviceaccount_get_json", 0, "service-account", "get", id, "--format", "json")
	h.fails(1, "ServiceAccountNotFound", "service-account", "get", "0123456789abcdef")
	list := h.ok("service-account", "list")
	if !strings.Contains(list, id) || !strings.Contains(list, "external-secrets") || !strings.Contains(list, "ESO, prod") ||
		strings.Contains(list, secret) {
		t.Errorf("service-account list = %s", list)
	}
	if out := h.ok("service-account", "list", "--format", "json"); strings.Contains(out, "cof_ocs_") {
		t.Errorf("service-account list --format json shows a secret: %s", out)
	}

	// A user who is not an administrator may not.
	h.ok("user", "create", "bob")
	h.env["COFFER_TOKEN"] = reToken.FindString(h.ok("token", "create", "bob", "t"))
	h.fails(1, "Forbidden", "service-account", "list")
	h.env["COFFER_TOKEN"] = rootToken

	h.checkSA("serviceaccount_delete", 0, "service-account", "delete", id)
	h.fails(1, "ServiceAccountNotFound", "service-account", "delete", id)
	h.checkSA("serviceaccount_list", 0, "service-account", "list")
	h.checkSA("serviceaccount_delete_json", 0, "service-account", "delete", created["clientId"].(string), "--format", "json")
	if out := h.ok("service-account", "list", "--format", "json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("service-account list --format json with none = %s, want []", out)
	}
}

// TestLoginServiceAccount: coffer login --client-id fetches a token with
// the secret file, saves the token, the client id and the file's path (never
// the secret), and later commands renew the token when it expires; the
// server's clock and the commands' move together, by hand.
func TestLoginServiceAccount(t *testing.T) {
	t.Parallel()
	clock := testenv.NewClock(t0)
	h := newHarness(t, options{now: clock.Now})
	// A service account allowed to read app/, and its secret in a file.
	secretFile := filepath.Join(h.dir, "eso.secret")
	created := jsonOut[map[string]any](t, h.ok("service-account", "create", "eso", "--secret-file", secretFile, "--format", "json"))
	id := created["clientId"].(string)
	doc := fmt.Sprintf(`{"name":"eso","identities":[%q],"resources":[{"urn":"urn:v1:eu:resource:okms:%s/secret/app/*"}],
		"permissions":{"allow":[{"action":"okms:apikms:secret/get"},{"action":"okms:apikms:secret/version/getData"}]}}`, created["identity"], h.domain)
	h.ok("policy", "create", h.writeFile("eso.json", doc))
	h.ok("secret", "create", "app/db", "password=s3cret")
	delete(h.env, "COFFER_TOKEN")
	at := func(args ...string) result {
		t.Helper()
		var out, errb bytes.Buffer
		e := &env{getenv: func(k string) string { return h.env[k] }, stdin: strings.NewReader(""), stdout: &out, stderr: &errb, now: clock.Now}
		code := runEnv(t.Context(), e, args)
		record(args, code)
		return result{args: args, code: code, stdout: out.String(), stderr: errb.String()}
	}

	// Refusals save nothing.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"login", "--client-id", id}, 2, "go together"},
		{[]string{"login", "--client-id", id, "--client-secret-file", filepath.Join(h.dir, "missing")}, 1, "does not exist"},
		{[]string{"login", "--client-id", "0123456789abcdef", "--client-secret-file", secretFile}, 1, "invalid_client"},
		{[]string{"login", "--client-id", id, "--client-secret-file", secretFile, "--token", rootToken}, 2, "exclude each other"},
	} {
		at(tc.args...).expectFailure(t, tc.code, tc.want)
	}
	cfgFile := filepath.Join(h.env["COFFER_CONFIG_DIR"], "config.json")
	if _, err := os.Stat(cfgFile); err == nil {
		t.Fatalf("a refused login wrote %s", cfgFile)
	}

	r := at("login", "--client-id", id, "--client-secret-file", secretFile)
	if r.code != 0 {
		t.Fatalf("login as a service account: %+v", r)
	}
	r.args = slicesMap(r.args, func(s string) string { return strings.ReplaceAll(s, id, placeholder("client-id")(id)) })
	r.stdout = strings.ReplaceAll(r.stdout, id, placeholder("client-id")(id))
	h.golden("login_service_account", r)
	profile := func() settings {
		t.Helper()
		b, err := os.ReadFile(cfgFile)
		if err != nil {
			t.Fatal(err)
		}
		secret, _ := os.ReadFile(secretFile)
		if bytes.Contains(b, bytes.TrimSpace(secret)) {
			t.Fatalf("the configuration file holds the client secret")
		}
		var cfg configFile
		if err := json.Unmarshal(b, &cfg); err != nil {
			t.Fatal(err)
		}
		return cfg.Profiles["default"]
	}
	first := profile()
	if !strings.HasPrefix(first.Token, "cof_oat_") || first.ClientID != id || first.ClientSecretFile != secretFile ||
		first.TokenExpiry != t0.Add(time.Hour).UTC().Format(time.RFC3339) {
		t.Fatalf("profile after login = %+v", first)
	}
	read := func() string {
		t.Helper()
		r := at("secret", "get", "app/db", "--field", "password", "--okms-id", h.domain)
		if r.code != 0 {
			t.Fatalf("secret get as the service account: %+v", r)
		}
		return r.stdout
	}
	if got := read(); got != "s3cret" {
		t.Errorf("read as the service account = %q", got)
	}
	// Within the hour, the token is kept.
	clock.Advance(58 * time.Minute)
	read()
	if p := profile(); p.Token != first.Token {
		t.Errorf("the token changed before its expiry")
	}
	// A minute before its expiry it is renewed, and the new one saved.
	clock.Advance(time.Minute)
	read()
	second := profile()
	if second.Token == first.Token || second.TokenExpiry != clock.Now().Add(time.Hour).UTC().Format(time.RFC3339) {
		t.Errorf("profile after the renewal = %+v (first token %s…)", second, first.Token[:12])
	}
	// Well past the expiry too (the server refuses the old token).
	clock.Advance(3 * time.Hour)
	h.env["COFFER_TOKEN"] = second.Token
	at("secret", "list", "--okms-id", h.domain).expectFailure(t, 1, "HTTP 401")
	delete(h.env, "COFFER_TOKEN")
	read()
	if p := profile(); p.Token == second.Token {
		t.Errorf("an expired token was not renewed")
	}
	r = at("profile", "list")
	if !strings.Contains(r.stdout, "service account "+id) {
		t.Errorf("profile list = %s", r.stdout)
	}

	// Without its secret file, an expired token cannot be renewed.
	if err := os.Rename(secretFile, secretFile+".moved"); err != nil {
		t.Fatal(err)
	}
	clock.Advance(2 * time.Hour)
	at("secret", "list", "--okms-id", h.domain).expectFailure(t, 1, "could not be renewed")
	// Deleting the account ends it for good.
	if err := os.Rename(secretFile+".moved", secretFile); err != nil {
		t.Fatal(err)
	}
	h.env["COFFER_TOKEN"] = rootToken
	h.ok("service-account", "delete", id)
	delete(h.env, "COFFER_TOKEN")
	clock.Advance(2 * time.Hour)
	at("secret", "list", "--okms-id", h.domain).expectFailure(t, 1, "invalid_client")

	// A token login replaces the service account in the profile, and
	// logout forgets both.
	if r := at("login", "--token", rootToken); r.code != 0 {
		t.Fatalf("login --token: %+v", r)
	}
	if p := profile(); p.ClientID != "" || p.ClientSecretFile != "" || p.TokenExpiry != "" || p.Token != rootToken {
		t.Errorf("profile after a token login = %+v", p)
	}
	at("logout")
	if p := profile(); p.Token != "" || p.ClientID != "" {
		t.Errorf("profile after logout = %+v", p)
	}
}
