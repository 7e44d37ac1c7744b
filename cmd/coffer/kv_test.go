package main

import (
	"strings"
	"testing"
)

// TestKV runs every coffer kv command, in vault's one-dash spelling and in
// cobra's, against the default domain (/v1/) and a named one.
func TestKV(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	h.check("kv_put", 0, "kv", "put", "secret/app/db", "login=admin", "password=s3cr3t")
	h.check("kv_put_json", 0, "kv", "put", "-format=json", "-cas=1", "app/db", "login=admin", "password=n3w")
	h.check("kv_put_cas_mismatch", 1, "kv", "put", "-cas=1", "secret/app/db", "password=x")
	h.check("kv_get", 0, "kv", "get", "secret/app/db")
	h.check("kv_get_json", 0, "kv", "get", "-format=json", "-version=1", "secret/app/db")
	if out := h.ok("kv", "get", "-field=password", "secret/app/db"); out != "n3w" {
		t.Errorf("kv get -field=password = %q", out)
	}
	if out := h.ok("kv", "get", "--field", "password", "--version", "1", "app/db"); out != "s3cr3t" {
		t.Errorf("kv get --field password --version 1 = %q", out)
	}
	h.check("kv_get_missing", 1, "kv", "get", "secret/app/nothing")
	h.fails(1, `field "nope" not present`, "kv", "get", "-field=nope", "secret/app/db")

	h.check("kv_patch", 0, "kv", "patch", "secret/app/db", "password=p4tched", "extra=1")
	r := h.runIn(`{"extra":null}`, "kv", "patch", "secret/app/db", "-")
	if r.code != 0 {
		t.Fatalf("kv patch with a null: %+v", r)
	}
	if out := h.ok("kv", "get", "-format=json", "secret/app/db"); !strings.Contains(out, `"password": "p4tched"`) || strings.Contains(out, "extra") {
		t.Errorf("after patches: %s", out)
	}
	h.fails(1, "no value found", "kv", "patch", "secret/app/none", "a=b")

	h.ok("kv", "put", "secret/app/web/config", "mode=blue")
	h.check("kv_list", 0, "kv", "list", "secret/app")
	h.check("kv_list_json", 0, "kv", "list", "-format=json")
	h.check("kv_list_missing", 1, "kv", "list", "secret/nothing")

	h.check("kv_delete", 0, "kv", "delete", "secret/app/db")
	h.check("kv_get_deleted", 1, "kv", "get", "secret/app/db")
	h.check("kv_undelete", 0, "kv", "undelete", "-versions=4", "secret/app/db")
	h.ok("kv", "delete", "-versions=1", "secret/app/db")
	h.check("kv_destroy", 0, "kv", "destroy", "-versions=2", "secret/app/db")
	h.check("kv_rollback", 0, "kv", "rollback", "-version=3", "secret/app/db")
	h.check("kv_rollback_destroyed", 1, "kv", "rollback", "-version=2", "secret/app/db")

	h.check("kv_metadata_put", 0, "kv", "metadata", "put", "-max-versions=5", "-custom-metadata=team=dba", "-delete-version-after=720h", "secret/app/db")
	h.check("kv_metadata_patch", 0, "kv", "metadata", "patch", "-custom-metadata=tier=1", "-remove-custom-metadata=team", "secret/app/db")
	h.check("kv_metadata_get", 0, "kv", "metadata", "get", "secret/app/db")
	h.check("kv_metadata_get_json", 0, "kv", "metadata", "get", "-format=json", "secret/app/web/config")
	h.check("kv_metadata_put_invalid", 1, "kv", "metadata", "put", "-custom-metadata=bad key=x", "secret/app/db")
	h.fails(1, "HTTP 404", "kv", "metadata", "patch", "-max-versions=2", "secret/app/none")
	h.check("kv_metadata_delete", 0, "kv", "metadata", "delete", "secret/app/db")
	h.fails(1, "HTTP 404", "kv", "metadata", "get", "secret/app/db")

	// A named domain goes through /api/{okmsId}/v1/; --mount keeps KEY as
	// given.
	h.ok("kv", "put", "--okms-id", h.domain, "--mount", "secret", "secret/literal", "k=v")
	if out := h.ok("secret", "get", "secret/literal", "--field", "k"); out != "v" {
		t.Errorf("kv put --mount secret secret/literal wrote elsewhere: %q", out)
	}
	h.fails(1, "HTTP 404", "kv", "get", "--okms-id", "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f", "secret/app/web/config")
	// What kv writes, secret reads, and back.
	h.ok("secret", "create", "both/ways", "a=1")
	if out := h.ok("kv", "get", "-field=a", "secret/both/ways"); out != "1" {
		t.Errorf("kv get of a secret created by secret create = %q", out)
	}
}
