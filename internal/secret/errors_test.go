package secret

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestViolation_ID(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    Violation
		want string
	}{
		// okms-rest.md 2.2, 2.4, 2.6, 3.3, 3.4 and the central schema ids.
		{Violation{Field: FieldPath, Rule: RuleInvalidCharacter}, "SecretPathInvalidCharacter"},
		{Violation{Field: FieldPath, Rule: RuleMaxExceeded}, "SecretPathMaxExceeded"},
		{Violation{Field: FieldRequired, Key: "path"}, "SecretFieldRequired"},
		{Violation{Field: FieldRequired, Rule: RuleRequired, Key: "data"}, "SecretFieldRequired"},
		{Violation{Field: FieldData, Rule: RuleInvalidJSON}, "SecretDataInvalidKeyValueJson"},
		{Violation{Field: FieldData, Rule: RuleMaxExceeded}, "SecretDataMaxExceeded"},
		{Violation{Field: FieldCustomMetadata, Rule: RuleMaxExceeded}, "SecretCustomMetadataMaxExceeded"},
		{Violation{Field: FieldCustomMetadata, Rule: RuleKeyInvalidCharacter}, "SecretCustomMetadataKeyInvalidCharacter"},
		{Violation{Field: FieldCustomMetadata, Rule: RuleKeyMaxExceeded}, "SecretCustomMetadataKeyMaxExceeded"},
		{Violation{Field: FieldCustomMetadata, Rule: RuleKeyMinRequired}, "SecretCustomMetadataKeyMinRequired"},
		{Violation{Field: FieldCustomMetadata, Rule: RuleValueInvalidCharacter}, "SecretCustomMetadataValueInvalidCharacter"},
		{Violation{Field: FieldCustomMetadata, Rule: RuleValueMaxExceeded}, "SecretCustomMetadataValueMaxExceeded"},
		{Violation{Field: FieldCustomMetadata, Rule: RuleValueMinRequired}, "SecretCustomMetadataValueMinRequired"},
		{Violation{Field: FieldDeactivateVersionAfter, Rule: RuleInvalidDuration}, "SecretDeactivateVersionAfterInvalidDuration"},
		{Violation{Field: FieldCAS, Rule: RuleMinRequired}, "SecretCasMinRequired"},
		{Violation{Field: FieldCAS, Rule: RuleMaxExceeded}, "SecretCasMaxExceeded"},
		{Violation{Field: FieldState, Rule: RuleInvalid}, "SecretVersionStateInvalid"},
		{Violation{Field: FieldMaxVersions, Rule: RuleMaxExceeded}, "SecretMaxVersionsMaxExceeded"},
		{Violation{Field: FieldVersion, Rule: RuleMinRequired}, "SecretVersionMinRequired"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			t.Parallel()
			if got := tc.v.ID(); got != tc.want {
				t.Errorf("%+v.ID() = %q, want %q", tc.v, got, tc.want)
			}
		})
	}
}

func TestViolation_Error(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		v    Violation
		want []string // substrings the message must contain
	}{
		{"required", Violation{Field: FieldRequired, Key: "path"}, []string{`"path"`, "required"}},
		{"path too long", Violation{Field: FieldPath, Rule: RuleMaxExceeded, Limit: 255, Got: 300}, []string{"300", "255"}},
		{"path invalid", Violation{Field: FieldPath, Rule: RuleInvalidCharacter, Reason: "it must not contain //"}, []string{"path", "//"}},
		{"data too big", Violation{Field: FieldData, Rule: RuleMaxExceeded, Limit: 65536, Got: 70000}, []string{"70000", "65536"}},
		{"data invalid", Violation{Field: FieldData, Rule: RuleInvalidJSON, Reason: "duplicate member name at depth 2"}, []string{"JSON object", "duplicate"}},
		{"metadata count", Violation{Field: FieldCustomMetadata, Rule: RuleMaxExceeded, Limit: 64, Got: 65}, []string{"65", "64"}},
		{"metadata empty key", Violation{Field: FieldCustomMetadata, Rule: RuleKeyMinRequired}, []string{"key", "empty"}},
		{"metadata key length", Violation{Field: FieldCustomMetadata, Rule: RuleKeyMaxExceeded, Key: "kk", Limit: 128, Got: 129}, []string{`"kk"`, "129", "128"}},
		{"metadata key chars", Violation{Field: FieldCustomMetadata, Rule: RuleKeyInvalidCharacter, Key: "a b"}, []string{`"a b"`, "[A-Za-z0-9_.:/=@%-]"}},
		{"metadata empty value", Violation{Field: FieldCustomMetadata, Rule: RuleValueMinRequired, Key: "k"}, []string{`"k"`, "empty"}},
		{"metadata value length", Violation{Field: FieldCustomMetadata, Rule: RuleValueMaxExceeded, Key: "k", Limit: 512, Got: 513}, []string{`"k"`, "513", "512"}},
		{"metadata value chars", Violation{Field: FieldCustomMetadata, Rule: RuleValueInvalidCharacter, Key: "k"}, []string{`"k"`, "[A-Za-z0-9_.:/=@%-]"}},
		{"duration", Violation{Field: FieldDeactivateVersionAfter, Rule: RuleInvalidDuration}, []string{"deactivateVersionAfter", "100 years"}},
		{"max versions", Violation{Field: FieldMaxVersions, Rule: RuleMaxExceeded}, []string{"maxVersions", "24000"}},
		{"version", Violation{Field: FieldVersion, Rule: RuleMinRequired}, []string{"version", "1", "24000"}},
		{"cas", Violation{Field: FieldCAS, Rule: RuleMaxExceeded}, []string{"cas", "24000"}},
		{"state", Violation{Field: FieldState, Rule: RuleInvalid}, []string{"active", "deactivated", "deleted"}},
		{"unknown field", Violation{Field: Field("Other"), Rule: RuleInvalid}, []string{"other is invalid"}},
		{"unknown metadata rule", Violation{Field: FieldCustomMetadata, Rule: RuleInvalid}, []string{"invalid"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			msg := tc.v.Error()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("%+v.Error() = %q, want it to contain %q", tc.v, msg, w)
				}
			}
		})
	}
}

