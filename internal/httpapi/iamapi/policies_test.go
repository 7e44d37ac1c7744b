package iamapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

const policiesPath = "/v2/iam/policy"

// readerDoc is a valid policy document for alice on the default domain.
func readerDoc(e *env, name string, extra ...string) string {
	return policyDoc(name, userURN("alice"), e.domainURN(),
		[]string{"okms:apikms:secret/get", "okms:apikms:secret/version/getData"}, extra...)
}

// policyIDOf returns the target of the first policy in the listing.
func policyIDOf(e *env) string {
	e.t.Helper()
	ps := wiretest.DecodeBody[[]map[string]any](e.t, e.Must("GET", policiesPath, ""))
	if len(ps) == 0 {
		e.t.Fatal("no policy")
	}
	return policiesPath + "/" + ps[0]["id"].(string)
}

func TestPolicies_Create(t *testing.T) {
	t.Parallel()
	// body builds the request once the server exists: URNs name its domain.
	type tcase struct {
		name   string
		setup  func(*env)
		body   func(e *env) string
		status int
		class  string
		golden string
		// parts must all appear in the message of a 400.
		parts []string
		check func(t *testing.T, e *env, r *response)
	}
	const invalid = "Client::BadRequest::InvalidPolicy"
	doc := func(extra ...string) func(e *env) string {
		return func(e *env) string { return readerDoc(e, "eso-reader", extra...) }
	}
	raw := func(s string) func(e *env) string {
		return func(e *env) string { return strings.ReplaceAll(s, "{domain}", e.domainURN()) }
	}
	grant := func(actions ...string) func(e *env) string {
		return func(e *env) string { return policyDoc("p", userURN("alice"), e.domainURN(), actions) }
	}
	on := func(resource string) func(e *env) string {
		return func(e *env) string {
			return policyDoc("p", userURN("alice"), strings.ReplaceAll(resource, "{domain}", e.domainURN()),
				[]string{"okms:apikms:secret/get"})
		}
	}
	to := func(identity string) func(e *env) string {
		return func(e *env) string {
			return policyDoc("p", identity, e.domainURN(), []string{"okms:apikms:secret/get"})
		}
	}
	cases := []tcase{
		{name: "200/policy", body: doc(`"description":"External Secrets reads prod"`), status: 200, golden: "policy_create",
			check: func(t *testing.T, e *env, r *response) {
				p := wiretest.DecodeBody[map[string]any](t, r)
				if !uuidV4.MatchString(p["id"].(string)) || p["owner"] != "coffer" || p["readOnly"] != false ||
					p["createdAt"] != at(0) || p["updatedAt"] != at(0) || p["expiredAt"] != nil {
					t.Errorf("policy = %v, want a UUID id, owner coffer, not read-only, created and updated at %s, no expiry", p, at(0))
				}
			}},
		{name: "200/resource stored in canonical form", status: 200,
			body: on("{domain}/secret/prod/db*"),
			check: func(t *testing.T, e *env, r *response) {
				wantContains(t, "body", string(r.Body), `"urn":"`+e.domainURN()+`/secret/prod%2Fdb*"`)
			}},
		{name: "200/with an expiry", body: doc(`"expiredAt":"2026-06-30T23:59:59.9+02:00"`), status: 200,
			check: func(t *testing.T, _ *env, r *response) {
				if got := wiretest.DecodeBody[map[string]any](t, r)["expiredAt"]; got != "2026-06-30T21:59:59Z" {
					t.Errorf("expiredAt = %v, want 2026-06-30T21:59:59Z", got)
				}
			}},
		{name: "200/wildcards at the ends", status: 200, body: grant("okms:apikms:secret/version/*", "*/getData", "*")},
		{name: "200/except and deny", status: 200, body: raw(`{"name":"w","identities":["` + userURN("alice") + `"],` +
			`"resources":[{"urn":"{domain}"}],"permissions":{"allow":[{"action":"okms:apikms:*"}],` +
			`"except":[{"action":"okms:apikms:secret/delete"}],"deny":[{"action":"okms:apikms:secretConfig/*"}]}}`)},
		{name: "200/deny only", status: 200, body: raw(`{"name":"d","identities":["urn:v1:eu:identity:group:coffer/ops"],` +
			`"resources":[{"urn":"{domain}"}],"permissions":{"deny":[{"action":"okms:apikms:secret/delete"}]}}`)},
		{name: "200/null conditions", body: doc(`"conditions":null`), status: 200},
		{name: "200/empty permissionsGroups", body: doc(`"permissionsGroups":[]`), status: 200},
		{name: "200/terraform-provider-ovh body", status: 200, body: raw(`{"name":"tf","identities":["` + userURN("alice") +
			`"],"resources":[{"urn":"{domain}"}],"permissions":{"allow":[{"action":"okms:apikms:secret/get"}],"except":null,"deny":null},` +
			`"permissionsGroups":null}`)},

		// Validation, one rule at a time (iam.md 4.1, 4.2).
		{name: "400/unknown action", body: grant("okms:apikms:secret/update"), status: 400, class: invalid,
			parts: []string{`permissions.allow[0] "okms:apikms:secret/update": unknownAction`}},
		{name: "400/wildcard in the middle of an action", body: grant("okms:*:secret/get"), status: 400, class: invalid,
			parts: []string{`permissions.allow[0] "okms:*:secret/get": wildcard`}},
		{name: "400/wildcard matching no action", body: grant("okms:apikms:nothing/*"), status: 400, class: invalid,
			parts: []string{`permissions.allow[0]`, "unknownAction"}},
		{name: "400/empty action", body: grant(""), status: 400, class: invalid, parts: []string{"permissions.allow[0]", "invalid"}},
		{name: "400/empty identities", status: 400, class: invalid, parts: []string{"identities: required"},
			body: raw(`{"name":"p","identities":[],"resources":[{"urn":"{domain}"}],"permissions":{"allow":[{"action":"okms:apikms:secret/get"}]}}`)},
		{name: "400/wildcard identity", body: to("urn:v1:eu:identity:user:coffer/*"), status: 400, class: invalid,
			parts: []string{"identities[0]", "wildcard"}},
		{name: "400/identity that is a resource", body: to("urn:v1:eu:resource:okms:x"), status: 400, class: invalid,
			parts: []string{"identities[0]", "invalid"}},
		{name: "400/identity that is no URN", body: to("alice"), status: 400, class: invalid, parts: []string{"identities[0]"}},
		{name: "400/no resource", status: 400, class: invalid, parts: []string{"resources: required"},
			body: raw(`{"name":"p","identities":["` + userURN("alice") + `"],"permissions":{"allow":[{"action":"okms:apikms:secret/get"}]}}`)},
		{name: "400/resource that is an identity", body: on(userURN("bob")), status: 400, class: invalid,
			parts: []string{"resources[0]", "invalid"}},
		{name: "400/wildcard in the middle of a resource", body: on("urn:v1:eu:resource:*:x"), status: 400, class: invalid,
			parts: []string{"resources[0]", "wildcard"}},
		{name: "400/resource group", body: on("urn:v1:eu:resourceGroup:x"), status: 400, class: invalid,
			parts: []string{"resources[0]"}},
		{name: "400/no permission", status: 400, class: invalid, parts: []string{"permissions: required"},
			body: raw(`{"name":"p","identities":["` + userURN("alice") + `"],"resources":[{"urn":"{domain}"}]}`)},
		{name: "400/except only", status: 400, class: invalid, parts: []string{"permissions: required"},
			body: raw(`{"name":"p","identities":["` + userURN("alice") + `"],"resources":[{"urn":"{domain}"}],` +
				`"permissions":{"except":[{"action":"okms:apikms:secret/get"}]}}`)},
		{name: "400/name missing", status: 400, class: invalid, parts: []string{"name: required"},
			body: raw(`{"identities":["` + userURN("alice") + `"],"resources":[{"urn":"{domain}"}],` +
				`"permissions":{"allow":[{"action":"okms:apikms:secret/get"}]}}`)},
		{name: "400/bad name", body: func(e *env) string { return readerDoc(e, "eso reader") }, status: 400, class: invalid,
			parts: []string{`name "eso reader": invalid`}},
		{name: "400/conditions", status: 400, class: invalid, parts: []string{"conditions: unsupported"},
			body: doc(`"conditions":{"operator":"MATCH","values":{"resource.Tag(env)":"prod"}}`)},
		{name: "400/empty conditions object", body: doc(`"conditions":{}`), status: 400, class: invalid,
			parts: []string{"conditions: unsupported"}},
		{name: "400/permissionsGroups", status: 400, class: invalid, parts: []string{"permissionsGroups: unsupported"},
			body: doc(`"permissionsGroups":[{"urn":"urn:v1:eu:permissionsGroup:ovh:okmsReader"}]`)},
		{name: "400/unknown member", body: doc(`"conditionz":{}`), status: 400, class: invalid,
			parts: []string{"conditionz: unknownMember"}},
		{name: "400/unknown nested member", status: 400, class: invalid,
			parts: []string{"permissions.allow[0].actoin: unknownMember", "permissions.allow[0]", "invalid"},
			body: raw(`{"name":"p","identities":["` + userURN("alice") + `"],"resources":[{"urn":"{domain}"}],` +
				`"permissions":{"allow":[{"actoin":"okms:apikms:secret/get"}]}}`)},
		{name: "400/member of another case", body: doc(`"Description":"x"`), status: 400, class: invalid,
			parts: []string{"Description: unknownMember"}},
		{name: "400/server-set member", body: doc(`"id":"6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"`), status: 400, class: invalid,
			parts: []string{"id: unknownMember"}},
		{name: "400/resource details", status: 400, class: invalid, parts: []string{"resources[0].resource: unknownMember"},
			body: raw(`{"name":"p","identities":["` + userURN("alice") + `"],"resources":[{"urn":"{domain}","resource":{}}],` +
				`"permissions":{"allow":[{"action":"okms:apikms:secret/get"}]}}`)},
		{name: "400/expiredAt not a date", body: doc(`"expiredAt":"next year"`), status: 400, class: invalid,
			parts: []string{"expiredAt: invalid"}},
		{name: "400/every problem at once", status: 400, class: invalid, golden: "error_InvalidPolicy",
			parts: []string{"name: required", "identities: required", "resources[0]", "okms:apikms:secret/update",
				"okms:*:secret/get", "conditions: unsupported", "colour: unknownMember", "expiredAt: invalid"},
			body: raw(`{"identities":[],"resources":[{"urn":"urn:v1:eu:identity:account:coffer"}],` +
				`"permissions":{"allow":[{"action":"okms:apikms:secret/update"}],"deny":[{"action":"okms:*:secret/get"}]},` +
				`"conditions":{"operator":"AND"},"colour":"blue","expiredAt":"soon"}`)},
		{name: "400/identities of the wrong type", body: raw(`{"name":"p","identities":"alice"}`), status: 400,
			class: "Client::BadRequest::RequestBodyInvalidJson"},
		{name: "409/duplicate name", setup: func(e *env) { e.createPolicy(readerDoc(e, "eso-reader")) },
			body: doc(), status: 409, class: "Client::Conflict::PolicyAlreadyExists", golden: "error_PolicyAlreadyExists"},
	}
	for _, tc := range cases {
		if !strings.HasPrefix(tc.name, fmt.Sprintf("%d/", tc.status)) {
			t.Fatalf("test bug: case %q must start with its status %d", tc.name, tc.status)
		}
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			if tc.setup != nil {
				tc.setup(e)
			}
			before := e.Snapshot()
			r := e.Call("POST", policiesPath, tc.body(e))
			r.Expect(t, tc.status, tc.class)
			if tc.golden != "" {
				e.Golden(t, tc.golden, r)
			}
			if tc.status >= 400 {
				msg := message(t, r)
				wantContains(t, "message", msg, tc.parts...)
				if after := e.Snapshot(); after != before {
					t.Errorf("the refused request changed the stored state\nbefore: %s\nafter:  %s", before, after)
				}
			}
			if tc.check != nil {
				tc.check(t, e, r)
			}
		})
	}
}

