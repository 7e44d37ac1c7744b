package service_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/servicekey"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

func boolp(b bool) *bool                 { return &b }
func plain(s string) servicekey.Material { return servicekey.NewMaterial([]byte(s)) }

func createKey(t *testing.T, f *fixture, in service.KeyInput) *servicekey.Key {
	t.Helper()
	v, err := f.svc.CreateServiceKey(t.Context(), f.root, f.domain, in)
	if err != nil {
		t.Fatalf("CreateServiceKey(%s %s %d%s): %v", in.Name, in.Type, in.Size, in.Curve, err)
	}
	return v.Key
}

func violationID(t *testing.T, err error) string {
	t.Helper()
	vs, ok := servicekey.AsViolations(err)
	if !ok {
		t.Fatalf("error %v is not a violation", err)
	}
	return vs[0].ID()
}

// TestService_ServiceKeyLifecycle walks a key through okms-cli's test
// suite on every backend: create, read, rename, deactivate, compromise,
// reactivate, refuse to delete while active, delete (material destroyed,
// metadata kept), with the domain's serviceKeyCount following.
func TestService_ServiceKeyLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		k := createKey(t, f, service.KeyInput{Name: "test-aes-1", Type: "oct", Size: 256,
			Operations: []string{"encrypt", "decrypt", "wrapKey", "unwrapKey"}, Context: "test-aes-1"})
		if k.State != servicekey.Active || k.Class != servicekey.SecretKey || k.LatestVersion != 1 || k.Extractable ||
			k.Usages.String() != "encrypt,decrypt,wrapKey,unwrapKey" || !k.CreatedAt.Equal(f.clock.Now()) {
			t.Fatalf("new key: %+v", k)
		}
		ec := createKey(t, f, service.KeyInput{Name: "test-ecdsa-1", Type: "EC", Curve: "P-256", Operations: []string{"sign", "verify"}})
		info, err := f.svc.GetDomain(ctx, f.root, f.domain)
		if err != nil || info.ServiceKeyCount != 2 {
			t.Fatalf("serviceKeyCount = %d, %v; want 2", info.ServiceKeyCount, err)
		}
		v, err := f.svc.GetServiceKey(ctx, f.root, f.domain, k.ID, service.KeyGetOptions{Public: true})
		if err != nil || v.Key.Name != "test-aes-1" || v.Public == nil || v.Public.PEM != "" {
			t.Fatalf("GetServiceKey = %+v, %v", v, err)
		}
		v, err = f.svc.GetServiceKey(ctx, f.root, f.domain, ec.ID, service.KeyGetOptions{Public: true})
		if err != nil || !strings.HasPrefix(v.Public.PEM, "-----BEGIN PUBLIC KEY-----") {
			t.Fatalf("GetServiceKey(EC, public) = %+v, %v", v.Public, err)
		}

		f.clock.Advance(time.Minute)
		got, err := f.svc.UpdateServiceKey(ctx, f.root, f.domain, k.ID, service.KeyChange{Name: str("test-aes-1-updated"), Extractable: boolp(true)})
		if err != nil || got.Name != "test-aes-1-updated" || !got.Extractable || got.NeverExtractable {
			t.Fatalf("rename = %+v, %v", got, err)
		}
		if err := f.svc.DeleteServiceKey(ctx, f.root, f.domain, k.ID); !errors.Is(err, servicekey.ErrActive) {
			t.Fatalf("delete an active key = %v, want ErrActive", err)
		}
		steps := []struct {
			change service.KeyChange
			state  servicekey.State
		}{
			{service.KeyChange{Activate: true}, servicekey.Active},
			{service.KeyChange{Deactivate: str("unspecified")}, servicekey.Deactivated},
			{service.KeyChange{Deactivate: str("key_compromise")}, servicekey.Compromised},
			{service.KeyChange{Activate: true}, servicekey.Active},
			{service.KeyChange{Deactivate: str("superseded")}, servicekey.Deactivated},
		}
		for i, s := range steps {
			f.clock.Advance(time.Minute)
			got, err := f.svc.UpdateServiceKey(ctx, f.root, f.domain, k.ID, s.change)
			if err != nil || got.State != s.state {
				t.Fatalf("step %d: state %v, %v; want %v", i, got, err, s.state)
			}
			if i == 2 && got.CompromisedAt.IsZero() {
				t.Error("compromised without a compromise date")
			}
			if i == 3 && !got.CompromisedAt.IsZero() {
				t.Error("reactivation kept the compromise date")
			}
		}
		if _, err := f.svc.Encrypt(ctx, f.root, f.domain, k.ID, plain("x"), ""); !errors.Is(err, servicekey.ErrNotActive) {
			t.Errorf("encrypt with a deactivated key = %v, want ErrNotActive", err)
		}
		if err := f.svc.DeleteServiceKey(ctx, f.root, f.domain, k.ID); err != nil {
			t.Fatalf("delete: %v", err)
		}
		v, err = f.svc.GetServiceKey(ctx, f.root, f.domain, k.ID, service.KeyGetOptions{Public: true})
		if err != nil || v.Key.State != servicekey.Destroyed || v.Public != nil || len(v.Key.Versions) != 0 {
			t.Fatalf("after delete: %+v, %v", v, err)
		}
		if err := f.svc.DeleteServiceKey(ctx, f.root, f.domain, k.ID); err != nil {
			t.Errorf("a second delete = %v, want nothing to do", err)
		}
		if _, err := f.svc.UpdateServiceKey(ctx, f.root, f.domain, k.ID, service.KeyChange{Activate: true}); !errors.Is(err, servicekey.ErrTransition) {
			t.Errorf("activate a destroyed key = %v, want ErrTransition", err)
		}
		if n := storeKeys(t, f, "d/"+f.domain+"/km/"+k.ID+"/"); n != 0 {
			t.Errorf("%d material records remain after deletion", n)
		}
		info, _ = f.svc.GetDomain(ctx, f.root, f.domain)
		if info.ServiceKeyCount != 1 {
			t.Errorf("serviceKeyCount after deletion = %d, want 1", info.ServiceKeyCount)
		}
		// Unknown, malformed and taken ids.
		if _, err := f.svc.GetServiceKey(ctx, f.root, f.domain, "0f6d2c41-2f2c-4b6a-9c67-5a9e1f1b0000", service.KeyGetOptions{}); !errors.Is(err, servicekey.ErrNotFound) {
			t.Errorf("unknown key: %v", err)
		}
		if _, err := f.svc.GetServiceKey(ctx, f.root, f.domain, "not-a-uuid", service.KeyGetOptions{}); violationID(t, err) != "ServiceKeyIdInvalid" {
			t.Errorf("malformed id: %v", err)
		}
		_, err = f.svc.CreateServiceKey(ctx, f.root, f.domain, service.KeyInput{ID: strings.ToUpper(ec.ID), Name: "dup", Type: "EC", Curve: "P-256"})
		if !errors.Is(err, servicekey.ErrExists) {
			t.Errorf("a taken id = %v, want ErrExists", err)
		}
	})
}

