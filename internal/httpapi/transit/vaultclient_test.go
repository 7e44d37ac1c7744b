package transit_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func write(t *testing.T, c *vault.Client, path string, data map[string]any) *vault.Secret {
	t.Helper()
	s, err := c.Logical().Write(path, data)
	if err != nil {
		t.Fatalf("write %s: %v", path, err)
	}
	return s
}

// TestVaultClient drives the official Vault Go client through keys,
// encrypt/decrypt with batch_input, rewrap, data keys, sign/verify and
// HMAC, in both addressing modes.
func TestVaultClient(t *testing.T) {
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			h := newHarness(t)
			c := h.client(mode)
			app, signer := mode+"-app", mode+"-signer"
			write(t, c, "transit/keys/"+app, map[string]any{"type": "aes128-gcm96"})
			write(t, c, "transit/keys/"+signer, map[string]any{"type": "rsa-3072"})
			k, err := c.Logical().Read("transit/keys/" + app)
			if err != nil || k.Data["type"] != "aes128-gcm96" || k.Data["latest_version"] != json.Number("1") {
				t.Fatalf("read key = %+v, %v", k, err)
			}
			l, err := c.Logical().List("transit/keys")
			if err != nil || fmt.Sprint(l.Data["keys"]) != "["+app+" "+signer+"]" {
				t.Fatalf("list = %+v, %v", l, err)
			}
			if s, err := c.Logical().Read("transit/keys/missing"); s != nil || err != nil {
				t.Fatalf("read missing key = %+v, %v; want nil, nil", s, err)
			}

			enc := write(t, c, "transit/encrypt/"+app, map[string]any{"batch_input": []map[string]any{
				{"plaintext": b64("alpha"), "context": b64("tenant-1")}, {"plaintext": b64("beta")}}})
			results := enc.Data["batch_results"].([]any)
			ct0 := results[0].(map[string]any)["ciphertext"].(string)
			ct1 := results[1].(map[string]any)["ciphertext"].(string)
			write(t, c, "transit/keys/"+app+"/rotate", nil)
			dec := write(t, c, "transit/decrypt/"+app, map[string]any{"batch_input": []map[string]any{
				{"ciphertext": ct0, "context": b64("tenant-1")}, {"ciphertext": ct1}}})
			for i, want := range []string{"alpha", "beta"} {
				if got := dec.Data["batch_results"].([]any)[i].(map[string]any)["plaintext"]; got != b64(want) {
					t.Errorf("batch decrypt %d = %v, want %s", i, got, b64(want))
				}
			}
			rw := write(t, c, "transit/rewrap/"+app, map[string]any{"ciphertext": ct1})
			if ct := rw.Data["ciphertext"].(string); !strings.HasPrefix(ct, "vault:v2:") || rw.Data["key_version"] != json.Number("2") {
				t.Fatalf("rewrap = %+v", rw.Data)
			}
			dk := write(t, c, "transit/datakey/plaintext/"+app, map[string]any{"bits": 512})
			pt, _ := base64.StdEncoding.DecodeString(dk.Data["plaintext"].(string))
			back := write(t, c, "transit/decrypt/"+app, map[string]any{"ciphertext": dk.Data["ciphertext"]})
			if len(pt) != 64 || back.Data["plaintext"] != dk.Data["plaintext"] {
				t.Fatalf("datakey: %d bytes, decrypts to the same: %v", len(pt), back.Data["plaintext"] == dk.Data["plaintext"])
			}
			// A batch with a bad item is a 400 with every result.
			_, err = c.Logical().Write("transit/decrypt/"+app, map[string]any{"batch_input": []map[string]any{{"ciphertext": ct1}, {"ciphertext": "vault:v1:AAAA"}}})
			var re *vault.ResponseError
			if !errorsAs(err, &re) || re.StatusCode != 400 {
				t.Fatalf("batch with a failing item: %v", err)
			}

			for _, alg := range []string{"pss", "pkcs1v15"} {
				sig := write(t, c, "transit/sign/"+signer+"/sha2-384", map[string]any{"input": b64("release"), "signature_algorithm": alg})
				v := write(t, c, "transit/verify/"+signer+"/sha2-384", map[string]any{"input": b64("release"), "signature": sig.Data["signature"], "signature_algorithm": alg})
				bad := write(t, c, "transit/verify/"+signer+"/sha2-384", map[string]any{"input": b64("other"), "signature": sig.Data["signature"], "signature_algorithm": alg})
				if v.Data["valid"] != true || bad.Data["valid"] != false {
					t.Fatalf("%s verify = %v, other input %v", alg, v.Data["valid"], bad.Data["valid"])
				}
			}
			mac := write(t, c, "transit/hmac/"+app+"/sha2-512", map[string]any{"input": b64("m")})
			v := write(t, c, "transit/verify/"+app+"/sha2-512", map[string]any{"input": b64("m"), "hmac": mac.Data["hmac"]})
			if v.Data["valid"] != true {
				t.Fatalf("hmac verify = %+v", v.Data)
			}
		})
	}
}

