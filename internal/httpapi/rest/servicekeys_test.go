package rest_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/api"
)

// The service key routes of surface B (the OKMS swagger v2.17.0), end to
// end through the real server: every response shape pinned by a golden
// file, every refusal with its error id. Functional depth (the SDK, mTLS,
// openssl, streaming) is in e2e/servicekeys_test.go.

func init() {
	// coffer's service key errors (docs/design-notes.md, "Service keys"):
	// REST major 3, minor 3; violations in category 2, numbered
	// 1 + field*8 + rule.
	for id, def := range map[string]errorDef{
		"ServiceKeyNotFound":                   {404, 50548737},
		"ServiceKeyAlreadyExists":              {409, 50569217},
		"ServiceKeyNotActive":                  {400, 50561025},
		"ServiceKeyActive":                     {400, 50561026},
		"ServiceKeyDestroyed":                  {400, 50561027},
		"ServiceKeyOperationNotAllowed":        {400, 50561028},
		"ServiceKeyAlgorithmIncompatible":      {400, 50561029},
		"ServiceKeyNotExtractable":             {400, 50561030},
		"ServiceKeyCiphertextInvalid":          {400, 50561031},
		"ServiceKeySignatureInvalid":           {400, 50561033},
		"ServiceKeyStateTransitionInvalid":     {400, 50561034},
		"ServiceKeyFieldRequired":              {400, 50536449},
		"ServiceKeyIdInvalid":                  {400, 50536460},
		"ServiceKeyNameMaxExceeded":            {400, 50536467},
		"ServiceKeySizeInvalid":                {400, 50536492},
		"ServiceKeyCurveIncompatible":          {400, 50536501},
		"ServiceKeyOperationsIncompatible":     {400, 50536509},
		"ServiceKeyDeactivationReasonRequired": {400, 50536553},
		"ServiceKeyDeactivationReasonInvalid":  {400, 50536556},
		"ServiceKeyKeysInvalid":                {400, 50536524},
		"ServiceKeyWrappedKeysInvalid":         {400, 50536532},
		"ServiceKeyPlaintextMaxExceeded":       {400, 50536571},
		"ServiceKeyPlaintextInvalid":           {400, 50536572},
		"ServiceKeyMessageInvalid":             {400, 50536588},
		"ServiceKeyRandomLengthInvalid":        {400, 50536628},
		"ServiceKeyTypeRequired":               {400, 50536481},
		"ServiceKeyStateInvalid":               {400, 50536564},
		"ServiceKeyDataKeySizeInvalid":         {400, 50536620},
		"ServiceKeyProtectionLevelUnsupported": {400, 50536518},
		"ServiceKeySignatureFormatInvalid":     {400, 50536612},
		"ServiceKeyWrappingAlgorithmInvalid":   {400, 50536548},
	} {
		specErrors[id] = def
	}
}

// Fixed key ids, so that golden files are stable.
const (
	octID       = "11111111-1111-4111-8111-111111111111"
	ecID        = "22222222-2222-4222-8222-222222222222"
	rsaID       = "33333333-3333-4333-8333-333333333333"
	transportID = "44444444-4444-4444-8444-444444444444"
	unknownKey  = "99999999-9999-4999-8999-999999999999"
)

func keys(path string) string { return "/api/{okmsId}/v1/servicekey" + path }

// fixedEC is a P-256 key made from a fixed scalar, so that its public
// JWK and PEM are the same in every run (test material, not a secret).
var fixedEC = func() *ecdsa.PrivateKey {
	d := sha256.Sum256([]byte("coffer surface B golden key"))
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		panic(err)
	}
	return k
}()

func ecJWK(private bool) string {
	b, _ := fixedEC.PublicKey.Bytes()
	enc := base64.RawURLEncoding.EncodeToString
	m := map[string]any{"kty": "EC", "crv": "P-256", "x": enc(b[1:33]), "y": enc(b[33:])}
	if private {
		d, _ := fixedEC.Bytes()
		m["d"] = enc(d)
	}
	j, _ := json.Marshal(m)
	return string(j)
}

func (e *env) newKey(body string) api.ServiceKey {
	e.t.Helper()
	r := e.Call("POST", keys(""), body)
	if r.Status != http.StatusCreated {
		e.t.Fatalf("create key %s = %d %s", body, r.Status, r.Body)
	}
	return decode[api.ServiceKey](e.t, r)
}

