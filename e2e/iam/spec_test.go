package iam

import (
	"slices"
	"strings"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/server"
)

// This file is the oracle of the authorization matrix, written from the
// specification and nothing else: the action catalogue (iam.md section 5),
// the operation → required actions table (iam.md section 6, okms-rest.md
// sections 4, 5 and 9, vault-kv2.md section 4), and the evaluation of
// policies (iam.md 4.2, 4.3). The implementation's policy package is not
// used here.

// Action namespaces (iam.md 5).
const (
	kms = "okms:apikms:" // surfaces B and C
	ovh = "okms:apiovh:" // surface A
)

// catalogue lists every action of iam.md 5.1 and 5.2.
var catalogue = append(
	prefixed(kms, "secret/create", "secret/get", "secret/delete", "secret/updateMetadata", "secret/subKeys/get",
		"secret/version/create", "secret/version/getData", "secret/version/activate", "secret/version/deactivate",
		"secret/version/delete", "secretConfig/get", "secretConfig/update",
		"serviceKey/create", "serviceKey/import", "serviceKey/get", "serviceKey/update", "serviceKey/delete",
		"serviceKey/activate", "serviceKey/deactivate", "serviceKey/encrypt", "serviceKey/decrypt", "serviceKey/sign",
		"serviceKey/verify", "serviceKey/dataKey/create", "serviceKey/dataKey/decrypt", "random/get",
		// The OKMS swagger v2.17.0's wrapped import and export (issue 15).
		"serviceKey/wrapKey", "serviceKey/unwrapKey"),
	prefixed(ovh, "secret/create", "secret/get", "secret/delete", "secret/updateMetadata", "secret/edit",
		"secret/version/create", "secret/version/getData", "secret/version/activate", "secret/version/deactivate",
		"secret/version/delete", "secret/version/edit", "secretConfig/get", "secretConfig/update", "resource/get",
		"credential/get", "credential/create", "credential/delete",
		"serviceKey/get", "serviceKey/create", "serviceKey/import", "serviceKey/update", "serviceKey/activate",
		"serviceKey/deactivate", "serviceKey/delete", "log/kind/get", "log/subscription/get",
		"log/subscription/create", "log/subscription/delete", "log/url/create")...)

func prefixed(ns string, suffixes ...string) []string {
	out := make([]string, len(suffixes))
	for i, s := range suffixes {
		out[i] = ns + s
	}
	return out
}

// matches reports whether an action pattern covers action: exact, apart
// from a "*" at the beginning and/or at the end (iam.md 4.2).
func matches(pattern, action string) bool {
	switch {
	case pattern == "*":
		return true
	case strings.HasPrefix(pattern, "*") && strings.HasSuffix(pattern, "*") && len(pattern) > 1:
		return strings.Contains(action, pattern[1:len(pattern)-1])
	case strings.HasPrefix(pattern, "*"):
		return strings.HasSuffix(action, pattern[1:])
	case strings.HasSuffix(pattern, "*"):
		return strings.HasPrefix(action, pattern[:len(pattern)-1])
	}
	return pattern == action
}

func matchesAny(patterns []string, action string) bool {
	return slices.ContainsFunc(patterns, func(p string) bool { return matches(p, action) })
}

// grant is one policy of an identity, on the whole domain (the domain URN
// covers the domain and its secrets, iam.md 4.2).
type grant struct {
	allow, except, deny []string
	expiredAt           time.Time // zero: never
}

// granted returns the actions of the catalogue that the grants allow at
// now (iam.md 4.3): a grant applies until its expiry; a deny of any
// applicable grant wins; an allow counts unless an except of the same grant
// matches.
func granted(gs []grant, now time.Time) map[string]bool {
	out := map[string]bool{}
	for _, a := range catalogue {
		allowed, denied := false, false
		for _, g := range gs {
			if !g.expiredAt.IsZero() && !g.expiredAt.After(now) {
				continue
			}
			if matchesAny(g.deny, a) {
				denied = true
			}
			if matchesAny(g.allow, a) && !matchesAny(g.except, a) {
				allowed = true
			}
		}
		if allowed && !denied {
			out[a] = true
		}
	}
	return out
}

