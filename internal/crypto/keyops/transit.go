package keyops

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"math/big"

	_ "crypto/sha1" // crypto.SHA1 for Transit's sha1
	_ "crypto/sha3" // crypto.SHA3_* for Transit's sha3 hashes

	"github.com/seed-3e8d63de/coffer/internal/servicekey"
)

// The Vault Transit operations (issue 16). Their outputs are raw bytes;
// the service writes them as Transit's vault:v<N>:<base64>.

// gcmNonce is the size of the nonce of Transit's AES-GCM ciphertexts
// (Vault's "gcm96").
const gcmNonce = 12

// TransitEncrypt encrypts plaintext as Vault's Transit does: AES-GCM with
// a 96-bit random nonce, nonce || ciphertext || tag, aad as associated
// data; RSA-OAEP with SHA-256, aad as the OAEP label (none when empty, as
// Vault). An RSA plaintext longer than OAEP allows is
// ServiceKeyPlaintextMaxExceeded.
func (o *Ops) TransitEncrypt(m servicekey.Material, plaintext, aad []byte) ([]byte, error) {
	k, err := o.parse(m)
	if err != nil {
		return nil, err
	}
	switch {
	case k.oct != nil:
		g, err := newGCM(k.oct)
		if err != nil {
			return nil, err
		}
		nonce, err := o.read(gcmNonce)
		if err != nil {
			return nil, err
		}
		return g.Seal(nonce, nonce, plaintext, aad), nil
	case k.rpub != nil:
		ct, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, k.rpub, plaintext, label(aad))
		if errors.Is(err, rsa.ErrMessageTooLong) {
			return nil, servicekey.Violations{{Field: servicekey.FieldPlaintext, Rule: servicekey.RuleMaxExceeded,
				Limit: int64(k.rpub.Size() - 2*sha256.Size - 2), Reason: "the plaintext is too long for RSA-OAEP with this key"}}
		}
		return ct, err
	}
	return nil, servicekey.ErrIncompatible
}

// TransitDecrypt decrypts a ciphertext of TransitEncrypt. A ciphertext
// that does not decrypt (altered, another key or version, another aad) is
// servicekey.ErrCiphertext.
func (o *Ops) TransitDecrypt(m servicekey.Material, ciphertext, aad []byte) ([]byte, error) {
	k, err := o.parse(m)
	if err != nil {
		return nil, err
	}
	switch {
	case k.oct != nil:
		g, err := newGCM(k.oct)
		if err != nil {
			return nil, err
		}
		if len(ciphertext) < gcmNonce+g.Overhead() {
			return nil, servicekey.ErrCiphertext
		}
		out, err := g.Open(nil, ciphertext[:gcmNonce], ciphertext[gcmNonce:], aad)
		if err != nil {
			return nil, servicekey.ErrCiphertext
		}
		return out, nil
	case k.rsa != nil:
		out, err := rsa.DecryptOAEP(sha256.New(), nil, k.rsa, ciphertext, label(aad))
		if err != nil {
			return nil, servicekey.ErrCiphertext
		}
		return out, nil
	case k.rpub != nil:
		return nil, servicekey.ErrUsage
	}
	return nil, servicekey.ErrIncompatible
}

func label(aad []byte) []byte {
	if len(aad) == 0 {
		return nil
	}
	return aad
}

func newGCM(k []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(k)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}

func cryptoHash(h servicekey.Hash) (crypto.Hash, error) {
	switch h {
	case servicekey.SHA1:
		return crypto.SHA1, nil
	case servicekey.SHA2_224:
		return crypto.SHA224, nil
	case servicekey.SHA2_256, "":
		return crypto.SHA256, nil
	case servicekey.SHA2_384:
		return crypto.SHA384, nil
	case servicekey.SHA2_512:
		return crypto.SHA512, nil
	case servicekey.SHA3_224:
		return crypto.SHA3_224, nil
	case servicekey.SHA3_256:
		return crypto.SHA3_256, nil
	case servicekey.SHA3_384:
		return crypto.SHA3_384, nil
	case servicekey.SHA3_512:
		return crypto.SHA3_512, nil
	}
	return 0, servicekey.Invalid(servicekey.FieldTransit, "unsupported hash algorithm")
}

