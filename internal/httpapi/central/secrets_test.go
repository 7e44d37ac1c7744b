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
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
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
	e.Clock.Advance(time.Minute)
	e.WriteSecret("prod/db", `{"v":2}`)
}

// seedWithStates is seedDB plus version 3, then version 1 deleted and
// version 2 deactivated, an hour later.
func seedWithStates(e *env) {
	seedDB(e)
	e.WriteSecret("prod/db", `{"v":3}`)
	e.Clock.Advance(time.Hour)
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
	if s.IAM.ID == e.Domain {
		t.Errorf("iam.id is the okmsId, want the secret's own id")
	}
	want(t, "iam.urn", s.IAM.URN, "urn:v1:eu:resource:okms:"+e.Domain+"/secret/"+esc(s.Path))
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
	raw := wiretest.DecodeBody[struct{ Metadata json.RawMessage }](t, r)
	wantMembers(t, "metadata", raw.Metadata, metadataMembers...)
	return wiretest.DecodeBody[secretOut](t, r)
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
		{Name: "200/the example of the spec", Body: specCreateBody, Status: 200, Golden: "secret_create",
			Check: func(t *testing.T, e *env, r *response) {
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
		{Name: "200/without metadata: every member present with its default", Body: createBody("a", `{}`), Status: 200,
			Check: func(t *testing.T, e *env, r *response) {
				m := shapeOfSecretResponse(t, r).Metadata
				want(t, "customMetadata", fmt.Sprint(m.CustomMetadata), "map[]")
				want(t, "deactivateVersionAfter", m.DeactivateVersionAfter, "0s")
				want(t, "maxVersions", m.MaxVersions, 0)
			}},
		{Name: "200/path of every allowed character", Body: createBody("A-z_0.9:x=y@z/w", `{}`), Status: 200,
			Check: func(t *testing.T, e *env, _ *response) { e.getSecret("/secret/" + esc("A-z_0.9:x=y@z/w")) }},
		{Name: "200/data null is the empty object", Body: `{"path":"a","version":{"data":null}}`, Status: 200,
			Check: func(t *testing.T, e *env, _ *response) {
				want(t, "data", string(e.getSecret("/secret/a?includeData=true").Version.Data), `{}`)
			}},
		{Name: "200/unknown members are ignored", Body: `{"path":"a","version":{"data":{}},"iam":{"tags":{}},"x":1}`, Status: 200},
		{Name: "409/path exists", Setup: exists, Body: createBody("prod/db", `{"v":2}`), Status: 409,
			Err: "Client::Conflict::SecretAlreadyExists", Golden: "error_SecretAlreadyExists"},
		{Name: "409/path exists with all its versions deleted", Status: 409, Err: "Client::Conflict::SecretAlreadyExists",
			Setup: func(e *env) { exists(e); e.SetVersionState("prod/db", 1, "DELETED") }, Body: createBody("prod/db", `{}`)},
		{Name: "400/no path", Body: `{"version":{"data":{}}}`, Status: 400, Err: required, Golden: "error_SecretFieldRequired"},
		{Name: "400/empty path", Body: createBody("", `{}`), Status: 400, Err: required},
		{Name: "400/no version", Body: `{"path":"a"}`, Status: 400, Err: required},
		{Name: "400/version without data", Body: `{"path":"a","version":{}}`, Status: 400, Err: required},
		{Name: "400/path with a space", Body: createBody("a b", `{}`), Status: 400, Err: clsBadPath, Golden: "error_SecretPathInvalidCharacter"},
		{Name: "400/path with a leading slash", Body: createBody("/a", `{}`), Status: 400, Err: clsBadPath},
		{Name: "400/path with a .. segment", Body: createBody("a/../b", `{}`), Status: 400, Err: clsBadPath},
		{Name: "400/path of 256 characters", Body: createBody(strings.Repeat("a", 256), `{}`), Status: 400,
			Err: "Client::BadRequest::SecretPathMaxExceeded", Golden: "error_SecretPathMaxExceeded"},
		{Name: "200/path of 255 characters", Body: createBody(strings.Repeat("a", 255), `{}`), Status: 200},
		{Name: "400/data is an array", Body: createBody("a", `[1]`), Status: 400, Err: badData, Golden: "error_SecretDataInvalidKeyValueJson"},
		{Name: "400/data is a string", Body: createBody("a", `"x"`), Status: 400, Err: badData},
		{Name: "400/duplicate member inside data", Body: createBody("a", `{"k":1,"k":2}`), Status: 400, Err: badData},
		{Name: "400/data over 64 KiB", Body: createBody("a", `{"k":"`+strings.Repeat("x", 65536)+`"}`), Status: 400,
			Err: "Client::BadRequest::SecretDataMaxExceeded", Golden: "error_SecretDataMaxExceeded"},
		{Name: "400/duration without a unit", Body: createMeta(`{"deactivateVersionAfter":"10"}`), Status: 400,
			Err: "Client::BadRequest::SecretDeactivateVersionAfterInvalidDuration", Golden: "error_SecretDeactivateVersionAfterInvalidDuration"},
		{Name: "400/maxVersions over 24000", Body: createMeta(`{"maxVersions":24001}`), Status: 400,
			Err: "Client::BadRequest::SecretMaxVersionsMaxExceeded", Golden: "error_SecretMaxVersionsMaxExceeded"},
		{Name: "400/maxVersions negative", Body: createMeta(`{"maxVersions":-1}`), Status: 400,
			Err: "Client::BadRequest::SecretMaxVersionsMinRequired", Golden: "error_SecretMaxVersionsMinRequired"},
		{Name: "400/65 custom metadata entries", Body: createMeta(`{"customMetadata":` + manyMetadata(65) + `}`), Status: 400,
			Err: "Client::BadRequest::SecretCustomMetadataMaxExceeded", Golden: "error_SecretCustomMetadataMaxExceeded"},
		{Name: "400/custom metadata value with a space", Body: createMeta(`{"customMetadata":{"k":"a b"}}`), Status: 400,
			Err: "Client::BadRequest::SecretCustomMetadataValueInvalidCharacter", Golden: "error_SecretCustomMetadataValueInvalidCharacter"},
		{Name: "400/empty custom metadata value", Body: createMeta(`{"customMetadata":{"k":""}}`), Status: 400,
			Err: "Client::BadRequest::SecretCustomMetadataValueMinRequired", Golden: "error_SecretCustomMetadataValueMinRequired"},
		{Name: "400/custom metadata value of 513 characters", Body: createMeta(`{"customMetadata":{"k":"` + strings.Repeat("v", 513) + `"}}`),
			Status: 400, Err: "Client::BadRequest::SecretCustomMetadataValueMaxExceeded", Golden: "error_SecretCustomMetadataValueMaxExceeded"},
		{Name: "400/empty custom metadata key", Body: createMeta(`{"customMetadata":{"":"v"}}`), Status: 400,
			Err: "Client::BadRequest::SecretCustomMetadataKeyMinRequired", Golden: "error_SecretCustomMetadataKeyMinRequired"},
		{Name: "400/custom metadata key with a space", Body: createMeta(`{"customMetadata":{"a b":"v"}}`), Status: 400,
			Err: "Client::BadRequest::SecretCustomMetadataKeyInvalidCharacter", Golden: "error_SecretCustomMetadataKeyInvalidCharacter"},
		{Name: "400/custom metadata key of 129 characters", Body: createMeta(`{"customMetadata":{"` + strings.Repeat("k", 129) + `":"v"}}`),
			Status: 400, Err: "Client::BadRequest::SecretCustomMetadataKeyMaxExceeded", Golden: "error_SecretCustomMetadataKeyMaxExceeded"},
		{Name: "400/several problems: the class names the first, the message lists all",
			Body: `{"path":"a b","metadata":{"maxVersions":-1},"version":{"data":[]}}`, Status: 400, Err: clsBadPath,
			Check: func(t *testing.T, _ *env, r *response) {
				msg := errorOf(t, r).Message
				if n := strings.Count(msg, "; "); n != 2 {
					t.Errorf("message %q joins %d problems, want 3", msg, n+1)
				}
			}},
		{Name: "400/maxVersions of the wrong type", Body: createMeta(`{"maxVersions":"5"}`), Status: 400, Err: clsBadJSON},
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
		{Name: "200/current version without data", Setup: seedDB, Target: target, Status: 200, Golden: "secret_get",
			Check: func(t *testing.T, e *env, r *response) {
				shapeOfGet(t, r.Body, true)
				s := wiretest.DecodeBody[secretOut](t, r)
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
		{Name: "200/includeData=true", Setup: seedDB, Target: target + "?includeData=true", Status: 200, Golden: "secret_get_data",
			Check: func(t *testing.T, _ *env, r *response) {
				want(t, "data", string(wiretest.DecodeBody[secretOut](t, r).Version.Data), `{"v":2}`)
			}},
		{Name: "200/includeData=false", Setup: seedDB, Target: target + "?includeData=false", Status: 200,
			Check: func(t *testing.T, _ *env, r *response) {
				want(t, "data", string(wiretest.DecodeBody[secretOut](t, r).Version.Data), "")
			}},
		{Name: "200/version=1 with data", Setup: seedDB, Target: target + "?version=1&includeData=true", Status: 200,
			Check: func(t *testing.T, _ *env, r *response) {
				v := wiretest.DecodeBody[secretOut](t, r).Version
				want(t, "version.id", v.ID, 1)
				want(t, "data", string(v.Data), `{"v":1}`)
			}},
		{Name: "200/includeData on a deactivated version: its state, no data", Setup: seedWithStates,
			Target: target + "?version=2&includeData=true", Status: 200, Golden: "secret_get_deactivated",
			Check: func(t *testing.T, _ *env, r *response) {
				v := wiretest.DecodeBody[secretOut](t, r).Version
				want(t, "state", v.State, "DEACTIVATED")
				want(t, "deactivatedAt", *v.DeactivatedAt, at(time.Hour+time.Minute))
				want(t, "data", string(v.Data), "")
			}},
		{Name: "200/includeData on a deleted version: its state, no data", Setup: seedWithStates,
			Target: target + "?version=1&includeData=true", Status: 200,
			Check: func(t *testing.T, _ *env, r *response) {
				v := wiretest.DecodeBody[secretOut](t, r).Version
				want(t, "state", v.State, "DELETED")
				want(t, "data", string(v.Data), "")
			}},
		{Name: "200/automatic deactivation seen at read time", Target: target + "?includeData=true", Status: 200,
			Setup: func(e *env) {
				e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"deactivateVersionAfter":"1h"}`)
				e.Clock.Advance(2 * time.Hour)
			},
			Check: func(t *testing.T, _ *env, r *response) {
				v := wiretest.DecodeBody[secretOut](t, r).Version
				want(t, "state", v.State, "DEACTIVATED")
				want(t, "deactivatedAt", *v.DeactivatedAt, at(time.Hour))
			}},
		{Name: "200/raw slashes in the path", Setup: seedDB, Target: "/secret/prod/db", Status: 200,
			Check: func(t *testing.T, _ *env, r *response) {
				want(t, "path", wiretest.DecodeBody[secretOut](t, r).Path, "prod/db")
			}},
		{Name: "200/encodeURIComponent path: %3A %3D %40 decoded", Target: "/secret/cp%2Fa%3Ab%3Dc%40d", Status: 200,
			Setup: func(e *env) { e.CreateSecret("cp/a:b=c@d", `{}`) },
			Check: func(t *testing.T, _ *env, r *response) {
				want(t, "path", wiretest.DecodeBody[secretOut](t, r).Path, "cp/a:b=c@d")
			}},
		{Name: "200/a secret without versions has no version member", Target: "/secret/empty", Status: 200, Golden: "secret_get_no_version",
			Setup: func(e *env) {
				// Only surface C creates a secret without a version
				// (okms-rest.md 2.1).
				e.Must("POST", "/api/{okmsId}/v1/secret/metadata/empty", `{"max_versions":3}`)
			},
			Check: func(t *testing.T, e *env, r *response) {
				shapeOfGet(t, r.Body, false)
				s := wiretest.DecodeBody[secretOut](t, r)
				checkIAM(t, e, s)
				want(t, "currentVersion", s.Metadata.CurrentVersion, 0)
				want(t, "maxVersions", s.Metadata.MaxVersions, 3)
			}},
		{Name: "404/missing secret", Target: "/secret/nope", Status: 404, Err: clsNotFound, Golden: "error_SecretNotFound"},
		{Name: "404/deleted secret", Target: target, Status: 404, Err: clsNotFound,
			Setup: func(e *env) { seedDB(e); e.Must("DELETE", target, "") }},
		{Name: "404/version that never existed", Setup: seedDB, Target: target + "?version=3", Status: 404,
			Err: "Client::NotFound::SecretVersionNotFound", Golden: "error_SecretVersionNotFound"},
		{Name: "400/version=0", Setup: seedDB, Target: target + "?version=0", Status: 400,
			Err: "Client::BadRequest::SecretVersionMinRequired", Golden: "error_SecretVersionMinRequired"},
		{Name: "400/version=24001", Setup: seedDB, Target: target + "?version=24001", Status: 400,
			Err: "Client::BadRequest::SecretVersionMaxExceeded", Golden: "error_SecretVersionMaxExceeded"},
		{Name: "400/version that is not a number", Setup: seedDB, Target: target + "?version=last", Status: 400,
			Err: "Client::BadRequest::QueryParameterInvalid", Golden: "error_QueryParameterInvalid"},
		{Name: "400/includeData that is not a boolean", Setup: seedDB, Target: target + "?includeData=yes", Status: 400,
			Err: "Client::BadRequest::QueryParameterInvalid", Check: wantMessage("includeData")},
		{Name: "400/double-encoded path", Target: "/secret/prod%252Fdb", Status: 400, Err: clsBadPath},
		{Name: "400/encoded empty segment", Target: "/secret/prod%2F%2Fdb", Status: 400, Err: clsBadPath},
		{Name: "400/raw empty segment", Target: "/secret/prod//db", Status: 400, Err: clsBadPath},
		{Name: "400/raw dot-dot segment", Target: "/secret/prod/../db", Status: 400, Err: clsBadPath},
		{Name: "400/encoded space", Target: "/secret/a%20b", Status: 400, Err: clsBadPath},
		{Name: "400/path of 256 characters", Target: "/secret/" + strings.Repeat("a", 256), Status: 400,
			Err: "Client::BadRequest::SecretPathMaxExceeded"},
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
		{Name: "200/new version", Setup: seedDB, Target: target, Body: `{"version":{"data":{"v":3}}}`, Status: 200, Golden: "secret_update",
			Check: func(t *testing.T, e *env, r *response) {
				m := shapeOfSecretResponse(t, r).Metadata
				want(t, "currentVersion", m.CurrentVersion, 3)
				want(t, "data read back", string(e.getSecret(target+"?includeData=true").Version.Data), `{"v":3}`)
			}},
		{Name: "200/metadata only creates no version", Setup: seedDB, Target: target, Status: 200,
			Body: `{"metadata":{"maxVersions":7,"customMetadata":{}}}`,
			Check: func(t *testing.T, e *env, r *response) {
				m := shapeOfSecretResponse(t, r).Metadata
				want(t, "currentVersion", m.CurrentVersion, 2)
				want(t, "maxVersions", m.MaxVersions, 7)
				want(t, "customMetadata kept", fmt.Sprint(m.CustomMetadata), "map[team:dba]")
			}},
		{Name: "200/metadata and data together", Setup: seedDB, Target: target, Status: 200,
			Body: `{"metadata":{"customMetadata":{"team":"ops"}},"version":{"data":{"v":3}}}`,
			Check: func(t *testing.T, _ *env, r *response) {
				m := shapeOfSecretResponse(t, r).Metadata
				want(t, "currentVersion", m.CurrentVersion, 3)
				want(t, "customMetadata", fmt.Sprint(m.CustomMetadata), "map[team:ops]")
			}},
		{Name: "200/cas equal to the current version", Setup: seedDB, Target: target + "?cas=2", Body: `{"version":{"data":{}}}`, Status: 200},
		{Name: "200/casRequired with cas", Setup: casRequired, Target: target + "?cas=1", Body: `{"version":{"data":{}}}`, Status: 200},
		{Name: "200/casRequired lifted in the same request", Setup: casRequired, Target: target, Status: 200,
			Body: `{"metadata":{"casRequired":false},"version":{"data":{}}}`},
		{Name: "200/metadata-only update is not subject to casRequired", Setup: casRequired, Target: target, Status: 200,
			Body: `{"metadata":{"maxVersions":3}}`},
		{Name: "400/cas mismatch", Setup: seedDB, Target: target + "?cas=1", Body: `{"version":{"data":{}}}`, Status: 400,
			Err: mismatch, Golden: "error_SecretCasMismatch", Check: wantMessage("cas")},
		{Name: "400/cas mismatch on a metadata-only update", Setup: seedDB, Target: target + "?cas=5", Body: `{"metadata":{"maxVersions":3}}`,
			Status: 400, Err: mismatch},
		{Name: "400/cas required", Setup: casRequired, Target: target, Body: `{"version":{"data":{}}}`, Status: 400,
			Err: required, Golden: "error_SecretCasRequired", Check: wantMessage("cas")},
		{Name: "400/cas required by the domain", Target: target, Body: `{"version":{"data":{}}}`, Status: 400, Err: required,
			Setup: func(e *env) { seedDB(e); e.Must("PUT", "/secretConfig", `{"casRequired":true}`) }},
		{Name: "400/cas mismatch keeps the metadata of the same request", Setup: casRequired, Target: target + "?cas=9",
			Body: `{"metadata":{"casRequired":false},"version":{"data":{}}}`, Status: 400, Err: mismatch},
		{Name: "400/cas that is not a number", Setup: seedDB, Target: target + "?cas=x", Body: `{"version":{"data":{}}}`,
			Status: 400, Err: "Client::BadRequest::QueryParameterInvalid", Check: wantMessage("cas")},
		{Name: "400/cas=24001", Setup: seedDB, Target: target + "?cas=24001", Body: `{"version":{"data":{}}}`, Status: 400,
			Err: "Client::BadRequest::SecretCasMaxExceeded", Golden: "error_SecretCasMaxExceeded"},
		{Name: "400/cas=-1", Setup: seedDB, Target: target + "?cas=-1", Body: `{"version":{"data":{}}}`, Status: 400,
			Err: "Client::BadRequest::SecretCasMinRequired", Golden: "error_SecretCasMinRequired"},
		{Name: "400/neither metadata nor version", Setup: seedDB, Target: target, Body: `{}`, Status: 400,
			Err: "Client::BadRequest::SecretFieldRequired"},
		{Name: "400/both null", Setup: seedDB, Target: target, Body: `{"metadata":null,"version":null}`, Status: 400,
			Err: "Client::BadRequest::SecretFieldRequired"},
		{Name: "400/data not an object", Setup: seedDB, Target: target, Body: `{"version":{"data":[]}}`, Status: 400,
			Err: "Client::BadRequest::SecretDataInvalidKeyValueJson"},
		{Name: "400/bad duration", Setup: seedDB, Target: target, Body: `{"metadata":{"deactivateVersionAfter":"1y"}}`, Status: 400,
			Err: "Client::BadRequest::SecretDeactivateVersionAfterInvalidDuration"},
		{Name: "404/missing secret", Target: "/secret/nope", Body: `{"version":{"data":{}}}`, Status: 404, Err: clsNotFound},
		{Name: "400/bad path", Target: "/secret/a%20b", Body: `{"version":{"data":{}}}`, Status: 400, Err: clsBadPath},
	}
	if !testing.Short() {
		cases = append(cases, apiCase{Name: "400/version limit reached", Setup: versionLimit, Target: "/secret/big",
			Body: `{"version":{"data":{}}}`, Status: 400, Err: "Client::BadRequest::SecretVersionLimitReached",
			Golden: "error_SecretVersionLimitReached"})
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
	svc := e.Server.Service()
	c := service.Caller{Principal: auth.Principal{Root: true, Name: "test"}, Surface: "test"}
	p := secret.MustParsePath("big")
	d, err := secret.ParseData([]byte(`{}`))
	if err != nil {
		e.t.Fatal(err)
	}
	for range secret.MaxVersionID - 1 {
		if _, _, err := svc.PutVersion(context.Background(), c, e.Domain, p, d, service.PutOptions{}); err != nil {
			e.t.Fatalf("PutVersion: %v", err)
		}
	}
	want(e.t, "currentVersion", e.getSecret("/secret/big").Metadata.CurrentVersion, secret.MaxVersionID)
}

func TestDeleteSecret(t *testing.T) {
	t.Parallel()
	const target = "/secret/prod%2Fdb"
	cases := []apiCase{
		{Name: "204/deleted with its versions", Setup: seedDB, Target: target, Status: 204, Golden: "secret_delete",
			Check: func(t *testing.T, e *env, _ *response) {
				e.Send(request{Method: "GET", Target: target}).Expect(t, 404, clsNotFound)
				e.Send(request{Method: "GET", Target: target + "/version/1"}).Expect(t, 404, clsNotFound)
				want(t, "secrets left", len(e.listAll("/secret")), 0)
			}},
		{Name: "204/raw slashes in the path", Setup: seedDB, Target: "/secret/prod/db", Status: 204},
		{Name: "404/missing secret", Target: "/secret/nope", Status: 404, Err: clsNotFound},
		{Name: "404/deleted twice", Target: target, Status: 404, Err: clsNotFound,
			Setup: func(e *env) { seedDB(e); e.Must("DELETE", target, "") }},
		{Name: "400/bad path", Target: "/secret/a%20b", Status: 400, Err: clsBadPath},
		{Name: "405/a version collection", Setup: seedDB, Target: target + "/version", Status: 405, Err: "Client::MethodNotAllowed"},
		{Name: "405/one version", Setup: seedDB, Target: target + "/version/1", Status: 405, Err: "Client::MethodNotAllowed"},
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
		{Name: "200/no secret: an empty array", Target: "/secret", Status: 200, Golden: "secret_list_empty",
			Check: func(t *testing.T, _ *env, r *response) { want(t, "body", string(r.Body), "[]") }},
		{Name: "200/items with their iam block, sorted by path", Setup: two, Target: "/secret", Status: 200, Golden: "secret_list",
			Check: func(t *testing.T, e *env, r *response) {
				items := wiretest.DecodeBody[[]json.RawMessage](t, r)
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
		{Name: "200/includeData is not a list parameter", Setup: two, Target: "/secret?includeData=true", Status: 200,
			Check: func(t *testing.T, _ *env, r *response) {
				for _, s := range wiretest.DecodeBody[[]secretOut](t, r) {
					want(t, s.Path+" data", string(s.Version.Data), "")
				}
			}},
		{Name: "400/iamTags", Setup: two, Target: `/secret?iamTags=` + url.QueryEscape(`{"env":[{"operator":"EQ","value":"prod"}]}`),
			Status: 400, Err: "Client::BadRequest::IamTagsNotSupported", Golden: "error_IamTagsNotSupported"},
		{Name: "400/iamTags without a value", Setup: two, Target: "/secret?iamTags=", Status: 400,
			Err: "Client::BadRequest::IamTagsNotSupported"},
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
