package kv2_test

import (
	"reflect"
	"sort"
	"testing"
	"time"
)

// TestVersionedKV reproduces, over HTTP, the behaviours that
// vault-plugin-secrets-kv's own tests pin (vault-kv2.md section 9), with
// coffer's differences of section 8. Each case runs on its own server.
func TestVersionedKV(t *testing.T) {
	t.Parallel()
	mp := patchType
	cases := map[string][]step{
		"Config_DeleteVersionAfter": {
			{method: "PUT", path: "secret/config", body: `{"delete_version_after":"10s"}`, status: 204},
			{method: "PUT", path: "secret/config", body: `{"delete_version_after":"0s"}`, status: 204},
			{method: "GET", path: "secret/config", status: 200, want: map[string]string{"data.delete_version_after": `"0s"`}},
			{method: "PUT", path: "secret/config", body: `{"delete_version_after":"10s"}`, status: 204},
			{method: "PUT", path: "secret/config", body: `{"delete_version_after":"20s"}`, status: 204},
			{method: "GET", path: "secret/config", status: 200, want: map[string]string{"data.delete_version_after": `"20s"`}},
			{method: "PUT", path: "secret/config", body: `{"delete_version_after":"-1h"}`, status: 204},
			{method: "GET", path: "secret/config", status: 200, want: map[string]string{"data.delete_version_after": `"-1s"`}},
			{method: "PUT", path: "secret/config", body: `{"delete_version_after":"3h"}`, status: 204},
			{method: "GET", path: "secret/config", status: 200, want: map[string]string{"data.delete_version_after": `"3h0m0s"`}},
			{method: "PUT", path: "secret/config", body: `{"delete_version_after":5400}`, status: 204},
			{method: "GET", path: "secret/config", status: 200, want: map[string]string{"data.delete_version_after": `"1h30m0s"`}},
			{method: "PUT", path: "secret/config", body: `{"delete_version_after":"500ms","max_versions":"7","cas_required":"true"}`, status: 204},
			{method: "GET", path: "secret/config", status: 200, want: map[string]string{
				"data.delete_version_after": `"0s"`, "data.max_versions": "7", "data.cas_required": "true"}},
			{name: "empty body changes nothing", method: "PUT", path: "secret/config", status: 204},
			{method: "GET", path: "secret/config", status: 200, want: map[string]string{"data.max_versions": "7"}},
		},
		"Data_Put_ZeroCas": {
			{method: "PUT", path: "secret/data/z", body: `{"data":{"a":1},"options":{"cas":0}}`, status: 200, want: map[string]string{"data.version": "1"}},
			{method: "PUT", path: "secret/metadata/z2", body: `{"max_versions":2}`, status: 204},
			{name: "cas 0 on a metadata-only secret", method: "PUT", path: "secret/data/z2", body: `{"data":{"a":1},"options":{"cas":null}}`, status: 200},
			{method: "DELETE", path: "secret/data/z", status: 204},
			{name: "cas 0 fails once a version exists, even deleted", method: "PUT", path: "secret/data/z",
				body: `{"data":{"a":2},"options":{"cas":0}}`, status: 400},
			{name: "cas as a string", method: "PUT", path: "secret/data/z", body: `{"data":{"a":2},"options":{"cas":"1"}}`, status: 200},
		},
		"Data_Put_CleanupOldVersions": {
			{method: "PUT", path: "secret/data/c", body: `{"data":{"n":1}}`, status: 200},
			{method: "PUT", path: "secret/data/c", body: `{"data":{"n":2}}`, status: 200},
			{method: "PUT", path: "secret/data/c", body: `{"data":{"n":3}}`, status: 200},
			{method: "PUT", path: "secret/metadata/c", body: `{"max_versions":1}`, status: 204},
			{name: "lowering max_versions prunes nothing yet", method: "GET", path: "secret/metadata/c", status: 200,
				want: map[string]string{"data.oldest_version": "0", "data.versions.1.destroyed": "false"}},
			{method: "PUT", path: "secret/data/c", body: `{"data":{"n":4}}`, status: 200},
			{method: "GET", path: "secret/metadata/c", status: 200, want: map[string]string{
				"data.oldest_version": "4", "data.current_version": "4", "data.versions.1": "null", "data.versions.3": "null"}},
			{method: "GET", path: "secret/data/c?version=3", status: 404, errs: []string{}},
		},
		"Data_Patch_CleanupOldVersions": {
			{method: "PUT", path: "secret/data/p", body: `{"data":{"n":1}}`, status: 200},
			{method: "PUT", path: "secret/metadata/p", body: `{"max_versions":2}`, status: 204},
			{method: "PATCH", path: "secret/data/p", header: mp, body: `{"data":{"m":1}}`, status: 200},
			{method: "PATCH", path: "secret/data/p", header: mp, body: `{"data":{"o":1}}`, status: 200, want: map[string]string{"data.version": "3"}},
			{method: "GET", path: "secret/metadata/p", status: 200, want: map[string]string{"data.oldest_version": "2"}},
			{method: "GET", path: "secret/data/p", status: 200, want: map[string]string{"data.data": `{"m":1,"n":1,"o":1}`}},
		},
		"Patch_Success": {
			{method: "PUT", path: "secret/data/ps", body: `{"data":{"foo":"bar","quux":{"quuz":["1","2","3"]}}}`, status: 200},
			{method: "PATCH", path: "secret/data/ps", header: mp, status: 200, want: map[string]string{"data.version": "2"},
				body: `{"data":{"bar":"baz","abc":123,"foo":null,"quux":{"def":456,"quuz":["1","2","3","4"]}}}`},
			{method: "GET", path: "secret/data/ps", status: 200, want: map[string]string{
				"data.data": `{"abc":123,"bar":"baz","quux":{"def":456,"quuz":["1","2","3","4"]}}`}},
		},
		"Patch_NotFound_NoData_CASValidation": {
			{method: "PATCH", path: "secret/data/pn", header: mp, body: `{"data":{"a":1}}`, status: 404, empty: true},
			{method: "PUT", path: "secret/metadata/pn", body: `{"cas_required":true}`, status: 204},
			{name: "exists without versions", method: "PATCH", path: "secret/data/pn", header: mp, body: `{"data":{"a":1},"options":{"cas":0}}`,
				status: 404, empty: true},
			{method: "PUT", path: "secret/data/pn", body: `{"data":{"a":1},"options":{"cas":0}}`, status: 200},
			{method: "PATCH", path: "secret/data/pn", header: mp, body: `{"data":{"a":2}}`, status: 400,
				errs: []string{"check-and-set parameter required for this call"}},
			{method: "PATCH", path: "secret/data/pn", header: mp, body: `{"data":{"a":2},"options":{"cas":2}}`, status: 400,
				errs: []string{"check-and-set parameter did not match the current version"}},
			{method: "PATCH", path: "secret/data/pn", header: mp, body: `{"options":{"cas":1}}`, status: 400, errs: []string{"no data provided"}},
			{method: "PATCH", path: "secret/data/pn", header: mp, body: `{"data":{"a":2},"options":{"cas":1}}`, status: 200},
		},
		"Patch_CurrentVersionDeleted_Destroyed": {
			{method: "PUT", path: "secret/data/pd", body: `{"data":{"a":1}}`, status: 200},
			{method: "DELETE", path: "secret/data/pd", status: 204},
			{method: "PATCH", path: "secret/data/pd", header: mp, body: `{"data":{"a":2}}`, status: 404, want: map[string]string{
				"data.version": "1", "data.destroyed": "false", "data.deletion_time": `"2026-05-01T10:00:00.1234567Z"`, "mount_type": `""`}},
			{method: "PUT", path: "secret/destroy/pd", body: `{"versions":[1]}`, status: 204},
			{method: "PATCH", path: "secret/data/pd", header: mp, body: `{"data":{"a":2}}`, status: 404, want: map[string]string{
				"data.version": "1", "data.destroyed": "true"}},
		},
		"Delete_Undelete_Destroy_Put": {
			{method: "PUT", path: "secret/data/d", body: `{"data":{"n":1}}`, status: 200},
			{method: "PUT", path: "secret/data/d", body: `{"data":{"n":2}}`, status: 200},
			{method: "PUT", path: "secret/data/d", body: `{"data":{"n":3}}`, status: 200},
			{name: "ints, strings and unknown ids", method: "POST", path: "secret/delete/d", body: `{"versions":[1,"2",99,-4,0]}`, status: 204},
			{method: "GET", path: "secret/data/d?version=2", status: 404, want: map[string]string{"data.data": "null"}},
			{name: "a comma string", method: "PUT", path: "secret/undelete/d", body: `{"versions":"1,2"}`, status: 204},
			{method: "GET", path: "secret/data/d?version=2", status: 200, want: map[string]string{"data.data": `{"n":2}`}},
			{name: "a single number", method: "PUT", path: "secret/destroy/d", body: `{"versions":3}`, status: 204},
			{method: "GET", path: "secret/metadata/d", status: 200, want: map[string]string{
				"data.versions.3.destroyed": "true", "data.versions.3.deletion_time": `""`}},
			{name: "destroy again is a no-op", method: "PUT", path: "secret/destroy/d", body: `{"versions":[3]}`, status: 204},
			{name: "delete skips a destroyed version", method: "PUT", path: "secret/delete/d", body: `{"versions":[3]}`, status: 204},
			{method: "GET", path: "secret/metadata/d", status: 200, want: map[string]string{"data.versions.3.deletion_time": `""`}},
			{name: "missing secret", method: "PUT", path: "secret/delete/nothing", body: `{"versions":[1]}`, status: 204},
			{name: "missing secret", method: "PUT", path: "secret/undelete/nothing", body: `{"versions":[1]}`, status: 204},
			{name: "missing secret", method: "PUT", path: "secret/destroy/nothing", body: `{"versions":[1]}`, status: 204},
			{name: "data delete of a missing secret", method: "DELETE", path: "secret/data/nothing", status: 204},
		},
		"Metadata_Put_Merge_Behavior": {
			{method: "PUT", path: "secret/metadata/m", body: `{"max_versions":5,"cas_required":true,"custom_metadata":{"a":"1"},"delete_version_after":"1h"}`, status: 204},
			{method: "PUT", path: "secret/metadata/m", body: `{"max_versions":6}`, status: 204},
			{method: "GET", path: "secret/metadata/m", status: 200, want: map[string]string{
				"data.max_versions": "6", "data.cas_required": "true", "data.custom_metadata": `{"a":"1"}`,
				"data.delete_version_after": `"1h0m0s"`, "data.current_version": "0", "data.versions": "{}"}},
			{name: "weak custom metadata values", method: "PUT", path: "secret/metadata/m", body: `{"custom_metadata":{"n":12,"b":true}}`, status: 204},
			{method: "GET", path: "secret/metadata/m", status: 200, want: map[string]string{"data.custom_metadata": `{"b":"1","n":"12"}`}},
			{name: "{} clears", method: "PUT", path: "secret/metadata/m", body: `{"custom_metadata":{}}`, status: 204},
			{method: "GET", path: "secret/metadata/m", status: 200, want: map[string]string{"data.custom_metadata": "null"}},
			{name: "no known field creates nothing", method: "PUT", path: "secret/metadata/none", body: `{"other":1}`, status: 204},
			{method: "GET", path: "secret/metadata/none", status: 404},
			{name: "updated_time moves on metadata changes [D 5.6]", method: "PUT", path: "secret/metadata/m", body: `{"max_versions":1}`, status: 204},
		},
		"Metadata_Patch_NilsUnset": {
			{method: "PUT", path: "secret/metadata/n", body: `{"max_versions":5,"cas_required":true,"custom_metadata":{"a":"1","b":"2"},"delete_version_after":"1h"}`, status: 204},
			{method: "PATCH", path: "secret/metadata/n", header: mp, status: 204,
				body: `{"max_versions":null,"cas_required":null,"delete_version_after":null,"current_version":9,"versions":{}}`},
			{method: "GET", path: "secret/metadata/n", status: 200, want: map[string]string{
				"data.max_versions": "0", "data.cas_required": "false", "data.delete_version_after": `"1h0m0s"`, "data.current_version": "0"}},
			{method: "PATCH", path: "secret/metadata/n", header: mp, body: `{"custom_metadata":{"a":null,"c":"3"},"delete_version_after":"0s"}`, status: 204},
			{method: "GET", path: "secret/metadata/n", status: 200, want: map[string]string{
				"data.custom_metadata": `{"b":"2","c":"3"}`, "data.delete_version_after": `"0s"`}},
			{method: "PATCH", path: "secret/metadata/n", header: mp, body: `{"custom_metadata":null}`, status: 204},
			{method: "GET", path: "secret/metadata/n", status: 200, want: map[string]string{"data.custom_metadata": "null"}},
			{name: "the merged result is validated", method: "PATCH", path: "secret/metadata/n", header: mp, body: manyCustomMetadata(65), status: 400},
		},
		"Metadata_List_ExcludeDeleted": {
			{method: "PUT", path: "secret/data/x/live", body: `{"data":{}}`, status: 200},
			{method: "PUT", path: "secret/data/x/dead", body: `{"data":{}}`, status: 200},
			{method: "DELETE", path: "secret/data/x/dead", status: 204},
			{method: "PUT", path: "secret/metadata/x/scheduled", body: `{"delete_version_after":"1h"}`, status: 204},
			{method: "PUT", path: "secret/data/x/scheduled", body: `{"data":{}}`, status: 200},
			{method: "PUT", path: "secret/data/x/sub/leaf", body: `{"data":{}}`, status: 200},
			{method: "DELETE", path: "secret/data/x/sub/leaf", status: 204},
			{method: "GET", path: "secret/metadata/x/?list=true", status: 200, want: map[string]string{"data.keys": `["dead","live","scheduled","sub/"]`}},
			{method: "GET", path: "secret/metadata/x/?list=true&exclude_deleted=true", status: 200, want: map[string]string{"data.keys": `["live","sub/"]`}},
		},
		"Subkeys": {
			{method: "GET", path: "secret/subkeys/s", status: 404, errs: []string{}},
			{method: "PUT", path: "secret/data/s", body: `{"data":{"foo":{"bar":{"baz":123}},"e":{},"l":[1,2]}}`, status: 200},
			{method: "PUT", path: "secret/data/s", body: `{"data":{}}`, status: 200},
			{name: "empty data", method: "GET", path: "secret/subkeys/s", status: 200, want: map[string]string{"data.subkeys": "{}"}},
			{method: "GET", path: "secret/subkeys/s?version=1", status: 200,
				want: map[string]string{"data.subkeys": `{"e":null,"foo":{"bar":{"baz":null}},"l":null}`}},
			{method: "GET", path: "secret/subkeys/s?version=1&depth=2", status: 200,
				want: map[string]string{"data.subkeys": `{"e":null,"foo":{"bar":null},"l":null}`}},
			{method: "GET", path: "secret/subkeys/s?version=7", status: 404, errs: []string{}},
			{method: "PUT", path: "secret/delete/s", body: `{"versions":[1]}`, status: 204},
			{method: "GET", path: "secret/subkeys/s?version=1", status: 404, want: map[string]string{"data.subkeys": "null", "data.metadata.version": "1"}},
			{method: "PUT", path: "secret/destroy/s", body: `{"versions":[2]}`, status: 204},
			{method: "GET", path: "secret/subkeys/s", status: 404, want: map[string]string{"data.metadata.destroyed": "true"}},
		},
		"Data_Put_Response_And_Null": {
			{method: "PUT", path: "secret/data/n", body: `{"data":null}`, status: 200},
			{method: "GET", path: "secret/data/n", status: 200, want: map[string]string{"data.data": "{}"}},
		},
	}
	for name, steps := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			newHarness(t).run(t, "default", steps)
		})
	}
}

