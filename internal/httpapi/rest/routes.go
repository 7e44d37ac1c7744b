package rest

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Prefix is the path prefix every surface-B route starts with, after
// /api/{okmsId}.
const Prefix = "/v2/"

// API serves surface B.
type API struct {
	svc *service.Service
	log *slog.Logger
	mux *http.ServeMux
	ew  httpapi.ErrorWriter

	patterns []string // the "METHOD /pattern" routes, for Routes
}

// New returns surface B over svc.
func New(svc *service.Service, log *slog.Logger) *API {
	a := &API{svc: svc, log: log, mux: http.NewServeMux(), ew: writeError(log)}
	a.routes()
	return a
}

// routes is the routing table of surface B (okms-rest.md section 4). Each
// path also has a method-less pattern answering 405 in the OKMS envelope,
// and a catch-all answers 404 RouteNotFound, so that no response is plain
// text.
func (a *API) routes() {
	const base = "/api/{okmsId}/v2"
	a.handle("GET "+base+"/secret", a.listSecrets)
	a.handle("POST "+base+"/secret", a.createSecret)
	a.handle(base+"/secret", httpapi.NotAllowed)
	// {rest...} holds the secret path, a version collection or one version:
	// split from the escaped URL by splitSecretRoute (okms-rest.md 1.2).
	a.handle("GET "+base+"/secret/{rest...}", a.getOnSecret)
	a.handle("PUT "+base+"/secret/{rest...}", a.putOnSecret)
	a.handle("POST "+base+"/secret/{rest...}", a.postOnSecret)
	a.handle("DELETE "+base+"/secret/{rest...}", a.deleteOnSecret)
	a.handle(base+"/secret/{rest...}", httpapi.NotAllowed)
	a.handle("GET "+base+"/secretConfig", a.getConfig)
	a.handle("PUT "+base+"/secretConfig", a.updateConfig)
	a.handle(base+"/secretConfig", httpapi.NotAllowed)
	a.keyRoutes()
	a.handle("/api/{okmsId}/", httpapi.NotFound)
	// Without these two, ServeMux would answer /api/{okmsId} with a
	// text/html redirect and /api/ with a text/plain 404 (okms-rest.md
	// 1.1: every response body is JSON).
	a.handle("/api/{okmsId}", httpapi.NotFound)
	a.handle("/", httpapi.NotFound)
}

func (a *API) handle(pattern string, h httpapi.Handler) {
	if strings.Contains(pattern, " ") {
		a.patterns = append(a.patterns, pattern)
	}
	a.mux.Handle(pattern, httpapi.Wrap(a.ew, a.log, h))
}

// Routes returns the "METHOD /pattern" of every route a serves, in the
// order they are registered (net/http pattern syntax: a secret route ends
// in {rest...}). The method-less patterns answering 405 and the 404
// catch-alls are not routes and are left out. The OpenAPI document of
// internal/httpapi/docs is checked against this list.
func (a *API) Routes() []string { return append([]string(nil), a.patterns...) }

// ServeHTTP serves a request under /api/{okmsId}/v2/. Paths that are not
// canonical (a "." or ".." segment, an empty segment) never reach the mux,
// which would redirect them: they are bad secret paths, answered with 400.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.svc.Sealed() {
		httpapi.Wrap(a.ew, a.log, httpapi.Sealed).ServeHTTP(w, r)
		return
	}
	if !httpapi.CanonicalPath(r.URL.Path) {
		httpapi.Wrap(a.ew, a.log, badPath).ServeHTTP(w, r)
		return
	}
	a.mux.ServeHTTP(w, r)
}
