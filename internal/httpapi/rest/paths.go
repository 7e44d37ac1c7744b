package rest

import (
	"net/http"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/secret"
)

// routeKind says what the part of the URL after /v2/secret/ addresses.
type routeKind = httpapi.RouteKind

const (
	routeSecret   = httpapi.RouteSecret   // the secret itself
	routeVersions = httpapi.RouteVersions // its version collection
	routeVersion  = httpapi.RouteVersion  // one version
)

// secretRoute is the parsed target of a /v2/secret/{rest...} request.
type secretRoute struct {
	kind    routeKind
	path    secret.Path
	version uint32
}

// splitSecretRoute splits R, the escaped URL path after "/secret/", as
// okms-rest.md 1.2 prescribes, then decodes and validates the path once.
// The rules are shared with surface A: httpapi.SplitSecretRoute.
func splitSecretRoute(r string) (secretRoute, error) {
	rt, err := httpapi.SplitSecretRoute(r)
	return secretRoute{kind: rt.Kind, path: rt.Path, version: rt.Version}, err
}

// secretRouteOf returns the parsed secret route of a request.
func secretRouteOf(r *http.Request) (secretRoute, error) {
	ep := httpapi.EscapedPath(r)
	// ep is /api/{okmsId}/v2/secret/R; the okmsId was checked to be a UUID.
	i := strings.Index(ep, "/v2/secret/")
	if i < 0 {
		return secretRoute{}, httpapi.ErrRouteNotFound
	}
	return splitSecretRoute(ep[i+len("/v2/secret/"):])
}

// badPath answers requests whose URL path is not canonical.
func badPath(http.ResponseWriter, *http.Request) error {
	return httpapi.NonCanonicalPathError()
}
