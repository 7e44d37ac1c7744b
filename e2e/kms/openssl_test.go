package kms

import (
	"encoding/asn1"
	"encoding/base64"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ovh/okms-sdk-go/types"
)

// TestSignaturesOpenSSL: a signature made by coffer verifies with openssl
// from the public key exported as PEM (GET ...?format=pem), for every
// algorithm; an altered signature, another message, or the other padding
// does not. Skipped when openssl is not installed.
func TestSignaturesOpenSSL(t *testing.T) {
	t.Parallel()
	openssl, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl is not installed")
	}
	k := newKMS(t)
	c := k.sdk(k.root)
	ctx := t.Context()
	usage := []types.CryptographicUsages{types.Sign, types.Verify}
	rsaKey, err := c.GenerateRSAKeyPair(ctx, k.domain, types.N3072, "openssl-rsa", types.SOFTWARE, "", usage)
	if err != nil {
		t.Fatal(err)
	}
	curves := map[types.DigitalSignatureAlgorithms]types.Curves{types.ES256: types.P256, types.ES384: types.P384, types.ES512: types.P521}
	dir := t.TempDir()
	msg := filepath.Join(dir, "message")
	if err := os.WriteFile(msg, []byte("signed by coffer, checked by openssl"), 0o600); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(msg)
	pemOf := func(id string) string {
		var out struct {
			KeysPEM []struct{ PEM string } `json:"keysPEM"`
		}
		if s, b := k.call("GET", "/api/{okmsId}/v1/servicekey/"+id+"?format=pem", "", &out); s != 200 || len(out.KeysPEM) != 1 {
			t.Fatalf("PEM of %s: %d %s", id, s, b)
		}
		path := filepath.Join(dir, id+".pem")
		if err := os.WriteFile(path, []byte(out.KeysPEM[0].PEM), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	rsaPEM := pemOf(rsaKey.Id.String())
	for _, alg := range []types.DigitalSignatureAlgorithms{types.RS256, types.RS384, types.RS512, types.PS256, types.PS384,
		types.PS512, types.ES256, types.ES384, types.ES512} {
		t.Run(string(alg), func(t *testing.T) {
			id, pub := rsaKey.Id, rsaPEM
			if crv, ok := curves[alg]; ok {
				ec, err := c.GenerateECKeyPair(ctx, k.domain, crv, "openssl-"+string(alg), types.SOFTWARE, "", usage)
				if err != nil {
					t.Fatal(err)
				}
				id, pub = ec.Id, pemOf(ec.Id.String())
			}
			sig64, err := c.Sign(ctx, k.domain, id, nil, alg, false, data)
			if err != nil {
				t.Fatal(err)
			}
			sig, _ := base64.StdEncoding.DecodeString(sig64)
			if strings.HasPrefix(string(alg), "ES") {
				sig = derSignature(t, sig) // openssl reads ECDSA signatures as DER
			}
			bits := string(alg)[2:]
			args := []string{"dgst", "-sha" + bits, "-verify", pub}
			if strings.HasPrefix(string(alg), "PS") {
				args = append(args, "-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1")
			}
			verify := func(sig []byte, file string, extra ...string) (bool, string) {
				sf := filepath.Join(dir, string(alg)+".sig")
				if err := os.WriteFile(sf, sig, 0o600); err != nil {
					t.Fatal(err)
				}
				out, err := exec.Command(openssl, append(append(append([]string(nil), args...), extra...), "-signature", sf, file)...).CombinedOutput()
				return err == nil && strings.Contains(string(out), "Verified OK"), string(out)
			}
			if ok, out := verify(sig, msg); !ok {
				t.Fatalf("openssl does not verify coffer's %s signature: %s", alg, out)
			}
			bad := append([]byte(nil), sig...)
			bad[len(bad)-2] ^= 1
			if ok, out := verify(bad, msg); ok {
				t.Errorf("openssl verifies an altered signature: %s", out)
			}
			other := filepath.Join(dir, "other")
			os.WriteFile(other, []byte("another message"), 0o600)
			if ok, out := verify(sig, other); ok {
				t.Errorf("openssl verifies the signature over another message: %s", out)
			}
			if strings.HasPrefix(string(alg), "RS") {
				// The same signature read as PSS: refused.
				if ok, out := verify(sig, msg, "-sigopt", "rsa_padding_mode:pss"); ok {
					t.Errorf("openssl verifies a PKCS #1 v1.5 signature as PSS: %s", out)
				}
			}
		})
	}
}

// derSignature turns an r||s ECDSA signature into ASN.1 DER.
func derSignature(t *testing.T, sig []byte) []byte {
	t.Helper()
	der, err := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(sig[:len(sig)/2]), new(big.Int).SetBytes(sig[len(sig)/2:])})
	if err != nil {
		t.Fatal(err)
	}
	return der
}
