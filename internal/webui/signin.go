package webui

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// signinData is the sign-in page.
type signinData struct {
	Method  string // "password" or "token": the form that failed, shown first
	Login   string
	Next    string
	Message string // why the user is here (expired session, signed out)
}

var signinReasons = map[string]string{
	"ended":     "Your session has ended. Sign in again.",
	"signedout": "You are signed out.",
}

func (u *UI) signinPage(w http.ResponseWriter, r *http.Request) {
	if s, _ := u.sessions.get(u.sessionID(r)); s != nil {
		http.Redirect(w, r, "/ui/secrets", http.StatusSeeOther)
		return
	}
	q := r.URL.Query()
	d := signinData{Method: "password", Next: q.Get("next"), Message: signinReasons[q.Get("reason")]}
	if q.Get("expired") != "" {
		d.Message = "Your session has expired. Sign in again."
	}
	if !localPath(d.Next) {
		d.Next = ""
	}
	u.render(w, r, nil, http.StatusOK, "signin", &view{Title: "Sign in", CSRF: u.preSession(w, r), Data: d})
}

// signin checks a login and password, or a token, and starts a session.
// Failures say the same thing whether or not the login exists, and count
// against the address's limit of failed authentications.
func (u *UI) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		u.renderError(w, r, nil, http.StatusBadRequest, "The form could not be read.")
		return
	}
	d := signinData{Method: r.PostFormValue("method"), Login: strings.TrimSpace(r.PostFormValue("login")), Next: r.PostFormValue("next")}
	if !localPath(d.Next) {
		d.Next = ""
	}
	fail := func(status int, msg string) {
		v := &view{Title: "Sign in", CSRF: u.preSession(w, r), Error: msg, Data: d}
		u.render(w, r, nil, status, "signin", v)
	}
	if !checkPreSession(r) {
		httpapi.NoteError(r.Context(), errCSRF)
		fail(http.StatusForbidden, "This sign-in form has expired. Please try again.")
		return
	}
	var (
		p   auth.Principal
		err error
		s   = &session{}
	)
	switch d.Method {
	case "token":
		tok := strings.TrimSpace(r.PostFormValue("token"))
		if p, err = u.svc.Authenticate(r.Context(), tok); err == nil {
			s.token = tok
		} else if errors.Is(err, service.ErrUnauthenticated) && u.svc.AuthFailed(r.RemoteAddr) {
			// iam.md 7.1: failed authentications are limited per address.
			err = service.ErrTooManyRequests
		}
	default:
		// The service limits failures per address and per login before
		// it hashes anything, and bounds concurrent hashing.
		d.Method = "password"
		in := service.SignIn{Login: d.Login, Password: r.PostFormValue("password"), Surface: "ui",
			RequestID: httpapi.RequestID(r.Context()), RemoteAddr: r.RemoteAddr}
		if p, err = u.svc.Login(r.Context(), in); err == nil {
			s.login, s.userID = d.Login, p.UserID
		}
	}
	if err != nil {
		httpapi.NoteError(r.Context(), err)
		if secs, ok := service.RetryAfter(err); ok {
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
		switch {
		case errors.Is(err, service.ErrTooManyRequests):
			fail(http.StatusTooManyRequests, "Too many failed attempts. Wait a moment and try again.")
		case !errors.Is(err, service.ErrLoginFailed) && !errors.Is(err, service.ErrUnauthenticated):
			status, msg := describe(err)
			fail(status, msg)
		case d.Method == "token":
			fail(http.StatusUnauthorized, "This token is not valid. It may have expired or been revoked.")
		default:
			fail(http.StatusUnauthorized, "The login or password is incorrect.")
		}
		return
	}
	// A new session id at each sign-in: an id planted before sign-in is
	// worth nothing after it.
	if old := u.sessionID(r); old != "" {
		u.sessions.destroy(old)
	}
	s.name = p.Name
	if s.name == "" {
		s.name = "root"
	}
	id := u.sessions.create(s)
	u.setSessionCookie(w, r, id)
	http.SetCookie(w, &http.Cookie{Name: cookiePreSession, Path: cookiePath, MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: u.secure(r)})
	httpapi.NotePrincipal(r.Context(), p.Name)
	next := d.Next
	if next == "" {
		next = "/ui/secrets"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (u *UI) signout(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	u.sessions.destroy(rc.sid)
	u.clearSessionCookie(w, r)
	http.Redirect(w, r, "/ui/signin?reason=signedout", http.StatusSeeOther)
	return nil
}