// seedKeys creates an AES key, an EC key imported from fixedEC, an RSA
// key and an RSA transport key, with fixed ids.
func seedKeys(e *env) {
	e.newKey(`{"id":"` + octID + `","name":"test-aes-1","context":"test-aes-1","type":"oct","size":256,` +
		`"operations":["encrypt","decrypt","wrapKey","unwrapKey"],"extractable":true}`)
	e.newKey(`{"id":"` + ecID + `","name":"test-ecdsa-1","keys":[` + ecJWK(true) + `],"operations":["sign","verify"]}`)
	e.newKey(`{"id":"` + rsaID + `","name":"test-rsa-1","type":"RSA","size":2048,"operations":["sign","verify"]}`)
	e.newKey(`{"id":"` + transportID + `","name":"transport","type":"RSA","size":2048,"operations":["wrapKey","unwrapKey"]}`)
}

// dynamic matches the members whose values change at every call
// (ciphertexts, data keys, signatures, random bytes, wrapped keys).
var dynamic = regexp.MustCompile(`"(ciphertext|key|plaintext|signature|bytes|continuation_token)":"[^"]+"`)

// keyGolden pins a response whose random members are replaced by their
// name in angle brackets; keep lists the members to leave as they are.
func (e *env) keyGolden(t *testing.T, name string, r *response, keep ...string) {
	t.Helper()
	body := dynamic.ReplaceAllStringFunc(string(r.Body), func(m string) string {
		member := m[1 : strings.Index(m[1:], `"`)+1]
		for _, k := range keep {
			if k == member {
				return m
			}
		}
		return `"` + member + `":"<` + member + `>"`
	})
	c := *r
	c.Body = []byte(body)
	e.golden(t, name, &c)
}