func errorsAs(err error, re **vault.ResponseError) bool {
	e, ok := err.(*vault.ResponseError)
	if ok {
		*re = e
	}
	return ok
}

// TestCrossAPI: a key made with the OKMS API (surface B) encrypts and
// signs through Transit by its name, and one made through Transit through
// the OKMS API by its id; rotation through Transit is seen by the OKMS
// API, whose older ciphertexts keep decrypting; an OKMS-deactivated key
// refuses Transit encrypt; a Transit signature verifies with the OKMS
// verify route and with openssl.
func TestCrossAPI(t *testing.T) {
	h := newHarness(t)
	base := "/api/" + h.Domain + "/v1/servicekey"
	created := h.do("POST", base, `{"name":"okms-made","type":"oct","size":256,"operations":["encrypt","decrypt"]}`, "Content-Type", "application/json")
	wiretest.ExpectStatus(t, "OKMS create", &created, 201)
	id, _ := wiretest.DecodeBody[map[string]any](t, &created)["id"].(string)
	okmsCT := h.do("POST", base+"/"+id+"/encrypt", `{"plaintext":"`+b64("from okms")+`"}`, "Content-Type", "application/json")
	wiretest.ExpectStatus(t, "OKMS encrypt", &okmsCT, 200)

	c := h.client("default")
	enc := write(t, c, "transit/encrypt/okms-made", map[string]any{"plaintext": b64("via transit")})
	dec := write(t, c, "transit/decrypt/okms-made", map[string]any{"ciphertext": enc.Data["ciphertext"]})
	if dec.Data["plaintext"] != b64("via transit") {
		t.Fatalf("transit round trip on an OKMS key: %+v", dec.Data)
	}
	write(t, c, "transit/keys/okms-made/rotate", nil)
	got := h.do("GET", base+"/"+id, "")
	wiretest.ExpectStatus(t, "OKMS read after rotation", &got, 200)
	if ct, _ := wiretest.DecodeBody[map[string]any](t, &okmsCT)["ciphertext"].(string); true {
		r := h.do("POST", base+"/"+id+"/decrypt", `{"ciphertext":"`+ct+`"}`, "Content-Type", "application/json")
		wiretest.ExpectStatus(t, "OKMS decrypt of a pre-rotation ciphertext", &r, 200)
		if wiretest.DecodeBody[map[string]any](t, &r)["plaintext"] != b64("from okms") {
			t.Fatalf("OKMS decrypt = %s", r.Body)
		}
	}
	enc = write(t, c, "transit/encrypt/okms-made", map[string]any{"plaintext": b64("v2")})
	if !strings.HasPrefix(enc.Data["ciphertext"].(string), "vault:v2:") {
		t.Fatalf("after rotation: %v", enc.Data["ciphertext"])
	}
	deact := h.do("POST", base+"/"+id+"/deactivate", `{"reason":"unspecified"}`, "Content-Type", "application/json")
	if deact.Status >= 300 {
		t.Fatalf("OKMS deactivate: %d %s", deact.Status, deact.Body)
	}
	if _, err := c.Logical().Write("transit/encrypt/okms-made", map[string]any{"plaintext": b64("x")}); err == nil ||
		!strings.Contains(err.Error(), "not active") {
		t.Fatalf("Transit encrypt with an OKMS-deactivated key: %v", err)
	}
	if dec := write(t, c, "transit/decrypt/okms-made", map[string]any{"ciphertext": enc.Data["ciphertext"]}); dec.Data["plaintext"] != b64("v2") {
		t.Fatalf("decrypt with a deactivated key: %+v", dec.Data)
	}

	// A Transit key through the OKMS API.
	tk := write(t, c, "transit/keys/transit-made", map[string]any{"type": "ecdsa-p256"})
	tid := tk.Data["okms_key_id"].(string)
	sig := write(t, c, "transit/sign/transit-made", map[string]any{"input": b64("payload")})
	raw := strings.TrimPrefix(sig.Data["signature"].(string), "vault:v1:")
	r := h.do("POST", base+"/"+tid+"/verify", `{"message":"`+b64("payload")+`","signature":"`+raw+`","alg":"ES256"}`, "Content-Type", "application/json")
	wiretest.ExpectStatus(t, "OKMS verify of a Transit signature", &r, 200)
	if wiretest.DecodeBody[map[string]any](t, &r)["result"] != true {
		t.Fatalf("OKMS verify = %s", r.Body)
	}
	r = h.do("GET", base+"/"+tid, "")
	wiretest.ExpectStatus(t, "OKMS read of a Transit key", &r, 200)
	if wiretest.DecodeBody[map[string]any](t, &r)["name"] != "transit-made" {
		t.Fatalf("OKMS read = %s", r.Body)
	}

	// openssl verifies the DER signature with the public key of the key document.
	pemText := tk.Data["keys"].(map[string]any)["1"].(map[string]any)["public_key"].(string)
	blk, _ := pem.Decode([]byte(pemText))
	pub, err := x509.ParsePKIXPublicKey(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := base64.StdEncoding.DecodeString(raw)
	d := sha256.Sum256([]byte("payload"))
	if !ecdsa.VerifyASN1(pub.(*ecdsa.PublicKey), d[:], der) {
		t.Fatal("crypto/ecdsa rejects the Transit signature")
	}
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl not installed")
	}
	dir := t.TempDir()
	files := map[string][]byte{"pub.pem": []byte(pemText), "sig.der": der, "msg": []byte("payload")}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(openssl, "dgst", "-sha256", "-verify", filepath.Join(dir, "pub.pem"),
		"-signature", filepath.Join(dir, "sig.der"), filepath.Join(dir, "msg")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verified OK") {
		t.Fatalf("openssl dgst -verify: %v\n%s", err, out)
	}
	// RSA PSS too, as openssl verifies it (salt length auto).
	write(t, c, "transit/keys/rsa-made", map[string]any{"type": "rsa-2048"})
	rk, _ := c.Logical().Read("transit/keys/rsa-made")
	rpem := rk.Data["keys"].(map[string]any)["1"].(map[string]any)["public_key"].(string)
	rs := write(t, c, "transit/sign/rsa-made/sha2-256", map[string]any{"input": b64("payload")})
	rder, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(rs.Data["signature"].(string), "vault:v1:"))
	os.WriteFile(filepath.Join(dir, "rpub.pem"), []byte(rpem), 0o600)
	os.WriteFile(filepath.Join(dir, "rsig"), rder, 0o600)
	out, err = exec.Command(openssl, "dgst", "-sha256", "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:auto",
		"-verify", filepath.Join(dir, "rpub.pem"), "-signature", filepath.Join(dir, "rsig"), filepath.Join(dir, "msg")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verified OK") {
		t.Fatalf("openssl dgst -verify (PSS): %v\n%s", err, out)
	}
}
