package keyops

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"sync"
	"testing"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/seed-3e8d63de/coffer/internal/servicekey"
)

var ops = New(nil)

// Generated keys are shared between tests: RSA generation is slow.
var (
	keysOnce sync.Once
	keys     map[string]servicekey.Material
)

var specs = map[string]servicekey.Spec{
	"oct128": {Type: servicekey.Oct, Size: 128}, "oct192": {Type: servicekey.Oct, Size: 192},
	"oct256":  {Type: servicekey.Oct, Size: 256},
	"rsa2048": {Type: servicekey.RSA, Size: 2048}, "rsa3072": {Type: servicekey.RSA, Size: 3072},
	"p256": {Type: servicekey.EC, Curve: servicekey.P256}, "p384": {Type: servicekey.EC, Curve: servicekey.P384},
	"p521": {Type: servicekey.EC, Curve: servicekey.P521},
}

func testKeys(t testing.TB) map[string]servicekey.Material {
	t.Helper()
	keysOnce.Do(func() {
		keys = map[string]servicekey.Material{}
		for name, s := range specs {
			m, err := ops.Generate(s)
			if err != nil {
				panic(fmt.Sprintf("generate %s: %v", name, err))
			}
			keys[name] = m
		}
	})
	return keys
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	for name, m := range testKeys(t) {
		spec, class, err := ops.Describe(m)
		if err != nil || spec != specs[name] {
			t.Errorf("%s: Describe = %+v, %s, %v", name, spec, class, err)
		}
		want := servicekey.KeyPair
		if spec.Type == servicekey.Oct {
			want = servicekey.SecretKey
		}
		if class != want {
			t.Errorf("%s: class %s, want %s", name, class, want)
		}
		pub, err := ops.Public(m)
		if err != nil {
			t.Fatalf("%s: Public: %v", name, err)
		}
		if spec.Type == servicekey.Oct {
			if pub.PEM != "" || pub.N != nil || pub.Kty != servicekey.Oct {
				t.Errorf("%s: a symmetric key has a public part: %+v", name, pub)
			}
			continue
		}
		block, _ := pem.Decode([]byte(pub.PEM))
		if block == nil || block.Type != "PUBLIC KEY" {
			t.Fatalf("%s: PEM %q", name, pub.PEM)
		}
		if _, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil {
			t.Errorf("%s: PEM does not parse: %v", name, err)
		}
		if spec.Type == servicekey.EC && (len(pub.X) != spec.Curve.Bytes() || len(pub.Y) != spec.Curve.Bytes()) {
			t.Errorf("%s: coordinates of %d and %d bytes", name, len(pub.X), len(pub.Y))
		}
	}
	for _, bad := range []servicekey.Spec{{Type: servicekey.Oct, Size: 64}, {Type: servicekey.RSA, Size: 1024},
		{Type: servicekey.EC, Curve: "P-224"}, {Type: "DSA"}} {
		if _, err := ops.Generate(bad); !errors.Is(err, servicekey.ErrIncompatible) {
			t.Errorf("Generate(%+v) = %v, want ErrIncompatible", bad, err)
		}
	}
}

