package webui

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// view is what every page template receives: the page's own data in Data,
// and what the layout needs.
type view struct {
	Title   string
	Section string // highlighted entry of the navigation: "secrets", "create", "settings"
	User    string // display name of the signed-in user; "" on the sign-in page
	Admin   bool
	CSRF    string
	Flash   string
	Error   string
	Domain  *service.Domain // the domain the page is about, if any
	// CanSettings shows the link to the domain settings: the caller may
	// use at least one of their tabs.
	CanSettings bool
	// CanCreate shows the link to create a secret.
	CanCreate bool
	Data      any
}

// pages are the parsed templates, one set per page: the layout, the
// shared partials and the page.
type pages struct {
	byName map[string]*template.Template
}

var funcs = template.FuncMap{
	"asset":   assetURL,
	"link":    link,
	"when":    when,
	"state":   func(s secret.State) string { return s.String() },
	"dur":     humanDuration,
	"maxData": func() int { return secret.MaxDataSize },
	"sizes":   func() []int { return []int{25, 50, 100, 200} },
	"inc":     func(i int) int { return i + 1 },
	"roles": func() []string {
		return []string{service.RoleRegular, service.RoleAdmin, service.RoleUnprivileged, service.RoleNone}
	},
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
}

func mustParsePages() *pages {
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		panic(err)
	}
	p := &pages{byName: map[string]*template.Template{}}
	for _, n := range names {
		base := path.Base(n)
		if base == "layout.html" || base == "partials.html" {
			continue
		}
		t := template.Must(template.New(base).Funcs(funcs).ParseFS(templateFS,
			"templates/layout.html", "templates/partials.html", n))
		p.byName[strings.TrimSuffix(base, ".html")] = t
	}
	return p
}

// render writes page name with v. The page is rendered in full before
// anything is written, so a template error becomes a clean error page.
func (u *UI) render(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, name string, v *view) {
	if rc != nil {
		v.User, v.CSRF = rc.sess.name, rc.sess.csrf
		v.Admin = u.svc.CanAdminister(rc.caller)
		v.CanSettings = v.Domain != nil && len(u.settingsTabs(rc.caller, v.Domain.ID)) > 0
		v.CanCreate = u.canCreate(r.Context(), rc)
		if v.Flash == "" {
			v.Flash = rc.flash
		}
	}
	t, ok := u.pages.byName[name]
	if !ok {
		panic("webui: no page " + name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		u.log.ErrorContext(r.Context(), "render page", "page", name, "err", err, "request_id", httpapi.RequestID(r.Context()))
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString("<!doctype html><title>coffer</title><p>The page could not be shown.</p>")
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderError shows an error page (or, to a fetch, a JSON error).
func (u *UI) renderError(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, msg string) {
	if wantsJSON(r) {
		writeJSON(w, status, map[string]string{"error": msg})
		return
	}
	u.render(w, r, rc, status, "error", &view{Title: http.StatusText(status), Data: map[string]any{
		"Status": status, "Message": msg, "RequestID": httpapi.RequestID(r.Context()),
	}})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"internal error"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// link returns p with the query built from key-value pairs; pairs with an
// empty value are left out.
func link(p string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	if len(q) == 0 {
		return p
	}
	return p + "?" + q.Encode()
}

func queryEscape(s string) string { return url.QueryEscape(s) }

// when formats a time for people, in UTC; the zero time is a dash.
func when(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// humanDuration writes a period the way the forms take it: "90d",
// "12h", "1h30m0s".
func humanDuration(d time.Duration) string {
	const day = 24 * time.Hour
	switch {
	case d > 0 && d%day == 0:
		return strconv.FormatInt(int64(d/day), 10) + "d"
	case d > 0 && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	}
	return d.String()
}

// assets: the embedded static files, served with a content hash in the
// query so that they can be cached for good.
var assetHashes = func() map[string]string {
	m := map[string]string{}
	entries, err := fs.ReadDir(staticFS, "static")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		b, err := staticFS.ReadFile("static/" + e.Name())
		if err != nil {
			panic(err)
		}
		h := sha256.Sum256(b)
		m[e.Name()] = hex.EncodeToString(h[:6])
	}
	return m
}()

func assetURL(name string) string {
	return "/ui/static/" + name + "?v=" + assetHashes[name]
}

var contentTypes = map[string]string{
	".css": "text/css; charset=utf-8",
	".js":  "text/javascript; charset=utf-8",
	".svg": "image/svg+xml",
}

func serveStatic(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("file")
	hash, ok := assetHashes[name]
	ct := contentTypes[path.Ext(name)]
	if !ok || ct == "" {
		http.NotFound(w, r)
		return
	}
	b, _ := staticFS.ReadFile("static/" + name)
	h := w.Header()
	h.Set("Content-Type", ct)
	if r.URL.Query().Get("v") == hash {
		h.Set("Cache-Control", "public, max-age=31536000, immutable")
	} else {
		h.Set("Cache-Control", "no-cache")
	}
	_, _ = w.Write(b)
}
