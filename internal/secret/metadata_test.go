package secret

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// entries returns a map of n valid entries.
func entries(n int) map[string]string {
	m := make(map[string]string, n)
	for i := range n {
		m[fmt.Sprintf("k%03d", i)] = "v"
	}
	return m
}

func TestValidateCustomMetadata(t *testing.T) {
	t.Parallel()
	type want struct {
		rule Rule
		key  string
	}
	tests := []struct {
		name string
		in   map[string]string
		want []want // in order; nil when valid
	}{
		{name: "nil", in: nil},
		{name: "empty", in: map[string]string{}},
		{name: "one entry", in: map[string]string{"env": "prod"}},
		{name: "every allowed character", in: map[string]string{"aZ09_.:/=@%-": "aZ09_.:/=@%-"}},
		{name: "percent allowed", in: map[string]string{"a%20b": "100%"}},
		{name: "eso label", in: map[string]string{"managed-by": "external-secrets"}},
		{name: "64 entries", in: entries(64)},
		{name: "key of 128 characters", in: map[string]string{strings.Repeat("k", 128): "v"}},
		{name: "value of 512 characters", in: map[string]string{"k": strings.Repeat("v", 512)}},
		{name: "key of 1 character", in: map[string]string{"k": "v"}},

		{name: "65 entries", in: entries(65), want: []want{{RuleMaxExceeded, ""}}},
		{name: "key of 129 characters", in: map[string]string{strings.Repeat("k", 129): "v"}, want: []want{{RuleKeyMaxExceeded, strings.Repeat("k", 129)}}},
		{name: "value of 513 characters", in: map[string]string{"k": strings.Repeat("v", 513)}, want: []want{{RuleValueMaxExceeded, "k"}}},
		{name: "empty key", in: map[string]string{"": "v"}, want: []want{{RuleKeyMinRequired, ""}}},
		{name: "empty value", in: map[string]string{"k": ""}, want: []want{{RuleValueMinRequired, "k"}}},
		{name: "space in key", in: map[string]string{"a b": "v"}, want: []want{{RuleKeyInvalidCharacter, "a b"}}},
		{name: "space in value", in: map[string]string{"k": "a b"}, want: []want{{RuleValueInvalidCharacter, "k"}}},
		{name: "unicode key", in: map[string]string{"clé": "v"}, want: []want{{RuleKeyInvalidCharacter, "clé"}}},
		{name: "unicode value", in: map[string]string{"k": "été"}, want: []want{{RuleValueInvalidCharacter, "k"}}},
		{name: "unprintable key", in: map[string]string{"a\x00": "v"}, want: []want{{RuleKeyInvalidCharacter, "a\x00"}}},
		{name: "unprintable value", in: map[string]string{"k": "a\nb"}, want: []want{{RuleValueInvalidCharacter, "k"}}},
		{name: "punctuation outside the set", in: map[string]string{"a,b": "x+y"}, want: []want{{RuleKeyInvalidCharacter, "a,b"}, {RuleValueInvalidCharacter, "a,b"}}},
		{name: "empty key and empty value", in: map[string]string{"": ""}, want: []want{{RuleKeyMinRequired, ""}, {RuleValueMinRequired, ""}}},
		{
			name: "several problems in sorted key order",
			in: map[string]string{
				"z":                      "",
				"a":                      strings.Repeat("x", 513),
				"":                       "v",
				"m k":                    "ok",
				"ok":                     "fine",
				strings.Repeat("b", 129): "v v",
			},
			want: []want{
				{RuleKeyMinRequired, ""},
				{RuleValueMaxExceeded, "a"},
				{RuleKeyMaxExceeded, strings.Repeat("b", 129)},
				{RuleValueInvalidCharacter, strings.Repeat("b", 129)},
				{RuleKeyInvalidCharacter, "m k"},
				{RuleValueMinRequired, "z"},
			},
		},
		{
			name: "too many entries reports only the count",
			in: func() map[string]string {
				m := entries(70)
				m[""] = ""
				return m
			}(),
			want: []want{{RuleMaxExceeded, ""}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := ValidateCustomMetadata(tc.in)
			if tc.want == nil {
				if err != nil {
					t.Errorf("ValidateCustomMetadata(%d entries) = %v, want nil", len(tc.in), err)
				}
				return
			}
			vs, ok := AsViolations(err)
			if !ok {
				t.Fatalf("ValidateCustomMetadata(%d entries) = %v, want violations %v", len(tc.in), err, tc.want)
			}
			got := make([]want, len(vs))
			for i, v := range vs {
				if v.Field != FieldCustomMetadata {
					t.Errorf("violation %d field = %q, want %q", i, v.Field, FieldCustomMetadata)
				}
				got[i] = want{v.Rule, v.Key}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("ValidateCustomMetadata(%d entries) violations = %q, want %q", len(tc.in), got, tc.want)
			}
		})
	}
}

