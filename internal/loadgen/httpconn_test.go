package loadgen

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestConn(t *testing.T) {
	big := strings.Repeat("x", 100000)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		switch r.URL.Path {
		case "/echo":
			w.Header().Set("X-Pagination-Cursor-Next", "abc")
			w.Write(body)
		case "/chunked":
			w.Write([]byte("part1-"))
			w.(http.Flusher).Flush()
			w.Write([]byte(big))
		case "/close":
			w.Header().Set("Connection", "close")
			w.Write([]byte("bye"))
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	tg, err := parseTarget(srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := newConn(tg)
	defer c.Close()
	tests := []struct {
		name       string
		req        request
		status     int
		body       string
		cursor     string
		connClosed bool
	}{
		{"content-length", request{method: "POST", path: "/echo", body: []byte(`{"a":1}`)}, 200, `{"a":1}`, "abc", false},
		{"chunked", request{method: "GET", path: "/chunked"}, 200, "part1-" + big, "", false},
		{"no content", request{method: "DELETE", path: "/empty"}, 204, "", "", false},
		{"not found", request{method: "GET", path: "/nope"}, 404, "404 page not found\n", "", false},
		{"connection close", request{method: "GET", path: "/close"}, 200, "bye", "", true},
		{"reconnects", request{method: "POST", path: "/echo", body: []byte("again")}, 200, "again", "abc", false},
	}
	for _, tc := range tests {
		resp, err := c.do(t.Context(), &tc.req)
		if err != nil {
			t.Fatalf("%s: do() = %v", tc.name, err)
		}
		if resp.status != tc.status || string(resp.body) != tc.body || string(resp.cursor) != tc.cursor {
			t.Errorf("%s: do() = %d %.40q cursor %q; want %d %.40q cursor %q", tc.name, resp.status, resp.body, resp.cursor, tc.status, tc.body, tc.cursor)
		}
		if (c.c == nil) != tc.connClosed {
			t.Errorf("%s: connection closed = %v, want %v", tc.name, c.c == nil, tc.connClosed)
		}
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		addr, host string
		tls, ok    bool
	}{
		{"http://127.0.0.1:8200", "127.0.0.1:8200", false, true},
		{"http://localhost", "localhost:80", false, true},
		{"https://coffer.example.com", "coffer.example.com:443", true, true},
		{"https://[::1]:8200/", "[::1]:8200", true, true},
		{"127.0.0.1:8200", "", false, false},
		{"http://127.0.0.1:8200/v1", "", false, false},
		{"unix:///tmp/x", "", false, false},
	}
	for _, tc := range tests {
		tg, err := parseTarget(tc.addr, nil)
		if (err == nil) != tc.ok || (tc.ok && (tg.host != tc.host || (tg.tls != nil) != tc.tls)) {
			t.Errorf("parseTarget(%q) = %+v, %v; want host %q tls %v ok %v", tc.addr, tg, err, tc.host, tc.tls, tc.ok)
		}
	}
}
