package webui

import (
	"errors"
	"net/http"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// While the service is sealed the panel shows the unseal page and nothing
// else: every page answers it (503), and its form submits one unseal key
// (a share or the passphrase) at a time, as `coffer operator unseal` does.

// serveSealed serves a request while sealed.
func (u *UI) serveSealed(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasPrefix(r.URL.Path, "/ui/static/") && r.Method == http.MethodGet:
		r.SetPathValue("file", strings.TrimPrefix(r.URL.Path, "/ui/static/"))
		serveStatic(w, r)
	case r.URL.Path == "/ui/unseal" && r.Method == http.MethodPost:
		u.unseal(w, r)
	default:
		u.unsealPage(w, r, http.StatusServiceUnavailable, "")
	}
}

// unsealPage renders the unseal page with the seal's status.
func (u *UI) unsealPage(w http.ResponseWriter, r *http.Request, status int, msg string) {
	st, err := u.svc.SealStatus(r.Context())
	if err != nil {
		u.log.ErrorContext(r.Context(), "seal status", "err", err, "request_id", httpapi.RequestID(r.Context()))
		msg = "The seal status could not be read; see the server log."
	}
	if !st.Sealed {
		http.Redirect(w, r, "/ui/secrets", http.StatusSeeOther)
		return
	}
	u.render(w, r, nil, status, "unseal", &view{Title: "Unseal", CSRF: u.preSession(w, r), Error: msg, Data: st})
}

// unseal submits one key, or resets the progress.
func (u *UI) unseal(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		u.unsealPage(w, r, http.StatusBadRequest, "The form could not be read.")
		return
	}
	if !checkPreSession(r) {
		httpapi.NoteError(r.Context(), errCSRF)
		u.unsealPage(w, r, http.StatusForbidden, "This form has expired. Please try again.")
		return
	}
	c := service.Caller{Surface: "ui", RequestID: httpapi.RequestID(r.Context()), RemoteAddr: r.RemoteAddr}
	st, err := u.svc.Unseal(r.Context(), c, r.PostFormValue("key"), r.PostFormValue("reset") == "true")
	switch {
	case errors.Is(err, service.ErrUnsealKeys):
		httpapi.NoteError(r.Context(), err)
		u.unsealPage(w, r, http.StatusBadRequest, "These keys do not unseal coffer; enter them again.")
	case errors.Is(err, service.ErrSealed):
		// An okms or transit seal whose KMS did not answer; the server
		// logs why and keeps trying.
		httpapi.NoteError(r.Context(), err)
		u.unsealPage(w, r, http.StatusServiceUnavailable, "The KMS did not unwrap the root key; coffer keeps trying. See the server log.")
	case errors.Is(err, service.ErrTooManyRequests):
		httpapi.NoteError(r.Context(), err)
		u.unsealPage(w, r, http.StatusTooManyRequests, "Too many attempts from this address; wait a little.")
	case err != nil:
		httpapi.NoteError(r.Context(), err)
		u.log.ErrorContext(r.Context(), "unseal", "err", err, "request_id", httpapi.RequestID(r.Context()))
		u.unsealPage(w, r, http.StatusInternalServerError, "Unsealing failed; see the server log for request "+httpapi.RequestID(r.Context())+".")
	case !st.Sealed:
		http.Redirect(w, r, "/ui/secrets", http.StatusSeeOther)
	default:
		http.Redirect(w, r, "/ui/unseal", http.StatusSeeOther)
	}
}

// unsealedRedirect answers /ui/unseal once unsealed.
func unsealedRedirect(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/ui/secrets", http.StatusSeeOther)
}