func TestServiceKeys_Create(t *testing.T) {
	t.Parallel()
	octBody := `{"id":"` + octID + `","name":"test-aes-1","type":"oct","size":256,"operations":["encrypt","decrypt"]}`
	withKeys := func(e *env) { seedKeys(e) }
	cases := []apiCase{
		{name: "201/generate an AES key", target: keys(""), body: octBody, status: 201, golden: "service_key_create"},
		{name: "201/generate an RSA key", target: keys(""), status: 201,
			body: `{"name":"rsa","type":"RSA","size":3072,"operations":["encrypt","decrypt","wrapKey","unwrapKey"]}`},
		{name: "201/generate an EC key with the default usages", target: keys(""), status: 201,
			body: `{"name":"ec","type":"EC","curve":"P-521","protectionLevel":"SOFTWARE"}`,
			check: func(t *testing.T, _ *env, r *response) {
				k := decode[api.ServiceKey](t, r)
				want(t, "operations", strings.Join(k.Operations, ","), "sign,verify")
				want(t, "class", k.Class, "KEY_PAIR")
			}},
		{name: "201/import a JWK with format=jwk", target: keys("?format=jwk"), status: 201, golden: "service_key_import_jwk",
			body: `{"id":"` + ecID + `","name":"imported","keys":[` + ecJWK(true) + `],"operations":["sign","verify"]}`},
		{name: "201/import a public JWK with format=pem", target: keys("?format=pem"), status: 201, golden: "service_key_import_pem",
			body: `{"id":"` + ecID + `","name":"public","keys":[` + ecJWK(false) + `],"operations":["verify"]}`},
		{name: "201/import an AES key as okms-cli sends it", target: keys("?format=jwk"), status: 201,
			body: `{"name":"test-import-aes","context":"test-import-aes","keys":[{"kid":"test-import-aes","key_ops":["encrypt","decrypt"],` +
				`"kty":"oct","k":"YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE"}],"extractable":false}`,
			check: func(t *testing.T, _ *env, r *response) {
				k := decode[api.ServiceKey](t, r)
				if len(k.Keys) != 1 || k.Keys[0].K != "" || k.Keys[0].Kty != "oct" || k.Size != 256 {
					t.Errorf("an imported AES key shows %+v", k)
				}
			}},
		{name: "400/size", target: keys(""), body: `{"name":"k","type":"oct","size":512}`, status: 400,
			errID: "ServiceKeySizeInvalid", golden: "error_ServiceKeySizeInvalid"},
		{name: "400/curve on an RSA key", target: keys(""), body: `{"name":"k","type":"RSA","size":2048,"curve":"P-256"}`,
			status: 400, errID: "ServiceKeyCurveIncompatible"},
		{name: "400/operations that do not fit the type", target: keys(""), status: 400, errID: "ServiceKeyOperationsIncompatible",
			body: `{"name":"k","type":"EC","curve":"P-256","operations":["encrypt","decrypt"]}`, golden: "error_ServiceKeyOperationsIncompatible"},
		{name: "400/name too long, with every violation listed", target: keys(""), status: 400, errID: "ServiceKeyNameMaxExceeded",
			body: `{"name":"` + strings.Repeat("n", 33) + `","type":"oct","size":100}`, golden: "error_ServiceKeyNameMaxExceeded"},
		{name: "400/no type", target: keys(""), body: `{"name":"k"}`, status: 400, errID: "ServiceKeyTypeRequired"},
		{name: "400/HSM", target: keys(""), body: `{"name":"k","type":"oct","size":256,"protectionLevel":"HSM"}`,
			status: 400, errID: "ServiceKeyProtectionLevelUnsupported"},
		{name: "400/JWK that is not a key", target: keys(""), status: 400, errID: "ServiceKeyKeysInvalid", golden: "error_ServiceKeyKeysInvalid",
			body: `{"name":"k","keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}]}`},
		{name: "400/JWK member not base64url", target: keys(""), status: 400, errID: "ServiceKeyKeysInvalid",
			body: `{"name":"k","keys":[{"kty":"oct","k":"***"}]}`},
		{name: "400/malformed id", target: keys(""), body: `{"id":"x","name":"k","type":"oct","size":128}`, status: 400,
			errID: "ServiceKeyIdInvalid", golden: "error_ServiceKeyIdInvalid"},
		{name: "400/format=xml", target: keys("?format=xml"), body: octBody, status: 400, errID: "QueryParameterInvalid"},
		{name: "400/wrapped key with an unknown transport key", target: keys(""), status: 400, errID: "ServiceKeyWrappedKeysInvalid",
			body: `{"name":"k","wrappedKeys":[{"keyFormatType":"RAW","wrappingKeyId":"` + unknownKey + `","ciphertext":"a.b.c.d.e"}]}`},
		{name: "400/wrapped key that does not decrypt", setup: withKeys, target: keys(""), status: 400, errID: "ServiceKeyWrappedKeysInvalid",
			body:   `{"name":"k","wrappedKeys":[{"keyFormatType":"RAW","wrappingKeyId":"` + transportID + `","ciphertext":"a.b.c.d.e"}]}`,
			golden: "error_ServiceKeyWrappedKeysInvalid"},
		{name: "409/a key with this id exists", setup: withKeys, target: keys(""), body: octBody, status: 409,
			errID: "ServiceKeyAlreadyExists", golden: "error_ServiceKeyAlreadyExists"},
	}
	cases = append(cases, commonCases(nil, keys(""), `{"name":"k","type":"oct","size":128}`, 201, false)...)
	cases = append(cases, bodyCases(nil, keys(""), false)...)
	runCases(t, "POST", cases)
}

// manyKeys adds twelve more keys, three of them deactivated, for paging.
func manyKeys(e *env) {
	seedKeys(e)
	for i := range 12 {
		id := fmt.Sprintf("55555555-5555-4555-8555-5555555555%02d", i)
		e.newKey(`{"id":"` + id + `","name":"k` + fmt.Sprint(i) + `","type":"oct","size":128}`)
		if i%4 == 0 {
			e.Must("POST", keys("/"+id+"/deactivate"), `{"reason":"superseded"}`)
		}
	}
}

