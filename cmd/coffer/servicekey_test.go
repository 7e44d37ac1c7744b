package main

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"

	"github.com/seed-3e8d63de/coffer/api"
)

// newKey runs coffer key new with args and returns the key's id.
func (h *harness) newKey(args ...string) string {
	h.t.Helper()
	k := jsonOut[api.ServiceKey](h.t, h.ok(append([]string{"key", "new", "--format", "json"}, args...)...))
	if k.ID == "" {
		h.t.Fatalf("key new %v: no id", args)
	}
	return k.ID
}

// TestKey walks coffer key through a key's life, pinning the table and
// JSON outputs and the exit codes.
func TestKey(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	const id = "0b7c3a1e-9a51-4d1e-8f3a-4c2d8e1f6a70"

	h.check("key_new", 0, "key", "new", "app", "--id", id, "--context", "billing")
	h.check("key_new_json", 0, "key", "new", "signer", "--type", "ec", "--curve", "P-384", "--usage", "sign", "--usage", "verify", "--format", "json")
	h.check("key_new_bad_size", 1, "key", "new", "bad", "--type", "oct", "--size", "512")
	h.check("key_new_bad_usage", 1, "key", "new", "bad", "--type", "EC", "--usage", "encrypt")
	h.check("key_new_curve_on_rsa", 2, "key", "new", "bad", "--type", "RSA", "--curve", "P-256")
	h.fails(2, `--type "dsa"`, "key", "new", "bad", "--type", "dsa")
	h.check("key_new_exists", 1, "key", "new", "again", "--id", id)

	h.check("key_list", 0, "key", "list")
	h.check("key_list_json", 0, "key", "list", "--format", "json")
	h.fails(1, "ServiceKeyStateInvalid", "key", "list", "--state", "gone")
	h.check("key_get", 0, "key", "get", id)
	h.check("key_get_missing", 1, "key", "get", "7e57e57e-0000-4000-8000-000000000000")
	h.check("key_update", 0, "key", "update", id, "--name", "billing")
	h.check("key_update_nothing", 2, "key", "update", id)
	h.fails(1, "ServiceKeyNotFound", "key", "update", "7e57e57e-0000-4000-8000-000000000000", "--name", "x")

	// Encrypt and decrypt: arguments, files and standard input.
	ct := strings.TrimSpace(h.ok("key", "encrypt", id, "s3cr3t", "--context", "app"))
	if out := h.ok("key", "decrypt", id, ct, "--context", "app"); out != "s3cr3t" {
		t.Errorf("key decrypt = %q, want s3cr3t, raw", out)
	}
	bin := []byte{0, 1, 2, 0xff, '\n'}
	binFile := h.writeFile("data.bin", string(bin))
	ctFile := h.writeFile("data.jwe", h.ok("key", "encrypt", id, "@"+binFile))
	if out := h.ok("key", "decrypt", id, "@"+ctFile); out != string(bin) {
		t.Errorf("key decrypt @file = %q, want the file's bytes %q", out, bin)
	}
	r := h.runIn("from stdin", "key", "encrypt", id, "-", "--format", "json")
	enc := jsonOut[api.EncryptResponse](t, r.stdout)
	r = h.runIn(enc.Ciphertext+"\n", "key", "decrypt", id, "-", "--format", "json")
	if dec := jsonOut[api.DecryptResponse](t, r.stdout); dec.Plaintext != base64.StdEncoding.EncodeToString([]byte("from stdin")) {
		t.Errorf("key decrypt - --format json = %+v, want the base64 of the input", dec)
	}
	h.check("key_decrypt_wrong_context", 1, "key", "decrypt", id, "@"+h.writeFile("app.jwe", ct), "--context", "other")
	h.check("key_encrypt_too_large", 1, "key", "encrypt", id, "@"+h.writeFile("large", strings.Repeat("x", 4097)))
	h.check("key_encrypt_missing_file", 2, "key", "encrypt", id, "@"+h.dir+"/nothing")

	// Data keys.
	dk := jsonOut[api.GenerateDataKeyResponse](t, h.ok("key", "datakey", "new", id, "--size", "128", "--format", "json"))
	if p, _ := base64.StdEncoding.DecodeString(dk.Plaintext); len(p) != 16 {
		t.Errorf("key datakey new --size 128: plaintext of %d bytes, want 16", len(p))
	}
	if out := strings.TrimSpace(h.ok("key", "datakey", "decrypt", id, "@"+h.writeFile("dk.jwe", dk.Key+"\n"))); out != dk.Plaintext {
		t.Errorf("key datakey decrypt = %q, want %q", out, dk.Plaintext)
	}
	if out := h.ok("key", "datakey", "new", id); !strings.Contains(out, "plaintext") || !strings.Contains(out, "key ") {
		t.Errorf("key datakey new table: %q", out)
	}
	h.check("key_datakey_bad_size", 1, "key", "datakey", "new", id, "--size", "100")
	h.fails(1, "ServiceKeyCiphertextInvalid", "key", "datakey", "decrypt", id, "not-a-jwe")

	// States.
	h.check("key_delete_active", 1, "key", "delete", id)
	h.check("key_deactivate", 0, "key", "deactivate", id, "--reason", "key_compromise")
	h.check("key_get_compromised", 0, "key", "get", id)
	h.check("key_deactivate_bad_reason", 2, "key", "deactivate", id, "--reason", "bored")
	h.fails(1, "ServiceKeyNotActive", "key", "encrypt", id, "x")
	if out := h.ok("key", "decrypt", id, ct, "--context", "app"); out != "s3cr3t" {
		t.Errorf("a compromised key decrypts: %q", out)
	}
	h.check("key_activate", 0, "key", "activate", id, "--format", "json")
	h.check("key_delete_force", 0, "key", "delete", id, "--force")
	h.fails(1, "ServiceKeyNotFound", "key", "deactivate", "7e57e57e-0000-4000-8000-000000000000")
	h.fails(1, "ServiceKeyNotFound", "key", "delete", "7e57e57e-0000-4000-8000-000000000000")
	h.check("key_activate_destroyed", 1, "key", "activate", id)
	h.check("key_list_destroyed", 0, "key", "list", "--state", "destroyed")
}

