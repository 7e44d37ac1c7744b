package sys

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Prefix is the path prefix of every route of this surface; the server
// sends it every request under it.
const Prefix = "/sys/"

// HeaderBackupPassphrase carries the passphrase of a restore, whose body
// is the backup file itself.
const HeaderBackupPassphrase = "X-Coffer-Backup-Passphrase"

// MaxBackupSize is the largest backup file a restore accepts: the body
// limit of POST /sys/restore.
const MaxBackupSize = 1 << 30

// API serves the operator routes. It is safe for concurrent use.
type API struct {
	svc *service.Service
	op  Operator
	log *slog.Logger
	mux *http.ServeMux

	patterns []string // the "METHOD /pattern" routes, for Routes
}

// New returns the operator surface: svc authenticates callers, op does
// the work.
func New(svc *service.Service, op Operator, log *slog.Logger) *API {
	a := &API{svc: svc, op: op, log: log, mux: http.NewServeMux()}
	a.routes()
	return a
}

// route is one row of the routing table.
type route struct {
	pattern string          // "METHOD /path", net/http pattern syntax
	limit   int64           // the largest request body accepted, in bytes
	handler httpapi.Handler // parse, one Operator call, encode
}

// table is the routing table. Bodies the handler ignores are still
// bounded (httpapi.MaxBody, as on every other surface).
func (a *API) table() []route {
	return []route{
		// keys.go: reliability-security.md 2.
		{"POST /sys/master-key/rotate", httpapi.MaxBody, a.rotateRootKey},
		{"POST /sys/domains/{okmsId}/key/rotate", httpapi.MaxBody, a.rotateDomainKey},
		// backup.go: reliability-security.md T19. A restore's body is the
		// backup file.
		{"POST /sys/backup", httpapi.MaxBody, a.backup},
		{"POST /sys/restore", MaxBackupSize, a.restore},
		// seal.go: rekey and seal migration (issue 19).
		{"POST /sys/seal/change", httpapi.MaxBody, a.changeSeal},
		{"POST /sys/seal/commit", httpapi.MaxBody, a.commitSeal},
	}
}

// routes mounts the table. Each path also has a method-less pattern
// answering 405, and a catch-all answers 404, all in this surface's
// envelope.
func (a *API) routes() {
	allowed := map[string]bool{}
	for _, rt := range a.table() {
		a.patterns = append(a.patterns, rt.pattern)
		a.mux.Handle(rt.pattern, a.wrap(limited(rt.limit, rt.handler)))
		if _, path, _ := strings.Cut(rt.pattern, " "); !allowed[path] {
			allowed[path] = true
			a.mux.Handle(path, a.wrap(notAllowed))
		}
	}
	a.mux.Handle("/", a.wrap(notFound))
}

func (a *API) wrap(h httpapi.Handler) http.Handler { return httpapi.Wrap(a.writeError, a.log, h) }

// limited applies a route's body limit: a body declared larger is refused
// before anything runs, and reading past the limit fails.
func limited(limit int64, h httpapi.Handler) httpapi.Handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if r.ContentLength > limit {
			return httpapi.ErrBodyTooLarge
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		return h(w, r)
	}
}

// Routes returns the "METHOD /pattern" of every route a serves, in the
// order of the table (net/http pattern syntax). The method-less patterns
// answering 405 and the 404 catch-all are not routes and are left out.
// The OpenAPI document of internal/httpapi/docs is checked against this
// list.
func (a *API) Routes() []string { return append([]string(nil), a.patterns...) }

func notAllowed(http.ResponseWriter, *http.Request) error { return errMethodNotAllowed }

func notFound(_ http.ResponseWriter, r *http.Request) error {
	return routeNotFound(r.Method, httpapi.EscapedPath(r))
}

// ServeHTTP serves a request under /sys/. A path that is not canonical
// (a "." or ".." segment, an empty segment) never reaches the mux, which
// would answer it with a redirect: no route has such a path, so it is a
// 404.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.svc.Sealed() {
		a.wrap(httpapi.Sealed).ServeHTTP(w, r)
		return
	}
	if !httpapi.CanonicalPath(r.URL.Path) {
		a.wrap(notFound).ServeHTTP(w, r)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// caller authenticates the request and describes it for the service.
// The operator routes accept bearer tokens only (X-Vault-Token or
// Authorization: Bearer): they belong to no OKMS domain, so no access
// certificate is valid for them.
func (a *API) caller(r *http.Request) (service.Caller, error) {
	return httpapi.TokenCaller(r, a.svc, "sys")
}