func TestServiceKeys_Read(t *testing.T) {
	t.Parallel()
	listed := func(n int, truncated bool) func(t *testing.T, e *env, r *response) {
		return func(t *testing.T, e *env, r *response) {
			l := decode[api.ListServiceKeysResponse](t, r)
			if len(l.ObjectsList) != n || l.IsTruncated != truncated || (l.ContinuationToken != "") != truncated {
				t.Errorf("%d keys, truncated %v, token %q; want %d, %v", len(l.ObjectsList), l.IsTruncated, l.ContinuationToken, n, truncated)
			}
		}
	}
	cases := []apiCase{
		{name: "200/get", target: keys("/" + octID), status: 200, golden: "service_key_get"},
		{name: "200/get an AES key with format=jwk", target: keys("/" + octID + "?format=jwk"), status: 200, golden: "service_key_get_oct_jwk"},
		{name: "200/get with format=jwk", target: keys("/" + ecID + "?format=jwk"), status: 200, golden: "service_key_get_jwk"},
		{name: "200/get with format=PEM", target: keys("/" + ecID + "?format=PEM"), status: 200, golden: "service_key_get_pem"},
		{name: "200/get an RSA key with format=jwk", target: keys("/" + rsaID + "?format=jwk"), status: 200,
			check: func(t *testing.T, _ *env, r *response) {
				k := decode[api.ServiceKey](t, r)
				if len(k.Keys) != 1 || k.Keys[0].N == "" || k.Keys[0].E != "AQAB" || k.Keys[0].Kid != rsaID || k.Keys[0].D != "" {
					t.Errorf("RSA public JWK %+v", k.Keys)
				}
			}},
		{name: "200/list", target: keys(""), status: 200, golden: "service_key_list", check: listed(16, false)},
		{name: "200/list a page", target: keys("?max=10"), status: 200, check: func(t *testing.T, e *env, r *response) {
			listed(10, true)(t, e, r)
			e.keyGolden(t, "service_key_list_page", r)
		}},
		{name: "200/list max below 10 is clamped", target: keys("?max=3"), status: 200, check: listed(10, true)},
		{name: "200/list deactivated", target: keys("?state=deactivated"), status: 200, check: listed(3, false)},
		{name: "200/list active", target: keys("?state=active&max=100"), status: 200, check: listed(13, false)},
		{name: "200/list all", target: keys("?state=all"), status: 200, check: listed(16, false)},
		{name: "200/list pre_active", target: keys("?state=pre_active"), status: 200, check: listed(0, false)},
		{name: "200/random", target: "/api/{okmsId}/v1/random?length=32", status: 200,
			check: func(t *testing.T, e *env, r *response) {
				e.keyGolden(t, "random", r)
				b, err := base64.StdEncoding.DecodeString(decode[api.RandomResponse](t, r).Bytes)
				if err != nil || len(b) != 32 {
					t.Errorf("random bytes: %d, %v", len(b), err)
				}
			}},
		{name: "200/random without length", target: "/api/{okmsId}/v1/random", status: 200,
			check: func(t *testing.T, _ *env, r *response) {
				want(t, "bytes", len(decode[api.RandomResponse](t, r).Bytes), 4)
			}},
		{name: "400/list state", target: keys("?state=ACTIVE"), status: 400, errID: "ServiceKeyStateInvalid", golden: "error_ServiceKeyStateInvalid"},
		{name: "400/list continuation-token", target: keys("?continuation-token=nope"), status: 400, errID: "PaginationCursorInvalid"},
		{name: "400/list max", target: keys("?max=ten"), status: 400, errID: "QueryParameterInvalid"},
		{name: "400/get format", target: keys("/" + ecID + "?format=der"), status: 400, errID: "QueryParameterInvalid"},
		{name: "400/get malformed key id", target: keys("/abc"), status: 400, errID: "ServiceKeyIdInvalid"},
		{name: "400/wrapped export of a key that is not extractable", status: 400, errID: "ServiceKeyNotExtractable",
			target: keys("/" + rsaID + "?wrappingKeyId=" + transportID + "&wrappedKeyFormat=PKCS8&wrappingAlgorithm=RSA-OAEP-256"),
			golden: "error_ServiceKeyNotExtractable"},
		{name: "400/wrapped export without a format", status: 400, errID: "ServiceKeyFieldRequired",
			target: keys("/" + octID + "?wrappingKeyId=" + transportID + "&wrappingAlgorithm=RSA-OAEP-256")},
		{name: "400/wrapped export with an unknown algorithm", status: 400, errID: "ServiceKeyWrappingAlgorithmInvalid",
			target: keys("/" + octID + "?wrappingKeyId=" + transportID + "&wrappedKeyFormat=RAW&wrappingAlgorithm=A256KW")},
		{name: "400/wrapped export in a format that does not fit", status: 400, errID: "ServiceKeyAlgorithmIncompatible",
			target: keys("/" + octID + "?wrappingKeyId=" + transportID + "&wrappedKeyFormat=PKCS8&wrappingAlgorithm=RSA-OAEP")},
		{name: "400/wrapped export parameters without wrappingKeyId", status: 400, errID: "QueryParameterInvalid",
			target: keys("/" + octID + "?wrappedKeyFormat=RAW")},
		{name: "400/random length", target: "/api/{okmsId}/v1/random?length=4097", status: 400, errID: "ServiceKeyRandomLengthInvalid",
			golden: "error_ServiceKeyRandomLengthInvalid"},
		{name: "400/random length not a number", target: "/api/{okmsId}/v1/random?length=x", status: 400, errID: "QueryParameterInvalid"},
		{name: "404/get an unknown key", target: keys("/" + unknownKey), status: 404, errID: "ServiceKeyNotFound", golden: "error_ServiceKeyNotFound"},
		{name: "404/list in an unknown domain", target: keys(""), okmsID: unknownDomain, status: 404, errID: "DomainNotFound"},
		{name: "404/random in an unknown domain", target: "/api/{okmsId}/v1/random", okmsID: unknownDomain, status: 404, errID: "DomainNotFound"},
		{name: "405/PUT a key", method: "PUT", target: keys("/" + octID), setup: manyKeys, status: 405, errID: "MethodNotAllowed"},
		{name: "405/GET encrypt", target: keys("/" + octID + "/encrypt"), status: 405, errID: "MethodNotAllowed"},
		{name: "405/POST random", method: "POST", target: "/api/{okmsId}/v1/random", setup: manyKeys, status: 405, errID: "MethodNotAllowed"},
		{name: "404/unknown key route", target: keys("/" + octID + "/rotate"), status: 404, errID: "RouteNotFound"},
	}
	cases = append(cases, commonCases(nil, keys(""), "", 200, false)...)
	runShared(t, manyKeys, cases)
}

