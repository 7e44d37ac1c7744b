package central

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// headerQueryID is the OVH API's request id header, set on every response
// of surface A to the request id (okms-rest.md 1.1, 8.2).
const headerQueryID = "X-Ovh-QueryID"

// API serves surface A.
type API struct {
	svc       *service.Service
	log       *slog.Logger
	publicURL string
	publicCA  string // PEM of the CA of coffer's TLS certificate, "" if publicly trusted or no TLS
	mux       *http.ServeMux

	patterns []string // the "METHOD /pattern" routes, for Routes
}

// New returns surface A over svc; publicURL is the base URL clients reach
// coffer at, used for the endpoints of each domain.
//
// publicCA is the PEM of the CA clients must trust for coffer's TLS
// certificate (the installation CA), "" when none is needed.
func New(svc *service.Service, log *slog.Logger, publicURL, publicCA string) *API {
	a := &API{svc: svc, log: log, publicURL: strings.TrimRight(publicURL, "/"), publicCA: publicCA, mux: http.NewServeMux()}
	a.routes()
	return a
}

// routes is the routing table of surface A (okms-rest.md 5.2, 5.3). Each
// path also has a method-less pattern answering 405, and a catch-all
// answers 404 RouteNotFound, all in the OVH envelope.
func (a *API) routes() {
	const base = "/v2/okms/resource/{okmsId}"
	a.handle("GET /v2/okms/resource", a.listDomains)
	a.handle("POST /v2/okms/resource", a.createDomain)
	a.handle("/v2/okms/resource", httpapi.NotAllowed)
	a.handle("GET "+base, a.getDomain)
	a.handle("PUT "+base, a.renameDomain)
	a.handle("DELETE "+base, a.deleteDomain)
	a.handle(base, httpapi.NotAllowed)
	a.handle("GET /v2/okms/reference/regions", a.listRegions)
	a.handle("/v2/okms/reference/regions", httpapi.NotAllowed)
	a.handle("GET /v2/okms/reference/secretConfig", a.regionSecretConfig)
	a.handle("/v2/okms/reference/secretConfig", httpapi.NotAllowed)
	a.handle("GET "+base+"/secret", a.listSecrets)
	a.handle("POST "+base+"/secret", a.createSecret)
	a.handle(base+"/secret", httpapi.NotAllowed)
	// {rest...} holds the secret path, a version collection or one version:
	// split from the escaped URL by secretRouteOf (okms-rest.md 1.2).
	a.handle("GET "+base+"/secret/{rest...}", a.getOnSecret)
	a.handle("PUT "+base+"/secret/{rest...}", a.putOnSecret)
	a.handle("POST "+base+"/secret/{rest...}", a.postOnSecret)
	a.handle("DELETE "+base+"/secret/{rest...}", a.deleteOnSecret)
	a.handle(base+"/secret/{rest...}", httpapi.NotAllowed)
	a.handle("GET "+base+"/secretConfig", a.getConfig)
	a.handle("PUT "+base+"/secretConfig", a.updateConfig)
	a.handle(base+"/secretConfig", httpapi.NotAllowed)
	a.handle("GET "+base+"/credential", a.listCredentials)
	a.handle("POST "+base+"/credential", a.createCredential)
	a.handle(base+"/credential", httpapi.NotAllowed)
	a.handle("GET "+base+"/credential/{credentialId}", a.getCredential)
	a.handle("DELETE "+base+"/credential/{credentialId}", a.revokeCredential)
	a.handle(base+"/credential/{credentialId}", httpapi.NotAllowed)
	a.keyRoutes()
	a.handle("/", httpapi.NotFound)
}

func (a *API) handle(pattern string, h httpapi.Handler) {
	if strings.Contains(pattern, " ") {
		a.patterns = append(a.patterns, pattern)
	}
	a.mux.Handle(pattern, httpapi.Wrap(a.writeError, a.log, h))
}

// Routes returns the "METHOD /pattern" of every route a serves, in the
// order they are registered (net/http pattern syntax: a secret route ends
// in {rest...}). The method-less patterns answering 405 and the 404
// catch-alls are not routes and are left out. The OpenAPI document of
// internal/httpapi/docs is checked against this list.
func (a *API) Routes() []string { return append([]string(nil), a.patterns...) }

// ServeHTTP serves a request under /v2/. Every response carries
// X-Ovh-QueryID. Paths that are not canonical (a "." or ".." segment, an
// empty segment) never reach the mux, which would redirect them: they are
// bad secret paths, answered with 400.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(headerQueryID, httpapi.RequestID(r.Context()))
	if a.svc.Sealed() {
		httpapi.Wrap(a.writeError, a.log, httpapi.Sealed).ServeHTTP(w, r)
		return
	}
	if !httpapi.CanonicalPath(r.URL.Path) {
		httpapi.Wrap(a.writeError, a.log, badPath).ServeHTTP(w, r)
		return
	}
	a.mux.ServeHTTP(w, r)
}

func badPath(http.ResponseWriter, *http.Request) error { return httpapi.NonCanonicalPathError() }

// caller authenticates the request and describes it for the service.
// Surface A accepts bearer tokens only (okms-rest.md 1, 5.1): neither
// X-Vault-Token nor OVH application-key signatures.
func (a *API) caller(r *http.Request) (service.Caller, error) {
	p, err := httpapi.AuthenticateBearer(r, a.svc)
	if err != nil {
		return service.Caller{}, err
	}
	return service.Caller{Principal: p, Dialect: service.Central, Surface: "A",
		RequestID: httpapi.RequestID(r.Context()), RemoteAddr: r.RemoteAddr}, nil
}

// begin authenticates the caller and checks the {okmsId} of the request.
func (a *API) begin(r *http.Request) (string, service.Caller, error) {
	// Authenticate first so that an unauthenticated caller learns nothing,
	// not even which ids are well formed.
	c, err := a.caller(r)
	if err != nil {
		return "", c, err
	}
	domain, err := httpapi.DomainID(r)
	return domain, c, err
}

// secretRouteOf returns the parsed secret route of a request on
// /v2/okms/resource/{okmsId}/secret/{rest...}: the ESCAPED path after
// "/secret/" is split as okms-rest.md 1.2 prescribes, then decoded.
func secretRouteOf(r *http.Request) (httpapi.SecretRoute, error) {
	// "", "v2", "okms", "resource", okmsId, "secret", R
	parts := strings.SplitN(r.URL.EscapedPath(), "/", 7)
	if len(parts) != 7 || parts[5] != "secret" {
		return httpapi.SecretRoute{}, httpapi.ErrRouteNotFound
	}
	return httpapi.SplitSecretRoute(parts[6])
}
