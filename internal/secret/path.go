package secret

import (
	"net/url"
	"strings"
	"unicode/utf8"
)

// MaxPathLength is the longest secret path, in characters (okms-rest.md 2.2).
const MaxPathLength = 255

// Path is a validated secret path such as "prod/database/MySQL". The zero
// value is not a valid path; obtain one with [ParsePath].
type Path struct{ s string }

// ParsePath validates s against the path grammar of okms-rest.md 2.2:
// 1..255 characters of [A-Za-z0-9_.:/=@-], no leading or trailing "/", no
// "//", and no "." or ".." segment. It returns [Violations] with
// [FieldPath] on failure.
func ParsePath(s string) (Path, error) {
	if s == "" {
		return Path{}, Violations{{Field: FieldRequired, Key: "path"}}
	}
	// okms-rest.md 2.2 counts characters, not bytes: a short path of
	// non-ASCII characters is an invalid-character error, not a length one.
	if n := utf8.RuneCountInString(s); n > MaxPathLength {
		return Path{}, Violations{{Field: FieldPath, Rule: RuleMaxExceeded, Limit: MaxPathLength, Got: int64(n)}}
	}
	for i := 0; i < len(s); i++ {
		if !pathChar(s[i]) {
			return Path{}, pathInvalid("it may only contain letters, digits and _ . : / = @ -")
		}
	}
	switch {
	case s[0] == '/':
		return Path{}, pathInvalid("it must not start with /")
	case s[len(s)-1] == '/':
		return Path{}, pathInvalid("it must not end with /")
	case strings.Contains(s, "//"):
		return Path{}, pathInvalid("it must not contain //")
	}
	for seg := range strings.SplitSeq(s, "/") {
		if seg == "." || seg == ".." {
			return Path{}, pathInvalid("it must not contain . or .. segments")
		}
	}
	return Path{s: s}, nil
}

func pathInvalid(reason string) error {
	return Violations{{Field: FieldPath, Rule: RuleInvalidCharacter, Reason: reason}}
}

func pathChar(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	switch c {
	case '_', '.', ':', '/', '=', '@', '-':
		return true
	}
	return false
}

// MustParsePath is ParsePath for constants in tests and examples; it panics
// on an invalid path.
func MustParsePath(s string) Path {
	p, err := ParsePath(s)
	if err != nil {
		panic(err)
	}
	return p
}

// String returns the path as written.
func (p Path) String() string { return p.s }

// IsZero reports whether p is the zero Path.
func (p Path) IsZero() bool { return p.s == "" }

// Escaped returns the path encoded as by [url.PathEscape]: within the path
// alphabet only "/" changes, to "%2F". It is the form used in URNs.
func (p Path) Escaped() string { return url.PathEscape(p.s) }

// Elems returns the path's segments.
func (p Path) Elems() []string { return strings.Split(p.s, "/") }

// HasPrefix reports whether p lies under the folder prefix ("" is the
// root, "prod/" the folder prod). prefix must be "" or end with "/".
func (p Path) HasPrefix(prefix string) bool { return strings.HasPrefix(p.s, prefix) }
