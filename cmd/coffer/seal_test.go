package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	unsealKeyLine = regexp.MustCompile(`(?m)^Unseal Key \d+: (\S+)$`)
	rootTokenLine = regexp.MustCompile(`(?m)^Initial Root Token: (\S+)$`)
)

func keysOf(out string) []string {
	var keys []string
	for _, m := range unsealKeyLine.FindAllStringSubmatch(out, -1) {
		keys = append(keys, m[1])
	}
	return keys
}

// unsealWith submits keys one per run, as key holders do, and returns the
// last output.
func (h *harness) unsealWith(keys ...string) string {
	h.t.Helper()
	out := ""
	for _, k := range keys {
		r := h.runIn(k+"\n", "operator", "unseal")
		if r.code != 0 {
			h.t.Fatalf("operator unseal: exit %d\n%s%s", r.code, r.stdout, r.stderr)
		}
		out = r.stdout
	}
	return out
}

func sealedRow(out string) string {
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "sealed" {
			return f[1]
		}
	}
	return ""
}

// TestSealCommands: a shamir-sealed server through the CLI: init, unseal
// key by key, seal, rekey (the old keys stop working), migrate to the
// passphrase seal, root key rotation under it, and back to shamir.
func TestSealCommands(t *testing.T) {
	h := newHarness(t, options{seal: "shamir"})
	if out := h.ok("operator", "seal-status"); !strings.Contains(out, "initialized  false") {
		t.Fatalf("seal-status before init:\n%s", out)
	}
	h.fails(1, "not initialized", "operator", "unseal")
	h.fails(1, "secret_threshold must be between 1 and secret_shares", "operator", "init", "--key-shares", "2", "--key-threshold", "3")
	out := h.ok("operator", "init", "--key-shares", "3", "--key-threshold", "2")
	keys, m := keysOf(out), rootTokenLine.FindStringSubmatch(out)
	if len(keys) != 3 || m == nil {
		t.Fatalf("init printed %d keys:\n%s", len(keys), out)
	}
	h.env["COFFER_TOKEN"] = m[1]
	h.fails(1, "already initialized", "operator", "init")
	h.fails(1, "sealed", "secret", "list")

	if out := h.unsealWith(keys[0]); sealedRow(out) != "true" || !strings.Contains(out, "1/2") {
		t.Fatalf("after one key:\n%s", out)
	}
	if out := h.ok("operator", "unseal", "--reset"); !strings.Contains(out, "0/2") {
		t.Fatalf("after --reset:\n%s", out)
	}
	h.unsealWith(keys[0])
	if out := h.unsealWith(keys[2]); sealedRow(out) != "false" {
		t.Fatalf("after two keys:\n%s", out)
	}
	h.ok("secret", "create", "app/db", "password=s3cret")
	h.ok("operator", "seal")
	h.fails(1, "sealed", "operator", "seal")
	h.fails(1, "sealed", "secret", "get", "app/db")
	h.unsealWith(keys[1], keys[0])

	// rekey: the current keys first, wrong ones refused.
	h.fails(2, "nothing on standard input", "operator", "rekey")
	r := h.runIn(keys[0]+"\n"+"00"+keys[1][2:]+"\n", "operator", "rekey", "--key-shares", "2", "--key-threshold", "2")
	if r.code == 0 {
		t.Fatalf("rekey with a wrong current key succeeded:\n%s", r.stdout)
	}
	r = h.runIn(keys[0]+"\n"+keys[1]+"\n", "operator", "rekey", "--key-shares", "2", "--key-threshold", "2")
	newKeys := keysOf(r.stdout)
	if r.code != 0 || len(newKeys) != 2 || !strings.Contains(r.stdout, "The seal is now shamir (2 of 2 keys)") {
		t.Fatalf("rekey: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	h.ok("operator", "seal")
	h.runIn(keys[0]+"\n", "operator", "unseal")
	if r := h.runIn(keys[1]+"\n", "operator", "unseal"); r.code == 0 {
		t.Fatalf("the old keys still unseal:\n%s", r.stdout)
	}
	h.unsealWith(newKeys...)

	// migrate-seal to passphrase, then rotate the root key under it.
	pass := filepath.Join(h.dir, "pass")
	os.WriteFile(pass, []byte("correct horse battery staple\n"), 0o600)
	h.fails(2, "--to is required", "operator", "migrate-seal")
	r = h.runIn(strings.Join(newKeys, "\n")+"\n", "operator", "migrate-seal", "--to", "passphrase", "--passphrase-file", pass)
	if r.code != 0 || !strings.Contains(r.stdout, "The seal is now passphrase") {
		t.Fatalf("migrate-seal: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	h.ok("operator", "rotate-master-key")
	h.ok("operator", "seal")
	wrong := filepath.Join(h.dir, "wrong")
	os.WriteFile(wrong, []byte("correct horse battery stapler\n"), 0o600)
	h.fails(1, "do not", "operator", "unseal", "--passphrase-file", wrong)
	if out := h.ok("operator", "unseal", "--passphrase-file", pass); sealedRow(out) != "false" {
		t.Fatalf("passphrase unseal:\n%s", out)
	}
	if out := h.ok("secret", "get", "app/db", "--include-data"); !strings.Contains(out, "s3cret") {
		t.Fatalf("the secret after migration and rotation:\n%s", out)
	}
	// And back to shamir, the current passphrase given in a file.
	r = h.runIn("", "operator", "migrate-seal", "--to", "shamir", "--key-shares", "1", "--key-threshold", "1", "--current-passphrase-file", pass)
	if r.code != 0 || len(keysOf(r.stdout)) != 1 {
		t.Fatalf("migrate-seal back: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// TestMigrateSealFile: an installation on the file seal moves to shamir
// (its key file is deleted) and back (the key file is written again).
func TestMigrateSealFile(t *testing.T) {
	h := newHarness(t, options{dataDir: true})
	keyFile := filepath.Join(h.dir, "data", "root.key")
	h.ok("secret", "create", "app/db", "password=s3cret")
	h.fails(1, "the file seal already", "operator", "migrate-seal", "--to", "file")
	out := h.ok("operator", "migrate-seal", "--to", "shamir", "--key-shares", "1", "--key-threshold", "1")
	keys := keysOf(out)
	if len(keys) != 1 {
		t.Fatalf("migrate-seal:\n%s", out)
	}
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
		t.Fatalf("the key file is still there after leaving the file seal: %v", err)
	}
	h.ok("operator", "seal")
	h.unsealWith(keys...)
	r := h.runIn(keys[0]+"\n", "operator", "migrate-seal", "--to", "file")
	if r.code != 0 || !strings.Contains(r.stdout, "The seal is now file") {
		t.Fatalf("migrate-seal --to file: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(keyFile); err != nil {
		t.Fatalf("no key file after moving to the file seal: %v", err)
	}
	h.ok("operator", "seal")
	if out := h.ok("operator", "unseal"); sealedRow(out) != "false" {
		t.Fatalf("file seal unseal:\n%s", out)
	}
	if out := h.ok("secret", "get", "app/db", "--include-data"); !strings.Contains(out, "s3cret") {
		t.Fatalf("the secret after two migrations:\n%s", out)
	}
}
