package kv2_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// FuzzRequests sends fuzzed bodies, query strings and content types to the
// routes of surface C that decode parameters, through the real handler over
// the real service (dev mode). Every answer must be below 500, and its body
// empty or JSON (Vault's envelope or one of its raw 404 bodies).
func FuzzRequests(f *testing.F) {
	srv := testenv.Start(f).Server
	h := srv.Handler()
	routes := []struct{ method, target string }{
		{"POST", "/v1/secret/data/fz"},
		{"PATCH", "/v1/secret/data/fz"},
		{"GET", "/v1/secret/data/fz"},
		{"POST", "/v1/secret/metadata/fz"},
		{"PATCH", "/v1/secret/metadata/fz"},
		{"LIST", "/v1/secret/metadata/"},
		{"POST", "/v1/secret/delete/fz"},
		{"POST", "/v1/secret/undelete/fz"},
		{"POST", "/v1/secret/destroy/fz"},
		{"POST", "/v1/secret/config"},
		{"GET", "/v1/secret/subkeys/fz"},
		{"POST", "/v1/auth/token/create"},
	}
	send := func(method, target string, body []byte, contentType string) *httptest.ResponseRecorder {
		req, err := http.NewRequest(method, "http://coffer"+target, bytes.NewReader(body))
		if err != nil {
			return nil
		}
		req.Header.Set("X-Vault-Token", "root")
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	if rec := send("POST", "/v1/secret/data/fz", []byte(`{"data":{"k":"v"}}`), ""); rec.Code != 200 {
		f.Fatalf("write fz = %d %s", rec.Code, rec.Body)
	}
	for _, s := range []struct {
		route       uint8
		query, body string
		ct          string
	}{
		{0, "", `{"data":{"k":"v"},"options":{"cas":1}}`, ""},
		{0, "", `{"data":{"k":"v"},"options":{"cas":"x"}}`, ""},
		{0, "", `{"data":"v"}`, ""},
		{0, "", `{"data":{"n":1e400}}`, ""},
		{0, "", `{"data":{"a":1,"a":2}}`, ""},
		{0, "", "data=x", "application/x-www-form-urlencoded"},
		{1, "", `{"data":{"k":null}}`, "application/merge-patch+json"},
		{1, "", `{"data":{"k":"w"}}`, "application/json"},
		{2, "version=-3", "", ""},
		{2, "version=x", "", ""},
		{3, "", `{"max_versions":"5","cas_required":"1","delete_version_after":"3h","custom_metadata":{"a":1}}`, ""},
		{3, "", `{"delete_version_after":"-1s"}`, ""},
		{4, "", `{"custom_metadata":{"a":null}}`, "application/merge-patch+json"},
		{5, "list=true", "", ""},
		{6, "", `{"versions":[1,"2"]}`, ""},
		{7, "", `{"versions":"1,x"}`, ""},
		{8, "", `{"versions":1.5}`, ""},
		{9, "", `{"max_versions":-1}`, ""},
		{10, "depth=-1&version=1", "", ""},
		{11, "", `{"ttl":"1h","num_uses":1,"policies":["x"]}`, ""},
	} {
		f.Add(s.route, s.query, []byte(s.body), s.ct)
	}
	f.Fuzz(func(t *testing.T, route uint8, query string, body []byte, contentType string) {
		rt := routes[int(route)%len(routes)]
		target := rt.target
		if query != "" {
			target += "?" + query
		}
		rec := send(rt.method, target, body, contentType)
		if rec == nil {
			return // not a URL net/http would hand to coffer
		}
		if rec.Code >= 500 {
			t.Fatalf("%s %s with body %q = %d %s", rt.method, target, body, rec.Code, rec.Body)
		}
		if b := bytes.TrimSpace(rec.Body.Bytes()); len(b) > 0 && !json.Valid(b) {
			t.Fatalf("%s %s = %d with a body that is not JSON: %s", rt.method, target, rec.Code, b)
		}
		if rec.Code >= 400 && rec.Code != 404 {
			// Vault's envelope; its errors array is empty for some refusals
			// (405, a bad list parameter), as in Vault.
			var e struct{ Errors *[]string }
			if json.Unmarshal(rec.Body.Bytes(), &e) != nil || e.Errors == nil {
				t.Fatalf("%s %s = %d outside Vault's error envelope: %s", rt.method, target, rec.Code, rec.Body)
			}
		}
	})
}

// failingBody is a request body that breaks after a few bytes, as a body
// shorter than its Content-Length does.
type failingBody struct{ r io.Reader }

func (b *failingBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

// TestTruncatedBody: a body that cannot be read in full is the client's
// fault, a 400 in Vault's envelope, never a 500 (reliability-security.md
// T6 found it).
func TestTruncatedBody(t *testing.T) {
	srv := testenv.Start(t).Server
	for _, target := range []string{"/v1/secret/data/a", "/v1/secret/metadata/a", "/v1/secret/config", "/v1/auth/token/create"} {
		req := httptest.NewRequest("POST", target, &failingBody{strings.NewReader(`{"data":{"k"`)})
		req.ContentLength = 100
		req.Header.Set("X-Vault-Token", "root")
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		var e struct{ Errors []string }
		if rec.Code != http.StatusBadRequest || json.Unmarshal(rec.Body.Bytes(), &e) != nil || len(e.Errors) == 0 {
			t.Errorf("POST %s with a truncated body = %d %s, want 400 with errors", target, rec.Code, rec.Body)
		}
	}
}
