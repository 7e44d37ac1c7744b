package policy

import (
	"errors"
	"net/url"
	"strings"
)

// Wildcard is the only special character of action and resource patterns.
const Wildcard = "*"

// Match reports whether the action or resource pattern matches s
// (iam.md 4.2). A "*" at the beginning of pattern matches any text before
// the rest, a "*" at the end any text after it; "*" alone matches
// everything. Matching is otherwise exact and case-sensitive. A "*"
// elsewhere is an ordinary character: [Policy.Validate] rejects such
// patterns, so they never match a real action or URN.
func Match(pattern, s string) bool {
	return compile(pattern).match(s)
}

// Covers reports whether a resource pattern covers resource: it matches the
// resource URN or, for a resource below an OKMS domain, the domain's URN
// (iam.md 4.2: "a domain URN covers its secrets"). So the domain URN covers
// the domain and all its secrets, while ".../secret/*" covers the secrets
// but not the domain itself.
func Covers(pattern, resource string) bool {
	return compile(pattern).covers(resource)
}

// ErrPattern is returned by [CanonicalResource] for a resource pattern whose
// secret part cannot be decoded into the secret path alphabet.
var ErrPattern = errors.New("policy: invalid resource pattern")

// CanonicalResource returns the canonical form of a resource pattern
// (iam.md 4.2): the text after the first "/secret/" is percent-decoded, then
// every "/" is written "%2F" (uppercase); "*" stays literal. So
// ".../secret/prod/*" and ".../secret/prod%2f*" both become
// ".../secret/prod%2F*". A pattern without "/secret/" is returned as is. It
// returns [ErrPattern] if the decoding fails or yields a character outside
// the secret path alphabet and "*". Canonicalisation is idempotent.
func CanonicalResource(pattern string) (string, error) {
	i := strings.Index(pattern, secretSep)
	if i < 0 {
		return pattern, nil
	}
	head, tail := pattern[:i+len(secretSep)], pattern[i+len(secretSep):]
	if !strings.Contains(tail, "/") && !strings.Contains(tail, "%") {
		// Already canonical if it is valid at all: only the check below.
		if !pathOrWildcard(tail) {
			return pattern, ErrPattern
		}
		return pattern, nil
	}
	raw, err := url.PathUnescape(tail)
	if err != nil || !pathOrWildcard(raw) {
		return pattern, ErrPattern
	}
	return head + strings.ReplaceAll(raw, "/", "%2F"), nil
}

func pathOrWildcard(s string) bool {
	for i := 0; i < len(s); i++ {
		if !pathChar(s[i]) && s[i] != '*' {
			return false
		}
	}
	return true
}

// matchMode is the shape of a compiled pattern.
type matchMode uint8

const (
	matchExact    matchMode = iota // no wildcard
	matchPrefix                    // lit*
	matchSuffix                    // *lit
	matchContains                  // *lit*
	matchAny                       // *
)

// pattern is a compiled action or resource pattern.
type pattern struct {
	lit  string
	mode matchMode
}

// compile splits the wildcards off p. It never fails: a pattern with a "*"
// in the middle keeps it as an ordinary character.
func compile(p string) pattern {
	if p == Wildcard {
		return pattern{mode: matchAny}
	}
	lead := strings.HasPrefix(p, Wildcard)
	trail := len(p) > 1 && strings.HasSuffix(p, Wildcard)
	switch {
	case lead && trail:
		if p == "**" {
			return pattern{mode: matchAny}
		}
		return pattern{lit: p[1 : len(p)-1], mode: matchContains}
	case lead:
		return pattern{lit: p[1:], mode: matchSuffix}
	case trail:
		return pattern{lit: p[:len(p)-1], mode: matchPrefix}
	}
	return pattern{lit: p, mode: matchExact}
}

func (p pattern) match(s string) bool {
	switch p.mode {
	case matchExact:
		return s == p.lit
	case matchPrefix:
		return strings.HasPrefix(s, p.lit)
	case matchSuffix:
		return strings.HasSuffix(s, p.lit)
	case matchContains:
		return strings.Contains(s, p.lit)
	}
	return true
}

func (p pattern) covers(resource string) bool {
	d, ok := DomainOf(resource)
	return p.coversIn(resource, d, ok)
}

// coversIn is covers with the domain of resource already derived (below
// reports whether there is one).
func (p pattern) coversIn(resource, domain string, below bool) bool {
	if p.match(resource) {
		return true
	}
	// The domain URN is a prefix of the resource URN, so a prefix pattern
	// that matches the domain has already matched the resource.
	return below && p.mode != matchPrefix && p.match(domain)
}

// wildcardPlacementOK reports whether "*" appears in p only as its first
// and/or last character (iam.md 4.2).
func wildcardPlacementOK(p string) bool {
	core := strings.TrimPrefix(p, Wildcard)
	core = strings.TrimSuffix(core, Wildcard)
	return !strings.Contains(core, Wildcard)
}

// actionChar is the alphabet of action names.
func actionChar(c byte) bool {
	return alnum(c) || c == ':' || c == '/' || c == '_' || c == '-'
}

// matchesSomeAction reports whether the action pattern matches at least one
// action of the catalogue.
func matchesSomeAction(p string) bool {
	cp := compile(p)
	for _, a := range catalogue {
		if cp.match(a.Name) {
			return true
		}
	}
	return false
}

// resourcePrefixOK reports whether s is the beginning of some well-formed
// okms resource URN (a domain, a secret in canonical form or a service key):
// the check applied to the fixed part of a pattern "s*".
func resourcePrefixOK(s string) bool {
	for _, z := range zones {
		head := urnPrefix + z + okmsMarker
		if len(s) <= len(head) {
			if strings.HasPrefix(head, s) {
				return true
			}
			continue
		}
		if strings.HasPrefix(s, head) {
			return okmsTailPrefixOK(s[len(head):])
		}
	}
	return false
}

// okmsTailPrefixOK checks the beginning of the text after "okms:".
func okmsTailPrefixOK(t string) bool {
	id, rest, found := strings.Cut(t, "/")
	if !found {
		return uuidPrefix(id)
	}
	if !isUUID(id) {
		return false
	}
	rest = "/" + rest
	for _, sep := range [...]string{secretSep, keySep} {
		if len(rest) <= len(sep) {
			if strings.HasPrefix(sep, rest) {
				return true
			}
			continue
		}
		if tail, ok := strings.CutPrefix(rest, sep); ok {
			if sep == keySep {
				return uuidPrefix(tail)
			}
			return escapedPathPrefixOK(tail)
		}
	}
	return false
}

// escapedPathPrefixOK reports whether e, in canonical form, begins some
// escaped valid secret path.
func escapedPathPrefixOK(e string) bool {
	raw, err := url.PathUnescape(e)
	if err != nil || url.PathEscape(raw) != e {
		return false
	}
	if len(raw) == 0 {
		return true
	}
	if len(raw) > 255 || raw[0] == '/' || strings.Contains(raw, "//") {
		return false
	}
	for i := 0; i < len(raw); i++ {
		if !pathChar(raw[i]) {
			return false
		}
	}
	// Every complete segment (followed by "/") must not be "." or "..";
	// the last one may still grow.
	segs := strings.Split(raw, "/")
	for _, s := range segs[:len(segs)-1] {
		if s == "." || s == ".." {
			return false
		}
	}
	return true
}

// resourceCharsOK checks the fixed part of a pattern that starts with a
// wildcard, which can only be checked against the URN alphabet.
func resourceCharsOK(s string) bool {
	for i := 0; i < len(s); i++ {
		if !urnChar(s[i]) {
			return false
		}
	}
	return true
}
