package central_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// Service keys on surface A (issue 15): the routes terraform's
// ovh_okms_service_key, ovh_okms_service_key_jwk and
// ovh_okms_service_key_pem call, as they call them.

type keyOut struct {
	ID                 string           `json:"id"`
	Name               string           `json:"name"`
	Type               string           `json:"type"`
	Size               *int             `json:"size"`
	Curve              *string          `json:"curve"`
	Operations         []string         `json:"operations"`
	Context            *string          `json:"context"`
	State              string           `json:"state"`
	DeactivationReason *string          `json:"deactivationReason"`
	CreatedAt          string           `json:"createdAt"`
	Keys               []map[string]any `json:"keys"`
	KeysPEM            []struct {
		PEM string `json:"pem"`
	} `json:"keysPEM"`
	IAM iamOut `json:"iam"`
}

func keysA(path string) string { return "/serviceKey" + path }

// goldenEC is a P-256 key from a fixed scalar: its public JWK and PEM are
// the same in every run (test material, not a secret).
var goldenEC = func() *ecdsa.PrivateKey {
	d := sha256.Sum256([]byte("coffer surface A golden key"))
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		panic(err)
	}
	return k
}()

// ecJWKA is the key as terraform's ovh_okms_service_key_jwk sends it.
func ecJWKA() string {
	b, _ := goldenEC.PublicKey.Bytes()
	d, _ := goldenEC.Bytes()
	enc := base64.RawURLEncoding.EncodeToString
	j, _ := json.Marshal(map[string]any{"key_ops": []string{"sign", "verify"}, "kty": "EC", "crv": "P-256",
		"d": enc(d), "x": enc(b[1:33]), "y": enc(b[33:])})
	return string(j)
}

func (e *env) newKeyA(body string) keyOut {
	e.t.Helper()
	return wiretest.DecodeBody[keyOut](e.t, e.Must("POST", keysA(""), body))
}

const (
	octBodyA = `{"name":"tf-sk-oct","type":"oct","size":256,"operations":["encrypt","decrypt"],"context":"ctx"}`
	rsaBodyA = `{"name":"tf-sk-rsa","type":"RSA","size":2048,"operations":["sign","verify"]}`
	ecBodyA  = `{"name":"tf-sk-ecdsa","type":"EC","curve":"P-256","operations":["sign","verify"]}`
)

func TestServiceKeysA_Create(t *testing.T) {
	t.Parallel()
	cls := func(id string) string { return "Client::BadRequest::" + id }
	cases := []apiCase{
		{Name: "200/generate an AES key", Body: octBodyA, Status: 200, Golden: "service_key_create",
			Check: func(t *testing.T, _ *env, r *response) {
				k := wiretest.DecodeBody[keyOut](t, r)
				want(t, "state", k.State, "ACTIVE")
				want(t, "iam ovh:type", k.IAM.Tags["ovh:type"], "oct")
				want(t, "iam ovh:state", k.IAM.Tags["ovh:state"], "ACTIVE")
				want(t, "iam displayName", k.IAM.DisplayName, "tf-sk-oct")
				if k.Curve != nil || k.Size == nil || *k.Size != 256 || k.DeactivationReason != nil || *k.Context != "ctx" {
					t.Errorf("AES key %+v", k)
				}
			}},
		{Name: "200/generate an RSA key", Body: rsaBodyA, Status: 200},
		{Name: "200/generate an EC key", Body: ecBodyA, Status: 200, Check: func(t *testing.T, _ *env, r *response) {
			k := wiretest.DecodeBody[keyOut](t, r)
			if k.Size != nil || k.Curve == nil || *k.Curve != "P-256" || k.Context != nil {
				t.Errorf("EC key %+v", k)
			}
		}},
		{Name: "200/import a JWK as terraform does", Body: `{"name":"tf-sk-ecdsa-jwk","context":"ctx","keys":[` + ecJWKA() + `]}`,
			Status: 200, Golden: "service_key_import"},
		{Name: "200/import an AES JWK as terraform does", Status: 200,
			Body: `{"name":"tf-sk-oct-jwk","keys":[{"k":"Wc7IgEZzWicZf1LTJUtA0w","key_ops":["encrypt","decrypt"],"kty":"oct"}]}`,
			Check: func(t *testing.T, _ *env, r *response) {
				k := wiretest.DecodeBody[keyOut](t, r)
				if k.Type != "oct" || *k.Size != 128 || strings.Join(k.Operations, ",") != "encrypt,decrypt" {
					t.Errorf("imported AES key %+v", k)
				}
			}},
		{Name: "400/name", Body: `{"name":"` + strings.Repeat("n", 33) + `","type":"oct","size":256}`, Status: 400,
			Err: cls("ServiceKeyNameMaxExceeded"), Golden: "error_ServiceKeyNameMaxExceeded"},
		{Name: "400/size", Body: `{"name":"k","type":"RSA","size":1024}`, Status: 400, Err: cls("ServiceKeySizeInvalid"),
			Golden: "error_ServiceKeySizeInvalid"},
		{Name: "400/curve", Body: `{"name":"k","type":"oct","size":256,"curve":"P-256"}`, Status: 400,
			Err: cls("ServiceKeyCurveIncompatible"), Golden: "error_ServiceKeyCurveIncompatible"},
		{Name: "400/operations", Body: `{"name":"k","type":"EC","curve":"P-384","operations":["encrypt"]}`, Status: 400,
			Err: cls("ServiceKeyOperationsIncompatible"), Golden: "error_ServiceKeyOperationsIncompatible"},
		{Name: "400/JWK", Body: `{"name":"k","keys":[{"kty":"RSA","n":"AQAB","e":"AQAB"}]}`, Status: 400, Err: cls("ServiceKeyKeysInvalid")},
	}
	cases = append(cases, commonCases(nil, keysA(""), octBodyA, 200, false)...)
	cases = append(cases, bodyCases(nil, keysA(""), false)...)
	runCases(t, "POST", keysA(""), cases)
}

