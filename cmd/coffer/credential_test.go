package main

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/client"
)

// TestCredential: certificates and keys land in files of mode 0600, never
// on stdout, and they authenticate over TLS with the server's CA.
func TestCredential(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{tls: true})
	ca := filepath.Join(h.dir, "data", "ca.pem")
	h.env["COFFER_CA"] = ca
	certFile, keyFile := filepath.Join(h.dir, "ci.crt"), filepath.Join(h.dir, "ci.key")

	h.ok("secret", "create", "app/db", "password=s3cr3t")
	r := h.check("credential_create", 0, "credential", "create", "--name", "ci", "--identity", "urn:v1:eu:identity:account:coffer",
		"--cert-file", certFile, "--key-file", keyFile)
	if strings.Contains(r.stdout, "PRIVATE KEY") || strings.Contains(r.stdout, "BEGIN") {
		t.Errorf("credential create printed PEM on stdout: %s", r.stdout)
	}
	for _, f := range []string{certFile, keyFile} {
		fi, err := os.Stat(f)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, mode %v; want a file of mode 0600", f, err, fi.Mode().Perm())
		}
	}
	if _, err := tls.LoadX509KeyPair(certFile, keyFile); err != nil {
		t.Errorf("the files do not hold a certificate and its key: %v", err)
	}
	creds := jsonOut[[]client.Credential](t, h.ok("credential", "list", "--format", "json"))
	if len(creds) != 1 {
		t.Fatalf("credential list = %+v", creds)
	}
	id := creds[0].ID

	// The certificate authenticates on its own (no token), for its domain.
	mtls := map[string]string{"COFFER_TOKEN": "", "COFFER_CLIENT_CERT": certFile, "COFFER_CLIENT_KEY": keyFile}
	for k, v := range mtls {
		h.env[k] = v
	}
	if out := h.ok("secret", "get", "app/db", "--field", "password"); out != "s3cr3t" {
		t.Errorf("secret get with the certificate = %q", out)
	}
	if out := h.ok("kv", "get", "-field=password", "secret/app/db"); out != "s3cr3t" {
		t.Errorf("kv get with the certificate = %q", out)
	}
	h.env["COFFER_CLIENT_CERT"], h.env["COFFER_CLIENT_KEY"], h.env["COFFER_TOKEN"] = "", "", rootToken

	// An existing file fails before anything is issued.
	h.check("credential_create_exists", 2, "credential", "create", "--name", "ci", "--identity", "urn:v1:eu:identity:account:coffer",
		"--cert-file", certFile, "--key-file", filepath.Join(h.dir, "other.key"))
	if _, err := os.Stat(filepath.Join(h.dir, "other.key")); err == nil {
		t.Errorf("a refused creation left other.key behind")
	}
	// A refusal of the server leaves no file behind.
	h.check("credential_create_invalid", 1, "credential", "create", "--name", "bad", "--identity", "not-a-urn",
		"--cert-file", filepath.Join(h.dir, "bad.crt"), "--key-file", filepath.Join(h.dir, "bad.key"))
	if _, err := os.Stat(filepath.Join(h.dir, "bad.crt")); err == nil {
		t.Errorf("a refused creation left bad.crt behind")
	}
	if n := len(jsonOut[[]client.Credential](t, h.ok("credential", "list", "--format", "json"))); n != 1 {
		t.Errorf("%d credentials after refused creations, want 1", n)
	}

	h.check("credential_list", 0, "credential", "list")
	again := filepath.Join(h.dir, "again.crt")
	h.check("credential_get", 0, "credential", "get", id, "--cert-file", again)
	if b, _ := os.ReadFile(again); !strings.Contains(string(b), "BEGIN CERTIFICATE") {
		t.Errorf("credential get --cert-file wrote %q", b)
	}
	h.fails(2, "exists", "credential", "get", id, "--cert-file", again)
	h.check("credential_get_missing", 1, "credential", "get", "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f")
	h.check("credential_revoke", 0, "credential", "revoke", id)

	h.env["COFFER_TOKEN"], h.env["COFFER_CLIENT_CERT"], h.env["COFFER_CLIENT_KEY"] = "", certFile, keyFile
	h.fails(1, "HTTP 401", "secret", "get", "app/db")
	h.env["COFFER_TOKEN"], h.env["COFFER_CLIENT_CERT"], h.env["COFFER_CLIENT_KEY"] = rootToken, "", ""

	// Without the CA, TLS fails with a hint.
	delete(h.env, "COFFER_CA")
	h.fails(1, "certificate", "secret", "list")
	r = h.run("secret", "list")
	if !strings.Contains(r.stderr, "trust the server's CA") {
		t.Errorf("TLS failure without --ca: %q", r.stderr)
	}
	r = h.run("secret", "list", "--ca", ca)
	if r.code != 0 {
		t.Errorf("secret list --ca: %+v", r)
	}
	h.fails(2, "no such file", "secret", "list", "--ca", filepath.Join(h.dir, "none.pem"))
}

// TestCredential_DefaultFiles: without --cert-file and --key-file the files
// are NAME.crt and NAME.key in the current directory.
func TestCredential_DefaultFiles(t *testing.T) {
	// Not parallel: it changes the working directory.
	h := newHarness(t, options{})
	t.Chdir(h.dir)
	h.ok("credential", "create", "--name", "my ci/key", "--identity", "urn:v1:eu:identity:account:coffer")
	for _, f := range []string{"my_ci_key.crt", "my_ci_key.key"} {
		if fi, err := os.Stat(f); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v", f, err)
		}
	}
}