// TestVersionedKV_DataPutKeys checks that a write's data has exactly the
// keys of vault-kv2.md 4.3 and a read's metadata those of 4.2.
func TestVersionedKV_DataPutKeys(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	want := []string{"created_time", "custom_metadata", "deletion_time", "destroyed", "version"}
	r := h.do("PUT", "/v1/secret/data/keys", `{"data":{"a":"b"}}`)
	if got := keysOf(get(r.json(t), "data")); !reflect.DeepEqual(got, want) {
		t.Fatalf("write data keys %v, want %v", got, want)
	}
	r = h.do("GET", "/v1/secret/data/keys", "")
	if got := keysOf(get(r.json(t), "data", "metadata")); !reflect.DeepEqual(got, want) {
		t.Fatalf("read metadata keys %v, want %v", got, want)
	}
	env := []string{"auth", "data", "lease_duration", "lease_id", "mount_type", "renewable", "request_id", "warnings", "wrap_info"}
	if got := keysOf(r.json(t)); !reflect.DeepEqual(got, env) {
		t.Fatalf("envelope keys %v, want %v", got, env)
	}
	if rid := get(r.json(t), "request_id"); rid != r.header.Get("X-Request-Id") || r.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("request_id %v, X-Request-Id %q, Cache-Control %q", rid, r.header.Get("X-Request-Id"), r.header.Get("Cache-Control"))
	}
}

