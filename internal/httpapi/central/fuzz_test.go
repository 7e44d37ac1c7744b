package central_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// fuzzRoutes are the surface-A routes that decode a request body;
// {okmsId} is the default domain. Activating a domain is left out: each
// success starts the generation of its keys and access CA in the
// background, which would soon be all the fuzzer measures; its decoder is
// DecodeJSON, which the other routes exercise.
var fuzzRoutes = []struct{ method, target string }{
	{"PUT", "/v2/okms/resource/{okmsId}"},
	{"POST", "/v2/okms/resource/{okmsId}/secret"},
	{"PUT", "/v2/okms/resource/{okmsId}/secret/fz%2Fa"},
	{"POST", "/v2/okms/resource/{okmsId}/secret/fz%2Fa/version"},
	{"PUT", "/v2/okms/resource/{okmsId}/secret/fz%2Fa/version/1"},
	{"PUT", "/v2/okms/resource/{okmsId}/secretConfig"},
	{"POST", "/v2/okms/resource/{okmsId}/credential"},
	{"POST", "/v2/okms/resource/{okmsId}/serviceKey"},
	{"PUT", "/v2/okms/resource/{okmsId}/serviceKey/" + fuzzKeyID},
}

// fuzzKeyID is the service key the PUT route updates.
const fuzzKeyID = "11111111-1111-4111-8111-111111111111"

// FuzzBodies sends fuzzed bodies, query strings and content types to every
// surface-A route that reads a body, through the real handler over the
// real service (dev mode). Every answer must be a 2xx or a 4xx; a 4xx must
// be the OVH error envelope (okms-rest.md 8.2).
func FuzzBodies(f *testing.F) {
	srv := testenv.Start(f).Server
	h, domain := srv.Handler(), srv.DefaultDomain()
	send := func(method, target string, body []byte, contentType string) (*httptest.ResponseRecorder, bool) {
		req, err := http.NewRequest(method, "http://coffer"+strings.ReplaceAll(target, "{okmsId}", domain), bytes.NewReader(body))
		if err != nil {
			return nil, false
		}
		req.Header.Set("Authorization", "Bearer root")
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec, true
	}
	if rec, _ := send("POST", fuzzRoutes[1].target, []byte(`{"path":"fz/a","version":{"data":{"k":"v"}}}`), ""); rec.Code != 200 {
		f.Fatalf("create fz/a = %d %s", rec.Code, rec.Body)
	}
	if rec, _ := send("POST", "/api/{okmsId}/v1/servicekey", []byte(`{"id":"`+fuzzKeyID+`","name":"fz","type":"oct","size":128}`), ""); rec.Code != 201 {
		f.Fatalf("create a service key = %d %s", rec.Code, rec.Body)
	}

	for _, s := range []struct {
		route       uint8
		query, body string
	}{
		{0, "", `{"displayName":"renamed"}`},
		{0, "", `{"displayName":null}`},
		{0, "", `{"displayName":"\u0000"}`},
		{1, "", `{"path":"fz/b","version":{"data":{"a":1}},"metadata":{"maxVersions":5,"customMetadata":{"k":"v"}}}`},
		{1, "", `{"path":"fz/b","version":{"data":{"a":1,"a":2}}}`},
		{1, "", `{"path":"fz/%2e%2e","version":{"data":{}}}`},
		{1, "", `{"path":"fz/c","version":{"data":{"n":1e400}}}`},
		{2, "cas=1", `{"version":{"data":{"k":"w"}}}`},
		{2, "cas=x", `{"metadata":{"deactivateVersionAfter":"1y"}}`},
		{3, "", `{"data":{"k":"v"}}`},
		{3, "", `{"data":"v"}`},
		{4, "", `{"state":"DEACTIVATED"}`},
		{4, "", `{"state":"deactivated"}`},
		{5, "", `{"maxVersions":0,"casRequired":true}`},
		{5, "", `{"maxVersions":-1}`},
		{6, "", `{"name":"fz","csr":"-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----"}`},
		{6, "", `{"name":"fz","identityURNs":["urn:v1:eu:identity:account:coffer"],"validity":1}`},
		{7, "", `{"name":"fz","type":"RSA","size":2048,"operations":["sign","verify"],"context":"c"}`},
		{7, "", `{"name":"fz","keys":[{"kty":"oct","k":"Wc7IgEZzWicZf1LTJUtA0w","key_ops":["encrypt","decrypt"]}]}`},
		{7, "", `{"name":"fz","keys":[{"kty":"EC","crv":"P-256","x":"AA","y":"AA","d":"AA"}]}`},
		{8, "", `{"name":"fz2","state":"DEACTIVATED","deactivationReason":"UNSPECIFIED"}`},
		{8, "", `{"state":"COMPROMISED"}`},
		{8, "", `{"state":"ACTIVE","deactivationReason":null}`},
	} {
		f.Add(s.route, s.query, []byte(s.body), "application/json")
	}
	f.Fuzz(func(t *testing.T, route uint8, query string, body []byte, contentType string) {
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		target := rt.target
		if query != "" {
			target += "?" + query
		}
		rec, ok := send(rt.method, target, body, contentType)
		if !ok {
			return // not a URL net/http would hand to coffer
		}
		if rec.Code >= 500 {
			t.Fatalf("%s %s with body %q = %d %s", rt.method, target, body, rec.Code, rec.Body)
		}
		if rec.Code < 400 {
			return
		}
		var e struct {
			Class   string `json:"class"`
			Message string `json:"message"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || !strings.HasPrefix(e.Class, "Client::") || e.Message == "" {
			t.Fatalf("%s %s = %d with a body outside the OVH envelope: %s", rt.method, target, rec.Code, rec.Body)
		}
	})
}