// target is what an operation addresses, which decides how its state is
// prepared and what "the same request on a missing object" is.
type target uint8

const (
	onDomain         target = iota // domain-level: no existence to vary
	onSecret                       // an existing secret (the variant: a missing one)
	onFresh                        // a path that does not exist (the variant: an existing secret)
	onCredential                   // an existing credential (the variant: an unknown id)
	onDomainID                     // the domain named in the path (the variant: an unknown id)
	onServiceAccount               // an existing service account (the variant: an unknown client id)
	onKey                          // an existing service key (the variant: an unknown key id)
	onFreshKey                     // a key id no key has (the variant: an existing key's id)
)

// operation is one row of the matrix: a request of one surface and the
// actions iam.md section 6 requires for it.
type operation struct {
	name    string
	surface string // "A", "B", "C", "T" (Vault Transit) or "iam" (identity management)
	// need are the required actions (none: a valid credential suffices);
	// needOther those of the variant on the opposite existence when they
	// differ (Vault writes, iam.md 6), nil meaning the same.
	need, needOther []string
	// list is set for a filtered list: the action that makes the probe
	// item visible (iam.md 6.1). Any authenticated caller may list.
	list string
	// admin: identity management, for the account root and ADMIN users
	// only, whatever the policies (iam.md 7.4); need is then empty.
	admin bool
	on    target
	// deactivate prepares the secret with version 1 deactivated, or the
	// key deactivated.
	deactivate bool
	// kind is the kind of key an onKey case prepares: kindAES (default)
	// or kindEC.
	kind  string
	build func(e *env, x subject) request
	ok    int // status of success
}

// subject is what one request addresses.
type subject struct {
	path   string // the secret path, raw
	cred   string // the credential id
	ownURN string // the caller's identity URN, for credential creation
	domain string // the domain id of a domain route
	sa     string // the client id of a service-account route
	// Service keys: the key id, and a ciphertext, data key blob and
	// signature the key made.
	key, ct, blob, sig string
	// Transit: a ciphertext, signature and HMAC the key made there.
	tct, tsig, tmac string
}

// Probe of the list operations: a secret every list may show, sorting
// before every other path of the matrix, in a folder of its own.
const (
	probeFolder = "0probe"
	probePath   = probeFolder + "/listed"
)

func getReq(target string) request       { return request{method: "GET", target: target} }
func req(m, target, body string) request { return request{method: m, target: target, body: body} }
func vaultReq(m, target, body string) request {
	return request{method: m, target: target, body: body, vault: true}
}
func mergePatch(target, body string) request {
	return request{method: "PATCH", target: target, body: body, vault: true, contentType: "application/merge-patch+json"}
}