func TestValidateCustomMetadata_details(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		in     map[string]string
		want   Violation
		wantID string
	}{
		{"count", entries(65), Violation{Field: FieldCustomMetadata, Rule: RuleMaxExceeded, Limit: 64, Got: 65}, "SecretCustomMetadataMaxExceeded"},
		{"key length", map[string]string{strings.Repeat("k", 129): "v"}, Violation{Field: FieldCustomMetadata, Rule: RuleKeyMaxExceeded, Key: strings.Repeat("k", 129), Limit: 128, Got: 129}, "SecretCustomMetadataKeyMaxExceeded"},
		{"value length", map[string]string{"k": strings.Repeat("v", 513)}, Violation{Field: FieldCustomMetadata, Rule: RuleValueMaxExceeded, Key: "k", Limit: 512, Got: 513}, "SecretCustomMetadataValueMaxExceeded"},
		{"empty key", map[string]string{"": "v"}, Violation{Field: FieldCustomMetadata, Rule: RuleKeyMinRequired, Limit: 128}, "SecretCustomMetadataKeyMinRequired"},
		{"empty value", map[string]string{"k": ""}, Violation{Field: FieldCustomMetadata, Rule: RuleValueMinRequired, Key: "k", Limit: 512}, "SecretCustomMetadataValueMinRequired"},
		{"key character", map[string]string{"a b": "v"}, Violation{Field: FieldCustomMetadata, Rule: RuleKeyInvalidCharacter, Key: "a b"}, "SecretCustomMetadataKeyInvalidCharacter"},
		{"value character", map[string]string{"k": "a b"}, Violation{Field: FieldCustomMetadata, Rule: RuleValueInvalidCharacter, Key: "k"}, "SecretCustomMetadataValueInvalidCharacter"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			vs, ok := AsViolations(ValidateCustomMetadata(tc.in))
			if !ok || len(vs) != 1 {
				t.Fatalf("ValidateCustomMetadata(%s) = %v, want one violation", tc.name, vs)
			}
			if vs[0] != tc.want {
				t.Errorf("ValidateCustomMetadata(%s) = %+v, want %+v", tc.name, vs[0], tc.want)
			}
			if got := vs[0].ID(); got != tc.wantID {
				t.Errorf("ValidateCustomMetadata(%s) ID = %q, want %q", tc.name, got, tc.wantID)
			}
		})
	}
	t.Run("messages name keys, never values", func(t *testing.T) {
		t.Parallel()
		const canary = "CANARYVALUE"
		err := ValidateCustomMetadata(map[string]string{"k1": canary + " x", "k2": strings.Repeat(canary, 50)})
		if err == nil || strings.Contains(err.Error(), canary) {
			t.Errorf("ValidateCustomMetadata(bad values) = %v, want an error without the values", err)
		}
		if !strings.Contains(err.Error(), "k1") || !strings.Contains(err.Error(), "k2") {
			t.Errorf("ValidateCustomMetadata(bad values) = %v, want both keys named", err)
		}
	})
}

func cloneSecret(s *Secret) *Secret {
	c := *s
	c.CustomMetadata = maps.Clone(s.CustomMetadata)
	c.Versions = slices.Clone(s.Versions)
	return &c
}