// TestServiceKeysA_Terraform runs what terraform does with a key: create,
// read (with its JWK and PEM data sources), rename, then destroy by
// deactivating (PUT state DEACTIVATED, reason UNSPECIFIED) and deleting.
func TestServiceKeysA_Terraform(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ec := e.newKeyA(`{"name":"tf-sk-ecdsa-jwk","keys":[` + ecJWKA() + `]}`)
	oct := e.newKeyA(octBodyA)
	k := keysA("/" + ec.ID)
	r := e.Call("GET", k+"?format=JWK", "")
	r.Expect(t, 200, "")
	e.Golden(t, "service_key_get_jwk", r)
	got := wiretest.DecodeBody[keyOut](t, r)
	if len(got.Keys) != 1 || got.Keys[0]["kid"] != ec.ID || got.Keys[0]["kty"] != "EC" || got.Keys[0]["d"] != nil || got.Keys[0]["use"] != nil {
		t.Errorf("JWK %+v", got.Keys)
	}
	r = e.Call("GET", k+"?format=PEM", "")
	r.Expect(t, 200, "")
	e.Golden(t, "service_key_get_pem", r)
	if got := wiretest.DecodeBody[keyOut](t, e.Must("GET", keysA("/"+oct.ID+"?format=PEM"), "")); got.KeysPEM != nil {
		t.Errorf("an AES key has a PEM: %+v", got.KeysPEM)
	}
	if got := wiretest.DecodeBody[keyOut](t, e.Must("GET", keysA("/"+oct.ID+"?format=JWK"), "")); len(got.Keys) != 1 || got.Keys[0]["kty"] != "oct" || got.Keys[0]["k"] != nil {
		t.Errorf("AES JWK %+v", got.Keys)
	}
	e.Call("GET", k+"?format=DER", "").Expect(t, 400, "Client::BadRequest::QueryParameterInvalid")

	e.Clock.Advance(time.Minute)
	r = e.Call("PUT", k, `{"name":"tf-sk-ecdsa-jwk2"}`)
	r.Expect(t, 200, "")
	e.Golden(t, "service_key_update", r)
	r = e.Call("PUT", k, `{"name":"tf-sk-ecdsa-jwk2","state":"DEACTIVATED"}`)
	r.Expect(t, 400, "Client::BadRequest::ServiceKeyDeactivationReasonRequired")
	e.Golden(t, "error_ServiceKeyDeactivationReasonRequired", r)
	e.Call("PUT", k, `{"state":"DESTROYED"}`).Expect(t, 400, "Client::BadRequest::ServiceKeyStateInvalid")
	e.Call("PUT", k, `{"state":"COMPROMISED","deactivationReason":"SUPERSEDED"}`).Expect(t, 400,
		"Client::BadRequest::ServiceKeyDeactivationReasonIncompatible")
	r = e.Call("DELETE", k, "")
	r.Expect(t, 400, "Client::BadRequest::ServiceKeyActive")
	e.Golden(t, "error_ServiceKeyActive", r)
	r = e.Call("PUT", k, `{"name":"tf-sk-ecdsa-jwk2","state":"COMPROMISED"}`)
	r.Expect(t, 200, "")
	if got := wiretest.DecodeBody[keyOut](t, r); got.State != "COMPROMISED" || got.DeactivationReason == nil || *got.DeactivationReason != "KEY_COMPROMISE" ||
		got.IAM.Tags["ovh:state"] != "COMPROMISED" {
		t.Errorf("compromised key %+v", got)
	}
	e.Must("PUT", k, `{"state":"ACTIVE"}`)
	r = e.Call("PUT", k, `{"name":"tf-sk-ecdsa-jwk2","state":"DEACTIVATED","deactivationReason":"UNSPECIFIED"}`)
	r.Expect(t, 200, "")
	e.Golden(t, "service_key_deactivated", r)
	e.Call("DELETE", k, "").Expect(t, http.StatusNoContent, "")
	if got := wiretest.DecodeBody[keyOut](t, e.Must("GET", k, "")); got.State != "DESTROYED" {
		t.Errorf("after DELETE: %+v", got)
	}
	r = e.Call("GET", keysA("/0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f"), "")
	r.Expect(t, 404, "Client::NotFound::ServiceKeyNotFound")
	e.Golden(t, "error_ServiceKeyNotFound", r)
	e.Call("GET", keysA("/not-a-key"), "").Expect(t, 400, "Client::BadRequest::ServiceKeyIdInvalid")
	e.Call("PATCH", k, `{}`).Expect(t, 405, "Client::MethodNotAllowed")

	// The list, in pages, and the domain's serviceKeyCount.
	for range 11 {
		e.newKeyA(`{"name":"k","type":"oct","size":128}`)
	}
	var all []keyOut
	cursor := ""
	for range 10 {
		r := e.Send(request{Method: "GET", Target: keysA(""), Header: map[string]string{hPageSize: "10", hCursor: cursor}})
		r.Expect(t, 200, "")
		all = append(all, wiretest.DecodeBody[[]keyOut](t, r)...)
		if cursor = r.Header.Get(hCursorNext); cursor == "" {
			break
		}
	}
	if len(all) != 13 {
		t.Errorf("listed %d keys, want 13", len(all))
	}
	dom := wiretest.DecodeBody[struct {
		ServiceKeyCount int `json:"serviceKeyCount"`
	}](t, e.Must("GET", "/v2/okms/resource/{okmsId}", ""))
	want(t, "serviceKeyCount", dom.ServiceKeyCount, 12)
}

