package servicekey

import (
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"strings"
)

const redacted = "REDACTED"

// Material is sensitive bytes: a key's material (in the encoding of the
// cryptography behind the crypto seam, which alone reads it), a data key,
// a plaintext. It prints as REDACTED through fmt (every verb) and log/slog,
// and marshals to JSON as "REDACTED": only [Material.Bytes] reveals it.
//
// The bytes sit two pointers away from the value, because fmt expands one
// pointer level when it prints a Material held in another struct by
// reflection, without calling its methods.
//
// A Material is immutable once made; copies share the bytes. The zero
// value holds nothing.
type Material struct{ h *materialHandle }

type materialHandle struct{ b *[]byte }

// NewMaterial returns a Material holding a copy of b.
func NewMaterial(b []byte) Material {
	c := append([]byte(nil), b...)
	return Material{h: &materialHandle{b: &c}}
}

// MaterialOf returns a Material that takes b over: the caller must not use
// b afterwards.
func MaterialOf(b []byte) Material { return Material{h: &materialHandle{b: &b}} }

// Bytes returns the material. The slice must not be modified.
func (m Material) Bytes() []byte {
	if m.h == nil {
		return nil
	}
	return *m.h.b
}

// Len returns the length of the material in bytes.
func (m Material) Len() int { return len(m.Bytes()) }

// IsZero reports whether m holds nothing.
func (m Material) IsZero() bool { return m.Len() == 0 }

// String implements fmt.Stringer without revealing the material.
func (Material) String() string { return "servicekey.Material(" + redacted + ")" }

// GoString implements fmt.GoStringer without revealing the material.
func (m Material) GoString() string { return m.String() }

// LogValue implements slog.LogValuer without revealing the material.
func (Material) LogValue() slog.Value { return slog.StringValue(redacted) }

// Format implements fmt.Formatter: every verb, %x and %q included, prints
// the redacted form.
func (m Material) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, m.String()) }

// MarshalJSON writes "REDACTED": material reaches a response only through
// an explicit [Material.Bytes].
func (Material) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }

// JWK is a JSON Web Key received for import (RFC 7517, 7518 6): its
// members decoded from base64url. The private members make it sensitive:
// it prints as REDACTED like [Material].
type JWK struct {
	h *jwkHandle
}

type jwkHandle struct{ m *JWKMembers }

// JWKMembers are the members of a JWK, decoded. Absent members are nil.
type JWKMembers struct {
	Kty    string
	Crv    string
	KeyOps []string
	// Public members.
	N, E, X, Y []byte
	// Private or secret members.
	D, P, Q, DP, DQ, QI, K []byte
}

// jwkNumbers lists the base64url members of a JWK by wire name.
var jwkNumbers = []string{"n", "e", "x", "y", "d", "p", "q", "dp", "dq", "qi", "k"}

// ParseJWK builds a JWK from its kty, crv, key_ops and its base64url
// members by wire name ("n", "e", "d", …; absent ones left out of b64). A
// member that is not base64url (padding tolerated) is
// ServiceKeyKeysInvalid, as is a JWK without kty; messages name the member,
// never its value.
func ParseJWK(kty, crv string, keyOps []string, b64 map[string]string) (JWK, error) {
	if kty == "" {
		return JWK{}, Invalid(FieldKeys, `the JWK has no "kty"`)
	}
	m := &JWKMembers{Kty: kty, Crv: crv, KeyOps: keyOps}
	dst := map[string]*[]byte{"n": &m.N, "e": &m.E, "x": &m.X, "y": &m.Y, "d": &m.D, "p": &m.P,
		"q": &m.Q, "dp": &m.DP, "dq": &m.DQ, "qi": &m.QI, "k": &m.K}
	for _, name := range jwkNumbers {
		s, ok := b64[name]
		if !ok {
			continue
		}
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil || len(b) == 0 {
			return JWK{}, Invalid(FieldKeys, fmt.Sprintf("JWK member %q must be non-empty base64url", name))
		}
		*dst[name] = b
	}
	return JWK{h: &jwkHandle{m: m}}, nil
}

// Members returns the JWK's members. They must not be modified.
func (j JWK) Members() *JWKMembers {
	if j.h == nil {
		return &JWKMembers{}
	}
	return j.h.m
}

// Private reports whether the JWK holds private or secret members.
func (j JWK) Private() bool {
	m := j.Members()
	return m.D != nil || m.K != nil
}

// String implements fmt.Stringer without revealing the key.
func (JWK) String() string { return "servicekey.JWK(" + redacted + ")" }

// GoString implements fmt.GoStringer without revealing the key.
func (j JWK) GoString() string { return j.String() }

// LogValue implements slog.LogValuer without revealing the key.
func (JWK) LogValue() slog.Value { return slog.StringValue(redacted) }

// Format implements fmt.Formatter: every verb prints the redacted form.
func (j JWK) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, j.String()) }

// Imported is key material made ready to store: parsed from an import,
// with the type, size or curve and class it turned out to have.
type Imported struct {
	Spec     Spec
	Class    Class
	Material Material
	// Usages are the key_ops of an imported JWK, if it had any.
	Usages []string
}

// Public is the public part of a key version as the API exports it:
// JWK members (n and e, or crv, x and y) and the PEM of its
// SubjectPublicKeyInfo. It holds nothing secret. For a symmetric key every
// member is empty.
type Public struct {
	Kty  Type
	Crv  Curve
	N, E []byte
	X, Y []byte
	PEM  string
}
