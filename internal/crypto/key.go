package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/subtle"
	"fmt"
	"io"
	"log/slog"
)

// KeySize is the size in bytes of every key: root key, key terms and data
// keys are all AES-256 keys.
const KeySize = 32

const redacted = "REDACTED"

// Key is a 256-bit AES key: the root key or one term of a key family.
//
// Its bytes are unexported and it prints as REDACTED through fmt (%v, %+v,
// %#v, %s) and log/slog. When a Key sits in an unexported field of another
// struct, fmt prints it by reflection without calling String; the bytes are
// therefore two pointers away, because fmt expands at most one pointer level
// (at depth 0, or in the "%!verb(...)" form of a wrong verb) and prints
// deeper pointers as bare addresses.
//
// A Key is immutable and safe for concurrent use. Copies share the same
// material; compare keys with [Key.Equal], not ==. The zero Key holds no
// material: [Key.IsZero] reports it and [Seal] and [Open] refuse it with
// [ErrInvalidKey].
type Key struct {
	h *keyHandle
}

// keyHandle is the first of the two pointer levels described at Key.
type keyHandle struct {
	m *keyMaterial
}

type keyMaterial struct {
	b [KeySize]byte
	// wrap is the AES-256-GCM AEAD of b, built once because a key term wraps
	// one data key per write. A GCM AEAD is immutable after creation and so
	// safe to share between goroutines.
	wrap cipher.AEAD
}

// material returns k's material; k must not be zero.
func (k Key) material() *keyMaterial { return k.h.m }

// NewKey reads [KeySize] bytes from rand and returns them as a Key. Pass
// crypto/rand.Reader outside tests. It returns an error if rand fails or
// comes up short.
func NewKey(rand io.Reader) (Key, error) {
	var b [KeySize]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return Key{}, fmt.Errorf("crypto.NewKey: reading random bytes: %w", err)
	}
	return keyFromBytes(b[:])
}

// keyFromBytes copies b, which must be KeySize bytes long, into a new Key.
func keyFromBytes(b []byte) (Key, error) {
	if len(b) != KeySize {
		return Key{}, fmt.Errorf("crypto: key of %d bytes, want %d: %w", len(b), KeySize, ErrInvalidKey)
	}
	m := &keyMaterial{}
	copy(m.b[:], b)
	aead, err := newAEAD(m.b[:])
	if err != nil {
		return Key{}, err
	}
	m.wrap = aead
	return Key{h: &keyHandle{m: m}}, nil
}

// newAEAD returns AES-256-GCM with random 96-bit nonces under key: Seal
// prepends the nonce to its output, Open reads it from there.
func newAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("crypto: %w", err)
	}
	aead, err := cipher.NewGCMWithRandomNonce(block)
	if err != nil {
		return nil, fmt.Errorf("crypto: %w", err)
	}
	return aead, nil
}

// IsZero reports whether k is the zero Key, which holds no material.
func (k Key) IsZero() bool { return k.h == nil }

// Equal reports, in constant time for non-zero keys, whether k and other
// hold the same bytes. Two zero keys are equal.
func (k Key) Equal(other Key) bool {
	if k.IsZero() || other.IsZero() {
		return k.IsZero() == other.IsZero()
	}
	return subtle.ConstantTimeCompare(k.material().b[:], other.material().b[:]) == 1
}

// String returns "crypto.Key(REDACTED)", never the key bytes.
func (Key) String() string { return "crypto.Key(" + redacted + ")" }

// GoString returns "crypto.Key(REDACTED)" so that %#v cannot print the key.
func (Key) GoString() string { return "crypto.Key(" + redacted + ")" }

// LogValue returns the string "REDACTED" so that log/slog cannot print the
// key.
func (Key) LogValue() slog.Value { return slog.StringValue(redacted) }

// KeyID names a key family whose terms the [Keyring] holds: [SystemKeyID] or
// a domain key whose name the caller chooses (for example "d/<uuid>"). Terms
// are numbered per KeyID from 1. The id is part of the associated data of
// every ciphertext, so a value sealed for one family never opens under
// another.
type KeyID string

// Reserved key ids.
const (
	// SystemKeyID is the family for records outside any domain.
	SystemKeyID KeyID = "sys"
	// RootKeyID names the root key in associated data when a record (the
	// keyring) is sealed directly under it. A [Keyring] never holds it.
	RootKeyID KeyID = "root"
)
