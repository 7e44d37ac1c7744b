package kv2

import (
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/vaultwire"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// API serves surface C. It is safe for concurrent use.
type API struct {
	svc     *service.Service
	log     *slog.Logger
	handler http.Handler
}

// New returns surface C over svc.
func New(svc *service.Service, log *slog.Logger) *API {
	a := &API{svc: svc, log: log}
	a.handler = httpapi.Wrap(a.writeError, log, a.serve)
	return a
}

// HasDomainPrefix reports whether the URL path p lies under
// /api/{okmsId}/v1/, the root of surface C for a named domain
// (vault-kv2.md section 1). The server routes those paths, and every path
// under /v1/, to [API.ServeHTTP].
func HasDomainPrefix(p string) bool {
	rest, ok := strings.CutPrefix(p, "/api/")
	if !ok {
		return false
	}
	i := strings.IndexByte(rest, '/')
	return i > 0 && strings.HasPrefix(rest[i:], "/v1/")
}

// ServeHTTP serves a request under /v1/ (the default domain) or
// /api/{okmsId}/v1/ (that domain). The routing is Vault's rather than
// ServeMux's: the method becomes an operation, the path is matched against
// the mount's table, and every answer, "no route" included, is Vault's.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// op is a Vault logical operation (vaultwire.Op).
type op = vaultwire.Op

const (
	opRead   = vaultwire.OpRead
	opList   = vaultwire.OpList
	opWrite  = vaultwire.OpWrite
	opPatch  = vaultwire.OpPatch
	opDelete = vaultwire.OpDelete
	opHead   = vaultwire.OpHead
)

// subcommand names op as the vault CLI does, for the catch-all warning
// (vault-kv2.md 4.9).
func subcommand(o op) string {
	switch o {
	case opList:
		return "list"
	case opWrite:
		return "put"
	case opPatch:
		return "patch"
	case opDelete:
		return "delete"
	}
	return "get"
}

// call is one parsed surface-C request.
type call struct {
	op        op
	path      string // the logical path after /v1/: "secret/data/app/db"
	key       string // what follows the matched route's prefix: "app/db"
	domain    string
	domainErr error // why the URL names no usable domain, if it does not
	query     url.Values
	params    params
	ignored   []string // unknown parameters, sorted (vault-kv2.md 2.2)
	mount     string   // the envelope's mount_type: "kv", "system", "token"
	caller    service.Caller
	token     string // the credential as sent, for the token calls
}

// handler serves one operation of one route.
type handler func(a *API, w http.ResponseWriter, r *http.Request, c *call) error

// kvRoute is one path family of the mount, as Vault's KV plugin declares
// them (vault-kv2.md 4.10): the parameters it knows (others are ignored with
// a warning, 2.2) and a handler per operation; a matched route without the
// operation answers 405.
type kvRoute struct {
	prefix string
	match  func(rest string) bool
	fields []string
	ops    map[op]handler
}

// kvRoutes is the routing table of the mount, in matching order. Anything
// else inside the mount is the catch-all of vault-kv2.md 4.9.
var kvRoutes = []kvRoute{
	{prefix: "config", match: exact("config"),
		fields: []string{"cas_required", "delete_version_after", "max_versions"},
		ops:    map[op]handler{opRead: (*API).readConfig, opWrite: (*API).writeConfig}},
	// Vault's data pattern is `data/(?P<path>.*?[^/]$)`: a key that is empty
	// or ends in "/" falls through to the catch-all.
	{prefix: "data/", match: dataKey,
		fields: []string{"data", "options", "version"},
		ops: map[op]handler{opRead: (*API).readData, opWrite: (*API).writeData,
			opPatch: (*API).patchData, opDelete: (*API).deleteData}},
	{prefix: "metadata/", match: under("metadata/"),
		fields: []string{"cas_required", "custom_metadata", "delete_version_after", "exclude_deleted", "max_versions"},
		ops: map[op]handler{opRead: (*API).readMetadata, opList: (*API).listMetadata, opWrite: (*API).writeMetadata,
			opPatch: (*API).patchMetadata, opDelete: (*API).deleteMetadata}},
	{prefix: "delete/", match: under("delete/"), fields: []string{"versions"},
		ops: map[op]handler{opWrite: (*API).deleteVersions}},
	{prefix: "undelete/", match: under("undelete/"), fields: []string{"versions"},
		ops: map[op]handler{opWrite: (*API).undeleteVersions}},
	{prefix: "destroy/", match: under("destroy/"), fields: []string{"versions"},
		ops: map[op]handler{opWrite: (*API).destroyVersions}},
	{prefix: "subkeys/", match: under("subkeys/"), fields: []string{"depth", "version"},
		ops: map[op]handler{opRead: (*API).readSubkeys}},
}

func exact(s string) func(string) bool { return func(rest string) bool { return rest == s } }
func under(pfx string) func(string) bool {
	return func(rest string) bool { return strings.HasPrefix(rest, pfx) }
}

func dataKey(rest string) bool {
	key, ok := strings.CutPrefix(rest, "data/")
	return ok && key != "" && !strings.HasSuffix(key, "/")
}

// shimRoute is one of the calls around KV that clients make first
// (vault-kv2.md section 6).
type shimRoute struct {
	path   string
	prefix bool // the path may continue with "/<key>"
	auth   bool // a valid token is required before the handler runs
	mount  string
	ops    map[op]handler
}

var shimRoutes = []shimRoute{
	{path: "sys/health", mount: "system", ops: map[op]handler{opRead: (*API).health, opHead: (*API).health}},
	{path: "sys/seal-status", mount: "system", ops: map[op]handler{opRead: (*API).sealStatus}},
	{path: "sys/leader", mount: "system", ops: map[op]handler{opRead: (*API).leader}},
	{path: "sys/init", mount: "system", ops: map[op]handler{opRead: (*API).initStatus, opWrite: (*API).initialize}},
	{path: "sys/unseal", mount: "system", ops: map[op]handler{opWrite: (*API).unseal}},
	{path: "sys/seal", auth: true, mount: "system", ops: map[op]handler{opWrite: (*API).seal}},
	// The preflight authenticates itself: its failures are a 403 with its
	// own message (vault-kv2.md 6.1).
	{path: "sys/internal/ui/mounts", prefix: true, mount: "system", ops: map[op]handler{opRead: (*API).preflight}},
	{path: "auth/token/lookup-self", auth: true, mount: "token",
		ops: map[op]handler{opRead: (*API).lookupSelf, opWrite: (*API).lookupSelf}},
	{path: "auth/token/create", auth: true, mount: "token", ops: map[op]handler{opWrite: (*API).createToken}},
	{path: "auth/token/revoke-self", auth: true, mount: "token", ops: map[op]handler{opWrite: (*API).revokeSelf}},
	{path: "auth/token/renew-self", auth: true, mount: "token", ops: map[op]handler{opWrite: (*API).renewSelf}},
}

// serve parses the request, then dispatches it to the mount, to a shim or
// to "no route".
func (a *API) serve(w http.ResponseWriter, r *http.Request) error {
	if a.svc.Sealed() && !sealedOK(logicalPath(r.URL.Path)) {
		return service.ErrSealed
	}
	c, err := a.parse(r)
	if err != nil {
		return err
	}
	if c.path == "secret" || strings.HasPrefix(c.path, "secret/") {
		return a.serveKV(w, r, c)
	}
	for _, sr := range shimRoutes {
		if key, ok := sr.matches(c.path); ok {
			c.key = key
			route := sr.path
			if key != "" {
				route += "/{key}"
			}
			noteRoute(r, route)
			return a.serveShim(w, r, c, sr)
		}
	}
	// As in Vault, the token is checked before the route: an
	// unauthenticated caller learns nothing about which routes exist.
	if err := a.authenticate(r, c); err != nil {
		return err
	}
	return routeError(c.path)
}

// noteRoute records the route a request matched, for the access log and
// the metrics: route is the logical path with its variable part named
// ("secret/data/{path}"), under /v1/ or /api/{okmsId}/v1/.
func noteRoute(r *http.Request, route string) {
	prefix := "/v1/"
	if !strings.HasPrefix(r.URL.Path, prefix) {
		prefix = "/api/{okmsId}/v1/"
	}
	httpapi.NoteRoute(r.Context(), prefix+route)
}

func (sr shimRoute) matches(path string) (string, bool) {
	if path == sr.path {
		return "", true
	}
	if key, ok := strings.CutPrefix(path, sr.path+"/"); ok && sr.prefix {
		return key, true
	}
	return "", false
}

// serveKV serves the mount: authentication, the domain, the routing table
// with its catch-all and 405s, then the parameters and the handler.
func (a *API) serveKV(w http.ResponseWriter, r *http.Request, c *call) error {
	c.mount = "kv"
	if err := a.authenticate(r, c); err != nil {
		return err
	}
	if c.domainErr != nil {
		return c.domainErr
	}
	rest := strings.TrimPrefix(strings.TrimPrefix(c.path, "secret"), "/")
	if c.op == opRead && rest == "metadata" {
		// vault-kv2.md 4.7 and 8.10: the OKMS swagger defines GET
		// /v1/secret/metadata as a list of the mount root.
		c.op, rest = opList, "metadata/"
	}
	rt, ok := matchKV(rest)
	if !ok {
		noteRoute(r, "secret/{path}")
		return a.catchAll(w, r, c, rest)
	}
	if rt.prefix == "config" {
		noteRoute(r, "secret/config")
	} else {
		noteRoute(r, "secret/"+rt.prefix+"{path}")
	}
	h, ok := rt.ops[c.op]
	if !ok {
		return errUnsupported
	}
	c.key = strings.TrimPrefix(rest, rt.prefix)
	if err := a.readParams(w, r, c, rt.fields); err != nil {
		return err
	}
	return h(a, w, r, c)
}

// matchKV returns the first route of the table that matches rest, the
// path inside the mount. As in Vault, a matched route answers 405 to an
// operation it lacks rather than falling through to the next one.
func matchKV(rest string) (kvRoute, bool) {
	for _, rt := range kvRoutes {
		if rt.match(rest) {
			return rt, true
		}
	}
	return kvRoute{}, false
}

// serveShim serves a sys/ or auth/token/ route.
func (a *API) serveShim(w http.ResponseWriter, r *http.Request, c *call, sr shimRoute) error {
	c.mount = sr.mount
	if sr.auth {
		if err := a.authenticate(r, c); err != nil {
			return err
		}
	}
	h, ok := sr.ops[c.op]
	if !ok {
		return errUnsupported
	}
	if err := a.readParams(w, r, c, nil); err != nil {
		return err
	}
	return h(a, w, r, c)
}

// parse turns the method, the URL and the Vault headers into a call
// (vault-kv2.md sections 1 and 2.1). The body is read later, once the
// route is known and the caller authenticated.
func (a *API) parse(r *http.Request) (*call, error) {
	c := &call{query: r.URL.Query()}
	path, ok := a.root(r.URL.Path, c)
	if !ok {
		return nil, routeError(strings.TrimPrefix(r.URL.Path, "/"))
	}
	var err error
	if c.op, err = operation(r, c.query); err != nil {
		return nil, err
	}
	if c.op == opList && !strings.HasSuffix(path, "/") {
		path += "/"
	}
	c.path = path
	switch {
	case c.op == opHead && path != "sys/health":
		return nil, errMethod
	case (c.op == opWrite || c.op == opPatch) && strings.HasSuffix(path, "/"):
		return nil, errWriteSlash
	}
	return c, vaultHeaders(r)
}

// root splits the URL path into the domain it addresses and the logical
// path after /v1/ (vault-kv2.md section 1). The path is the decoded one:
// %2F is a separator on this surface (2.2).
func (a *API) root(p string, c *call) (string, bool) {
	if rest, ok := strings.CutPrefix(p, "/v1/"); ok {
		if c.domain = a.svc.DefaultDomain(); c.domain == "" {
			c.domainErr = errNoDefaultDomain
		}
		return rest, true
	}
	rest, ok := strings.CutPrefix(p, "/api/")
	if !ok {
		return "", false
	}
	id, rest, _ := strings.Cut(rest, "/")
	if rest, ok = strings.CutPrefix(rest, "v1/"); !ok {
		return "", false
	}
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		c.domainErr = service.ErrDomainNotFound
	}
	c.domain = strings.ToLower(id)
	return rest, true
}