// TestServiceKeys_Lifecycle: update, activate, deactivate, compromise,
// delete, as okms-cli's test suite does them.
func TestServiceKeys_Lifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seedKeys(e)
	k := keys("/" + octID)
	r := e.Call("PATCH", k, `{"name":"test-aes-1-updated","extractable":false}`)
	r.Expect(t, 200, "")
	e.golden(t, "service_key_update", r)
	e.Call("POST", k+"/activate", "").Expect(t, 204, "")
	r = e.Call("DELETE", k, "")
	r.Expect(t, 400, "ServiceKeyActive")
	e.golden(t, "error_ServiceKeyActive", r)
	r = e.Call("POST", k+"/deactivate", `{}`)
	r.Expect(t, 400, "ServiceKeyDeactivationReasonRequired")
	e.golden(t, "error_ServiceKeyDeactivationReasonRequired", r)
	e.Call("POST", k+"/deactivate", `{"reason":"KEY_COMPROMISE"}`).Expect(t, 400, "ServiceKeyDeactivationReasonInvalid")
	e.clock.Advance(61e9)
	r = e.Call("POST", k+"/deactivate", `{"reason":"unspecified"}`)
	r.Expect(t, 204, "")
	e.golden(t, "service_key_deactivate", r)
	e.clock.Advance(61e9)
	e.Call("POST", k+"/deactivate", `{"reason":"key_compromise"}`).Expect(t, 204, "")
	r = e.Call("GET", k, "")
	e.golden(t, "service_key_compromised", r)
	e.clock.Advance(61e9)
	e.Call("POST", k+"/activate", "").Expect(t, 204, "")
	if a := decode[api.ServiceKey](t, e.Call("GET", k, "")).Attributes; a.State != "active" || a.CompromiseDate != nil {
		t.Errorf("after reactivation: %+v", a)
	}
	r = e.Call("PATCH", k, `{}`)
	r.Expect(t, 400, "ServiceKeyFieldRequired")
	e.Call("POST", k+"/deactivate", `{"reason":"cessation_of_operation"}`).Expect(t, 204, "")
	e.Call("DELETE", k, "").Expect(t, 204, "")
	r = e.Call("GET", k, "")
	r.Expect(t, 200, "")
	e.golden(t, "service_key_destroyed", r)
	r = e.Call("POST", k+"/activate", "")
	r.Expect(t, 400, "ServiceKeyStateTransitionInvalid")
	r = e.Call("POST", k+"/decrypt", `{"ciphertext":"x"}`)
	r.Expect(t, 400, "ServiceKeyCiphertextInvalid")
	r = e.Call("PATCH", k, `{"name":"x"}`)
	r.Expect(t, 400, "ServiceKeyDestroyed")
	e.golden(t, "error_ServiceKeyDestroyed", r)
	e.Call("DELETE", k, "").Expect(t, 204, "")
	e.Call("DELETE", keys("/"+unknownKey), "").Expect(t, 404, "ServiceKeyNotFound")
}