// storeKeys counts the records of the raw store under prefix.
func storeKeys(t *testing.T, f *fixture, prefix string) int {
	t.Helper()
	n := 0
	err := f.store.View(t.Context(), func(tx storage.Tx) error {
		keys, err := tx.List(prefix, "", 0)
		n = len(keys)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestService_CreateServiceKeyValidation(t *testing.T) {
	f := newFixture(t, memstore.New())
	tests := []struct {
		name string
		in   service.KeyInput
		want []string
	}{
		{"size", service.KeyInput{Name: "k", Type: "oct", Size: 512}, []string{"ServiceKeySizeInvalid"}},
		{"curve on RSA", service.KeyInput{Name: "k", Type: "RSA", Size: 2048, Curve: "P-256"}, []string{"ServiceKeyCurveIncompatible"}},
		{"operations", service.KeyInput{Name: "k", Type: "EC", Curve: "P-256", Operations: []string{"encrypt"}}, []string{"ServiceKeyOperationsIncompatible"}},
		{"name and context", service.KeyInput{Name: strings.Repeat("n", 33), Context: strings.Repeat("c", 65), Type: "oct", Size: 128},
			[]string{"ServiceKeyNameMaxExceeded", "ServiceKeyContextMaxExceeded"}},
		{"HSM", service.KeyInput{Name: "k", Type: "oct", Size: 128, ProtectionLevel: "HSM"}, []string{"ServiceKeyProtectionLevelUnsupported"}},
		{"no type", service.KeyInput{Name: "k"}, []string{"ServiceKeyTypeRequired"}},
		{"bad id", service.KeyInput{ID: "x", Name: "k", Type: "oct", Size: 128}, []string{"ServiceKeyIdInvalid"}},
		{"wrapped without format", service.KeyInput{Name: "k", Wrapped: []service.WrappedKeyInput{{WrappingKeyID: "5b8d4c55-1111-4a5b-8c2d-000000000001", Ciphertext: "x"}}},
			[]string{"ServiceKeyFieldRequired"}},
	}
	for _, tc := range tests {
		_, err := f.svc.CreateServiceKey(t.Context(), f.root, f.domain, tc.in)
		vs, ok := servicekey.AsViolations(err)
		if !ok {
			t.Errorf("%s: %v, want violations %v", tc.name, err, tc.want)
			continue
		}
		var ids []string
		for _, v := range vs {
			ids = append(ids, v.ID())
		}
		if !slices.Equal(ids, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, ids, tc.want)
		}
	}
	if n := storeKeys(t, f, "d/"+f.domain+"/k/"); n != 0 {
		t.Errorf("refused creations left %d keys", n)
	}
}

// TestService_KeyVersions: after a rotation the key encrypts and signs
// with version 2, while ciphertexts, data keys and signatures of version 1
// keep decrypting and verifying.
func TestService_KeyVersions(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		aes := createKey(t, f, service.KeyInput{Name: "aes", Type: "oct", Size: 256})
		ec := createKey(t, f, service.KeyInput{Name: "ec", Type: "EC", Curve: "P-384"})
		ct1, err := f.svc.Encrypt(ctx, f.root, f.domain, aes.ID, plain("version one"), "ctx")
		if err != nil {
			t.Fatal(err)
		}
		dk1, err := f.svc.GenerateDataKey(ctx, f.root, f.domain, aes.ID, 256, "dk")
		if err != nil || dk1.Plaintext.Len() != 32 {
			t.Fatalf("GenerateDataKey: %v", err)
		}
		msg := []byte("signed before the rotation")
		sig1, err := f.svc.Sign(ctx, f.root, f.domain, ec.ID, servicekey.SignInput{Alg: servicekey.ES384, Message: msg})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{aes.ID, ec.ID} {
			k, err := f.svc.RotateServiceKey(ctx, f.root, f.domain, id)
			if err != nil || k.LatestVersion != 2 || len(k.Versions) != 2 {
				t.Fatalf("rotate: %+v, %v", k, err)
			}
		}
		ct2, _ := f.svc.Encrypt(ctx, f.root, f.domain, aes.ID, plain("version two"), "ctx")
		for ct, want := range map[string]string{ct1: "version one", ct2: "version two"} {
			got, err := f.svc.Decrypt(ctx, f.root, f.domain, aes.ID, ct, "ctx")
			if err != nil || string(got.Bytes()) != want {
				t.Errorf("decrypt %q: %v", want, err)
			}
		}
		if got, err := f.svc.DecryptDataKey(ctx, f.root, f.domain, aes.ID, dk1.Blob); err != nil || !bytes.Equal(got.Bytes(), dk1.Plaintext.Bytes()) {
			t.Errorf("data key of version 1: %v", err)
		}
		sig2, _ := f.svc.Sign(ctx, f.root, f.domain, ec.ID, servicekey.SignInput{Alg: servicekey.ES384, Message: msg})
		for _, sig := range []string{sig1, sig2} {
			ok, err := f.svc.Verify(ctx, f.root, f.domain, ec.ID, servicekey.VerifyInput{Alg: servicekey.ES384, Message: msg, Signature: sig})
			if err != nil || !ok {
				t.Errorf("verify: %v, %v", ok, err)
			}
		}
		// The public key shown is the latest version's: it verifies sig2
		// and not sig1.
		v, _ := f.svc.GetServiceKey(ctx, f.root, f.domain, ec.ID, service.KeyGetOptions{Public: true})
		if v.Public == nil || v.Key.LatestVersion != 2 {
			t.Fatalf("public of the latest version: %+v", v)
		}
		// A ciphertext of another key, a data key blob as a ciphertext and
		// the reverse, a wrong context: refused as invalid ciphertexts.
		other := createKey(t, f, service.KeyInput{Name: "other", Type: "oct", Size: 256})
		for label, call := range map[string]func() error{
			"other key": func() error {
				_, err := f.svc.Decrypt(ctx, f.root, f.domain, other.ID, ct1, "ctx")
				return err
			},
			"blob as ciphertext": func() error {
				_, err := f.svc.Decrypt(ctx, f.root, f.domain, aes.ID, dk1.Blob, "")
				return err
			},
			"ciphertext as blob": func() error {
				_, err := f.svc.DecryptDataKey(ctx, f.root, f.domain, aes.ID, ct1)
				return err
			},
			"wrong context": func() error {
				_, err := f.svc.Decrypt(ctx, f.root, f.domain, aes.ID, ct1, "other")
				return err
			},
			"garbage": func() error {
				_, err := f.svc.Decrypt(ctx, f.root, f.domain, aes.ID, "not a jwe", "")
				return err
			},
		} {
			if err := call(); !errors.Is(err, servicekey.ErrCiphertext) {
				t.Errorf("%s: %v, want ErrCiphertext", label, err)
			}
		}
	})
}

