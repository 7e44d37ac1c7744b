package servicekey

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Vault Transit's view of service keys (issue 16). A Transit key is a
// service key addressed by its name; its Vault type is a spec with the
// usages Transit gives keys it creates.

// Transit refusals that only the Transit surface meets.
var (
	// ErrNameAmbiguous: several service keys of the domain have the name
	// a Transit call addresses; rename all but one, or address one by id.
	ErrNameAmbiguous = errors.New("servicekey: several keys have this name")
	// ErrDeletionNotAllowed: a Transit deletion of a key whose
	// deletion_allowed is false.
	ErrDeletionNotAllowed = errors.New("servicekey: deletion is not allowed for this key")
)

// FieldTransit is the field of the Transit parameters' violations.
const FieldTransit Field = "Transit"

// TransitType is a key type as Vault Transit names it.
type TransitType string

// The Transit types coffer serves: each is a spec of the reference table.
var transitTypes = []struct {
	name TransitType
	spec Spec
}{
	{"aes128-gcm96", Spec{Type: Oct, Size: 128}},
	{"aes256-gcm96", Spec{Type: Oct, Size: 256}},
	{"rsa-2048", Spec{Type: RSA, Size: 2048}},
	{"rsa-3072", Spec{Type: RSA, Size: 3072}},
	{"rsa-4096", Spec{Type: RSA, Size: 4096}},
	{"ecdsa-p256", Spec{Type: EC, Curve: P256}},
	{"ecdsa-p384", Spec{Type: EC, Curve: P384}},
	{"ecdsa-p521", Spec{Type: EC, Curve: P521}},
}

// unsupportedTransitTypes are Vault's other types: refused by name.
var unsupportedTransitTypes = []string{"chacha20-poly1305", "ed25519", "hmac", "managed_key", "aes128-cmac", "aes256-cmac", "aes192-cmac"}

// ParseTransitType returns the spec of a Transit type; "" is
// aes256-gcm96, Vault's default.
func ParseTransitType(s string) (Spec, error) {
	if s == "" {
		s = "aes256-gcm96"
	}
	for _, t := range transitTypes {
		if string(t.name) == s {
			return t.spec, nil
		}
	}
	for _, t := range unsupportedTransitTypes {
		if t == s {
			return Spec{}, Violations{{Field: FieldType, Rule: RuleUnsupported,
				Reason: fmt.Sprintf("key type %q is not supported by coffer: use aes128-gcm96, aes256-gcm96, rsa-2048, rsa-3072, rsa-4096, ecdsa-p256, ecdsa-p384 or ecdsa-p521", s)}}
		}
	}
	return Spec{}, Invalid(FieldType, fmt.Sprintf("unknown key type %q", s))
}

// TransitTypeOf names a spec as Transit does. An AES-192 key, which Vault
// does not have, is "aes192-gcm96".
func TransitTypeOf(s Spec) TransitType {
	switch s.Type {
	case Oct:
		return TransitType("aes" + strconv.Itoa(s.Size) + "-gcm96")
	case RSA:
		return TransitType("rsa-" + strconv.Itoa(s.Size))
	case EC:
		return TransitType("ecdsa-p" + strings.TrimPrefix(string(s.Curve), "P-"))
	}
	return TransitType(s.Type)
}

// TransitUsages are the usages of a key created through Transit: what
// Vault lets a key of its type do.
func TransitUsages(t Type) Usages {
	switch t {
	case Oct:
		return UsagesOf(Encrypt, Decrypt)
	case RSA:
		return UsagesOf(Sign, Verify, Encrypt, Decrypt)
	}
	return UsagesOf(Sign, Verify)
}

// EncryptionVersion returns the version that encrypts (or signs) when a
// Transit call names version n (0: the latest): from the minimum
// encryption version to the latest, and retained. Otherwise
// ErrVersionNotFound.
func (k *Key) EncryptionVersion(n uint32) (uint32, error) {
	if n == 0 {
		return k.LatestVersion, nil
	}
	if n < k.MinEncryptionVersion || n > k.LatestVersion {
		return 0, ErrVersionNotFound
	}
	if _, ok := k.Version(n); !ok {
		return 0, ErrVersionNotFound
	}
	return n, nil
}