func TestSecret_ApplyMetadata(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	now := t0.Add(time.Hour)
	str := func(s string) *string { return &s }
	boolp := func(b bool) *bool { return &b }
	u32 := func(n uint32) *uint32 { return &n }
	cm := func(m map[string]string) *map[string]string { return &m }
	day := mustDuration(t, "1d")
	dayAsHours := mustDuration(t, "24h")

	base := func() *Secret {
		s := New("id-1", MustParsePath("app/db"), t0)
		s.CustomMetadata = map[string]string{"a": "1", "b": "2"}
		s.Settings = Settings{MaxVersions: 5, DeactivateAfter: day}
		return s
	}
	tests := []struct {
		name        string
		start       func() *Secret
		u           MetadataUpdate
		wantCM      map[string]string
		wantSet     Settings
		wantChanged bool
		wantErr     bool
	}{
		{name: "empty update", start: base, u: MetadataUpdate{},
			wantCM: map[string]string{"a": "1", "b": "2"}, wantSet: Settings{MaxVersions: 5, DeactivateAfter: day}},
		{name: "replace", start: base, u: MetadataUpdate{CustomMetadata: cm(map[string]string{"c": "3"})},
			wantCM: map[string]string{"c": "3"}, wantSet: Settings{MaxVersions: 5, DeactivateAfter: day}, wantChanged: true},
		{name: "replace with identical map", start: base, u: MetadataUpdate{CustomMetadata: cm(map[string]string{"b": "2", "a": "1"})},
			wantCM: map[string]string{"a": "1", "b": "2"}, wantSet: Settings{MaxVersions: 5, DeactivateAfter: day}},
		{name: "clear with empty map", start: base, u: MetadataUpdate{CustomMetadata: cm(map[string]string{})},
			wantCM: nil, wantSet: Settings{MaxVersions: 5, DeactivateAfter: day}, wantChanged: true},
		{name: "clear when already empty", start: func() *Secret { s := base(); s.CustomMetadata = nil; return s },
			u:      MetadataUpdate{CustomMetadata: cm(map[string]string{})},
			wantCM: nil, wantSet: Settings{MaxVersions: 5, DeactivateAfter: day}},
		{name: "patch adds and removes", start: base, u: MetadataUpdate{CustomMetadataPatch: map[string]*string{"a": nil, "c": str("3")}},
			wantCM: map[string]string{"b": "2", "c": "3"}, wantSet: Settings{MaxVersions: 5, DeactivateAfter: day}, wantChanged: true},
		{name: "patch overwrites", start: base, u: MetadataUpdate{CustomMetadataPatch: map[string]*string{"a": str("9")}},
			wantCM: map[string]string{"a": "9", "b": "2"}, wantSet: Settings{MaxVersions: 5, DeactivateAfter: day}, wantChanged: true},
		{name: "patch removing everything", start: base, u: MetadataUpdate{CustomMetadataPatch: map[string]*string{"a": nil, "b": nil}},
			wantCM: nil, wantSet: Settings{MaxVersions: 5, DeactivateAfter: day}, wantChanged: true},
		{name: "patch removing a missing key", start: base, u: MetadataUpdate{CustomMetadataPatch: map[string]*string{"zz": nil}},
			wantCM: map[string]string{"a": "1", "b": "2"}, wantSet: Settings{MaxVersions: 5, DeactivateAfter: day}},
		{name: "patch with the same value", start: base, u: MetadataUpdate{CustomMetadataPatch: map[string]*string{"a": str("1")}},
			wantCM: map[string]string{"a": "1", "b": "2"}, wantSet: Settings{MaxVersions: 5, DeactivateAfter: day}},
		{name: "empty patch", start: base, u: MetadataUpdate{CustomMetadataPatch: map[string]*string{}},
			wantCM: map[string]string{"a": "1", "b": "2"}, wantSet: Settings{MaxVersions: 5, DeactivateAfter: day}},
		{name: "patch onto no metadata", start: func() *Secret { s := base(); s.CustomMetadata = nil; return s },
			u:      MetadataUpdate{CustomMetadataPatch: map[string]*string{"k": str("v")}},
			wantCM: map[string]string{"k": "v"}, wantSet: Settings{MaxVersions: 5, DeactivateAfter: day}, wantChanged: true},
		{name: "cas required", start: base, u: MetadataUpdate{CASRequired: boolp(true)},
			wantCM: map[string]string{"a": "1", "b": "2"}, wantSet: Settings{CASRequired: true, MaxVersions: 5, DeactivateAfter: day}, wantChanged: true},
		{name: "cas required unchanged", start: base, u: MetadataUpdate{CASRequired: boolp(false)},
			wantCM: map[string]string{"a": "1", "b": "2"}, wantSet: Settings{MaxVersions: 5, DeactivateAfter: day}},
		{name: "max versions", start: base, u: MetadataUpdate{MaxVersions: u32(2)},
			wantCM: map[string]string{"a": "1", "b": "2"}, wantSet: Settings{MaxVersions: 2, DeactivateAfter: day}, wantChanged: true},
		{name: "max versions reset to zero", start: base, u: MetadataUpdate{MaxVersions: u32(0)},
			wantCM: map[string]string{"a": "1", "b": "2"}, wantSet: Settings{DeactivateAfter: day}, wantChanged: true},
		{name: "same max versions", start: base, u: MetadataUpdate{MaxVersions: u32(5)},
			wantCM: map[string]string{"a": "1", "b": "2"}, wantSet: Settings{MaxVersions: 5, DeactivateAfter: day}},
		{name: "deactivate after cleared", start: base, u: MetadataUpdate{DeactivateAfter: &Duration{}},
			wantCM: map[string]string{"a": "1", "b": "2"}, wantSet: Settings{MaxVersions: 5}, wantChanged: true},
		{name: "same deactivate after", start: base, u: MetadataUpdate{DeactivateAfter: &day},
			wantCM: map[string]string{"a": "1", "b": "2"}, wantSet: Settings{MaxVersions: 5, DeactivateAfter: day}},
		// The text is echoed as given (okms-rest.md 2.6), so "24h" is a
		// change from "1d" even though the value is the same.
		{name: "same period written differently", start: base, u: MetadataUpdate{DeactivateAfter: &dayAsHours},
			wantCM: map[string]string{"a": "1", "b": "2"}, wantSet: Settings{MaxVersions: 5, DeactivateAfter: dayAsHours}, wantChanged: true},
		{name: "settings and metadata together", start: base,
			u:      MetadataUpdate{CASRequired: boolp(true), MaxVersions: u32(3), CustomMetadata: cm(map[string]string{"x": "y"})},
			wantCM: map[string]string{"x": "y"}, wantSet: Settings{CASRequired: true, MaxVersions: 3, DeactivateAfter: day}, wantChanged: true},

		{name: "invalid replacement leaves the secret unchanged", start: base,
			u:       MetadataUpdate{MaxVersions: u32(1), CustomMetadata: cm(map[string]string{"bad key": "v"})},
			wantErr: true},
		{name: "too many entries leaves the secret unchanged", start: base,
			u:       MetadataUpdate{CASRequired: boolp(true), CustomMetadata: cm(entries(65))},
			wantErr: true},
		{name: "invalid patch value leaves the secret unchanged", start: base,
			u:       MetadataUpdate{MaxVersions: u32(1), CustomMetadataPatch: map[string]*string{"a": nil, "c": str("")}},
			wantErr: true},
		{name: "patch beyond 64 entries leaves the secret unchanged", start: func() *Secret { s := base(); s.CustomMetadata = entries(64); return s },
			u:       MetadataUpdate{CustomMetadataPatch: map[string]*string{"one-more": str("v")}},
			wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := tc.start()
			before := cloneSecret(s)
			origCM := s.CustomMetadata
			origCMCopy := maps.Clone(origCM)
			err := s.ApplyMetadata(tc.u, now)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("ApplyMetadata(%s) = nil, want an error", tc.name)
				}
				if _, ok := AsViolations(err); !ok {
					t.Errorf("ApplyMetadata(%s) = %v, want Violations", tc.name, err)
				}
				if !reflect.DeepEqual(s, before) {
					t.Errorf("after failed ApplyMetadata(%s), secret = %+v, want unchanged %+v", tc.name, s, before)
				}
				if !maps.Equal(origCM, origCMCopy) {
					t.Errorf("failed ApplyMetadata(%s) modified the previous custom metadata map: %v, want %v", tc.name, origCM, origCMCopy)
				}
				return
			}
			if err != nil {
				t.Fatalf("ApplyMetadata(%s) = error %v, want nil", tc.name, err)
			}
			if !maps.Equal(s.CustomMetadata, tc.wantCM) || (tc.wantCM == nil) != (len(s.CustomMetadata) == 0) {
				t.Errorf("after ApplyMetadata(%s), CustomMetadata = %v, want %v", tc.name, s.CustomMetadata, tc.wantCM)
			}
			if s.Settings != tc.wantSet {
				t.Errorf("after ApplyMetadata(%s), Settings = %+v, want %+v", tc.name, s.Settings, tc.wantSet)
			}
			wantUpdated := t0
			if tc.wantChanged {
				wantUpdated = now
			}
			if !s.UpdatedAt.Equal(wantUpdated) {
				t.Errorf("after ApplyMetadata(%s), UpdatedAt = %v, want %v (changed: %v)", tc.name, s.UpdatedAt, wantUpdated, tc.wantChanged)
			}
			if !s.CreatedAt.Equal(t0) || s.CurrentVersion != before.CurrentVersion || s.ID != before.ID || s.Path != before.Path {
				t.Errorf("ApplyMetadata(%s) changed identity fields: %+v, want those of %+v", tc.name, s, before)
			}
			if !maps.Equal(origCM, origCMCopy) {
				t.Errorf("ApplyMetadata(%s) modified the previous custom metadata map in place: %v, want %v", tc.name, origCM, origCMCopy)
			}
		})
	}
}

