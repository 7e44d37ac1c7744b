package webui

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// Default session lifetimes.
const (
	DefaultIdleTimeout = 30 * time.Minute
	DefaultMaxAge      = 12 * time.Hour
)

// Cookie names. Under TLS the session cookie carries the __Host- prefix,
// which the browser accepts only with Secure, Path=/ and no Domain.
const (
	cookieSession       = "coffer_session"
	cookieSessionSecure = "__Host-coffer_session"
	cookiePreSession    = "coffer_signin"
	cookiePath          = "/ui/"
)

// session is one signed-in browser. It lives only in server memory.
type session struct {
	csrf    string // token every form of the session carries
	token   string // the token signed in with; "" for a password session
	login   string // the login signed in with; "" for a token session
	userID  string // the immutable id of that user: a new user of the same login is someone else
	name    string // display name
	created time.Time
	seen    time.Time
	flash   string // one message shown by the next page, then dropped
}

// sessions is the in-memory session store, safe for concurrent use.
// Sessions are indexed by the SHA-256 of their id, so the store never
// holds the cookie value itself.
type sessions struct {
	mu        sync.Mutex
	byID      map[string]*session
	now       func() time.Time
	idle, max time.Duration
	lastSweep time.Time
}

func newSessions(now func() time.Time, idle, max time.Duration) *sessions {
	return &sessions{byID: map[string]*session{}, now: now, idle: idle, max: max}
}

func digest(id string) string {
	h := sha256.Sum256([]byte(id))
	return hex.EncodeToString(h[:])
}

// randomToken returns 32 random bytes in unpadded base64url.
func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		// crypto/rand does not fail on supported platforms.
		panic("webui: random: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// create stores a new session and returns its id, the cookie value.
func (st *sessions) create(s *session) string {
	id := randomToken()
	now := st.now()
	s.created, s.seen, s.csrf = now, now, randomToken()
	st.mu.Lock()
	defer st.mu.Unlock()
	st.sweep(now)
	st.byID[digest(id)] = s
	return id
}

// get returns the live session with this id, marking it seen now. It
// reports expired when the id names a session that just expired (which it
// then forgets), so the sign-in page can say so.
func (st *sessions) get(id string) (s *session, expired bool) {
	if id == "" {
		return nil, false
	}
	now := st.now()
	k := digest(id)
	st.mu.Lock()
	defer st.mu.Unlock()
	s, ok := st.byID[k]
	if !ok {
		return nil, false
	}
	if st.expired(s, now) {
		delete(st.byID, k)
		return nil, true
	}
	s.seen = now
	return s, false
}

func (st *sessions) expired(s *session, now time.Time) bool {
	return now.Sub(s.seen) >= st.idle || now.Sub(s.created) >= st.max
}

// destroy forgets a session.
func (st *sessions) destroy(id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	delete(st.byID, digest(id))
}

// takeFlash returns and clears the session's flash message.
func (st *sessions) takeFlash(s *session) string {
	st.mu.Lock()
	defer st.mu.Unlock()
	f := s.flash
	s.flash = ""
	return f
}

// setFlash sets the message the next page shows.
func (st *sessions) setFlash(s *session, msg string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	s.flash = msg
}

// sweep drops expired sessions, at most once a minute. st.mu is held.
func (st *sessions) sweep(now time.Time) {
	if now.Sub(st.lastSweep) < time.Minute {
		return
	}
	st.lastSweep = now
	for k, s := range st.byID {
		if st.expired(s, now) {
			delete(st.byID, k)
		}
	}
}

// secure reports whether cookies of this request must be Secure.
func (u *UI) secure(r *http.Request) bool { return u.secureCookies || r.TLS != nil }

func (u *UI) sessionCookieName(r *http.Request) string {
	if u.secure(r) {
		return cookieSessionSecure
	}
	return cookieSession
}

// setSessionCookie sends the session id. The cookie has no lifetime of its
// own: the server decides when the session ends.
func (u *UI) setSessionCookie(w http.ResponseWriter, r *http.Request, id string) {
	c := &http.Cookie{Name: u.sessionCookieName(r), Value: id, Path: cookiePath, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: u.secure(r)}
	if c.Secure {
		c.Path = "/" // required by the __Host- prefix
	}
	http.SetCookie(w, c)
}

func (u *UI) clearSessionCookie(w http.ResponseWriter, r *http.Request) {
	c := &http.Cookie{Name: u.sessionCookieName(r), Value: "", Path: cookiePath, MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: u.secure(r)}
	if c.Secure {
		c.Path = "/"
	}
	http.SetCookie(w, c)
}

func (u *UI) sessionID(r *http.Request) string {
	c, err := r.Cookie(u.sessionCookieName(r))
	if err != nil {
		return ""
	}
	return c.Value
}

// preSession returns the token binding the sign-in form to this browser,
// setting its cookie when the browser has none.
func (u *UI) preSession(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(cookiePreSession); err == nil && len(c.Value) == 43 {
		return c.Value
	}
	tok := randomToken()
	http.SetCookie(w, &http.Cookie{Name: cookiePreSession, Value: tok, Path: cookiePath, MaxAge: 3600,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: u.secure(r)})
	return tok
}

// checkPreSession verifies the sign-in form's token against its cookie.
func checkPreSession(r *http.Request) bool {
	c, err := r.Cookie(cookiePreSession)
	return err == nil && c.Value != "" && equalTokens(c.Value, r.PostFormValue("csrf"))
}

func equalTokens(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
