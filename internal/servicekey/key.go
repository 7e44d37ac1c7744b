package servicekey

import (
	"slices"
	"time"
)

// Type is a key's type, as JWK's kty spells it.
type Type string

// Key types.
const (
	Oct Type = "oct" // symmetric (AES)
	RSA Type = "RSA"
	EC  Type = "EC"
)

// Curve is an elliptic curve of EC keys.
type Curve string

// Curves.
const (
	P256 Curve = "P-256"
	P384 Curve = "P-384"
	P521 Curve = "P-521"
)

// Bytes returns the size in bytes of a coordinate (and of a private
// scalar) on c: 32, 48 or 66; 0 for an unknown curve.
func (c Curve) Bytes() int {
	switch c {
	case P256:
		return 32
	case P384:
		return 48
	case P521:
		return 66
	}
	return 0
}

// Class is the kind of material a key holds.
type Class string

// Classes (the swagger's ServiceKeyClassEnum).
const (
	SecretKey Class = "SECRET_KEY" // symmetric
	KeyPair   Class = "KEY_PAIR"   // private and public parts
	PublicKey Class = "PUBLIC_KEY" // the public part only
)

// ProtectionSoftware is the only protection level coffer offers: keys are
// sealed in its storage. HSM is refused.
const ProtectionSoftware = "SOFTWARE"

// Spec is a key's type with its size (oct, RSA) or curve (EC).
type Spec struct {
	Type  Type
	Size  int   // bits; 0 for EC
	Curve Curve // "" unless EC
}

// Key is a service key's metadata: everything but its material, which is
// kept per version, apart from it.
type Key struct {
	ID      string
	Name    string
	Context string // optional key context, at most 64 characters
	Spec
	Class  Class
	Usages Usages
	// Extractable allows the material to leave the server, wrapped.
	// NeverExtractable stays true until the key is made extractable once.
	Extractable      bool
	NeverExtractable bool

	State  State
	Reason Reason // the reason of the last deactivation; "" while never deactivated

	CreatedAt     time.Time // creation or import
	ActivatedAt   time.Time
	DeactivatedAt time.Time // zero while active
	CompromisedAt time.Time // zero unless compromised
	DestroyedAt   time.Time

	// Versions are the retained versions of material, ascending. The latest
	// encrypts and signs; versions from MinDecryptionVersion on decrypt and
	// verify.
	Versions             []Version
	LatestVersion        uint32
	MinDecryptionVersion uint32

	// Transit's settings (issue 16): the oldest version a Transit call may
	// ask to encrypt or sign with (0: the latest only), and whether
	// Transit may delete the key.
	MinEncryptionVersion uint32
	DeletionAllowed      bool
}

// Version is one version of a key's material.
type Version struct {
	Number    uint32
	CreatedAt time.Time
}

// New returns an active key with version 1, created at now. The caller has
// validated every argument ([ParseName], [ParseSpec], [ParseUsages]).
func New(id, name, context string, spec Spec, class Class, usages Usages, extractable bool, now time.Time) *Key {
	return &Key{
		ID: id, Name: name, Context: context, Spec: spec, Class: class, Usages: usages,
		Extractable: extractable, NeverExtractable: !extractable,
		State: Active, CreatedAt: now, ActivatedAt: now,
		Versions:      []Version{{Number: 1, CreatedAt: now}},
		LatestVersion: 1, MinDecryptionVersion: 1,
	}
}

// Clone returns a deep copy of k.
func (k *Key) Clone() *Key {
	c := *k
	c.Versions = slices.Clone(k.Versions)
	return &c
}

// Rename sets the key's name, validated by [ParseName].
func (k *Key) Rename(name string) { k.Name = name }

// SetExtractable allows or forbids the export of the key's material.
// Making a key extractable clears NeverExtractable for good.
func (k *Key) SetExtractable(extractable bool) {
	k.Extractable = extractable
	if extractable {
		k.NeverExtractable = false
	}
}

// Counts reports whether the key counts in the domain's serviceKeyCount:
// every key whose material still exists.
func (k *Key) Counts() bool { return !k.State.Destroyed() }
