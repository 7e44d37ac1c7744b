package secret

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// violationID returns the OKMS id of the single violation carried by err;
// it fails the test when err carries none or several.
func violationID(t *testing.T, err error) string {
	t.Helper()
	vs, ok := AsViolations(err)
	if !ok {
		t.Fatalf("error %v (%T) carries no Violations", err, err)
	}
	if len(vs) != 1 {
		t.Fatalf("error carries %d violations %v, want exactly 1", len(vs), vs)
	}
	return vs[0].ID()
}

func TestParsePath(t *testing.T) {
	t.Parallel()
	const (
		ok       = ""
		invalid  = "SecretPathInvalidCharacter"
		tooLong  = "SecretPathMaxExceeded"
		required = "SecretFieldRequired"
	)
	tests := []struct {
		name   string
		in     string
		wantID string // "" when the path is valid
	}{
		{"single segment", "mysecret", ok},
		{"nested", "prod/database/MySQL", ok},
		{"digits only", "0123456789", ok},
		{"upper and lower case", "ABCxyz", ok},
		{"underscore", "a_b", ok},
		{"dot inside a segment", "a.b", ok},
		{"colon", "a:b", ok},
		{"equals", "a=b", ok},
		{"at sign", "user@example.com", ok},
		{"hyphen", "a-b", ok},
		{"every allowed punctuation", "a_.:=@-/b", ok},
		{"every allowed character", "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:=@-/x", ok},
		{"dot prefix of a segment", "a/.hidden", ok},
		{"three dots segment", "a/.../b", ok},
		{"dotdot inside a segment", "a/..b/c", ok},
		{"segment ending with dotdot", "a/b../c", ok},
		{"single character", "a", ok},
		{"single dot-free punctuation", "-", ok},
		{"255 characters", strings.Repeat("a", 255), ok},
		{"255 characters with slashes", strings.Repeat("ab/", 84) + "abc", ok},

		{"empty", "", required},
		{"256 characters", strings.Repeat("a", 256), tooLong},
		{"1000 characters", strings.Repeat("a/", 500), tooLong},
		{"leading slash", "/prod", invalid},
		{"trailing slash", "prod/", invalid},
		{"only a slash", "/", invalid},
		{"double slash", "prod//db", invalid},
		{"dot segment", "a/./b", invalid},
		{"dotdot segment", "a/../b", invalid},
		{"leading dot segment", "./a", invalid},
		{"leading dotdot segment", "../a", invalid},
		{"trailing dot segment", "a/.", invalid},
		{"trailing dotdot segment", "a/..", invalid},
		{"dot alone", ".", invalid},
		{"dotdot alone", "..", invalid},
		{"percent", "a%2Fb", invalid},
		{"space", "a b", invalid},
		{"leading space", " a", invalid},
		{"tab", "a\tb", invalid},
		{"newline", "a\nb", invalid},
		{"unicode letter", "café", invalid},
		{"unicode only", "секрет", invalid},
		{"emoji", "a/🔑", invalid},
		{"nul", "a\x00b", invalid},
		{"backslash", `a\b`, invalid},
		{"question mark", "a?b", invalid},
		{"hash", "a#b", invalid},
		{"plus", "a+b", invalid},
		{"comma", "a,b", invalid},
		{"semicolon", "a;b", invalid},
		{"tilde", "a~b", invalid},
		{"asterisk", "a*", invalid},
		{"quote", `a"b`, invalid},
		{"invalid utf-8", "a\xffb", invalid},
		// 2.2 counts characters: 128 two-byte characters are 256 bytes but
		// only 128 characters, so the length is fine and the characters are not.
		{"256 bytes of 128 non-ascii characters", strings.Repeat("é", 128), invalid},
		{"256 non-ascii characters", strings.Repeat("é", 256), tooLong},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePath(tc.in)
			if tc.wantID == ok {
				if err != nil {
					t.Fatalf("ParsePath(%q) = error %v, want a valid path", tc.in, err)
				}
				if got := p.String(); got != tc.in {
					t.Errorf("ParsePath(%q).String() = %q, want the input unchanged", tc.in, got)
				}
				if p.IsZero() {
					t.Errorf("ParsePath(%q).IsZero() = true, want false", tc.in)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParsePath(%q) = %q, nil; want error %s", tc.in, p, tc.wantID)
			}
			if got := violationID(t, err); got != tc.wantID {
				t.Errorf("ParsePath(%q) violation ID = %q, want %q (error %v)", tc.in, got, tc.wantID, err)
			}
			if !p.IsZero() {
				t.Errorf("ParsePath(%q) returned path %q with its error, want the zero Path", tc.in, p)
			}
		})
	}
}

