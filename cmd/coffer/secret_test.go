package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/api"
)

// TestSecret walks every coffer secret command through a secret's life,
// pinning the table and JSON outputs.
func TestSecret(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	file := h.writeFile("db.json", `{"ports":[3306,33060],"tls":true}`)
	cert := h.writeFile("cert.pem", "line 1\nline 2\n")

	h.check("secret_create", 0, "secret", "create", "prod/db", "login=admin", "password=s3cr3t", "@"+file,
		"--custom-metadata", "team=dba", "--max-versions", "5", "--deactivate-version-after", "30d")
	h.check("secret_create_json", 0, "secret", "create", "prod/tls", "cert=@"+cert, "--format", "json")
	r := h.runIn(`{"token":"abc"}`, "secret", "create", "ci/token", "-")
	if r.code != 0 {
		t.Fatalf("create from stdin: %+v", r)
	}
	h.check("secret_create_exists", 1, "secret", "create", "prod/db", "a=b")

	h.check("secret_list", 0, "secret", "list")
	h.check("secret_list_json", 0, "secret", "list", "--prefix", "prod/", "--format", "json")
	h.check("secret_get", 0, "secret", "get", "prod/db")
	h.check("secret_get_data", 0, "secret", "get", "prod/db", "--include-data")
	h.check("secret_get_json", 0, "secret", "get", "prod/db", "--include-data", "--format", "json")
	if out := h.ok("secret", "get", "prod/db", "--field", "password"); out != "s3cr3t" {
		t.Errorf("--field password = %q, want s3cr3t, raw", out)
	}
	if out := h.ok("secret", "get", "prod/tls", "--field", "cert"); out != "line 1\nline 2\n" {
		t.Errorf("--field cert = %q, want the file's content exactly", out)
	}
	if out := h.ok("secret", "get", "prod/db", "--field", "ports"); out != "[3306,33060]" {
		t.Errorf("--field ports = %q, want compact JSON", out)
	}
	h.fails(1, `prod/db has no key "nope"`, "secret", "get", "prod/db", "--field", "nope")
	h.check("secret_get_missing", 1, "secret", "get", "prod/nothing")

	// Update: data (a new version, exactly DATA), check-and-set, settings.
	h.check("secret_update", 0, "secret", "update", "prod/db", "login=admin", "password=n3w", "--cas", "1")
	h.check("secret_update_cas_mismatch", 1, "secret", "update", "prod/db", "password=x", "--cas", "1")
	h.ok("secret", "update", "prod/db", "--cas-required", "--custom-metadata", "team=ops", "--custom-metadata", "tier=1")
	h.fails(1, "cas parameter required", "secret", "update", "prod/db", "password=y")
	meta := jsonOut[api.GetSecretResponse](t, h.ok("secret", "get", "prod/db", "--include-data", "--format", "json"))
	if !meta.Metadata.CasRequired || meta.Metadata.CustomMetadata["tier"] != "1" || meta.Metadata.CurrentVersion != 2 ||
		compact(t, meta.Version.Data) != `{"login":"admin","password":"n3w"}` {
		t.Errorf("after updates: %+v data %s", meta.Metadata, meta.Version.Data)
	}
	h.ok("secret", "update", "prod/db", "--cas-required=false")

	// Versions.
	h.check("secret_version_create", 0, "secret", "version", "create", "prod/db", "login=admin", "password=v3", "--cas", "2")
	h.check("secret_version_list", 0, "secret", "version", "list", "prod/db")
	h.check("secret_version_list_json", 0, "secret", "version", "list", "prod/db", "--format", "json")
	h.check("secret_version_get", 0, "secret", "version", "get", "prod/db", "2", "--include-data")
	h.check("secret_version_deactivate", 0, "secret", "version", "deactivate", "prod/db", "1")
	h.check("secret_version_get_inactive", 0, "secret", "version", "get", "prod/db", "1", "--include-data")
	h.check("secret_version_activate", 0, "secret", "version", "activate", "prod/db", "1", "--format", "json")
	h.ok("secret", "version", "delete", "prod/db", "1")
	h.check("secret_version_activate_deleted", 1, "secret", "version", "activate", "prod/db", "1")
	h.fails(1, "SecretVersionNotFound", "secret", "version", "get", "prod/db", "9")
	h.fails(1, "SecretNotFound", "secret", "version", "list", "prod/nothing")
	h.fails(1, "SecretNotFound", "secret", "version", "create", "prod/nothing", "a=b")
	h.fails(1, "SecretNotFound", "secret", "version", "deactivate", "prod/nothing", "1")
	h.fails(1, "SecretNotFound", "secret", "version", "delete", "prod/nothing", "1")
	h.fails(1, "has no readable value", "secret", "get", "prod/db", "--version", "1", "--field", "login")

	// Domain configuration.
	h.check("secret_config_get", 0, "secret", "config", "get")
	h.check("secret_config_update", 0, "secret", "config", "update", "--max-versions", "20", "--deactivate-version-after", "90d")
	h.check("secret_config_update_invalid", 1, "secret", "config", "update", "--deactivate-version-after", "soon")
	h.check("secret_config_get_json", 0, "secret", "config", "get", "--format", "json")
	h.fails(1, "SecretDataInvalidKeyValueJson", "secret", "create", "bad/data", "@"+h.writeFile("deep.json", `{"a":`+strings.Repeat("[", 70)+strings.Repeat("]", 70)+`}`))

	// Delete.
	h.check("secret_delete", 0, "secret", "delete", "ci/token")
	h.check("secret_delete_missing", 1, "secret", "delete", "ci/token")
	h.check("secret_delete_json", 0, "secret", "delete", "prod/tls", "--format", "json")
	if out := h.ok("secret", "list", "--format", "json"); strings.Contains(out, "ci/token") || strings.Contains(out, "prod/tls") {
		t.Errorf("deleted secrets are still listed: %s", out)
	}
}

// TestSecret_Paths: paths with characters that need escaping, and a last
// segment named "version", reach the right secret.
func TestSecret_Paths(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	for _, p := range []string{"a/b/version", "x:y=z@w", "deep/ly/nested/path.with-dots_and"} {
		h.ok("secret", "create", p, "k="+p)
		if got := h.ok("secret", "get", p, "--field", "k"); got != p {
			t.Errorf("secret get %s --field k = %q", p, got)
		}
		h.ok("secret", "version", "create", p, "k=2")
		if got := jsonOut[api.SecretVersion](t, h.ok("secret", "version", "get", p, "2", "--include-data", "--format", "json")); compact(t, got.Data) != `{"k":"2"}` {
			t.Errorf("version 2 of %s: %+v", p, got)
		}
	}
	// Pagination: more secrets than one page.
	for i := range 25 {
		h.ok("secret", "create", "many/"+string(rune('a'+i)), "k=v")
	}
	list := jsonOut[[]api.GetSecretResponse](t, h.ok("secret", "list", "--page-size", "10", "--prefix", "many/", "--format", "json"))
	if len(list) != 25 {
		t.Errorf("secret list over pages = %d secrets, want 25", len(list))
	}
}

// compact returns raw JSON without spaces.
func compact(t *testing.T, raw json.RawMessage) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		t.Fatalf("not JSON: %s", raw)
	}
	return b.String()
}
