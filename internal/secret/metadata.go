package secret

import (
	"maps"
	"sort"
	"time"
	"unicode/utf8"
)

// Custom-metadata limits (okms-rest.md 2.4).
const (
	MaxCustomMetadataEntries = 64
	MaxCustomMetadataKey     = 128
	MaxCustomMetadataValue   = 512
)

// ValidateCustomMetadata checks a custom-metadata map: at most 64 entries,
// keys of 1..128 and values of 1..512 characters from [A-Za-z0-9_.:/=@%-].
// Every problem is reported, keys in sorted order; when there are too many
// entries only that is reported (as Vault does). Messages name keys, never
// values.
func ValidateCustomMetadata(m map[string]string) error {
	if len(m) > MaxCustomMetadataEntries {
		return Violations{{Field: FieldCustomMetadata, Rule: RuleMaxExceeded, Limit: MaxCustomMetadataEntries, Got: int64(len(m))}}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var vs Violations
	for _, k := range keys {
		v := m[k]
		n := utf8.RuneCountInString(k)
		switch {
		case n == 0:
			vs = append(vs, Violation{Field: FieldCustomMetadata, Rule: RuleKeyMinRequired, Key: k, Limit: MaxCustomMetadataKey})
		case n > MaxCustomMetadataKey:
			vs = append(vs, Violation{Field: FieldCustomMetadata, Rule: RuleKeyMaxExceeded, Key: k, Limit: MaxCustomMetadataKey, Got: int64(n)})
		case !metadataString(k):
			vs = append(vs, Violation{Field: FieldCustomMetadata, Rule: RuleKeyInvalidCharacter, Key: k})
		}
		n = utf8.RuneCountInString(v)
		switch {
		case n == 0:
			vs = append(vs, Violation{Field: FieldCustomMetadata, Rule: RuleValueMinRequired, Key: k, Limit: MaxCustomMetadataValue})
		case n > MaxCustomMetadataValue:
			vs = append(vs, Violation{Field: FieldCustomMetadata, Rule: RuleValueMaxExceeded, Key: k, Limit: MaxCustomMetadataValue, Got: int64(n)})
		case !metadataString(v):
			vs = append(vs, Violation{Field: FieldCustomMetadata, Rule: RuleValueInvalidCharacter, Key: k})
		}
	}
	if len(vs) > 0 {
		return vs
	}
	return nil
}

func metadataString(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !pathChar(c) && c != '%' {
			return false
		}
	}
	return true
}

// MetadataUpdate is a change to a secret's settings and custom metadata.
// Nil fields are left unchanged.
type MetadataUpdate struct {
	CASRequired     *bool
	MaxVersions     *uint32
	DeactivateAfter *Duration
	// CustomMetadata, when not nil, replaces the whole map (an empty map
	// clears it).
	CustomMetadata *map[string]string
	// CustomMetadataPatch merges into the map key by key; a nil value
	// removes the key (Vault's metadata PATCH).
	CustomMetadataPatch map[string]*string
}

// IsEmpty reports whether u changes nothing.
func (u MetadataUpdate) IsEmpty() bool {
	return u.CASRequired == nil && u.MaxVersions == nil && u.DeactivateAfter == nil &&
		u.CustomMetadata == nil && u.CustomMetadataPatch == nil
}

// Validate checks the custom metadata u would write. It does not need the
// secret for a replacement; a patch is validated against the merged result
// by [Secret.ApplyMetadata].
func (u MetadataUpdate) Validate() error {
	if u.CustomMetadata != nil {
		return ValidateCustomMetadata(*u.CustomMetadata)
	}
	return nil
}

// ApplyMetadata applies u to s at time now, after validating the resulting
// custom metadata. updatedAt moves only if something changed
// (okms-rest.md 2.1). On error s is unchanged.
func (s *Secret) ApplyMetadata(u MetadataUpdate, now time.Time) error {
	cm := s.CustomMetadata
	if u.CustomMetadata != nil {
		cm = maps.Clone(*u.CustomMetadata)
	}
	if u.CustomMetadataPatch != nil {
		cm = maps.Clone(cm)
		if cm == nil {
			cm = map[string]string{}
		}
		for k, v := range u.CustomMetadataPatch {
			if v == nil {
				delete(cm, k)
			} else {
				cm[k] = *v
			}
		}
	}
	if err := ValidateCustomMetadata(cm); err != nil {
		return err
	}
	next := s.Settings
	if u.CASRequired != nil {
		next.CASRequired = *u.CASRequired
	}
	if u.MaxVersions != nil {
		next.MaxVersions = *u.MaxVersions
	}
	if u.DeactivateAfter != nil {
		next.DeactivateAfter = *u.DeactivateAfter
	}
	if len(cm) == 0 {
		cm = nil
	}
	if next != s.Settings || !maps.Equal(cm, s.CustomMetadata) {
		s.Settings, s.CustomMetadata = next, cm
		s.UpdatedAt = now
	}
	return nil
}
