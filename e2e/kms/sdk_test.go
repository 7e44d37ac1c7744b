package kms

import (
	"bytes"
	"context"
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
	"math/big"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
	okms "github.com/ovh/okms-sdk-go"
	"github.com/ovh/okms-sdk-go/types"
	"golang.org/x/crypto/ssh"
)

// TestSDK runs every service key route through okms-sdk-go v0.5.4, once
// with a bearer token and once with an access certificate and no token:
// the calls okms-cli's "okms keys" commands make, in the order of its
// test suite (tests/keys.yaml).
func TestSDK(t *testing.T) {
	t.Parallel()
	k := newKMS(t)
	cert := k.accessCertificate("kms-app", "okms:apikms:serviceKey/*", "okms:apikms:random/get")
	mtls, mtlsHTTP := k.sdkMTLS(cert)
	for _, mode := range []struct {
		name   string
		client *okms.Client
		random func(n string) (int, []byte)
	}{
		{"token", k.sdk(k.root), func(n string) (int, []byte) { return k.call("GET", "/api/{okmsId}/v1/random?length="+n, "", nil) }},
		{"mtls", mtls, func(n string) (int, []byte) {
			return k.callWith(mtlsHTTP, "", "GET", "/api/{okmsId}/v1/random?length="+n, "", nil)
		}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			s := &suite{t: t, k: k, c: mode.client, ctx: t.Context()}
			s.lifecycle()
			s.crypto()
			s.signatures()
			s.imports()
			s.wrapped()
			s.deletion()
			status, body := mode.random("32")
			if status != http.StatusOK || !strings.Contains(string(body), `"bytes"`) {
				t.Errorf("GET /v1/random = %d %s", status, body)
			}
		})
	}
	t.Run("certificate without rights", func(t *testing.T) {
		t.Parallel()
		c, _ := k.sdkMTLS(k.accessCertificate("kms-nobody", "okms:apikms:secret/get"))
		_, err := c.GenerateSymmetricKey(t.Context(), k.domain, types.N256, "refused", types.SOFTWARE, "", []types.CryptographicUsages{types.Encrypt})
		if okms.ErrStatusCode(err) != http.StatusForbidden {
			t.Errorf("create without serviceKey/create = %v, want 403", err)
		}
	})
}

// suite is one run of TestSDK.
type suite struct {
	t   *testing.T
	k   *kms
	c   *okms.Client
	ctx context.Context

	aes, rsa, ec uuid.UUID
}

func (s *suite) must(err error, what string) {
	s.t.Helper()
	if err != nil {
		s.t.Fatalf("%s: %v", what, err)
	}
}

func ops(u ...types.CryptographicUsages) []types.CryptographicUsages { return u }

func (s *suite) state(id uuid.UUID) string {
	s.t.Helper()
	k, err := s.c.GetServiceKey(s.ctx, s.k.domain, id, nil)
	s.must(err, "GetServiceKey")
	st, _ := (*k.Attributes)["state"].(string)
	return st
}