// TestService_DeactivatedKeys: a deactivated or compromised key still
// decrypts and verifies, and no longer encrypts, signs or makes data keys.
func TestService_DeactivatedKeys(t *testing.T) {
	f := newFixture(t, memstore.New())
	ctx := t.Context()
	aes := createKey(t, f, service.KeyInput{Name: "aes", Type: "oct", Size: 128})
	ec := createKey(t, f, service.KeyInput{Name: "ec", Type: "EC", Curve: "P-256"})
	ct, _ := f.svc.Encrypt(ctx, f.root, f.domain, aes.ID, plain("secret"), "")
	dk, _ := f.svc.GenerateDataKey(ctx, f.root, f.domain, aes.ID, 128, "")
	sig, _ := f.svc.Sign(ctx, f.root, f.domain, ec.ID, servicekey.SignInput{Alg: servicekey.ES256, Message: []byte("m")})
	for _, reason := range []string{"cessation_of_operation", "key_compromise"} {
		for _, id := range []string{aes.ID, ec.ID} {
			if _, err := f.svc.UpdateServiceKey(ctx, f.root, f.domain, id, service.KeyChange{Deactivate: str(reason)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.svc.Decrypt(ctx, f.root, f.domain, aes.ID, ct, ""); err != nil {
			t.Errorf("%s: decrypt: %v", reason, err)
		}
		if _, err := f.svc.DecryptDataKey(ctx, f.root, f.domain, aes.ID, dk.Blob); err != nil {
			t.Errorf("%s: decrypt data key: %v", reason, err)
		}
		if ok, err := f.svc.Verify(ctx, f.root, f.domain, ec.ID, servicekey.VerifyInput{Alg: servicekey.ES256, Message: []byte("m"), Signature: sig}); !ok || err != nil {
			t.Errorf("%s: verify: %v, %v", reason, ok, err)
		}
		if _, err := f.svc.Encrypt(ctx, f.root, f.domain, aes.ID, plain("x"), ""); !errors.Is(err, servicekey.ErrNotActive) {
			t.Errorf("%s: encrypt: %v", reason, err)
		}
		if _, err := f.svc.GenerateDataKey(ctx, f.root, f.domain, aes.ID, 128, ""); !errors.Is(err, servicekey.ErrNotActive) {
			t.Errorf("%s: data key: %v", reason, err)
		}
		if _, err := f.svc.Sign(ctx, f.root, f.domain, ec.ID, servicekey.SignInput{Alg: servicekey.ES256, Message: []byte("m")}); !errors.Is(err, servicekey.ErrNotActive) {
			t.Errorf("%s: sign: %v", reason, err)
		}
	}
	// Usages are enforced: an encrypt-only key does not decrypt.
	enc := createKey(t, f, service.KeyInput{Name: "enc", Type: "oct", Size: 128, Operations: []string{"encrypt"}})
	ct, err := f.svc.Encrypt(ctx, f.root, f.domain, enc.ID, plain("x"), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Decrypt(ctx, f.root, f.domain, enc.ID, ct, ""); !errors.Is(err, servicekey.ErrUsage) {
		t.Errorf("decrypt without the usage: %v, want ErrUsage", err)
	}
	if _, err := f.svc.Sign(ctx, f.root, f.domain, enc.ID, servicekey.SignInput{Alg: servicekey.RS256, Message: []byte("m")}); !errors.Is(err, servicekey.ErrIncompatible) {
		t.Errorf("sign with an oct key: %v, want ErrIncompatible", err)
	}
}

// TestService_WrappedExportImport: the material of an extractable key
// leaves wrapped under a transport key of the domain and comes back in as
// a new key that decrypts what the first encrypted, in every format.
func TestService_WrappedExportImport(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		transport := createKey(t, f, service.KeyInput{Name: "transport", Type: "RSA", Size: 2048, Operations: []string{"wrapKey", "unwrapKey"}})
		aes := createKey(t, f, service.KeyInput{Name: "src", Type: "oct", Size: 256, Extractable: boolp(true)})
		sealed := createKey(t, f, service.KeyInput{Name: "sealed", Type: "oct", Size: 256})
		ct, _ := f.svc.Encrypt(ctx, f.root, f.domain, aes.ID, plain("wrapped round trip"), "")
		for _, format := range []string{"RAW", "JWK"} {
			v, err := f.svc.GetServiceKey(ctx, f.root, f.domain, aes.ID, service.KeyGetOptions{Export: &service.KeyExport{
				WrappingKeyID: transport.ID, Format: format, Algorithm: "RSA-OAEP-256"}})
			if err != nil || len(v.Wrapped) != 1 || v.Wrapped[0].WrappingKeyID != transport.ID {
				t.Fatalf("%s export: %+v, %v", format, v, err)
			}
			imp, err := f.svc.CreateServiceKey(ctx, f.root, f.domain, service.KeyInput{Name: "imported-" + format,
				Operations: []string{"encrypt", "decrypt"},
				Wrapped:    []service.WrappedKeyInput{{Format: format, WrappingKeyID: transport.ID, Ciphertext: v.Wrapped[0].Ciphertext}}})
			if err != nil || imp.Key.Spec != aes.Spec || imp.Key.Extractable {
				t.Fatalf("%s import: %+v, %v", format, imp.Key, err)
			}
			// Same material, another key: the envelope names the first key,
			// so the copy refuses its ciphertext; its own round-trips.
			if _, err := f.svc.Decrypt(ctx, f.root, f.domain, imp.Key.ID, ct, ""); !errors.Is(err, servicekey.ErrCiphertext) {
				t.Errorf("%s: the copy decrypted the original's ciphertext: %v", format, err)
			}
		}
		rsa := createKey(t, f, service.KeyInput{Name: "rsa-src", Type: "RSA", Size: 2048, Extractable: boolp(true)})
		for _, format := range []string{"PKCS1", "PKCS8", "JWK"} {
			v, err := f.svc.GetServiceKey(ctx, f.root, f.domain, rsa.ID, service.KeyGetOptions{Export: &service.KeyExport{
				WrappingKeyID: transport.ID, Format: format, Algorithm: "RSA-OAEP"}})
			if err != nil {
				t.Fatalf("%s export: %v", format, err)
			}
			imp, err := f.svc.CreateServiceKey(ctx, f.root, f.domain, service.KeyInput{Name: "rsa-" + format,
				Wrapped: []service.WrappedKeyInput{{Format: format, WrappingKeyID: transport.ID, Ciphertext: v.Wrapped[0].Ciphertext}}})
			if err != nil || imp.Key.Spec != rsa.Spec || imp.Key.Class != servicekey.KeyPair {
				t.Fatalf("%s import: %+v, %v", format, imp.Key, err)
			}
			d := sha256.Sum256([]byte("m"))
			sig, err := f.svc.Sign(ctx, f.root, f.domain, imp.Key.ID, servicekey.SignInput{Alg: servicekey.PS256, Message: d[:], IsDigest: true})
			if err != nil {
				t.Fatal(err)
			}
			if ok, _ := f.svc.Verify(ctx, f.root, f.domain, rsa.ID, servicekey.VerifyInput{Alg: servicekey.PS256, Message: []byte("m"), Signature: sig}); !ok {
				t.Errorf("%s: the original does not verify the copy's signature", format)
			}
		}
		// Refusals: a key that is not extractable, a format that does not
		// fit, a transport key without the usage, one that does not exist.
		for label, c := range map[string]struct {
			key, transport, format string
			want                   error
		}{
			"not extractable":   {sealed.ID, transport.ID, "RAW", servicekey.ErrNotExtractable},
			"PKCS8 for oct":     {aes.ID, transport.ID, "PKCS8", servicekey.ErrIncompatible},
			"RAW for RSA":       {rsa.ID, transport.ID, "RAW", servicekey.ErrIncompatible},
			"oct transport":     {rsa.ID, aes.ID, "PKCS8", nil},
			"no wrapKey usage":  {aes.ID, rsa.ID, "RAW", nil},
			"no such transport": {aes.ID, "7c6f1c1e-9d4b-4c58-8f7a-000000000009", "RAW", nil},
		} {
			_, err := f.svc.GetServiceKey(ctx, f.root, f.domain, c.key, service.KeyGetOptions{Export: &service.KeyExport{
				WrappingKeyID: c.transport, Format: c.format, Algorithm: "RSA-OAEP-256"}})
			if c.want != nil && !errors.Is(err, c.want) || c.want == nil && violationID(t, err) != "ServiceKeyWrappedKeysInvalid" {
				t.Errorf("%s: %v", label, err)
			}
		}
	})
}

// TestService_ServiceKeyAuthorization: every operation checks its action
// on the key's URN before anything else; wrapped export and import check
// wrapKey and unwrapKey on the transport key too; lists are filtered; the
// audit names the key and never carries plaintext, ciphertext or keys.
func TestService_ServiceKeyAuthorization(t *testing.T) {
	f := newFixture(t, memstore.New())
	ctx := t.Context()
	transport := createKey(t, f, service.KeyInput{Name: "transport", Type: "RSA", Size: 2048, Operations: []string{"wrapKey", "unwrapKey"}})
	mine := createKey(t, f, service.KeyInput{Name: "mine", Type: "oct", Size: 256, Extractable: boolp(true)})
	theirs := createKey(t, f, service.KeyInput{Name: "theirs", Type: "oct", Size: 256})
	bob := newUser(t, f, "bob", policy.Policy{Name: "bob-mine", Allow: []string{"okms:apikms:serviceKey/*"},
		Resources: []string{f.svc.ServiceKeyURN(f.domain, mine.ID)}})

	m := f.mark()
	if _, err := f.svc.Encrypt(ctx, bob, f.domain, mine.ID, plain("CANARY-plaintext"), ""); err != nil {
		t.Errorf("encrypt on his key: %v", err)
	}
	f.wantAudited(t, m, "okms:apikms:serviceKey/encrypt", f.svc.ServiceKeyURN(f.domain, mine.ID), audit.Allowed)
	for _, id := range []string{theirs.ID, "1b7c9f7e-2f4a-4c1b-9e0e-00000000dead"} {
		f.wantRefused(t, map[string]func() error{
			"okms:apikms:serviceKey/encrypt": func() error {
				_, err := f.svc.Encrypt(ctx, bob, f.domain, id, plain("x"), "")
				return err
			},
			"okms:apikms:serviceKey/sign": func() error {
				_, err := f.svc.Sign(ctx, bob, f.domain, id, servicekey.SignInput{Alg: servicekey.ES256, Message: []byte("m")})
				return err
			},
			"okms:apikms:serviceKey/delete": func() error { return f.svc.DeleteServiceKey(ctx, bob, f.domain, id) },
		})
	}
	export := &service.KeyExport{WrappingKeyID: transport.ID, Format: "RAW", Algorithm: "RSA-OAEP-256"}
	if _, err := f.svc.GetServiceKey(ctx, bob, f.domain, mine.ID, service.KeyGetOptions{Export: export}); !errors.Is(err, service.ErrDenied) {
		t.Errorf("wrapped export without wrapKey on the transport key = %v, want ErrDenied", err)
	}
	v, err := f.svc.GetServiceKey(ctx, f.root, f.domain, mine.ID, service.KeyGetOptions{Export: export})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.svc.CreateServiceKey(ctx, bob, f.domain, service.KeyInput{ID: mine.ID, Name: "x",
		Wrapped: []service.WrappedKeyInput{{Format: "RAW", WrappingKeyID: transport.ID, Ciphertext: v.Wrapped[0].Ciphertext}}})
	if !errors.Is(err, service.ErrDenied) {
		t.Errorf("wrapped import without unwrapKey on the transport key = %v, want ErrDenied", err)
	}
	pg, err := f.svc.ListServiceKeys(ctx, bob, f.domain, service.KeyListOptions{Limit: 100})
	if err != nil || len(pg.Items) != 1 || pg.Items[0].ID != mine.ID {
		t.Errorf("bob's list = %+v, %v; want only his key", pg.Items, err)
	}
	if _, err := f.svc.Random(ctx, bob, f.domain, 16); !errors.Is(err, service.ErrDenied) {
		t.Errorf("random without random/get: %v", err)
	}
	if b, err := f.svc.Random(ctx, f.root, f.domain, 4096); err != nil || len(b) != 4096 {
		t.Errorf("random 4096: %d bytes, %v", len(b), err)
	}
	if _, err := f.svc.Random(ctx, f.root, f.domain, 4097); violationID(t, err) != "ServiceKeyRandomLengthInvalid" {
		t.Errorf("random 4097: %v", err)
	}
	for _, e := range f.audit.events {
		s := fmt.Sprintf("%+v", e)
		if strings.Contains(s, "CANARY") || strings.Contains(s, v.Wrapped[0].Ciphertext[:40]) {
			t.Errorf("audit event carries data: %s", s)
		}
	}
}

// newUser returns a user holding one policy, p.
func newUser(t *testing.T, f *fixture, login string, p policy.Policy) service.Caller {
	t.Helper()
	c := f.asUser(t, login, "")
	p.Identities = c.Principal.Identities
	if _, err := f.svc.CreatePolicy(t.Context(), f.root, p); err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	return c
}

func TestService_ListServiceKeys(t *testing.T) {
	f := newFixture(t, memstore.New())
	ctx := t.Context()
	var all []string
	for i := range 25 {
		k := createKey(t, f, service.KeyInput{Name: fmt.Sprintf("k%02d", i), Type: "oct", Size: 128})
		all = append(all, k.ID)
		if i%5 == 0 {
			if _, err := f.svc.UpdateServiceKey(ctx, f.root, f.domain, k.ID, service.KeyChange{Deactivate: str("unspecified")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(all)
	for _, c := range []struct {
		state string
		want  int
	}{{"", 25}, {"all", 25}, {"active", 20}, {"deactivated", 5}, {"pre_active", 0}, {"destroyed", 0}} {
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			if pages > 30 {
				t.Fatal("paging does not end")
			}
			pg, err := f.svc.ListServiceKeys(ctx, f.root, f.domain, service.KeyListOptions{State: c.state, Cursor: after, Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range pg.Items {
				got = append(got, k.ID)
			}
			if pg.Next == "" {
				break
			}
			after = pg.Next
		}
		if len(got) != c.want || !slices.IsSorted(got) {
			t.Errorf("state %q: %d keys, want %d in id order", c.state, len(got), c.want)
		}
		if c.state == "" && !slices.Equal(got, all) {
			t.Errorf("all keys: %v, want %v", got, all)
		}
	}
	if _, err := f.svc.ListServiceKeys(ctx, f.root, f.domain, service.KeyListOptions{State: "ACTIVE"}); violationID(t, err) != "ServiceKeyStateInvalid" {
		t.Errorf("state ACTIVE: %v", err)
	}
}

// TestService_DeleteDomainDestroysKeys: deleting a domain deletes its keys
// with their material (the KMS half of the domain).
func TestService_DeleteDomainDestroysKeys(t *testing.T) {
	f := newFixture(t, memstore.New())
	ctx := t.Context()
	d, err := f.svc.CreateDomain(ctx, f.root, f.svc.Region(), "kms")
	if err != nil {
		t.Fatal(err)
	}
	f.svc.Wait()
	if _, err := f.svc.CreateServiceKey(ctx, f.root, d.ID, service.KeyInput{Name: "k", Type: "oct", Size: 256}); err != nil {
		t.Fatal(err)
	}
	if n := storeKeys(t, f, "d/"+d.ID+"/k"); n != 3 {
		t.Fatalf("%d key records, want the key, its material and its name index record", n)
	}
	if err := f.svc.DeleteDomain(ctx, f.root, d.ID, d.ID); err != nil {
		t.Fatal(err)
	}
	if n := storeKeys(t, f, "d/"+d.ID+"/"); n != 0 {
		t.Errorf("%d records of the deleted domain remain", n)
	}
}

// TestService_NoKMS: a service built without key operations refuses key
// calls with ErrNoKMS instead of failing obscurely.
func TestService_NoKMS(t *testing.T) {
	svc := service.New(service.Options{Store: memstore.New()})
	_, err := svc.CreateServiceKey(context.Background(), service.Caller{}, "d", service.KeyInput{Name: "k", Type: "oct", Size: 128})
	if !errors.Is(err, service.ErrNoKMS) {
		t.Errorf("CreateServiceKey = %v, want ErrNoKMS", err)
	}
}
