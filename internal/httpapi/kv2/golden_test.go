package kv2_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// goldenStep is one request of the golden script. Steps without a golden
// name set the stage; the others pin their whole answer.
type goldenStep struct {
	golden  string
	method  string
	path    string // after /v1/
	body    string
	header  []string
	advance time.Duration // the clock moves by this before the request
}

// TestGolden pins every surface-C response body (vault-kv2.md sections 2
// to 6): envelopes, raw 404 bodies with and without their trailing newline,
// error strings and the sys/ bodies. Request ids, the domain id and what
// derives from it, accessors, tokens and the wall-clock server time are
// normalised; every other time comes from the test clock and is pinned, so
// that Vault's formatting (RFC 3339, nanoseconds, zeros trimmed) is too.
// Run with -update to rewrite the files.
func TestGolden(t *testing.T) {
	t.Parallel()
	mp := patchType
	steps := []goldenStep{
		{golden: "config_get", method: "GET", path: "secret/config"},
		{golden: "config_put", method: "PUT", path: "secret/config", body: `{"max_versions":0,"delete_version_after":"-5m"}`},
		{golden: "config_get_disabled", method: "GET", path: "secret/config"},
		{method: "PUT", path: "secret/config", body: `{"max_versions":10,"delete_version_after":"0s"}`},

		{golden: "data_put", method: "PUT", path: "secret/data/app/db", body: `{"data":{"user":"alice","pw":"<s3cret&>"}}`},
		{golden: "data_put_ignored_params", method: "PUT", path: "secret/data/app/db", advance: 1500 * time.Millisecond,
			body: `{"data":{"user":"alice","pw":"two"},"options":{"cas":1},"cas":1,"zeta":true}`},
		{golden: "data_get", method: "GET", path: "secret/data/app/db"},
		{golden: "data_get_version", method: "GET", path: "secret/data/app/db?version=1"},
		{golden: "data_get_missing", method: "GET", path: "secret/data/app/nothing"},
		{golden: "data_get_pruned", method: "GET", path: "secret/data/app/db?version=9"},
		{golden: "data_patch", method: "PATCH", path: "secret/data/app/db", header: mp, advance: time.Second,
			body: `{"data":{"pw":null,"host":{"name":"h","port":5432}},"options":{}}`},
		{golden: "subkeys_get", method: "GET", path: "secret/subkeys/app/db"},
		{golden: "subkeys_get_depth", method: "GET", path: "secret/subkeys/app/db?depth=1&version=3"},
		{golden: "data_delete", method: "DELETE", path: "secret/data/app/db", advance: time.Second},
		{golden: "data_get_deleted", method: "GET", path: "secret/data/app/db"},
		{golden: "subkeys_get_deleted", method: "GET", path: "secret/subkeys/app/db"},
		{golden: "data_patch_deleted", method: "PATCH", path: "secret/data/app/db", header: mp, body: `{"data":{"a":"b"}}`},
		{golden: "data_patch_missing", method: "PATCH", path: "secret/data/app/nothing", header: mp, body: `{"data":{"a":"b"}}`},
		{golden: "versions_destroy", method: "PUT", path: "secret/destroy/app/db", body: `{"versions":[1]}`},
		{golden: "data_get_destroyed", method: "GET", path: "secret/data/app/db?version=1"},
		{golden: "versions_undelete", method: "POST", path: "secret/undelete/app/db", body: `{"versions":"3"}`},
		{golden: "versions_delete", method: "PUT", path: "secret/delete/app/db", body: `{"versions":["2"]}`},

		{method: "PUT", path: "secret/metadata/app/db", body: `{"custom_metadata":{"owner":"jdoe","team":"ops"},"delete_version_after":"1d"}`},
		{method: "PUT", path: "secret/data/app/db", advance: 250 * time.Millisecond, body: `{"data":{"v":4}}`},
		{golden: "metadata_get", method: "GET", path: "secret/metadata/app/db"},
		{golden: "data_get_scheduled", method: "GET", path: "secret/data/app/db"},
		{golden: "metadata_put", method: "PUT", path: "secret/metadata/app/empty", body: `{"max_versions":3}`},
		{golden: "metadata_get_no_versions", method: "GET", path: "secret/metadata/app/empty"},
		{golden: "metadata_get_missing", method: "GET", path: "secret/metadata/app/nothing"},
		{method: "PUT", path: "secret/data/app/db/replica", body: `{"data":{}}`},
		{golden: "metadata_list", method: "LIST", path: "secret/metadata/app"},
		{golden: "metadata_list_root", method: "GET", path: "secret/metadata"},
		{golden: "metadata_list_missing", method: "GET", path: "secret/metadata/nothing/?list=true"},
		{golden: "metadata_patch", method: "PATCH", path: "secret/metadata/app/db", header: mp, body: `{"custom_metadata":{"team":null}}`},
		{golden: "metadata_patch_missing", method: "PATCH", path: "secret/metadata/app/nothing", header: mp, body: `{"max_versions":1}`},
		{method: "PUT", path: "secret/config", body: `{"cas_required":true}`},
		{golden: "metadata_put_cas_warning", method: "PUT", path: "secret/metadata/app/db", body: `{"cas_required":false,"bogus":1}`},
		{golden: "data_put_cas_required", method: "PUT", path: "secret/data/app/db", body: `{"data":{"a":"b"}}`},
		{golden: "data_put_cas_mismatch", method: "PUT", path: "secret/data/app/db", body: `{"data":{"a":"b"},"options":{"cas":1}}`},
		{method: "PUT", path: "secret/config", body: `{"cas_required":false}`},
		{golden: "metadata_delete", method: "DELETE", path: "secret/metadata/app/db/replica"},

		{golden: "catchall_get", method: "GET", path: "secret/foo"},
		{golden: "catchall_root", method: "PUT", path: "secret/data", body: `{}`},
		{golden: "catchall_list_data", method: "LIST", path: "secret/data/app/db"},
		{golden: "error_unsupported_operation", method: "GET", path: "secret/delete/app/db"},
		{golden: "error_method", method: "COPY", path: "secret/data/app/db"},
		{golden: "error_no_route", method: "GET", path: "kv/foo"},
		{golden: "error_no_token", method: "GET", path: "secret/data/app/db", header: []string{"X-Vault-Token", ""}},
		{golden: "error_invalid_token", method: "GET", path: "secret/data/app/db", header: []string{"X-Vault-Token", "cof_root_nope"}},
		{golden: "error_patch_content_type", method: "PATCH", path: "secret/data/app/db", body: `{"data":{}}`,
			header: []string{"Content-Type", "text/plain"}},
		{golden: "error_patch_no_content_type", method: "PATCH", path: "secret/data/app/db", body: `{"data":{}}`},
		{golden: "error_json", method: "PUT", path: "secret/data/app/db", body: `{"data":`},
		{golden: "error_json_patch", method: "PATCH", path: "secret/data/app/db", header: mp, body: `{"data":`},
		{golden: "error_no_data", method: "PUT", path: "secret/data/app/db", body: `{"options":{}}`},
		{golden: "error_field", method: "GET", path: "secret/data/app/db?version=abc"},
		{golden: "error_versions", method: "PUT", path: "secret/delete/app/db", body: `{"versions":[{"a":1}]}`},
		{golden: "error_cas_parse", method: "PUT", path: "secret/data/app/db", body: `{"data":{},"options":{"cas":"x"}}`},
		{golden: "error_custom_metadata", method: "PUT", path: "secret/metadata/app/db",
			body: `{"custom_metadata":{"":"v","k":"` + strings.Repeat("x", 513) + `","bad key":"v","tab":"a\tb"}}`},
		{golden: "error_custom_metadata_count", method: "PUT", path: "secret/metadata/app/db", body: manyCustomMetadata(65)},
		{golden: "error_negative_duration", method: "PUT", path: "secret/metadata/app/db", body: `{"delete_version_after":"-1h"}`},
		{golden: "error_max_versions", method: "PUT", path: "secret/config", body: `{"max_versions":24001}`},
		{golden: "error_bad_path", method: "PUT", path: "secret/data/app/../db", body: `{"data":{}}`},
		{golden: "error_write_slash", method: "PUT", path: "secret/data/app/", body: `{"data":{}}`},
		{golden: "error_data_too_large", method: "PUT", path: "secret/data/app/big", body: bigData(70000)},
		{golden: "error_data_not_object", method: "PUT", path: "secret/data/app/db", body: `{"data":"text"}`},
		{golden: "error_data_duplicate", method: "PUT", path: "secret/data/app/db", body: `{"data":{"a":1,"a":2}}`},
		{golden: "error_namespace", method: "GET", path: "secret/config", header: []string{"X-Vault-Namespace", "team-a"}},
		{golden: "error_wrapping", method: "GET", path: "secret/config", header: []string{"X-Vault-Wrap-TTL", "5m"}},
		{golden: "error_list_param", method: "GET", path: "secret/metadata/app?list=maybe"},

		{golden: "sys_health", method: "GET", path: "sys/health"},
		{golden: "sys_seal_status", method: "GET", path: "sys/seal-status"},
		{golden: "sys_leader", method: "GET", path: "sys/leader"},
		{golden: "sys_preflight", method: "GET", path: "sys/internal/ui/mounts/secret/app/db"},
		{golden: "sys_mounts", method: "GET", path: "sys/internal/ui/mounts"},
		{golden: "sys_preflight_denied", method: "GET", path: "sys/internal/ui/mounts/secret/app", header: []string{"X-Vault-Token", ""}},
		{golden: "token_lookup_self", method: "GET", path: "auth/token/lookup-self"},
		{golden: "token_create", method: "POST", path: "auth/token/create", body: `{"display_name":"terraform","ttl":"1200s"}`},
		{golden: "token_revoke_self_root", method: "POST", path: "auth/token/revoke-self"},
		{golden: "token_renew_self", method: "PUT", path: "auth/token/renew-self", body: `{"increment":0}`},
	}
	h := newHarness(t)
	for _, st := range steps {
		h.Clock.Advance(st.advance)
		r := h.do(st.method, "/v1/"+st.path, st.body, st.header...)
		if st.golden == "" {
			if r.status >= 300 {
				t.Fatalf("setup %s %s: %d %s", st.method, st.path, r.status, r.body)
			}
			continue
		}
		checkGolden(t, st.golden, h.normalise(r))
	}
}

