package rest_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestBodyMembers (issue 13, point 6): surface B's secret create and update
// bodies are as strict at every depth: an object (the body, metadata,
// version) may carry the members of its request schema, and those of the
// answer a client may send back unchanged, which are ignored; any other
// member is a 400 that names it, and nothing is written. Members inside
// data and customMetadata are the caller's own.
func TestBodyMembers(t *testing.T) {
	names := func(member string) func(*testing.T, *env, *response) {
		return func(t *testing.T, _ *env, r *response) {
			if !strings.Contains(string(r.Body), member) {
				t.Errorf("the error does not name %s: %s", member, r.Body)
			}
		}
	}
	existing := func(e *env) { e.CreateSecret("prod/db", `{"a":"b"}`) }
	cases := []apiCase{
		{name: "400/unknown member of version", body: `{"path":"a","version":{"data":{"k":"v"},"bogus":1}}`,
			status: 400, errID: "RequestBodyInvalidJson", check: names(`version.bogus`)},
		{name: "400/misplaced cas in version", body: `{"path":"a","version":{"data":{"k":"v"},"cas":3}}`,
			status: 400, errID: "RequestBodyInvalidJson", check: names(`version.cas`)},
		{name: "400/unknown member of metadata", body: `{"path":"a","metadata":{"maxVersions":3,"bogus":true},"version":{"data":{}}}`,
			status: 400, errID: "RequestBodyInvalidJson", check: names(`metadata.bogus`)},
		{name: "400/unknown member of the body", body: `{"path":"a","bogus":1,"version":{"data":{}}}`,
			status: 400, errID: "RequestBodyInvalidJson", check: names(`bogus`)},
		{name: "200/members of the answers sent back are ignored", status: 200,
			body: `{"path":"a","iam":{"x":1},"warnings":[],"metadata":{"urn":"x","createdAt":"2026-01-01T00:00:00Z","currentVersion":1,` +
				`"oldestVersion":1,"updatedAt":"x","maxVersions":0,"casRequired":false,"deactivateVersionAfter":"0s","customMetadata":{}},` +
				`"version":{"id":1,"state":"active","createdAt":"x","deactivatedAt":null,"warnings":[],"data":{"k":"v"}}}`,
			check: readsBack("a", `{"k":"v"}`)},
		{name: "200/any member inside data and customMetadata", status: 200,
			body:  `{"path":"a","metadata":{"customMetadata":{"bogus":"1"}},"version":{"data":{"bogus":{"cas":1}}}}`,
			check: readsBack("a", `{"bogus":{"cas":1}}`)},
		{name: "400/update: unknown member of version", method: http.MethodPut, setup: existing, target: "/secret/prod%2Fdb",
			body: `{"version":{"data":{"k":"v"},"bogus":1}}`, status: 400, errID: "RequestBodyInvalidJson", check: names(`version.bogus`)},
		{name: "400/update: unknown member of metadata", method: http.MethodPut, setup: existing, target: "/secret/prod%2Fdb",
			body: `{"metadata":{"Maxversions":3}}`, status: 400, errID: "RequestBodyInvalidJson", check: names(`metadata.Maxversions`)},
		{name: "200/update: members of the answer sent back", method: http.MethodPut, setup: existing, target: "/secret/prod%2Fdb",
			body: `{"path":"prod/db","version":{"id":1,"state":"active","data":{"k":"w"}}}`, status: 200, check: readsBack("prod/db", `{"k":"w"}`)},
	}
	for i := range cases {
		if cases[i].target == "" {
			cases[i].target = "/secret"
		}
	}
	runCases(t, http.MethodPost, cases)
}
