package kv2_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// step is one HTTP request of a client sequence and what its answer must
// hold: the status and, for each path into the body, the expected value
// (JSON-encoded, so numbers and nulls compare exactly).
type step struct {
	name   string
	method string
	path   string // after /v1/
	body   string
	header []string
	status int
	want   map[string]string // "data.metadata.version" → "1"
	errs   []string          // the errors array, when set
	empty  bool              // the body must be empty
}

// run replays steps against h in mode and checks each answer.
func (h *harness) run(t *testing.T, mode string, steps []step) {
	t.Helper()
	for i, st := range steps {
		r := h.do(st.method, h.prefix(mode)+"/v1/"+st.path, st.body, st.header...)
		what := fmt.Sprintf("step %d %q: %s %s", i, st.name, st.method, st.path)
		expect(t, what, r, st.status)
		if st.empty && len(r.body) != 0 {
			t.Fatalf("%s: body %q, want none", what, r.body)
		}
		if st.errs != nil {
			if got := r.errors(t); !reflect.DeepEqual(got, st.errs) {
				t.Fatalf("%s: errors %q, want %q", what, got, st.errs)
			}
		}
		if len(st.want) == 0 {
			continue
		}
		body := r.json(t)
		for path, want := range st.want {
			got, _ := json.Marshal(get(body, strings.Split(path, ".")...))
			if string(got) != want {
				t.Fatalf("%s: %s = %s, want %s; body %s", what, path, got, want, r.body)
			}
		}
	}
}

// preflight is what every vault kv command sends first (vault-kv2.md 6.1);
// the CLI reads only data.path and data.options.version.
func preflight(path string) step {
	return step{name: "preflight " + path, method: "GET", path: "sys/internal/ui/mounts/" + path, status: 200,
		want: map[string]string{"data.path": `"secret/"`, "data.options.version": `"2"`, "mount_type": `"system"`}}
}