var (
	uuidRE      = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	accessorRE  = regexp.MustCompile(`acc_[0-9a-f]{24}`)
	tokenRE     = regexp.MustCompile(`cof_ctk_[A-Za-z0-9_-]{43}`)
	serverTime  = regexp.MustCompile(`"server_time_utc":\d+`)
	kvAccessor  = regexp.MustCompile(`"(kv|transit)_[0-9a-f]{8}"`)
	requestIDRE = regexp.MustCompile(`"request_id":"[^"]*"`)
)

// normalise renders a response for comparison: the status, the content
// type and the body byte for byte, with what changes from run to run
// replaced by placeholders.
func (h *harness) normalise(r response) []byte {
	b := bytes.ReplaceAll(r.body, []byte(h.Domain), []byte("<okms-id>"))
	b = requestIDRE.ReplaceAll(b, []byte(`"request_id":"<request-id>"`))
	b = uuidRE.ReplaceAll(b, []byte("<uuid>"))
	b = accessorRE.ReplaceAll(b, []byte("<accessor>"))
	b = tokenRE.ReplaceAll(b, []byte("<child-token>"))
	b = kvAccessor.ReplaceAll(b, []byte(`"${1}_<okms-id>"`))
	b = serverTime.ReplaceAll(b, []byte(`"server_time_utc":<now>`))
	return fmt.Appendf(nil, "HTTP %d\nContent-Type: %s\n\n%s", r.status, r.header.Get("Content-Type"), b)
}

// checkGolden compares got with testdata/<name>.golden, or rewrites the
// file with -update.
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	wiretest.Golden(t, name, got)
}

func manyCustomMetadata(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"k%d":"v"`, i)
	}
	return `{"custom_metadata":{` + strings.Join(parts, ",") + `}}`
}

// bigData is a data write whose value is about n bytes.
func bigData(n int) string { return `{"data":{"blob":"` + strings.Repeat("a", n) + `"}}` }
