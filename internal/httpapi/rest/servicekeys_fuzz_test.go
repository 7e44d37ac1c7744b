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

// FuzzServiceKeyBodies sends fuzzed bodies and query strings to every
// service key route of surface B that reads one (issue 15, T5): JWK and
// wrapped imports, ciphertexts, data key blobs, sign and verify bodies,
// deactivation reasons and updates, through the real handler over the
// real service and key operations. Every answer must be a 2xx or a 4xx in
// the OKMS envelope with an error_code; the seeds hold a genuine
// ciphertext, data key blob, wrapped key and signature, which the fuzzer
// mutates.
func FuzzServiceKeyBodies(f *testing.F) {
	srv := testenv.Start(f).Server
	h, domain := srv.Handler(), srv.DefaultDomain()
	call := func(method, target, body string) []byte {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(method, "/api/"+domain+"/v1/servicekey"+target, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+rootToken)
		h.ServeHTTP(rec, req)
		if rec.Code/100 != 2 {
			f.Fatalf("%s %s = %d %s", method, target, rec.Code, rec.Body)
		}
		return rec.Body.Bytes()
	}
	field := func(b []byte, name string) string {
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		if s, ok := m[name].(string); ok {
			return s
		}
		w, _ := m["wrappedKeys"].([]any)
		if len(w) > 0 {
			return w[0].(map[string]any)[name].(string)
		}
		return ""
	}
	call("POST", "", `{"id":"`+octID+`","name":"fz-aes","type":"oct","size":256,"operations":["encrypt","decrypt","wrapKey","unwrapKey"],"extractable":true}`)
	call("POST", "", `{"id":"`+ecID+`","name":"fz-ec","keys":[`+ecJWK(true)+`]}`)
	call("POST", "", `{"id":"`+transportID+`","name":"fz-transport","type":"RSA","size":2048,"operations":["wrapKey","unwrapKey"]}`)
	ct := field(call("POST", "/"+octID+"/encrypt", `{"plaintext":"ZnV6eg==","context":"fz"}`), "ciphertext")
	blob := field(call("POST", "/"+octID+"/datakey", `{"size":128}`), "key")
	sig := field(call("POST", "/"+ecID+"/sign", `{"message":"ZnV6eg==","alg":"ES256"}`), "signature")
	jws := field(call("POST", "/"+ecID+"/sign?format=jws", `{"message":"ZnV6eg==","alg":"ES256"}`), "signature")
	wrapped := field(call("GET", "/"+octID+"?wrappingKeyId="+transportID+"&wrappedKeyFormat=JWK&wrappingAlgorithm=RSA-OAEP", ""), "ciphertext")

	routes := []struct{ method, target string }{
		{"POST", ""},
		{"POST", "/" + octID + "/encrypt"},
		{"POST", "/" + octID + "/decrypt"},
		{"POST", "/" + octID + "/datakey"},
		{"POST", "/" + octID + "/datakey/decrypt"},
		{"POST", "/" + ecID + "/sign"},
		{"POST", "/" + ecID + "/verify"},
		{"PATCH", "/" + ecID},
		{"POST", "/" + transportID + "/deactivate"},
	}
	for _, s := range []struct {
		route       uint8
		query, body string
	}{
		{0, "format=jwk", `{"name":"fz","keys":[` + ecJWK(true) + `]}`},
		{0, "", `{"name":"fz","keys":[{"kty":"oct","k":"YWFhYWFhYWFhYWFhYWFhYQ","key_ops":["encrypt"]}]}`},
		{0, "", `{"name":"fz","keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQ","p":"AQ","q":"AQ"}]}`},
		{0, "", `{"name":"fz","wrappedKeys":[{"keyFormatType":"JWK","wrappingKeyId":"` + transportID + `","ciphertext":"` + wrapped + `"}]}`},
		{0, "", `{"name":"fz","type":"EC","curve":"P-384","operations":["sign"],"id":"` + unknownKey + `"}`},
		{1, "", `{"plaintext":"ZnV6eg==","context":"fz"}`},
		{2, "", `{"ciphertext":"` + ct + `","context":"fz"}`},
		{3, "", `{"size":256,"name":"fz"}`},
		{4, "", `{"key":"` + blob + `"}`},
		{5, "format=jwt", `{"message":"eyJzdWIiOiJmeiJ9","alg":"ES256"}`},
		{5, "", `{"message":"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=","alg":"ES256","isdigest":true}`},
		{6, "", `{"message":"ZnV6eg==","alg":"ES256","signature":"` + sig + `"}`},
		{6, "", `{"message":"ZnV6eg==","signature":"` + jws + `"}`},
		{7, "", `{"name":"fz2","extractable":false}`},
		{8, "", `{"reason":"key_compromise"}`},
	} {
		f.Add(s.route, s.query, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, route uint8, query string, body []byte) {
		rt := routes[int(route)%len(routes)]
		target := "/api/" + domain + "/v1/servicekey" + rt.target
		if query != "" {
			target += "?" + query
		}
		req, err := http.NewRequest(rt.method, "http://coffer"+target, bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+rootToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		wantFuzzAnswer(t, rt.method, target, body, rec)
	})
}