// TestServiceKeys_Crypto: encrypt, decrypt, data keys, signatures and
// their refusals.
func TestServiceKeys_Crypto(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seedKeys(e)
	k := keys("/" + octID)
	b64 := base64.StdEncoding.EncodeToString
	r := e.Call("POST", k+"/encrypt", `{"plaintext":"`+b64([]byte("Hello World !!!"))+`","context":"ctx"}`)
	r.Expect(t, 200, "")
	e.keyGolden(t, "service_key_encrypt", r)
	ct := decode[api.EncryptResponse](t, r).Ciphertext
	r = e.Call("POST", k+"/decrypt", `{"ciphertext":"`+ct+`","context":"ctx"}`)
	r.Expect(t, 200, "")
	e.keyGolden(t, "service_key_decrypt", r, "plaintext")
	e.Call("POST", k+"/decrypt", `{"ciphertext":"`+ct+`"}`).Expect(t, 400, "ServiceKeyCiphertextInvalid")
	r = e.Call("POST", k+"/decrypt", `{"ciphertext":"not a jwe"}`)
	r.Expect(t, 400, "ServiceKeyCiphertextInvalid")
	e.golden(t, "error_ServiceKeyCiphertextInvalid", r)
	r = e.Call("POST", k+"/encrypt", `{"plaintext":"%%%"}`)
	r.Expect(t, 400, "ServiceKeyPlaintextInvalid")
	e.golden(t, "error_ServiceKeyPlaintextInvalid", r)
	e.Call("POST", k+"/encrypt", `{"plaintext":"`+b64(make([]byte, 4097))+`"}`).Expect(t, 400, "ServiceKeyPlaintextMaxExceeded")
	if r := e.Call("POST", k+"/encrypt", `{"plaintext":"`+b64(make([]byte, 4096))+`"}`); r.Status != 200 {
		t.Fatalf("4096 bytes: %d %s", r.Status, r.Body)
	} else {
		e.Call("POST", k+"/decrypt", `{"ciphertext":"`+decode[api.EncryptResponse](t, r).Ciphertext+`"}`).Expect(t, 200, "")
	}

	r = e.Call("POST", k+"/datakey", `{"name":"test-dk","size":256}`)
	r.Expect(t, 201, "")
	e.keyGolden(t, "service_key_datakey", r)
	dk := decode[api.GenerateDataKeyResponse](t, r)
	r = e.Call("POST", k+"/datakey/decrypt", `{"key":"`+dk.Key+`"}`)
	r.Expect(t, 200, "")
	want(t, "data key", decode[api.DecryptDataKeyResponse](t, r).Plaintext, dk.Plaintext)
	e.keyGolden(t, "service_key_datakey_decrypt", r)
	e.Call("POST", k+"/datakey", `{"size":100}`).Expect(t, 400, "ServiceKeyDataKeySizeInvalid")
	e.Call("POST", k+"/datakey/decrypt", `{"key":"`+ct+`"}`).Expect(t, 400, "ServiceKeyCiphertextInvalid")

	ec := keys("/" + ecID)
	msg := b64([]byte("hello world !!!"))
	r = e.Call("POST", ec+"/sign", `{"message":"`+msg+`","alg":"ES256"}`)
	r.Expect(t, 200, "")
	e.keyGolden(t, "service_key_sign", r)
	sig := decode[api.SignResponse](t, r).Signature
	r = e.Call("POST", ec+"/verify", `{"message":"`+msg+`","alg":"ES256","signature":"`+sig+`"}`)
	r.Expect(t, 200, "")
	e.golden(t, "service_key_verify", r)
	for label, body := range map[string]string{
		"okms-cli's bad signature": `{"message":"` + msg + `","alg":"ES256","signature":"YmFkIHNpZ25hdHVyZQo="}`,
		"another message":          `{"message":"` + b64([]byte("x")) + `","alg":"ES256","signature":"` + sig + `"}`,
	} {
		if got := decode[api.VerifyResponse](t, e.Must("POST", ec+"/verify", body)); got.Result {
			t.Errorf("%s verified", label)
		}
	}
	d := sha256.Sum256([]byte("hello world !!!"))
	jws := decode[api.SignResponse](t, e.Must("POST", ec+"/sign?format=jws", `{"message":"`+msg+`","alg":"ES256"}`)).Signature
	if got := decode[api.VerifyResponse](t, e.Must("POST", ec+"/verify", `{"message":"`+msg+`","signature":"`+jws+`"}`)); !got.Result {
		t.Error("a JWS does not verify")
	}
	digestSig := decode[api.SignResponse](t, e.Must("POST", ec+"/sign", `{"message":"`+b64(d[:])+`","alg":"ES256","isdigest":true}`)).Signature
	if got := decode[api.VerifyResponse](t, e.Must("POST", ec+"/verify", `{"message":"`+msg+`","alg":"ES256","signature":"`+digestSig+`"}`)); !got.Result {
		t.Error("a signature over a digest does not verify over the message")
	}
	r = e.Call("POST", ec+"/verify", `{"message":"`+msg+`","alg":"ES384","signature":"`+sig+`"}`)
	r.Expect(t, 400, "ServiceKeyAlgorithmIncompatible")
	e.golden(t, "error_ServiceKeyAlgorithmIncompatible", r)
	r = e.Call("POST", ec+"/verify", `{"message":"`+msg+`","alg":"ES256","signature":"!!"}`)
	r.Expect(t, 400, "ServiceKeySignatureInvalid")
	e.golden(t, "error_ServiceKeySignatureInvalid", r)
	r = e.Call("POST", ec+"/sign", `{"message":"`+msg+`","alg":"ES256","isdigest":true}`)
	r.Expect(t, 400, "ServiceKeyMessageInvalid")
	e.golden(t, "error_ServiceKeyMessageInvalid", r)
	e.Call("POST", ec+"/sign?format=pgp", `{"message":"`+msg+`","alg":"ES256"}`).Expect(t, 400, "ServiceKeySignatureFormatInvalid")
	e.Call("POST", ec+"/sign", `{"message":"`+msg+`"}`).Expect(t, 400, "ServiceKeyFieldRequired")
	r = e.Call("POST", ec+"/encrypt", `{"plaintext":"`+msg+`"}`)
	r.Expect(t, 400, "ServiceKeyAlgorithmIncompatible")
	r = e.Call("POST", keys("/"+rsaID)+"/encrypt", `{"plaintext":"`+msg+`"}`)
	r.Expect(t, 400, "ServiceKeyOperationNotAllowed")
	e.golden(t, "error_ServiceKeyOperationNotAllowed", r)
	e.Must("POST", ec+"/deactivate", `{"reason":"superseded"}`)
	r = e.Call("POST", ec+"/sign", `{"message":"`+msg+`","alg":"ES256"}`)
	r.Expect(t, 400, "ServiceKeyNotActive")
	e.golden(t, "error_ServiceKeyNotActive", r)
	if got := decode[api.VerifyResponse](t, e.Must("POST", ec+"/verify", `{"message":"`+msg+`","alg":"ES256","signature":"`+sig+`"}`)); !got.Result {
		t.Error("a deactivated key no longer verifies")
	}
}