// TestKeySign signs with EC and RSA keys, verifies through the server
// and locally from the exported public key in each form.
func TestKeySign(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	ec := h.newKey("signer", "--type", "EC", "--curve", "P-256")
	rs := h.newKey("release", "--type", "RSA", "--size", "2048")
	msg := h.writeFile("release.txt", "release 1.0\n")

	for _, tc := range []struct {
		name, key, alg string
	}{{"ES256", ec, "ES256"}, {"RS256", rs, "RS256"}, {"PS384", rs, "ps384"}} {
		t.Run(tc.name, func(t *testing.T) {
			sig := strings.TrimSpace(h.ok("key", "sign", tc.key, "@"+msg, "--alg", tc.alg))
			if out := h.ok("key", "verify", tc.key, "@"+msg, sig, "--alg", tc.alg); out != "The signature is valid.\n" {
				t.Errorf("key verify: %q", out)
			}
			// The same through a digest, and the signature from stdin.
			d := sha256.Sum256([]byte("release 1.0\n"))
			if tc.alg == "ps384" {
				return
			}
			r := h.runIn(sig, "key", "verify", tc.key, base64.StdEncoding.EncodeToString(d[:]), "-", "--alg", tc.alg, "--digest")
			if r.code != 0 {
				t.Errorf("key verify --digest with the signature on stdin: %+v", r)
			}
			raw, _ := base64.StdEncoding.DecodeString(sig)
			pemOut := h.ok("key", "export", tc.key)
			block, _ := pem.Decode([]byte(pemOut))
			if block == nil || block.Type != "PUBLIC KEY" {
				t.Fatalf("key export: %q", pemOut)
			}
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			switch k := pub.(type) {
			case *ecdsa.PublicKey:
				if len(raw) != 64 || !ecdsa.Verify(k, d[:], new(big.Int).SetBytes(raw[:32]), new(big.Int).SetBytes(raw[32:])) {
					t.Errorf("the ES256 signature does not verify locally with the exported key")
				}
			case *rsa.PublicKey:
				if err := rsa.VerifyPKCS1v15(k, crypto.SHA256, d[:], raw); err != nil {
					t.Errorf("the RS256 signature does not verify locally with the exported key: %v", err)
				}
			}
		})
	}

	sig := "@" + h.writeFile("hello.sig", h.ok("key", "sign", ec, "hello", "--alg", "ES256"))
	h.check("key_verify_invalid", 1, "key", "verify", ec, "hellx", sig, "--alg", "ES256")
	h.check("key_verify_invalid_json", 1, "key", "verify", ec, "hellx", sig, "--alg", "ES256", "--format", "json")
	h.check("key_verify_json", 0, "key", "verify", ec, "hello", sig, "--alg", "ES256", "--format", "json")
	h.check("key_sign_wrong_alg", 1, "key", "sign", ec, "hello", "--alg", "RS256")
	h.check("key_sign_no_alg", 2, "key", "sign", ec, "hello")
	h.fails(2, "with --digest, expected the base64 of a 32-byte", "key", "sign", ec, "aGVsbG8=", "--alg", "ES256", "--digest")
	h.fails(2, "SIGNATURE: expected base64", "key", "verify", ec, "hello", "!!", "--alg", "ES256")
	h.fails(2, "standard input was already read", "key", "verify", ec, "-", "-", "--alg", "ES256")

	// Export forms.
	if out := h.ok("key", "export", rs, "--key-format", "pkcs1"); !strings.HasPrefix(out, "-----BEGIN RSA PUBLIC KEY-----\n") {
		t.Errorf("key export --key-format pkcs1: %q", out)
	}
	line := h.ok("key", "export", ec, "--key-format", "openssh")
	if _, comment, _, _, err := ssh.ParseAuthorizedKey([]byte(line)); err != nil || comment != "signer" {
		t.Errorf("key export --key-format openssh = %q: %v, comment %q", line, err, comment)
	}
	j := jsonOut[api.JSONWebKey](t, h.ok("key", "export", ec, "--key-format", "jwk"))
	if j.Kty != "EC" || j.Crv != "P-256" || j.D != "" {
		t.Errorf("key export --key-format jwk = %+v", j)
	}
	h.check("key_export_pkcs1_ec", 2, "key", "export", ec, "--key-format", "pkcs1")
	h.check("key_export_pem", 0, "key", "export", ec)
	h.check("key_export_bad_format", 2, "key", "export", ec, "--key-format", "der")
	oct := h.newKey("aes")
	h.fails(1, "has no public key", "key", "export", oct)
}