// TestVersionedKV_DeleteVersionAfter follows TestDeleteVersionAfter and
// vault-kv2.md 5.3: the secret's value overrides the domain's, a negative
// domain value disables scheduling, and undelete re-arms from its own time.
func TestVersionedKV_DeleteVersionAfter(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	at := func(d time.Duration) string { return `"` + h.Clock.Now().Add(d).UTC().Format(time.RFC3339Nano) + `"` }
	h.run(t, "default", []step{
		{method: "PUT", path: "secret/config", body: `{"delete_version_after":"1h"}`, status: 204},
		{method: "PUT", path: "secret/data/dva", body: `{"data":{}}`, status: 200, want: map[string]string{"data.deletion_time": at(time.Hour)}},
		{method: "PUT", path: "secret/metadata/dva", body: `{"delete_version_after":"30m"}`, status: 204},
		{method: "PUT", path: "secret/data/dva", body: `{"data":{}}`, status: 200, want: map[string]string{"data.deletion_time": at(30 * time.Minute)}},
		{method: "PUT", path: "secret/config", body: `{"delete_version_after":-1}`, status: 204},
		{method: "PUT", path: "secret/data/dva", body: `{"data":{}}`, status: 200, want: map[string]string{"data.deletion_time": `""`}},
		{name: "schedules stored earlier stay", method: "GET", path: "secret/data/dva?version=1", status: 200,
			want: map[string]string{"data.metadata.deletion_time": at(time.Hour)}},
	})
	h.Clock.Advance(2 * time.Hour)
	h.run(t, "default", []step{
		{method: "GET", path: "secret/data/dva?version=1", status: 404, want: map[string]string{"data.metadata.deletion_time": `"2026-05-01T11:00:00.1234567Z"`}},
		{name: "delete skips an expired version", method: "PUT", path: "secret/delete/dva", body: `{"versions":[1]}`, status: 204},
		{method: "GET", path: "secret/data/dva?version=1", status: 404, want: map[string]string{"data.metadata.deletion_time": `"2026-05-01T11:00:00.1234567Z"`}},
		{method: "PUT", path: "secret/config", body: `{"delete_version_after":"0s"}`, status: 204},
		{method: "PUT", path: "secret/undelete/dva", body: `{"versions":[1]}`, status: 204},
		{name: "re-armed from the undelete with the secret's 30m", method: "GET", path: "secret/data/dva?version=1", status: 200,
			want: map[string]string{"data.metadata.deletion_time": at(30 * time.Minute)}},
	})
}

// TestVersionedKV_Reload follows TestVersionedKV_Reload_Policy: what was
// written survives a restart of a server on the bolt store.
func TestVersionedKV_Reload(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	h := newHarness(t, dir)
	h.run(t, "default", []step{
		{method: "PUT", path: "secret/data/kept", body: `{"data":{"a":"b"}}`, status: 200},
		{method: "PUT", path: "secret/metadata/kept", body: `{"custom_metadata":{"k":"v"}}`, status: 204},
		{method: "PUT", path: "secret/config", body: `{"max_versions":4}`, status: 204},
	})
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	h2 := newHarness(t, dir)
	if h2.Domain != h.Domain {
		t.Fatalf("default domain changed across a restart: %s, %s", h.Domain, h2.Domain)
	}
	h2.run(t, "domain", []step{
		{method: "GET", path: "secret/data/kept", status: 200, want: map[string]string{"data.data": `{"a":"b"}`, "data.metadata.custom_metadata": `{"k":"v"}`}},
		{method: "GET", path: "secret/config", status: 200, want: map[string]string{"data.max_versions": "4"}},
	})
}

func keysOf(v any) []string {
	m, _ := v.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
