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
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
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
	return wiretest.DecodeBody[api.ServiceKey](e.t, r)
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
	e.Golden(t, name, &c)
}

func TestServiceKeys_Create(t *testing.T) {
	t.Parallel()
	octBody := `{"id":"` + octID + `","name":"test-aes-1","type":"oct","size":256,"operations":["encrypt","decrypt"]}`
	withKeys := func(e *env) { seedKeys(e) }
	cases := []apiCase{
		{Name: "201/generate an AES key", Target: keys(""), Body: octBody, Status: 201, Golden: "service_key_create"},
		{Name: "201/generate an RSA key", Target: keys(""), Status: 201,
			Body: `{"name":"rsa","type":"RSA","size":3072,"operations":["encrypt","decrypt","wrapKey","unwrapKey"]}`},
		{Name: "201/generate an EC key with the default usages", Target: keys(""), Status: 201,
			Body: `{"name":"ec","type":"EC","curve":"P-521","protectionLevel":"SOFTWARE"}`,
			Check: func(t *testing.T, _ *env, r *response) {
				k := wiretest.DecodeBody[api.ServiceKey](t, r)
				want(t, "operations", strings.Join(k.Operations, ","), "sign,verify")
				want(t, "class", k.Class, "KEY_PAIR")
			}},
		{Name: "201/import a JWK with format=jwk", Target: keys("?format=jwk"), Status: 201, Golden: "service_key_import_jwk",
			Body: `{"id":"` + ecID + `","name":"imported","keys":[` + ecJWK(true) + `],"operations":["sign","verify"]}`},
		{Name: "201/import a public JWK with format=pem", Target: keys("?format=pem"), Status: 201, Golden: "service_key_import_pem",
			Body: `{"id":"` + ecID + `","name":"public","keys":[` + ecJWK(false) + `],"operations":["verify"]}`},
		{Name: "201/import an AES key as okms-cli sends it", Target: keys("?format=jwk"), Status: 201,
			Body: `{"name":"test-import-aes","context":"test-import-aes","keys":[{"kid":"test-import-aes","key_ops":["encrypt","decrypt"],` +
				`"kty":"oct","k":"YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWE"}],"extractable":false}`,
			Check: func(t *testing.T, _ *env, r *response) {
				k := wiretest.DecodeBody[api.ServiceKey](t, r)
				if len(k.Keys) != 1 || k.Keys[0].K != "" || k.Keys[0].Kty != "oct" || k.Size != 256 {
					t.Errorf("an imported AES key shows %+v", k)
				}
			}},
		{Name: "400/size", Target: keys(""), Body: `{"name":"k","type":"oct","size":512}`, Status: 400,
			Err: "ServiceKeySizeInvalid", Golden: "error_ServiceKeySizeInvalid"},
		{Name: "400/curve on an RSA key", Target: keys(""), Body: `{"name":"k","type":"RSA","size":2048,"curve":"P-256"}`,
			Status: 400, Err: "ServiceKeyCurveIncompatible"},
		{Name: "400/operations that do not fit the type", Target: keys(""), Status: 400, Err: "ServiceKeyOperationsIncompatible",
			Body: `{"name":"k","type":"EC","curve":"P-256","operations":["encrypt","decrypt"]}`, Golden: "error_ServiceKeyOperationsIncompatible"},
		{Name: "400/name too long, with every violation listed", Target: keys(""), Status: 400, Err: "ServiceKeyNameMaxExceeded",
			Body: `{"name":"` + strings.Repeat("n", 33) + `","type":"oct","size":100}`, Golden: "error_ServiceKeyNameMaxExceeded"},
		{Name: "400/no type", Target: keys(""), Body: `{"name":"k"}`, Status: 400, Err: "ServiceKeyTypeRequired"},
		{Name: "400/HSM", Target: keys(""), Body: `{"name":"k","type":"oct","size":256,"protectionLevel":"HSM"}`,
			Status: 400, Err: "ServiceKeyProtectionLevelUnsupported"},
		{Name: "400/JWK that is not a key", Target: keys(""), Status: 400, Err: "ServiceKeyKeysInvalid", Golden: "error_ServiceKeyKeysInvalid",
			Body: `{"name":"k","keys":[{"kty":"EC","crv":"P-256","x":"AAAA","y":"AAAA"}]}`},
		{Name: "400/JWK member not base64url", Target: keys(""), Status: 400, Err: "ServiceKeyKeysInvalid",
			Body: `{"name":"k","keys":[{"kty":"oct","k":"***"}]}`},
		{Name: "400/malformed id", Target: keys(""), Body: `{"id":"x","name":"k","type":"oct","size":128}`, Status: 400,
			Err: "ServiceKeyIdInvalid", Golden: "error_ServiceKeyIdInvalid"},
		{Name: "400/format=xml", Target: keys("?format=xml"), Body: octBody, Status: 400, Err: "QueryParameterInvalid"},
		{Name: "400/wrapped key with an unknown transport key", Target: keys(""), Status: 400, Err: "ServiceKeyWrappedKeysInvalid",
			Body: `{"name":"k","wrappedKeys":[{"keyFormatType":"RAW","wrappingKeyId":"` + unknownKey + `","ciphertext":"a.b.c.d.e"}]}`},
		{Name: "400/wrapped key that does not decrypt", Setup: withKeys, Target: keys(""), Status: 400, Err: "ServiceKeyWrappedKeysInvalid",
			Body:   `{"name":"k","wrappedKeys":[{"keyFormatType":"RAW","wrappingKeyId":"` + transportID + `","ciphertext":"a.b.c.d.e"}]}`,
			Golden: "error_ServiceKeyWrappedKeysInvalid"},
		{Name: "409/a key with this id exists", Setup: withKeys, Target: keys(""), Body: octBody, Status: 409,
			Err: "ServiceKeyAlreadyExists", Golden: "error_ServiceKeyAlreadyExists"},
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
			l := wiretest.DecodeBody[api.ListServiceKeysResponse](t, r)
			if len(l.ObjectsList) != n || l.IsTruncated != truncated || (l.ContinuationToken != "") != truncated {
				t.Errorf("%d keys, truncated %v, token %q; want %d, %v", len(l.ObjectsList), l.IsTruncated, l.ContinuationToken, n, truncated)
			}
		}
	}
	cases := []apiCase{
		{Name: "200/get", Target: keys("/" + octID), Status: 200, Golden: "service_key_get"},
		{Name: "200/get an AES key with format=jwk", Target: keys("/" + octID + "?format=jwk"), Status: 200, Golden: "service_key_get_oct_jwk"},
		{Name: "200/get with format=jwk", Target: keys("/" + ecID + "?format=jwk"), Status: 200, Golden: "service_key_get_jwk"},
		{Name: "200/get with format=PEM", Target: keys("/" + ecID + "?format=PEM"), Status: 200, Golden: "service_key_get_pem"},
		{Name: "200/get an RSA key with format=jwk", Target: keys("/" + rsaID + "?format=jwk"), Status: 200,
			Check: func(t *testing.T, _ *env, r *response) {
				k := wiretest.DecodeBody[api.ServiceKey](t, r)
				if len(k.Keys) != 1 || k.Keys[0].N == "" || k.Keys[0].E != "AQAB" || k.Keys[0].Kid != rsaID || k.Keys[0].D != "" {
					t.Errorf("RSA public JWK %+v", k.Keys)
				}
			}},
		{Name: "200/list", Target: keys(""), Status: 200, Golden: "service_key_list", Check: listed(16, false)},
		{Name: "200/list a page", Target: keys("?max=10"), Status: 200, Check: func(t *testing.T, e *env, r *response) {
			listed(10, true)(t, e, r)
			e.keyGolden(t, "service_key_list_page", r)
		}},
		{Name: "200/list max below 10 is clamped", Target: keys("?max=3"), Status: 200, Check: listed(10, true)},
		{Name: "200/list deactivated", Target: keys("?state=deactivated"), Status: 200, Check: listed(3, false)},
		{Name: "200/list active", Target: keys("?state=active&max=100"), Status: 200, Check: listed(13, false)},
		{Name: "200/list all", Target: keys("?state=all"), Status: 200, Check: listed(16, false)},
		{Name: "200/list pre_active", Target: keys("?state=pre_active"), Status: 200, Check: listed(0, false)},
		{Name: "200/random", Target: "/api/{okmsId}/v1/random?length=32", Status: 200,
			Check: func(t *testing.T, e *env, r *response) {
				e.keyGolden(t, "random", r)
				b, err := base64.StdEncoding.DecodeString(wiretest.DecodeBody[api.RandomResponse](t, r).Bytes)
				if err != nil || len(b) != 32 {
					t.Errorf("random bytes: %d, %v", len(b), err)
				}
			}},
		{Name: "200/random without length", Target: "/api/{okmsId}/v1/random", Status: 200,
			Check: func(t *testing.T, _ *env, r *response) {
				want(t, "bytes", len(wiretest.DecodeBody[api.RandomResponse](t, r).Bytes), 4)
			}},
		{Name: "400/list state", Target: keys("?state=ACTIVE"), Status: 400, Err: "ServiceKeyStateInvalid", Golden: "error_ServiceKeyStateInvalid"},
		{Name: "400/list continuation-token", Target: keys("?continuation-token=nope"), Status: 400, Err: "PaginationCursorInvalid"},
		{Name: "400/list max", Target: keys("?max=ten"), Status: 400, Err: "QueryParameterInvalid"},
		{Name: "400/get format", Target: keys("/" + ecID + "?format=der"), Status: 400, Err: "QueryParameterInvalid"},
		{Name: "400/get malformed key id", Target: keys("/abc"), Status: 400, Err: "ServiceKeyIdInvalid"},
		{Name: "400/wrapped export of a key that is not extractable", Status: 400, Err: "ServiceKeyNotExtractable",
			Target: keys("/" + rsaID + "?wrappingKeyId=" + transportID + "&wrappedKeyFormat=PKCS8&wrappingAlgorithm=RSA-OAEP-256"),
			Golden: "error_ServiceKeyNotExtractable"},
		{Name: "400/wrapped export without a format", Status: 400, Err: "ServiceKeyFieldRequired",
			Target: keys("/" + octID + "?wrappingKeyId=" + transportID + "&wrappingAlgorithm=RSA-OAEP-256")},
		{Name: "400/wrapped export with an unknown algorithm", Status: 400, Err: "ServiceKeyWrappingAlgorithmInvalid",
			Target: keys("/" + octID + "?wrappingKeyId=" + transportID + "&wrappedKeyFormat=RAW&wrappingAlgorithm=A256KW")},
		{Name: "400/wrapped export in a format that does not fit", Status: 400, Err: "ServiceKeyAlgorithmIncompatible",
			Target: keys("/" + octID + "?wrappingKeyId=" + transportID + "&wrappedKeyFormat=PKCS8&wrappingAlgorithm=RSA-OAEP")},
		{Name: "400/wrapped export parameters without wrappingKeyId", Status: 400, Err: "QueryParameterInvalid",
			Target: keys("/" + octID + "?wrappedKeyFormat=RAW")},
		{Name: "400/random length", Target: "/api/{okmsId}/v1/random?length=4097", Status: 400, Err: "ServiceKeyRandomLengthInvalid",
			Golden: "error_ServiceKeyRandomLengthInvalid"},
		{Name: "400/random length not a number", Target: "/api/{okmsId}/v1/random?length=x", Status: 400, Err: "QueryParameterInvalid"},
		{Name: "404/get an unknown key", Target: keys("/" + unknownKey), Status: 404, Err: "ServiceKeyNotFound", Golden: "error_ServiceKeyNotFound"},
		{Name: "404/list in an unknown domain", Target: keys(""), Domain: unknownDomain, Status: 404, Err: "DomainNotFound"},
		{Name: "404/random in an unknown domain", Target: "/api/{okmsId}/v1/random", Domain: unknownDomain, Status: 404, Err: "DomainNotFound"},
		{Name: "405/PUT a key", Method: "PUT", Target: keys("/" + octID), Setup: manyKeys, Status: 405, Err: "MethodNotAllowed"},
		{Name: "405/GET encrypt", Target: keys("/" + octID + "/encrypt"), Status: 405, Err: "MethodNotAllowed"},
		{Name: "405/POST random", Method: "POST", Target: "/api/{okmsId}/v1/random", Setup: manyKeys, Status: 405, Err: "MethodNotAllowed"},
		{Name: "404/unknown key route", Target: keys("/" + octID + "/rotate"), Status: 404, Err: "RouteNotFound"},
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
	e.Golden(t, "service_key_update", r)
	e.Call("POST", k+"/activate", "").Expect(t, 204, "")
	r = e.Call("DELETE", k, "")
	r.Expect(t, 400, "ServiceKeyActive")
	e.Golden(t, "error_ServiceKeyActive", r)
	r = e.Call("POST", k+"/deactivate", `{}`)
	r.Expect(t, 400, "ServiceKeyDeactivationReasonRequired")
	e.Golden(t, "error_ServiceKeyDeactivationReasonRequired", r)
	e.Call("POST", k+"/deactivate", `{"reason":"KEY_COMPROMISE"}`).Expect(t, 400, "ServiceKeyDeactivationReasonInvalid")
	e.Clock.Advance(61e9)
	r = e.Call("POST", k+"/deactivate", `{"reason":"unspecified"}`)
	r.Expect(t, 204, "")
	e.Golden(t, "service_key_deactivate", r)
	e.Clock.Advance(61e9)
	e.Call("POST", k+"/deactivate", `{"reason":"key_compromise"}`).Expect(t, 204, "")
	r = e.Call("GET", k, "")
	e.Golden(t, "service_key_compromised", r)
	e.Clock.Advance(61e9)
	e.Call("POST", k+"/activate", "").Expect(t, 204, "")
	if a := wiretest.DecodeBody[api.ServiceKey](t, e.Call("GET", k, "")).Attributes; a.State != "active" || a.CompromiseDate != nil {
		t.Errorf("after reactivation: %+v", a)
	}
	r = e.Call("PATCH", k, `{}`)
	r.Expect(t, 400, "ServiceKeyFieldRequired")
	e.Call("POST", k+"/deactivate", `{"reason":"cessation_of_operation"}`).Expect(t, 204, "")
	e.Call("DELETE", k, "").Expect(t, 204, "")
	r = e.Call("GET", k, "")
	r.Expect(t, 200, "")
	e.Golden(t, "service_key_destroyed", r)
	r = e.Call("POST", k+"/activate", "")
	r.Expect(t, 400, "ServiceKeyStateTransitionInvalid")
	r = e.Call("POST", k+"/decrypt", `{"ciphertext":"x"}`)
	r.Expect(t, 400, "ServiceKeyCiphertextInvalid")
	r = e.Call("PATCH", k, `{"name":"x"}`)
	r.Expect(t, 400, "ServiceKeyDestroyed")
	e.Golden(t, "error_ServiceKeyDestroyed", r)
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
	ct := wiretest.DecodeBody[api.EncryptResponse](t, r).Ciphertext
	r = e.Call("POST", k+"/decrypt", `{"ciphertext":"`+ct+`","context":"ctx"}`)
	r.Expect(t, 200, "")
	e.keyGolden(t, "service_key_decrypt", r, "plaintext")
	e.Call("POST", k+"/decrypt", `{"ciphertext":"`+ct+`"}`).Expect(t, 400, "ServiceKeyCiphertextInvalid")
	r = e.Call("POST", k+"/decrypt", `{"ciphertext":"not a jwe"}`)
	r.Expect(t, 400, "ServiceKeyCiphertextInvalid")
	e.Golden(t, "error_ServiceKeyCiphertextInvalid", r)
	r = e.Call("POST", k+"/encrypt", `{"plaintext":"%%%"}`)
	r.Expect(t, 400, "ServiceKeyPlaintextInvalid")
	e.Golden(t, "error_ServiceKeyPlaintextInvalid", r)
	e.Call("POST", k+"/encrypt", `{"plaintext":"`+b64(make([]byte, 4097))+`"}`).Expect(t, 400, "ServiceKeyPlaintextMaxExceeded")
	if r := e.Call("POST", k+"/encrypt", `{"plaintext":"`+b64(make([]byte, 4096))+`"}`); r.Status != 200 {
		t.Fatalf("4096 bytes: %d %s", r.Status, r.Body)
	} else {
		e.Call("POST", k+"/decrypt", `{"ciphertext":"`+wiretest.DecodeBody[api.EncryptResponse](t, r).Ciphertext+`"}`).Expect(t, 200, "")
	}

	r = e.Call("POST", k+"/datakey", `{"name":"test-dk","size":256}`)
	r.Expect(t, 201, "")
	e.keyGolden(t, "service_key_datakey", r)
	dk := wiretest.DecodeBody[api.GenerateDataKeyResponse](t, r)
	r = e.Call("POST", k+"/datakey/decrypt", `{"key":"`+dk.Key+`"}`)
	r.Expect(t, 200, "")
	want(t, "data key", wiretest.DecodeBody[api.DecryptDataKeyResponse](t, r).Plaintext, dk.Plaintext)
	e.keyGolden(t, "service_key_datakey_decrypt", r)
	e.Call("POST", k+"/datakey", `{"size":100}`).Expect(t, 400, "ServiceKeyDataKeySizeInvalid")
	e.Call("POST", k+"/datakey/decrypt", `{"key":"`+ct+`"}`).Expect(t, 400, "ServiceKeyCiphertextInvalid")

	ec := keys("/" + ecID)
	msg := b64([]byte("hello world !!!"))
	r = e.Call("POST", ec+"/sign", `{"message":"`+msg+`","alg":"ES256"}`)
	r.Expect(t, 200, "")
	e.keyGolden(t, "service_key_sign", r)
	sig := wiretest.DecodeBody[api.SignResponse](t, r).Signature
	r = e.Call("POST", ec+"/verify", `{"message":"`+msg+`","alg":"ES256","signature":"`+sig+`"}`)
	r.Expect(t, 200, "")
	e.Golden(t, "service_key_verify", r)
	for label, body := range map[string]string{
		"okms-cli's bad signature": `{"message":"` + msg + `","alg":"ES256","signature":"YmFkIHNpZ25hdHVyZQo="}`,
		"another message":          `{"message":"` + b64([]byte("x")) + `","alg":"ES256","signature":"` + sig + `"}`,
	} {
		if got := wiretest.DecodeBody[api.VerifyResponse](t, e.Must("POST", ec+"/verify", body)); got.Result {
			t.Errorf("%s verified", label)
		}
	}
	d := sha256.Sum256([]byte("hello world !!!"))
	jws := wiretest.DecodeBody[api.SignResponse](t, e.Must("POST", ec+"/sign?format=jws", `{"message":"`+msg+`","alg":"ES256"}`)).Signature
	if got := wiretest.DecodeBody[api.VerifyResponse](t, e.Must("POST", ec+"/verify", `{"message":"`+msg+`","signature":"`+jws+`"}`)); !got.Result {
		t.Error("a JWS does not verify")
	}
	digestSig := wiretest.DecodeBody[api.SignResponse](t, e.Must("POST", ec+"/sign", `{"message":"`+b64(d[:])+`","alg":"ES256","isdigest":true}`)).Signature
	if got := wiretest.DecodeBody[api.VerifyResponse](t, e.Must("POST", ec+"/verify", `{"message":"`+msg+`","alg":"ES256","signature":"`+digestSig+`"}`)); !got.Result {
		t.Error("a signature over a digest does not verify over the message")
	}
	r = e.Call("POST", ec+"/verify", `{"message":"`+msg+`","alg":"ES384","signature":"`+sig+`"}`)
	r.Expect(t, 400, "ServiceKeyAlgorithmIncompatible")
	e.Golden(t, "error_ServiceKeyAlgorithmIncompatible", r)
	r = e.Call("POST", ec+"/verify", `{"message":"`+msg+`","alg":"ES256","signature":"!!"}`)
	r.Expect(t, 400, "ServiceKeySignatureInvalid")
	e.Golden(t, "error_ServiceKeySignatureInvalid", r)
	r = e.Call("POST", ec+"/sign", `{"message":"`+msg+`","alg":"ES256","isdigest":true}`)
	r.Expect(t, 400, "ServiceKeyMessageInvalid")
	e.Golden(t, "error_ServiceKeyMessageInvalid", r)
	e.Call("POST", ec+"/sign?format=pgp", `{"message":"`+msg+`","alg":"ES256"}`).Expect(t, 400, "ServiceKeySignatureFormatInvalid")
	e.Call("POST", ec+"/sign", `{"message":"`+msg+`"}`).Expect(t, 400, "ServiceKeyFieldRequired")
	r = e.Call("POST", ec+"/encrypt", `{"plaintext":"`+msg+`"}`)
	r.Expect(t, 400, "ServiceKeyAlgorithmIncompatible")
	r = e.Call("POST", keys("/"+rsaID)+"/encrypt", `{"plaintext":"`+msg+`"}`)
	r.Expect(t, 400, "ServiceKeyOperationNotAllowed")
	e.Golden(t, "error_ServiceKeyOperationNotAllowed", r)
	e.Must("POST", ec+"/deactivate", `{"reason":"superseded"}`)
	r = e.Call("POST", ec+"/sign", `{"message":"`+msg+`","alg":"ES256"}`)
	r.Expect(t, 400, "ServiceKeyNotActive")
	e.Golden(t, "error_ServiceKeyNotActive", r)
	if got := wiretest.DecodeBody[api.VerifyResponse](t, e.Must("POST", ec+"/verify", `{"message":"`+msg+`","alg":"ES256","signature":"`+sig+`"}`)); !got.Result {
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
		w := wiretest.DecodeBody[api.ServiceKey](t, r).WrappedKeys
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