// restOperations are surface B's (okms-rest.md 4, iam.md 6 column B).
func restOperations() []operation {
	k := func(s ...string) []string { return prefixed(kms, s...) }
	sec := func(e *env, x subject, rest string) string { return e.restURL("/secret/" + esc(x.path) + rest) }
	return []operation{
		{name: "list secrets", list: kms + "secret/get", on: onDomain, ok: 200,
			build: func(e *env, _ subject) request { return getReq(e.restURL("/secret")) }},
		{name: "create secret", need: k("secret/create"), on: onFresh, ok: 200,
			build: func(e *env, x subject) request {
				return req("POST", e.restURL("/secret"), `{"path":"`+x.path+`","version":{"data":{"k":"v"}}}`)
			}},
		{name: "get secret", need: k("secret/get"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return getReq(sec(e, x, "")) }},
		{name: "get secret includeData", need: k("secret/get", "secret/version/getData"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return getReq(sec(e, x, "?includeData=true")) }},
		{name: "update metadata", need: k("secret/updateMetadata"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request {
				return req("PUT", sec(e, x, ""), `{"metadata":{"customMetadata":{"team":"e2e"}}}`)
			}},
		{name: "update data", need: k("secret/version/create"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return req("PUT", sec(e, x, ""), `{"version":{"data":{"k":"v2"}}}`) }},
		{name: "delete secret", need: k("secret/delete"), on: onSecret, ok: 204,
			build: func(e *env, x subject) request { return req("DELETE", sec(e, x, ""), "") }},
		{name: "list versions", need: k("secret/get"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return getReq(sec(e, x, "/version")) }},
		{name: "add version", need: k("secret/version/create"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return req("POST", sec(e, x, "/version"), `{"data":{"k":"v2"}}`) }},
		{name: "get version", need: k("secret/get"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return getReq(sec(e, x, "/version/1")) }},
		{name: "get version includeData", need: k("secret/get", "secret/version/getData"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return getReq(sec(e, x, "/version/1?includeData=true")) }},
		{name: "activate version", need: k("secret/version/activate"), on: onSecret, deactivate: true, ok: 200,
			build: func(e *env, x subject) request { return req("PUT", sec(e, x, "/version/1"), `{"state":"active"}`) }},
		{name: "deactivate version", need: k("secret/version/deactivate"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request {
				return req("PUT", sec(e, x, "/version/1"), `{"state":"deactivated"}`)
			}},
		{name: "delete version", need: k("secret/version/delete"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return req("PUT", sec(e, x, "/version/1"), `{"state":"deleted"}`) }},
		{name: "get secretConfig", need: k("secretConfig/get"), on: onDomain, ok: 200,
			build: func(e *env, _ subject) request { return getReq(e.restURL("/secretConfig")) }},
		{name: "update secretConfig", need: k("secretConfig/update"), on: onDomain, ok: 200,
			build: func(e *env, _ subject) request { return req("PUT", e.restURL("/secretConfig"), `{"maxVersions":10}`) }},
	}
}

// centralOperations are surface A's (okms-rest.md 5, iam.md 6 column A):
// secret/edit on every secret update, secret/version/edit on every state
// change, resource/get and credential/*.
func centralOperations() []operation {
	o := func(s ...string) []string { return prefixed(ovh, s...) }
	sec := func(e *env, x subject, rest string) string { return e.centralURL("/secret/" + esc(x.path) + rest) }
	return []operation{
		{name: "list domains", list: ovh + "resource/get", on: onDomain, ok: 200,
			build: func(e *env, _ subject) request { return getReq("/v2/okms/resource") }},
		{name: "get domain", need: o("resource/get"), on: onDomainID, ok: 200,
			build: func(e *env, x subject) request { return getReq("/v2/okms/resource/" + x.domain) }},
		// Reference routes need a valid credential and no action.
		{name: "reference regions", on: onDomain, ok: 200,
			build: func(e *env, _ subject) request { return getReq("/v2/okms/reference/regions") }},
		{name: "reference secretConfig", on: onDomain, ok: 200,
			build: func(e *env, _ subject) request {
				return getReq("/v2/okms/reference/secretConfig?region=" + server.Defaults().Region)
			}},
		{name: "list secrets", list: ovh + "secret/get", on: onDomain, ok: 200,
			build: func(e *env, _ subject) request { return getReq(e.centralURL("/secret")) }},
		{name: "create secret", need: o("secret/create"), on: onFresh, ok: 200,
			build: func(e *env, x subject) request {
				return req("POST", e.centralURL("/secret"), `{"path":"`+x.path+`","version":{"data":{"k":"v"}}}`)
			}},
		{name: "get secret", need: o("secret/get"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return getReq(sec(e, x, "")) }},
		{name: "get secret includeData", need: o("secret/get", "secret/version/getData"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return getReq(sec(e, x, "?includeData=true")) }},
		{name: "update metadata", need: o("secret/edit", "secret/updateMetadata"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request {
				return req("PUT", sec(e, x, ""), `{"metadata":{"customMetadata":{"team":"e2e"}}}`)
			}},
		{name: "update data", need: o("secret/edit", "secret/version/create"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return req("PUT", sec(e, x, ""), `{"version":{"data":{"k":"v2"}}}`) }},
		{name: "delete secret", need: o("secret/delete"), on: onSecret, ok: 204,
			build: func(e *env, x subject) request { return req("DELETE", sec(e, x, ""), "") }},
		{name: "list versions", need: o("secret/get"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return getReq(sec(e, x, "/version")) }},
		{name: "add version", need: o("secret/version/create"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return req("POST", sec(e, x, "/version"), `{"data":{"k":"v2"}}`) }},
		{name: "get version", need: o("secret/get"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return getReq(sec(e, x, "/version/1")) }},
		{name: "get version includeData", need: o("secret/get", "secret/version/getData"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return getReq(sec(e, x, "/version/1?includeData=true")) }},
		{name: "activate version", need: o("secret/version/edit", "secret/version/activate"), on: onSecret, deactivate: true, ok: 200,
			build: func(e *env, x subject) request { return req("PUT", sec(e, x, "/version/1"), `{"state":"ACTIVE"}`) }},
		{name: "deactivate version", need: o("secret/version/edit", "secret/version/deactivate"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request {
				return req("PUT", sec(e, x, "/version/1"), `{"state":"DEACTIVATED"}`)
			}},
		{name: "delete version", need: o("secret/version/edit", "secret/version/delete"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return req("PUT", sec(e, x, "/version/1"), `{"state":"DELETED"}`) }},
		{name: "get secretConfig", need: o("secretConfig/get"), on: onDomain, ok: 200,
			build: func(e *env, _ subject) request { return getReq(e.centralURL("/secretConfig")) }},
		{name: "update secretConfig", need: o("secretConfig/update"), on: onDomain, ok: 200,
			build: func(e *env, _ subject) request {
				return req("PUT", e.centralURL("/secretConfig"), `{"maxVersions":10}`)
			}},
		{name: "create credential", need: o("credential/create"), on: onDomain, ok: 200,
			build: func(e *env, x subject) request {
				return req("POST", e.centralURL("/credential"), `{"name":"m","validity":1,"identityURNs":["`+x.ownURN+`"]}`)
			}},
		{name: "list credentials", need: o("credential/get"), on: onDomain, ok: 200,
			build: func(e *env, _ subject) request { return getReq(e.centralURL("/credential")) }},
		{name: "get credential", need: o("credential/get"), on: onCredential, ok: 200,
			build: func(e *env, x subject) request { return getReq(e.centralURL("/credential/" + x.cred)) }},
		{name: "delete credential", need: o("credential/delete"), on: onCredential, ok: 200,
			build: func(e *env, x subject) request { return req("DELETE", e.centralURL("/credential/"+x.cred), "") }},
	}
}

// vaultOperations are surface C's (vault-kv2.md 4, iam.md 6 column C)
// under one of its two roots: "/v1" (the default domain) or
// "/api/{okmsId}/v1".
func vaultOperations(root func(e *env) string) []operation {
	k := func(s ...string) []string { return prefixed(kms, s...) }
	at := func(e *env, rest string) string { return root(e) + "/secret/" + rest }
	return []operation{
		{name: "read data", need: k("secret/get", "secret/version/getData"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return vaultReq("GET", at(e, "data/"+x.path), "") }},
		{name: "write data, new path", need: k("secret/create"), needOther: k("secret/version/create"), on: onFresh, ok: 200,
			build: func(e *env, x subject) request {
				return vaultReq("POST", at(e, "data/"+x.path), `{"data":{"k":"v"}}`)
			}},
		{name: "write data, existing secret", need: k("secret/version/create"), needOther: k("secret/create"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request {
				return vaultReq("POST", at(e, "data/"+x.path), `{"data":{"k":"v2"}}`)
			}},
		{name: "patch data", need: k("secret/version/create"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return mergePatch(at(e, "data/"+x.path), `{"data":{"k2":"v"}}`) }},
		{name: "delete data", need: k("secret/version/deactivate"), on: onSecret, ok: 204,
			build: func(e *env, x subject) request { return vaultReq("DELETE", at(e, "data/"+x.path), "") }},
		{name: "delete versions", need: k("secret/version/deactivate"), on: onSecret, ok: 204,
			build: func(e *env, x subject) request {
				return vaultReq("POST", at(e, "delete/"+x.path), `{"versions":[1]}`)
			}},
		{name: "undelete versions", need: k("secret/version/activate"), on: onSecret, deactivate: true, ok: 204,
			build: func(e *env, x subject) request {
				return vaultReq("POST", at(e, "undelete/"+x.path), `{"versions":[1]}`)
			}},
		{name: "destroy versions", need: k("secret/version/delete"), on: onSecret, ok: 204,
			build: func(e *env, x subject) request {
				return vaultReq("PUT", at(e, "destroy/"+x.path), `{"versions":[1]}`)
			}},
		{name: "read metadata", need: k("secret/get"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return vaultReq("GET", at(e, "metadata/"+x.path), "") }},
		{name: "write metadata, new path", need: k("secret/create", "secret/updateMetadata"), needOther: k("secret/updateMetadata"),
			on: onFresh, ok: 204,
			build: func(e *env, x subject) request {
				return vaultReq("POST", at(e, "metadata/"+x.path), `{"max_versions":5}`)
			}},
		{name: "write metadata, existing secret", need: k("secret/updateMetadata"), needOther: k("secret/create", "secret/updateMetadata"),
			on: onSecret, ok: 204,
			build: func(e *env, x subject) request {
				return vaultReq("POST", at(e, "metadata/"+x.path), `{"max_versions":5}`)
			}},
		{name: "patch metadata", need: k("secret/updateMetadata"), on: onSecret, ok: 204,
			build: func(e *env, x subject) request { return mergePatch(at(e, "metadata/"+x.path), `{"max_versions":6}`) }},
		{name: "delete metadata", need: k("secret/delete"), on: onSecret, ok: 204,
			build: func(e *env, x subject) request { return vaultReq("DELETE", at(e, "metadata/"+x.path), "") }},
		{name: "list metadata", list: kms + "secret/get", on: onDomain, ok: 200,
			build: func(e *env, _ subject) request { return vaultReq("LIST", at(e, "metadata/"+probeFolder+"/"), "") }},
		{name: "read subkeys", need: k("secret/subKeys/get"), on: onSecret, ok: 200,
			build: func(e *env, x subject) request { return vaultReq("GET", at(e, "subkeys/"+x.path), "") }},
		{name: "read config", need: k("secretConfig/get"), on: onDomain, ok: 200,
			build: func(e *env, _ subject) request { return vaultReq("GET", at(e, "config"), "") }},
		{name: "write config", need: k("secretConfig/update"), on: onDomain, ok: 204,
			build: func(e *env, _ subject) request { return vaultReq("POST", at(e, "config"), `{"max_versions":10}`) }},
	}
}

// iamOperations are identity management's service-account routes (iam.md
// 7.4): the account root and ADMIN users only, tokens only. The OAuth2
// token endpoint is not a row: it authenticates client credentials, not
// the caller's credential (its tests are in internal/httpapi/iamapi and
// e2e/oauth2_test.go).
func iamOperations() []operation {
	const sas = "/1.0/me/api/oauth2/client"
	return []operation{
		{name: "list service accounts", admin: true, on: onDomain, ok: 200,
			build: func(*env, subject) request { return getReq(sas) }},
		{name: "create service account", admin: true, on: onDomain, ok: 200,
			build: func(*env, subject) request {
				return req("POST", sas, `{"name":"matrix","flow":"CLIENT_CREDENTIALS","callbackUrls":[]}`)
			}},
		{name: "get service account", admin: true, on: onServiceAccount, ok: 200,
			build: func(_ *env, x subject) request { return getReq(sas + "/" + x.sa) }},
		{name: "delete service account", admin: true, on: onServiceAccount, ok: 204,
			build: func(_ *env, x subject) request { return req("DELETE", sas+"/"+x.sa, "") }},
	}
}

// allOperations is the whole matrix's operation axis.
func allOperations() []operation {
	var ops []operation
	add := func(surface, suffix string, xs []operation) {
		for _, o := range xs {
			o.surface = surface
			o.name = surface + "/" + o.name + suffix
			ops = append(ops, o)
		}
	}
	add("A", "", centralOperations())
	add("A", "", centralKeyOperations())
	add("B", "", restOperations())
	add("B", "", restKeyOperations())
	add("C", " (/v1)", vaultOperations(func(*env) string { return "/v1" }))
	add("C", " (/api/{okmsId}/v1)", vaultOperations(func(e *env) string { return "/api/" + e.domain + "/v1" }))
	add("T", "", transitOperations())
	add("iam", "", iamOperations())
	return ops
}
