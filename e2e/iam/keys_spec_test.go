package iam

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// The service key rows of the matrix (issue 15): every route of surface B
// (okms:apikms:serviceKey/*, random/get) and of surface A
// (okms:apiovh:serviceKey/*), with the actions the OKMS swagger's tables
// name, checked on the key's URN (the policies of the matrix are on the
// domain URN, which covers its keys). Written from the swagger and the
// issue, not from the implementation.

// Key kinds a case prepares: an AES key (encrypt, decrypt, data keys, the
// life cycle) or a P-256 key (signatures). Both are extractable, so that a
// wrapped export is allowed when authorized.
const (
	kindAES = "aes"
	kindEC  = "ec"
)

// probeKey is the key every key list may show (the list probe).
const probeKey = "00000000-0000-4000-8000-00000000000a"

// keyMatrix holds what the key rows share: a transport key and a key
// wrapped under it, made once by the root.
type keyMatrix struct {
	transport string
	wrapped   string // an AES key in RAW, wrapped under transport
}

var km keyMatrix

// setupKeys creates the probe key, the transport key and a wrapped key.
func setupKeys(t *testing.T, e *env) {
	t.Helper()
	keys := "/api/" + e.domain + "/v1/servicekey"
	e.must(t, "POST", keys, `{"id":"`+probeKey+`","name":"probe","type":"oct","size":128}`)
	var tr struct{ ID string }
	_ = json.Unmarshal(e.must(t, "POST", keys, `{"name":"transport","type":"RSA","size":2048,"operations":["wrapKey","unwrapKey"]}`).body, &tr)
	var src struct{ ID string }
	_ = json.Unmarshal(e.must(t, "POST", keys, `{"name":"src","type":"oct","size":256,"extractable":true}`).body, &src)
	var w struct {
		WrappedKeys []struct{ Ciphertext string }
	}
	_ = json.Unmarshal(e.must(t, "GET", keys+"/"+src.ID+"?wrappingKeyId="+tr.ID+"&wrappedKeyFormat=RAW&wrappingAlgorithm=RSA-OAEP-256", "").body, &w)
	if tr.ID == "" || len(w.WrappedKeys) != 1 {
		t.Fatalf("key matrix set-up: transport %q, wrapped %+v", tr.ID, w)
	}
	km = keyMatrix{transport: tr.ID, wrapped: w.WrappedKeys[0].Ciphertext}
}

// prepareKey creates, as the root, a key of kind with id, deactivated if
// asked, and returns a ciphertext, a data key blob and a signature made
// with it (those its kind can make).
func prepareKey(t *testing.T, e *env, id, kind string, deactivate bool) subject {
	t.Helper()
	keys := "/api/" + e.domain + "/v1/servicekey"
	x := subject{key: id}
	if kind == kindEC {
		e.must(t, "POST", keys, `{"id":"`+id+`","name":"m","type":"EC","curve":"P-256","extractable":true}`)
		var s struct{ Signature string }
		_ = json.Unmarshal(e.must(t, "POST", keys+"/"+id+"/sign", `{"message":"bWF0cml4","alg":"ES256"}`).body, &s)
		x.sig = s.Signature
	} else {
		e.must(t, "POST", keys, `{"id":"`+id+`","name":"m","type":"oct","size":256,"extractable":true,`+
			`"operations":["encrypt","decrypt","wrapKey","unwrapKey"]}`)
		var c struct{ Ciphertext string }
		_ = json.Unmarshal(e.must(t, "POST", keys+"/"+id+"/encrypt", `{"plaintext":"bWF0cml4"}`).body, &c)
		var d struct{ Key string }
		_ = json.Unmarshal(e.must(t, "POST", keys+"/"+id+"/datakey", `{"size":128}`).body, &d)
		x.ct, x.blob = c.Ciphertext, d.Key
	}
	if deactivate {
		e.must(t, "POST", keys+"/"+id+"/deactivate", `{"reason":"unspecified"}`)
	}
	return x
}

// keySnapshot is what the root reads of a key: its metadata and state.
func keySnapshot(t *testing.T, e *env, id string) string {
	t.Helper()
	return e.asRoot(t, getReq("/api/"+e.domain+"/v1/servicekey/"+id)).normalized()
}

