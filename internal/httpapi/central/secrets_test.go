package central_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// okms-rest.md 4.2: the example of the spec, sent to surface A.
const specCreateBody = `{"path":"prod/database/MySQL",
 "metadata":{"casRequired":true,"maxVersions":5,"deactivateVersionAfter":"30d","customMetadata":{"team":"dba"}},
 "version":{"data":{"login":"admin","password":"s3cr3t","ports":[3306,33060]}}}`

func createBody(path, data string) string {
	return fmt.Sprintf(`{"path":%q,"version":{"data":%s}}`, path, data)
}

func createMeta(meta string) string {
	return `{"path":"prod/db","metadata":` + meta + `,"version":{"data":{"a":"b"}}}`
}

// manyMetadata returns a customMetadata object of n entries.
func manyMetadata(n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`"k%02d":"v"`, i)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

// seedDB creates prod/db (custom metadata team=dba) with version 1 at t0
// and version 2 a minute later.
func seedDB(e *env) {
	e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"customMetadata":{"team":"dba"}}`)
	e.clock.Advance(time.Minute)
	e.WriteSecret("prod/db", `{"v":2}`)
}

// seedWithStates is seedDB plus version 3, then version 1 deleted and
// version 2 deactivated, an hour later.
func seedWithStates(e *env) {
	seedDB(e)
	e.WriteSecret("prod/db", `{"v":3}`)
	e.clock.Advance(time.Hour)
	e.SetVersionState("prod/db", 1, "DELETED")
	e.SetVersionState("prod/db", 2, "DEACTIVATED")
}

// wantMessage checks that the message of an error response mentions sub.
func wantMessage(sub string) func(*testing.T, *env, *response) {
	return func(t *testing.T, _ *env, r *response) {
		t.Helper()
		if msg := errorOf(t, r).Message; !strings.Contains(strings.ToLower(msg), strings.ToLower(sub)) {
			t.Errorf("message = %q, want it to mention %q", msg, sub)
		}
	}
}

// checkIAM checks the iam block of a secret (okms-rest.md 5.1).
func checkIAM(t *testing.T, e *env, s secretOut) {
	t.Helper()
	if !uuidV4.MatchString(s.IAM.ID) {
		t.Errorf("iam.id = %q, want a UUID v4", s.IAM.ID)
	}
	if s.IAM.ID == e.domain {
		t.Errorf("iam.id is the okmsId, want the secret's own id")
	}
	want(t, "iam.urn", s.IAM.URN, "urn:v1:eu:resource:okms:"+e.domain+"/secret/"+esc(s.Path))
	want(t, "iam.displayName", s.IAM.DisplayName, s.Path)
	want(t, "iam.tags is null", s.IAM.Tags == nil, true)
	want(t, "iam.state", s.IAM.State, "OK")
}

// metadataMembers are the members of okms.secret.Metadata: no urn.
var metadataMembers = []string{"casRequired", "createdAt", "updatedAt", "currentVersion", "oldestVersion",
	"maxVersions", "deactivateVersionAfter", "customMetadata"}

// shapeOfSecretResponse checks a create or update response: {path,
// metadata}, no warnings, metadata without urn.
func shapeOfSecretResponse(t *testing.T, r *response) secretOut {
	t.Helper()
	wantMembers(t, "response", r.Body, "path", "metadata")
	raw := decode[struct{ Metadata json.RawMessage }](t, r)
	wantMembers(t, "metadata", raw.Metadata, metadataMembers...)
	return decode[secretOut](t, r)
}

// shapeOfGet checks a GetResponseWithIAM object.
func shapeOfGet(t *testing.T, raw []byte, withVersion bool) {
	t.Helper()
	names := []string{"iam", "path", "metadata"}
	if withVersion {
		names = append(names, "version")
	}
	wantMembers(t, "secret", raw, names...)
	var parts struct{ IAM, Metadata json.RawMessage }
	if err := json.Unmarshal(raw, &parts); err != nil {
		t.Fatalf("decode secret: %v", err)
	}
	wantMembers(t, "iam", parts.IAM, "id", "urn", "displayName", "tags", "state")
	wantMembers(t, "metadata", parts.Metadata, metadataMembers...)
}

func TestCreateSecret(t *testing.T) {
	t.Parallel()
	exists := func(e *env) { e.CreateSecret("prod/db", `{"v":1}`) }
	const (
		badData  = "Client::BadRequest::SecretDataInvalidKeyValueJson"
		required = "Client::BadRequest::SecretFieldRequired"
	)
	cases := []apiCase{
		{name: "200/the example of the spec", body: specCreateBody, status: 200, golden: "secret_create",
			check: func(t *testing.T, e *env, r *response) {
				out := shapeOfSecretResponse(t, r)
				want(t, "path", out.Path, "prod/database/MySQL")
				m := out.Metadata
				want(t, "casRequired", m.CasRequired, true)
				want(t, "maxVersions", m.MaxVersions, 5)
				want(t, "deactivateVersionAfter", m.DeactivateVersionAfter, "30d")
				want(t, "customMetadata", fmt.Sprint(m.CustomMetadata), "map[team:dba]")
				want(t, "currentVersion", m.CurrentVersion, 1)
				want(t, "oldestVersion", m.OldestVersion, 0)
				want(t, "createdAt", m.CreatedAt, at(0))
				got := e.getSecret("/secret/prod%2Fdatabase%2FMySQL?includeData=true")
				want(t, "data read back", string(got.Version.Data), `{"login":"admin","password":"s3cr3t","ports":[3306,33060]}`)
				want(t, "state read back", got.Version.State, "ACTIVE")
			}},
		{name: "200/without metadata: every member present with its default", body: createBody("a", `{}`), status: 200,
			check: func(t *testing.T, e *env, r *response) {
				m := shapeOfSecretResponse(t, r).Metadata
				want(t, "customMetadata", fmt.Sprint(m.CustomMetadata), "map[]")
				want(t, "deactivateVersionAfter", m.DeactivateVersionAfter, "0s")
				want(t, "maxVersions", m.MaxVersions, 0)
			}},
		{name: "200/path of every allowed character", body: createBody("A-z_0.9:x=y@z/w", `{}`), status: 200,
			check: func(t *testing.T, e *env, _ *response) { e.getSecret("/secret/" + esc("A-z_0.9:x=y@z/w")) }},
		{name: "200/data null is the empty object", body: `{"path":"a","version":{"data":null}}`, status: 200,
			check: func(t *testing.T, e *env, _ *response) {
				want(t, "data", string(e.getSecret("/secret/a?includeData=true").Version.Data), `{}`)
			}},
		{name: "200/unknown members are ignored", body: `{"path":"a","version":{"data":{}},"iam":{"tags":{}},"x":1}`, status: 200},
		{name: "409/path exists", setup: exists, body: createBody("prod/db", `{"v":2}`), status: 409,
			class: "Client::Conflict::SecretAlreadyExists", golden: "error_SecretAlreadyExists"},
		{name: "409/path exists with all its versions deleted", status: 409, class: "Client::Conflict::SecretAlreadyExists",
			setup: func(e *env) { exists(e); e.SetVersionState("prod/db", 1, "DELETED") }, body: createBody("prod/db", `{}`)},
		{name: "400/no path", body: `{"version":{"data":{}}}`, status: 400, class: required, golden: "error_SecretFieldRequired"},
		{name: "400/empty path", body: createBody("", `{}`), status: 400, class: required},
		{name: "400/no version", body: `{"path":"a"}`, status: 400, class: required},
		{name: "400/version without data", body: `{"path":"a","version":{}}`, status: 400, class: required},
		{name: "400/path with a space", body: createBody("a b", `{}`), status: 400, class: clsBadPath, golden: "error_SecretPathInvalidCharacter"},
		{name: "400/path with a leading slash", body: createBody("/a", `{}`), status: 400, class: clsBadPath},
		{name: "400/path with a .. segment", body: createBody("a/../b", `{}`), status: 400, class: clsBadPath},
		{name: "400/path of 256 characters", body: createBody(strings.Repeat("a", 256), `{}`), status: 400,
			class: "Client::BadRequest::SecretPathMaxExceeded", golden: "error_SecretPathMaxExceeded"},
		{name: "200/path of 255 characters", body: createBody(strings.Repeat("a", 255), `{}`), status: 200},
		{name: "400/data is an array", body: createBody("a", `[1]`), status: 400, class: badData, golden: "error_SecretDataInvalidKeyValueJson"},
		{name: "400/data is a string", body: createBody("a", `"x"`), status: 400, class: badData},
		{name: "400/duplicate member inside data", body: createBody("a", `{"k":1,"k":2}`), status: 400, class: badData},
		{name: "400/data over 64 KiB", body: createBody("a", `{"k":"`+strings.Repeat("x", 65536)+`"}`), status: 400,
			class: "Client::BadRequest::SecretDataMaxExceeded", golden: "error_SecretDataMaxExceeded"},
		{name: "400/duration without a unit", body: createMeta(`{"deactivateVersionAfter":"10"}`), status: 400,
			class: "Client::BadRequest::SecretDeactivateVersionAfterInvalidDuration", golden: "error_SecretDeactivateVersionAfterInvalidDuration"},
		{name: "400/maxVersions over 24000", body: createMeta(`{"maxVersions":24001}`), status: 400,
			class: "Client::BadRequest::SecretMaxVersionsMaxExceeded", golden: "error_SecretMaxVersionsMaxExceeded"},
		{name: "400/maxVersions negative", body: createMeta(`{"maxVersions":-1}`), status: 400,
			class: "Client::BadRequest::SecretMaxVersionsMinRequired", golden: "error_SecretMaxVersionsMinRequired"},
		{name: "400/65 custom metadata entries", body: createMeta(`{"customMetadata":` + manyMetadata(65) + `}`), status: 400,
			class: "Client::BadRequest::SecretCustomMetadataMaxExceeded", golden: "error_SecretCustomMetadataMaxExceeded"},
		{name: "400/custom metadata value with a space", body: createMeta(`{"customMetadata":{"k":"a b"}}`), status: 400,
			class: "Client::BadRequest::SecretCustomMetadataValueInvalidCharacter", golden: "error_SecretCustomMetadataValueInvalidCharacter"},
		{name: "400/empty custom metadata value", body: createMeta(`{"customMetadata":{"k":""}}`), status: 400,
			class: "Client::BadRequest::SecretCustomMetadataValueMinRequired", golden: "error_SecretCustomMetadataValueMinRequired"},
		{name: "400/custom metadata value of 513 characters", body: createMeta(`{"customMetadata":{"k":"` + strings.Repeat("v", 513) + `"}}`),
			status: 400, class: "Client::BadRequest::SecretCustomMetadataValueMaxExceeded", golden: "error_SecretCustomMetadataValueMaxExceeded"},
		{name: "400/empty custom metadata key", body: createMeta(`{"customMetadata":{"":"v"}}`), status: 400,
			class: "Client::BadRequest::SecretCustomMetadataKeyMinRequired", golden: "error_SecretCustomMetadataKeyMinRequired"},
		{name: "400/custom metadata key with a space", body: createMeta(`{"customMetadata":{"a b":"v"}}`), status: 400,
			class: "Client::BadRequest::SecretCustomMetadataKeyInvalidCharacter", golden: "error_SecretCustomMetadataKeyInvalidCharacter"},
		{name: "400/custom metadata key of 129 characters", body: createMeta(`{"customMetadata":{"` + strings.Repeat("k", 129) + `":"v"}}`),
			status: 400, class: "Client::BadRequest::SecretCustomMetadataKeyMaxExceeded", golden: "error_SecretCustomMetadataKeyMaxExceeded"},
		{name: "400/several problems: the class names the first, the message lists all",
			body: `{"path":"a b","metadata":{"maxVersions":-1},"version":{"data":[]}}`, status: 400, class: clsBadPath,
			check: func(t *testing.T, _ *env, r *response) {
				msg := errorOf(t, r).Message
				if n := strings.Count(msg, "; "); n != 2 {
					t.Errorf("message %q joins %d problems, want 3", msg, n+1)
				}
			}},
		{name: "400/maxVersions of the wrong type", body: createMeta(`{"maxVersions":"5"}`), status: 400, class: clsBadJSON},
	}
	cases = append(cases, commonCases(nil, "/secret", createBody("a", `{}`), 200, true)...)
	cases = append(cases, bodyCases(nil, "/secret", true)...)
	runCases(t, "POST", "/secret", cases)
}

// TestCreateSecret_NewIDAfterDelete: okms-rest.md 2.1, the iam id of a
// secret is never reused, not even for a path created again.
func TestCreateSecret_NewIDAfterDelete(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.CreateSecret("prod/db", `{"v":1}`)
	first := e.getSecret("/secret/prod%2Fdb")
	checkIAM(t, e, first)
	e.Must("DELETE", "/secret/prod%2Fdb", "")
	e.CreateSecret("prod/db", `{"v":1}`)
	second := e.getSecret("/secret/prod%2Fdb")
	checkIAM(t, e, second)
	if first.IAM.ID == second.IAM.ID {
		t.Errorf("iam.id %s reused by the secret created again", first.IAM.ID)
	}
	want(t, "urn kept", second.IAM.URN, first.IAM.URN)
}

func TestGetSecret(t *testing.T) {
	t.Parallel()
	const target = "/secret/prod%2Fdb"
	cases := []apiCase{
		{name: "200/current version without data", setup: seedDB, target: target, status: 200, golden: "secret_get",
			check: func(t *testing.T, e *env, r *response) {
				shapeOfGet(t, r.Body, true)
				s := decode[secretOut](t, r)
				checkIAM(t, e, s)
				want(t, "path", s.Path, "prod/db")
				want(t, "currentVersion", s.Metadata.CurrentVersion, 2)
				want(t, "createdAt", s.Metadata.CreatedAt, at(0))
				want(t, "updatedAt", s.Metadata.UpdatedAt, at(time.Minute))
				wantMembers(t, "version", mustRaw(t, r.Body, "version"), "id", "state", "createdAt", "deactivatedAt")
				want(t, "version.id", s.Version.ID, 2)
				want(t, "version.state", s.Version.State, "ACTIVE")
				want(t, "version.deactivatedAt is null", s.Version.DeactivatedAt == nil, true)
			}},
		{name: "200/includeData=true", setup: seedDB, target: target + "?includeData=true", status: 200, golden: "secret_get_data",
			check: func(t *testing.T, _ *env, r *response) {
				want(t, "data", string(decode[secretOut](t, r).Version.Data), `{"v":2}`)
			}},
		{name: "200/includeData=false", setup: seedDB, target: target + "?includeData=false", status: 200,
			check: func(t *testing.T, _ *env, r *response) {
				want(t, "data", string(decode[secretOut](t, r).Version.Data), "")
			}},
		{name: "200/version=1 with data", setup: seedDB, target: target + "?version=1&includeData=true", status: 200,
			check: func(t *testing.T, _ *env, r *response) {
				v := decode[secretOut](t, r).Version
				want(t, "version.id", v.ID, 1)
				want(t, "data", string(v.Data), `{"v":1}`)
			}},
		{name: "200/includeData on a deactivated version: its state, no data", setup: seedWithStates,
			target: target + "?version=2&includeData=true", status: 200, golden: "secret_get_deactivated",
			check: func(t *testing.T, _ *env, r *response) {
				v := decode[secretOut](t, r).Version
				want(t, "state", v.State, "DEACTIVATED")
				want(t, "deactivatedAt", *v.DeactivatedAt, at(time.Hour+time.Minute))
				want(t, "data", string(v.Data), "")
			}},
		{name: "200/includeData on a deleted version: its state, no data", setup: seedWithStates,
			target: target + "?version=1&includeData=true", status: 200,
			check: func(t *testing.T, _ *env, r *response) {
				v := decode[secretOut](t, r).Version
				want(t, "state", v.State, "DELETED")
				want(t, "data", string(v.Data), "")
			}},
		{name: "200/automatic deactivation seen at read time", target: target + "?includeData=true", status: 200,
			setup: func(e *env) {
				e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"deactivateVersionAfter":"1h"}`)
				e.clock.Advance(2 * time.Hour)
			},
			check: func(t *testing.T, _ *env, r *response) {
				v := decode[secretOut](t, r).Version
				want(t, "state", v.State, "DEACTIVATED")
				want(t, "deactivatedAt", *v.DeactivatedAt, at(time.Hour))
			}},
		{name: "200/raw slashes in the path", setup: seedDB, target: "/secret/prod/db", status: 200,
			check: func(t *testing.T, _ *env, r *response) { want(t, "path", decode[secretOut](t, r).Path, "prod/db") }},
		{name: "200/encodeURIComponent path: %3A %3D %40 decoded", target: "/secret/cp%2Fa%3Ab%3Dc%40d", status: 200,
			setup: func(e *env) { e.CreateSecret("cp/a:b=c@d", `{}`) },
			check: func(t *testing.T, _ *env, r *response) { want(t, "path", decode[secretOut](t, r).Path, "cp/a:b=c@d") }},
		{name: "200/a secret without versions has no version member", target: "/secret/empty", status: 200, golden: "secret_get_no_version",
			setup: func(e *env) {
				// Only surface C creates a secret without a version
				// (okms-rest.md 2.1).
				e.Must("POST", "/api/{okmsId}/v1/secret/metadata/empty", `{"max_versions":3}`)
			},
			check: func(t *testing.T, e *env, r *response) {
				shapeOfGet(t, r.Body, false)
				s := decode[secretOut](t, r)
				checkIAM(t, e, s)
				want(t, "currentVersion", s.Metadata.CurrentVersion, 0)
				want(t, "maxVersions", s.Metadata.MaxVersions, 3)
			}},
		{name: "404/missing secret", target: "/secret/nope", status: 404, class: clsNotFound, golden: "error_SecretNotFound"},
		{name: "404/deleted secret", target: target, status: 404, class: clsNotFound,
			setup: func(e *env) { seedDB(e); e.Must("DELETE", target, "") }},
		{name: "404/version that never existed", setup: seedDB, target: target + "?version=3", status: 404,
			class: "Client::NotFound::SecretVersionNotFound", golden: "error_SecretVersionNotFound"},
		{name: "400/version=0", setup: seedDB, target: target + "?version=0", status: 400,
			class: "Client::BadRequest::SecretVersionMinRequired", golden: "error_SecretVersionMinRequired"},
		{name: "400/version=24001", setup: seedDB, target: target + "?version=24001", status: 400,
			class: "Client::BadRequest::SecretVersionMaxExceeded", golden: "error_SecretVersionMaxExceeded"},
		{name: "400/version that is not a number", setup: seedDB, target: target + "?version=last", status: 400,
			class: "Client::BadRequest::QueryParameterInvalid", golden: "error_QueryParameterInvalid"},
		{name: "400/includeData that is not a boolean", setup: seedDB, target: target + "?includeData=yes", status: 400,
			class: "Client::BadRequest::QueryParameterInvalid", check: wantMessage("includeData")},
		{name: "400/double-encoded path", target: "/secret/prod%252Fdb", status: 400, class: clsBadPath},
		{name: "400/encoded empty segment", target: "/secret/prod%2F%2Fdb", status: 400, class: clsBadPath},
		{name: "400/raw empty segment", target: "/secret/prod//db", status: 400, class: clsBadPath},
		{name: "400/raw dot-dot segment", target: "/secret/prod/../db", status: 400, class: clsBadPath},
		{name: "400/encoded space", target: "/secret/a%20b", status: 400, class: clsBadPath},
		{name: "400/path of 256 characters", target: "/secret/" + strings.Repeat("a", 256), status: 400,
			class: "Client::BadRequest::SecretPathMaxExceeded"},
	}
	cases = append(cases, commonCases(seedDB, target, "", 200, false)...)
	runCases(t, "GET", target, cases)
}

