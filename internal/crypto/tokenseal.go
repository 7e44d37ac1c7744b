package crypto

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"errors"
)

// ErrTokenInvalid: a sealed token that [TokenSealer.Open] refuses: not
// sealed under the same secret, purpose and context, or altered.
var ErrTokenInvalid = errors.New("crypto: sealed token is invalid")

// TokenSealer seals small values that a server hands to clients and takes
// back (list cursors): AES-256-GCM with a random nonce under a key derived
// with HKDF-SHA256 from a secret of the caller's and a purpose, the context
// as associated data. A sealed value says nothing of what it holds, and
// opens only with the same secret, purpose and context. The zero value is
// not usable; make one with [NewTokenSealer]. It is stateless and safe for
// concurrent use.
type TokenSealer struct{ purpose string }

// NewTokenSealer returns a TokenSealer whose keys are derived for purpose,
// a label that keeps them apart from every other use of the same secret.
func NewTokenSealer(purpose string) TokenSealer { return TokenSealer{purpose: purpose} }

func (t TokenSealer) aead(secret []byte) (cipher.AEAD, error) {
	if len(secret) < KeySize || t.purpose == "" {
		return nil, ErrInvalidKey
	}
	key, err := hkdf.Key(sha256.New, secret, nil, t.purpose, KeySize)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCMWithRandomNonce(block)
}

// Seal returns value encrypted and authenticated under the key derived from
// secret (at least 32 bytes), bound to context: nonce | ciphertext | tag,
// len(value) + 28 bytes. It fails only for a short secret or a zero
// TokenSealer ([ErrInvalidKey]).
func (t TokenSealer) Seal(secret, context, value []byte) ([]byte, error) {
	a, err := t.aead(secret)
	if err != nil {
		return nil, err
	}
	return a.Seal(nil, nil, value, context), nil
}

// Open returns the value of a token Seal made with the same secret and
// context, or [ErrTokenInvalid].
func (t TokenSealer) Open(secret, context, sealed []byte) ([]byte, error) {
	a, err := t.aead(secret)
	if err != nil {
		return nil, err
	}
	v, err := a.Open(nil, nil, sealed, context)
	if err != nil {
		return nil, ErrTokenInvalid
	}
	return v, nil
}