// TestCLISequences replays, request by request, what the vault CLI sends
// for kv get|put|patch|list|delete|undelete|destroy|rollback|metadata,
// login and status (vault-kv2.md section 7, command/kv_*.go), in both
// addressing modes, and checks each answer.
func TestCLISequences(t *testing.T) {
	t.Parallel()
	mismatch := []string{"check-and-set parameter did not match the current version"}
	steps := []step{
		{name: "vault status", method: "GET", path: "sys/seal-status", status: 200,
			want: map[string]string{"sealed": "false", "initialized": "true", "version": `"1.21.0"`}},
		{name: "vault status", method: "GET", path: "sys/leader", status: 200, want: map[string]string{"ha_enabled": "false"}},
		{name: "vault login root", method: "GET", path: "auth/token/lookup-self", status: 200,
			want: map[string]string{"data.id": `"root"`, "data.policies": `["root"]`, "data.ttl": "0", "data.type": `"service"`}},

		// kv put secret/app/db user=alice
		preflight("secret/app/db"),
		{name: "kv put", method: "PUT", path: "secret/data/app/db", body: `{"data":{"user":"alice"},"options":{}}`, status: 200,
			want: map[string]string{"data.version": "1", "data.destroyed": "false", "data.deletion_time": `""`, "data.custom_metadata": "null"}},
		// kv put -cas=0 secret/app/db user=bob
		preflight("secret/app/db"),
		{name: "kv put -cas=0", method: "PUT", path: "secret/data/app/db", body: `{"data":{"user":"bob"},"options":{"cas":0}}`,
			status: 400, errs: mismatch},
		// kv get secret/app/db
		preflight("secret/app/db"),
		{name: "kv get", method: "GET", path: "secret/data/app/db", status: 200,
			want: map[string]string{"data.data": `{"user":"alice"}`, "data.metadata.version": "1"}},
		// kv patch secret/app/db pw=s3cret
		preflight("secret/app/db"),
		{name: "kv patch", method: "PATCH", path: "secret/data/app/db", body: `{"data":{"pw":"s3cret"},"options":{}}`,
			header: patchType, status: 200, want: map[string]string{"data.version": "2"}},
		// kv patch -cas 1 secret/app/db pw=x (exit 2)
		preflight("secret/app/db"),
		{name: "kv patch -cas 1", method: "PATCH", path: "secret/data/app/db", body: `{"data":{"pw":"x"},"options":{"cas":1}}`,
			header: patchType, status: 400, errs: mismatch},
		// kv patch -method=rw secret/app/db host=h: read, then write with cas
		preflight("secret/app/db"),
		{name: "kv patch -method=rw (read)", method: "GET", path: "secret/data/app/db", status: 200,
			want: map[string]string{"data.metadata.version": "2"}},
		{name: "kv patch -method=rw (write)", method: "PUT", path: "secret/data/app/db",
			body: `{"data":{"user":"alice","pw":"s3cret","host":"h"},"options":{"cas":2}}`, status: 200,
			want: map[string]string{"data.version": "3"}},
		// kv get -version=1
		preflight("secret/app/db"),
		{name: "kv get -version=1", method: "GET", path: "secret/data/app/db?version=1", status: 200,
			want: map[string]string{"data.data.user": `"alice"`, "data.metadata.version": "1"}},
		// kv list secret/app, kv list secret, kv list of nothing (exit 2)
		preflight("secret/app"),
		{name: "kv list secret/app", method: "GET", path: "secret/metadata/app?list=true", status: 200,
			want: map[string]string{"data.keys": `["db"]`}},
		preflight("secret"),
		{name: "kv list secret", method: "GET", path: "secret/metadata?list=true", status: 200,
			want: map[string]string{"data.keys": `["app/"]`}},
		preflight("secret/nothing"),
		{name: "kv list secret/nothing", method: "GET", path: "secret/metadata/nothing?list=true", status: 404, errs: []string{}},
		// kv delete secret/app/db; kv get prints the metadata (404 with data, exit 0)
		preflight("secret/app/db"),
		{name: "kv delete", method: "DELETE", path: "secret/data/app/db", status: 204, empty: true},
		preflight("secret/app/db"),
		{name: "kv get deleted", method: "GET", path: "secret/data/app/db", status: 404,
			want: map[string]string{"data.data": "null", "data.metadata.version": "3", "data.metadata.destroyed": "false", "mount_type": `""`}},
		// kv undelete -versions=3
		preflight("secret/app/db"),
		{name: "kv undelete -versions=3", method: "PUT", path: "secret/undelete/app/db", body: `{"versions":["3"]}`, status: 204, empty: true},
		// kv delete -versions=1,2
		preflight("secret/app/db"),
		{name: "kv delete -versions=1,2", method: "PUT", path: "secret/delete/app/db", body: `{"versions":["1","2"]}`, status: 204},
		// kv destroy -versions=1
		preflight("secret/app/db"),
		{name: "kv destroy -versions=1", method: "PUT", path: "secret/destroy/app/db", body: `{"versions":["1"]}`, status: 204},
		{name: "kv get -version=1 destroyed", method: "GET", path: "secret/data/app/db?version=1", status: 404,
			want: map[string]string{"data.metadata.destroyed": "true", "data.data": "null"}},
		// kv undelete without versions
		{name: "kv undelete (no versions)", method: "PUT", path: "secret/undelete/app/db", body: `{"versions":[]}`,
			status: 400, errs: []string{"No version number provided"}},
		{name: "kv destroy (no versions)", method: "PUT", path: "secret/destroy/app/db", body: `{}`,
			status: 400, errs: []string{"no version number provided"}},
		// kv rollback -version=3: latest (for cas), the version, then a write
		preflight("secret/app/db"),
		{name: "kv rollback (latest)", method: "GET", path: "secret/data/app/db", status: 200,
			want: map[string]string{"data.metadata.version": "3"}},
		{name: "kv rollback (version)", method: "GET", path: "secret/data/app/db?version=3", status: 200,
			want: map[string]string{"data.metadata.deletion_time": `""`}},
		{name: "kv rollback (write)", method: "PUT", path: "secret/data/app/db",
			body: `{"data":{"user":"alice","pw":"s3cret","host":"h"},"options":{"cas":3}}`, status: 200,
			want: map[string]string{"data.version": "4"}},
		// kv metadata put / get / patch / delete
		preflight("secret/app/db"),
		{name: "kv metadata put", method: "PUT", path: "secret/metadata/app/db",
			body: `{"max_versions":5,"custom_metadata":{"owner":"jdoe"},"delete_version_after":"1s"}`, status: 204},
		preflight("secret/app/db"),
		{name: "kv metadata get", method: "GET", path: "secret/metadata/app/db", status: 200,
			want: map[string]string{"data.max_versions": "5", "data.delete_version_after": `"1s"`,
				"data.custom_metadata": `{"owner":"jdoe"}`, "data.current_version": "4", "data.oldest_version": "0",
				"data.versions.1.destroyed": "true"}},
		{name: "kv metadata put -delete-version-after=0", method: "PUT", path: "secret/metadata/app/db",
			body: `{"delete_version_after":"0s"}`, status: 204},
		{name: "kv metadata get", method: "GET", path: "secret/metadata/app/db", status: 200,
			want: map[string]string{"data.delete_version_after": `"0s"`, "data.max_versions": "5"}},
		preflight("secret/app/db"),
		{name: "kv metadata patch (no flags)", method: "PATCH", path: "secret/metadata/app/db", body: `{"custom_metadata":{}}`,
			header: patchType, status: 204},
		{name: "kv metadata patch -remove-custom-metadata=owner", method: "PATCH", path: "secret/metadata/app/db",
			body: `{"custom_metadata":{"owner":null,"team":"ops"}}`, header: patchType, status: 204},
		{name: "kv metadata get", method: "GET", path: "secret/metadata/app/db", status: 200,
			want: map[string]string{"data.custom_metadata": `{"team":"ops"}`}},
		// the cas warning on metadata patch (vault-kv2.md 2.4)
		{name: "vault write secret/config cas_required=true", method: "PUT", path: "secret/config", body: `{"cas_required":true}`, status: 204},
		{name: "kv metadata patch -cas-required=false", method: "PATCH", path: "secret/metadata/app/db",
			body: `{"cas_required":false,"custom_metadata":{}}`, header: patchType, status: 200,
			want: map[string]string{"warnings": `["\"cas_required\" set to false, but is mandated by backend config. This value will be ignored."]`, "data": "null"}},
		{name: "kv put without -cas", method: "PUT", path: "secret/data/app/db", body: `{"data":{"a":"b"},"options":{}}`,
			status: 400, errs: []string{"check-and-set parameter required for this call"}},
		{name: "vault write secret/config cas_required=false", method: "PUT", path: "secret/config", body: `{"cas_required":false}`, status: 204},
		preflight("secret/app/db"),
		{name: "kv metadata delete", method: "DELETE", path: "secret/metadata/app/db", status: 204},
		{name: "kv get after metadata delete (exit 2)", method: "GET", path: "secret/data/app/db", status: 404, errs: []string{}},
		// -mount=secret: the preflight names the mount alone
		preflight("secret"),
		// a token the server does not know: the preflight is a 403 with its own message
		{name: "preflight, bad token", method: "GET", path: "sys/internal/ui/mounts/secret/app", header: []string{"X-Vault-Token", "nope"},
			status: 403, errs: []string{`preflight capability check returned 403, please ensure client's policies grant access to path "secret/app/"`}},
		{name: "preflight, other mount", method: "GET", path: "sys/internal/ui/mounts/kv/app", status: 403,
			errs: []string{`preflight capability check returned 403, please ensure client's policies grant access to path "kv/app/"`}},
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			newHarness(t).run(t, mode, steps)
		})
	}
}