func TestSecret_ApplyMetadata_doesNotAliasCallerMap(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)
	s := New("id", MustParsePath("a"), t0)
	m := map[string]string{"k": "v"}
	if err := s.ApplyMetadata(MetadataUpdate{CustomMetadata: &m}, t0); err != nil {
		t.Fatalf("ApplyMetadata = error %v", err)
	}
	m["k"] = "changed"
	m["other"] = "x"
	if want := map[string]string{"k": "v"}; !maps.Equal(s.CustomMetadata, want) {
		t.Errorf("after changing the caller's map, CustomMetadata = %v, want %v", s.CustomMetadata, want)
	}
}

func TestMetadataUpdate_IsEmptyAndValidate(t *testing.T) {
	t.Parallel()
	yes := true
	good := map[string]string{"k": "v"}
	bad := map[string]string{"k": ""}
	tests := []struct {
		name      string
		u         MetadataUpdate
		wantEmpty bool
		wantErr   bool
	}{
		{"zero", MetadataUpdate{}, true, false},
		{"cas", MetadataUpdate{CASRequired: &yes}, false, false},
		{"valid replacement", MetadataUpdate{CustomMetadata: &good}, false, false},
		{"invalid replacement", MetadataUpdate{CustomMetadata: &bad}, false, true},
		{"empty patch", MetadataUpdate{CustomMetadataPatch: map[string]*string{}}, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := tc.u.IsEmpty(); got != tc.wantEmpty {
				t.Errorf("MetadataUpdate(%s).IsEmpty() = %v, want %v", tc.name, got, tc.wantEmpty)
			}
			if err := tc.u.Validate(); (err != nil) != tc.wantErr {
				t.Errorf("MetadataUpdate(%s).Validate() = %v, want error %v", tc.name, err, tc.wantErr)
			}
		})
	}
}
