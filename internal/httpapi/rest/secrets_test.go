package rest_test

import (
	"cmp"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// okms-rest.md 4.2: the example of the spec.
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

// createdWith checks the metadata a create answered with.
func createdWith(check func(t *testing.T, m api.SecretMetadata)) func(*testing.T, *env, *response) {
	return func(t *testing.T, e *env, r *response) {
		t.Helper()
		out := wiretest.DecodeBody[api.SecretResponse](t, r)
		check(t, out.Metadata)
		got := e.getSecret("/secret/" + esc(out.Path))
		if !metadataEqual(got.Metadata, out.Metadata) {
			t.Errorf("GET after create: metadata %+v, want %+v", got.Metadata, out.Metadata)
		}
	}
}

func metadataEqual(a, b api.SecretMetadata) bool { return reflect.DeepEqual(a, b) }

// readsBack checks the data of the current version of path.
func readsBack(path, data string) func(*testing.T, *env, *response) {
	return func(t *testing.T, e *env, _ *response) {
		t.Helper()
		got := e.getSecret("/secret/" + esc(path) + "?includeData=true")
		wantData(t, "GET "+path, got.Version, data)
	}
}

func TestCreateSecret(t *testing.T) {
	t.Parallel()
	exists := func(e *env) { e.CreateSecret("prod/db", `{"v":1}`) }
	cases := []apiCase{
		{Name: "200/the example of the spec", Body: specCreateBody, Status: 200, Golden: "secret_create",
			Check: func(t *testing.T, e *env, r *response) {
				noMember(t, r, "version")
				out := wiretest.DecodeBody[api.SecretResponse](t, r)
				want(t, "path", out.Path, "prod/database/MySQL")
				m := out.Metadata
				want(t, "casRequired", m.CasRequired, true)
				want(t, "maxVersions", m.MaxVersions, 5)
				want(t, "deactivateVersionAfter", m.DeactivateVersionAfter, "30d")
				want(t, "customMetadata", fmt.Sprint(m.CustomMetadata), "map[team:dba]")
				want(t, "currentVersion", m.CurrentVersion, 1)
				want(t, "oldestVersion", m.OldestVersion, 0)
				want(t, "createdAt", m.CreatedAt, at(0))
				want(t, "updatedAt", m.UpdatedAt, at(0))
				want(t, "urn", m.URN, "urn:v1:eu:resource:okms:"+e.Domain+"/secret/prod%2Fdatabase%2FMySQL")
				if out.Warnings != nil {
					t.Errorf("warnings = %q, want null", out.Warnings)
				}
				readsBack("prod/database/MySQL", `{"login":"admin","password":"s3cr3t","ports":[3306,33060]}`)(t, e, r)
			}},
		{Name: "200/minimal body takes the defaults", Body: createBody("a", `{}`), Status: 200,
			Check: createdWith(func(t *testing.T, m api.SecretMetadata) {
				want(t, "casRequired", m.CasRequired, false)
				want(t, "maxVersions", m.MaxVersions, 0)
				want(t, "deactivateVersionAfter", m.DeactivateVersionAfter, "0s")
				want(t, "customMetadata", fmt.Sprint(m.CustomMetadata), "map[]")
				want(t, "currentVersion", m.CurrentVersion, 1)
			})},
		{Name: "200/customMetadata {} is the initial empty map", Body: createMeta(`{"customMetadata":{}}`), Status: 200,
			Check: func(t *testing.T, e *env, r *response) {
				if !strings.Contains(string(r.Body), `"customMetadata":{}`) {
					t.Errorf("body %s, want customMetadata {}", r.Body)
				}
			}},
		{Name: "200/data kept verbatim: key order and number literals",
			Body:   createBody("a", `{ "z": 1.50, "a": [true, null, {"n": 12345678901234567890}], "m": {}, "s": "\u00e9\n" }`),
			Status: 200, Check: readsBack("a", `{"z":1.50,"a":[true,null,{"n":12345678901234567890}],"m":{},"s":"\u00e9\n"}`)},
		{Name: "200/data null is the empty object", Body: createBody("a", `null`), Status: 200, Check: readsBack("a", `{}`)},
		{Name: "200/members of the answers are ignored", Status: 200,
			Body:  `{"path":"a","iam":{"x":1},"version":{"data":{"k":"v"},"warnings":[]},"metadata":{"urn":"x"}}`,
			Check: readsBack("a", `{"k":"v"}`)},
		{Name: "200/a Content-Type other than a form is decoded as JSON", Body: createBody("a", `{"k":"v"}`), Status: 200,
			Header: map[string]string{"Content-Type": "text/plain"}, Check: readsBack("a", `{"k":"v"}`)},
		{Name: "200/no Content-Type is decoded as JSON", Body: createBody("a", `{"k":"v"}`), Status: 200,
			Header: map[string]string{"Content-Type": ""}, Check: readsBack("a", `{"k":"v"}`)},
		{Name: "200/body of exactly 1 MiB", Status: 200,
			Body: func() string {
				b := `{"path":"a","version":{"data":{}},"warnings":"`
				return b + strings.Repeat("x", 1<<20-len(b)-2) + `"}`
			}()},
		{Name: "200/data of 65,536 bytes", Body: createBody("a", dataOfSize(65536)), Status: 200,
			Check: readsBack("a", dataOfSize(65536))},
		{Name: "200/data size counts compact JSON", Status: 200,
			Body:  createBody("a", "{\n  \"k\" :  \""+strings.Repeat("x", 65528)+"\"\n}"),
			Check: readsBack("a", dataOfSize(65536))},
		{Name: "400/data of 65,537 bytes", Body: createBody("a", dataOfSize(65537)), Status: 400,
			Err: "SecretDataMaxExceeded", Golden: "error_SecretDataMaxExceeded"},
		{Name: "200/data nested 64 levels", Body: createBody("a", nested(64)), Status: 200, Check: readsBack("a", nested(64))},
		{Name: "400/data nested 65 levels", Body: createBody("a", nested(65)), Status: 400, Err: "SecretDataInvalidKeyValueJson"},
		{Name: "400/data nested 200 levels", Body: createBody("a", nested(200)), Status: 400, Err: "SecretDataInvalidKeyValueJson"},
		{Name: "400/data is an array", Body: createBody("a", `[1,2]`), Status: 400, Err: "SecretDataInvalidKeyValueJson",
			Golden: "error_SecretDataInvalidKeyValueJson"},
		{Name: "400/data is a string", Body: createBody("a", `"x"`), Status: 400, Err: "SecretDataInvalidKeyValueJson"},
		{Name: "400/data is a number", Body: createBody("a", `42`), Status: 400, Err: "SecretDataInvalidKeyValueJson"},
		{Name: "400/data is a boolean", Body: createBody("a", `true`), Status: 400, Err: "SecretDataInvalidKeyValueJson"},
		{Name: "400/duplicate key in data", Body: createBody("a", `{"k":1,"k":2}`), Status: 400, Err: "SecretDataInvalidKeyValueJson"},
		{Name: "400/duplicate key deep in data", Body: createBody("a", `{"a":[{"b":{"k":1,"k":1}}]}`), Status: 400,
			Err: "SecretDataInvalidKeyValueJson"},
		{Name: "400/empty top-level key in data", Body: createBody("a", `{"":1}`), Status: 400, Err: "SecretDataInvalidKeyValueJson"},
		{Name: "200/empty key below the top level", Body: createBody("a", `{"a":{"":1}}`), Status: 200,
			Check: readsBack("a", `{"a":{"":1}}`)},
		{Name: "400/invalid UTF-8 in data", Body: createBody("a", "{\"k\":\"\xff\"}"), Status: 400, Err: "SecretDataInvalidKeyValueJson"},
		{Name: "400/duplicate path member", Body: `{"path":"a","path":"b","version":{"data":{}}}`, Status: 400,
			Err: "RequestBodyInvalidJson"},
		{Name: "400/duplicate version member", Body: `{"path":"a","version":{"data":{}},"version":{"data":{}}}`, Status: 400,
			Err: "RequestBodyInvalidJson"},
		{Name: "400/path is not a string", Body: `{"path":5,"version":{"data":{}}}`, Status: 400, Err: "RequestBodyInvalidJson"},
		{Name: "400/maxVersions is not an integer", Body: createMeta(`{"maxVersions":1.5}`), Status: 400,
			Err: "RequestBodyInvalidJson"},
		{Name: "400/missing path", Body: `{"version":{"data":{}}}`, Status: 400, Err: "SecretFieldRequired",
			Golden: "error_SecretFieldRequired"},
		{Name: "400/empty path", Body: createBody("", `{}`), Status: 400, Err: "SecretFieldRequired"},
		{Name: "400/null path", Body: `{"path":null,"version":{"data":{}}}`, Status: 400, Err: "SecretFieldRequired"},
		{Name: "400/missing version", Body: `{"path":"a"}`, Status: 400, Err: "SecretFieldRequired"},
		{Name: "400/null version", Body: `{"path":"a","version":null}`, Status: 400, Err: "SecretFieldRequired"},
		{Name: "400/version without data", Body: `{"path":"a","version":{}}`, Status: 400, Err: "SecretFieldRequired"},
		{Name: "400/path with a space", Body: createBody("prod db", `{}`), Status: 400, Err: "SecretPathInvalidCharacter",
			Golden: "error_SecretPathInvalidCharacter"},
		{Name: "400/percent-encoded path in the body", Body: createBody("prod%2Fdb", `{}`), Status: 400,
			Err: "SecretPathInvalidCharacter"},
		{Name: "400/path starting with /", Body: createBody("/prod", `{}`), Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/path ending with /", Body: createBody("prod/", `{}`), Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/path with //", Body: createBody("prod//db", `{}`), Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/path with a . segment", Body: createBody("prod/./db", `{}`), Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/path with a .. segment", Body: createBody("prod/../db", `{}`), Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/path that is ..", Body: createBody("..", `{}`), Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/non-ASCII path", Body: createBody("pr\u00e9d", `{}`), Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "200/path with every allowed character", Body: createBody("AZaz09_.:=@-/a..b/.../x", `{}`), Status: 200,
			Check: readsBack("AZaz09_.:=@-/a..b/.../x", `{}`)},
		{Name: "200/path of 255 characters", Body: createBody(pathOfLen(255), `{}`), Status: 200,
			Check: readsBack(pathOfLen(255), `{}`)},
		{Name: "400/path of 256 characters", Body: createBody(pathOfLen(256), `{}`), Status: 400,
			Err: "SecretPathMaxExceeded", Golden: "error_SecretPathMaxExceeded"},
		{Name: "409/path exists", Setup: exists, Body: createBody("prod/db", `{"v":2}`), Status: 409,
			Err: "SecretAlreadyExists", Golden: "error_SecretAlreadyExists"},
		{Name: "409/path exists with every version deleted", Body: createBody("prod/db", `{"v":2}`), Status: 409,
			Err: "SecretAlreadyExists", Setup: func(e *env) {
				exists(e)
				e.SetVersionState("prod/db", 1, "deleted")
			}},
		{Name: "409/path exists with its version deactivated", Body: createBody("prod/db", `{"v":2}`), Status: 409,
			Err: "SecretAlreadyExists", Setup: func(e *env) {
				exists(e)
				e.SetVersionState("prod/db", 1, "deactivated")
			}},
		{Name: "200/a deleted path is created anew at version 1", Body: createBody("prod/db", `{"v":"new"}`), Status: 200,
			Setup: func(e *env) {
				exists(e)
				e.writeN("prod/db", 3)
				e.Must("DELETE", "/secret/prod%2Fdb", "")
			},
			Check: func(t *testing.T, e *env, r *response) {
				want(t, "currentVersion", wiretest.DecodeBody[api.SecretResponse](t, r).Metadata.CurrentVersion, 1)
				wantIDs(t, "versions", e.versionIDs("prod/db"), []uint32{1})
				readsBack("prod/db", `{"v":"new"}`)(t, e, r)
			}},
		{Name: "200/a prefix of an existing path is another secret", Setup: exists, Body: createBody("prod", `{}`), Status: 200},
		{Name: "200/maxVersions 24000", Body: createMeta(`{"maxVersions":24000}`), Status: 200,
			Check: createdWith(func(t *testing.T, m api.SecretMetadata) { want(t, "maxVersions", m.MaxVersions, 24000) })},
		{Name: "400/maxVersions -1", Body: createMeta(`{"maxVersions":-1}`), Status: 400, Err: "SecretMaxVersionsMinRequired",
			Golden: "error_SecretMaxVersionsMinRequired"},
		{Name: "400/maxVersions 24001", Body: createMeta(`{"maxVersions":24001}`), Status: 400,
			Err: "SecretMaxVersionsMaxExceeded", Golden: "error_SecretMaxVersionsMaxExceeded"},
		{Name: "200/deactivateVersionAfter 1d is echoed as 1d", Body: createMeta(`{"deactivateVersionAfter":"1d"}`), Status: 200,
			Check: createdWith(func(t *testing.T, m api.SecretMetadata) {
				want(t, "deactivateVersionAfter", m.DeactivateVersionAfter, "1d")
			})},
		{Name: "200/deactivateVersionAfter 10h30m10s is echoed as given", Body: createMeta(`{"deactivateVersionAfter":"10h30m10s"}`),
			Status: 200, Check: createdWith(func(t *testing.T, m api.SecretMetadata) {
				want(t, "deactivateVersionAfter", m.DeactivateVersionAfter, "10h30m10s")
			})},
		{Name: "400/deactivateVersionAfter 1.5h", Body: createMeta(`{"deactivateVersionAfter":"1.5h"}`), Status: 400,
			Err: "SecretDeactivateVersionAfterInvalidDuration", Golden: "error_SecretDeactivateVersionAfterInvalidDuration"},
		{Name: "400/deactivateVersionAfter empty", Body: createMeta(`{"deactivateVersionAfter":""}`), Status: 400,
			Err: "SecretDeactivateVersionAfterInvalidDuration"},
		{Name: "400/deactivateVersionAfter negative", Body: createMeta(`{"deactivateVersionAfter":"-1s"}`), Status: 400,
			Err: "SecretDeactivateVersionAfterInvalidDuration"},
		{Name: "400/deactivateVersionAfter in milliseconds", Body: createMeta(`{"deactivateVersionAfter":"500ms"}`), Status: 400,
			Err: "SecretDeactivateVersionAfterInvalidDuration"},
		{Name: "200/deactivateVersionAfter of 100 years", Body: createMeta(`{"deactivateVersionAfter":"36500d"}`), Status: 200},
		{Name: "200/a cas query parameter is ignored on create", Target: "/secret?cas=5", Body: createBody("a", `{}`), Status: 200},
		{Name: "400/deactivateVersionAfter over 100 years", Body: createMeta(`{"deactivateVersionAfter":"36501d"}`), Status: 400,
			Err: "SecretDeactivateVersionAfterInvalidDuration"},
		{Name: "200/64 custom metadata entries", Body: createMeta(`{"customMetadata":` + manyMetadata(64) + `}`), Status: 200},
		{Name: "200/custom metadata key of 128 and value of 512 characters", Status: 200,
			Body: createMeta(fmt.Sprintf(`{"customMetadata":{%q:%q}}`, strings.Repeat("k", 128), strings.Repeat("v", 512)))},
		{Name: "200/custom metadata with every allowed character", Status: 200,
			Body: createMeta(`{"customMetadata":{"AZaz09_.:/=@%-":"AZaz09_.:/=@%-"}}`),
			Check: createdWith(func(t *testing.T, m api.SecretMetadata) {
				want(t, "customMetadata", m.CustomMetadata["AZaz09_.:/=@%-"], "AZaz09_.:/=@%-")
			})},
		{Name: "400/65 custom metadata entries", Body: createMeta(`{"customMetadata":` + manyMetadata(65) + `}`), Status: 400,
			Err: "SecretCustomMetadataMaxExceeded", Golden: "error_SecretCustomMetadataMaxExceeded"},
		{Name: "400/empty custom metadata key", Body: createMeta(`{"customMetadata":{"":"v"}}`), Status: 400,
			Err: "SecretCustomMetadataKeyMinRequired", Golden: "error_SecretCustomMetadataKeyMinRequired"},
		{Name: "400/custom metadata key of 129 characters", Status: 400,
			Body: createMeta(fmt.Sprintf(`{"customMetadata":{%q:"v"}}`, strings.Repeat("k", 129))),
			Err:  "SecretCustomMetadataKeyMaxExceeded", Golden: "error_SecretCustomMetadataKeyMaxExceeded"},
		{Name: "400/custom metadata key with a space", Body: createMeta(`{"customMetadata":{"a b":"v"}}`), Status: 400,
			Err: "SecretCustomMetadataKeyInvalidCharacter", Golden: "error_SecretCustomMetadataKeyInvalidCharacter"},
		{Name: "400/empty custom metadata value", Body: createMeta(`{"customMetadata":{"k":""}}`), Status: 400,
			Err: "SecretCustomMetadataValueMinRequired", Golden: "error_SecretCustomMetadataValueMinRequired"},
		{Name: "400/custom metadata value of 513 characters", Status: 400,
			Body: createMeta(fmt.Sprintf(`{"customMetadata":{"k":%q}}`, strings.Repeat("v", 513))),
			Err:  "SecretCustomMetadataValueMaxExceeded", Golden: "error_SecretCustomMetadataValueMaxExceeded"},
		{Name: "400/custom metadata value with a space", Body: createMeta(`{"customMetadata":{"k":"a b"}}`), Status: 400,
			Err: "SecretCustomMetadataValueInvalidCharacter", Golden: "error_SecretCustomMetadataValueInvalidCharacter"},
		{Name: "400/custom metadata value that is not a string", Body: createMeta(`{"customMetadata":{"k":1}}`), Status: 400,
			Err: "RequestBodyInvalidJson"},
		{Name: "400/every violation is listed, the first one names the error", Status: 400, Err: "SecretPathInvalidCharacter",
			Body: `{"path":"a b","metadata":{"maxVersions":-1,"deactivateVersionAfter":"x","customMetadata":{"k":""}},"version":{"data":[]}}`,
			Check: func(t *testing.T, e *env, r *response) {
				if got := errorOf(t, r).Errors; len(got) != 5 {
					t.Errorf("errors = %q, want 5 messages (path, data, maxVersions, duration, custom metadata)", got)
				}
			}},
	}
	for i := range cases {
		cases[i].Target = cmp.Or(cases[i].Target, "/secret")
	}
	cases = append(cases, commonCases(nil, "/secret", createBody("prod/db", `{}`), 200, false)...)
	cases = append(cases, bodyCases(nil, "/secret", false)...)
	runCases(t, "POST", cases)
}

// seedDB creates prod/db with {"v":1} at t0 and {"v":2} one minute later.
func seedDB(e *env) {
	e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"customMetadata":{"team":"dba"}}`)
	e.Clock.Advance(time.Minute)
	e.WriteSecret("prod/db", `{"v":2}`)
}

func TestGetSecret(t *testing.T) {
	t.Parallel()
	secretVersion := func(id uint32, state, data string) func(*testing.T, *env, *response) {
		return func(t *testing.T, e *env, r *response) {
			got := wiretest.DecodeBody[api.GetSecretResponse](t, r)
			if got.Version == nil {
				t.Fatalf("no version member: %s", r.Body)
			}
			want(t, "version.id", got.Version.ID, id)
			want(t, "version.state", got.Version.State, state)
			wantData(t, "version", got.Version, data)
		}
	}
	withVersionState := func(id int, state string) func(*env) {
		return func(e *env) {
			seedDB(e)
			e.Clock.Advance(time.Hour)
			e.SetVersionState("prod/db", id, state)
		}
	}
	scheduled := func(dva string) func(*env) {
		return func(e *env) {
			e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"deactivateVersionAfter":"`+dva+`"}`)
		}
	}
	cases := []apiCase{
		{Name: "200/current version without data", Setup: seedDB, Target: "/secret/prod%2Fdb", Status: 200,
			Golden: "secret_get", Check: func(t *testing.T, e *env, r *response) {
				secretVersion(2, "active", "")(t, e, r)
				got := wiretest.DecodeBody[api.GetSecretResponse](t, r)
				want(t, "createdAt", got.Metadata.CreatedAt, at(0))
				want(t, "updatedAt", got.Metadata.UpdatedAt, at(time.Minute))
				want(t, "version.createdAt", got.Version.CreatedAt, at(time.Minute))
				if got.Version.DeactivatedAt != nil {
					t.Errorf("deactivatedAt = %q, want null", *got.Version.DeactivatedAt)
				}
			}},
		{Name: "200/includeData=true", Setup: seedDB, Target: "/secret/prod%2Fdb?includeData=true", Status: 200,
			Golden: "secret_get_data", Check: secretVersion(2, "active", `{"v":2}`)},
		{Name: "200/includeData=false", Setup: seedDB, Target: "/secret/prod%2Fdb?includeData=false", Status: 200,
			Check: secretVersion(2, "active", "")},
		{Name: "200/version=1 with data", Setup: seedDB, Target: "/secret/prod%2Fdb?version=1&includeData=true", Status: 200,
			Check: secretVersion(1, "active", `{"v":1}`)},
		{Name: "200/includeData on a deactivated version: its state, no data", Setup: withVersionState(2, "deactivated"),
			Target: "/secret/prod%2Fdb?includeData=true", Status: 200, Check: func(t *testing.T, e *env, r *response) {
				secretVersion(2, "deactivated", "")(t, e, r)
				want(t, "deactivatedAt", *wiretest.DecodeBody[api.GetSecretResponse](t, r).Version.DeactivatedAt, at(time.Minute+time.Hour))
			}},
		{Name: "200/includeData on a deleted version: its state, no data", Setup: withVersionState(1, "deleted"),
			Target: "/secret/prod%2Fdb?version=1&includeData=true", Status: 200, Check: secretVersion(1, "deleted", "")},
		{Name: "400/includeData=notabool", Setup: seedDB, Target: "/secret/prod%2Fdb?includeData=notabool", Status: 400,
			Err: "QueryParameterInvalid", Golden: "error_QueryParameterInvalid"},
		{Name: "400/version=abc", Setup: seedDB, Target: "/secret/prod%2Fdb?version=abc", Status: 400, Err: "QueryParameterInvalid"},
		{Name: "400/version=0", Setup: seedDB, Target: "/secret/prod%2Fdb?version=0", Status: 400,
			Err: "SecretVersionMinRequired", Golden: "error_SecretVersionMinRequired"},
		{Name: "400/version=-1", Setup: seedDB, Target: "/secret/prod%2Fdb?version=-1", Status: 400, Err: "SecretVersionMinRequired"},
		{Name: "400/version=24001", Setup: seedDB, Target: "/secret/prod%2Fdb?version=24001", Status: 400,
			Err: "SecretVersionMaxExceeded", Golden: "error_SecretVersionMaxExceeded"},
		{Name: "400/version beyond 64 bits", Setup: seedDB, Target: "/secret/prod%2Fdb?version=99999999999999999999999", Status: 400,
			Err: "SecretVersionMaxExceeded"},
		{Name: "400/version below -2^63", Setup: seedDB, Target: "/secret/prod%2Fdb?version=-99999999999999999999999", Status: 400,
			Err: "SecretVersionMinRequired"},
		{Name: "400/version=1.0", Setup: seedDB, Target: "/secret/prod%2Fdb?version=1.0", Status: 400, Err: "QueryParameterInvalid"},
		{Name: "404/unknown secret", Target: "/secret/prod%2Fdb", Status: 404, Err: "SecretNotFound", Golden: "error_SecretNotFound"},
		{Name: "404/version that never existed", Setup: seedDB, Target: "/secret/prod%2Fdb?version=3", Status: 404,
			Err: "SecretVersionNotFound", Golden: "error_SecretVersionNotFound"},
		{Name: "404/pruned version", Target: "/secret/prod%2Fdb?version=1", Status: 404, Err: "SecretVersionNotFound",
			Setup: func(e *env) {
				e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"maxVersions":1}`)
				e.WriteSecret("prod/db", `{"v":2}`)
			}},
		{Name: "200/a scheduled deactivation not yet reached is invisible", Target: "/secret/prod%2Fdb?includeData=true",
			Status: 200, Setup: func(e *env) {
				scheduled("1h")(e)
				e.Clock.Advance(time.Hour - time.Second)
			}, Check: func(t *testing.T, e *env, r *response) {
				secretVersion(1, "active", `{"v":1}`)(t, e, r)
				if d := wiretest.DecodeBody[api.GetSecretResponse](t, r).Version.DeactivatedAt; d != nil {
					t.Errorf("deactivatedAt = %q, want null", *d)
				}
			}},
		{Name: "200/deactivated automatically after deactivateVersionAfter", Target: "/secret/prod%2Fdb?includeData=true",
			Status: 200, Setup: func(e *env) {
				scheduled("1h")(e)
				e.Clock.Advance(time.Hour)
			}, Check: func(t *testing.T, e *env, r *response) {
				secretVersion(1, "deactivated", "")(t, e, r)
				want(t, "deactivatedAt", *wiretest.DecodeBody[api.GetSecretResponse](t, r).Version.DeactivatedAt, at(time.Hour))
			}},
		{Name: "200/the domain's deactivateVersionAfter applies", Target: "/secret/prod%2Fdb?includeData=true",
			Status: 200, Setup: func(e *env) {
				e.Must("PUT", "/secretConfig", `{"deactivateVersionAfter":"2h"}`)
				e.CreateSecret("prod/db", `{"v":1}`)
				e.Clock.Advance(2 * time.Hour)
			}, Check: secretVersion(1, "deactivated", "")},
		{Name: "200/raw-slash path", Setup: seedDB, Target: "/secret/prod/db", Status: 200, Check: secretVersion(2, "active", "")},
		{Name: "200/last segment named version, encoded", Target: "/secret/prod%2Fversion?includeData=true", Status: 200,
			Setup: func(e *env) { e.CreateSecret("prod/version", `{"k":"v"}`) }, Check: secretVersion(1, "active", `{"k":"v"}`)},
		{Name: "200/encodeURIComponent path", Target: "/secret/app%2Fa%3Ab%3Dc%40d?includeData=true", Status: 200,
			Setup: func(e *env) { e.CreateSecret("app/a:b=c@d", `{"k":"v"}`) }, Check: secretVersion(1, "active", `{"k":"v"}`)},
		{Name: "400/double-encoded path", Setup: seedDB, Target: "/secret/prod%252Fdb", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/encoded space in the path", Target: "/secret/prod%20db", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/dot segment in the URL", Target: "/secret/prod/./db", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/dot-dot segment in the URL", Target: "/secret/prod/../db", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/empty segment in the URL", Target: "/secret/prod//db", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/trailing slash", Target: "/secret/prod%2Fdb/", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/empty path", Target: "/secret/", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "200/path of 255 characters", Target: "/secret/" + esc(pathOfLen(255)), Status: 200,
			Setup: func(e *env) { e.CreateSecret(pathOfLen(255), `{}`) }},
		{Name: "400/path of 256 characters", Target: "/secret/" + esc(pathOfLen(256)), Status: 400, Err: "SecretPathMaxExceeded"},
	}
	cases = append(cases, commonCases(seedDB, "/secret/prod%2Fdb", "", 200, false)...)
	runCases(t, "GET", cases)
}

// seedCAS creates prod/db (version 1) with casRequired set at secret level.
func seedCAS(e *env) {
	e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"casRequired":true}`)
}

