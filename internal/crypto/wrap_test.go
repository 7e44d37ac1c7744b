package crypto

import (
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"
	"time"
)

func TestWrapKey(t *testing.T) {
	kek, _ := NewKey(rand.Reader)
	other, _ := NewKey(rand.Reader)
	root, _ := NewKey(rand.Reader)
	ct, err := WrapKey(kek, "label", root)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := UnwrapKey(kek, "label", ct); err != nil || !got.Equal(root) {
		t.Fatalf("UnwrapKey: %v", err)
	}
	for name, f := range map[string]func() error{
		"other kek":   func() error { _, err := UnwrapKey(other, "label", ct); return err },
		"other label": func() error { _, err := UnwrapKey(kek, "label2", ct); return err },
		"flipped": func() error {
			b := append([]byte(nil), ct...)
			b[len(b)-1] ^= 1
			_, err := UnwrapKey(kek, "label", b)
			return err
		},
	} {
		if err := f(); !errors.Is(err, ErrIntegrity) {
			t.Errorf("%s: %v, want ErrIntegrity", name, err)
		}
	}
	v := Verifier(kek, "v")
	if !CheckVerifier(kek, "v", v) || CheckVerifier(other, "v", v) || CheckVerifier(kek, "w", v) || CheckVerifier(Key{}, "v", v) {
		t.Error("CheckVerifier")
	}
}

func TestWipe(t *testing.T) {
	k, _ := NewKey(rand.Reader)
	copyOf := k
	kr := NewKeyring()
	term, _ := NewKey(rand.Reader)
	kr.Add("d", term, time.Unix(0, 0))
	Wipe(k)
	WipeKeyring(kr)
	if copyOf.material().b != [KeySize]byte{} || term.material().b != [KeySize]byte{} {
		t.Fatal("key bytes not zeroed")
	}
	if _, ok := kr.Current("d"); ok {
		t.Fatal("keyring not emptied")
	}
}

func TestSaveRootKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	k, _ := NewKey(rand.Reader)
	if err := SaveRootKeyFile(path, k); err != nil {
		t.Fatal(err)
	}
	if got, err := LoadRootKeyFile(path); err != nil || !got.Equal(k) {
		t.Fatalf("LoadRootKeyFile: %v", err)
	}
	if err := SaveRootKeyFile(path, k); err == nil {
		t.Fatal("an existing key file was overwritten")
	}
}