func TestEncryptDecrypt(t *testing.T) {
	t.Parallel()
	ks := testKeys(t)
	for _, name := range []string{"oct128", "oct192", "oct256", "rsa2048"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := ks[name]
			plain := bytes.Repeat([]byte("p"), 4096)
			env := servicekey.Envelope{KeyID: "1d5a2e0e-8b7f-4a5b-9d1e-6b4f4c1a0001", Version: 3}
			ct, err := ops.Encrypt(m, env, plain, []byte("ctx"))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := ops.ReadEnvelope(ct); err != nil || got != env {
				t.Fatalf("ReadEnvelope = %+v, %v; want %+v", got, err, env)
			}
			got, err := ops.Decrypt(m, ct, []byte("ctx"))
			if err != nil || !bytes.Equal(got, plain) {
				t.Fatalf("Decrypt: %v", err)
			}
			if len(ct) > maxJWELength {
				t.Errorf("a 4 KiB ciphertext is %d characters, beyond what Decrypt reads", len(ct))
			}
			for label, ctx := range map[string][]byte{"no context": nil, "other context": []byte("ctX")} {
				if _, err := ops.Decrypt(m, ct, ctx); !errors.Is(err, servicekey.ErrCiphertext) {
					t.Errorf("%s: %v, want ErrCiphertext", label, err)
				}
			}
			// Every part altered, and another key of the same kind.
			parts := strings.Split(ct, ".")
			for i := range parts {
				if parts[i] == "" {
					continue
				}
				alt := append([]string(nil), parts...)
				b, _ := b64url.DecodeString(alt[i])
				b[len(b)/2] ^= 1
				alt[i] = b64url.EncodeToString(b)
				if _, err := ops.Decrypt(m, strings.Join(alt, "."), []byte("ctx")); !errors.Is(err, servicekey.ErrCiphertext) {
					t.Errorf("part %d altered: %v, want ErrCiphertext", i, err)
				}
			}
			other, _ := ops.Generate(specs[name])
			if _, err := ops.Decrypt(other, ct, []byte("ctx")); !errors.Is(err, servicekey.ErrCiphertext) {
				t.Errorf("another key: %v", err)
			}
		})
	}
	if _, err := ops.Encrypt(ks["p256"], servicekey.Envelope{KeyID: "k", Version: 1}, []byte("x"), nil); !errors.Is(err, servicekey.ErrIncompatible) {
		t.Errorf("EC encrypt: %v", err)
	}
	// A ciphertext of one key size does not pass for another.
	ct, _ := ops.Encrypt(ks["oct128"], servicekey.Envelope{KeyID: "k", Version: 1}, []byte("x"), nil)
	if _, err := ops.Decrypt(ks["oct256"], ct, nil); !errors.Is(err, servicekey.ErrCiphertext) {
		t.Errorf("A128GCM ciphertext with a 256-bit key: %v", err)
	}
	dk, _ := ops.Encrypt(ks["oct256"], servicekey.Envelope{KeyID: "k", Version: 1, DataKey: true}, []byte("x"), nil)
	if env, err := ops.ReadEnvelope(dk); err != nil || !env.DataKey {
		t.Errorf("data key envelope %+v, %v", env, err)
	}
}

