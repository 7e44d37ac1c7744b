package server

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// TestHSTS: every response over TLS carries Strict-Transport-Security
// with a max-age of at least a year, whatever the surface or the status
// (issue 13, point 5); plain HTTP responses do not (RFC 6797 7.2: the
// header means nothing there).
func TestHSTS(t *testing.T) {
	for _, useTLS := range []bool{true, false} {
		cfg := Config{Dev: true, DevRootToken: "root", TLSAuto: useTLS, Listen: "127.0.0.1:0",
			Logger: slog.New(slog.DiscardHandler), Out: io.Discard}
		s, err := New(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- s.Serve(ctx, ln) }()
		scheme := "http"
		if useTLS {
			scheme = "https"
		}
		c := &http.Client{Timeout: 10 * time.Second,
			Transport:     &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}, // the test CA is not the point
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		for _, path := range []string{"/healthz", "/ui/signin", "/ui/secrets", "/api/" + s.DefaultDomain() + "/v2/secret",
			"/v2/okms/resource", "/v1/secret/data/x", "/1.0/me/identity/user", "/nowhere", "/"} {
			req, _ := http.NewRequest("GET", scheme+"://"+ln.Addr().String()+path, nil)
			req.Header.Set("Authorization", "Bearer root")
			resp, err := c.Do(req)
			if err != nil {
				t.Fatalf("GET %s: %v", path, err)
			}
			resp.Body.Close()
			h := resp.Header.Get("Strict-Transport-Security")
			if !useTLS {
				if h != "" {
					t.Errorf("plain HTTP GET %s: Strict-Transport-Security %q", path, h)
				}
				continue
			}
			m := regexp.MustCompile(`^max-age=(\d+)`).FindStringSubmatch(h)
			if m == nil {
				t.Errorf("GET %s (%d): Strict-Transport-Security %q", path, resp.StatusCode, h)
				continue
			}
			if n, _ := strconv.Atoi(m[1]); n < 365*24*3600 {
				t.Errorf("GET %s: max-age %d is under a year", path, n)
			}
		}
		c.CloseIdleConnections()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
		s.Close()
	}
}