func TestParsePath_violationDetails(t *testing.T) {
	t.Parallel()
	t.Run("max exceeded reports limit and length", func(t *testing.T) {
		t.Parallel()
		_, err := ParsePath(strings.Repeat("x", 300))
		vs, ok := AsViolations(err)
		if !ok || len(vs) != 1 {
			t.Fatalf("ParsePath(300 x) error = %v, want one violation", err)
		}
		want := Violation{Field: FieldPath, Rule: RuleMaxExceeded, Limit: 255, Got: 300}
		if vs[0] != want {
			t.Errorf("ParsePath(300 x) violation = %+v, want %+v", vs[0], want)
		}
	})
	t.Run("empty names the path field", func(t *testing.T) {
		t.Parallel()
		_, err := ParsePath("")
		vs, ok := AsViolations(err)
		if !ok || len(vs) != 1 {
			t.Fatalf(`ParsePath("") error = %v, want one violation`, err)
		}
		if vs[0].Field != FieldRequired || vs[0].Key != "path" {
			t.Errorf(`ParsePath("") violation = %+v, want Field %q and Key "path"`, vs[0], FieldRequired)
		}
	})
	t.Run("errors are Violations", func(t *testing.T) {
		t.Parallel()
		_, err := ParsePath("a//b")
		var vs Violations
		if !errors.As(err, &vs) {
			t.Errorf(`errors.As(ParsePath("a//b") error %T, *Violations) = false, want true`, err)
		}
	})
	t.Run("message does not echo the input", func(t *testing.T) {
		t.Parallel()
		_, err := ParsePath("canary value")
		if err == nil || strings.Contains(err.Error(), "canary") {
			t.Errorf(`ParsePath("canary value") error = %v, want an error not quoting the input`, err)
		}
	})
}

func TestPath_Escaped(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want string
	}{
		{"prod/database/MySQL", "prod%2Fdatabase%2FMySQL"},
		{"plain", "plain"},
		{"a/b", "a%2Fb"},
		// okms-rest.md 2.7: within the alphabet only "/" is escaped.
		{"a_b.c:d=e@f-g", "a_b.c:d=e@f-g"},
		{"x/_.:=@-/y", "x%2F_.:=@-%2Fy"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			p := MustParsePath(tc.in)
			if got := p.Escaped(); got != tc.want {
				t.Errorf("MustParsePath(%q).Escaped() = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestPath_Elems(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want []string
	}{
		{"a", []string{"a"}},
		{"prod/db/mysql", []string{"prod", "db", "mysql"}},
		{"a.b/c:d", []string{"a.b", "c:d"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			if got := MustParsePath(tc.in).Elems(); !slices.Equal(got, tc.want) {
				t.Errorf("MustParsePath(%q).Elems() = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

func TestPath_HasPrefix(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, prefix string
		want         bool
	}{
		{"prod/db", "", true},
		{"prod/db", "prod/", true},
		{"prod/db/x", "prod/db/", true},
		{"production/db", "prod/", false},
		{"prod", "prod/", false},
		{"dev/db", "prod/", false},
	}
	for _, tc := range tests {
		t.Run(tc.path+" under "+tc.prefix, func(t *testing.T) {
			t.Parallel()
			if got := MustParsePath(tc.path).HasPrefix(tc.prefix); got != tc.want {
				t.Errorf("MustParsePath(%q).HasPrefix(%q) = %v, want %v", tc.path, tc.prefix, got, tc.want)
			}
		})
	}
}

func TestPath_zero(t *testing.T) {
	t.Parallel()
	var p Path
	if !p.IsZero() {
		t.Errorf("Path{}.IsZero() = false, want true")
	}
	if got := p.String(); got != "" {
		t.Errorf("Path{}.String() = %q, want \"\"", got)
	}
}

func TestMustParsePath(t *testing.T) {
	t.Parallel()
	t.Run("valid", func(t *testing.T) {
		t.Parallel()
		if got := MustParsePath("a/b").String(); got != "a/b" {
			t.Errorf(`MustParsePath("a/b").String() = %q, want "a/b"`, got)
		}
	})
	t.Run("invalid panics", func(t *testing.T) {
		t.Parallel()
		defer func() {
			if recover() == nil {
				t.Errorf(`MustParsePath("/a") did not panic, want a panic`)
			}
		}()
		MustParsePath("/a")
	})
}

func FuzzParsePath(f *testing.F) {
	for _, s := range []string{
		"", "a", "prod/database/MySQL", "/a", "a/", "a//b", "a/./b", "a/../b", ".", "..",
		"a%2Fb", "a b", "café", "a\x00b", `a\b`, "a_.:=@-/b", strings.Repeat("a", 255),
		strings.Repeat("a", 256), strings.Repeat("é", 128), "a\xffb",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePath(s)
		if err != nil {
			if _, ok := AsViolations(err); !ok {
				t.Fatalf("ParsePath(%q) error %v is not Violations", s, err)
			}
			return
		}
		if p.String() != s {
			t.Fatalf("ParsePath(%q).String() = %q, want the input", s, p.String())
		}
		q, err := ParsePath(p.String())
		if err != nil {
			t.Fatalf("ParsePath(ParsePath(%q).String()) = error %v, want the same path", s, err)
		}
		if q != p {
			t.Fatalf("ParsePath(ParsePath(%q).String()) = %q, want %q", s, q, p)
		}
		if len(s) == 0 || len(s) > MaxPathLength || s[0] == '/' || s[len(s)-1] == '/' || strings.Contains(s, "//") {
			t.Fatalf("ParsePath(%q) accepted a path that breaks the grammar", s)
		}
		for _, seg := range p.Elems() {
			if seg == "." || seg == ".." || seg == "" {
				t.Fatalf("ParsePath(%q) accepted segment %q", s, seg)
			}
		}
		if strings.Trim(p.Escaped(), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:=@-%2F") != "" {
			t.Fatalf("ParsePath(%q).Escaped() = %q, contains unexpected characters", s, p.Escaped())
		}
	})
}

func BenchmarkParsePath(b *testing.B) {
	b.ReportAllocs()
	const s = "prod/eu-west/database/MySQL_primary.user@example.com"
	for b.Loop() {
		if _, err := ParsePath(s); err != nil {
			b.Fatal(err)
		}
	}
}
