package webui

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Prefix is the path under which the panel is served.
const Prefix = "/ui/"

// ContentSecurityPolicy is sent with every response of the panel: only the
// panel's own script, style sheet and images, fetches to its own origin,
// forms posted to its own origin, no inline script or style, no plugin, no
// framing.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// maxForm bounds a form body: a 64 KiB value written out with indentation
// fits comfortably.
const maxForm = 1 << 20

// Options configure the panel. Service is required.
type Options struct {
	Service *service.Service
	Logger  *slog.Logger     // default: discard
	Now     func() time.Time // clock of session expiry; default time.Now
	// IdleTimeout ends a session unused for that long (default 30 minutes);
	// MaxAge ends any session that old (default 12 hours).
	IdleTimeout time.Duration
	MaxAge      time.Duration
	// SecureCookies marks cookies Secure even on plain HTTP requests, for a
	// panel behind a proxy that terminates TLS. Requests received over TLS
	// always get Secure cookies.
	SecureCookies bool
	// PublicURL is the base URL clients reach coffer at (the domains'
	// restEndpoint); PublicCA the PEM of the CA they must trust for its
	// TLS certificate, "" when none is needed. The API page shows both.
	PublicURL string
	PublicCA  string
}

// UI is the web panel, an http.Handler for the paths under [Prefix]. It is
// safe for concurrent use.
type UI struct {
	svc           *service.Service
	log           *slog.Logger
	now           func() time.Time
	sessions      *sessions
	secureCookies bool
	pages         *pages
	handler       http.Handler
	sealed        http.Handler // the unseal page, served while sealed (unseal.go)
	publicURL     string
	publicCA      string
}

// New returns the panel over opts.Service.
func New(opts Options) *UI {
	u := &UI{svc: opts.Service, log: opts.Logger, now: opts.Now, secureCookies: opts.SecureCookies,
		publicURL: strings.TrimRight(opts.PublicURL, "/"), publicCA: opts.PublicCA}
	if u.log == nil {
		u.log = slog.New(slog.DiscardHandler)
	}
	if u.now == nil {
		u.now = time.Now
	}
	idle, max := opts.IdleTimeout, opts.MaxAge
	if idle <= 0 {
		idle = DefaultIdleTimeout
	}
	if max <= 0 {
		max = DefaultMaxAge
	}
	u.sessions = newSessions(u.now, idle, max)
	u.pages = mustParsePages()
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		httpapi.NoteError(r.Context(), errCrossOrigin)
		u.renderError(w, r, nil, http.StatusForbidden, "This request came from another site and was refused.")
	}))
	u.handler = cop.Handler(u.routes())
	u.sealed = cop.Handler(http.HandlerFunc(u.serveSealed))
	return u
}

var (
	errCrossOrigin = errors.New("webui: cross-origin request refused")
	errCSRF        = errors.New("webui: missing or wrong CSRF token")
)