// TestJOSEOracle: go-jose, an independent JOSE implementation, reads the
// JWEs coffer writes and writes JWEs coffer reads.
func TestJOSEOracle(t *testing.T) {
	t.Parallel()
	ks := testKeys(t)
	octKey := octBytes(t, ks["oct256"])
	ct, err := ops.Encrypt(ks["oct256"], servicekey.Envelope{KeyID: "k", Version: 1}, []byte("hello"), nil)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := jose.ParseEncrypted(ct, []jose.KeyAlgorithm{jose.DIRECT}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := obj.Decrypt(octKey); err != nil || string(got) != "hello" {
		t.Fatalf("go-jose decrypt dir: %q, %v", got, err)
	}
	priv := rsaPriv(t, ks["rsa2048"])
	ct, _ = ops.Encrypt(ks["rsa2048"], servicekey.Envelope{KeyID: "k", Version: 1}, []byte("hello rsa"), nil)
	obj, err = jose.ParseEncrypted(ct, []jose.KeyAlgorithm{jose.RSA_OAEP_256}, []jose.ContentEncryption{jose.A256GCM})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := obj.Decrypt(priv); err != nil || string(got) != "hello rsa" {
		t.Fatalf("go-jose decrypt RSA-OAEP-256: %q, %v", got, err)
	}
	// Wrapped export, read by go-jose; wrapped import of go-jose's JWEs.
	for _, alg := range []servicekey.WrappingAlgorithm{servicekey.RSAOAEP, servicekey.RSAOAEP256} {
		w, err := ops.Wrap(ks["rsa2048"], "t", alg, servicekey.NewMaterial([]byte("key bytes")))
		if err != nil {
			t.Fatal(err)
		}
		obj, err := jose.ParseEncrypted(w, []jose.KeyAlgorithm{jose.KeyAlgorithm(alg)}, []jose.ContentEncryption{jose.A256GCM})
		if err != nil {
			t.Fatal(err)
		}
		if got, err := obj.Decrypt(priv); err != nil || string(got) != "key bytes" {
			t.Fatalf("go-jose unwrap %s: %v", alg, err)
		}
		for _, enc := range []jose.ContentEncryption{jose.A128GCM, jose.A192GCM, jose.A256GCM} {
			e, err := jose.NewEncrypter(enc, jose.Recipient{Algorithm: jose.KeyAlgorithm(alg), Key: &priv.PublicKey}, nil)
			if err != nil {
				t.Fatal(err)
			}
			jwe, err := e.Encrypt([]byte("wrapped by go-jose"))
			if err != nil {
				t.Fatal(err)
			}
			s, _ := jwe.CompactSerialize()
			got, err := ops.Unwrap(ks["rsa2048"], s)
			if err != nil || string(got.Bytes()) != "wrapped by go-jose" {
				t.Errorf("Unwrap of go-jose %s/%s: %v", alg, enc, err)
			}
		}
	}
	// Compression and CBC content encryption are refused.
	e, _ := jose.NewEncrypter(jose.A128CBC_HS256, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: &priv.PublicKey}, nil)
	jwe, _ := e.Encrypt([]byte("x"))
	s, _ := jwe.CompactSerialize()
	if _, err := ops.Unwrap(ks["rsa2048"], s); err == nil {
		t.Error("A128CBC-HS256 was accepted")
	}
	e, _ = jose.NewEncrypter(jose.A256GCM, jose.Recipient{Algorithm: jose.RSA_OAEP_256, Key: &priv.PublicKey},
		(&jose.EncrypterOptions{Compression: jose.DEFLATE}))
	jwe, _ = e.Encrypt([]byte("x"))
	s, _ = jwe.CompactSerialize()
	if _, err := ops.Unwrap(ks["rsa2048"], s); err == nil {
		t.Error("a compressed JWE was accepted")
	}
}

func octBytes(t *testing.T, m servicekey.Material) []byte {
	t.Helper()
	raw, err := ops.ExportKey(servicekey.FormatRAW, m)
	if err != nil {
		t.Fatal(err)
	}
	return raw.Bytes()
}

