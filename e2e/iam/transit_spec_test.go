package iam

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// The Vault Transit rows of the matrix (issue 16): every Transit route,
// addressed by key id (all the matrix's keys are named "m": the name is
// ambiguous, which a key id never is), with the okms:apikms: action of its
// OKMS twin checked on the key's URN, as docs/design-notes.md's table
// says. Surface "T" answers as surface C does (Vault's error strings).

// transitBase is the Transit mount of the matrix's domain.
func transitBase(e *env) string { return "/api/" + e.domain + "/v1/transit" }

// prepareTransit adds to a prepared key what only Transit makes: a
// Transit ciphertext and HMAC (AES keys) or signature (EC keys).
func prepareTransit(t *testing.T, e *env, x *subject, kind string) {
	t.Helper()
	base := transitBase(e)
	var v struct {
		Data struct{ Ciphertext, Signature, HMAC string }
	}
	if kind == kindEC {
		_ = json.Unmarshal(e.must(t, "POST", base+"/sign/"+x.key, `{"input":"bWF0cml4"}`).body, &v)
		x.tsig = v.Data.Signature
		return
	}
	_ = json.Unmarshal(e.must(t, "POST", base+"/encrypt/"+x.key, `{"plaintext":"bWF0cml4"}`).body, &v)
	x.tct = v.Data.Ciphertext
	_ = json.Unmarshal(e.must(t, "POST", base+"/hmac/"+x.key, `{"input":"bWF0cml4"}`).body, &v)
	x.tmac = v.Data.HMAC
}

// transitSnapshot is what the root reads of a key through Transit: its
// settings and versions, which the OKMS view does not show.
func transitSnapshot(t *testing.T, e *env, id string) string {
	t.Helper()
	return e.asRoot(t, vaultReq("GET", transitBase(e)+"/keys/"+id, "")).normalized()
}

// transitOperations are the Transit routes.
func transitOperations() []operation {
	k := func(s ...string) []string { return prefixed(kms, s...) }
	at := func(e *env, rest string) string { return transitBase(e) + rest }
	post := func(path, body string) builder {
		return func(e *env, x subject) request { return vaultReq("POST", at(e, path+x.key), body) }
	}
	return []operation{
		{name: "list keys", list: kms + "serviceKey/get", on: onDomain, ok: 200,
			build: func(e *env, _ subject) request { return vaultReq("LIST", at(e, "/keys"), "") }},
		// A fresh name (names have at most 32 characters: the key id
		// without its dashes, less one) creates a key: serviceKey/create
		// on the new key's id.
		{name: "create key", need: k("serviceKey/create"), on: onFreshKey, ok: 200,
			build: func(e *env, x subject) request {
				return vaultReq("POST", at(e, "/keys/"+strings.ReplaceAll(x.key, "-", "")[:31]), `{"type":"aes128-gcm96"}`)
			}},
		{name: "read key", need: k("serviceKey/get"), on: onKey, ok: 200,
			build: func(e *env, x subject) request { return vaultReq("GET", at(e, "/keys/"+x.key), "") }},
		{name: "config key", need: k("serviceKey/update"), on: onKey, ok: 200,
			build: post("/keys/", `{"deletion_allowed":true}`).withSuffix("/config")},
		{name: "rotate key", need: k("serviceKey/update"), on: onKey, ok: 200, build: post("/keys/", "").withSuffix("/rotate")},
		{name: "trim key", need: k("serviceKey/update"), on: onKey, ok: 200,
			build: post("/keys/", `{"min_available_version":1}`).withSuffix("/trim")},
		// Authorized, the deletion is refused: the key's deletion_allowed
		// is false (400); the point is the authorization before it.
		{name: "delete key", need: k("serviceKey/delete"), on: onKey, ok: 400,
			build: func(e *env, x subject) request { return vaultReq("DELETE", at(e, "/keys/"+x.key), "") }},
		{name: "encrypt", need: k("serviceKey/encrypt"), on: onKey, ok: 200, build: post("/encrypt/", `{"plaintext":"bWF0cml4"}`)},
		{name: "decrypt", need: k("serviceKey/decrypt"), on: onKey, ok: 200,
			build: func(e *env, x subject) request {
				return vaultReq("POST", at(e, "/decrypt/"+x.key), `{"ciphertext":"`+x.tct+`"}`)
			}},
		{name: "rewrap", need: k("serviceKey/decrypt", "serviceKey/encrypt"), on: onKey, ok: 200,
			build: func(e *env, x subject) request {
				return vaultReq("POST", at(e, "/rewrap/"+x.key), `{"ciphertext":"`+x.tct+`"}`)
			}},
		{name: "datakey", need: k("serviceKey/dataKey/create"), on: onKey, ok: 200, build: post("/datakey/plaintext/", `{}`)},
		{name: "sign", need: k("serviceKey/sign"), on: onKey, kind: kindEC, ok: 200, build: post("/sign/", `{"input":"bWF0cml4"}`)},
		{name: "verify", need: k("serviceKey/verify"), on: onKey, kind: kindEC, ok: 200,
			build: func(e *env, x subject) request {
				return vaultReq("POST", at(e, "/verify/"+x.key), `{"input":"bWF0cml4","signature":"`+x.tsig+`"}`)
			}},
		{name: "hmac", need: k("serviceKey/sign"), on: onKey, ok: 200, build: post("/hmac/", `{"input":"bWF0cml4"}`)},
		{name: "verify hmac", need: k("serviceKey/verify"), on: onKey, ok: 200,
			build: func(e *env, x subject) request {
				return vaultReq("POST", at(e, "/verify/"+x.key), `{"input":"bWF0cml4","hmac":"`+x.tmac+`"}`)
			}},
		{name: "random", need: k("random/get"), on: onDomain, ok: 200,
			build: func(e *env, _ subject) request { return vaultReq("POST", at(e, "/random/16"), "") }},
		{name: "hash", on: onDomain, ok: 200,
			build: func(e *env, _ subject) request { return vaultReq("POST", at(e, "/hash"), `{"input":"YWJj"}`) }},
	}
}

// builder is a request builder; withSuffix appends to its target.
type builder func(e *env, x subject) request

func (b builder) withSuffix(s string) func(e *env, x subject) request {
	return func(e *env, x subject) request {
		r := b(e, x)
		r.target += s
		return r
	}
}

// listedTransitKeys returns how many names a Transit key list shows and
// whether the probe key's name is among them.
func listedTransitKeys(r response) (int, bool) {
	var v struct{ Data struct{ Keys []string } }
	_ = json.Unmarshal(r.body, &v)
	return len(v.Data.Keys), slices.Contains(v.Data.Keys, "probe")
}