func (s *suite) lifecycle() {
	t, ctx, d := s.t, s.ctx, s.k.domain
	aes, err := s.c.GenerateSymmetricKey(ctx, d, types.N256, "test-aes-1", types.SOFTWARE, "test-aes-1",
		ops(types.Encrypt, types.Decrypt, types.WrapKey, types.UnwrapKey))
	s.must(err, "GenerateSymmetricKey")
	rsaKey, err := s.c.GenerateRSAKeyPair(ctx, d, types.N2048, "test-rsa-1", types.SOFTWARE, "", ops(types.Sign, types.Verify))
	s.must(err, "GenerateRSAKeyPair")
	want := uuid.New()
	ec, err := s.c.GenerateECKeyPair(ctx, d, types.P256, "test-ecdsa-1", types.SOFTWARE, "", ops(types.Sign, types.Verify), okms.WithKeyID(want))
	s.must(err, "GenerateECKeyPair")
	if ec.Id != want || *ec.Curve != types.P256 || *ec.Class != types.KEYPAIR || aes.Size == nil || *aes.Size != types.N256 {
		t.Fatalf("generated keys: %+v, %+v", ec, aes)
	}
	s.aes, s.rsa, s.ec = aes.Id, rsaKey.Id, ec.Id

	// The list, in pages of 10 (okms-cli: ListAllServiceKeys).
	for range 9 {
		_, err := s.c.GenerateSymmetricKey(ctx, d, types.N128, "filler", types.SOFTWARE, "", nil)
		s.must(err, "GenerateSymmetricKey")
	}
	size := uint32(10)
	var seen []uuid.UUID
	for key, err := range s.c.ListAllServiceKeys(d, &size, nil).Iter(ctx) {
		s.must(err, "ListAllServiceKeys")
		seen = append(seen, key.Id)
	}
	for _, id := range []uuid.UUID{aes.Id, rsaKey.Id, ec.Id} {
		if !slices.Contains(seen, id) {
			t.Errorf("ListAllServiceKeys misses %s (saw %d keys)", id, len(seen))
		}
	}
	if len(seen) < 12 {
		t.Errorf("listed %d keys, want at least 12", len(seen))
	}

	renamed := "test-aes-1-updated"
	k, err := s.c.UpdateServiceKey(ctx, d, aes.Id, types.PatchServiceKeyRequest{Name: &renamed})
	s.must(err, "UpdateServiceKey")
	if k.Name != renamed {
		t.Errorf("name after update %q", k.Name)
	}
	s.must(s.c.ActivateServiceKey(ctx, d, aes.Id), "activate an active key")
	s.must(s.c.DeactivateServiceKey(ctx, d, aes.Id, types.Unspecified), "DeactivateServiceKey")
	if st := s.state(aes.Id); st != "deactivated" {
		t.Errorf("state %q after deactivation", st)
	}
	deactivated := types.KeyStatesDeactivated
	found := false
	for key, err := range s.c.ListAllServiceKeys(d, nil, &deactivated).Iter(ctx) {
		s.must(err, "ListAllServiceKeys(deactivated)")
		found = found || key.Id == aes.Id
	}
	if !found {
		t.Error("the deactivated key is not listed with state=deactivated")
	}
	s.must(s.c.DeactivateServiceKey(ctx, d, aes.Id, types.KeyCompromise), "compromise")
	got, err := s.c.GetServiceKey(ctx, d, aes.Id, nil)
	s.must(err, "GetServiceKey")
	if (*got.Attributes)["state"] != "compromised" || (*got.Attributes)["compromise_date"] == nil {
		t.Errorf("compromised key attributes %v", *got.Attributes)
	}
	s.must(s.c.ActivateServiceKey(ctx, d, aes.Id), "reactivate")
	got, _ = s.c.GetServiceKey(ctx, d, aes.Id, nil)
	if (*got.Attributes)["state"] != "active" || (*got.Attributes)["compromise_date"] != nil {
		t.Errorf("reactivated key attributes %v", *got.Attributes)
	}
}

func (s *suite) crypto() {
	t, ctx, d := s.t, s.ctx, s.k.domain
	ct, err := s.c.Encrypt(ctx, d, s.aes, "ctx", []byte("Hello World !!!"))
	s.must(err, "Encrypt")
	pt, err := s.c.Decrypt(ctx, d, s.aes, "ctx", ct)
	if err != nil || string(pt) != "Hello World !!!" {
		t.Errorf("Decrypt = %q, %v", pt, err)
	}
	if _, err := s.c.Decrypt(ctx, d, s.aes, "other", ct); okms.ErrStatusCode(err) != http.StatusBadRequest {
		t.Errorf("Decrypt with another context = %v, want 400", err)
	}
	var kmsErr *okms.KmsError
	if _, err := s.c.Encrypt(ctx, d, s.ec, "", []byte("x")); !errors.As(err, &kmsErr) || kmsErr.ErrorId != "ServiceKeyAlgorithmIncompatible" {
		t.Errorf("Encrypt with an EC key = %v, want the OKMS error ServiceKeyAlgorithmIncompatible", err)
	}

	plain, blob, err := s.c.GenerateDataKey(ctx, d, s.aes, "test-dk", 256)
	s.must(err, "GenerateDataKey")
	again, err := s.c.DecryptDataKey(ctx, d, s.aes, blob)
	if err != nil || !bytes.Equal(again, plain) || len(plain) != 32 {
		t.Errorf("DecryptDataKey: %v", err)
	}
	dk := s.c.DataKeys(d, s.aes)
	ctext, ckey, nonce, err := dk.EncryptGCM(ctx, "gcm", []byte("sealed locally"), []byte("aad"))
	s.must(err, "EncryptGCM")
	out, err := dk.DecryptGCM(ctx, ckey, ctext, nonce, []byte("aad"))
	if err != nil || string(out) != "sealed locally" {
		t.Errorf("DecryptGCM = %q, %v", out, err)
	}
}