// routes is the routing table of the panel.
func (u *UI) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ui/{$}", u.home)
	mux.HandleFunc("GET /ui/static/{file}", serveStatic)
	mux.HandleFunc("GET /ui/signin", u.signinPage)
	mux.HandleFunc("POST /ui/signin", u.signin)
	mux.HandleFunc("/ui/unseal", unsealedRedirect)
	mux.Handle("POST /ui/signout", u.page(u.signout))

	mux.Handle("GET /ui/secrets", u.page(u.secretsHome))
	mux.Handle("GET /ui/d/{okms}/secrets", u.page(u.listSecrets))
	mux.Handle("POST /ui/d/{okms}/secrets/delete", u.page(u.bulkDeleteSecrets))
	mux.Handle("GET /ui/create", u.page(u.createStart))
	mux.Handle("POST /ui/activate", u.page(u.activate))
	mux.Handle("GET /ui/d/{okms}/activation", u.page(u.activation))
	mux.Handle("GET /ui/d/{okms}/state", u.page(u.domainState))
	mux.Handle("GET /ui/d/{okms}/create", u.page(u.createForm))
	mux.Handle("POST /ui/d/{okms}/create", u.page(u.createSecret))

	mux.Handle("GET /ui/d/{okms}/secret", u.page(u.dashboard))
	mux.Handle("POST /ui/d/{okms}/secret/settings", u.page(u.updateSettings))
	mux.Handle("POST /ui/d/{okms}/secret/value", u.page(u.value))
	mux.Handle("GET /ui/d/{okms}/secret/new-version", u.page(u.newVersionForm))
	mux.Handle("POST /ui/d/{okms}/secret/new-version", u.page(u.newVersion))
	mux.Handle("POST /ui/d/{okms}/secret/state", u.page(u.setState))
	mux.Handle("POST /ui/d/{okms}/secret/compare", u.page(u.compare))
	mux.Handle("POST /ui/d/{okms}/secret/restore", u.page(u.restore))
	mux.Handle("POST /ui/d/{okms}/secret/versions", u.page(u.bulkVersions))
	mux.Handle("GET /ui/d/{okms}/secret/delete-version", u.page(u.confirmDeleteVersion))
	mux.Handle("GET /ui/d/{okms}/secret/delete", u.page(u.confirmDeleteSecret))
	mux.Handle("POST /ui/d/{okms}/secret/delete", u.page(u.deleteSecret))

	mux.Handle("GET /ui/d/{okms}/api", u.page(u.api))
	mux.Handle("GET /ui/ca.pem", u.page(u.caPEM))
	mux.Handle("GET /ui/d/{okms}/settings", u.page(u.settings))
	mux.Handle("POST /ui/d/{okms}/settings/config", u.page(u.updateConfig))
	mux.Handle("POST /ui/d/{okms}/credentials", u.page(u.createCredential))
	mux.Handle("GET /ui/d/{okms}/credentials/{id}/certificate", u.page(u.downloadCertificate))
	mux.Handle("GET /ui/d/{okms}/credentials/{id}/revoke", u.page(u.confirmRevokeCredential))
	mux.Handle("POST /ui/d/{okms}/credentials/{id}/revoke", u.page(u.revokeCredential))
	mux.Handle("POST /ui/d/{okms}/rename", u.page(u.renameDomain))
	mux.Handle("GET /ui/d/{okms}/delete", u.page(u.confirmDeleteDomain))
	mux.Handle("POST /ui/d/{okms}/delete", u.page(u.deleteDomain))
	mux.Handle("POST /ui/d/{okms}/users", u.page(u.createUser))
	mux.Handle("GET /ui/d/{okms}/users/{login}", u.page(u.editUser))
	mux.Handle("POST /ui/d/{okms}/users/{login}", u.page(u.updateUser))
	mux.Handle("POST /ui/d/{okms}/users/{login}/disable", u.page(u.disableUser))
	mux.Handle("POST /ui/d/{okms}/groups/{name}", u.page(u.updateGroup))
	mux.Handle("GET /ui/d/{okms}/policies/{id}", u.page(u.editPolicy))
	mux.Handle("POST /ui/d/{okms}/policies/{id}", u.page(u.updatePolicy))
	mux.Handle("GET /ui/d/{okms}/users/{login}/delete", u.page(u.confirmDeleteUser))
	mux.Handle("POST /ui/d/{okms}/users/{login}/delete", u.page(u.deleteUser))
	mux.Handle("POST /ui/d/{okms}/groups", u.page(u.createGroup))
	mux.Handle("POST /ui/d/{okms}/tokens", u.page(u.createToken))
	mux.Handle("GET /ui/d/{okms}/tokens/revoke", u.page(u.confirmRevokeToken))
	mux.Handle("POST /ui/d/{okms}/tokens/revoke", u.page(u.revokeToken))
	mux.Handle("POST /ui/d/{okms}/service-accounts", u.page(u.createServiceAccount))
	mux.Handle("GET /ui/d/{okms}/service-accounts/{clientId}/delete", u.page(u.confirmDeleteServiceAccount))
	mux.Handle("POST /ui/d/{okms}/service-accounts/{clientId}/delete", u.page(u.deleteServiceAccount))
	mux.Handle("POST /ui/d/{okms}/policies", u.page(u.createPolicy))
	mux.Handle("GET /ui/d/{okms}/policies/{id}/delete", u.page(u.confirmDeletePolicy))
	mux.Handle("POST /ui/d/{okms}/policies/{id}/delete", u.page(u.deletePolicy))

	u.keyRoutes(mux) // keys.go

	mux.HandleFunc("/ui/", func(w http.ResponseWriter, r *http.Request) {
		u.renderError(w, r, nil, http.StatusNotFound, "There is no such page.")
	})
	return mux
}

// ServeHTTP serves a request under [Prefix]. Every response carries the
// security headers, whatever its status.
func (u *UI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("Cache-Control", "no-store") // pages show secrets' metadata, values and one-time secrets
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=(), payment=(), usb=()")
	if u.svc.Sealed() {
		u.sealed.ServeHTTP(w, r)
		return
	}
	u.handler.ServeHTTP(w, r)
}

func (u *UI) home(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/ui/secrets", http.StatusSeeOther)
}

