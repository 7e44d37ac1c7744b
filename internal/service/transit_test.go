package service_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/servicekey"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

func items(pts ...string) []service.TransitItem {
	out := make([]service.TransitItem, len(pts))
	for i, p := range pts {
		out[i] = service.TransitItem{Plaintext: plain(p)}
	}
	return out
}

// TestService_TransitNames: Transit addresses service keys by name through
// the name index, which creation, renaming and deletion on the OKMS side
// maintain; duplicates are refused as ambiguous, a key id always works.
func TestService_TransitNames(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		okms := createKey(t, f, service.KeyInput{Name: "shared/name", Type: "oct", Size: 256, Operations: []string{"encrypt", "decrypt"}})
		tk, err := f.svc.TransitReadKey(ctx, f.root, f.domain, "shared/name")
		if err != nil || tk.Key.ID != okms.ID {
			t.Fatalf("TransitReadKey(OKMS key by name) = %+v, %v", tk, err)
		}
		created, err := f.svc.TransitCreateKey(ctx, f.root, f.domain, "tk", service.TransitCreate{Type: "ecdsa-p384"})
		if err != nil || created.Key.Curve != servicekey.P384 || created.Key.Usages.String() != "sign,verify" || created.Publics[1].PEM == "" {
			t.Fatalf("TransitCreateKey = %+v, %v", created, err)
		}
		again, err := f.svc.TransitCreateKey(ctx, f.root, f.domain, "tk", service.TransitCreate{Type: "aes256-gcm96"})
		if err != nil || !again.Existed || again.Key.ID != created.Key.ID {
			t.Fatalf("create again = %+v, %v; want the existing key", again, err)
		}
		// A duplicate made through the OKMS API makes the name ambiguous;
		// the id still addresses each key.
		dup := createKey(t, f, service.KeyInput{Name: "tk", Type: "oct", Size: 128})
		if _, err := f.svc.TransitReadKey(ctx, f.root, f.domain, "tk"); !errors.Is(err, servicekey.ErrNameAmbiguous) {
			t.Fatalf("ambiguous name: %v", err)
		}
		if tk, err := f.svc.TransitReadKey(ctx, f.root, f.domain, dup.ID); err != nil || tk.Key.ID != dup.ID {
			t.Fatalf("by id: %+v, %v", tk, err)
		}
		if _, err := f.svc.UpdateServiceKey(ctx, f.root, f.domain, dup.ID, service.KeyChange{Name: str("renamed")}); err != nil {
			t.Fatal(err)
		}
		if tk, err := f.svc.TransitReadKey(ctx, f.root, f.domain, "tk"); err != nil || tk.Key.ID != created.Key.ID {
			t.Fatalf("after rename: %+v, %v", tk, err)
		}
		names, err := f.svc.TransitListKeys(ctx, f.root, f.domain)
		if err != nil || strings.Join(names, ",") != "renamed,shared/name,tk" {
			t.Fatalf("TransitListKeys = %q, %v", names, err)
		}
		if _, err := f.svc.TransitReadKey(ctx, f.root, f.domain, "nope"); !errors.Is(err, servicekey.ErrNotFound) {
			t.Fatalf("missing: %v", err)
		}
		// Deletion needs deletion_allowed, then frees the name.
		if err := f.svc.TransitDeleteKey(ctx, f.root, f.domain, "tk"); !errors.Is(err, servicekey.ErrDeletionNotAllowed) {
			t.Fatalf("delete without deletion_allowed: %v", err)
		}
		if _, err := f.svc.TransitConfigKey(ctx, f.root, f.domain, "tk", service.TransitConfig{DeletionAllowed: boolp(true)}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.TransitDeleteKey(ctx, f.root, f.domain, "tk"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.TransitReadKey(ctx, f.root, f.domain, "tk"); !errors.Is(err, servicekey.ErrNotFound) {
			t.Fatalf("after delete: %v", err)
		}
		if v, err := f.svc.GetServiceKey(ctx, f.root, f.domain, created.Key.ID, service.KeyGetOptions{}); err != nil || v.Key.State != servicekey.Destroyed {
			t.Fatalf("OKMS view of the deleted key: %+v, %v", v.Key, err)
		}
		// Unsupported options are refused, changing nothing.
		for _, in := range []service.TransitCreate{{Exportable: true}, {Derived: true}, {Type: "ed25519"}, {Type: "nope"}} {
			if _, err := f.svc.TransitCreateKey(ctx, f.root, f.domain, "x", in); err == nil {
				t.Errorf("create %+v accepted", in)
			} else if _, ok := servicekey.AsViolations(err); !ok {
				t.Errorf("create %+v: %v, want a violation", in, err)
			}
		}
	})
}

