package keyops

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/json"
	"hash"
	"strconv"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/servicekey"
)

// JWE compact serialization (RFC 7516 7.1):
//
//	BASE64URL(protected header) . BASE64URL(encrypted key) . BASE64URL(IV)
//	  . BASE64URL(ciphertext) . BASE64URL(tag)
//
// with AES-GCM (RFC 7518 5.3) over the plaintext, the ASCII of the first
// part as associated data. An encryption context, when given, is appended
// to the associated data as RFC 7516 5.1 step 14 does for the JSON
// serialization's "aad": "." followed by its base64url.

// header is the protected header of the JWEs coffer writes and reads.
// Members coffer does not know are ignored, as RFC 7516 allows, except
// "zip" (compression is not supported) and "crit" (refused).
type header struct {
	Alg string `json:"alg"`
	Enc string `json:"enc"`
	Kid string `json:"kid,omitempty"`
	// Ver is the version of the key that encrypted (coffer's own member):
	// older versions keep decrypting after a rotation.
	Ver uint32 `json:"ver,omitempty"`
	// Cty is "datakey" on a data key blob, so that a blob and a ciphertext
	// cannot stand for one another.
	Cty  string          `json:"cty,omitempty"`
	Zip  string          `json:"zip,omitempty"`
	Crit json.RawMessage `json:"crit,omitempty"`
}

const ctyDataKey = "datakey"

// Algorithms of the JWEs coffer writes and reads.
const (
	algDir       = "dir"
	algOAEP      = "RSA-OAEP"
	algOAEP256   = "RSA-OAEP-256"
	maxJWELength = 16384 // characters; well above any key or 4 KiB plaintext coffer wraps
)

func encFor(keyBytes int) string { return "A" + strconv.Itoa(8*keyBytes) + "GCM" }

// encKeySize returns the content key size of an "enc" value, 0 if
// unsupported.
func encKeySize(enc string) int {
	switch enc {
	case "A128GCM":
		return 16
	case "A192GCM":
		return 24
	case "A256GCM":
		return 32
	}
	return 0
}

// jwe is a parsed compact JWE.
type jwe struct {
	h                   header
	protected           string // the first part, as received
	encKey, iv, ct, tag []byte
}

func parseJWE(s string) (*jwe, error) {
	if len(s) > maxJWELength {
		return nil, servicekey.ErrCiphertext
	}
	parts := strings.Split(s, ".")
	if len(parts) != 5 {
		return nil, servicekey.ErrCiphertext
	}
	var dec [5][]byte
	for i, p := range parts {
		b, err := b64url.DecodeString(p)
		if err != nil {
			return nil, servicekey.ErrCiphertext
		}
		dec[i] = b
	}
	j := &jwe{protected: parts[0], encKey: dec[1], iv: dec[2], ct: dec[3], tag: dec[4]}
	d := json.NewDecoder(bytes.NewReader(dec[0]))
	if err := d.Decode(&j.h); err != nil || d.More() {
		return nil, servicekey.ErrCiphertext
	}
	if j.h.Zip != "" || len(j.h.Crit) > 0 || len(j.iv) != 12 || len(j.tag) != 16 {
		return nil, servicekey.ErrCiphertext
	}
	return j, nil
}

func aadOf(protected string, context []byte) []byte {
	aad := []byte(protected)
	if len(context) > 0 {
		aad = append(append(aad, '.'), b64url.EncodeToString(context)...)
	}
	return aad
}

func gcm(key []byte) (cipher.AEAD, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, servicekey.ErrCiphertext
	}
	return cipher.NewGCM(b)
}

// seal writes a compact JWE of plaintext under the content key cek, with
// encKey as its encrypted key part.
func (o *Ops) seal(h header, cek, encKey, plaintext, context []byte) (string, error) {
	hb, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	protected := b64url.EncodeToString(hb)
	iv, err := o.read(12)
	if err != nil {
		return "", err
	}
	a, err := gcm(cek)
	if err != nil {
		return "", err
	}
	sealed := a.Seal(nil, iv, plaintext, aadOf(protected, context))
	ct, tag := sealed[:len(sealed)-16], sealed[len(sealed)-16:]
	var b strings.Builder
	for i, p := range [][]byte{nil, encKey, iv, ct, tag} {
		if i == 0 {
			b.WriteString(protected)
			continue
		}
		b.WriteByte('.')
		b.WriteString(b64url.EncodeToString(p))
	}
	return b.String(), nil
}

// open decrypts j with the content key cek; any failure is ErrCiphertext.
func (j *jwe) open(cek, context []byte) ([]byte, error) {
	if len(cek) != encKeySize(j.h.Enc) {
		return nil, servicekey.ErrCiphertext
	}
	a, err := gcm(cek)
	if err != nil {
		return nil, servicekey.ErrCiphertext
	}
	plain, err := a.Open(nil, j.iv, append(append([]byte(nil), j.ct...), j.tag...), aadOf(j.protected, context))
	if err != nil {
		return nil, servicekey.ErrCiphertext
	}
	return plain, nil
}

func oaepHash(alg string) hash.Hash {
	if alg == algOAEP {
		return sha1.New() // RFC 7518 4.3: RSA-OAEP is RSAES-OAEP with SHA-1 and MGF1-SHA-1
	}
	return sha256.New()
}

