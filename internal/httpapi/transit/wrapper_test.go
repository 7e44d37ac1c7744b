package transit_test

import (
	"bytes"
	"testing"

	wrapping "github.com/hashicorp/go-kms-wrapping/v2"
	transitwrapper "github.com/hashicorp/go-kms-wrapping/wrappers/transit/v2"
)

// TestAutoUnsealWrapper drives go-kms-wrapping's transit wrapper, the one
// Vault's and OpenBao's seal "transit" use, against a real coffer server
// in both addressing modes: SetConfig with address, token, key_name and
// mount_path; Encrypt/Decrypt round trips; a rotation in between; a blob
// made before the rotation still decrypts, one made after names version 2 (key id "v2", as the wrapper writes it).
func TestAutoUnsealWrapper(t *testing.T) {
	h := newHarness(t)
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			ctx := t.Context()
			vc := h.client(mode)
			key := "autounseal-" + mode
			if _, err := vc.Logical().Write("transit/keys/"+key, map[string]any{"type": "aes256-gcm96"}); err != nil {
				t.Fatal(err)
			}
			w := transitwrapper.NewWrapper()
			_, err := w.SetConfig(ctx, wrapping.WithConfigMap(map[string]string{
				"address": h.addr(mode), "token": rootToken, "key_name": key, "mount_path": "transit/",
			}))
			if err != nil {
				t.Fatalf("SetConfig: %v", err)
			}
			t.Cleanup(func() { w.GetClient().Close() })
			rootKey := bytes.Repeat([]byte{0xA5, 0x01}, 16)
			before, err := w.Encrypt(ctx, rootKey)
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			if got, _ := w.KeyId(ctx); got != "v1" || before.KeyInfo.KeyId != "v1" {
				t.Errorf("key id %q (blob %q), want v1", got, before.KeyInfo.KeyId)
			}
			if pt, err := w.Decrypt(ctx, before); err != nil || !bytes.Equal(pt, rootKey) {
				t.Fatalf("Decrypt = %x, %v", pt, err)
			}
			if _, err := vc.Logical().Write("transit/keys/"+key+"/rotate", nil); err != nil {
				t.Fatalf("rotate: %v", err)
			}
			after, err := w.Encrypt(ctx, rootKey)
			if err != nil || after.KeyInfo.KeyId != "v2" || !bytes.HasPrefix(after.Ciphertext, []byte("vault:v2:")) {
				t.Fatalf("Encrypt after rotation = %+v, %v", after, err)
			}
			for _, blob := range []*wrapping.BlobInfo{before, after} {
				if pt, err := w.Decrypt(ctx, blob); err != nil || !bytes.Equal(pt, rootKey) {
					t.Fatalf("Decrypt(%s) = %x, %v", blob.KeyInfo.KeyId, pt, err)
				}
			}
			tampered := &wrapping.BlobInfo{Ciphertext: append(bytes.Clone(before.Ciphertext[:len(before.Ciphertext)-4]), []byte("AAA=")...)}
			if _, err := w.Decrypt(ctx, tampered); err == nil {
				t.Error("a tampered blob decrypted")
			}
		})
	}
}
