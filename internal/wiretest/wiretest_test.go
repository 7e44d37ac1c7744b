package wiretest_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// echo answers with the request's method, headers of interest, length
// and body, and redirects /redirect to /.
func echo(t *testing.T) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/redirect" {
			http.Redirect(w, r, "/", http.StatusFound)
			return
		}
		b, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Auth", r.Header.Get("Authorization"))
		w.Header().Set("X-Type", r.Header.Get("Content-Type"))
		w.Header().Set("X-Chunked", map[bool]string{true: "yes", false: "no"}[r.ContentLength < 0])
		w.Write(b)
	}))
	t.Cleanup(ts.Close)
	return ts
}

func TestDo(t *testing.T) {
	t.Parallel()
	ts := echo(t)
	tests := []struct {
		name                      string
		rq                        wiretest.Request
		status                    int
		auth, ctype, chunked, out string
	}{
		{"defaults", wiretest.Request{Method: "PUT", Body: "{}", Default: map[string]string{"Authorization": "Bearer a", "Content-Type": "application/json"}},
			200, "Bearer a", "application/json", "no", "{}"},
		{"header replaces a default", wiretest.Request{Method: "POST", Default: map[string]string{"Authorization": "Bearer a"}, Header: map[string]string{"Authorization": "Bearer b"}},
			200, "Bearer b", "", "no", ""},
		{"empty value removes a default", wiretest.Request{Method: "GET", Default: map[string]string{"Authorization": "Bearer a"}, Header: map[string]string{"Authorization": ""}},
			200, "", "", "no", ""},
		{"chunked body", wiretest.Request{Method: "POST", Body: "xyz", Chunked: true}, 200, "", "", "yes", "xyz"},
		{"redirect is an answer", wiretest.Request{Method: "GET", URL: ts.URL + "/redirect"}, 302, "", "", "", ""},
		{"redirect followed when asked", wiretest.Request{Method: "GET", URL: ts.URL + "/redirect", FollowRedirects: true}, 200, "", "", "no", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.rq.URL == "" {
				tc.rq.URL = ts.URL + "/x"
			}
			r := wiretest.Must(t, ts.Client(), tc.rq)
			if r.Status != tc.status || r.Header.Get("X-Auth") != tc.auth || r.Header.Get("X-Type") != tc.ctype ||
				r.Header.Get("X-Chunked") != tc.chunked || (tc.status == 200 && string(r.Body) != tc.out) {
				t.Errorf("= %d auth %q type %q chunked %q body %q; want %d %q %q %q %q", r.Status, r.Header.Get("X-Auth"),
					r.Header.Get("X-Type"), r.Header.Get("X-Chunked"), r.Body, tc.status, tc.auth, tc.ctype, tc.chunked, tc.out)
			}
		})
	}
}

func TestRender(t *testing.T) {
	t.Parallel()
	r := &wiretest.Response{Status: 404, Header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"rid-1"}},
		Body: []byte(`{"id":"rid-1"}`)}
	got := string(wiretest.Render(r, []string{"Cache-Control", "Content-Type", "X-Request-Id"}, func(h, s string) string {
		if h == "Content-Type" {
			return s
		}
		return "<" + s + ">"
	}))
	want := "404 Not Found\nContent-Type: application/json\nX-Request-Id: <rid-1>\n\n<{\"id\":\"rid-1\"}>\n"
	if got != want {
		t.Errorf("Render = %q, want %q", got, want)
	}
}

func TestBearer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		rq         wiretest.Request
		auth, body string
	}{
		{"default token", wiretest.Request{}, "Bearer root", ""},
		{"request's token", wiretest.Request{Token: "t1", Body: "{}"}, "Bearer t1", "application/json"},
		{"no token", wiretest.Request{Token: wiretest.NoToken}, "", ""},
	}
	for _, tc := range tests {
		wiretest.Bearer(&tc.rq, "root")
		if tc.rq.Default["Authorization"] != tc.auth || tc.rq.Default["Content-Type"] != tc.body {
			t.Errorf("%s: defaults %v, want Authorization %q, Content-Type %q", tc.name, tc.rq.Default, tc.auth, tc.body)
		}
	}
}

func TestGoldenIf(t *testing.T) {
	t.Parallel()
	if got := wiretest.GoldenIf(true)("a"); got != "a" {
		t.Errorf("GoldenIf(true)(a) = %q", got)
	}
	if got := wiretest.GoldenIf(false)("a"); got != "" {
		t.Errorf("GoldenIf(false)(a) = %q", got)
	}
}
