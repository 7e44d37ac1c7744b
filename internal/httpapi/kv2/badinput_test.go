package kv2_test

import (
	"bytes"
	"strings"
	"testing"
)

// TestBadInput sends malformed JSON, wrong PATCH content types, garbage
// versions, bad paths, oversized data and CAS mismatches (issue #3, "Bad
// input"): each gets the status of vault-kv2.md 2.4 and an errors array
// that says what is wrong, never a 5xx, 412 or 429, and changes nothing.
func TestBadInput(t *testing.T) {
	t.Parallel()
	const target = "/v1/secret/data/bad/target"
	tests := []struct {
		name    string
		method  string
		path    string
		body    string
		header  []string
		status  int
		errsHas string // a substring of errors[0]; "" means errors must be []
	}{
		{"400/malformed json", "PUT", target, `{"data":{"a":`, nil, 400, "error parsing JSON: failed to parse JSON input"},
		{"400/json not an object", "PUT", target, `["data"]`, nil, 400, "the body must be a JSON object"},
		{"400/invalid utf-8", "PUT", target, "{\"data\":{\"a\":\"\xff\"}}", nil, 400, "invalid UTF-8"},
		{"400/malformed json patch", "PATCH", target, `{"data":`, patchType, 400, "error parsing JSON"},
		{"415/patch with text/plain", "PATCH", target, `{"data":{"a":"b"}}`,
			[]string{"Content-Type", "text/plain"}, 415, "PATCH requires Content-Type of application/merge-patch+json, provided text/plain"},
		{"400/patch without content type", "PATCH", target, `{"data":{"a":"b"}}`, nil, 400, "mime: no media type"},
		{"400/patch with a broken content type", "PATCH", target, `{"data":{"a":"b"}}`,
			[]string{"Content-Type", "/merge"}, 400, "mime: "},
		{"400/versions garbage string", "PUT", "/v1/secret/delete/bad/target", `{"versions":"one,two"}`, nil, 400,
			`Field validation failed: error converting input for field "versions"`},
		{"400/versions float", "PUT", "/v1/secret/destroy/bad/target", `{"versions":[1.5]}`, nil, 400,
			`Field validation failed: error converting input for field "versions"`},
		{"400/versions object", "PUT", "/v1/secret/undelete/bad/target", `{"versions":{"v":1}}`, nil, 400,
			`Field validation failed: error converting input for field "versions"`},
		{"400/versions empty", "PUT", "/v1/secret/delete/bad/target", `{"versions":""}`, nil, 400, "No version number provided"},
		{"400/version query garbage", "GET", target + "?version=latest", "", nil, 400, `error converting input for field "version"`},
		{"400/version float", "GET", target + "?version=1.0", "", nil, 400, `error converting input for field "version"`},
		{"400/depth negative", "GET", "/v1/secret/subkeys/bad/target?depth=-1", "", nil, 400, `error converting input for field "depth"`},
		{"400/path with dot segment", "PUT", "/v1/secret/data/bad/./target", `{"data":{}}`, nil, 400, "invalid secret path"},
		{"400/path with double slash", "PUT", "/v1/secret/data/bad//target", `{"data":{}}`, nil, 400, "invalid secret path: it must not contain //"},
		{"400/path with a bad character", "PUT", "/v1/secret/data/bad/tar%20get", `{"data":{}}`, nil, 400, "invalid secret path"},
		{"400/path too long", "PUT", "/v1/secret/data/" + strings.Repeat("p", 256), `{"data":{}}`, nil, 400,
			"invalid secret path: it is 256 characters long, the maximum is 255"},
		{"400/metadata path with a bad character", "PUT", "/v1/secret/metadata/bad/t*rget", `{"max_versions":1}`, nil, 400, "invalid secret path"},
		{"400/write to a folder", "PUT", "/v1/secret/metadata/bad/", `{"max_versions":1}`, nil, 400, "cannot write to a path ending in '/'"},
		{"400/data over 64 KiB", "PUT", target, bigData(65536), nil, 400, "data exceeds the maximum size of 65536 bytes"},
		{"400/data too deep", "PUT", target, `{"data":` + strings.Repeat(`{"a":`, 70) + `1` + strings.Repeat(`}`, 71), nil, 400,
			"data must be a JSON object: nesting deeper than 64 levels"},
		{"400/data array", "PUT", target, `{"data":[1,2]}`, nil, 400, `error converting input for field "data"`},
		{"400/no data", "PUT", target, `{"options":{"cas":1}}`, nil, 400, "no data provided"},
		{"400/patch no data", "PATCH", target, `{}`, patchType, 400, "no data provided"},
		{"400/cas mismatch", "PUT", target, `{"data":{"x":"y"},"options":{"cas":5}}`, nil, 400,
			"check-and-set parameter did not match the current version"},
		{"400/cas zero on an existing secret", "PUT", target, `{"data":{"x":"y"},"options":{"cas":0}}`, nil, 400,
			"check-and-set parameter did not match the current version"},
		{"400/cas negative", "PUT", target, `{"data":{"x":"y"},"options":{"cas":-1}}`, nil, 400,
			"check-and-set parameter did not match the current version"},
		{"400/cas not a number", "PUT", target, `{"data":{"x":"y"},"options":{"cas":"two"}}`, nil, 400,
			"error parsing check-and-set parameter"},
		{"400/options not an object", "PUT", target, `{"data":{"x":"y"},"options":"cas=1"}`, nil, 400,
			`error converting input for field "options"`},
		{"400/patch cas mismatch", "PATCH", target, `{"data":{"x":"y"},"options":{"cas":9}}`, patchType, 400,
			"check-and-set parameter did not match the current version"},
		{"400/max_versions out of range", "PUT", "/v1/secret/metadata/bad/target", `{"max_versions":-1}`, nil, 400,
			"max_versions must be between 0 and 24000"},
		{"400/max_versions float", "PUT", "/v1/secret/metadata/bad/target", `{"max_versions":1.0}`, nil, 400,
			`error converting input for field "max_versions"`},
		{"400/cas_required garbage", "PUT", "/v1/secret/metadata/bad/target", `{"cas_required":"maybe"}`, nil, 400,
			`error converting input for field "cas_required"`},
		{"400/duration garbage", "PUT", "/v1/secret/metadata/bad/target", `{"delete_version_after":"soon"}`, nil, 400,
			`error converting input for field "delete_version_after"`},
		{"400/duration over 100 years", "PUT", "/v1/secret/config", `{"delete_version_after":"1000000h"}`, nil, 400,
			"at most 100 years"},
		{"400/custom_metadata not an object", "PUT", "/v1/secret/metadata/bad/target", `{"custom_metadata":"a=b"}`, nil, 400,
			`error converting input for field "custom_metadata"`},
		{"400/custom_metadata nested", "PUT", "/v1/secret/metadata/bad/target", `{"custom_metadata":{"a":{"b":"c"}}}`, nil, 400,
			"custom_metadata validation failed: '' expected type 'string', got unconvertible type 'map'"},
		{"400/custom_metadata bad character", "PATCH", "/v1/secret/metadata/bad/target", `{"custom_metadata":{"k":"a b"}}`, patchType, 400,
			`custom_metadata validation failed: value for key "k" contains characters outside`},
		{"400/list flag garbage", "GET", "/v1/secret/metadata/bad?list=yes-please", "", nil, 400, ""},
		{"413/body over 1 MiB", "PUT", target, bigData(1 << 20), nil, 413, "http: request body too large"},
		{"405/delete on destroy", "DELETE", "/v1/secret/destroy/bad/target", "", nil, 405, "unsupported operation"},
		{"405/unknown method", "TRACE", target, "", nil, 405, ""},
		{"403/no token", "PUT", target, `{"data":{"x":"y"}}`, []string{"X-Vault-Token", ""}, 403, "permission denied"},
		{"403/bad token", "PUT", target, `{"data":{"x":"y"}}`, []string{"X-Vault-Token", "cof_pat_guess"}, 403, "invalid token"},
		{"400/namespace", "PUT", target, `{"data":{"x":"y"}}`, []string{"X-Vault-Namespace", "ns1"}, 400, "namespaces are not supported"},
	}
	h := newHarness(t)
	expect(t, "setup", h.do("PUT", target, `{"data":{"a":"b"}}`), 200)
	expect(t, "setup", h.do("PUT", "/v1/secret/metadata/bad/target", `{"custom_metadata":{"k":"v"}}`), 204)
	snapshot := func() []byte {
		r := h.do("GET", "/v1/secret/metadata/bad/target", "")
		cfg := h.do("GET", "/v1/secret/config", "")
		list := h.do("LIST", "/v1/secret/metadata/", "")
		return bytes.Join([][]byte{h.normalise(r), h.normalise(cfg), h.normalise(list)}, []byte("\n"))
	}
	before := snapshot()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := h.do(tc.method, tc.path, tc.body, tc.header...)
			expect(t, tc.name, r, tc.status)
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q, want exactly application/json", ct)
			}
			errs := r.errors(t)
			switch {
			case tc.errsHas == "" && len(errs) != 0:
				t.Errorf("errors %q, want []", errs)
			case tc.errsHas != "" && (len(errs) == 0 || !strings.Contains(errs[0], tc.errsHas)):
				t.Errorf("errors %q, want one containing %q", errs, tc.errsHas)
			}
			if after := snapshot(); !bytes.Equal(after, before) {
				t.Errorf("the request changed state:\n--- before\n%s\n--- after\n%s", before, after)
			}
		})
	}
}
