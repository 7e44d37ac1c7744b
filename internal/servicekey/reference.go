package servicekey

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of key metadata (the swagger's CreateImportServiceKeyRequest).
const (
	MaxNameLength    = 32 // characters
	MaxContextLength = 64 // characters
	MaxUsages        = 32 // items of an operations array
)

// Choice is one value of the reference table, and whether it is the
// default.
type Choice[T any] struct {
	Value   T
	Default bool
}

// Reference is one row of the reference table: a key type with the sizes
// or curves and the usage combinations it allows (GET
// /v2/okms/reference/serviceKey). Operations are the combinations
// OVHcloud's control panel offers; any non-empty subset of their union is
// accepted ([ParseUsages]).
type Reference struct {
	Type       Type
	Default    bool
	Sizes      []Choice[int]
	Curves     []Choice[Curve]
	Operations []Choice[[]Usage]
}

// reference is the table, in the order of the swagger's KeyTypes.
var reference = []Reference{
	{Type: Oct, Default: true,
		Sizes:      []Choice[int]{{128, false}, {192, false}, {256, true}},
		Operations: []Choice[[]Usage]{{[]Usage{Encrypt, Decrypt}, true}, {[]Usage{WrapKey, UnwrapKey}, false}}},
	{Type: RSA,
		Sizes: []Choice[int]{{2048, true}, {3072, false}, {4096, false}},
		Operations: []Choice[[]Usage]{{[]Usage{Sign, Verify}, true}, {[]Usage{Encrypt, Decrypt}, false},
			{[]Usage{WrapKey, UnwrapKey}, false}}},
	{Type: EC,
		Curves:     []Choice[Curve]{{P256, true}, {P384, false}, {P521, false}},
		Operations: []Choice[[]Usage]{{[]Usage{Sign, Verify}, true}}},
}

// ReferenceTable returns the allowed type, size, curve and usage
// combinations. The result is a fresh copy.
func ReferenceTable() []Reference {
	out := make([]Reference, len(reference))
	for i, r := range reference {
		out[i] = r
		out[i].Sizes = append([]Choice[int](nil), r.Sizes...)
		out[i].Curves = append([]Choice[Curve](nil), r.Curves...)
		out[i].Operations = make([]Choice[[]Usage], len(r.Operations))
		for j, o := range r.Operations {
			out[i].Operations[j] = Choice[[]Usage]{Value: append([]Usage(nil), o.Value...), Default: o.Default}
		}
	}
	return out
}

func referenceOf(t Type) (Reference, bool) {
	for _, r := range reference {
		if r.Type == t {
			return r, true
		}
	}
	return Reference{}, false
}

// AllowedUsages returns the usages a key of type t and class c may have:
// for key pairs and secret keys, the union of the reference's
// combinations; for public keys, the public operations (verify, and for
// RSA encrypt and wrapKey).
func AllowedUsages(t Type, c Class) Usages {
	if c == PublicKey {
		switch t {
		case RSA:
			return UsagesOf(Verify, Encrypt, WrapKey)
		case EC:
			return UsagesOf(Verify)
		}
		return 0
	}
	r, ok := referenceOf(t)
	if !ok {
		return 0
	}
	var s Usages
	for _, o := range r.Operations {
		s |= UsagesOf(o.Value...)
	}
	return s
}

// DefaultUsages returns the usages of a key of type t and class c created
// or imported without any: the reference's default combination, narrowed
// to what the class allows.
func DefaultUsages(t Type, c Class) Usages {
	r, ok := referenceOf(t)
	if !ok {
		return 0
	}
	for _, o := range r.Operations {
		if o.Default {
			return UsagesOf(o.Value...) & AllowedUsages(t, c)
		}
	}
	return 0
}

// ClassOf returns the class of a key of type t that holds its private or
// secret part (private true) or only its public part.
func ClassOf(t Type, private bool) Class {
	switch {
	case t == Oct:
		return SecretKey
	case private:
		return KeyPair
	}
	return PublicKey
}

// ParseType parses a key type: oct, RSA or EC (case as in JWK).
func ParseType(s string) (Type, error) {
	switch t := Type(s); t {
	case Oct, RSA, EC:
		return t, nil
	case "":
		return "", Violations{{Field: FieldType, Rule: RuleRequired, Reason: "type is required: oct, RSA or EC"}}
	}
	return "", Invalid(FieldType, "type must be one of oct, RSA, EC")
}

// ParseCurve parses a curve name: P-256, P-384 or P-521.
func ParseCurve(s string) (Curve, error) {
	switch c := Curve(s); c {
	case P256, P384, P521:
		return c, nil
	}
	return "", Invalid(FieldCurve, "curve must be one of P-256, P-384, P-521")
}

// ParseSpec checks a type with its size (oct and RSA, in bits) or curve
// (EC) against the reference table: ServiceKeySizeInvalid for a size the
// type does not have or a missing one, ServiceKeyCurveIncompatible for a
// curve given to oct or RSA, ServiceKeySizeIncompatible for a size given
// to EC, ServiceKeyCurveInvalid for an unknown curve or a missing one.
func ParseSpec(t Type, size int, curve string) (Spec, error) {
	r, ok := referenceOf(t)
	if !ok {
		return Spec{}, Invalid(FieldType, "type must be one of oct, RSA, EC")
	}
	if t == EC {
		var vs Violations
		if size != 0 {
			vs = append(vs, Violation{Field: FieldSize, Rule: RuleIncompatible, Reason: "size does not apply to EC keys: give a curve"})
		}
		if curve == "" {
			vs = append(vs, Violation{Field: FieldCurve, Rule: RuleInvalid, Reason: "an EC key needs a curve: one of P-256, P-384, P-521"})
			return Spec{}, vs
		}
		c, err := ParseCurve(curve)
		if err != nil {
			return Spec{}, Join(vs, err)
		}
		if len(vs) > 0 {
			return Spec{}, vs
		}
		return Spec{Type: EC, Curve: c}, nil
	}
	var vs Violations
	if curve != "" {
		vs = append(vs, Violation{Field: FieldCurve, Rule: RuleIncompatible, Reason: "curve applies to EC keys only"})
	}
	sizes := make([]string, len(r.Sizes))
	valid := false
	for i, s := range r.Sizes {
		sizes[i] = strconv.Itoa(s.Value)
		valid = valid || s.Value == size
	}
	if !valid {
		vs = append(vs, Violation{Field: FieldSize, Rule: RuleInvalid,
			Reason: fmt.Sprintf("size of an %s key must be one of %s bits", t, strings.Join(sizes, ", "))})
	}
	if len(vs) > 0 {
		return Spec{}, vs
	}
	return Spec{Type: t, Size: size}, nil
}

// ParseUsages parses the usages of a key of type t and class c. Unknown
// names are ServiceKeyOperationsInvalid, usages the type or class does not
// allow ServiceKeyOperationsIncompatible, more than MaxUsages items
// ServiceKeyOperationsMaxExceeded. Duplicates are merged. An empty list
// gives the defaults ([DefaultUsages]).
func ParseUsages(t Type, c Class, names []string) (Usages, error) {
	if len(names) > MaxUsages {
		return 0, Violations{{Field: FieldOperations, Rule: RuleMaxExceeded, Limit: MaxUsages}}
	}
	if len(names) == 0 {
		return DefaultUsages(t, c), nil
	}
	var s Usages
	for _, n := range names {
		b := Usage(n).bit()
		if b == 0 {
			return 0, Invalid(FieldOperations, "operations must be among sign, verify, encrypt, decrypt, wrapKey, unwrapKey")
		}
		s |= b
	}
	if allowed := AllowedUsages(t, c); !s.Subset(allowed) {
		what := string(t)
		if c == PublicKey {
			what = "public " + what
		}
		return 0, Violations{{Field: FieldOperations, Rule: RuleIncompatible,
			Reason: fmt.Sprintf("operations of a %s key must be among %s", what, strings.ReplaceAll(allowed.String(), ",", ", "))}}
	}
	return s, nil
}

// ParseName checks a key name: 1 to 32 characters of valid UTF-8, without
// control characters.
func ParseName(s string) (string, error) {
	switch n := utf8.RuneCountInString(s); {
	case s == "":
		return "", Violations{{Field: FieldName, Rule: RuleMinRequired, Limit: 1, Reason: "name must not be empty"}}
	case n > MaxNameLength:
		return "", Violations{{Field: FieldName, Rule: RuleMaxExceeded, Limit: MaxNameLength,
			Reason: fmt.Sprintf("name is %d characters long, the maximum is %d", n, MaxNameLength)}}
	case !printable(s):
		return "", Invalid(FieldName, "name must be valid UTF-8 without control characters")
	}
	return s, nil
}

// ParseContext checks a key context or an encryption context: at most 64
// characters of valid UTF-8 without control characters ("" is none).
func ParseContext(s string) (string, error) {
	switch n := utf8.RuneCountInString(s); {
	case n > MaxContextLength:
		return "", Violations{{Field: FieldContext, Rule: RuleMaxExceeded, Limit: MaxContextLength,
			Reason: fmt.Sprintf("context is %d characters long, the maximum is %d", n, MaxContextLength)}}
	case !printable(s):
		return "", Invalid(FieldContext, "context must be valid UTF-8 without control characters")
	}
	return s, nil
}

// ParseProtectionLevel accepts SOFTWARE (and "", its default); HSM is
// ServiceKeyProtectionLevelUnsupported, anything else Invalid.
func ParseProtectionLevel(s string) error {
	switch s {
	case "", ProtectionSoftware:
		return nil
	case "HSM", "CLOUD_HSM":
		return Violations{{Field: FieldProtectionLevel, Rule: RuleUnsupported,
			Reason: "protectionLevel " + s + " is not available: coffer keeps keys in software (SOFTWARE)"}}
	}
	return Invalid(FieldProtectionLevel, "protectionLevel must be SOFTWARE")
}

func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return false
		}
	}
	return true
}
