// Package transit is the Vault Transit surface (issue 16): HashiCorp
// Vault's Transit secrets engine, the parts clients use, over the domain's
// service keys, at /v1/transit/... (the default domain) and
// /api/{okmsId}/v1/transit/.... It is an adapter: it parses Vault's
// parameters, calls one service use case (service/transit.go) and writes
// Vault's envelope (internal/httpapi/vaultwire, shared with surface C).
// Authentication, the error envelope and the 403/404/405 rules are
// surface C's (vault-kv2.md sections 1 and 2).
package transit

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/google/uuid"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/vaultwire"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// API serves the Transit surface. It is safe for concurrent use.
type API struct {
	svc     *service.Service
	log     *slog.Logger
	handler http.Handler
}

// New returns the Transit surface over svc.
func New(svc *service.Service, log *slog.Logger) *API {
	a := &API{svc: svc, log: log}
	a.handler = httpapi.Wrap(a.writeError, log, a.serve)
	return a
}

// ServeHTTP serves a request under /v1/transit or /api/{okmsId}/v1/transit.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

// Matches reports whether the URL path p is in the Transit mount of the
// default domain or of a named one: the server routes those paths here.
func Matches(p string) bool {
	if rest, ok := strings.CutPrefix(p, "/api/"); ok {
		i := strings.IndexByte(rest, '/')
		if i <= 0 {
			return false
		}
		p = rest[i:]
	}
	rest, ok := strings.CutPrefix(p, "/v1/")
	return ok && vaultwire.MountOf(rest) == vaultwire.MountTransit
}

// call is one parsed request.
type call struct {
	op        vaultwire.Op
	path      string // inside the mount: "encrypt/my-key"
	domain    string
	domainErr error
	query     url.Values
	params    params
	caller    service.Caller
	vars      []string // the variable segments of the route
	ignored   []string // unknown body parameters, sorted
}

type handler func(a *API, w http.ResponseWriter, r *http.Request, c *call) error

// route is one path family of the mount, as Vault's Transit backend
// declares them: a pattern of literal and variable ("*") segments, an
// optional last segment ("?"), and a handler per operation. A matched
// route without the operation answers 405.
type route struct {
	pattern string // for the access log and the route table
	segs    []string
	ops     map[vaultwire.Op]handler
	// fields are the body parameters of its writes; others are ignored
	// with Vault's warning.
	fields []string
}

func r(pattern string, ops map[vaultwire.Op]handler, fields ...string) route {
	return route{pattern: pattern, segs: strings.Split(pattern, "/"), ops: ops, fields: fields}
}

// Parameters shared by the batch routes.
var batchFields = []string{"batch_input", "partial_failure_response_code"}

func with(fields ...[]string) []string {
	var out []string
	for _, f := range fields {
		out = append(out, f...)
	}
	return out
}

type ops = map[vaultwire.Op]handler

var (
	write = vaultwire.OpWrite
	read  = vaultwire.OpRead
	list  = vaultwire.OpList
	del   = vaultwire.OpDelete
)