// TestServiceKeys_Wrapped: a wrapped export in RAW and JWK, imported back.
func TestServiceKeys_Wrapped(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	seedKeys(e)
	for _, f := range []string{"RAW", "JWK"} {
		r := e.Call("GET", keys("/"+octID+"?wrappingKeyId="+transportID+"&wrappedKeyFormat="+f+"&wrappingAlgorithm=RSA-OAEP-256"), "")
		r.Expect(t, 200, "")
		if f == "RAW" {
			e.keyGolden(t, "service_key_wrapped_export", r)
		}
		w := decode[api.ServiceKey](t, r).WrappedKeys
		if len(w) != 1 || w[0].KeyFormatType != f || w[0].WrappingKeyID != transportID || strings.Count(w[0].Ciphertext, ".") != 4 {
			t.Fatalf("%s: wrapped keys %+v", f, w)
		}
		body, _ := json.Marshal(api.CreateServiceKeyRequest{Name: "imported-" + f, Operations: []string{"encrypt", "decrypt"},
			WrappedKeys: []api.WrappedKey{{KeyFormatType: f, WrappingKeyID: transportID, Ciphertext: w[0].Ciphertext}}})
		k := e.newKey(string(body))
		want(t, f+" size", k.Size, 256)
		want(t, f+" type", k.Type, "oct")
	}
}