func TestPolicies_CreateCommon(t *testing.T) {
	t.Parallel()
	body := policyDoc("p", userURN("alice"), "urn:v1:eu:resource:okms:*", []string{"okms:apikms:secret/get"})
	cases := authCases(nil, policiesPath, body, 200)
	cases = append(cases, bodyCases(nil, policiesPath)...)
	runCases(t, http.MethodPost, cases)
}

func TestPolicies_List(t *testing.T) {
	t.Parallel()
	two := func(e *env) {
		e.createPolicy(readerDoc(e, "b-reader"))
		e.Clock.Advance(time.Minute)
		e.createPolicy(`{"name":"a-writer","description":"writes app/","identities":["urn:v1:eu:identity:group:coffer/ops"],` +
			`"resources":[{"urn":"` + e.domainURN() + `/secret/app%2F*"}],"permissions":{"allow":[{"action":"okms:apikms:secret/*"}],` +
			`"except":[{"action":"okms:apikms:secret/delete"}],"deny":[{"action":"okms:apikms:secretConfig/update"}]},` +
			`"expiredAt":"2027-01-01T00:00:00Z"}`)
	}
	cases := []apiCase{
		{Name: "200/no policy", Status: 200, Check: func(t *testing.T, _ *env, r *response) {
			if string(r.Body) != "[]" {
				t.Errorf("body = %s, want []", r.Body)
			}
		}},
		{Name: "200/policies by name", Setup: two, Status: 200, Golden: "policy_list"},
	}
	cases = append(cases, authCases(two, "", "", 200)...)
	for i := range cases {
		cases[i].Target = policiesPath
	}
	runCases(t, http.MethodGet, cases)
}