var algs = []struct {
	alg  types.DigitalSignatureAlgorithms
	hash crypto.Hash
}{
	{types.RS256, crypto.SHA256}, {types.RS384, crypto.SHA384}, {types.RS512, crypto.SHA512},
	{types.PS256, crypto.SHA256}, {types.PS384, crypto.SHA384}, {types.PS512, crypto.SHA512},
	{types.ES256, crypto.SHA256},
}

func digest(h crypto.Hash, msg []byte) []byte {
	w := h.New()
	w.Write(msg)
	return w.Sum(nil)
}

// signatures signs as okms-cli does (a digest, raw format) and verifies
// three ways: the server, okms-cli's --local (the exported JWK and the
// standard library) and the SDK's crypto.Signer.
func (s *suite) signatures() {
	t, ctx, d := s.t, s.ctx, s.k.domain
	msg := []byte("hello world !!!")
	for _, a := range algs {
		id := s.rsa
		if a.alg == types.ES256 {
			id = s.ec
		}
		dg := digest(a.hash, msg)
		sig, err := s.c.Sign(ctx, d, id, nil, a.alg, true, dg)
		s.must(err, "Sign "+string(a.alg))
		ok, err := s.c.Verify(ctx, d, id, a.alg, true, dg, sig)
		if err != nil || !ok {
			t.Errorf("%s: server Verify = %v, %v", a.alg, ok, err)
		}
		ok, err = s.c.Verify(ctx, d, id, a.alg, false, msg, sig)
		if err != nil || !ok {
			t.Errorf("%s: server Verify over the message = %v, %v", a.alg, ok, err)
		}
		pub, err := s.c.ExportPublicKey(ctx, d, id)
		s.must(err, "ExportPublicKey")
		raw, _ := base64.StdEncoding.DecodeString(sig)
		if !localVerify(pub, a.alg, a.hash, dg, raw) {
			t.Errorf("%s: okms-cli's local verification fails", a.alg)
		}
		// A wrong signature, a wrong message, a wrong algorithm: never true.
		bad := append([]byte(nil), raw...)
		bad[len(bad)-1] ^= 1
		if ok, _ := s.c.Verify(ctx, d, id, a.alg, true, dg, base64.StdEncoding.EncodeToString(bad)); ok {
			t.Errorf("%s: an altered signature verifies", a.alg)
		}
		if ok, _ := s.c.Verify(ctx, d, id, a.alg, false, []byte("other"), sig); ok {
			t.Errorf("%s: the signature verifies another message", a.alg)
		}
		for _, other := range algs {
			if other.alg == a.alg {
				continue
			}
			if ok, err := s.c.Verify(ctx, d, id, other.alg, false, msg, sig); ok {
				t.Errorf("a %s signature verifies as %s (%v)", a.alg, other.alg, err)
			}
		}
		if localVerify(pub, a.alg, a.hash, dg, bad) {
			t.Errorf("%s: an altered signature verifies locally", a.alg)
		}
	}
	// okms-cli's "bad signature".
	if ok, err := s.c.Verify(ctx, d, s.ec, types.ES256, false, msg, "YmFkIHNpZ25hdHVyZQo="); ok || err != nil {
		t.Errorf("bad signature: %v, %v", ok, err)
	}
	// The SDK's examples/sign_verify.go: a JWS over the message.
	jws := types.Jws
	sig, err := s.c.Sign(ctx, d, s.ec, &jws, types.ES256, false, msg)
	s.must(err, "Sign jws")
	if ok, err := s.c.Verify(ctx, d, s.ec, types.ES256, false, msg, sig); !ok || err != nil {
		t.Errorf("JWS verify = %v, %v", ok, err)
	}
	// The SDK's crypto.Signer, checked with the standard library.
	for _, id := range []uuid.UUID{s.ec, s.rsa} {
		signer, err := s.c.NewSigner(ctx, d, id)
		s.must(err, "NewSigner")
		dg := sha256.Sum256(msg)
		sig, err := signer.Sign(rand.Reader, dg[:], crypto.SHA256)
		s.must(err, "Signer.Sign")
		switch pub := signer.Public().(type) {
		case *ecdsa.PublicKey:
			if !ecdsa.VerifyASN1(pub, dg[:], sig) {
				t.Error("the SDK's signer made an ECDSA signature the standard library refuses")
			}
		case *rsa.PublicKey:
			if rsa.VerifyPKCS1v15(pub, crypto.SHA256, dg[:], sig) != nil {
				t.Error("the SDK's signer made an RSA signature the standard library refuses")
			}
			pss, err := signer.Sign(rand.Reader, dg[:], &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: rsa.PSSSaltLengthEqualsHash})
			if err != nil || rsa.VerifyPSS(pub, crypto.SHA256, dg[:], pss, nil) != nil {
				t.Errorf("the SDK's signer's PSS signature: %v", err)
			}
		}
	}
}