func rsaPriv(t *testing.T, m servicekey.Material) *rsa.PrivateKey {
	t.Helper()
	der, err := ops.ExportKey(servicekey.FormatPKCS1, m)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.ParsePKCS1PrivateKey(der.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func publicKey(t *testing.T, m servicekey.Material) crypto.PublicKey {
	t.Helper()
	pub, err := ops.Public(m)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode([]byte(pub.PEM))
	k, err := x509.ParsePKIXPublicKey(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSignVerify signs with every algorithm in every format, checks the
// signature with coffer's verification and with the standard library from
// the exported public key (as okms-cli's --local does), and checks that a
// changed message, signature or algorithm never verifies.
func TestSignVerify(t *testing.T) {
	t.Parallel()
	ks := testKeys(t)
	cases := map[servicekey.Algorithm]string{
		servicekey.RS256: "rsa2048", servicekey.RS384: "rsa2048", servicekey.RS512: "rsa3072",
		servicekey.PS256: "rsa2048", servicekey.PS384: "rsa3072", servicekey.PS512: "rsa2048",
		servicekey.ES256: "p256", servicekey.ES384: "p384", servicekey.ES512: "p521",
	}
	msg := []byte("hello world !!!")
	for alg, name := range cases {
		t.Run(string(alg), func(t *testing.T) {
			t.Parallel()
			m := ks[name]
			h := hashOf(alg).New()
			h.Write(msg)
			digest := h.Sum(nil)
			for _, isDigest := range []bool{false, true} {
				in := msg
				if isDigest {
					in = digest
				}
				sig, err := ops.Sign(m, servicekey.SignInput{Alg: alg, Message: in, IsDigest: isDigest, Format: servicekey.FormatRaw})
				if err != nil {
					t.Fatal(err)
				}
				raw, err := base64.StdEncoding.DecodeString(sig)
				if err != nil {
					t.Fatal(err)
				}
				if !stdlibVerify(publicKey(t, m), alg, digest, raw) {
					t.Errorf("isdigest=%v: the standard library does not verify the signature", isDigest)
				}
				ok, err := ops.Verify(m, servicekey.VerifyInput{Alg: alg, Message: in, IsDigest: isDigest, Signature: sig})
				if err != nil || !ok {
					t.Errorf("isdigest=%v: Verify = %v, %v", isDigest, ok, err)
				}
				raw[len(raw)/2] ^= 1
				ok, err = ops.Verify(m, servicekey.VerifyInput{Alg: alg, Message: in, IsDigest: isDigest, Signature: base64.StdEncoding.EncodeToString(raw)})
				if err != nil || ok {
					t.Errorf("altered signature: %v, %v", ok, err)
				}
				ok, err = ops.Verify(m, servicekey.VerifyInput{Alg: alg, Message: append([]byte("x"), in[1:]...), IsDigest: isDigest, Signature: sig})
				if err != nil || ok {
					t.Errorf("altered message: %v, %v", ok, err)
				}
			}
			// Every other algorithm: false, or an error for one that does
			// not fit the key; never true.
			sig, _ := ops.Sign(m, servicekey.SignInput{Alg: alg, Message: msg})
			for other := range cases {
				if other == alg {
					continue
				}
				ok, err := ops.Verify(m, servicekey.VerifyInput{Alg: other, Message: msg, Signature: sig})
				if ok {
					t.Errorf("a %s signature verifies as %s", alg, other)
				}
				if err != nil && !errors.Is(err, servicekey.ErrIncompatible) {
					t.Errorf("verify as %s: %v", other, err)
				}
			}
			// JWS and JWT, checked by go-jose as well.
			jws, err := ops.Sign(m, servicekey.SignInput{Alg: alg, Message: msg, Format: servicekey.FormatJWS, KeyID: "kid-1"})
			if err != nil {
				t.Fatal(err)
			}
			obj, err := jose.ParseSigned(jws, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)})
			if err != nil {
				t.Fatal(err)
			}
			if payload, err := obj.Verify(publicKey(t, m)); err != nil || !bytes.Equal(payload, msg) {
				t.Errorf("go-jose verify JWS: %v", err)
			}
			for _, c := range []struct {
				label string
				r     servicekey.VerifyInput
				want  bool
			}{
				{"jws", servicekey.VerifyInput{Alg: alg, Message: msg, Signature: jws}, true},
				{"jws without alg or message", servicekey.VerifyInput{Signature: jws}, true},
				{"jws, other message", servicekey.VerifyInput{Alg: alg, Message: []byte("other"), Signature: jws}, false},
				{"jws, tampered", servicekey.VerifyInput{Alg: alg, Signature: jws[:len(jws)-3] + "AAA"}, false},
			} {
				if ok, err := ops.Verify(m, c.r); ok != c.want || err != nil {
					t.Errorf("%s: %v, %v; want %v", c.label, ok, err, c.want)
				}
			}
			if _, err := ops.Sign(m, servicekey.SignInput{Alg: alg, Message: digest, IsDigest: true, Format: servicekey.FormatJWS}); err == nil {
				t.Error("a JWS over a digest was made")
			}
			jwt, err := ops.Sign(m, servicekey.SignInput{Alg: alg, Message: []byte(`{"sub":"x"}`), Format: servicekey.FormatJWT})
			if err != nil || !strings.HasPrefix(jwt, b64url.EncodeToString([]byte(`{"alg":"`+string(alg)+`","typ":"JWT"}`))) {
				t.Errorf("jwt %q, %v", jwt, err)
			}
			if _, err := ops.Sign(m, servicekey.SignInput{Alg: alg, Message: []byte("not json"), Format: servicekey.FormatJWT}); err == nil {
				t.Error("a JWT of a message that is not a JSON object was made")
			}
		})
	}
	// Wrong digest length, wrong key kinds, malformed signatures.
	if _, err := ops.Sign(ks["p256"], servicekey.SignInput{Alg: servicekey.ES256, Message: []byte("short"), IsDigest: true}); err == nil {
		t.Error("a digest of the wrong size was signed")
	}
	if _, err := ops.Sign(ks["rsa2048"], servicekey.SignInput{Alg: servicekey.ES256, Message: msg}); !errors.Is(err, servicekey.ErrIncompatible) {
		t.Errorf("ES256 with RSA: %v", err)
	}
	if _, err := ops.Sign(ks["p256"], servicekey.SignInput{Alg: servicekey.ES384, Message: msg}); !errors.Is(err, servicekey.ErrIncompatible) {
		t.Errorf("ES384 on P-256: %v", err)
	}
	if _, err := ops.Sign(ks["oct256"], servicekey.SignInput{Alg: servicekey.RS256, Message: msg}); !errors.Is(err, servicekey.ErrIncompatible) {
		t.Errorf("RS256 with an oct key: %v", err)
	}
	if _, err := ops.Verify(ks["p256"], servicekey.VerifyInput{Alg: servicekey.ES256, Message: msg, Signature: "not base64!"}); !errors.Is(err, servicekey.ErrSignature) {
		t.Errorf("malformed signature: %v", err)
	}
	// okms-cli's "bad signature" from its test suite.
	if ok, err := ops.Verify(ks["p256"], servicekey.VerifyInput{Alg: servicekey.ES256, Message: msg, Signature: "YmFkIHNpZ25hdHVyZQo="}); ok || err != nil {
		t.Errorf("bad signature: %v, %v", ok, err)
	}
}

func stdlibVerify(pub crypto.PublicKey, alg servicekey.Algorithm, digest, sig []byte) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if alg.Family() == "RS" {
			return rsa.VerifyPKCS1v15(k, hashOf(alg), digest, sig) == nil
		}
		return rsa.VerifyPSS(k, hashOf(alg), digest, sig, nil) == nil
	case *ecdsa.PublicKey:
		r, s := new(big.Int).SetBytes(sig[:len(sig)/2]), new(big.Int).SetBytes(sig[len(sig)/2:])
		return ecdsa.Verify(k, digest, r, s)
	}
	return false
}