// SetMinEncryptionVersion sets the oldest version a Transit call may ask
// to encrypt or sign with: 0 (the latest only) or a version between 1 and
// the latest (ErrVersionNotFound otherwise).
func (k *Key) SetMinEncryptionVersion(n uint32) error {
	if n > k.LatestVersion {
		return ErrVersionNotFound
	}
	k.MinEncryptionVersion = n
	return nil
}

// MinAvailableVersion is the oldest retained version (Vault's
// min_available_version); 0 for a key without versions.
func (k *Key) MinAvailableVersion() uint32 {
	if len(k.Versions) == 0 {
		return 0
	}
	return k.Versions[0].Number
}

// Hash is a hash algorithm as Vault Transit names it.
type Hash string

// Hashes.
const (
	SHA1     Hash = "sha1"
	SHA2_224 Hash = "sha2-224"
	SHA2_256 Hash = "sha2-256"
	SHA2_384 Hash = "sha2-384"
	SHA2_512 Hash = "sha2-512"
	SHA3_224 Hash = "sha3-224"
	SHA3_256 Hash = "sha3-256"
	SHA3_384 Hash = "sha3-384"
	SHA3_512 Hash = "sha3-512"
)

var hashes = []Hash{SHA1, SHA2_224, SHA2_256, SHA2_384, SHA2_512, SHA3_224, SHA3_256, SHA3_384, SHA3_512}

// ParseHash parses a Transit hash name; "" is sha2-256. Vault's "none"
// (sign a value as given, with PKCS #1 v1.5 without DigestInfo) is not
// supported.
func ParseHash(s string) (Hash, error) {
	if s == "" {
		return SHA2_256, nil
	}
	for _, h := range hashes {
		if string(h) == s {
			return h, nil
		}
	}
	return "", Invalid(FieldTransit, fmt.Sprintf("unsupported hash algorithm %q", s))
}

// TransitSignInput is one Transit signature to make or check.
type TransitSignInput struct {
	Hash Hash
	// Input is the message, or its digest when Prehashed.
	Input     []byte
	Prehashed bool
	// PKCS1v15 selects RSASSA-PKCS1-v1_5 instead of PSS (RSA keys).
	PKCS1v15 bool
	// JWS marshals an ECDSA signature as r||s (JWS) instead of ASN.1 DER.
	JWS bool
}

// TransitValue formats a Transit ciphertext, signature or HMAC:
// vault:v<version>:<base64>, standard base64 unless urlSafe (an ECDSA
// signature marshalled for JWS, as Vault writes it).
func TransitValue(version uint32, b []byte, urlSafe bool) string {
	enc := base64.StdEncoding
	if urlSafe {
		enc = base64.RawURLEncoding
	}
	return "vault:v" + strconv.FormatUint(uint64(version), 10) + ":" + enc.EncodeToString(b)
}

// ParseTransitValue reads a value of TransitValue: its version and bytes.
// Standard and URL-safe base64, padded or not, are accepted. Anything else
// is ErrCiphertext; the message never quotes the value.
func ParseTransitValue(s string) (uint32, []byte, error) {
	rest, ok := strings.CutPrefix(s, "vault:v")
	if !ok {
		return 0, nil, ErrCiphertext
	}
	vs, b64, ok := strings.Cut(rest, ":")
	if !ok || vs == "" || len(vs) > 10 || vs[0] == '0' {
		return 0, nil, ErrCiphertext
	}
	v, err := strconv.ParseUint(vs, 10, 32)
	if err != nil || v == 0 {
		return 0, nil, ErrCiphertext
	}
	b64 = strings.TrimRight(b64, "=")
	var b []byte
	if strings.ContainsAny(b64, "-_") {
		b, err = base64.RawURLEncoding.DecodeString(b64)
	} else {
		b, err = base64.RawStdEncoding.DecodeString(b64)
	}
	if err != nil || len(b) == 0 {
		return 0, nil, ErrCiphertext
	}
	return uint32(v), b, nil
}