// TestESOSequences replays External Secrets Operator's PushSecret,
// GetSecret, find and DeleteSecret (vault-kv2.md section 7).
func TestESOSequences(t *testing.T) {
	t.Parallel()
	steps := []step{
		{name: "token check", method: "GET", path: "auth/token/lookup-self", status: 200,
			want: map[string]string{"data.type": `"service"`, "data.ttl": "0", "data.expire_time": "null"}},
		{name: "push: read data", method: "GET", path: "secret/data/eso/app", status: 404, errs: []string{}},
		{name: "push: metadata", method: "PUT", path: "secret/metadata/eso/app",
			body: `{"custom_metadata":{"managed-by":"external-secrets"}}`, status: 204},
		{name: "push: data", method: "PUT", path: "secret/data/eso/app", body: `{"data":{"k":"v"},"options":{"cas":0}}`, status: 200,
			want: map[string]string{"data.version": "1", "data.custom_metadata": `{"managed-by":"external-secrets"}`}},
		{name: "push again: read data", method: "GET", path: "secret/data/eso/app", status: 200},
		{name: "push again: metadata", method: "GET", path: "secret/metadata/eso/app", status: 200,
			want: map[string]string{"data.custom_metadata.managed-by": `"external-secrets"`}},
		{name: "get", method: "GET", path: "secret/data/eso/app?version=1", status: 200, want: map[string]string{"data.data.k": `"v"`}},
		{name: "find: list", method: "GET", path: "secret/metadata/eso/?list=true", status: 200, want: map[string]string{"data.keys": `["app"]`}},
		{name: "delete: data", method: "DELETE", path: "secret/data/eso/app", status: 204},
		{name: "delete: metadata", method: "DELETE", path: "secret/metadata/eso/app", status: 204},
		{name: "gone", method: "GET", path: "secret/metadata/eso/app", status: 404, errs: []string{}},
	}
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			newHarness(t).run(t, mode, steps)
		})
	}
}