// TestVerifyForeignSignatures: signatures made elsewhere, as openssl makes
// them (ASN.1 DER for ECDSA, the longest PSS salt), verify.
func TestVerifyForeignSignatures(t *testing.T) {
	t.Parallel()
	ks := testKeys(t)
	msg := []byte("signed by someone else")
	d := sha256.Sum256(msg)
	ec := ecPriv(t, ks["p256"])
	der, _ := ecdsa.SignASN1(rand.Reader, ec, d[:])
	if ok, err := ops.Verify(ks["p256"], servicekey.VerifyInput{Alg: servicekey.ES256, Message: msg, Signature: base64.StdEncoding.EncodeToString(der)}); !ok || err != nil {
		t.Errorf("DER ECDSA: %v, %v", ok, err)
	}
	priv := rsaPriv(t, ks["rsa2048"])
	pss, _ := rsa.SignPSS(rand.Reader, priv, crypto.SHA256, d[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	if ok, err := ops.Verify(ks["rsa2048"], servicekey.VerifyInput{Alg: servicekey.PS256, Message: msg, Signature: base64.RawURLEncoding.EncodeToString(pss)}); !ok || err != nil {
		t.Errorf("PSS with the longest salt, base64url: %v, %v", ok, err)
	}
}

func ecPriv(t *testing.T, m servicekey.Material) *ecdsa.PrivateKey {
	t.Helper()
	der, err := ops.ExportKey(servicekey.FormatPKCS8, m)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	return k.(*ecdsa.PrivateKey)
}

// TestExportImport: each format's export, wrapped and unwrapped, imports
// back to the same key; a public key imports as PUBLIC_KEY.
func TestExportImport(t *testing.T) {
	t.Parallel()
	ks := testKeys(t)
	transport := ks["rsa2048"]
	for name, m := range ks {
		spec, class, _ := ops.Describe(m)
		for _, f := range []servicekey.KeyFormat{servicekey.FormatRAW, servicekey.FormatJWK, servicekey.FormatPKCS1, servicekey.FormatPKCS8} {
			plain, err := ops.ExportKey(f, m)
			if f.Fits(spec, class) != nil {
				if !errors.Is(err, servicekey.ErrIncompatible) {
					t.Errorf("%s as %s: %v, want ErrIncompatible", name, f, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s as %s: %v", name, f, err)
			}
			w, err := ops.Wrap(transport, "t", servicekey.RSAOAEP256, plain)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ops.Unwrap(transport, w)
			if err != nil {
				t.Fatal(err)
			}
			imp, err := ops.ImportKey(f, got)
			if err != nil {
				t.Fatalf("%s as %s: import: %v", name, f, err)
			}
			if imp.Spec != spec || imp.Class != class || !samePublic(t, imp.Material, m) {
				t.Errorf("%s as %s: imported %+v %s", name, f, imp.Spec, imp.Class)
			}
			if spec.Type == servicekey.Oct && !bytes.Equal(octBytes(t, imp.Material), octBytes(t, m)) {
				t.Errorf("%s as %s: another symmetric key came back", name, f)
			}
		}
	}
	// A format that does not fit what the JWE holds.
	raw, _ := ops.ExportKey(servicekey.FormatRAW, ks["oct256"])
	if _, err := ops.ImportKey(servicekey.FormatPKCS8, raw); err == nil {
		t.Error("RAW bytes imported as PKCS8")
	}
	// A transport key that is not RSA.
	if _, err := ops.Wrap(ks["oct256"], "t", servicekey.RSAOAEP, raw); !errors.Is(err, servicekey.ErrIncompatible) {
		t.Errorf("oct transport: %v", err)
	}
}

func samePublic(t *testing.T, a, b servicekey.Material) bool {
	t.Helper()
	pa, err1 := ops.Public(a)
	pb, err2 := ops.Public(b)
	return err1 == nil && err2 == nil && pa.PEM == pb.PEM && pa.Kty == pb.Kty
}

// sdkJWK builds the JWK members okms-sdk-go's types.NewJsonWebKey writes:
// big integers without leading zeros.
func sdkJWK(t *testing.T, k any) servicekey.JWK {
	t.Helper()
	enc := func(n *big.Int) string { return base64.RawURLEncoding.EncodeToString(n.Bytes()) }
	var (
		kty, crv string
		m        = map[string]string{}
	)
	switch k := k.(type) {
	case *rsa.PrivateKey:
		kty = "RSA"
		m["n"], m["e"], m["d"] = enc(k.N), enc(big.NewInt(int64(k.E))), enc(k.D)
		m["p"], m["q"] = enc(k.Primes[0]), enc(k.Primes[1])
		m["dp"], m["dq"], m["qi"] = enc(k.Precomputed.Dp), enc(k.Precomputed.Dq), enc(k.Precomputed.Qinv)
	case *rsa.PublicKey:
		kty = "RSA"
		m["n"], m["e"] = enc(k.N), enc(big.NewInt(int64(k.E)))
	case *ecdsa.PrivateKey:
		kty, crv = "EC", k.Curve.Params().Name
		m["x"], m["y"], m["d"] = enc(k.X), enc(k.Y), enc(k.D)
	case *ecdsa.PublicKey:
		kty, crv = "EC", k.Curve.Params().Name
		m["x"], m["y"] = enc(k.X), enc(k.Y)
	case []byte:
		kty = "oct"
		m["k"] = base64.RawURLEncoding.EncodeToString(k)
	}
	j, err := servicekey.ParseJWK(kty, crv, []string{"sign"}, m)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

func TestImportJWK(t *testing.T) {
	t.Parallel()
	ks := testKeys(t)
	rsaKey := rsaPriv(t, ks["rsa2048"])
	ecKey := ecPriv(t, ks["p384"])
	// An EC key whose x starts with a zero byte, written without it.
	var short *ecdsa.PrivateKey
	for short == nil {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if len(k.X.Bytes()) < 32 || len(k.D.Bytes()) < 32 {
			short = k
		}
	}
	tests := []struct {
		name  string
		jwk   servicekey.JWK
		spec  servicekey.Spec
		class servicekey.Class
	}{
		{"rsa private", sdkJWK(t, rsaKey), specs["rsa2048"], servicekey.KeyPair},
		{"rsa public", sdkJWK(t, &rsaKey.PublicKey), specs["rsa2048"], servicekey.PublicKey},
		{"ec private", sdkJWK(t, ecKey), specs["p384"], servicekey.KeyPair},
		{"ec public", sdkJWK(t, &ecKey.PublicKey), specs["p384"], servicekey.PublicKey},
		{"ec without leading zeros", sdkJWK(t, short), specs["p256"], servicekey.KeyPair},
		{"oct", sdkJWK(t, bytes.Repeat([]byte{7}, 24)), specs["oct192"], servicekey.SecretKey},
	}
	for _, tc := range tests {
		imp, err := ops.ImportJWK(tc.jwk)
		if err != nil || imp.Spec != tc.spec || imp.Class != tc.class {
			t.Errorf("%s: %+v %s, %v", tc.name, imp.Spec, imp.Class, err)
			continue
		}
		if len(imp.Usages) != 1 || imp.Usages[0] != "sign" {
			t.Errorf("%s: key_ops %v", tc.name, imp.Usages)
		}
		if tc.class == servicekey.KeyPair {
			sig, err := ops.Sign(imp.Material, servicekey.SignInput{Alg: map[servicekey.Type]servicekey.Algorithm{servicekey.RSA: servicekey.PS256, servicekey.EC: map[servicekey.Curve]servicekey.Algorithm{servicekey.P256: servicekey.ES256, servicekey.P384: servicekey.ES384}[tc.spec.Curve]}[tc.spec.Type], Message: []byte("m")})
			if err != nil || sig == "" {
				t.Errorf("%s: sign with the imported key: %v", tc.name, err)
			}
		}
	}
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	bad := func(kty, crv string, m map[string]string) servicekey.JWK {
		j, err := servicekey.ParseJWK(kty, crv, nil, m)
		if err != nil {
			t.Fatal(err)
		}
		return j
	}
	e := func(n *big.Int) string { return base64.RawURLEncoding.EncodeToString(n.Bytes()) }
	rj := sdkJWK(t, rsaKey).Members()
	enc := base64.RawURLEncoding.EncodeToString
	for name, j := range map[string]servicekey.JWK{
		"rsa 1024":          sdkJWK(t, small),
		"oct 20 bytes":      sdkJWK(t, bytes.Repeat([]byte{1}, 20)),
		"unknown kty":       bad("OKP", "", map[string]string{"x": "AA"}),
		"rsa without e":     bad("RSA", "", map[string]string{"n": enc(rj.N)}),
		"rsa without p":     bad("RSA", "", map[string]string{"n": enc(rj.N), "e": enc(rj.E), "d": enc(rj.D)}),
		"rsa wrong d":       bad("RSA", "", map[string]string{"n": enc(rj.N), "e": enc(rj.E), "d": enc(rj.P), "p": enc(rj.P), "q": enc(rj.Q)}),
		"rsa wrong dp":      bad("RSA", "", map[string]string{"n": enc(rj.N), "e": enc(rj.E), "d": enc(rj.D), "p": enc(rj.P), "q": enc(rj.Q), "dp": enc(rj.DQ)}),
		"rsa even e":        bad("RSA", "", map[string]string{"n": enc(rj.N), "e": "Ag"}),
		"ec off the curve":  bad("EC", "P-384", map[string]string{"x": e(ecKey.X), "y": e(ecKey.X)}),
		"ec without crv":    bad("EC", "", map[string]string{"x": e(ecKey.X), "y": e(ecKey.Y)}),
		"ec d of other key": bad("EC", "P-256", map[string]string{"x": e(short.X), "y": e(short.Y), "d": e(ecPriv(t, ks["p256"]).D)}),
		"ec P-224":          bad("EC", "P-224", map[string]string{"x": "AA", "y": "AA"}),
	} {
		_, err := ops.ImportJWK(j)
		if vs, ok := servicekey.AsViolations(err); !ok || vs[0].ID() != "ServiceKeyKeysInvalid" {
			t.Errorf("%s: %v, want ServiceKeyKeysInvalid", name, err)
		}
	}
}

func TestDataKey(t *testing.T) {
	t.Parallel()
	for _, bits := range []int{64, 128, 256, 4096} {
		k, err := ops.DataKey(bits)
		if err != nil || k.Len() != bits/8 {
			t.Errorf("DataKey(%d) = %d bytes, %v", bits, k.Len(), err)
		}
	}
	for _, bits := range []int{0, 56, 100, 4104} {
		if _, err := ops.DataKey(bits); err == nil {
			t.Errorf("DataKey(%d) accepted", bits)
		}
	}
}

// TestNoMaterialInErrors: no error of this package carries key bytes,
// plaintext or ciphertext.
func TestNoMaterialInErrors(t *testing.T) {
	t.Parallel()
	ks := testKeys(t)
	const canary = "CANARYCANARYCANARY"
	ct, _ := ops.Encrypt(ks["oct256"], servicekey.Envelope{KeyID: "k", Version: 1}, []byte(canary), nil)
	var errs []error
	_, err := ops.Decrypt(ks["oct256"], ct+"x", nil)
	errs = append(errs, err)
	_, err = ops.Decrypt(ks["oct256"], ct, []byte(canary))
	errs = append(errs, err)
	_, err = ops.ImportKey(servicekey.FormatJWK, servicekey.NewMaterial([]byte(`{"kty":"oct","k":"`+canary+`"}`)))
	errs = append(errs, err)
	_, err = ops.Unwrap(ks["rsa2048"], canary)
	errs = append(errs, err)
	raw := octBytes(t, ks["oct256"])
	for _, err := range errs {
		if err == nil {
			t.Error("no error")
			continue
		}
		if s := err.Error(); strings.Contains(s, canary) || strings.Contains(s, string(raw)) || strings.Contains(s, ct[:20]) {
			t.Errorf("error carries data: %s", s)
		}
	}
}

// TestForget: Forget empties the parsed-key cache; the keys still work.
func TestForget(t *testing.T) {
	o := New(nil)
	m, err := o.Generate(servicekey.Spec{Type: servicekey.Oct, Size: 256})
	if err != nil {
		t.Fatal(err)
	}
	env := servicekey.Envelope{KeyID: "k", Version: 1}
	ct, err := o.Encrypt(m, env, []byte("x"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.cache.len() == 0 {
		t.Fatal("no key cached after an encryption")
	}
	o.Forget()
	if n := o.cache.len(); n != 0 {
		t.Fatalf("%d keys cached after Forget", n)
	}
	if pt, err := o.Decrypt(m, ct, nil); err != nil || string(pt) != "x" {
		t.Fatalf("Decrypt after Forget = %q, %v", pt, err)
	}
}