// TestService_TransitRotation: rotation from either side; old ciphertexts
// of both APIs keep decrypting; min versions and trim; an OKMS-deactivated
// key refuses Transit encrypt but decrypts.
func TestService_TransitRotation(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		k := createKey(t, f, service.KeyInput{Name: "rot", Type: "oct", Size: 256, Operations: []string{"encrypt", "decrypt"}})
		okmsCT, err := f.svc.Encrypt(ctx, f.root, f.domain, k.ID, plain("okms v1"), "")
		if err != nil {
			t.Fatal(err)
		}
		v1 := items("one", "two")
		v1[1].Context = []byte("ctx")
		if err := f.svc.TransitEncrypt(ctx, f.root, f.domain, "rot", v1); err != nil || v1[0].Err != nil || !strings.HasPrefix(v1[0].Value, "vault:v1:") {
			t.Fatalf("encrypt v1: %+v, %v", v1, err)
		}
		f.clock.Advance(time.Minute)
		if _, err := f.svc.TransitRotateKey(ctx, f.root, f.domain, "rot"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RotateServiceKey(ctx, f.root, f.domain, k.ID); err != nil {
			t.Fatal(err)
		}
		v3 := items("three")
		if err := f.svc.TransitEncrypt(ctx, f.root, f.domain, "rot", v3); err != nil || !strings.HasPrefix(v3[0].Value, "vault:v3:") {
			t.Fatalf("encrypt after two rotations: %+v, %v", v3, err)
		}
		if pt, err := f.svc.Decrypt(ctx, f.root, f.domain, k.ID, okmsCT, ""); err != nil || string(pt.Bytes()) != "okms v1" {
			t.Fatalf("OKMS decrypt of a v1 ciphertext: %v", err)
		}
		dec := []service.TransitItem{{Ciphertext: v1[0].Value}, {Ciphertext: v1[1].Value, Context: []byte("ctx")},
			{Ciphertext: v1[1].Value, Context: []byte("other")}, {Ciphertext: "vault:v9:AAAA"}, {Ciphertext: "garbage"}, {Ciphertext: v3[0].Value}}
		if err := f.svc.TransitDecrypt(ctx, f.root, f.domain, "rot", dec); err != nil {
			t.Fatal(err)
		}
		if string(dec[0].Output.Bytes()) != "one" || string(dec[1].Output.Bytes()) != "two" || string(dec[5].Output.Bytes()) != "three" {
			t.Fatalf("decrypt: %+v", dec)
		}
		for i, want := range map[int]error{2: servicekey.ErrCiphertext, 3: servicekey.ErrVersionNotFound, 4: servicekey.ErrCiphertext} {
			if !errors.Is(dec[i].Err, want) {
				t.Errorf("item %d: %v, want %v", i, dec[i].Err, want)
			}
		}
		// Rewrap moves v1 to v3.
		rw := []service.TransitItem{{Ciphertext: v1[0].Value}}
		if err := f.svc.TransitRewrap(ctx, f.root, f.domain, "rot", rw); err != nil || !strings.HasPrefix(rw[0].Value, "vault:v3:") {
			t.Fatalf("rewrap: %+v, %v", rw, err)
		}
		// min_decryption_version 2, then trim to 2: v1 is gone, on both sides.
		two := uint32(2)
		if _, err := f.svc.TransitConfigKey(ctx, f.root, f.domain, "rot", service.TransitConfig{MinDecryptionVersion: &two}); err != nil {
			t.Fatal(err)
		}
		dec = []service.TransitItem{{Ciphertext: v1[0].Value}}
		if err := f.svc.TransitDecrypt(ctx, f.root, f.domain, "rot", dec); err != nil || !errors.Is(dec[0].Err, servicekey.ErrVersionNotFound) {
			t.Fatalf("decrypt below min_decryption_version: %+v, %v", dec, err)
		}
		one := uint32(1)
		if _, err := f.svc.TransitConfigKey(ctx, f.root, f.domain, "rot", service.TransitConfig{MinEncryptionVersion: &one}); err == nil {
			t.Fatal("min_encryption_version below min_decryption_version accepted")
		}
		tk, err := f.svc.TransitTrimKey(ctx, f.root, f.domain, "rot", 2)
		if err != nil || tk.Key.MinAvailableVersion() != 2 {
			t.Fatalf("trim: %+v, %v", tk.Key, err)
		}
		if _, err := f.svc.Decrypt(ctx, f.root, f.domain, k.ID, okmsCT, ""); !errors.Is(err, servicekey.ErrVersionNotFound) {
			t.Fatalf("OKMS decrypt of a trimmed version: %v", err)
		}
		// Deactivated on the OKMS side: Transit encrypt refused, decrypt works.
		if _, err := f.svc.UpdateServiceKey(ctx, f.root, f.domain, k.ID, service.KeyChange{Deactivate: str("unspecified")}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.TransitEncrypt(ctx, f.root, f.domain, "rot", items("x")); !errors.Is(err, servicekey.ErrNotActive) {
			t.Fatalf("encrypt with a deactivated key: %v", err)
		}
		dec = []service.TransitItem{{Ciphertext: v3[0].Value}}
		if err := f.svc.TransitDecrypt(ctx, f.root, f.domain, "rot", dec); err != nil || dec[0].Err != nil {
			t.Fatalf("decrypt with a deactivated key: %+v, %v", dec, err)
		}
	})
}