// TestTerraformSequences replays terraform-provider-vault's start-up and
// vault_kv_secret_v2 calls (vault-kv2.md 6.4 and section 7): a child token,
// a data write with a stray top-level cas that must not be CAS, a metadata
// write with integer seconds, and reads that parse durations.
func TestTerraformSequences(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	r := h.do("POST", "/v1/auth/token/create",
		`{"display_name":"terraform","ttl":"1200s","explicit_max_ttl":"1200s","renewable":false,"num_uses":0,"type":"","entity_alias":""}`)
	expect(t, "token create", r, 200)
	tok, _ := get(r.json(t), "auth", "client_token").(string)
	if !strings.HasPrefix(tok, "cof_ctk_") {
		t.Fatalf("client_token %q is not a child token", tok)
	}
	as := []string{"X-Vault-Token", tok}
	h.run(t, "default", []step{
		{name: "create", method: "PUT", path: "secret/data/tf/app", body: `{"data":{"a":"b"},"cas":1,"options":{"cas":"0"}}`,
			header: as, status: 200, want: map[string]string{"data.version": "1",
				"warnings": `["Endpoint ignored these unrecognized parameters: [cas]"]`}},
		{name: "custom_metadata block", method: "PUT", path: "secret/metadata/tf/app", header: as, status: 204,
			body: `{"max_versions":3,"cas_required":false,"delete_version_after":3600,"custom_metadata":{"env":"prod"}}`},
		{name: "read metadata", method: "GET", path: "secret/metadata/tf/app", header: as, status: 200,
			want: map[string]string{"data.delete_version_after": `"1h0m0s"`, "data.max_versions": "3"}},
		{name: "backend config", method: "PUT", path: "secret/config", header: as, status: 204,
			body: `{"max_versions":24,"delete_version_after":"1d"}`},
		{name: "read backend config", method: "GET", path: "secret/config", header: as, status: 200,
			want: map[string]string{"data.delete_version_after": `"24h0m0s"`, "data.max_versions": "24"}},
		{name: "seal-status version", method: "GET", path: "sys/seal-status", status: 200, want: map[string]string{"version": `"1.21.0"`}},
	})
}