func TestServiceKeysA_List(t *testing.T) {
	t.Parallel()
	one := func(e *env) { e.newKeyA(rsaBodyA) }
	cases := []apiCase{
		{Name: "200/list", Setup: one, Status: 200, Golden: "service_key_list"},
		{Name: "200/empty list", Status: 200, Check: func(t *testing.T, _ *env, r *response) { want(t, "body", string(r.Body), "[]") }},
		{Name: "400/cursor", Setup: one, Status: 400, Err: "Client::BadRequest::PaginationCursorInvalid",
			Header: map[string]string{hCursor: "nope"}},
	}
	cases = append(cases, commonCases(nil, keysA(""), "", 200, false)...)
	runCases(t, "GET", keysA(""), cases)
}

func TestServiceKeysA_Reference(t *testing.T) {
	t.Parallel()
	cases := []apiCase{
		{Name: "200/reference", Status: 200, Golden: "service_key_reference"},
		{Name: "200/reference of the region", Target: "/v2/okms/reference/serviceKey?region=local", Status: 200},
		{Name: "404/reference of another region", Target: "/v2/okms/reference/serviceKey?region=eu-west-par", Status: 404,
			Err: "Client::NotFound::RegionNotFound"},
		{Name: "401/no token", Status: 401, Err: clsUnauthorized, Header: map[string]string{"Authorization": ""}},
		{Name: "405/POST", Method: "POST", Status: 405, Err: "Client::MethodNotAllowed"},
	}
	runCases(t, "GET", "/v2/okms/reference/serviceKey", cases)
}
