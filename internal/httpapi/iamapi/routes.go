package iamapi

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Path prefixes of the routes this package serves; the server sends it
// every request under either, and under PrefixAuth.
const (
	PrefixIdentity = "/1.0/"
	PrefixPolicy   = "/v2/iam/"
)

// HeaderQueryID is the OVH API's request id header, set on every response
// to the request id (okms-rest.md 8.2).
const HeaderQueryID = "X-Ovh-QueryID"

// API serves the identity-management routes. It is safe for concurrent
// use.
type API struct {
	svc *service.Service
	log *slog.Logger
	mux *http.ServeMux

	patterns []string // the "METHOD /pattern" routes, for Routes
}

// New returns the identity-management API over svc.
func New(svc *service.Service, log *slog.Logger) *API {
	a := &API{svc: svc, log: log, mux: http.NewServeMux()}
	a.routes()
	return a
}

// routes is the routing table (iam.md 7.4). Each path also has a
// method-less pattern answering 405, and a catch-all answers 404
// RouteNotFound, all in the OVH envelope. The kind names the object a
// route manages, for the wording of conflicts and validation errors.
func (a *API) routes() {
	const (
		users  = "/1.0/me/identity/user"
		user   = users + "/{login}"
		tokens = user + "/token"
		token  = tokens + "/{name}"
		groups = "/1.0/me/identity/group"
		group  = groups + "/{name}"
		pols   = "/v2/iam/policy"
		pol    = pols + "/{id}"
		audits = "/v2/iam/audit"
		sas    = "/1.0/me/api/oauth2/client"
		sa     = sas + "/{clientId}"
	)
	a.handle(kindUser, "GET "+users, a.listUsers)
	a.handle(kindUser, "POST "+users, a.createUser)
	a.handle(kindUser, users, httpapi.NotAllowed)
	a.handle(kindUser, "GET "+user, a.getUser)
	a.handle(kindUser, "PUT "+user, a.updateUser)
	a.handle(kindUser, "DELETE "+user, a.deleteUser)
	a.handle(kindUser, user, httpapi.NotAllowed)

	a.handle(kindToken, "GET "+tokens, a.listTokens)
	a.handle(kindToken, "POST "+tokens, a.createToken)
	a.handle(kindToken, tokens, httpapi.NotAllowed)
	a.handle(kindToken, "GET "+token, a.getToken)
	a.handle(kindToken, "DELETE "+token, a.revokeToken)
	a.handle(kindToken, token, httpapi.NotAllowed)

	a.handle(kindGroup, "GET "+groups, a.listGroups)
	a.handle(kindGroup, "POST "+groups, a.createGroup)
	a.handle(kindGroup, groups, httpapi.NotAllowed)
	a.handle(kindGroup, "GET "+group, a.getGroup)
	a.handle(kindGroup, "PUT "+group, a.updateGroup)
	a.handle(kindGroup, "DELETE "+group, a.deleteGroup)
	a.handle(kindGroup, group, httpapi.NotAllowed)

	a.handle(kindPolicy, "GET "+pols, a.listPolicies)
	a.handle(kindPolicy, "POST "+pols, a.createPolicy)
	a.handle(kindPolicy, pols, httpapi.NotAllowed)
	a.handle(kindPolicy, "GET "+pol, a.getPolicy)
	a.handle(kindPolicy, "PUT "+pol, a.updatePolicy)
	a.handle(kindPolicy, "DELETE "+pol, a.deletePolicy)
	a.handle(kindPolicy, pol, httpapi.NotAllowed)

	a.handle(kindAudit, "GET "+audits, a.auditTail)
	a.handle(kindAudit, audits, httpapi.NotAllowed)

	a.handle(kindServiceAccount, "GET "+sas, a.listServiceAccounts)
	a.handle(kindServiceAccount, "POST "+sas, a.createServiceAccount)
	a.handle(kindServiceAccount, sas, httpapi.NotAllowed)
	a.handle(kindServiceAccount, "GET "+sa, a.getServiceAccount)
	a.handle(kindServiceAccount, "DELETE "+sa, a.deleteServiceAccount)
	a.handle(kindServiceAccount, sa, httpapi.NotAllowed)

	// The OAuth2 token endpoint answers in OAuth2's format (oauth2.go).
	a.handleWith(a.writeOAuthError, "POST "+TokenPath, a.issueToken)
	a.handleWith(a.writeOAuthError, TokenPath, httpapi.NotAllowed)

	a.handle(kindNone, "/", httpapi.NotFound)
}