// routes is the routing table, in matching order. {name} is a key name,
// {hash} a hash algorithm, {type} plaintext or wrapped, {bytes} a count.
var routes = []route{
	r("keys", ops{list: (*API).listKeys}),
	r("keys/{name}", ops{read: (*API).readKey, write: (*API).createKey, del: (*API).deleteKey},
		"type", "exportable", "derived", "allow_plaintext_backup", "convergent_encryption", "auto_rotate_period", "context", "key_size"),
	r("keys/{name}/config", ops{write: (*API).configKey},
		"min_decryption_version", "min_encryption_version", "deletion_allowed", "exportable", "allow_plaintext_backup", "auto_rotate_period"),
	r("keys/{name}/rotate", ops{write: (*API).rotateKey}),
	r("keys/{name}/trim", ops{write: (*API).trimKey}, "min_available_version"),
	r("encrypt/{name}", ops{write: (*API).encrypt},
		with([]string{"plaintext", "context", "associated_data", "key_version", "type"}, batchFields)...),
	r("decrypt/{name}", ops{write: (*API).decrypt}, with([]string{"ciphertext", "context", "associated_data"}, batchFields)...),
	r("rewrap/{name}", ops{write: (*API).rewrap},
		with([]string{"ciphertext", "context", "associated_data", "key_version"}, batchFields)...),
	r("datakey/{type}/{name}", ops{write: (*API).datakey}, "bits", "context", "associated_data", "key_version"),
	r("sign/{name}/{hash?}", ops{write: (*API).sign}, with([]string{"input", "key_version", "hash_algorithm", "algorithm",
		"prehashed", "signature_algorithm", "marshaling_algorithm"}, batchFields)...),
	// hvac sends the key's name in the body of a verify.
	r("verify/{name}/{hash?}", ops{write: (*API).verify}, with([]string{"input", "signature", "hmac", "hash_algorithm",
		"algorithm", "prehashed", "signature_algorithm", "marshaling_algorithm", "name"}, batchFields)...),
	r("hmac/{name}/{hash?}", ops{write: (*API).hmac}, with([]string{"input", "key_version", "algorithm"}, batchFields)...),
	r("random/{source?}/{bytes?}", ops{write: (*API).random}, "bytes", "format", "source"),
	r("hash/{hash?}", ops{write: (*API).hash}, "input", "algorithm", "format"),
}

// Routes lists the routes as method and path under
// /api/{okmsId}/v1/transit/ (the same under /v1/transit/), for the OpenAPI
// check (internal/httpapi/docs); a list is GET, which OpenAPI documents
// with list=true.
func Routes() []string {
	var out []string
	for _, rt := range routes {
		for _, o := range []vaultwire.Op{read, list, write, del} {
			if _, ok := rt.ops[o]; !ok {
				continue
			}
			for _, p := range rt.paths() {
				for _, m := range methodsOf(o) {
					out = append(out, m+" /api/{okmsId}/v1/transit/"+p)
				}
			}
		}
	}
	return out
}

// paths expands the optional segments of a pattern, which nest: "a/{x?}/{y?}"
// is a, a/{x} and a/{x}/{y}.
func (rt route) paths() []string {
	var out []string
	full, optional := "", false
	for _, s := range rt.segs {
		opt := strings.HasSuffix(s, "?}")
		s = strings.Replace(s, "?}", "}", 1)
		if opt && !optional {
			out, optional = append(out, full), true
		}
		full += "/" + s
		if opt {
			out = append(out, full)
		}
	}
	if !optional {
		out = append(out, full)
	}
	for i := range out {
		out[i] = strings.TrimPrefix(out[i], "/")
	}
	return out
}

// methodsOf returns the methods of an operation: a write is POST or PUT.
func methodsOf(o vaultwire.Op) []string {
	switch o {
	case write:
		return []string{"POST", "PUT"}
	case del:
		return []string{"DELETE"}
	}
	return []string{"GET"}
}

// match returns the variables of the path if the route matches it.
func (rt route) match(path string) ([]string, bool) {
	parts := strings.Split(path, "/")
	var vars []string
	i := 0
	for _, s := range rt.segs {
		switch {
		case strings.HasSuffix(s, "?}"):
			if i < len(parts) {
				if parts[i] == "" {
					return nil, false
				}
				vars = append(vars, parts[i])
				i++
			} else {
				vars = append(vars, "")
			}
		case strings.HasPrefix(s, "{"):
			if i >= len(parts) || parts[i] == "" {
				return nil, false
			}
			vars = append(vars, parts[i])
			i++
		default:
			if i >= len(parts) || parts[i] != s {
				return nil, false
			}
			i++
		}
	}
	return vars, i == len(parts)
}