// reqCtx is what a signed-in request carries to its handler.
type reqCtx struct {
	sid    string
	sess   *session
	caller service.Caller
	flash  string

	// domains caches the caller's panel domains for the request.
	domains []service.PanelDomain
	regions []string
	loaded  bool
}

// handler is a page of a signed-in user; it returns its error.
type handler func(w http.ResponseWriter, r *http.Request, rc *reqCtx) error

// page wraps a handler of a signed-in user:
//
//  1. find the session; without one, go to the sign-in page (a fetch gets
//     401), saying so when it has just expired;
//  2. authenticate again: the token signed in with (revoked: the session
//     ends), or the user's current group and role;
//  3. for any method but GET, read the form (at most maxForm bytes) and
//     check its CSRF token against the session's;
//  4. run the handler with the caller, and render its error.
func (u *UI) page(h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sid := u.sessionID(r)
		sess, expired := u.sessions.get(sid)
		if sess == nil {
			u.toSignin(w, r, expired, "")
			return
		}
		p, err := u.principal(r, sess)
		if errors.Is(err, service.ErrUnauthenticated) {
			u.sessions.destroy(sid)
			u.clearSessionCookie(w, r)
			u.toSignin(w, r, false, "ended")
			return
		}
		rc := &reqCtx{sid: sid, sess: sess}
		if err != nil {
			u.fail(w, r, rc, err)
			return
		}
		httpapi.NotePrincipal(r.Context(), p.Name)
		rc.caller = service.Caller{Principal: p, Dialect: service.Central, Surface: "ui",
			RequestID: httpapi.RequestID(r.Context()), RemoteAddr: r.RemoteAddr}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			if err := r.ParseForm(); err != nil {
				u.fail(w, r, rc, errBadForm)
				return
			}
			if !equalTokens(sess.csrf, r.PostFormValue("csrf")) {
				u.fail(w, r, rc, errCSRF)
				return
			}
		}
		if r.Method == http.MethodGet {
			rc.flash = u.sessions.takeFlash(sess)
		}
		if err := h(w, r, rc); err != nil {
			u.fail(w, r, rc, err)
		}
	})
}

// may reports whether the caller may take every action (suffixes of the
// okms:apiovh: namespace) on resource. The panel is a client of the central
// API: it is authorized as surface A is (iam.md 5.2, 6), so a user holding
// okms:apiovh:secret/get and okms:apiovh:secret/version/getData lists and
// reads secrets here as through /v2/okms/.... It is a hint for what to
// offer; the service decides again when the operation runs.
func (u *UI) may(c service.Caller, resource string, suffixes ...string) bool {
	for _, s := range suffixes {
		if !u.svc.Allowed(c, policy.NamespaceCentral+s, resource) {
			return false
		}
	}
	return len(suffixes) > 0
}

// principal authenticates a session's request again.
func (u *UI) principal(r *http.Request, s *session) (auth.Principal, error) {
	if s.token != "" {
		return u.svc.Authenticate(r.Context(), s.token)
	}
	return u.svc.RefreshLogin(r.Context(), s.login, s.userID)
}

// toSignin sends a request without a live session to the sign-in page,
// which then returns to the page asked for.
func (u *UI) toSignin(w http.ResponseWriter, r *http.Request, expired bool, reason string) {
	if wantsJSON(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Your session has ended. Sign in again."})
		return
	}
	q := "/ui/signin"
	v := make([]string, 0, 2)
	if expired {
		v = append(v, "expired=1")
	} else if reason != "" {
		v = append(v, "reason="+reason)
	}
	if r.Method == http.MethodGet && localPath(r.URL.RequestURI()) {
		v = append(v, "next="+queryEscape(r.URL.RequestURI()))
	}
	if len(v) > 0 {
		q += "?" + strings.Join(v, "&")
	}
	http.Redirect(w, r, q, http.StatusSeeOther)
}

// localPath reports whether p is a path of the panel, safe to redirect to
// after sign-in (never another host, never a protocol-relative URL).
func localPath(p string) bool {
	return strings.HasPrefix(p, Prefix) && !strings.HasPrefix(p, "//") && !strings.ContainsAny(p, "\\\r\n") &&
		!strings.HasPrefix(p, "/ui/signin") && !strings.HasPrefix(p, "/ui/static/")
}

// redirect answers a successful POST: see the result at location, with a
// message on the next page.
func (u *UI) redirect(w http.ResponseWriter, r *http.Request, rc *reqCtx, location, flash string) {
	if flash != "" {
		u.sessions.setFlash(rc.sess, flash)
	}
	http.Redirect(w, r, location, http.StatusSeeOther)
}

func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}
