package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/client"
)

func TestIdentity(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})

	// Groups.
	h.check("group_create", 0, "group", "create", "ops", "--role", "ADMIN", "--description", "Operators")
	h.ok("group", "create", "devs")
	h.check("group_create_exists", 1, "group", "create", "ops")
	h.check("group_list", 0, "group", "list")
	h.check("group_update_json", 0, "group", "update", "devs", "--role", "REGULAR", "--format", "json")
	h.check("group_get", 0, "group", "get", "ops")
	h.fails(1, "GroupNotFound", "group", "get", "nobody")

	// Users.
	h.check("user_create", 0, "user", "create", "alice", "--group", "ops", "--email", "alice@example.com")
	h.ok("user", "create", "bob")
	h.check("user_create_invalid", 1, "user", "create", "b b")
	h.check("user_list", 0, "user", "list")
	h.check("user_list_json", 0, "user", "list", "--format", "json")
	h.check("user_update", 0, "user", "update", "bob", "--group", "devs", "--description", "Bob")
	h.check("user_get_json", 0, "user", "get", "bob", "--format", "json")
	h.fails(1, "UserNotFound", "user", "get", "carol")
	h.fails(1, "GroupInUse", "group", "delete", "devs")
	r := h.runIn("a long enough password\n", "user", "update", "bob", "--password-stdin")
	if r.code != 0 || strings.Contains(r.stdout, "long enough") {
		t.Errorf("user update --password-stdin: %+v", r)
	}

	// Tokens: the value is shown once, and works.
	r = h.check("token_create", 0, "token", "create", "alice", "ci", "--description", "CI")
	tok := reToken.FindString(r.stdout)
	if tok == "" {
		t.Fatalf("token create printed no token: %s", r.stdout)
	}
	created := jsonOut[client.Token](t, h.ok("token", "create", "bob", "deploy", "--expires-in", "720h", "--format", "json"))
	if created.Token == "" || created.ExpiresAt == nil {
		t.Errorf("token create --format json = %+v", created)
	}
	h.fails(1, "InvalidToken", "token", "create", "bob", "old", "--expires-at", "2020-01-01T00:00:00Z")
	h.check("token_list", 0, "token", "list", "alice")
	h.check("token_get", 0, "token", "get", "alice", "ci")
	if out := h.ok("token", "list", "bob", "--format", "json"); strings.Contains(out, created.Token) {
		t.Errorf("token list shows a token value")
	}
	h.env["COFFER_TOKEN"] = tok // alice is in the ADMIN group
	h.ok("user", "list")
	h.env["COFFER_TOKEN"] = created.Token // bob is not
	h.check("user_list_forbidden", 1, "user", "list")
	h.env["COFFER_TOKEN"] = rootToken
	h.check("token_revoke", 0, "token", "revoke", "alice", "ci")
	h.env["COFFER_TOKEN"] = tok
	h.fails(1, "HTTP 401", "user", "list")
	h.env["COFFER_TOKEN"] = rootToken
	h.fails(1, "TokenNotFound", "token", "revoke", "alice", "ci")

	// Policies, from a file or standard input, by name or id.
	doc := fmt.Sprintf(`{"name":"app-readers","description":"read app/","identities":["urn:v1:eu:identity:user:coffer/bob"],
		"resources":[{"urn":"urn:v1:eu:resource:okms:%s/secret/app/*"}],
		"permissions":{"allow":[{"action":"okms:apikms:secret/get"},{"action":"okms:apikms:secret/version/getData"}]}}`, h.domain)
	h.check("policy_create", 0, "policy", "create", h.writeFile("readers.json", doc))
	h.check("policy_create_invalid", 1, "policy", "create", h.writeFile("bad.json", `{"name":"x","bogus":1}`))
	r = h.runIn(strings.Replace(doc, "app-readers", "app-readers-2", 1), "policy", "create", "-", "--format", "json")
	if r.code != 0 {
		t.Fatalf("policy create -: %+v", r)
	}
	id := jsonOut[client.Policy](t, r.stdout).ID
	h.check("policy_list", 0, "policy", "list")
	h.check("policy_get", 0, "policy", "get", "app-readers")
	h.ok("policy", "get", id)
	h.fails(1, `no policy is named "nope"`, "policy", "get", "nope")
	h.check("policy_update_json", 0, "policy", "update", "app-readers-2", h.writeFile("v2.json",
		strings.Replace(doc, `"name":"app-readers"`, `"name":"app-readers-2"`, 1)), "--format", "json")

	// The policy works: bob reads app/ secrets, not others.
	h.ok("secret", "create", "app/db", "k=v")
	h.ok("secret", "create", "web/db", "k=w")
	h.env["COFFER_TOKEN"] = created.Token
	if out := h.ok("secret", "get", "app/db", "--field", "k", "--okms-id", h.domain); out != "v" {
		t.Errorf("bob reads app/db = %q", out)
	}
	h.fails(1, "Forbidden", "secret", "get", "web/db", "--okms-id", h.domain)
	h.env["COFFER_TOKEN"] = rootToken

	h.check("policy_delete", 0, "policy", "delete", "app-readers")
	h.ok("policy", "delete", id)
	h.fails(1, "no policy is named", "policy", "delete", "app-readers")

	h.check("user_delete", 0, "user", "delete", "bob")
	h.fails(1, "UserNotFound", "user", "delete", "bob")
	h.ok("user", "delete", "alice")
	h.check("group_delete_json", 0, "group", "delete", "ops", "--format", "json")
}