// ReadEnvelope parses the header of a ciphertext or data key blob without
// decrypting it. Anything that is not a JWE coffer could have written is
// servicekey.ErrCiphertext.
func (o *Ops) ReadEnvelope(ciphertext string) (servicekey.Envelope, error) {
	j, err := parseJWE(ciphertext)
	if err != nil {
		return servicekey.Envelope{}, err
	}
	if j.h.Kid == "" || j.h.Ver == 0 || (j.h.Cty != "" && j.h.Cty != ctyDataKey) {
		return servicekey.Envelope{}, servicekey.ErrCiphertext
	}
	return servicekey.Envelope{KeyID: j.h.Kid, Version: j.h.Ver, DataKey: j.h.Cty == ctyDataKey}, nil
}

// Encrypt encrypts plaintext with key material m, naming the key keyID and
// its version in the header, and binding context as associated data. A
// symmetric key encrypts directly (alg "dir", AES-GCM with the key's
// size); an RSA key wraps a fresh 256-bit content key with RSA-OAEP-256.
// dataKey marks the result as a data key blob.
func (o *Ops) Encrypt(m servicekey.Material, env servicekey.Envelope, plaintext, context []byte) (string, error) {
	k, err := o.parse(m)
	if err != nil {
		return "", err
	}
	h := header{Kid: env.KeyID, Ver: env.Version}
	if env.DataKey {
		h.Cty = ctyDataKey
	}
	switch {
	case k.oct != nil:
		h.Alg, h.Enc = algDir, encFor(len(k.oct))
		return o.seal(h, k.oct, nil, plaintext, context)
	case k.rpub != nil:
		h.Alg, h.Enc = algOAEP256, "A256GCM"
		cek, err := o.read(32)
		if err != nil {
			return "", err
		}
		ek, err := rsa.EncryptOAEP(sha256.New(), rand.Reader, k.rpub, cek, nil)
		if err != nil {
			return "", err
		}
		return o.seal(h, cek, ek, plaintext, context)
	}
	return "", servicekey.ErrIncompatible
}

// Decrypt decrypts a ciphertext of [Ops.Encrypt] with the material of the
// version its envelope names, and the same context. A ciphertext that is
// not for this kind of key, was altered, or has another context is
// servicekey.ErrCiphertext.
func (o *Ops) Decrypt(m servicekey.Material, ciphertext string, context []byte) ([]byte, error) {
	k, err := o.parse(m)
	if err != nil {
		return nil, err
	}
	j, err := parseJWE(ciphertext)
	if err != nil {
		return nil, err
	}
	switch {
	case k.oct != nil:
		if j.h.Alg != algDir || len(j.encKey) != 0 || j.h.Enc != encFor(len(k.oct)) {
			return nil, servicekey.ErrCiphertext
		}
		return j.open(k.oct, context)
	case k.rsa != nil:
		return j.openRSA(k.rsa, context)
	}
	return nil, servicekey.ErrCiphertext
}

// openRSA unwraps the content key of j with an RSA private key, then
// decrypts.
func (j *jwe) openRSA(priv *rsa.PrivateKey, context []byte) ([]byte, error) {
	if (j.h.Alg != algOAEP && j.h.Alg != algOAEP256) || encKeySize(j.h.Enc) == 0 {
		return nil, servicekey.ErrCiphertext
	}
	cek, err := rsa.DecryptOAEP(oaepHash(j.h.Alg), nil, priv, j.encKey, nil)
	if err != nil {
		return nil, servicekey.ErrCiphertext
	}
	return j.open(cek, context)
}

// Wrap encrypts exported key material for a transport key (an RSA key,
// public or pair) as a compact JWE with alg, enc A256GCM and the
// transport key's id as kid.
func (o *Ops) Wrap(transport servicekey.Material, transportID string, alg servicekey.WrappingAlgorithm, plain servicekey.Material) (string, error) {
	k, err := o.parse(transport)
	if err != nil {
		return "", err
	}
	if k.rpub == nil {
		return "", servicekey.ErrIncompatible
	}
	cek, err := o.read(32)
	if err != nil {
		return "", err
	}
	h := header{Alg: string(alg), Enc: "A256GCM", Kid: transportID}
	ek, err := rsa.EncryptOAEP(oaepHash(h.Alg), rand.Reader, k.rpub, cek, nil)
	if err != nil {
		return "", err
	}
	return o.seal(h, cek, ek, plain.Bytes(), nil)
}

// Unwrap decrypts wrapped key material with an RSA transport key pair:
// a compact JWE with alg RSA-OAEP or RSA-OAEP-256 and enc A128GCM, A192GCM
// or A256GCM, as okms-cli users produce it. Anything else, or a JWE that
// does not open, is a ServiceKeyWrappedKeysInvalid violation.
func (o *Ops) Unwrap(transport servicekey.Material, wrapped string) (servicekey.Material, error) {
	k, err := o.parse(transport)
	if err != nil {
		return servicekey.Material{}, err
	}
	if k.rsa == nil {
		return servicekey.Material{}, servicekey.ErrIncompatible
	}
	bad := servicekey.Invalid(servicekey.FieldWrappedKeys, "the wrapped key is not a JWE (RSA-OAEP or RSA-OAEP-256, "+
		"A128GCM, A192GCM or A256GCM) that decrypts with this transport key")
	j, err := parseJWE(wrapped)
	if err != nil {
		return servicekey.Material{}, bad
	}
	plain, err := j.openRSA(k.rsa, nil)
	if err != nil {
		return servicekey.Material{}, bad
	}
	return servicekey.MaterialOf(plain), nil
}