// restKeyOperations are surface B's service key routes.
func restKeyOperations() []operation {
	k := func(s ...string) []string { return prefixed(kms, s...) }
	at := func(e *env, rest string) string { return "/api/" + e.domain + "/v1/servicekey" + rest }
	key := func(e *env, x subject, rest string) string { return at(e, "/"+x.key+rest) }
	return []operation{
		{name: "list keys", list: kms + "serviceKey/get", on: onDomain, ok: 200,
			build: func(e *env, _ subject) request { return getReq(at(e, "?max=100")) }},
		{name: "create key", need: k("serviceKey/create"), on: onFreshKey, ok: 201,
			build: func(e *env, x subject) request {
				return req("POST", at(e, ""), `{"id":"`+x.key+`","name":"m","type":"oct","size":128}`)
			}},
		{name: "import key", need: k("serviceKey/import"), on: onFreshKey, ok: 201,
			build: func(e *env, x subject) request {
				return req("POST", at(e, ""), `{"id":"`+x.key+`","name":"m","keys":[{"kty":"oct","k":"YWFhYWFhYWFhYWFhYWFhYQ"}]}`)
			}},
		{name: "wrapped import", need: k("serviceKey/import", "serviceKey/unwrapKey"), on: onFreshKey, ok: 201,
			build: func(e *env, x subject) request {
				return req("POST", at(e, ""), `{"id":"`+x.key+`","name":"m","wrappedKeys":[{"keyFormatType":"RAW","wrappingKeyId":"`+
					km.transport+`","ciphertext":"`+km.wrapped+`"}]}`)
			}},
		{name: "get key", need: k("serviceKey/get"), on: onKey, ok: 200,
			build: func(e *env, x subject) request { return getReq(key(e, x, "")) }},
		{name: "get public key", need: k("serviceKey/get"), on: onKey, kind: kindEC, ok: 200,
			build: func(e *env, x subject) request { return getReq(key(e, x, "?format=jwk")) }},
		{name: "wrapped export", need: k("serviceKey/get", "serviceKey/wrapKey"), on: onKey, ok: 200,
			build: func(e *env, x subject) request {
				return getReq(key(e, x, "?wrappingKeyId="+km.transport+"&wrappedKeyFormat=RAW&wrappingAlgorithm=RSA-OAEP-256"))
			}},
		{name: "update key", need: k("serviceKey/update"), on: onKey, ok: 200,
			build: func(e *env, x subject) request { return req("PATCH", key(e, x, ""), `{"name":"renamed"}`) }},
		{name: "delete key", need: k("serviceKey/delete"), on: onKey, deactivate: true, ok: 204,
			build: func(e *env, x subject) request { return req("DELETE", key(e, x, ""), "") }},
		{name: "activate key", need: k("serviceKey/activate"), on: onKey, deactivate: true, ok: 204,
			build: func(e *env, x subject) request { return req("POST", key(e, x, "/activate"), "") }},
		{name: "deactivate key", need: k("serviceKey/deactivate"), on: onKey, ok: 204,
			build: func(e *env, x subject) request {
				return req("POST", key(e, x, "/deactivate"), `{"reason":"key_compromise"}`)
			}},
		{name: "encrypt", need: k("serviceKey/encrypt"), on: onKey, ok: 200,
			build: func(e *env, x subject) request { return req("POST", key(e, x, "/encrypt"), `{"plaintext":"bWF0cml4"}`) }},
		{name: "decrypt", need: k("serviceKey/decrypt"), on: onKey, ok: 200,
			build: func(e *env, x subject) request {
				return req("POST", key(e, x, "/decrypt"), `{"ciphertext":"`+x.ct+`"}`)
			}},
		{name: "datakey", need: k("serviceKey/dataKey/create"), on: onKey, ok: 201,
			build: func(e *env, x subject) request { return req("POST", key(e, x, "/datakey"), `{"size":256}`) }},
		{name: "datakey decrypt", need: k("serviceKey/dataKey/decrypt"), on: onKey, ok: 200,
			build: func(e *env, x subject) request {
				return req("POST", key(e, x, "/datakey/decrypt"), `{"key":"`+x.blob+`"}`)
			}},
		{name: "sign", need: k("serviceKey/sign"), on: onKey, kind: kindEC, ok: 200,
			build: func(e *env, x subject) request {
				return req("POST", key(e, x, "/sign"), `{"message":"bWF0cml4","alg":"ES256"}`)
			}},
		{name: "verify", need: k("serviceKey/verify"), on: onKey, kind: kindEC, ok: 200,
			build: func(e *env, x subject) request {
				return req("POST", key(e, x, "/verify"), `{"message":"bWF0cml4","alg":"ES256","signature":"`+x.sig+`"}`)
			}},
		{name: "random", need: k("random/get"), on: onDomain, ok: 200,
			build: func(e *env, _ subject) request { return getReq("/api/" + e.domain + "/v1/random?length=16") }},
	}
}

