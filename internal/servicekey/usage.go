package servicekey

import "strings"

// Usage is one cryptographic usage of a key (the swagger's
// CryptographicUsages and JWK's key_ops).
type Usage string

// Usages, in the order of the swagger's enumeration.
const (
	Sign      Usage = "sign"
	Verify    Usage = "verify"
	Encrypt   Usage = "encrypt"
	Decrypt   Usage = "decrypt"
	WrapKey   Usage = "wrapKey"
	UnwrapKey Usage = "unwrapKey"
)

// allUsages lists every usage in canonical order.
var allUsages = [...]Usage{Sign, Verify, Encrypt, Decrypt, WrapKey, UnwrapKey}

// Usages is a set of usages. The zero value is the empty set.
type Usages uint8

func (u Usage) bit() Usages {
	for i, v := range allUsages {
		if v == u {
			return 1 << i
		}
	}
	return 0
}

// UsagesOf returns the set of us; unknown usages are ignored.
func UsagesOf(us ...Usage) Usages {
	var s Usages
	for _, u := range us {
		s |= u.bit()
	}
	return s
}

// Has reports whether s holds u.
func (s Usages) Has(u Usage) bool {
	b := u.bit()
	return b != 0 && s&b == b
}

// Subset reports whether every usage of s is in of.
func (s Usages) Subset(of Usages) bool { return s&^of == 0 }

// List returns the usages of s in canonical order (sign, verify, encrypt,
// decrypt, wrapKey, unwrapKey). It never returns nil.
func (s Usages) List() []Usage {
	out := make([]Usage, 0, len(allUsages))
	for i, u := range allUsages {
		if s&(1<<i) != 0 {
			out = append(out, u)
		}
	}
	return out
}

// String joins the usages with commas.
func (s Usages) String() string {
	l := s.List()
	parts := make([]string, len(l))
	for i, u := range l {
		parts[i] = string(u)
	}
	return strings.Join(parts, ",")
}