func TestUpdateSecret(t *testing.T) {
	t.Parallel()
	const target = "/secret/prod%2Fdb"
	casRequired := func(e *env) { e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"casRequired":true}`) }
	const (
		mismatch = "Client::BadRequest::SecretCasMismatch"
		required = "Client::BadRequest::SecretCasRequired"
	)
	cases := []apiCase{
		{name: "200/new version", setup: seedDB, target: target, body: `{"version":{"data":{"v":3}}}`, status: 200, golden: "secret_update",
			check: func(t *testing.T, e *env, r *response) {
				m := shapeOfSecretResponse(t, r).Metadata
				want(t, "currentVersion", m.CurrentVersion, 3)
				want(t, "data read back", string(e.getSecret(target+"?includeData=true").Version.Data), `{"v":3}`)
			}},
		{name: "200/metadata only creates no version", setup: seedDB, target: target, status: 200,
			body: `{"metadata":{"maxVersions":7,"customMetadata":{}}}`,
			check: func(t *testing.T, e *env, r *response) {
				m := shapeOfSecretResponse(t, r).Metadata
				want(t, "currentVersion", m.CurrentVersion, 2)
				want(t, "maxVersions", m.MaxVersions, 7)
				want(t, "customMetadata kept", fmt.Sprint(m.CustomMetadata), "map[team:dba]")
			}},
		{name: "200/metadata and data together", setup: seedDB, target: target, status: 200,
			body: `{"metadata":{"customMetadata":{"team":"ops"}},"version":{"data":{"v":3}}}`,
			check: func(t *testing.T, _ *env, r *response) {
				m := shapeOfSecretResponse(t, r).Metadata
				want(t, "currentVersion", m.CurrentVersion, 3)
				want(t, "customMetadata", fmt.Sprint(m.CustomMetadata), "map[team:ops]")
			}},
		{name: "200/cas equal to the current version", setup: seedDB, target: target + "?cas=2", body: `{"version":{"data":{}}}`, status: 200},
		{name: "200/casRequired with cas", setup: casRequired, target: target + "?cas=1", body: `{"version":{"data":{}}}`, status: 200},
		{name: "200/casRequired lifted in the same request", setup: casRequired, target: target, status: 200,
			body: `{"metadata":{"casRequired":false},"version":{"data":{}}}`},
		{name: "200/metadata-only update is not subject to casRequired", setup: casRequired, target: target, status: 200,
			body: `{"metadata":{"maxVersions":3}}`},
		{name: "400/cas mismatch", setup: seedDB, target: target + "?cas=1", body: `{"version":{"data":{}}}`, status: 400,
			class: mismatch, golden: "error_SecretCasMismatch", check: wantMessage("cas")},
		{name: "400/cas mismatch on a metadata-only update", setup: seedDB, target: target + "?cas=5", body: `{"metadata":{"maxVersions":3}}`,
			status: 400, class: mismatch},
		{name: "400/cas required", setup: casRequired, target: target, body: `{"version":{"data":{}}}`, status: 400,
			class: required, golden: "error_SecretCasRequired", check: wantMessage("cas")},
		{name: "400/cas required by the domain", target: target, body: `{"version":{"data":{}}}`, status: 400, class: required,
			setup: func(e *env) { seedDB(e); e.Must("PUT", "/secretConfig", `{"casRequired":true}`) }},
		{name: "400/cas mismatch keeps the metadata of the same request", setup: casRequired, target: target + "?cas=9",
			body: `{"metadata":{"casRequired":false},"version":{"data":{}}}`, status: 400, class: mismatch},
		{name: "400/cas that is not a number", setup: seedDB, target: target + "?cas=x", body: `{"version":{"data":{}}}`,
			status: 400, class: "Client::BadRequest::QueryParameterInvalid", check: wantMessage("cas")},
		{name: "400/cas=24001", setup: seedDB, target: target + "?cas=24001", body: `{"version":{"data":{}}}`, status: 400,
			class: "Client::BadRequest::SecretCasMaxExceeded", golden: "error_SecretCasMaxExceeded"},
		{name: "400/cas=-1", setup: seedDB, target: target + "?cas=-1", body: `{"version":{"data":{}}}`, status: 400,
			class: "Client::BadRequest::SecretCasMinRequired", golden: "error_SecretCasMinRequired"},
		{name: "400/neither metadata nor version", setup: seedDB, target: target, body: `{}`, status: 400,
			class: "Client::BadRequest::SecretFieldRequired"},
		{name: "400/both null", setup: seedDB, target: target, body: `{"metadata":null,"version":null}`, status: 400,
			class: "Client::BadRequest::SecretFieldRequired"},
		{name: "400/data not an object", setup: seedDB, target: target, body: `{"version":{"data":[]}}`, status: 400,
			class: "Client::BadRequest::SecretDataInvalidKeyValueJson"},
		{name: "400/bad duration", setup: seedDB, target: target, body: `{"metadata":{"deactivateVersionAfter":"1y"}}`, status: 400,
			class: "Client::BadRequest::SecretDeactivateVersionAfterInvalidDuration"},
		{name: "404/missing secret", target: "/secret/nope", body: `{"version":{"data":{}}}`, status: 404, class: clsNotFound},
		{name: "400/bad path", target: "/secret/a%20b", body: `{"version":{"data":{}}}`, status: 400, class: clsBadPath},
	}
	if !testing.Short() {
		cases = append(cases, apiCase{name: "400/version limit reached", setup: versionLimit, target: "/secret/big",
			body: `{"version":{"data":{}}}`, status: 400, class: "Client::BadRequest::SecretVersionLimitReached",
			golden: "error_SecretVersionLimitReached"})
	}
	cases = append(cases, commonCases(seedDB, target, `{"version":{"data":{}}}`, 200, false)...)
	cases = append(cases, bodyCases(seedDB, target, false)...)
	runCases(t, "PUT", target, cases)
}

// versionLimit creates secret big with version 24000, written through
// the service: 24000 HTTP requests would only slow the test down.
func versionLimit(e *env) {
	e.t.Helper()
	e.CreateSecret("big", `{}`, `"metadata":{"maxVersions":1}`)
	svc := e.srv.Service()
	c := service.Caller{Principal: auth.Principal{Root: true, Name: "test"}, Surface: "test"}
	p := secret.MustParsePath("big")
	d, err := secret.ParseData([]byte(`{}`))
	if err != nil {
		e.t.Fatal(err)
	}
	for range secret.MaxVersionID - 1 {
		if _, _, err := svc.PutVersion(context.Background(), c, e.domain, p, d, service.PutOptions{}); err != nil {
			e.t.Fatalf("PutVersion: %v", err)
		}
	}
	want(e.t, "currentVersion", e.getSecret("/secret/big").Metadata.CurrentVersion, secret.MaxVersionID)
}

func TestDeleteSecret(t *testing.T) {
	t.Parallel()
	const target = "/secret/prod%2Fdb"
	cases := []apiCase{
		{name: "204/deleted with its versions", setup: seedDB, target: target, status: 204, golden: "secret_delete",
			check: func(t *testing.T, e *env, _ *response) {
				e.Send(request{Method: "GET", Target: target}).Expect(t, 404, clsNotFound)
				e.Send(request{Method: "GET", Target: target + "/version/1"}).Expect(t, 404, clsNotFound)
				want(t, "secrets left", len(e.listAll("/secret")), 0)
			}},
		{name: "204/raw slashes in the path", setup: seedDB, target: "/secret/prod/db", status: 204},
		{name: "404/missing secret", target: "/secret/nope", status: 404, class: clsNotFound},
		{name: "404/deleted twice", target: target, status: 404, class: clsNotFound,
			setup: func(e *env) { seedDB(e); e.Must("DELETE", target, "") }},
		{name: "400/bad path", target: "/secret/a%20b", status: 400, class: clsBadPath},
		{name: "405/a version collection", setup: seedDB, target: target + "/version", status: 405, class: "Client::MethodNotAllowed"},
		{name: "405/one version", setup: seedDB, target: target + "/version/1", status: 405, class: "Client::MethodNotAllowed"},
	}
	cases = append(cases, commonCases(seedDB, target, "", 204, false)...)
	runCases(t, "DELETE", target, cases)
}

func TestListSecrets(t *testing.T) {
	t.Parallel()
	two := func(e *env) {
		seedDB(e)
		e.CreateSecret("app/key", `{"k":"v"}`)
	}
	cases := []apiCase{
		{name: "200/no secret: an empty array", target: "/secret", status: 200, golden: "secret_list_empty",
			check: func(t *testing.T, _ *env, r *response) { want(t, "body", string(r.Body), "[]") }},
		{name: "200/items with their iam block, sorted by path", setup: two, target: "/secret", status: 200, golden: "secret_list",
			check: func(t *testing.T, e *env, r *response) {
				items := decode[[]json.RawMessage](t, r)
				if len(items) != 2 {
					t.Fatalf("%d items, want 2", len(items))
				}
				for i, path := range []string{"app/key", "prod/db"} {
					shapeOfGet(t, items[i], true)
					var s secretOut
					if err := json.Unmarshal(items[i], &s); err != nil {
						t.Fatal(err)
					}
					want(t, "path", s.Path, path)
					checkIAM(t, e, s)
					want(t, "state", s.Version.State, "ACTIVE")
					want(t, "no data", string(s.Version.Data), "")
				}
			}},
		{name: "200/includeData is not a list parameter", setup: two, target: "/secret?includeData=true", status: 200,
			check: func(t *testing.T, _ *env, r *response) {
				for _, s := range decode[[]secretOut](t, r) {
					want(t, s.Path+" data", string(s.Version.Data), "")
				}
			}},
		{name: "400/iamTags", setup: two, target: `/secret?iamTags=` + url.QueryEscape(`{"env":[{"operator":"EQ","value":"prod"}]}`),
			status: 400, class: "Client::BadRequest::IamTagsNotSupported", golden: "error_IamTagsNotSupported"},
		{name: "400/iamTags without a value", setup: two, target: "/secret?iamTags=", status: 400,
			class: "Client::BadRequest::IamTagsNotSupported"},
	}
	cases = append(cases, commonCases(two, "/secret", "", 200, false)...)
	runCases(t, "GET", "/secret", cases)
}

// mustRaw returns member name of a JSON object.
func mustRaw(t *testing.T, body []byte, name string) json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("not a JSON object: %s", body)
	}
	raw, ok := m[name]
	if !ok {
		t.Fatalf("no member %q in %s", name, body)
	}
	return raw
}
