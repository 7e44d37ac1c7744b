package rest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/secret"
)

// routeKind says what the part of the URL after /v2/secret/ addresses.
type routeKind int

const (
	routeSecret   routeKind = iota // the secret itself
	routeVersions                  // its version collection
	routeVersion                   // one version
)

// secretRoute is the parsed target of a /v2/secret/{rest...} request.
type secretRoute struct {
	kind    routeKind
	path    secret.Path
	version uint32
}

// splitSecretRoute splits R, the escaped URL path after "/secret/", as
// okms-rest.md 1.2 prescribes, then decodes and validates the path once:
//  1. no raw "/": R is the path of the secret;
//  2. R ends with "/version": the version collection of the path before it;
//  3. R matches (.+)/version/([0-9]+): one version;
//  4. otherwise R, raw slashes included, is the path of the secret.
func splitSecretRoute(r string) (secretRoute, error) {
	var (
		rt      = secretRoute{kind: routeSecret}
		escaped = r
	)
	switch {
	case !strings.Contains(r, "/"):
	case strings.HasSuffix(r, "/version") && len(r) > len("/version"):
		rt.kind, escaped = routeVersions, strings.TrimSuffix(r, "/version")
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
				rt.kind, rt.version, escaped = routeVersion, id, r[:i]
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
	rt.path = p
	return rt, nil
}

// secretRouteOf returns the parsed secret route of a request.
func secretRouteOf(r *http.Request) (secretRoute, error) {
	ep := r.URL.EscapedPath()
	// ep is /api/{okmsId}/v2/secret/R; the okmsId was checked to be a UUID.
	i := strings.Index(ep, "/v2/secret/")
	if i < 0 {
		return secretRoute{}, errRouteNotFound
	}
	return splitSecretRoute(ep[i+len("/v2/secret/"):])
}

// badPath answers requests whose URL path is not canonical.
func badPath(http.ResponseWriter, *http.Request) error {
	return secret.Violations{{Field: secret.FieldPath, Rule: secret.RuleInvalidCharacter, Reason: "it must not contain //, . or .. segments"}}
}