func TestViolations_Error(t *testing.T) {
	t.Parallel()
	vs := Violations{
		{Field: FieldCustomMetadata, Rule: RuleKeyMinRequired},
		{Field: FieldCustomMetadata, Rule: RuleValueMaxExceeded, Key: "k", Limit: 512, Got: 513},
	}
	msg := vs.Error()
	if !strings.HasPrefix(msg, "secret: ") {
		t.Errorf("Violations.Error() = %q, want the prefix \"secret: \"", msg)
	}
	for _, v := range vs {
		if !strings.Contains(msg, v.Error()) {
			t.Errorf("Violations.Error() = %q, want it to contain %q", msg, v.Error())
		}
	}
	want := []string{vs[0].Error(), vs[1].Error()}
	if got := vs.Messages(); !slices.Equal(got, want) {
		t.Errorf("Violations.Messages() = %q, want %q", got, want)
	}
}

func TestAsViolations(t *testing.T) {
	t.Parallel()
	one := Violation{Field: FieldPath, Rule: RuleMaxExceeded, Limit: 255, Got: 256}
	two := Violations{one, {Field: FieldData, Rule: RuleInvalidJSON}}
	tests := []struct {
		name   string
		err    error
		want   Violations
		wantOK bool
	}{
		{"violations", two, two, true},
		{"wrapped violations", fmt.Errorf("service.PutVersion a/b: %w", two), two, true},
		{"single violation", one, Violations{one}, true},
		{"wrapped single violation", fmt.Errorf("ctx: %w", one), Violations{one}, true},
		{"joined", errors.Join(errors.New("other"), two), two, true},
		{"required", Required("data"), Violations{{Field: FieldRequired, Key: "data"}}, true},
		{"sentinel", ErrNotFound, nil, false},
		{"wrapped sentinel", fmt.Errorf("x: %w", ErrCASMismatch), nil, false},
		{"nil", nil, nil, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := AsViolations(tc.err)
			if ok != tc.wantOK || !slices.Equal(got, tc.want) {
				t.Errorf("AsViolations(%v) = %v, %v; want %v, %v", tc.err, got, ok, tc.want, tc.wantOK)
			}
		})
	}
}

func TestRequired(t *testing.T) {
	t.Parallel()
	err := Required("path")
	if id := violationID(t, err); id != "SecretFieldRequired" {
		t.Errorf("Required(\"path\") ID = %q, want SecretFieldRequired", id)
	}
	if !strings.Contains(err.Error(), `"path"`) {
		t.Errorf("Required(\"path\").Error() = %q, want it to name the field", err)
	}
}

func TestSentinels(t *testing.T) {
	t.Parallel()
	sentinels := []error{
		ErrNotFound, ErrVersionNotFound, ErrExists, ErrCASRequired, ErrCASMismatch,
		ErrTransition, ErrVersionLimit, ErrVersionInactive,
	}
	for i, err := range sentinels {
		// style.md 3: messages are lower case and start with the package name.
		if msg := err.Error(); !strings.HasPrefix(msg, "secret: ") {
			t.Errorf("sentinel %d message = %q, want the prefix \"secret: \"", i, msg)
		}
		for j, other := range sentinels {
			if i != j && errors.Is(err, other) {
				t.Errorf("errors.Is(%v, %v) = true, want distinct sentinels", err, other)
			}
		}
		if _, ok := AsViolations(err); ok {
			t.Errorf("AsViolations(%v) = true, want sentinels not to be violations", err)
		}
	}
	// okms-rest.md 3.3: the CAS messages are the documented ones.
	if !strings.HasSuffix(ErrCASMismatch.Error(), "cas parameter did not match the current version") {
		t.Errorf("ErrCASMismatch = %q, want it to end with the okms-rest.md 3.3 wording", ErrCASMismatch)
	}
	if !strings.HasSuffix(ErrCASRequired.Error(), "cas parameter required for this call") {
		t.Errorf("ErrCASRequired = %q, want it to end with the okms-rest.md 3.3 wording", ErrCASRequired)
	}
}