// localVerify is okms-cli's "keys verify --local": the public key of the
// JWK, the raw signature (ECDSA: r||s).
func localVerify(pub crypto.PublicKey, alg types.DigitalSignatureAlgorithms, h crypto.Hash, dg, sig []byte) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if strings.HasPrefix(string(alg), "RS") {
			return rsa.VerifyPKCS1v15(k, h, dg, sig) == nil
		}
		return rsa.VerifyPSS(k, h, dg, sig, nil) == nil
	case *ecdsa.PublicKey:
		r, s := new(big.Int).SetBytes(sig[:len(sig)/2]), new(big.Int).SetBytes(sig[len(sig)/2:])
		return ecdsa.Verify(k, dg, r, s)
	}
	return false
}

// imports imports what okms-cli's "keys import" sends: a symmetric key
// (--symmetric), RSA and EC private keys from PKCS1, PKCS8, SEC1 and
// OpenSSH PEM, and public keys (PKIX, PKCS1).
func (s *suite) imports() {
	t, ctx, d := s.t, s.ctx, s.k.domain
	aesKey := bytes.Repeat([]byte{0x61}, 32) // okms-cli's test key, "aaaa…"
	imp, err := s.c.ImportKey(ctx, d, aesKey, "test-import-aes", "test-import-aes", ops(types.Encrypt, types.Decrypt))
	s.must(err, "ImportKey(AES)")
	ct, err := s.c.Encrypt(ctx, d, imp.Id, "", []byte("with an imported key"))
	s.must(err, "Encrypt with an imported key")
	if pt, err := s.c.Decrypt(ctx, d, imp.Id, "", ct); err != nil || string(pt) != "with an imported key" {
		t.Errorf("imported AES key round trip: %v", err)
	}
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p8rsa, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	p8ec, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	sec1, _ := x509.MarshalECPrivateKey(ecKey)
	pkixRSA, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	pkixEC, _ := x509.MarshalPKIXPublicKey(&ecKey.PublicKey)
	sshRSA, err := ssh.MarshalPrivateKey(rsaKey, "")
	s.must(err, "ssh.MarshalPrivateKey")
	sshEC, _ := ssh.MarshalPrivateKey(ecKey, "")
	for _, c := range []struct {
		name  string
		pem   []byte
		usage []types.CryptographicUsages
		class types.ServiceKeyClassEnum
	}{
		{"rsa pkcs1", pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)}), ops(types.Sign, types.Verify), types.KEYPAIR},
		{"rsa pkcs8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8rsa}), ops(types.Sign, types.Verify), types.KEYPAIR},
		{"rsa openssh", pem.EncodeToMemory(sshRSA), ops(types.Sign, types.Verify), types.KEYPAIR},
		{"ecdsa sec1", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}), ops(types.Sign, types.Verify), types.KEYPAIR},
		{"ecdsa pkcs8", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8ec}), ops(types.Sign, types.Verify), types.KEYPAIR},
		{"ecdsa openssh", pem.EncodeToMemory(sshEC), ops(types.Sign, types.Verify), types.KEYPAIR},
		{"rsa public pkix", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkixRSA}), ops(types.WrapKey), types.PUBLICKEY},
		{"rsa public pkcs1", pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&rsaKey.PublicKey)}), ops(types.Verify, types.Encrypt), types.PUBLICKEY},
		{"ecdsa public", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pkixEC}), ops(types.Verify), types.PUBLICKEY},
	} {
		k, err := s.c.ImportKeyPairPEM(ctx, d, c.pem, "test-import-"+strings.ReplaceAll(c.name, " ", "-"), "", c.usage)
		if err != nil {
			t.Errorf("%s: ImportKeyPairPEM: %v", c.name, err)
			continue
		}
		if *k.Class != c.class || k.Keys == nil || len(*k.Keys) != 1 {
			t.Errorf("%s: imported as %+v", c.name, k)
		}
		pub, err := (*k.Keys)[0].PublicKey()
		s.must(err, "public key of "+c.name)
		var want crypto.PublicKey = &rsaKey.PublicKey
		if strings.HasPrefix(c.name, "ecdsa") {
			want = &ecKey.PublicKey
		}
		if !pub.(interface{ Equal(crypto.PublicKey) bool }).Equal(want) {
			t.Errorf("%s: the server's public key is not the imported one", c.name)
		}
	}
	// A public key cannot sign; a private key outside the reference can't
	// be imported.
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	if _, err := s.c.ImportKey(ctx, d, small, "small", "", ops(types.Sign)); okms.ErrStatusCode(err) != http.StatusBadRequest {
		t.Errorf("import of a 1024-bit RSA key = %v, want 400", err)
	}
}