// TestKeyImport imports keys in every form the okms CLI takes, and moves
// an extractable key through a wrapped export and import.
func TestKeyImport(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	pkcs8, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	sec1, _ := x509.MarshalECPrivateKey(ecKey)
	pkix, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	sshBlock, _ := ssh.MarshalPrivateKey(ecKey, "")
	pemOf := func(typ string, b []byte) string { return string(pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: b})) }

	for _, tc := range []struct {
		name, pem, typ, size, class string
	}{
		{"pkcs1", pemOf("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey)), "RSA", "2048", "KEY_PAIR"},
		{"pkcs8", pemOf("PRIVATE KEY", pkcs8), "EC", "P-384", "KEY_PAIR"},
		{"sec1", pemOf("EC PRIVATE KEY", sec1), "EC", "P-384", "KEY_PAIR"},
		{"openssh", string(pem.EncodeToMemory(sshBlock)), "EC", "P-384", "KEY_PAIR"},
		{"pkix", pemOf("PUBLIC KEY", pkix), "RSA", "2048", "PUBLIC_KEY"},
		{"pkcs1 public", pemOf("RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)), "RSA", "2048", "PUBLIC_KEY"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"key", "import", "k-" + tc.name, "@" + h.writeFile(strings.ReplaceAll(tc.name, " ", "-")+".pem", tc.pem), "--format", "json"}
			if tc.class == "PUBLIC_KEY" {
				args = append(args, "--usage", "verify")
			}
			k := jsonOut[api.ServiceKey](t, h.ok(args...))
			if k.Type != tc.typ || sizeText(&k) != tc.size || k.Class != tc.class {
				t.Errorf("key import %s: type %s, size %s, class %s; want %s, %s, %s", tc.name, k.Type, sizeText(&k), k.Class, tc.typ, tc.size, tc.class)
			}
		})
	}
	// A private key imported signs what its local copy verifies.
	k := jsonOut[api.ServiceKey](t, h.runIn(pemOf("PRIVATE KEY", pkcs8), "key", "import", "from-stdin", "-", "--usage", "sign,verify", "--format", "json").stdout)
	sig, _ := base64.StdEncoding.DecodeString(strings.TrimSpace(h.ok("key", "sign", k.ID, "hello", "--alg", "ES384")))
	d384 := sha512.Sum384([]byte("hello"))
	d := d384[:]
	if len(sig) != 96 || !ecdsa.Verify(&ecKey.PublicKey, d, new(big.Int).SetBytes(sig[:48]), new(big.Int).SetBytes(sig[48:])) {
		t.Errorf("an imported EC key's signature does not verify with the original key")
	}

	aes := make([]byte, 32)
	rand.Read(aes)
	h.check("key_import_symmetric", 0, "key", "import", "aes", "@"+h.writeFile("aes.b64", base64.StdEncoding.EncodeToString(aes)+"\n"), "--symmetric", "--id", "0b7c3a1e-9a51-4d1e-8f3a-4c2d8e1f6a71")
	h.check("key_import_not_pem", 2, "key", "import", "x", "hello")
	h.check("key_import_bad_aes", 1, "key", "import", "x", "AAECAwQFBgcICQ==", "--symmetric")
	h.check("key_import_conflicting_flags", 2, "key", "import", "x", "k", "--symmetric", "--wrapping-key-id", "0b7c3a1e-9a51-4d1e-8f3a-4c2d8e1f6a71")

	// Wrapped export and import under a transport key.
	transport := h.newKey("transport", "--type", "RSA", "--size", "2048", "--usage", "wrapKey,unwrapKey")
	movable := h.newKey("movable", "--type", "oct", "--extractable")
	ct := strings.TrimSpace(h.ok("key", "encrypt", movable, "moved data"))
	wrapped := h.ok("key", "get", movable, "--wrapping-key-id", transport, "--wrapped-key-format", "RAW")
	if strings.Count(wrapped, ".") != 4 {
		t.Fatalf("key get --wrapping-key-id: %q, want a JWE", wrapped)
	}
	moved := jsonOut[api.ServiceKey](t, h.runIn(wrapped, "key", "import", "moved", "-", "--wrapping-key-id", transport,
		"--wrapped-key-format", "RAW", "--id", "0b7c3a1e-9a51-4d1e-8f3a-4c2d8e1f6a72", "--format", "json").stdout)
	if moved.Type != "oct" || moved.Size != 256 {
		t.Fatalf("the wrapped import: %+v", moved)
	}
	// The ciphertext names the first key: the moved copy has the same
	// material but another id, so it refuses it rather than guessing.
	if r := h.run("key", "decrypt", moved.ID, ct); r.code != 1 {
		t.Errorf("the moved key decrypts the other key's ciphertext: %+v", r)
	}
	ct2 := strings.TrimSpace(h.ok("key", "encrypt", moved.ID, "again"))
	if out := h.ok("key", "decrypt", moved.ID, ct2); out != "again" {
		t.Errorf("the moved key: %q", out)
	}
	h.check("key_get_wrapped_not_extractable", 1, "key", "get", transport, "--wrapping-key-id", transport)
	h.check("key_get_wrap_flags_alone", 2, "key", "get", movable, "--wrapped-key-format", "RAW")
	h.fails(1, "ServiceKeyWrappedKeysInvalid", "key", "import", "x", "@"+h.writeFile("bad.jwe", "a.b.c.d.e"), "--wrapping-key-id", transport)
	if !bytes.Contains([]byte(h.ok("key", "list", "--state", "active")), []byte("moved")) {
		t.Errorf("key list --state active does not list the moved key")
	}
}

// TestKeyRestricted: a user allowed only to verify with the keys of the
// domain verifies through coffer key, and every other command is refused
// (exit code 1, the server's Forbidden), with --okms-id since the user may
// not list domains.
func TestKeyRestricted(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	ec := h.newKey("signer", "--type", "EC")
	sig := "@" + h.writeFile("hello.sig", h.ok("key", "sign", ec, "hello", "--alg", "ES256"))
	h.ok("user", "create", "verifier")
	created := jsonOut[struct{ Token string }](t, h.ok("token", "create", "verifier", "ci", "--format", "json"))
	doc := fmt.Sprintf(`{"name":"verify-only","identities":["urn:v1:eu:identity:user:coffer/verifier"],
		"resources":[{"urn":"urn:v1:eu:resource:okms:%s/serviceKey/*"}],
		"permissions":{"allow":[{"action":"okms:apikms:serviceKey/verify"}]}}`, h.domain)
	h.ok("policy", "create", h.writeFile("verify.json", doc))

	h.env["COFFER_TOKEN"], h.env["COFFER_OKMS_ID"] = created.Token, h.domain
	if out := h.ok("key", "verify", ec, "hello", sig, "--alg", "ES256"); out != "The signature is valid.\n" {
		t.Errorf("a verifier's key verify: %q", out)
	}
	for _, args := range [][]string{
		{"key", "sign", ec, "hello", "--alg", "ES256"},
		{"key", "get", ec},
		{"key", "new", "mine"},
		{"key", "deactivate", ec},
	} {
		h.fails(1, "HTTP 403", args...)
	}
	if out := h.ok("key", "list"); strings.Contains(out, ec) {
		t.Errorf("a verifier lists a key it may not get:\n%s", out)
	}
}