// TestService_TransitSignHMAC: signatures of every scheme verify, with
// their version; HMACs verify; audit events carry the action on the key.
func TestService_TransitSignHMAC(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		for _, tc := range []struct {
			typ string
			opt service.TransitSignOptions
		}{
			{"ecdsa-p256", service.TransitSignOptions{Hash: servicekey.SHA2_256}},
			{"ecdsa-p521", service.TransitSignOptions{Hash: servicekey.SHA2_512, JWS: true}},
			{"rsa-2048", service.TransitSignOptions{Hash: servicekey.SHA2_384}},
			{"rsa-2048", service.TransitSignOptions{Hash: servicekey.SHA3_256, PKCS1v15: true}},
		} {
			name := tc.typ + "-key"
			tk, err := f.svc.TransitCreateKey(ctx, f.root, f.domain, name, service.TransitCreate{Type: tc.typ})
			if err != nil {
				t.Fatal(err)
			}
			mark := f.mark()
			its := []service.TransitItem{{Input: []byte("message")}}
			if err := f.svc.TransitSign(ctx, f.root, f.domain, name, tc.opt, its); err != nil || its[0].Err != nil {
				t.Fatalf("%s sign: %+v, %v", tc.typ, its, err)
			}
			f.wantAudited(t, mark, "okms:apikms:serviceKey/sign", f.svc.ServiceKeyURN(f.domain, tk.Key.ID), "allowed")
			ver := []service.TransitItem{{Input: []byte("message"), Signature: its[0].Value}, {Input: []byte("other"), Signature: its[0].Value}}
			if err := f.svc.TransitVerify(ctx, f.root, f.domain, name, tc.opt, ver); err != nil || !ver[0].Valid || ver[1].Valid || ver[0].Err != nil {
				t.Fatalf("%s verify: %+v, %v", tc.typ, ver, err)
			}
			mac := []service.TransitItem{{Input: []byte("m")}}
			if err := f.svc.TransitHMAC(ctx, f.root, f.domain, name, servicekey.SHA2_256, mac); err != nil || mac[0].Err != nil {
				t.Fatal(err, mac[0].Err)
			}
			mv := []service.TransitItem{{Input: []byte("m"), HMAC: mac[0].Value}, {Input: []byte("n"), HMAC: mac[0].Value}}
			if err := f.svc.TransitVerifyHMAC(ctx, f.root, f.domain, name, servicekey.SHA2_256, mv); err != nil || !mv[0].Valid || mv[1].Valid {
				t.Fatalf("hmac verify: %+v, %v", mv, err)
			}
		}
		_ = policy.ServiceKeySign
	})
}