// wrapped exports extractable keys under a transport key of the domain in
// every format okms-cli offers, and imports them back (tests/keys.yaml,
// "Wrapped key export and import").
func (s *suite) wrapped() {
	t, ctx, d := s.t, s.ctx, s.k.domain
	transport, err := s.c.GenerateRSAKeyPair(ctx, d, types.N2048, "test-transport", types.SOFTWARE, "", ops(types.WrapKey, types.UnwrapKey))
	s.must(err, "transport key")
	src, err := s.c.GenerateSymmetricKey(ctx, d, types.N256, "test-wrap-src", types.SOFTWARE, "",
		ops(types.Encrypt, types.Decrypt, types.WrapKey, types.UnwrapKey), okms.WithExtractable(true))
	s.must(err, "extractable AES key")
	for _, f := range []types.KeyFormatTypes{types.RAW, types.JWK} {
		w, err := s.c.GetWrappedServiceKey(ctx, d, src.Id, transport.Id, f, types.RSAOAEP256)
		s.must(err, "GetWrappedServiceKey "+string(f))
		imp, err := s.c.ImportWrappedServiceKey(ctx, d, transport.Id, w[0].Ciphertext, f, "test-import-wrapped-"+string(f), "", ops(types.Encrypt, types.Decrypt))
		s.must(err, "ImportWrappedServiceKey "+string(f))
		if *imp.Size != types.N256 || imp.Type != types.Oct {
			t.Errorf("%s: imported %+v", f, imp)
		}
	}
	rsaSrc, err := s.c.GenerateRSAKeyPair(ctx, d, types.N2048, "test-wrap-src-rsa", types.SOFTWARE, "", ops(types.Sign, types.Verify), okms.WithExtractable(true))
	s.must(err, "extractable RSA key")
	for _, f := range []types.KeyFormatTypes{types.PKCS8, types.PKCS1} {
		for _, alg := range []types.WrappingAlgorithms{types.RSAOAEP, types.RSAOAEP256} {
			w, err := s.c.GetWrappedServiceKey(ctx, d, rsaSrc.Id, transport.Id, f, alg)
			s.must(err, "GetWrappedServiceKey "+string(f))
			imp, err := s.c.ImportWrappedServiceKey(ctx, d, transport.Id, w[0].Ciphertext, f, "test-import-wrapped-"+string(f), "", ops(types.Sign, types.Verify))
			s.must(err, "ImportWrappedServiceKey "+string(f))
			a, _ := s.c.ExportPublicKey(ctx, d, imp.Id)
			b, _ := s.c.ExportPublicKey(ctx, d, rsaSrc.Id)
			if !a.(*rsa.PublicKey).Equal(b) {
				t.Errorf("%s/%s: the imported key is another key", f, alg)
			}
		}
	}
	// Not extractable: refused.
	if _, err := s.c.GetWrappedServiceKey(ctx, d, s.rsa, transport.Id, types.PKCS8, types.RSAOAEP256); okms.ErrStatusCode(err) != http.StatusBadRequest {
		t.Errorf("wrapped export of a key that is not extractable = %v, want 400", err)
	}
}

// deletion: an active key is not deleted (okms-cli's "Try delete active
// AES key"); deactivated, it is.
func (s *suite) deletion() {
	t, ctx, d := s.t, s.ctx, s.k.domain
	if err := s.c.DeleteServiceKey(ctx, d, s.aes); okms.ErrStatusCode(err) != http.StatusBadRequest {
		t.Errorf("delete an active key = %v, want 400", err)
	}
	s.must(s.c.DeactivateServiceKey(ctx, d, s.aes, types.Unspecified), "deactivate")
	s.must(s.c.DeleteServiceKey(ctx, d, s.aes), "delete")
	if st := s.state(s.aes); st != "destroyed" {
		t.Errorf("state after delete %q", st)
	}
	for _, id := range []uuid.UUID{s.rsa, s.ec} { // okms-cli's --force
		s.must(s.c.DeactivateServiceKey(ctx, d, id, types.Unspecified), "deactivate")
		s.must(s.c.DeleteServiceKey(ctx, d, id), "delete")
	}
	if _, err := s.c.Encrypt(ctx, d, s.aes, "", []byte("x")); okms.ErrStatusCode(err) != http.StatusBadRequest {
		t.Errorf("encrypt with a destroyed key = %v, want 400", err)
	}
}
