package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKeyRotation rotates a domain key and the root key of a running
// server through the CLI; the secrets stay readable.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	h.ok("secret", "create", "app/db", "k=v1")

	out := h.ok("domain", "rotate-key")
	if !strings.Contains(out, h.domain) || !strings.Contains(out, "key_term") || !strings.Contains(out, "2") {
		t.Errorf("domain rotate-key = %q, want the domain and key term 2", out)
	}
	h.ok("secret", "update", "app/db", "k=v2")
	if got := h.ok("secret", "get", "app/db", "--field", "k", "--version", "1"); got != "v1" {
		t.Errorf("version 1 after the rotation = %q, want v1", got)
	}
	if got := h.ok("secret", "get", "app/db", "--field", "k"); got != "v2" {
		t.Errorf("version 2, written under the new term = %q, want v2", got)
	}
	h.fails(1, "HTTP 404", "domain", "rotate-key", "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f")

	out = h.ok("operator", "rotate-master-key", "--format", "json")
	if !strings.Contains(out, `"local"`) {
		t.Errorf("operator rotate-master-key = %q, want the region re-sealed", out)
	}
	if got := h.ok("secret", "get", "app/db", "--field", "k"); got != "v2" {
		t.Errorf("after the root key rotation = %q, want v2", got)
	}
	h.fails(1, "HTTP 401", "operator", "rotate-master-key", "--token", "cof_root_wrong")
}

// TestBackupRestore saves a server's installation with the CLI and
// restores it into another server, whose root key differs.
func TestBackupRestore(t *testing.T) {
	t.Parallel()
	src := newHarness(t, options{})
	src.ok("secret", "create", "app/db", "k=v1", "--custom-metadata", "owner=ops")
	src.ok("secret", "update", "app/db", "k=v2")
	file := filepath.Join(src.dir, "coffer.backup")
	passFile := src.writeFile("pass", "correct horse battery staple\n")

	src.fails(2, "--out is required", "operator", "backup", "--passphrase-file", passFile)
	src.fails(2, "passphrase", "operator", "backup", "--out", file)
	src.ok("operator", "backup", "--out", file, "--passphrase-file", passFile)
	if info, err := os.Stat(file); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("the backup file: %v, mode %v", err, info.Mode().Perm())
	}

	dst := newHarness(t, options{})
	dst.env["COFFER_BACKUP_PASSPHRASE"] = "wrong passphrase!"
	dst.fails(1, "does not open", "operator", "restore", "--in", file)
	dst.env["COFFER_BACKUP_PASSPHRASE"] = "correct horse battery staple"
	out := dst.ok("operator", "restore", "--in", file)
	if !strings.Contains(out, "records") {
		t.Errorf("operator restore = %q", out)
	}
	// The installation is the source's now, its domain and token included.
	if got := dst.ok("secret", "get", "app/db", "--field", "k", "--okms-id", src.domain); got != "v2" {
		t.Errorf("restored secret = %q, want v2", got)
	}
	if got := dst.ok("secret", "get", "app/db", "--field", "k", "--version", "1", "--okms-id", src.domain); got != "v1" {
		t.Errorf("restored version 1 = %q, want v1", got)
	}
	// Not into an installation that holds secrets.
	src.env["COFFER_BACKUP_PASSPHRASE"] = "correct horse battery staple"
	src.fails(1, "not empty", "operator", "restore", "--in", file)
}
