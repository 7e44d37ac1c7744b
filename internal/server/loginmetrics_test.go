package server

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// TestLoginMetrics (issue 13, point 4): refused password sign-ins are
// counted by reason, and the logins waiting out a delay are a gauge; the
// login itself is never a label.
func TestLoginMetrics(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s, err := New(t.Context(), Config{Dev: true, DevRootToken: "root", Logger: slog.New(slog.DiscardHandler), Out: io.Discard,
		Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ts := httptest.NewServer(s.Handler())
	defer ts.Close()
	pw := "correct horse battery staple"
	if _, err := s.Service().CreateUser(t.Context(), service.Caller{Principal: auth.System()}, service.UserInput{Login: "alice", Password: &pw}); err != nil {
		t.Fatal(err)
	}
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	signIn := func(password string) int {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		r, err := c.Get(ts.URL + "/ui/signin")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(r.Body)
		r.Body.Close()
		m := csrf.FindSubmatch(b)
		if m == nil {
			t.Fatal("no CSRF token")
		}
		r, err = c.PostForm(ts.URL+"/ui/signin", url.Values{"csrf": {string(m[1])}, "method": {"password"}, "login": {"alice"}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	for range 6 {
		if st := signIn("wrong password"); st != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d", st)
		}
	}
	if st := signIn(pw); st != http.StatusTooManyRequests {
		t.Fatalf("during the delay: %d, want 429", st)
	}
	r, err := http.Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(r.Body)
	r.Body.Close()
	for _, want := range []string{`coffer_login_refusals_total{reason="wrong"} 6`, `coffer_login_refusals_total{reason="delayed"} 1`,
		"coffer_logins_delayed 1"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if strings.Contains(string(b), "alice") {
		t.Error("a login is a label in /metrics")
	}
}