// seedCASDomain creates prod/db (version 1) in a domain requiring CAS.
func seedCASDomain(e *env) {
	e.CreateSecret("prod/db", `{"v":1}`)
	e.Must("PUT", "/secretConfig", `{"casRequired":true}`)
}

var casMessage = regexp.MustCompile(`(?i)cas`)

// casRefused checks that the error message mentions cas (terraform's
// acceptance test matches it against /cas/i, okms-rest.md 3.3).
func casRefused(t *testing.T, _ *env, r *response) {
	t.Helper()
	for _, m := range errorOf(t, r).Errors {
		if !casMessage.MatchString(m) {
			t.Errorf("message %q does not match /cas/i", m)
		}
	}
}

// afterUpdate checks the answer to an update and what GET reads back.
func afterUpdate(current uint32, check func(t *testing.T, m api.SecretMetadata)) func(*testing.T, *env, *response) {
	return func(t *testing.T, e *env, r *response) {
		t.Helper()
		noMember(t, r, "version")
		out := wiretest.DecodeBody[api.SecretResponse](t, r)
		want(t, "currentVersion", out.Metadata.CurrentVersion, current)
		if check != nil {
			check(t, out.Metadata)
		}
		got := e.getSecret("/secret/" + esc(out.Path))
		if !metadataEqual(got.Metadata, out.Metadata) {
			t.Errorf("GET after update: metadata %+v, want %+v", got.Metadata, out.Metadata)
		}
	}
}

