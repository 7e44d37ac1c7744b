package httpapi

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/secret"
)

// RouteKind says what the part of a URL after ".../secret/" addresses on
// the OKMS REST surfaces A and B.
type RouteKind int

// Route kinds.
const (
	RouteSecret   RouteKind = iota // the secret itself
	RouteVersions                  // its version collection
	RouteVersion                   // one version
)

// SecretRoute is the parsed target of a ".../secret/{rest...}" request.
type SecretRoute struct {
	Kind    RouteKind
	Path    secret.Path
	Version uint32 // set for RouteVersion only
}

// SplitSecretRoute splits R, the ESCAPED URL path after ".../secret/", as
// okms-rest.md 1.2 prescribes for surfaces A and B, then percent-decodes
// the path once and validates it:
//  1. no raw "/": R is the path of the secret;
//  2. R ends with "/version": the version collection of the path before it;
//  3. R matches (.+)/version/([0-9]+): one version;
//  4. otherwise R, raw slashes included, is the path of the secret.
//
// It returns secret.Violations for a bad path or an out-of-range version
// id; it never returns another error.
func SplitSecretRoute(r string) (SecretRoute, error) {
	var (
		rt      = SecretRoute{Kind: RouteSecret}
		escaped = r
	)
	switch {
	case !strings.Contains(r, "/"):
	case strings.HasSuffix(r, "/version") && len(r) > len("/version"):
		rt.Kind, escaped = RouteVersions, strings.TrimSuffix(r, "/version")
	default:
		if i := strings.LastIndex(r, "/version/"); i > 0 {
			num := r[i+len("/version/"):]
			if num != "" && strings.Trim(num, "0123456789") == "" {
				n, err := strconv.ParseInt(num, 10, 64)
				if err != nil {
					n = secret.MaxVersionID + 1 // absurdly long: out of range
				}
				id, err := secret.ParseVersionID(n)
				if err != nil {
					return rt, err
				}
				rt.Kind, rt.Version, escaped = RouteVersion, id, r[:i]
			}
		}
	}
	raw, err := url.PathUnescape(escaped)
	if err != nil {
		return rt, secret.Violations{{Field: secret.FieldPath, Rule: secret.RuleInvalidCharacter, Reason: "it is not correctly percent-encoded"}}
	}
	if raw == "" {
		// okms-rest.md 2.2: an empty path breaks the 1..255 rule, an
		// invalid-character error; SecretFieldRequired is for a create
		// body without a path.
		return rt, secret.Violations{{Field: secret.FieldPath, Rule: secret.RuleInvalidCharacter, Reason: "it must not be empty"}}
	}
	p, err := secret.ParsePath(raw)
	if err != nil {
		return rt, err
	}
	rt.Path = p
	return rt, nil
}

// CanonicalPath reports whether a URL path has no empty, "." or ".."
// segment. http.ServeMux redirects such paths; surfaces A and B answer
// them with [NonCanonicalPathError] instead.
func CanonicalPath(p string) bool {
	if strings.Contains(p, "//") {
		return false
	}
	for seg := range strings.SplitSeq(p, "/") {
		if seg == "." || seg == ".." {
			return false
		}
	}
	return true
}

// NonCanonicalPathError returns the error for a request whose URL path is
// not canonical: a bad secret path (SecretPathInvalidCharacter), as
// secret.Violations.
func NonCanonicalPathError() error {
	return secret.Violations{{Field: secret.FieldPath, Rule: secret.RuleInvalidCharacter, Reason: "it must not contain //, . or .. segments"}}
}
