package central_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// versionMembers are the members of okms.secret.Version without data and
// of okms.secret.version.UpdateResponse.
var versionMembers = []string{"id", "state", "createdAt", "deactivatedAt"}

func TestListVersions(t *testing.T) {
	t.Parallel()
	const target = "/secret/prod%2Fdb/version"
	cases := []apiCase{
		{Name: "200/every retained version in its state, ascending, without data", Setup: seedWithStates, Status: 200,
			Golden: "version_list",
			Check: func(t *testing.T, _ *env, r *response) {
				items := wiretest.DecodeBody[[]json.RawMessage](t, r)
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
		{Name: "200/pruned versions are absent", Status: 200,
			Setup: func(e *env) {
				e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"maxVersions":2}`)
				e.WriteSecret("prod/db", `{"v":2}`)
				e.WriteSecret("prod/db", `{"v":3}`)
			},
			Check: func(t *testing.T, _ *env, r *response) {
				vs := wiretest.DecodeBody[[]versionOut](t, r)
				if len(vs) != 2 || vs[0].ID != 2 || vs[1].ID != 3 {
					t.Errorf("versions = %+v, want 2 and 3", vs)
				}
			}},
		{Name: "200/raw slashes in the path", Setup: seedDB, Target: "/secret/prod/db/version", Status: 200,
			Check: func(t *testing.T, _ *env, r *response) {
				want(t, "versions", len(wiretest.DecodeBody[[]versionOut](t, r)), 2)
			}},
		{Name: "404/missing secret", Target: "/secret/nope/version", Status: 404, Err: clsNotFound},
		{Name: "400/bad path", Target: "/secret/a%20b/version", Status: 400, Err: clsBadPath},
	}
	cases = append(cases, commonCases(seedDB, target, "", 200, false)...)
	runCases(t, "GET", target, cases)
}

func TestAddVersion(t *testing.T) {
	t.Parallel()
	const target = "/secret/prod%2Fdb/version"
	casRequired := func(e *env) { e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"casRequired":true}`) }
	cases := []apiCase{
		{Name: "200/the new version, active, without data", Setup: seedDB, Body: `{"data":{"v":3}}`, Status: 200, Golden: "version_add",
			Check: func(t *testing.T, e *env, r *response) {
				wantMembers(t, "version", r.Body, versionMembers...)
				v := wiretest.DecodeBody[versionOut](t, r)
				want(t, "id", v.ID, 3)
				want(t, "state", v.State, "ACTIVE")
				want(t, "createdAt", v.CreatedAt, at(time.Minute))
				want(t, "data read back", string(e.getSecret("/secret/prod%2Fdb?includeData=true").Version.Data), `{"v":3}`)
			}},
		{Name: "200/cas equal to the current version", Setup: seedDB, Target: target + "?cas=2", Body: `{"data":{}}`, Status: 200},
		{Name: "200/casRequired with cas", Setup: casRequired, Target: target + "?cas=1", Body: `{"data":{}}`, Status: 200},
		{Name: "200/prunes beyond maxVersions", Body: `{"data":{"v":3}}`, Status: 200,
			Setup: func(e *env) {
				e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"maxVersions":2}`)
				e.WriteSecret("prod/db", `{"v":2}`)
			},
			Check: func(t *testing.T, e *env, _ *response) {
				want(t, "oldestVersion", e.getSecret("/secret/prod%2Fdb").Metadata.OldestVersion, 2)
			}},
		{Name: "400/cas mismatch", Setup: seedDB, Target: target + "?cas=1", Body: `{"data":{}}`, Status: 400,
			Err: "Client::BadRequest::SecretCasMismatch", Check: wantMessage("cas")},
		{Name: "400/cas required", Setup: casRequired, Body: `{"data":{}}`, Status: 400,
			Err: "Client::BadRequest::SecretCasRequired", Check: wantMessage("cas")},
		{Name: "400/no data", Setup: seedDB, Body: `{}`, Status: 400, Err: "Client::BadRequest::SecretFieldRequired"},
		{Name: "400/data not an object", Setup: seedDB, Body: `{"data":1}`, Status: 400,
			Err: "Client::BadRequest::SecretDataInvalidKeyValueJson"},
		{Name: "400/duplicate member inside data", Setup: seedDB, Body: `{"data":{"a":1,"a":1}}`, Status: 400,
			Err: "Client::BadRequest::SecretDataInvalidKeyValueJson"},
		{Name: "404/missing secret", Target: "/secret/nope/version", Body: `{"data":{}}`, Status: 404, Err: clsNotFound},
		{Name: "400/bad path", Target: "/secret/a%20b/version", Body: `{"data":{}}`, Status: 400, Err: clsBadPath},
	}
	cases = append(cases, commonCases(seedDB, target, `{"data":{}}`, 200, false)...)
	cases = append(cases, bodyCases(seedDB, target, false)...)
	runCases(t, "POST", target, cases)
}

func TestGetVersion(t *testing.T) {
	t.Parallel()
	const target = "/secret/prod%2Fdb/version/"
	cases := []apiCase{
		{Name: "200/without data", Setup: seedDB, Target: target + "1", Status: 200, Golden: "version_get",
			Check: func(t *testing.T, _ *env, r *response) {
				wantMembers(t, "version", r.Body, versionMembers...)
				v := wiretest.DecodeBody[versionOut](t, r)
				want(t, "id", v.ID, 1)
				want(t, "state", v.State, "ACTIVE")
				want(t, "createdAt", v.CreatedAt, at(0))
			}},
		{Name: "200/includeData=true", Setup: seedDB, Target: target + "1?includeData=true", Status: 200, Golden: "version_get_data",
			Check: func(t *testing.T, _ *env, r *response) {
				want(t, "data", string(wiretest.DecodeBody[versionOut](t, r).Data), `{"v":1}`)
			}},
		{Name: "200/includeData on a deactivated version: its state, no data", Setup: seedWithStates,
			Target: target + "2?includeData=true", Status: 200, Golden: "version_get_deactivated",
			Check: func(t *testing.T, _ *env, r *response) {
				wantMembers(t, "version", r.Body, versionMembers...)
				want(t, "state", wiretest.DecodeBody[versionOut](t, r).State, "DEACTIVATED")
			}},
		{Name: "200/includeData on a deleted version: its state, no data", Setup: seedWithStates,
			Target: target + "1?includeData=true", Status: 200,
			Check: func(t *testing.T, _ *env, r *response) {
				wantMembers(t, "version", r.Body, versionMembers...)
				want(t, "state", wiretest.DecodeBody[versionOut](t, r).State, "DELETED")
			}},
		{Name: "200/raw slashes in the path", Setup: seedDB, Target: "/secret/prod/db/version/2?includeData=true", Status: 200,
			Check: func(t *testing.T, _ *env, r *response) {
				want(t, "data", string(wiretest.DecodeBody[versionOut](t, r).Data), `{"v":2}`)
			}},
		{Name: "200/a secret whose last segment is version, encoded", Target: "/secret/prod%2Fversion/version/1", Status: 200,
			Setup: func(e *env) { e.CreateSecret("prod/version", `{}`) }},
		{Name: "404/version that never existed", Setup: seedDB, Target: target + "3", Status: 404,
			Err: "Client::NotFound::SecretVersionNotFound"},
		{Name: "404/missing secret", Target: "/secret/nope/version/1", Status: 404, Err: clsNotFound},
		{Name: "400/version 0", Setup: seedDB, Target: target + "0", Status: 400, Err: "Client::BadRequest::SecretVersionMinRequired"},
		{Name: "400/version 24001", Setup: seedDB, Target: target + "24001", Status: 400, Err: "Client::BadRequest::SecretVersionMaxExceeded"},
		{Name: "400/version beyond 64 bits", Setup: seedDB, Target: target + strings.Repeat("9", 30), Status: 400,
			Err: "Client::BadRequest::SecretVersionMaxExceeded"},
		{Name: "400/includeData that is not a boolean", Setup: seedDB, Target: target + "1?includeData=2", Status: 400,
			Err: "Client::BadRequest::QueryParameterInvalid"},
	}
	cases = append(cases, commonCases(seedDB, target+"1", "", 200, false)...)
	runCases(t, "GET", "", cases)
}

func TestUpdateVersion(t *testing.T) {
	t.Parallel()
	const target = "/secret/prod%2Fdb/version/1"
	const invalid = "Client::BadRequest::SecretVersionStateInvalid"
	deleted := func(e *env) { seedDB(e); e.SetVersionState("prod/db", 1, "DELETED") }
	deactivated := func(e *env) { seedDB(e); e.Clock.Advance(time.Hour); e.SetVersionState("prod/db", 1, "DEACTIVATED") }
	cases := []apiCase{
		{Name: "200/DEACTIVATED", Setup: seedDB, Body: `{"state":"DEACTIVATED"}`, Status: 200, Golden: "version_update",
			Check: func(t *testing.T, e *env, r *response) {
				wantMembers(t, "response", r.Body, versionMembers...)
				v := wiretest.DecodeBody[versionOut](t, r)
				want(t, "state", v.State, "DEACTIVATED")
				want(t, "deactivatedAt", *v.DeactivatedAt, at(time.Minute))
				got := e.getSecret("/secret/prod%2Fdb?version=1&includeData=true").Version
				want(t, "state read back", got.State, "DEACTIVATED")
				want(t, "no data read back", string(got.Data), "")
			}},
		{Name: "200/ACTIVE reactivates a deactivated version", Setup: deactivated, Body: `{"state":"ACTIVE"}`, Status: 200,
			Check: func(t *testing.T, e *env, r *response) {
				want(t, "state", wiretest.DecodeBody[versionOut](t, r).State, "ACTIVE")
				want(t, "data read back", string(e.getSecret("/secret/prod%2Fdb?version=1&includeData=true").Version.Data), `{"v":1}`)
			}},
		{Name: "200/DELETED destroys the data", Setup: seedDB, Body: `{"state":"DELETED"}`, Status: 200,
			Check: func(t *testing.T, e *env, r *response) {
				want(t, "state", wiretest.DecodeBody[versionOut](t, r).State, "DELETED")
				want(t, "currentVersion unchanged", e.getSecret("/secret/prod%2Fdb").Metadata.CurrentVersion, 2)
			}},
		{Name: "200/ACTIVE on an active version is a no-op", Setup: seedDB, Body: `{"state":"ACTIVE"}`, Status: 200},
		{Name: "200/DELETED on a deleted version is a no-op", Setup: deleted, Body: `{"state":"DELETED"}`, Status: 200},
		{Name: "200/raw slashes in the path", Setup: seedDB, Target: "/secret/prod/db/version/2", Body: `{"state":"DEACTIVATED"}`, Status: 200},
		{Name: "400/lower-case state of surface B", Setup: seedDB, Body: `{"state":"deactivated"}`, Status: 400, Err: invalid,
			Golden: "error_SecretVersionStateInvalid", Check: wantMessage("ACTIVE, DEACTIVATED, DELETED")},
		{Name: "400/lower-case active", Setup: deactivated, Body: `{"state":"active"}`, Status: 400, Err: invalid},
		{Name: "400/lower-case deleted", Setup: seedDB, Body: `{"state":"deleted"}`, Status: 400, Err: invalid},
		{Name: "400/mixed case", Setup: seedDB, Body: `{"state":"Active"}`, Status: 400, Err: invalid},
		{Name: "400/unknown state", Setup: seedDB, Body: `{"state":"ACTIVATED"}`, Status: 400, Err: invalid},
		{Name: "400/empty state", Setup: seedDB, Body: `{"state":""}`, Status: 400, Err: invalid},
		{Name: "400/no state", Setup: seedDB, Body: `{}`, Status: 400, Err: "Client::BadRequest::SecretFieldRequired"},
		{Name: "400/state of the wrong type", Setup: seedDB, Body: `{"state":1}`, Status: 400, Err: clsBadJSON},
		{Name: "400/a deleted version cannot be reactivated", Setup: deleted, Body: `{"state":"ACTIVE"}`, Status: 400,
			Err: "Client::BadRequest::SecretVersionStateTransitionInvalid", Golden: "error_SecretVersionStateTransitionInvalid"},
		{Name: "400/a deleted version cannot be deactivated", Setup: deleted, Body: `{"state":"DEACTIVATED"}`, Status: 400,
			Err: "Client::BadRequest::SecretVersionStateTransitionInvalid"},
		{Name: "404/version that never existed", Setup: seedDB, Target: "/secret/prod%2Fdb/version/9", Body: `{"state":"DELETED"}`,
			Status: 404, Err: "Client::NotFound::SecretVersionNotFound"},
		{Name: "404/missing secret", Target: "/secret/nope/version/1", Body: `{"state":"DELETED"}`, Status: 404, Err: clsNotFound},
		{Name: "405/the version collection", Setup: seedDB, Target: "/secret/prod%2Fdb/version", Body: `{"state":"DELETED"}`,
			Status: 405, Err: "Client::MethodNotAllowed"},
	}
	cases = append(cases, commonCases(seedDB, target, `{"state":"ACTIVE"}`, 200, false)...)
	cases = append(cases, bodyCases(seedDB, target, false)...)
	runCases(t, "PUT", target, cases)
}