// serve parses the request, authenticates it, routes it inside the mount
// and runs the handler.
func (a *API) serve(w http.ResponseWriter, r *http.Request) error {
	if a.svc.Sealed() {
		return service.ErrSealed
	}
	c, err := a.parse(r)
	if err != nil {
		return err
	}
	// As in Vault, the token is checked before the route.
	if err := a.authenticate(r, c); err != nil {
		return err
	}
	if c.domainErr != nil {
		return c.domainErr
	}
	for _, rt := range routes {
		vars, ok := rt.match(c.path)
		if !ok {
			continue
		}
		noteRoute(r, rt.pattern)
		h, ok := rt.ops[c.op]
		if !ok {
			return errUnsupported
		}
		c.vars = vars
		if err := a.readParams(w, r, c, rt.fields); err != nil {
			return err
		}
		return h(a, w, r, c)
	}
	noteRoute(r, "{path}")
	return routeError("transit/" + c.path)
}

func noteRoute(r *http.Request, route string) {
	prefix := "/v1/transit/"
	if !strings.HasPrefix(r.URL.Path, "/v1/") {
		prefix = "/api/{okmsId}/v1/transit/"
	}
	httpapi.NoteRoute(r.Context(), prefix+route)
}

// parse splits the URL into the domain and the path inside the mount and
// maps the method to an operation.
func (a *API) parse(r *http.Request) (*call, error) {
	c := &call{query: r.URL.Query()}
	p := r.URL.Path
	if rest, ok := strings.CutPrefix(p, "/api/"); ok {
		id, rest, _ := strings.Cut(rest, "/")
		if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
			c.domainErr = service.ErrDomainNotFound
		}
		c.domain, p = strings.ToLower(id), "/"+rest
	} else if c.domain = a.svc.DefaultDomain(); c.domain == "" {
		c.domainErr = errNoDefaultDomain
	}
	logical := strings.TrimPrefix(p, "/v1/")
	var err error
	if c.op, err = vaultwire.Operation(r, c.query); err != nil {
		return nil, err
	}
	switch c.op {
	case vaultwire.OpPatch, vaultwire.OpHead:
		return nil, errMethod
	}
	path := strings.TrimPrefix(strings.TrimPrefix(logical, "transit"), "/")
	if c.op == list {
		path = strings.TrimSuffix(path, "/")
	} else if c.op == write && strings.HasSuffix(path, "/") {
		return nil, errWriteSlash
	}
	c.path = path
	return c, vaultwire.CheckHeaders(r)
}

// authenticate checks the request's token (X-Vault-Token, else
// Authorization: Bearer, or a client certificate) and records the caller.
func (a *API) authenticate(r *http.Request, c *call) error {
	if httpapi.Token(r) == "" && (r.TLS == nil || len(r.TLS.PeerCertificates) == 0) {
		return errNoToken
	}
	p, err := httpapi.Authenticate(r, a.svc, c.domain)
	if err != nil {
		return err
	}
	c.caller = service.Caller{Principal: p, Dialect: service.KMS, Surface: "T",
		RequestID: httpapi.RequestID(r.Context()), RemoteAddr: r.RemoteAddr}
	return nil
}

// readParams reads the JSON body of a write, the query string otherwise,
// and notes the body parameters not in known.
func (a *API) readParams(w http.ResponseWriter, r *http.Request, c *call, known []string) error {
	if c.op != write {
		c.params = params{query: c.query}
		return nil
	}
	b, err := httpapi.ReadBody(w, r)
	if err != nil {
		return err
	}
	if c.params, err = bodyParams(b); err != nil {
		return err
	}
	for name := range c.params.body {
		if !slices.Contains(known, name) {
			c.ignored = append(c.ignored, name)
		}
	}
	slices.Sort(c.ignored)
	return nil
}

// warnings returns the handler's warnings, then Vault's about the
// parameters ignored.
func (c *call) warnings(ws []string) []string {
	if len(c.ignored) > 0 {
		ws = append(ws, fmt.Sprintf("Endpoint ignored these unrecognized parameters: %v", c.ignored))
	}
	return ws
}

// reply writes a 200 envelope with data and the warnings.
func (c *call) reply(w http.ResponseWriter, r *http.Request, data any, warnings ...string) error {
	vaultwire.WriteJSON(w, http.StatusOK, vaultwire.NewEnvelope(r, "transit", data, c.warnings(warnings)), true)
	return nil
}
