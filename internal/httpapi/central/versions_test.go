package central_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// versionMembers are the members of okms.secret.Version without data and
// of okms.secret.version.UpdateResponse.
var versionMembers = []string{"id", "state", "createdAt", "deactivatedAt"}

func TestListVersions(t *testing.T) {
	t.Parallel()
	const target = "/secret/prod%2Fdb/version"
	cases := []apiCase{
		{name: "200/every retained version in its state, ascending, without data", setup: seedWithStates, status: 200,
			golden: "version_list",
			check: func(t *testing.T, _ *env, r *response) {
				items := decode[[]json.RawMessage](t, r)
				var states []string
				for _, raw := range items {
					wantMembers(t, "version", raw, versionMembers...)
					var v versionOut
					if err := json.Unmarshal(raw, &v); err != nil {
						t.Fatal(err)
					}
					states = append(states, fmt.Sprintf("%d:%s", v.ID, v.State))
				}
				want(t, "versions", strings.Join(states, " "), "1:DELETED 2:DEACTIVATED 3:ACTIVE")
			}},
		{name: "200/pruned versions are absent", status: 200,
			setup: func(e *env) {
				e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"maxVersions":2}`)
				e.WriteSecret("prod/db", `{"v":2}`)
				e.WriteSecret("prod/db", `{"v":3}`)
			},
			check: func(t *testing.T, _ *env, r *response) {
				vs := decode[[]versionOut](t, r)
				if len(vs) != 2 || vs[0].ID != 2 || vs[1].ID != 3 {
					t.Errorf("versions = %+v, want 2 and 3", vs)
				}
			}},
		{name: "200/raw slashes in the path", setup: seedDB, target: "/secret/prod/db/version", status: 200,
			check: func(t *testing.T, _ *env, r *response) { want(t, "versions", len(decode[[]versionOut](t, r)), 2) }},
		{name: "404/missing secret", target: "/secret/nope/version", status: 404, class: clsNotFound},
		{name: "400/bad path", target: "/secret/a%20b/version", status: 400, class: clsBadPath},
	}
	cases = append(cases, commonCases(seedDB, target, "", 200, false)...)
	runCases(t, "GET", target, cases)
}

func TestAddVersion(t *testing.T) {
	t.Parallel()
	const target = "/secret/prod%2Fdb/version"
	casRequired := func(e *env) { e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"casRequired":true}`) }
	cases := []apiCase{
		{name: "200/the new version, active, without data", setup: seedDB, body: `{"data":{"v":3}}`, status: 200, golden: "version_add",
			check: func(t *testing.T, e *env, r *response) {
				wantMembers(t, "version", r.Body, versionMembers...)
				v := decode[versionOut](t, r)
				want(t, "id", v.ID, 3)
				want(t, "state", v.State, "ACTIVE")
				want(t, "createdAt", v.CreatedAt, at(time.Minute))
				want(t, "data read back", string(e.getSecret("/secret/prod%2Fdb?includeData=true").Version.Data), `{"v":3}`)
			}},
		{name: "200/cas equal to the current version", setup: seedDB, target: target + "?cas=2", body: `{"data":{}}`, status: 200},
		{name: "200/casRequired with cas", setup: casRequired, target: target + "?cas=1", body: `{"data":{}}`, status: 200},
		{name: "200/prunes beyond maxVersions", body: `{"data":{"v":3}}`, status: 200,
			setup: func(e *env) {
				e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"maxVersions":2}`)
				e.WriteSecret("prod/db", `{"v":2}`)
			},
			check: func(t *testing.T, e *env, _ *response) {
				want(t, "oldestVersion", e.getSecret("/secret/prod%2Fdb").Metadata.OldestVersion, 2)
			}},
		{name: "400/cas mismatch", setup: seedDB, target: target + "?cas=1", body: `{"data":{}}`, status: 400,
			class: "Client::BadRequest::SecretCasMismatch", check: wantMessage("cas")},
		{name: "400/cas required", setup: casRequired, body: `{"data":{}}`, status: 400,
			class: "Client::BadRequest::SecretCasRequired", check: wantMessage("cas")},
		{name: "400/no data", setup: seedDB, body: `{}`, status: 400, class: "Client::BadRequest::SecretFieldRequired"},
		{name: "400/data not an object", setup: seedDB, body: `{"data":1}`, status: 400,
			class: "Client::BadRequest::SecretDataInvalidKeyValueJson"},
		{name: "400/duplicate member inside data", setup: seedDB, body: `{"data":{"a":1,"a":1}}`, status: 400,
			class: "Client::BadRequest::SecretDataInvalidKeyValueJson"},
		{name: "404/missing secret", target: "/secret/nope/version", body: `{"data":{}}`, status: 404, class: clsNotFound},
		{name: "400/bad path", target: "/secret/a%20b/version", body: `{"data":{}}`, status: 400, class: clsBadPath},
	}
	cases = append(cases, commonCases(seedDB, target, `{"data":{}}`, 200, false)...)
	cases = append(cases, bodyCases(seedDB, target, false)...)
	runCases(t, "POST", target, cases)
}

func TestGetVersion(t *testing.T) {
	t.Parallel()
	const target = "/secret/prod%2Fdb/version/"
	cases := []apiCase{
		{name: "200/without data", setup: seedDB, target: target + "1", status: 200, golden: "version_get",
			check: func(t *testing.T, _ *env, r *response) {
				wantMembers(t, "version", r.Body, versionMembers...)
				v := decode[versionOut](t, r)
				want(t, "id", v.ID, 1)
				want(t, "state", v.State, "ACTIVE")
				want(t, "createdAt", v.CreatedAt, at(0))
			}},
		{name: "200/includeData=true", setup: seedDB, target: target + "1?includeData=true", status: 200, golden: "version_get_data",
			check: func(t *testing.T, _ *env, r *response) {
				want(t, "data", string(decode[versionOut](t, r).Data), `{"v":1}`)
			}},
		{name: "200/includeData on a deactivated version: its state, no data", setup: seedWithStates,
			target: target + "2?includeData=true", status: 200, golden: "version_get_deactivated",
			check: func(t *testing.T, _ *env, r *response) {
				wantMembers(t, "version", r.Body, versionMembers...)
				want(t, "state", decode[versionOut](t, r).State, "DEACTIVATED")
			}},
		{name: "200/includeData on a deleted version: its state, no data", setup: seedWithStates,
			target: target + "1?includeData=true", status: 200,
			check: func(t *testing.T, _ *env, r *response) {
				wantMembers(t, "version", r.Body, versionMembers...)
				want(t, "state", decode[versionOut](t, r).State, "DELETED")
			}},
		{name: "200/raw slashes in the path", setup: seedDB, target: "/secret/prod/db/version/2?includeData=true", status: 200,
			check: func(t *testing.T, _ *env, r *response) {
				want(t, "data", string(decode[versionOut](t, r).Data), `{"v":2}`)
			}},
		{name: "200/a secret whose last segment is version, encoded", target: "/secret/prod%2Fversion/version/1", status: 200,
			setup: func(e *env) { e.CreateSecret("prod/version", `{}`) }},
		{name: "404/version that never existed", setup: seedDB, target: target + "3", status: 404,
			class: "Client::NotFound::SecretVersionNotFound"},
		{name: "404/missing secret", target: "/secret/nope/version/1", status: 404, class: clsNotFound},
		{name: "400/version 0", setup: seedDB, target: target + "0", status: 400, class: "Client::BadRequest::SecretVersionMinRequired"},
		{name: "400/version 24001", setup: seedDB, target: target + "24001", status: 400, class: "Client::BadRequest::SecretVersionMaxExceeded"},
		{name: "400/version beyond 64 bits", setup: seedDB, target: target + strings.Repeat("9", 30), status: 400,
			class: "Client::BadRequest::SecretVersionMaxExceeded"},
		{name: "400/includeData that is not a boolean", setup: seedDB, target: target + "1?includeData=2", status: 400,
			class: "Client::BadRequest::QueryParameterInvalid"},
	}
	cases = append(cases, commonCases(seedDB, target+"1", "", 200, false)...)
	runCases(t, "GET", "", cases)
}

func TestUpdateVersion(t *testing.T) {
	t.Parallel()
	const target = "/secret/prod%2Fdb/version/1"
	const invalid = "Client::BadRequest::SecretVersionStateInvalid"
	deleted := func(e *env) { seedDB(e); e.SetVersionState("prod/db", 1, "DELETED") }
	deactivated := func(e *env) { seedDB(e); e.clock.Advance(time.Hour); e.SetVersionState("prod/db", 1, "DEACTIVATED") }
	cases := []apiCase{
		{name: "200/DEACTIVATED", setup: seedDB, body: `{"state":"DEACTIVATED"}`, status: 200, golden: "version_update",
			check: func(t *testing.T, e *env, r *response) {
				wantMembers(t, "response", r.Body, versionMembers...)
				v := decode[versionOut](t, r)
				want(t, "state", v.State, "DEACTIVATED")
				want(t, "deactivatedAt", *v.DeactivatedAt, at(time.Minute))
				got := e.getSecret("/secret/prod%2Fdb?version=1&includeData=true").Version
				want(t, "state read back", got.State, "DEACTIVATED")
				want(t, "no data read back", string(got.Data), "")
			}},
		{name: "200/ACTIVE reactivates a deactivated version", setup: deactivated, body: `{"state":"ACTIVE"}`, status: 200,
			check: func(t *testing.T, e *env, r *response) {
				want(t, "state", decode[versionOut](t, r).State, "ACTIVE")
				want(t, "data read back", string(e.getSecret("/secret/prod%2Fdb?version=1&includeData=true").Version.Data), `{"v":1}`)
			}},
		{name: "200/DELETED destroys the data", setup: seedDB, body: `{"state":"DELETED"}`, status: 200,
			check: func(t *testing.T, e *env, r *response) {
				want(t, "state", decode[versionOut](t, r).State, "DELETED")
				want(t, "currentVersion unchanged", e.getSecret("/secret/prod%2Fdb").Metadata.CurrentVersion, 2)
			}},
		{name: "200/ACTIVE on an active version is a no-op", setup: seedDB, body: `{"state":"ACTIVE"}`, status: 200},
		{name: "200/DELETED on a deleted version is a no-op", setup: deleted, body: `{"state":"DELETED"}`, status: 200},
		{name: "200/raw slashes in the path", setup: seedDB, target: "/secret/prod/db/version/2", body: `{"state":"DEACTIVATED"}`, status: 200},
		{name: "400/lower-case state of surface B", setup: seedDB, body: `{"state":"deactivated"}`, status: 400, class: invalid,
			golden: "error_SecretVersionStateInvalid", check: wantMessage("ACTIVE, DEACTIVATED, DELETED")},
		{name: "400/lower-case active", setup: deactivated, body: `{"state":"active"}`, status: 400, class: invalid},
		{name: "400/lower-case deleted", setup: seedDB, body: `{"state":"deleted"}`, status: 400, class: invalid},
		{name: "400/mixed case", setup: seedDB, body: `{"state":"Active"}`, status: 400, class: invalid},
		{name: "400/unknown state", setup: seedDB, body: `{"state":"ACTIVATED"}`, status: 400, class: invalid},
		{name: "400/empty state", setup: seedDB, body: `{"state":""}`, status: 400, class: invalid},
		{name: "400/no state", setup: seedDB, body: `{}`, status: 400, class: "Client::BadRequest::SecretFieldRequired"},
		{name: "400/state of the wrong type", setup: seedDB, body: `{"state":1}`, status: 400, class: clsBadJSON},
		{name: "400/a deleted version cannot be reactivated", setup: deleted, body: `{"state":"ACTIVE"}`, status: 400,
			class: "Client::BadRequest::SecretVersionStateTransitionInvalid", golden: "error_SecretVersionStateTransitionInvalid"},
		{name: "400/a deleted version cannot be deactivated", setup: deleted, body: `{"state":"DEACTIVATED"}`, status: 400,
			class: "Client::BadRequest::SecretVersionStateTransitionInvalid"},
		{name: "404/version that never existed", setup: seedDB, target: "/secret/prod%2Fdb/version/9", body: `{"state":"DELETED"}`,
			status: 404, class: "Client::NotFound::SecretVersionNotFound"},
		{name: "404/missing secret", target: "/secret/nope/version/1", body: `{"state":"DELETED"}`, status: 404, class: clsNotFound},
		{name: "405/the version collection", setup: seedDB, target: "/secret/prod%2Fdb/version", body: `{"state":"DELETED"}`,
			status: 405, class: "Client::MethodNotAllowed"},
	}
	cases = append(cases, commonCases(seedDB, target, `{"state":"ACTIVE"}`, 200, false)...)
	cases = append(cases, bodyCases(seedDB, target, false)...)
	runCases(t, "PUT", target, cases)
}
