package keyops

import (
	"errors"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/servicekey"
)

// FuzzCiphertext feeds arbitrary ciphertexts, data key blobs and wrapped
// keys to every reader of JWEs: none may panic, accept what it did not
// write, or fail with anything but the documented errors.
func FuzzCiphertext(f *testing.F) {
	ks := testKeys(f)
	// Only the seeds, which coffer wrote, may open: nobody forges AES-GCM.
	genuine := map[string]bool{}
	for _, name := range []string{"oct256", "rsa2048"} {
		ct, _ := ops.Encrypt(ks[name], servicekey.Envelope{KeyID: "k", Version: 1}, []byte("seed"), []byte("ctx"))
		f.Add(ct, "ctx")
		genuine[ct] = true
	}
	w, _ := ops.Wrap(ks["rsa2048"], "t", servicekey.RSAOAEP, servicekey.NewMaterial([]byte("k")))
	f.Add(w, "")
	genuine[w] = true
	f.Add("a.b.c.d.e", "")
	f.Add("eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIiwia2lkIjoiayIsInZlciI6MX0..AAAAAAAAAAAAAAAA..AAAAAAAAAAAAAAAAAAAAAA", "")
	f.Fuzz(func(t *testing.T, ct, context string) {
		if env, err := ops.ReadEnvelope(ct); err != nil && !errors.Is(err, servicekey.ErrCiphertext) {
			t.Fatalf("ReadEnvelope: %v", err)
		} else if err == nil && (env.KeyID == "" || env.Version == 0) {
			t.Fatalf("ReadEnvelope accepted an envelope without key or version: %+v", env)
		}
		for _, name := range []string{"oct256", "rsa2048"} {
			if _, err := ops.Decrypt(ks[name], ct, []byte(context)); err == nil {
				if genuine[ct] {
					continue
				}
				t.Fatalf("Decrypt with %s accepted a fuzzed ciphertext", name)
			} else if !errors.Is(err, servicekey.ErrCiphertext) {
				t.Fatalf("Decrypt with %s: %v", name, err)
			}
		}
		if _, err := ops.Unwrap(ks["rsa2048"], ct); err == nil {
			if genuine[ct] {
				return
			}
			t.Fatal("Unwrap accepted a fuzzed wrapped key")
		} else if _, ok := servicekey.AsViolations(err); !ok {
			t.Fatalf("Unwrap: %v", err)
		}
	})
}

// FuzzImportKey feeds arbitrary plaintexts of wrapped keys (and so JWKs)
// to ImportKey: it accepts only keys coffer can use, and what it accepts
// exports back.
func FuzzImportKey(f *testing.F) {
	ks := testKeys(f)
	for _, fm := range []servicekey.KeyFormat{servicekey.FormatRAW, servicekey.FormatJWK, servicekey.FormatPKCS1, servicekey.FormatPKCS8} {
		for _, name := range []string{"oct128", "rsa2048", "p256"} {
			if b, err := ops.ExportKey(fm, ks[name]); err == nil {
				f.Add(string(fm), b.Bytes())
			}
		}
	}
	f.Add("JWK", []byte(`{"kty":"EC","crv":"P-256","x":"AA","y":"AA"}`))
	f.Add("JWK", []byte(`{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQ","p":"AQ","q":"AQ"}`))
	f.Fuzz(func(t *testing.T, format string, b []byte) {
		fm, err := servicekey.ParseKeyFormat(format)
		if err != nil {
			return
		}
		imp, err := ops.ImportKey(fm, servicekey.NewMaterial(b))
		if err != nil {
			if _, ok := servicekey.AsViolations(err); !ok && !errors.Is(err, servicekey.ErrIncompatible) {
				t.Fatalf("ImportKey(%s): %v", fm, err)
			}
			return
		}
		if _, err := servicekey.ParseSpec(imp.Spec.Type, imp.Spec.Size, string(imp.Spec.Curve)); err != nil {
			t.Fatalf("ImportKey(%s) accepted an unusable key: %v", fm, err)
		}
		if _, err := ops.ExportKey(servicekey.FormatJWK, imp.Material); err != nil {
			t.Fatalf("an imported key does not export: %v", err)
		}
	})
}

// FuzzVerify feeds arbitrary signatures and messages to Verify: never a
// panic, never true for a signature coffer did not make over that message.
func FuzzVerify(f *testing.F) {
	ks := testKeys(f)
	for _, c := range []struct {
		key string
		alg servicekey.Algorithm
	}{{"rsa2048", servicekey.PS256}, {"p256", servicekey.ES256}} {
		sig, _ := ops.Sign(ks[c.key], servicekey.SignInput{Alg: c.alg, Message: []byte("seed")})
		f.Add(c.key, string(c.alg), []byte("other"), false, sig)
		jws, _ := ops.Sign(ks[c.key], servicekey.SignInput{Alg: c.alg, Message: []byte("seed"), Format: servicekey.FormatJWS})
		f.Add(c.key, "", []byte("other"), false, jws)
	}
	f.Add("p256", "ES256", []byte{}, true, "a.b.c")
	f.Fuzz(func(t *testing.T, key, alg string, msg []byte, isDigest bool, sig string) {
		m, ok := ks[key]
		if !ok || string(msg) == "seed" {
			return
		}
		msg = append([]byte{}, msg...) // never nil: a JWS is checked against it
		a, _ := servicekey.ParseAlgorithm(alg)
		ok, err := ops.Verify(m, servicekey.VerifyInput{Alg: a, Message: msg, IsDigest: isDigest, Signature: sig})
		if ok {
			t.Fatalf("a fuzzed signature verified: %q over %q", sig, msg)
		}
		if err != nil && !errors.Is(err, servicekey.ErrSignature) && !errors.Is(err, servicekey.ErrIncompatible) &&
			!errors.Is(err, servicekey.ErrUsage) {
			if _, v := servicekey.AsViolations(err); !v {
				t.Fatalf("Verify: %v", err)
			}
		}
	})
}