// centralKeyOperations are surface A's service key routes.
func centralKeyOperations() []operation {
	o := func(s ...string) []string { return prefixed(ovh, s...) }
	key := func(e *env, x subject, rest string) string { return e.centralURL("/serviceKey/" + x.key + rest) }
	return []operation{
		{name: "list keys", list: ovh + "serviceKey/get", on: onDomain, ok: 200,
			build: func(e *env, _ subject) request { return getReq(e.centralURL("/serviceKey")) }},
		{name: "create key", need: o("serviceKey/create"), on: onDomain, ok: 200,
			build: func(e *env, _ subject) request {
				return req("POST", e.centralURL("/serviceKey"), `{"name":"m","type":"oct","size":128,"operations":["encrypt","decrypt"]}`)
			}},
		{name: "import key", need: o("serviceKey/import"), on: onDomain, ok: 200,
			build: func(e *env, _ subject) request {
				return req("POST", e.centralURL("/serviceKey"), `{"name":"m","keys":[{"kty":"oct","k":"YWFhYWFhYWFhYWFhYWFhYQ","key_ops":["encrypt"]}]}`)
			}},
		{name: "get key", need: o("serviceKey/get"), on: onKey, ok: 200,
			build: func(e *env, x subject) request { return getReq(key(e, x, "")) }},
		{name: "get key as PEM", need: o("serviceKey/get"), on: onKey, kind: kindEC, ok: 200,
			build: func(e *env, x subject) request { return getReq(key(e, x, "?format=PEM")) }},
		{name: "rename key", need: o("serviceKey/update"), on: onKey, ok: 200,
			build: func(e *env, x subject) request { return req("PUT", key(e, x, ""), `{"name":"renamed"}`) }},
		{name: "deactivate key", need: o("serviceKey/deactivate"), on: onKey, ok: 200,
			build: func(e *env, x subject) request {
				return req("PUT", key(e, x, ""), `{"state":"DEACTIVATED","deactivationReason":"SUPERSEDED"}`)
			}},
		{name: "activate key", need: o("serviceKey/activate"), on: onKey, deactivate: true, ok: 200,
			build: func(e *env, x subject) request { return req("PUT", key(e, x, ""), `{"state":"ACTIVE"}`) }},
		{name: "delete key", need: o("serviceKey/delete"), on: onKey, deactivate: true, ok: 204,
			build: func(e *env, x subject) request { return req("DELETE", key(e, x, ""), "") }},
		{name: "reference serviceKey", on: onDomain, ok: 200,
			build: func(e *env, _ subject) request { return getReq("/v2/okms/reference/serviceKey") }},
	}
}

// prepareKeyCase prepares the key of an onKey or onFreshKey case: x (and
// for onKey a random other id, unknown); for onFreshKey a fresh id, other
// an existing key made on demand by prepareOther.
func prepareKeyCase(t *testing.T, e *env, op operation, x, other *subject) {
	t.Helper()
	switch op.on {
	case onKey:
		id := uuid.NewString()
		p := prepareKey(t, e, id, op.kind, false)
		if op.surface == "T" {
			prepareTransit(t, e, &p, op.kind)
		}
		if op.deactivate {
			e.must(t, "POST", "/api/"+e.domain+"/v1/servicekey/"+id+"/deactivate", `{"reason":"unspecified"}`)
		}
		x.key, x.ct, x.blob, x.sig, x.tct, x.tsig, x.tmac = p.key, p.ct, p.blob, p.sig, p.tct, p.tsig, p.tmac
		*other = *x
		other.key = uuid.NewString()
	case onFreshKey:
		x.key, other.key = uuid.NewString(), uuid.NewString()
	}
}

// listedKeys returns how many keys a key list shows and whether the probe
// key is among them.
func listedKeys(op operation, r response) (int, bool) {
	if op.surface == "T" {
		return listedTransitKeys(r)
	}
	var ids []string
	if op.surface == "B" {
		var v struct {
			ObjectsList []struct{ ID string } `json:"objects_list"`
		}
		_ = json.Unmarshal(r.body, &v)
		for _, k := range v.ObjectsList {
			ids = append(ids, k.ID)
		}
	} else {
		var v []struct{ ID string }
		_ = json.Unmarshal(r.body, &v)
		for _, k := range v {
			ids = append(ids, k.ID)
		}
	}
	return len(ids), slices.Contains(ids, probeKey)
}

func isKeyList(op operation) bool { return strings.Contains(op.list, "serviceKey/") }

func (x subject) String() string { return fmt.Sprintf("key %s", x.key) }