func TestPolicies_Get(t *testing.T) {
	t.Parallel()
	setup := func(e *env) { e.createPolicy(readerDoc(e, "eso-reader")) }
	cases := []apiCase{
		{Name: "200/policy", Setup: setup, TargetFn: policyIDOf, Status: 200, Golden: "policy_get"},
		{Name: "200/id in upper case", Setup: setup, TargetFn: func(e *env) string {
			return policiesPath + "/" + strings.ToUpper(strings.TrimPrefix(policyIDOf(e), policiesPath+"/"))
		},
			Status: 200},
		{Name: "404/unknown id", Setup: setup, Target: policiesPath + "/6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f", Status: 404,
			Err: "Client::NotFound::PolicyNotFound", Golden: "error_PolicyNotFound"},
		{Name: "404/malformed id", Setup: setup, Target: policiesPath + "/eso-reader", Status: 404,
			Err: "Client::NotFound::PolicyNotFound"},
	}
	for _, c := range authCases(setup, "", "", 200) {
		c.TargetFn = policyIDOf
		cases = append(cases, c)
	}
	runCases(t, http.MethodGet, cases)
}

func TestPolicies_Update(t *testing.T) {
	t.Parallel()
	setup := func(e *env) {
		e.createPolicy(readerDoc(e, "eso-reader"))
		e.createPolicy(readerDoc(e, "other"))
		e.Clock.Advance(time.Hour)
	}
	// first is the id of eso-reader, the first by name.
	first := func(e *env) string { return policyIDOf(e) }
	cases := []apiCase{
		{Name: "200/replaced whole", Setup: setup, TargetFn: first, Status: 200, Golden: "policy_update",
			Body: `{"name":"eso-reader","identities":["urn:v1:eu:identity:group:coffer/ops"],` +
				`"resources":[{"urn":"urn:v1:eu:resource:okms:*"}],"permissions":{"deny":[{"action":"okms:apikms:secret/delete"}]}}`,
			Check: func(t *testing.T, e *env, r *response) {
				p := wiretest.DecodeBody[map[string]any](t, r)
				if p["createdAt"] != at(0) || p["updatedAt"] != at(time.Hour) || p["description"] != "" {
					t.Errorf("policy = %v, want createdAt %s, updatedAt %s, description cleared", p, at(0), at(time.Hour))
				}
				if got := e.Must("GET", first(e), "").Body; string(got) != string(r.Body) {
					t.Errorf("GET after PUT = %s, want the PUT response %s", got, r.Body)
				}
			}},
		{Name: "200/rename", Setup: setup, TargetFn: first, Status: 200,
			Body: `{"name":"renamed","identities":["urn:v1:eu:identity:group:coffer/ops"],` +
				`"resources":[{"urn":"urn:v1:eu:resource:okms:*"}],"permissions":{"allow":[{"action":"okms:apikms:secret/get"}]}}`},
		{Name: "400/invalid document", Setup: setup, TargetFn: first, Status: 400, Err: "Client::BadRequest::InvalidPolicy",
			Body: `{"name":"eso-reader","identities":[],"resources":[{"urn":"urn:v1:eu:resource:okms:*"}],` +
				`"permissions":{"allow":[{"action":"okms:apikms:secret/update"}]}}`},
		{Name: "400/conditions", Setup: setup, TargetFn: first, Status: 400, Err: "Client::BadRequest::InvalidPolicy",
			Body: `{"name":"eso-reader","identities":["urn:v1:eu:identity:group:coffer/ops"],` +
				`"resources":[{"urn":"urn:v1:eu:resource:okms:*"}],"permissions":{"allow":[{"action":"okms:apikms:secret/get"}]},` +
				`"conditions":{"operator":"AND","conditions":[]}}`},
		{Name: "409/name of another policy", Setup: setup, TargetFn: first, Status: 409,
			Err: "Client::Conflict::PolicyAlreadyExists",
			Body: `{"name":"other","identities":["urn:v1:eu:identity:group:coffer/ops"],` +
				`"resources":[{"urn":"urn:v1:eu:resource:okms:*"}],"permissions":{"allow":[{"action":"okms:apikms:secret/get"}]}}`},
		{Name: "404/unknown id", Setup: setup, Target: policiesPath + "/6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f", Status: 404,
			Err: "Client::NotFound::PolicyNotFound",
			Body: `{"name":"x","identities":["urn:v1:eu:identity:group:coffer/ops"],` +
				`"resources":[{"urn":"urn:v1:eu:resource:okms:*"}],"permissions":{"allow":[{"action":"okms:apikms:secret/get"}]}}`},
		{Name: "404/malformed id", Setup: setup, Target: policiesPath + "/not-an-id", Body: `{}`, Status: 404,
			Err: "Client::NotFound::PolicyNotFound"},
	}
	valid := `{"name":"eso-reader","identities":["urn:v1:eu:identity:group:coffer/ops"],` +
		`"resources":[{"urn":"urn:v1:eu:resource:okms:*"}],"permissions":{"allow":[{"action":"okms:apikms:secret/get"}]}}`
	for _, c := range append(authCases(setup, "", valid, 200), bodyCases(setup, "")...) {
		c.TargetFn = first
		cases = append(cases, c)
	}
	runCases(t, http.MethodPut, cases)
}

func TestPolicies_Delete(t *testing.T) {
	t.Parallel()
	setup := func(e *env) { e.createPolicy(readerDoc(e, "eso-reader")) }
	cases := []apiCase{
		{Name: "204/policy", Setup: setup, TargetFn: policyIDOf, Status: 204, Golden: "policy_delete",
			Check: func(t *testing.T, e *env, _ *response) {
				if body := string(e.Must("GET", policiesPath, "").Body); body != "[]" {
					t.Errorf("policies after delete = %s, want []", body)
				}
			}},
		{Name: "404/unknown id", Setup: setup, Target: policiesPath + "/6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f", Status: 404,
			Err: "Client::NotFound::PolicyNotFound"},
		{Name: "404/malformed id", Setup: setup, Target: policiesPath + "/x", Status: 404,
			Err: "Client::NotFound::PolicyNotFound"},
	}
	for _, c := range authCases(setup, "", "", 204) {
		c.TargetFn = policyIDOf
		cases = append(cases, c)
	}
	runCases(t, http.MethodDelete, cases)
}
