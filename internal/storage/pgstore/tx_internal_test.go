package pgstore

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSuccessor(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		prefix string
		want   string
		ok     bool
	}{
		{"empty", "", "", false},
		{"ascii", "a/b", "a/c", true},
		{"last one-byte rune", "a\u007f", "a\u0080", true},
		{"two-byte rune", "é", "ê", true},
		{"before the surrogates", "x\ud7ff", "x\ue000", true},
		{"last rune", "x\U0010ffff", "y", true},
		{"last runes", "x\U0010ffff\U0010ffff", "y", true},
		{"only the last rune", "\U0010ffff", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, ok := successor(tc.prefix)
			if got != tc.want || ok != tc.ok {
				t.Errorf("successor(%q) = %q, %t; want %q, %t", tc.prefix, got, ok, tc.want, tc.ok)
			}
			if ok && !utf8.ValidString(got) {
				t.Errorf("successor(%q) = %q is not valid UTF-8", tc.prefix, got)
			}
		})
	}
}

// FuzzSuccessor checks the bound's defining property: a valid string lies
// in [prefix, successor(prefix)) exactly when it starts with prefix.
func FuzzSuccessor(f *testing.F) {
	f.Add("a", "ab")
	f.Add("a\u007f", "a\u0080")
	f.Add("\U0010ffff", "\U0010ffffz")
	f.Add("x\ud7ff", "x\ue000")
	f.Fuzz(func(t *testing.T, prefix, s string) {
		if !utf8.ValidString(prefix) || !utf8.ValidString(s) {
			return
		}
		upper, bounded := successor(prefix)
		inRange := s >= prefix && (!bounded || s < upper)
		if inRange != strings.HasPrefix(s, prefix) {
			t.Errorf("successor(%q) = %q, %t: %q in range is %t, has prefix is %t", prefix, upper, bounded, s, inRange, !inRange)
		}
	})
}

func TestListRange(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		prefix, after string
		want          keyRange
		wantErr       bool
	}{
		{"all", "", "", keyRange{}, false},
		{"prefix", "p/", "", keyRange{lower: "p/", upper: "p0", bounded: true}, false},
		{"after before prefix", "p/", "a", keyRange{lower: "p/", upper: "p0", bounded: true}, false},
		{"after inside", "p/", "p/3", keyRange{lower: "p/3", exclusive: true, upper: "p0", bounded: true}, false},
		{"after beyond", "p/", "q", keyRange{lower: "q", exclusive: true, upper: "p0", bounded: true, empty: true}, false},
		{"after with NUL", "", "a\x00b", keyRange{lower: "a", exclusive: true}, false},
		{"prefix with NUL", "a\x00", "", keyRange{empty: true}, false},
		{"invalid prefix", "\xff", "", keyRange{empty: true}, false},
		{"invalid after", "", "\xff", keyRange{}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := listRange(tc.prefix, tc.after)
			if (err != nil) != tc.wantErr || (!tc.wantErr && got != tc.want) {
				t.Errorf("listRange(%q, %q) = %+v, %v; want %+v, error %t", tc.prefix, tc.after, got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestMigrations(t *testing.T) {
	t.Parallel()
	ms, err := migrations()
	if err != nil {
		t.Fatalf("migrations() = %v", err)
	}
	for i, m := range ms {
		if m.version != i+1 || strings.TrimSpace(m.sql) == "" {
			t.Errorf("migration %d = version %d %s with %d bytes of SQL", i, m.version, m.name, len(m.sql))
		}
	}
}
