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
		{Name: "400/unknown member of version", Body: `{"path":"a","version":{"data":{"k":"v"},"bogus":1}}`,
			Status: 400, Err: "RequestBodyInvalidJson", Check: names(`version.bogus`)},
		{Name: "400/misplaced cas in version", Body: `{"path":"a","version":{"data":{"k":"v"},"cas":3}}`,
			Status: 400, Err: "RequestBodyInvalidJson", Check: names(`version.cas`)},
		{Name: "400/unknown member of metadata", Body: `{"path":"a","metadata":{"maxVersions":3,"bogus":true},"version":{"data":{}}}`,
			Status: 400, Err: "RequestBodyInvalidJson", Check: names(`metadata.bogus`)},
		{Name: "400/unknown member of the body", Body: `{"path":"a","bogus":1,"version":{"data":{}}}`,
			Status: 400, Err: "RequestBodyInvalidJson", Check: names(`bogus`)},
		{Name: "200/members of the answers sent back are ignored", Status: 200,
			Body: `{"path":"a","iam":{"x":1},"warnings":[],"metadata":{"urn":"x","createdAt":"2026-01-01T00:00:00Z","currentVersion":1,` +
				`"oldestVersion":1,"updatedAt":"x","maxVersions":0,"casRequired":false,"deactivateVersionAfter":"0s","customMetadata":{}},` +
				`"version":{"id":1,"state":"active","createdAt":"x","deactivatedAt":null,"warnings":[],"data":{"k":"v"}}}`,
			Check: readsBack("a", `{"k":"v"}`)},
		{Name: "200/any member inside data and customMetadata", Status: 200,
			Body:  `{"path":"a","metadata":{"customMetadata":{"bogus":"1"}},"version":{"data":{"bogus":{"cas":1}}}}`,
			Check: readsBack("a", `{"bogus":{"cas":1}}`)},
		{Name: "400/update: unknown member of version", Method: http.MethodPut, Setup: existing, Target: "/secret/prod%2Fdb",
			Body: `{"version":{"data":{"k":"v"},"bogus":1}}`, Status: 400, Err: "RequestBodyInvalidJson", Check: names(`version.bogus`)},
		{Name: "400/update: unknown member of metadata", Method: http.MethodPut, Setup: existing, Target: "/secret/prod%2Fdb",
			Body: `{"metadata":{"Maxversions":3}}`, Status: 400, Err: "RequestBodyInvalidJson", Check: names(`metadata.Maxversions`)},
		{Name: "200/update: members of the answer sent back", Method: http.MethodPut, Setup: existing, Target: "/secret/prod%2Fdb",
			Body: `{"path":"prod/db","version":{"id":1,"state":"active","data":{"k":"w"}}}`, Status: 200, Check: readsBack("prod/db", `{"k":"w"}`)},
	}
	for i := range cases {
		if cases[i].Target == "" {
			cases[i].Target = "/secret"
		}
	}
	runCases(t, http.MethodPost, cases)
}