// Digest hashes input with h (Transit's hash route).
func (o *Ops) Digest(h servicekey.Hash, input []byte) ([]byte, error) {
	ch, err := cryptoHash(h)
	if err != nil {
		return nil, err
	}
	w := ch.New()
	w.Write(input)
	return w.Sum(nil), nil
}

// transitDigest returns the digest a Transit signature covers: the input
// hashed, or the input itself when prehashed, which must then have the
// hash's size.
func transitDigest(in servicekey.TransitSignInput) (crypto.Hash, []byte, error) {
	ch, err := cryptoHash(in.Hash)
	if err != nil {
		return 0, nil, err
	}
	if in.Prehashed {
		if len(in.Input) != ch.Size() {
			return 0, nil, servicekey.Invalid(servicekey.FieldTransit, "a prehashed input must be as long as the hash's digest")
		}
		return ch, in.Input, nil
	}
	w := ch.New()
	w.Write(in.Input)
	return ch, w.Sum(nil), nil
}

// TransitSign signs as Vault's Transit does: RSA PSS (salt as long as
// possible, Vault's "auto") or PKCS #1 v1.5; ECDSA marshalled as ASN.1 DER
// or, with JWS, r||s each padded to the curve's size.
func (o *Ops) TransitSign(m servicekey.Material, in servicekey.TransitSignInput) ([]byte, error) {
	k, err := o.parse(m)
	if err != nil {
		return nil, err
	}
	ch, d, err := transitDigest(in)
	if err != nil {
		return nil, err
	}
	switch {
	case k.rsa != nil && in.PKCS1v15:
		return rsa.SignPKCS1v15(rand.Reader, k.rsa, ch, d)
	case k.rsa != nil:
		return rsa.SignPSS(rand.Reader, k.rsa, ch, d, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto})
	case k.ec != nil && in.JWS:
		r, s, err := ecdsa.Sign(rand.Reader, k.ec, d)
		if err != nil {
			return nil, err
		}
		size := curveName(k.ec.Curve).Bytes()
		out := make([]byte, 2*size)
		r.FillBytes(out[:size])
		s.FillBytes(out[size:])
		return out, nil
	case k.ec != nil:
		return ecdsa.SignASN1(rand.Reader, k.ec, d)
	}
	return nil, servicekey.ErrUsage
}

// TransitVerify checks a signature of TransitSign (or of any signer using
// the same scheme: PSS with any salt length).
func (o *Ops) TransitVerify(m servicekey.Material, in servicekey.TransitSignInput, sig []byte) (bool, error) {
	k, err := o.parse(m)
	if err != nil {
		return false, err
	}
	ch, d, err := transitDigest(in)
	if err != nil {
		return false, err
	}
	switch {
	case k.rpub != nil && in.PKCS1v15:
		return rsa.VerifyPKCS1v15(k.rpub, ch, d, sig) == nil, nil
	case k.rpub != nil:
		return rsa.VerifyPSS(k.rpub, ch, d, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil, nil
	case k.epub != nil && in.JWS:
		size := curveName(k.epub.Curve).Bytes()
		if len(sig) != 2*size {
			return false, nil
		}
		return ecdsa.Verify(k.epub, d, new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])), nil
	case k.epub != nil:
		return ecdsa.VerifyASN1(k.epub, d, sig), nil
	}
	return false, servicekey.ErrUsage
}

// HMAC returns the HMAC of input with h under the HMAC key of a key
// version: 32 bytes derived from its material by HKDF-SHA-256, so that
// every type of key, and every version, has one, and the HMAC key is never
// the encryption key itself.
func (o *Ops) HMAC(m servicekey.Material, h servicekey.Hash, input []byte) ([]byte, error) {
	ch, err := cryptoHash(h)
	if err != nil {
		return nil, err
	}
	if m.Len() == 0 {
		return nil, errMaterial
	}
	hk, err := hkdf.Key(sha256.New, m.Bytes(), nil, "coffer transit hmac key", 32)
	if err != nil {
		return nil, err
	}
	mac := hmac.New(ch.New, hk)
	mac.Write(input)
	return mac.Sum(nil), nil
}
