package rest_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// fuzzRoutes are the surface-B routes that decode a request body.
var fuzzRoutes = []struct{ method, target string }{
	{"POST", "/secret"},
	{"PUT", "/secret/fz%2Fa"},
	{"POST", "/secret/fz%2Fa/version"},
	{"PUT", "/secret/fz%2Fa/version/1"},
	{"PUT", "/secretConfig"},
}

// FuzzBodies sends fuzzed bodies, query strings and content types to every
// surface-B route that reads a body, through the real handler over the
// real service (dev mode). Every answer must be a 2xx or a 4xx; a 4xx must
// be the OKMS error envelope (okms-rest.md 8.1). This covers the body
// decoders (httpapi.DecodeWithData, the create, update, version and config
// requests, metadata and data parsing) end to end.
func FuzzBodies(f *testing.F) {
	srv := testenv.Start(f).Server
	h, domain := srv.Handler(), srv.DefaultDomain()
	seed := func(method, target, body string) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(method, "/api/"+domain+"/v2"+target, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+rootToken)
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			f.Fatalf("%s %s = %d %s", method, target, rec.Code, rec.Body)
		}
	}
	seed("POST", "/secret", `{"path":"fz/a","version":{"data":{"k":"v"}}}`)

	for _, s := range []struct {
		route        uint8
		query, body  string
		contentTypes string
	}{
		{0, "", `{"path":"fz/b","version":{"data":{"a":1}},"metadata":{"maxVersions":5,"casRequired":false,"deactivateVersionAfter":"1d","customMetadata":{"k":"v"}}}`, "application/json"},
		{0, "", `{"path":"fz/b","version":{"data":{"a":1,"a":2}}}`, ""},
		{0, "", `{"path":"../x","version":{"data":"x"}}`, ""},
		{0, "", `{"path":"fz/c","version":{"data":{"n":1e400}}}`, ""},
		{0, "", `{"path":"fz/d","version":{"data":` + strings.Repeat(`{"a":`, 70) + "1" + strings.Repeat("}", 70) + `}}`, ""},
		{0, "", "{\"path\":\"fz/\xff\",\"version\":{\"data\":{}}}", ""},
		{0, "", `{"path":"fz/e","version":{"data":{}}`, ""},
		{0, "", "path=fz&x=1", "application/x-www-form-urlencoded"},
		{1, "cas=1", `{"version":{"data":{"k":"w"}}}`, ""},
		{1, "cas=99999999999999999999", `{"metadata":{"customMetadata":{"":"x"}}}`, ""},
		{1, "cas=-1", `{}`, ""},
		{2, "cas=abc", `{"data":{"k":"v"}}`, "text/plain"},
		{2, "", `{"data":null}`, ""},
		{2, "", `[]`, ""},
		{3, "", `{"state":"deactivated"}`, ""},
		{3, "", `{"state":"ACTIVE"}`, ""},
		{3, "", `{"state":7}`, ""},
		{4, "", `{"maxVersions":24001,"deactivateVersionAfter":"x"}`, ""},
		{4, "", `{"casRequired":"yes"}`, ""},
		{4, "", `null`, ""},
	} {
		f.Add(s.route, s.query, []byte(s.body), s.contentTypes)
	}
	f.Fuzz(func(t *testing.T, route uint8, query string, body []byte, contentType string) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		target := "/api/" + domain + "/v2" + rt.target
		if query != "" {
			target += "?" + query
		}
		req, err := http.NewRequest(rt.method, "http://coffer"+target, bytes.NewReader(body))
		if err != nil {
			return // not a URL net/http would hand to coffer
		}
		req.Header.Set("Authorization", "Bearer "+rootToken)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		wantFuzzAnswer(t, rt.method, target, body, rec)
	})
}

// wantFuzzAnswer checks the answer to a fuzzed request: a 2xx, or a 4xx
// in the OKMS envelope (okms-rest.md 8.1) with an error_code.
func wantFuzzAnswer(t *testing.T, method, target string, body []byte, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s %s with body %q = %d %s", method, target, body, rec.Code, rec.Body)
	}
	if rec.Code < 400 {
		return
	}
	var e struct {
		ErrorCode int32    `json:"error_code"`
		ErrorID   string   `json:"error_id"`
		Errors    []string `json:"errors"`
		RequestID string   `json:"request_id"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e.ErrorID == "" || len(e.Errors) == 0 || e.RequestID == "" || e.ErrorCode == 0 {
		t.Fatalf("%s %s = %d with a body outside the OKMS envelope: %s", method, target, rec.Code, rec.Body)
	}
}