func (a *API) handle(k kind, pattern string, h httpapi.Handler) {
	a.handleWith(a.writeError(k), pattern, h)
}

func (a *API) handleWith(ew httpapi.ErrorWriter, pattern string, h httpapi.Handler) {
	if strings.Contains(pattern, " ") {
		a.patterns = append(a.patterns, pattern)
	}
	a.mux.Handle(pattern, httpapi.Wrap(ew, a.log, h))
}

// Routes returns the "METHOD /pattern" of every route a serves, in the
// order they are registered (net/http pattern syntax). The method-less
// patterns answering 405 and the 404 catch-all are not routes and are left
// out. The OpenAPI document of internal/httpapi/docs is checked against
// this list.
func (a *API) Routes() []string { return append([]string(nil), a.patterns...) }

// ServeHTTP serves a request under /1.0/, /v2/iam/ or /auth/. Every response
// carries X-Ovh-QueryID. A path that is not canonical (a "." or ".."
// segment, an empty segment) never reaches the mux, which would answer it
// with a redirect: no route has such a path, so it is a 404.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(HeaderQueryID, httpapi.RequestID(r.Context()))
	if a.svc.Sealed() {
		ew := a.writeError(kindNone)
		if strings.HasPrefix(r.URL.Path, PrefixAuth) {
			ew = a.writeOAuthError // OAuth2 clients read OAuth2 errors
		}
		httpapi.Wrap(ew, a.log, httpapi.Sealed).ServeHTTP(w, r)
		return
	}
	if !httpapi.CanonicalPath(r.URL.Path) {
		httpapi.Wrap(a.writeError(kindNone), a.log, httpapi.NotFound).ServeHTTP(w, r)
		return
	}
	a.mux.ServeHTTP(w, r)
}

// caller authenticates the request and describes it for the service.
// Identity management accepts bearer tokens only (X-Vault-Token or
// Authorization: Bearer, iam.md 7.1): it belongs to no OKMS domain, so no
// access certificate is valid for it.
func (a *API) caller(r *http.Request) (service.Caller, error) {
	return httpapi.TokenCaller(r, a.svc, "iam")
}

// begin authenticates the caller of a route on one object, then reads the
// object's id from the path with id: authentication comes first, so that
// an unauthenticated caller learns nothing of which ids are well formed.
func (a *API) begin(r *http.Request, id func(*http.Request) (string, error)) (service.Caller, string, error) {
	c, err := a.caller(r)
	if err != nil {
		return c, "", err
	}
	s, err := id(r)
	return c, s, err
}

// userLogin returns the {login} of a route on one user.
func userLogin(r *http.Request) (string, error) { return name(r, "login", service.ErrUserNotFound) }

// groupName returns the {name} of a route on one group.
func groupName(r *http.Request) (string, error) { return name(r, "name", service.ErrGroupNotFound) }

// name returns the path value key if it is a well-formed login, group or
// token name ([A-Za-z0-9._@-]{1,64}, iam.md 2), and notFound otherwise: no
// object can have another name, and a "/" in a name (sent as %2F) must
// never reach the storage keys built from it.
func name(r *http.Request, key string, notFound error) (string, error) {
	s := r.PathValue(key)
	if len(s) == 0 || len(s) > 64 {
		return "", notFound
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
		if !alnum && !strings.ContainsRune("._@-", rune(c)) {
			return "", notFound
		}
	}
	return s, nil
}

// policyID returns the {id} of the request if it is a UUID, in lower case
// as the service writes them, and service.ErrPolicyNotFound otherwise.
func policyID(r *http.Request) (string, error) {
	id := r.PathValue("id")
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return "", service.ErrPolicyNotFound
	}
	return strings.ToLower(id), nil
}
