package transit_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/servicekey"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// FuzzRequests sends fuzzed bodies, query strings and paths to the Transit
// routes through the real handler over the real service (dev mode), with
// an AES key, an ECDSA key and an RSA key. Every answer must be below 500
// and in Vault's envelope (a failed batch: the envelope with its results).
func FuzzRequests(f *testing.F) {
	h := testenv.Start(f).Server.Handler()
	send := func(method, target string, body []byte) *httptest.ResponseRecorder {
		req, err := http.NewRequest(method, "http://coffer"+target, bytes.NewReader(body))
		if err != nil {
			return nil
		}
		req.Header.Set("X-Vault-Token", "root")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	for _, k := range []string{`fa {"type":"aes256-gcm96"}`, `fe {"type":"ecdsa-p256"}`, `fr {"type":"rsa-2048"}`} {
		name, body, _ := strings.Cut(k, " ")
		if rec := send("POST", "/v1/transit/keys/"+name, []byte(body)); rec.Code != 200 {
			f.Fatalf("create %s = %d %s", name, rec.Code, rec.Body)
		}
	}
	routes := []struct{ method, path string }{
		{"POST", "encrypt/"}, {"POST", "decrypt/"}, {"POST", "rewrap/"}, {"POST", "datakey/plaintext/"},
		{"POST", "sign/"}, {"POST", "verify/"}, {"POST", "hmac/"}, {"POST", "keys/"}, {"GET", "keys/"},
		{"POST", "random/"}, {"POST", "hash/"}, {"LIST", "keys"},
	}
	for _, s := range []struct {
		route      uint8
		rest, body string
	}{
		{0, "fa", `{"plaintext":"aGk=","context":"Yw=="}`},
		{0, "fa", `{"batch_input":[{"plaintext":"aGk=","key_version":"1"},{"plaintext":"!!"}]}`},
		{0, "fr", `{"plaintext":"` + strings.Repeat("QUFB", 100) + `"}`},
		{1, "fa", `{"ciphertext":"vault:v1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=="}`},
		{2, "fa", `{"batch_input":"[{\"ciphertext\":\"vault:v1:AA\"}]"}`},
		{3, "fa", `{"bits":"512"}`},
		{4, "fe/sha2-512", `{"input":"aGk=","marshaling_algorithm":"jws"}`},
		{4, "fr", `{"input":"aGk=","prehashed":true,"signature_algorithm":"pkcs1v15"}`},
		{5, "fe", `{"input":"aGk=","signature":"vault:v1:MEUCIQ=="}`},
		{6, "fa/sha3-256", `{"input":"aGk="}`},
		{7, "fa/config", `{"min_decryption_version":1,"min_encryption_version":"0","deletion_allowed":"false"}`},
		{7, "fa/trim", `{"min_available_version":1}`},
		{8, "fa", ""},
		{9, "16", `{"format":"hex"}`},
		{10, "sha2-512", `{"input":"YWJj","format":"base64"}`},
		{11, "", ""},
	} {
		f.Add(s.route, s.rest, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, route uint8, rest string, body []byte) {
		rt := routes[int(route)%len(routes)]
		if strings.HasSuffix(rest, "/rotate") || rt.path == "keys/" && rt.method == "POST" && !strings.Contains(rest, "/") {
			return // rotations and creations would only grow the store
		}
		target := "/v1/transit/" + rt.path + rest
		rec := send(rt.method, target, body)
		if rec == nil {
			return
		}
		if rec.Code >= 500 {
			t.Fatalf("%s %s with body %q = %d %s", rt.method, target, body, rec.Code, rec.Body)
		}
		b := bytes.TrimSpace(rec.Body.Bytes())
		if len(b) > 0 && !json.Valid(b) {
			t.Fatalf("%s %s = %d with a body that is not JSON: %s", rt.method, target, rec.Code, b)
		}
		if rec.Code >= 400 {
			// Vault's error body, or a batch's envelope with every result.
			var e struct {
				Errors *[]string
				Data   struct {
					BatchResults []any `json:"batch_results"`
				}
			}
			if json.Unmarshal(b, &e) != nil || e.Errors == nil && e.Data.BatchResults == nil {
				t.Fatalf("%s %s = %d outside Vault's error envelope: %s", rt.method, target, rec.Code, b)
			}
		}
	})
}

// FuzzTransitValue: ParseTransitValue never panics, reads back what
// TransitValue writes, and what it accepts writes back to an equivalent
// value.
func FuzzTransitValue(f *testing.F) {
	for _, s := range []string{"vault:v1:AAAA", "vault:v4294967295:QUJD", "vault:v0:AA", "vault:v01:AA", "vault:v1:", "vault:v1:a-_b", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, b, err := servicekey.ParseTransitValue(s)
		if err != nil {
			return
		}
		for _, url := range []bool{false, true} {
			v2, b2, err := servicekey.ParseTransitValue(servicekey.TransitValue(v, b, url))
			if err != nil || v2 != v || !bytes.Equal(b2, b) {
				t.Fatalf("%q: %d %x does not round-trip (url %v): %d %x %v", s, v, b, url, v2, b2, err)
			}
		}
	})
}