func TestUpdateSecret(t *testing.T) {
	t.Parallel()
	// seed: prod/db created at t0 with maxVersions 5 and team=dba, then the
	// clock moves one hour.
	seed := func(e *env) {
		e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"maxVersions":5,"customMetadata":{"team":"dba"}}`)
		e.Clock.Advance(time.Hour)
	}
	const target = "/secret/prod%2Fdb"
	newData := `{"version":{"data":{"v":2}}}`
	unchanged := func(t *testing.T, m api.SecretMetadata) {
		want(t, "updatedAt", m.UpdatedAt, at(0))
		want(t, "maxVersions", m.MaxVersions, 5)
		want(t, "customMetadata", fmt.Sprint(m.CustomMetadata), "map[team:dba]")
	}
	nVersions := func(n int, meta string) func(*env) {
		return func(e *env) {
			e.CreateSecret("p", `{"n":1}`, `"metadata":`+meta)
			for i := 2; i <= n; i++ {
				e.WriteSecret("p", fmt.Sprintf(`{"n":%d}`, i))
			}
		}
	}
	versionsAre := func(ids []uint32, oldest uint32) func(*testing.T, *env, *response) {
		return func(t *testing.T, e *env, r *response) {
			t.Helper()
			want(t, "oldestVersion", wiretest.DecodeBody[api.SecretResponse](t, r).Metadata.OldestVersion, oldest)
			wantIDs(t, "versions", e.versionIDs("p"), ids)
		}
	}
	cases := []apiCase{
		{Name: "200/new version", Setup: seed, Target: target, Body: newData, Status: 200, Golden: "secret_update",
			Check: func(t *testing.T, e *env, r *response) {
				afterUpdate(2, func(t *testing.T, m api.SecretMetadata) {
					want(t, "createdAt", m.CreatedAt, at(0))
					want(t, "updatedAt", m.UpdatedAt, at(time.Hour))
				})(t, e, r)
				if wiretest.DecodeBody[api.SecretResponse](t, r).Warnings != nil {
					t.Errorf("warnings: %s, want null", r.Body)
				}
				readsBack("prod/db", `{"v":2}`)(t, e, r)
				wantData(t, "version 1", ptr(e.getVersion("prod/db", 1)), `{"v":1}`)
			}},
		{Name: "200/identical data creates a version anyway", Setup: seed, Target: target, Body: `{"version":{"data":{"v":1}}}`,
			Status: 200, Check: afterUpdate(2, nil)},
		{Name: "200/metadata only creates no version", Setup: seed, Target: target, Body: `{"metadata":{"maxVersions":7}}`,
			Status: 200, Check: afterUpdate(1, func(t *testing.T, m api.SecretMetadata) {
				want(t, "maxVersions", m.MaxVersions, 7)
				want(t, "updatedAt", m.UpdatedAt, at(time.Hour))
			})},
		{Name: "200/metadata with nothing to change is a no-op", Setup: seed, Target: target, Body: `{"metadata":{}}`,
			Status: 200, Check: afterUpdate(1, unchanged)},
		{Name: "200/metadata setting the stored values is a no-op", Setup: seed, Target: target,
			Body: `{"metadata":{"maxVersions":5,"casRequired":false}}`, Status: 200, Check: afterUpdate(1, unchanged)},
		{Name: "200/customMetadata {} means no change", Setup: seed, Target: target, Body: `{"metadata":{"customMetadata":{}}}`,
			Status: 200, Check: afterUpdate(1, unchanged)},
		{Name: "200/customMetadata null means no change", Setup: seed, Target: target, Body: `{"metadata":{"customMetadata":null}}`,
			Status: 200, Check: afterUpdate(1, unchanged)},
		{Name: "200/customMetadata {} with data keeps the map", Setup: seed, Target: target,
			Body: `{"metadata":{"customMetadata":{}},"version":{"data":{"v":2}}}`, Status: 200,
			Check: afterUpdate(2, func(t *testing.T, m api.SecretMetadata) {
				want(t, "customMetadata", fmt.Sprint(m.CustomMetadata), "map[team:dba]")
			})},
		{Name: "200/non-empty customMetadata replaces the whole map", Setup: seed, Target: target,
			Body: `{"metadata":{"customMetadata":{"env":"prod"}}}`, Status: 200,
			Check: afterUpdate(1, func(t *testing.T, m api.SecretMetadata) {
				want(t, "customMetadata", fmt.Sprint(m.CustomMetadata), "map[env:prod]")
				want(t, "updatedAt", m.UpdatedAt, at(time.Hour))
			})},
		{Name: "200/absent metadata fields are unchanged", Setup: seed, Target: target, Body: `{"metadata":{"casRequired":true}}`,
			Status: 200, Check: afterUpdate(1, func(t *testing.T, m api.SecretMetadata) {
				want(t, "casRequired", m.CasRequired, true)
				want(t, "maxVersions", m.MaxVersions, 5)
				want(t, "customMetadata", fmt.Sprint(m.CustomMetadata), "map[team:dba]")
			})},
		{Name: "200/null metadata fields are unchanged", Setup: seed, Target: target, Status: 200,
			Body:  `{"metadata":{"casRequired":null,"maxVersions":null,"deactivateVersionAfter":null}}`,
			Check: afterUpdate(1, unchanged)},
		{Name: "200/deactivateVersionAfter 1d is echoed as 1d", Setup: seed, Target: target,
			Body: `{"metadata":{"deactivateVersionAfter":"1d"}}`, Status: 200,
			Check: afterUpdate(1, func(t *testing.T, m api.SecretMetadata) {
				want(t, "deactivateVersionAfter", m.DeactivateVersionAfter, "1d")
			})},
		{Name: "200/maxVersions 0 gives the setting back to the domain", Setup: seed, Target: target,
			Body: `{"metadata":{"maxVersions":0}}`, Status: 200,
			Check: afterUpdate(1, func(t *testing.T, m api.SecretMetadata) { want(t, "maxVersions", m.MaxVersions, 0) })},
		{Name: "200/changing deactivateVersionAfter keeps the stored schedules", Target: "/secret/p",
			Body: `{"metadata":{"deactivateVersionAfter":"10h"}}`, Status: 200,
			Setup: func(e *env) { e.CreateSecret("p", `{}`, `"metadata":{"deactivateVersionAfter":"1h"}`) },
			Check: func(t *testing.T, e *env, r *response) {
				e.WriteSecret("p", `{}`)
				e.Clock.Advance(time.Hour)
				want(t, "version 1 (scheduled before)", e.getVersion("p", 1).State, "deactivated")
				want(t, "version 2 (scheduled after)", e.getVersion("p", 2).State, "active")
			}},
		{Name: "400/neither metadata nor version", Setup: seed, Target: target, Body: `{}`, Status: 400, Err: "SecretFieldRequired"},
		{Name: "400/metadata and version both null", Setup: seed, Target: target, Body: `{"metadata":null,"version":null}`,
			Status: 400, Err: "SecretFieldRequired"},
		{Name: "400/version without data", Setup: seed, Target: target, Body: `{"version":{}}`, Status: 400, Err: "SecretFieldRequired"},
		{Name: "200/data null is the empty object", Setup: seed, Target: target, Body: `{"version":{"data":null}}`, Status: 200,
			Check: readsBack("prod/db", `{}`)},
		// Check-and-set (okms-rest.md 3.3).
		{Name: "200/cas equal to the current version", Setup: seed, Target: target + "?cas=1", Body: newData, Status: 200,
			Check: afterUpdate(2, nil)},
		{Name: "400/cas mismatch", Setup: seed, Target: target + "?cas=2", Body: newData, Status: 400, Err: "SecretCasMismatch",
			Golden: "error_SecretCasMismatch", Check: casRefused},
		{Name: "400/cas=0 on a secret that has a version", Setup: seed, Target: target + "?cas=0", Body: newData, Status: 400,
			Err: "SecretCasMismatch", Check: casRefused},
		{Name: "400/cas required by the secret", Setup: seedCAS, Target: target, Body: newData, Status: 400,
			Err: "SecretCasRequired", Golden: "error_SecretCasRequired", Check: casRefused},
		{Name: "400/cas required by secretConfig", Setup: seedCASDomain, Target: target, Body: newData, Status: 400,
			Err: "SecretCasRequired", Check: casRefused},
		{Name: "200/cas given while required by the secret", Setup: seedCAS, Target: target + "?cas=1", Body: newData, Status: 200,
			Check: afterUpdate(2, nil)},
		{Name: "200/cas given while required by secretConfig", Setup: seedCASDomain, Target: target + "?cas=1", Body: newData,
			Status: 200, Check: afterUpdate(2, nil)},
		{Name: "200/casRequired false in the same PUT applies first", Setup: seedCAS, Target: target, Status: 200,
			Body:  `{"metadata":{"casRequired":false},"version":{"data":{"v":2}}}`,
			Check: afterUpdate(2, func(t *testing.T, m api.SecretMetadata) { want(t, "casRequired", m.CasRequired, false) })},
		{Name: "400/casRequired true in the same PUT applies first", Setup: seed, Target: target, Status: 400,
			Body: `{"metadata":{"casRequired":true},"version":{"data":{"v":2}}}`, Err: "SecretCasRequired"},
		{Name: "400/casRequired false on the secret does not lift the domain's", Setup: seedCASDomain, Target: target,
			Body: `{"metadata":{"casRequired":false},"version":{"data":{"v":2}}}`, Status: 400, Err: "SecretCasRequired"},
		{Name: "400/a failed cas stores no metadata either", Setup: seed, Target: target + "?cas=7", Status: 400,
			Body: `{"metadata":{"casRequired":true,"maxVersions":1,"deactivateVersionAfter":"1d","customMetadata":{"x":"y"}},"version":{"data":{"v":2}}}`,
			Err:  "SecretCasMismatch"},
		{Name: "400/a missing cas stores no metadata either", Setup: seedCAS, Target: target, Status: 400,
			Body: `{"metadata":{"maxVersions":1,"customMetadata":{"x":"y"}},"version":{"data":{"v":2}}}`,
			Err:  "SecretCasRequired"},
		{Name: "200/metadata-only PUT is not subject to casRequired", Setup: seedCAS, Target: target,
			Body: `{"metadata":{"maxVersions":3}}`, Status: 200,
			Check: afterUpdate(1, func(t *testing.T, m api.SecretMetadata) { want(t, "maxVersions", m.MaxVersions, 3) })},
		{Name: "400/metadata-only PUT with a wrong cas", Setup: seed, Target: target + "?cas=5", Body: `{"metadata":{"maxVersions":3}}`,
			Status: 400, Err: "SecretCasMismatch"},
		{Name: "200/metadata-only PUT with the right cas", Setup: seed, Target: target + "?cas=1", Body: `{"metadata":{"maxVersions":3}}`,
			Status: 200, Check: afterUpdate(1, nil)},
		{Name: "400/cas=-1", Setup: seed, Target: target + "?cas=-1", Body: newData, Status: 400, Err: "SecretCasMinRequired",
			Golden: "error_SecretCasMinRequired"},
		{Name: "400/cas=24001", Setup: seed, Target: target + "?cas=24001", Body: newData, Status: 400,
			Err: "SecretCasMaxExceeded", Golden: "error_SecretCasMaxExceeded"},
		{Name: "400/cas=abc", Setup: seed, Target: target + "?cas=abc", Body: newData, Status: 400, Err: "QueryParameterInvalid"},
		{Name: "400/cas beyond 64 bits", Setup: seed, Target: target + "?cas=99999999999999999999999", Body: newData, Status: 400,
			Err: "SecretCasMaxExceeded"},
		{Name: "400/empty cas", Setup: seed, Target: target + "?cas=", Body: newData, Status: 400, Err: "QueryParameterInvalid"},
		// Retention (okms-rest.md 3.2).
		{Name: "200/oldestVersion is 0 up to maxVersions", Setup: nVersions(9, `{}`), Target: "/secret/p",
			Body: newData, Status: 200, Check: versionsAre(seq(10), 0)},
		{Name: "200/the 11th version prunes version 1", Setup: nVersions(10, `{}`), Target: "/secret/p",
			Body: newData, Status: 200, Check: func(t *testing.T, e *env, r *response) {
				versionsAre(seq(11)[1:], 2)(t, e, r)
				r = e.Call("GET", "/secret/p?version=1", "")
				r.Expect(t, 404, "SecretVersionNotFound")
			}},
		{Name: "200/maxVersions lowered in the same PUT prunes at once", Setup: nVersions(10, `{}`), Target: "/secret/p",
			Body: `{"metadata":{"maxVersions":2},"version":{"data":{"v":11}}}`, Status: 200,
			Check: versionsAre([]uint32{10, 11}, 10)},
		{Name: "200/lowering maxVersions alone prunes nothing", Setup: nVersions(5, `{}`), Target: "/secret/p",
			Body: `{"metadata":{"maxVersions":2}}`, Status: 200, Check: func(t *testing.T, e *env, r *response) {
				versionsAre(seq(5), 0)(t, e, r)
				e.WriteSecret("p", `{"n":6}`)
				wantIDs(t, "versions after the next write", e.versionIDs("p"), []uint32{5, 6})
			}},
		{Name: "200/deleted versions count as retained until pruned", Target: "/secret/p", Body: newData, Status: 200,
			Setup: func(e *env) {
				nVersions(2, `{"maxVersions":2}`)(e)
				e.SetVersionState("p", 2, "deleted")
			}, Check: func(t *testing.T, e *env, r *response) {
				versionsAre([]uint32{2, 3}, 2)(t, e, r)
				want(t, "version 2 state", e.getVersion("p", 2).State, "deleted")
			}},
		{Name: "404/unknown secret", Target: target, Body: newData, Status: 404, Err: "SecretNotFound"},
		{Name: "404/metadata-only update of an unknown secret", Target: target, Body: `{"metadata":{}}`, Status: 404, Err: "SecretNotFound"},
		// Data and metadata validation.
		{Name: "400/data is not an object", Setup: seed, Target: target, Body: `{"version":{"data":[1]}}`, Status: 400,
			Err: "SecretDataInvalidKeyValueJson"},
		{Name: "200/data of 65,536 bytes", Setup: seed, Target: target, Body: `{"version":{"data":` + dataOfSize(65536) + `}}`,
			Status: 200, Check: readsBack("prod/db", dataOfSize(65536))},
		{Name: "400/data of 65,537 bytes", Setup: seed, Target: target, Body: `{"version":{"data":` + dataOfSize(65537) + `}}`,
			Status: 400, Err: "SecretDataMaxExceeded"},
		{Name: "400/duplicate key in data", Setup: seed, Target: target, Body: `{"version":{"data":{"k":1,"k":1}}}`, Status: 400,
			Err: "SecretDataInvalidKeyValueJson"},
		{Name: "200/data nested 64 levels", Setup: seed, Target: target, Body: `{"version":{"data":` + nested(64) + `}}`, Status: 200},
		{Name: "400/data nested 65 levels", Setup: seed, Target: target, Body: `{"version":{"data":` + nested(65) + `}}`, Status: 400,
			Err: "SecretDataInvalidKeyValueJson"},
		{Name: "400/maxVersions 24001", Setup: seed, Target: target, Body: `{"metadata":{"maxVersions":24001}}`, Status: 400,
			Err: "SecretMaxVersionsMaxExceeded"},
		{Name: "400/invalid duration", Setup: seed, Target: target, Body: `{"metadata":{"deactivateVersionAfter":"1w"}}`, Status: 400,
			Err: "SecretDeactivateVersionAfterInvalidDuration"},
		{Name: "400/custom metadata value with a space", Setup: seed, Target: target,
			Body: `{"metadata":{"customMetadata":{"k":"a b"}}}`, Status: 400, Err: "SecretCustomMetadataValueInvalidCharacter"},
		{Name: "400/a bad metadata field refuses valid data", Setup: seed, Target: target,
			Body: `{"metadata":{"maxVersions":-1},"version":{"data":{"v":2}}}`, Status: 400, Err: "SecretMaxVersionsMinRequired"},
		{Name: "400/every violation is listed", Setup: seed, Target: target, Status: 400, Err: "SecretMaxVersionsMinRequired",
			Body: `{"metadata":{"maxVersions":-1,"deactivateVersionAfter":"x"},"version":{"data":"x"}}`,
			Check: func(t *testing.T, e *env, r *response) {
				if got := errorOf(t, r).Errors; len(got) != 3 {
					t.Errorf("errors = %q, want 3 messages", got)
				}
			}},
		// Addressing (okms-rest.md 1.2).
		{Name: "200/raw-slash path", Setup: seed, Target: "/secret/prod/db", Body: newData, Status: 200, Check: afterUpdate(2, nil)},
		{Name: "200/last segment named version, encoded", Target: "/secret/prod%2Fversion", Body: newData, Status: 200,
			Setup: func(e *env) {
				e.CreateSecret("prod", `{}`)
				e.CreateSecret("prod/version", `{}`)
			}, Check: func(t *testing.T, e *env, r *response) {
				want(t, "path", wiretest.DecodeBody[api.SecretResponse](t, r).Path, "prod/version")
				want(t, "prod currentVersion", e.getSecret("/secret/prod").Metadata.CurrentVersion, 1)
			}},
		{Name: "405/PUT on the version collection", Setup: seed, Target: "/secret/prod/db/version", Body: newData, Status: 405,
			Err: "MethodNotAllowed"},
		{Name: "400/double-encoded path", Setup: seed, Target: "/secret/prod%252Fdb", Body: newData, Status: 400,
			Err: "SecretPathInvalidCharacter"},
		{Name: "400/path of 256 characters", Target: "/secret/" + esc(pathOfLen(256)), Body: newData, Status: 400,
			Err: "SecretPathMaxExceeded"},
	}
	cases = append(cases, commonCases(seed, target, newData, 200, false)...)
	cases = append(cases, bodyCases(seed, target, false)...)
	runCases(t, "PUT", cases)
}

func TestDeleteSecret(t *testing.T) {
	t.Parallel()
	gone := func(path string) func(*testing.T, *env, *response) {
		return func(t *testing.T, e *env, _ *response) {
			t.Helper()
			e.Call("GET", "/secret/"+esc(path), "").Expect(t, 404, "SecretNotFound")
			e.Call("GET", "/secret/"+esc(path)+"/version", "").Expect(t, 404, "SecretNotFound")
			e.Call("GET", "/secret/"+esc(path)+"/version/1", "").Expect(t, 404, "SecretNotFound")
			for _, raw := range e.listAll("/secret") {
				if strings.Contains(string(raw), fmt.Sprintf(`"path":%q`, path)) {
					t.Errorf("%s is still listed", path)
				}
			}
		}
	}
	cases := []apiCase{
		{Name: "204/delete", Setup: seedDB, Target: "/secret/prod%2Fdb", Status: 204, Golden: "secret_delete",
			Check: func(t *testing.T, e *env, r *response) {
				gone("prod/db")(t, e, r)
				e.CreateSecret("prod/db", `{"v":"new"}`)
				want(t, "currentVersion after re-creation", e.getSecret("/secret/prod%2Fdb").Metadata.CurrentVersion, 1)
				wantData(t, "version 1 after re-creation", ptr(e.getVersion("prod/db", 1)), `{"v":"new"}`)
			}},
		{Name: "204/raw-slash path", Setup: seedDB, Target: "/secret/prod/db", Status: 204, Check: gone("prod/db")},
		{Name: "204/a secret with deactivated and deleted versions", Target: "/secret/prod%2Fdb", Status: 204,
			Setup: func(e *env) {
				seedDB(e)
				e.SetVersionState("prod/db", 1, "deleted")
				e.SetVersionState("prod/db", 2, "deactivated")
			}, Check: gone("prod/db")},
		{Name: "204/other secrets are untouched", Target: "/secret/prod%2Fdb", Status: 204,
			Setup: func(e *env) {
				e.CreateSecret("prod", `{}`)
				e.CreateSecret("prod/db", `{}`)
				e.CreateSecret("prod/db/x", `{}`)
				e.CreateSecret("prod/db2", `{}`)
			}, Check: func(t *testing.T, e *env, r *response) {
				gone("prod/db")(t, e, r)
				want(t, "secrets left", len(e.listAll("/secret")), 3)
			}},
		{Name: "204/last segment named version, encoded", Target: "/secret/prod%2Fversion", Status: 204,
			Setup: func(e *env) {
				e.CreateSecret("prod", `{}`)
				e.CreateSecret("prod/version", `{}`)
			}, Check: func(t *testing.T, e *env, r *response) {
				gone("prod/version")(t, e, r)
				e.Must("GET", "/secret/prod", "")
			}},
		{Name: "404/unknown secret", Target: "/secret/prod%2Fdb", Status: 404, Err: "SecretNotFound"},
		{Name: "404/deleted twice", Target: "/secret/prod%2Fdb", Status: 404, Err: "SecretNotFound",
			Setup: func(e *env) {
				seedDB(e)
				e.Must("DELETE", "/secret/prod%2Fdb", "")
			}},
		{Name: "405/DELETE on one version", Setup: seedDB, Target: "/secret/prod%2Fdb/version/1", Status: 405, Err: "MethodNotAllowed"},
		{Name: "405/DELETE on the version collection", Setup: seedDB, Target: "/secret/prod%2Fdb/version", Status: 405,
			Err: "MethodNotAllowed"},
		{Name: "405/DELETE on the secret list", Setup: seedDB, Target: "/secret", Status: 405, Err: "MethodNotAllowed"},
		{Name: "400/double-encoded path", Setup: seedDB, Target: "/secret/prod%252Fdb", Status: 400, Err: "SecretPathInvalidCharacter"},
		{Name: "400/path of 256 characters", Target: "/secret/" + esc(pathOfLen(256)), Status: 400, Err: "SecretPathMaxExceeded"},
	}
	cases = append(cases, commonCases(seedDB, "/secret/prod%2Fdb", "", 204, false)...)
	runCases(t, "DELETE", cases)
}

func TestListSecrets(t *testing.T) {
	t.Parallel()
	paths := func(t *testing.T, r *response) []string {
		t.Helper()
		var out []string
		for _, s := range wiretest.DecodeBody[[]api.GetSecretResponse](t, r) {
			out = append(out, s.Path)
		}
		return out
	}
	// Names whose creation order, natural order and byte-wise order differ.
	names := []string{"b", "app/10", "B", "a/b", "app/9", "a-b", "_x", "a", "a.b", "0", "Z/z", "a:b", "a=b", "a@b"}
	cases := []apiCase{
		{Name: "200/empty domain", Target: "/secret", Status: 200, Check: func(t *testing.T, e *env, r *response) {
			want(t, "body", string(r.Body), "[]")
			want(t, api.HeaderCursorNext, r.Header.Get(api.HeaderCursorNext), "")
		}},
		{Name: "200/each item with its current version, without data", Target: "/secret", Status: 200, Golden: "secret_list",
			Setup: func(e *env) {
				seedDB(e)
				e.Clock.Advance(time.Hour)
				e.CreateSecret("prod/api", `{"token":"t"}`, `"metadata":{"casRequired":true,"deactivateVersionAfter":"1d"}`)
				e.SetVersionState("prod/api", 1, "deactivated")
			}, Check: func(t *testing.T, e *env, r *response) {
				items := wiretest.DecodeBody[[]api.GetSecretResponse](t, r)
				if len(items) != 2 {
					t.Fatalf("%d items, want 2", len(items))
				}
				for _, s := range items {
					if s.Version == nil || s.Version.Data != nil {
						t.Errorf("%s: version %+v, want the current version without data", s.Path, s.Version)
					}
				}
				want(t, "prod/api state", items[0].Version.State, "deactivated")
				want(t, "prod/db version", items[1].Version.ID, 2)
			}},
		{Name: "200/sorted by path, byte-wise", Target: "/secret", Status: 200,
			Setup: func(e *env) {
				for _, n := range names {
					e.CreateSecret(n, `{}`)
				}
			}, Check: func(t *testing.T, e *env, r *response) {
				got, sorted := paths(t, r), slices.Clone(names)
				sort.Strings(sorted)
				if !slices.Equal(got, sorted) {
					t.Errorf("paths = %q, want %q", got, sorted)
				}
			}},
		{Name: "200/deleted secrets are absent", Target: "/secret", Status: 200,
			Setup: func(e *env) {
				e.CreateSecret("a", `{}`)
				e.CreateSecret("b", `{}`)
				e.CreateSecret("c", `{}`)
				e.Must("DELETE", "/secret/b", "")
			}, Check: func(t *testing.T, e *env, r *response) {
				if got := paths(t, r); !slices.Equal(got, []string{"a", "c"}) {
					t.Errorf("paths = %q, want [a c]", got)
				}
			}},
		{Name: "200/an automatically deactivated current version is shown deactivated", Target: "/secret", Status: 200,
			Setup: func(e *env) {
				e.CreateSecret("a", `{}`, `"metadata":{"deactivateVersionAfter":"1h"}`)
				e.Clock.Advance(2 * time.Hour)
			}, Check: func(t *testing.T, e *env, r *response) {
				v := wiretest.DecodeBody[[]api.GetSecretResponse](t, r)[0].Version
				want(t, "state", v.State, "deactivated")
				want(t, "deactivatedAt", *v.DeactivatedAt, at(time.Hour))
			}},
		{Name: "200/includeData is ignored", Setup: seedDB, Target: "/secret?includeData=true", Status: 200,
			Check: func(t *testing.T, e *env, r *response) {
				if strings.Contains(string(r.Body), `"data"`) {
					t.Errorf("list carries data: %s", r.Body)
				}
			}},
		{Name: "405/PUT on the secret list", Target: "/secret", Method: "PUT", Body: `{}`, Status: 405, Err: "MethodNotAllowed"},
	}
	cases = append(cases, commonCases(seedDB, "/secret", "", 200, false)...)
	runCases(t, "GET", cases)
}

// TestConcurrentWrites sends conflicting writes at once: each PUT or POST
// is one transaction (okms-rest.md 4.4), so none is lost or doubled.
func TestConcurrentWrites(t *testing.T) {
	t.Parallel()
	const n = 20
	// all sends n copies of rq at once and returns the statuses and bodies.
	all := func(t *testing.T, e *env, rq request) []*response {
		t.Helper()
		out := make([]*response, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { out[i], errs[i] = e.Try(rq) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		return out
	}
	count := func(rs []*response) map[int]int {
		m := map[int]int{}
		for _, r := range rs {
			m[r.Status]++
		}
		return m
	}
	t.Run("200/one of 20 creates of a path wins, the others get 409", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		got := count(all(t, e, request{Method: "POST", Target: "/secret", Body: createBody("race", `{}`)}))
		if got[200] != 1 || got[409] != n-1 {
			t.Errorf("statuses %v, want one 200 and %d 409", got, n-1)
		}
		want(t, "currentVersion", e.getSecret("/secret/race").Metadata.CurrentVersion, 1)
	})
	t.Run("200/20 versions added at once get 20 distinct ids", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.CreateSecret("race", `{}`, `"metadata":{"maxVersions":100}`)
		ids := map[uint32]bool{}
		for _, r := range all(t, e, request{Method: "POST", Target: "/secret/race/version", Body: `{"data":{}}`}) {
			r.Expect(t, 200, "")
			ids[wiretest.DecodeBody[api.SecretVersion](t, r).ID] = true
		}
		want(t, "distinct ids", len(ids), n)
		want(t, "currentVersion", e.getSecret("/secret/race").Metadata.CurrentVersion, n+1)
		wantIDs(t, "versions", e.versionIDs("race"), seq(n+1))
	})
	t.Run("200/one of 20 writes with cas=1 wins", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		e.CreateSecret("race", `{}`)
		rs := all(t, e, request{Method: "PUT", Target: "/secret/race?cas=1", Body: `{"version":{"data":{}}}`})
		got := count(rs)
		if got[200] != 1 || got[400] != n-1 {
			t.Errorf("statuses %v, want one 200 and %d 400", got, n-1)
		}
		for _, r := range rs {
			if r.Status == 400 {
				want(t, "error_id", errorOf(t, r).ErrorID, "SecretCasMismatch")
			}
		}
		want(t, "currentVersion", e.getSecret("/secret/race").Metadata.CurrentVersion, 2)
	})
}