// operation maps the method to Vault's operation (vault-kv2.md 2.1), and
// checks a PATCH's media type.
func operation(r *http.Request, q url.Values) (op, error) {
	o, err := vaultwire.Operation(r, q)
	if err == nil && o == opPatch {
		err = mergePatchType(r.Header.Get("Content-Type"))
	}
	return o, err
}

// mergePatchType checks the media type of a PATCH (vault-kv2.md 2.1):
// Vault's merge-patch type, or application/json, which the OKMS swagger
// also accepts and OVHcloud's okms CLI sends.
func mergePatchType(ct string) error {
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return mediaTypeError(err.Error())
	}
	if mt != "application/merge-patch+json" && mt != "application/json" {
		return unsupportedMediaType(mt)
	}
	return nil
}

// vaultHeaders refuses a namespace and response wrapping (vault-kv2.md
// section 1).
func vaultHeaders(r *http.Request) error { return vaultwire.CheckHeaders(r) }

// authenticate checks the request's token (X-Vault-Token, else
// Authorization: Bearer) and records the caller on c.
func (a *API) authenticate(r *http.Request, c *call) error {
	tok := httpapi.Token(r)
	if tok == "" && (r.TLS == nil || len(r.TLS.PeerCertificates) == 0) {
		return errNoToken
	}
	p, err := httpapi.Authenticate(r, a.svc, c.domain)
	if err != nil {
		return err
	}
	c.token = tok
	c.caller = service.Caller{Principal: p, Dialect: service.KMS, Surface: "C",
		RequestID: httpapi.RequestID(r.Context()), RemoteAddr: r.RemoteAddr}
	return nil
}

// readParams reads the parameters of c: the JSON (or form) body of a write
// or patch, the query string otherwise (vault-kv2.md 2.2). With known set,
// the others are noted for the warning of 2.2.
func (a *API) readParams(w http.ResponseWriter, r *http.Request, c *call, known []string) error {
	if c.op == opWrite || c.op == opPatch {
		b, err := httpapi.ReadBody(w, r)
		if err != nil {
			return err
		}
		if c.params, err = bodyParams(b, r.Header.Get("Content-Type"), c.op == opPatch); err != nil {
			return err
		}
	} else {
		c.params = queryParams(c.query)
	}
	if known != nil {
		c.ignored = c.params.unknown(known)
	}
	return nil
}