// TestService_TransitIndexBackfill: keys made before the name index (no
// index records, no "built" mark) are indexed by the first Transit call,
// once, in one transaction.
func TestService_TransitIndexBackfill(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		a := createKey(t, f, service.KeyInput{Name: "old-a", Type: "oct", Size: 256})
		createKey(t, f, service.KeyInput{Name: "old-b", Type: "EC", Curve: "P-256"})
		gone := createKey(t, f, service.KeyInput{Name: "old-gone", Type: "oct", Size: 128})
		if _, err := f.svc.UpdateServiceKey(ctx, f.root, f.domain, gone.ID, service.KeyChange{Deactivate: str("unspecified")}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteServiceKey(ctx, f.root, f.domain, gone.ID); err != nil {
			t.Fatal(err)
		}
		// The store as a release before the index left it.
		prefix := "d/" + f.domain + "/kn"
		err := f.store.Update(ctx, func(tx storage.Tx) error {
			keys, err := tx.List(prefix, "", 0)
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n := storeKeys(t, f, prefix); n != 0 {
			t.Fatalf("%d index records left", n)
		}
		tk, err := f.svc.TransitReadKey(ctx, f.root, f.domain, "old-a")
		if err != nil || tk.Key.ID != a.ID {
			t.Fatalf("TransitReadKey after the upgrade = %+v, %v", tk, err)
		}
		names, err := f.svc.TransitListKeys(ctx, f.root, f.domain)
		if err != nil || strings.Join(names, ",") != "old-a,old-b" {
			t.Fatalf("TransitListKeys = %q, %v; want the live keys only", names, err)
		}
		if n := storeKeys(t, f, prefix); n != 3 { // two names and the mark
			t.Fatalf("%d index records, want 2 and the built mark", n)
		}
	})
}

// TestService_TransitCreateRace: concurrent Transit creations of one name
// leave exactly one key with it; every caller gets that key or learns it
// was created meanwhile.
func TestService_TransitCreateRace(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		const n = 8
		ids := make(chan string, n)
		errs := make(chan error, n)
		for range n {
			go func() {
				tk, err := f.svc.TransitCreateKey(ctx, f.root, f.domain, "raced", service.TransitCreate{Type: "aes128-gcm96"})
				if err != nil {
					errs <- err
					return
				}
				ids <- tk.Key.ID
			}()
		}
		seen := map[string]bool{}
		for range n {
			select {
			case id := <-ids:
				seen[id] = true
			case err := <-errs:
				if !errors.Is(err, servicekey.ErrExists) {
					t.Errorf("TransitCreateKey: %v", err)
				}
			}
		}
		if len(seen) != 1 {
			t.Errorf("%d keys returned, want one", len(seen))
		}
		tk, err := f.svc.TransitReadKey(ctx, f.root, f.domain, "raced")
		if err != nil || !seen[tk.Key.ID] {
			t.Fatalf("the name resolves to %+v, %v", tk.Key, err)
		}
	})
}
