package crypto

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"os"
	"path/filepath"
)

// Key wrapping for the seals (package internal/seal): the root key wrapped
// under a key-encryption key derived from the operators' input (Shamir
// shares, a passphrase), and a verifier that tells whether a candidate
// key-encryption key is the right one.

// SealKeyID names a key-encryption key in associated data when it wraps
// the root key. A [Keyring] never holds it.
const SealKeyID KeyID = "seal"

// KeyFromBytes returns a Key holding a copy of b, which must be [KeySize]
// bytes long (else the error wraps [ErrInvalidKey]). The caller should
// clear b afterwards.
func KeyFromBytes(b []byte) (Key, error) { return keyFromBytes(b) }

// WrapKey seals k under kek, bound to label (for example the storage key of
// the record that holds it), and returns the ciphertext: the layout of
// [Seal] with key id [SealKeyID] and term 1.
func WrapKey(kek Key, label string, k Key) ([]byte, error) {
	if k.IsZero() {
		return nil, fmt.Errorf("crypto.WrapKey: %w", ErrInvalidKey)
	}
	return Seal(kek, SealKeyID, 1, label, k.material().b[:])
}

// UnwrapKey opens what [WrapKey] returned with the same kek and label. A
// wrong kek, label or altered ciphertext gives an error wrapping
// [ErrIntegrity].
func UnwrapKey(kek Key, label string, ciphertext []byte) (Key, error) {
	pt, err := Open(kek, SealKeyID, label, ciphertext)
	if err != nil {
		return Key{}, fmt.Errorf("crypto.UnwrapKey: %w", err)
	}
	defer clear(pt)
	k, err := keyFromBytes(pt)
	if err != nil {
		return Key{}, fmt.Errorf("crypto.UnwrapKey: %v: %w", err, ErrIntegrity)
	}
	return k, nil
}

// Verifier returns HMAC-SHA256 of label under k: stored beside a wrapped
// key, it lets a candidate key-encryption key be checked without trying to
// unwrap anything, and reveals nothing about k.
func Verifier(k Key, label string) []byte {
	if k.IsZero() {
		return nil
	}
	m := hmac.New(sha256.New, k.material().b[:])
	m.Write([]byte(label))
	return m.Sum(nil)
}

// CheckVerifier reports, in constant time, whether v is k's verifier for
// label.
func CheckVerifier(k Key, label string, v []byte) bool {
	return !k.IsZero() && subtle.ConstantTimeCompare(Verifier(k, label), v) == 1
}

// ExportKey calls fn with k's bytes, which fn must not keep; the caller
// (the Shamir split of a key-encryption key, or a root key file) then has
// them only as long as it needs them.
func ExportKey(k Key, fn func(b []byte) error) error {
	if k.IsZero() {
		return ErrInvalidKey
	}
	b := k.material().b
	defer clear(b[:])
	return fn(b[:])
}

// Wipe overwrites the bytes of each key with zeros and drops its cipher,
// for a seal: every copy of a key shares its material, so no holder can
// use it afterwards. The AES key schedules derived from the keys live in
// the standard library's cipher state, which Go cannot wipe; they become
// garbage once nothing refers to them. Wipe also forgets every cached data
// key. Use Wipe only once nothing will use the keys again: a wiped key
// must not be passed to [Seal] or [Open].
func Wipe(keys ...Key) {
	for _, k := range keys {
		wipe(k)
	}
	dataKeys.mu.Lock()
	clear(dataKeys.m)
	dataKeys.mu.Unlock()
}

// WipeKeyring overwrites every term of r with zeros (see [Wipe]) and
// empties it.
func WipeKeyring(r *Keyring) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, ts := range r.terms {
		for _, t := range ts {
			wipe(t.Key)
		}
		delete(r.terms, id)
	}
}

func wipe(k Key) {
	if k.IsZero() {
		return
	}
	m := k.material()
	clear(m.b[:])
	m.wrap = nil
}

// SaveRootKeyFile writes k to a new file at path, in the format
// [LoadRootKeyFile] reads, as [CreateRootKeyFile] does for a generated key
// (mode 0600, O_EXCL, file and directory synced): a seal migration to the
// file seal puts the existing root key there.
func SaveRootKeyFile(path string, k Key) error {
	if k.IsZero() {
		return fmt.Errorf("crypto.SaveRootKeyFile: %w", ErrInvalidKey)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("crypto.SaveRootKeyFile: %w", err)
	}
	if err := writeKeyFile(f, k); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("crypto.SaveRootKeyFile %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("crypto.SaveRootKeyFile %s: %w", path, err)
	}
	return nil
}
