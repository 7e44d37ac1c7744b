package httpapi

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/secret"
)

// ids returns the error ids of err's violations, nil if it has none.
func ids(err error) []string {
	vs, _ := secret.AsViolations(err)
	var out []string
	for _, v := range vs {
		out = append(out, v.ID())
	}
	return out
}

func TestParseCreate(t *testing.T) {
	t.Parallel()
	bad := int64(-1)
	tests := []struct {
		name    string
		path    string
		meta    *MetadataFields
		version *VersionFields
		want    []string // violation ids, in order
	}{
		{"valid", "prod/db", &MetadataFields{MaxVersions: new(int64(3))}, &VersionFields{Data: json.RawMessage(`{"k":"v"}`)}, nil},
		{"no metadata", "prod/db", nil, &VersionFields{Data: json.RawMessage(`{}`)}, nil},
		{"no version", "prod/db", nil, nil, []string{"SecretFieldRequired"}},
		{"version without data", "prod/db", nil, &VersionFields{}, []string{"SecretFieldRequired"}},
		{"every problem at once, path first", "/bad", &MetadataFields{MaxVersions: &bad}, &VersionFields{Data: json.RawMessage(`[]`)},
			[]string{"SecretPathInvalidCharacter", "SecretMaxVersionsMinRequired", "SecretDataInvalidKeyValueJson"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, _, _, err := ParseCreate(tc.path, tc.meta, tc.version)
			if got := ids(err); !slices.Equal(got, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("ParseCreate(%q) error %v (ids %v), want ids %v", tc.path, err, got, tc.want)
			}
			if err == nil && p.String() != tc.path {
				t.Errorf("ParseCreate(%q) path = %q", tc.path, p)
			}
		})
	}
}

func TestParseUpdate(t *testing.T) {
	t.Parallel()
	bad, cas := int64(-1), uint32(2)
	tests := []struct {
		name     string
		meta     *MetadataFields
		version  *VersionFields
		want     []string
		metadata bool // in.Metadata set
		data     bool // in.Data set
	}{
		{"neither", nil, nil, []string{"SecretFieldRequired"}, false, false},
		{"metadata only", &MetadataFields{CasRequired: new(true)}, nil, nil, true, false},
		{"version only", nil, &VersionFields{Data: json.RawMessage(`{"k":"v"}`)}, nil, false, true},
		{"both invalid, both reported", &MetadataFields{MaxVersions: &bad}, &VersionFields{Data: json.RawMessage(`1`)},
			[]string{"SecretMaxVersionsMinRequired", "SecretDataInvalidKeyValueJson"}, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			in, err := ParseUpdate(tc.meta, tc.version, &cas)
			if got := ids(err); !slices.Equal(got, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("ParseUpdate error %v (ids %v), want ids %v", err, got, tc.want)
			}
			if err != nil {
				return
			}
			if (in.Metadata != nil) != tc.metadata || (in.Data != nil) != tc.data || in.CAS != &cas {
				t.Errorf("ParseUpdate = %+v, want metadata %v, data %v, cas kept", in, tc.metadata, tc.data)
			}
		})
	}
}
