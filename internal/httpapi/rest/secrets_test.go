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
		out := decode[api.SecretResponse](t, r)
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
		{name: "200/the example of the spec", body: specCreateBody, status: 200, golden: "secret_create",
			check: func(t *testing.T, e *env, r *response) {
				noMember(t, r, "version")
				out := decode[api.SecretResponse](t, r)
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
				want(t, "urn", m.URN, "urn:v1:eu:resource:okms:"+e.domain+"/secret/prod%2Fdatabase%2FMySQL")
				if out.Warnings != nil {
					t.Errorf("warnings = %q, want null", out.Warnings)
				}
				readsBack("prod/database/MySQL", `{"login":"admin","password":"s3cr3t","ports":[3306,33060]}`)(t, e, r)
			}},
		{name: "200/minimal body takes the defaults", body: createBody("a", `{}`), status: 200,
			check: createdWith(func(t *testing.T, m api.SecretMetadata) {
				want(t, "casRequired", m.CasRequired, false)
				want(t, "maxVersions", m.MaxVersions, 0)
				want(t, "deactivateVersionAfter", m.DeactivateVersionAfter, "0s")
				want(t, "customMetadata", fmt.Sprint(m.CustomMetadata), "map[]")
				want(t, "currentVersion", m.CurrentVersion, 1)
			})},
		{name: "200/customMetadata {} is the initial empty map", body: createMeta(`{"customMetadata":{}}`), status: 200,
			check: func(t *testing.T, e *env, r *response) {
				if !strings.Contains(string(r.Body), `"customMetadata":{}`) {
					t.Errorf("body %s, want customMetadata {}", r.Body)
				}
			}},
		{name: "200/data kept verbatim: key order and number literals",
			body:   createBody("a", `{ "z": 1.50, "a": [true, null, {"n": 12345678901234567890}], "m": {}, "s": "\u00e9\n" }`),
			status: 200, check: readsBack("a", `{"z":1.50,"a":[true,null,{"n":12345678901234567890}],"m":{},"s":"\u00e9\n"}`)},
		{name: "200/data null is the empty object", body: createBody("a", `null`), status: 200, check: readsBack("a", `{}`)},
		{name: "200/members of the answers are ignored", status: 200,
			body:  `{"path":"a","iam":{"x":1},"version":{"data":{"k":"v"},"warnings":[]},"metadata":{"urn":"x"}}`,
			check: readsBack("a", `{"k":"v"}`)},
		{name: "200/a Content-Type other than a form is decoded as JSON", body: createBody("a", `{"k":"v"}`), status: 200,
			header: map[string]string{"Content-Type": "text/plain"}, check: readsBack("a", `{"k":"v"}`)},
		{name: "200/no Content-Type is decoded as JSON", body: createBody("a", `{"k":"v"}`), status: 200,
			header: map[string]string{"Content-Type": ""}, check: readsBack("a", `{"k":"v"}`)},
		{name: "200/body of exactly 1 MiB", status: 200,
			body: func() string {
				b := `{"path":"a","version":{"data":{}},"warnings":"`
				return b + strings.Repeat("x", 1<<20-len(b)-2) + `"}`
			}()},
		{name: "200/data of 65,536 bytes", body: createBody("a", dataOfSize(65536)), status: 200,
			check: readsBack("a", dataOfSize(65536))},
		{name: "200/data size counts compact JSON", status: 200,
			body:  createBody("a", "{\n  \"k\" :  \""+strings.Repeat("x", 65528)+"\"\n}"),
			check: readsBack("a", dataOfSize(65536))},
		{name: "400/data of 65,537 bytes", body: createBody("a", dataOfSize(65537)), status: 400,
			errID: "SecretDataMaxExceeded", golden: "error_SecretDataMaxExceeded"},
		{name: "200/data nested 64 levels", body: createBody("a", nested(64)), status: 200, check: readsBack("a", nested(64))},
		{name: "400/data nested 65 levels", body: createBody("a", nested(65)), status: 400, errID: "SecretDataInvalidKeyValueJson"},
		{name: "400/data nested 200 levels", body: createBody("a", nested(200)), status: 400, errID: "SecretDataInvalidKeyValueJson"},
		{name: "400/data is an array", body: createBody("a", `[1,2]`), status: 400, errID: "SecretDataInvalidKeyValueJson",
			golden: "error_SecretDataInvalidKeyValueJson"},
		{name: "400/data is a string", body: createBody("a", `"x"`), status: 400, errID: "SecretDataInvalidKeyValueJson"},
		{name: "400/data is a number", body: createBody("a", `42`), status: 400, errID: "SecretDataInvalidKeyValueJson"},
		{name: "400/data is a boolean", body: createBody("a", `true`), status: 400, errID: "SecretDataInvalidKeyValueJson"},
		{name: "400/duplicate key in data", body: createBody("a", `{"k":1,"k":2}`), status: 400, errID: "SecretDataInvalidKeyValueJson"},
		{name: "400/duplicate key deep in data", body: createBody("a", `{"a":[{"b":{"k":1,"k":1}}]}`), status: 400,
			errID: "SecretDataInvalidKeyValueJson"},
		{name: "400/empty top-level key in data", body: createBody("a", `{"":1}`), status: 400, errID: "SecretDataInvalidKeyValueJson"},
		{name: "200/empty key below the top level", body: createBody("a", `{"a":{"":1}}`), status: 200,
			check: readsBack("a", `{"a":{"":1}}`)},
		{name: "400/invalid UTF-8 in data", body: createBody("a", "{\"k\":\"\xff\"}"), status: 400, errID: "SecretDataInvalidKeyValueJson"},
		{name: "400/duplicate path member", body: `{"path":"a","path":"b","version":{"data":{}}}`, status: 400,
			errID: "RequestBodyInvalidJson"},
		{name: "400/duplicate version member", body: `{"path":"a","version":{"data":{}},"version":{"data":{}}}`, status: 400,
			errID: "RequestBodyInvalidJson"},
		{name: "400/path is not a string", body: `{"path":5,"version":{"data":{}}}`, status: 400, errID: "RequestBodyInvalidJson"},
		{name: "400/maxVersions is not an integer", body: createMeta(`{"maxVersions":1.5}`), status: 400,
			errID: "RequestBodyInvalidJson"},
		{name: "400/missing path", body: `{"version":{"data":{}}}`, status: 400, errID: "SecretFieldRequired",
			golden: "error_SecretFieldRequired"},
		{name: "400/empty path", body: createBody("", `{}`), status: 400, errID: "SecretFieldRequired"},
		{name: "400/null path", body: `{"path":null,"version":{"data":{}}}`, status: 400, errID: "SecretFieldRequired"},
		{name: "400/missing version", body: `{"path":"a"}`, status: 400, errID: "SecretFieldRequired"},
		{name: "400/null version", body: `{"path":"a","version":null}`, status: 400, errID: "SecretFieldRequired"},
		{name: "400/version without data", body: `{"path":"a","version":{}}`, status: 400, errID: "SecretFieldRequired"},
		{name: "400/path with a space", body: createBody("prod db", `{}`), status: 400, errID: "SecretPathInvalidCharacter",
			golden: "error_SecretPathInvalidCharacter"},
		{name: "400/percent-encoded path in the body", body: createBody("prod%2Fdb", `{}`), status: 400,
			errID: "SecretPathInvalidCharacter"},
		{name: "400/path starting with /", body: createBody("/prod", `{}`), status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/path ending with /", body: createBody("prod/", `{}`), status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/path with //", body: createBody("prod//db", `{}`), status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/path with a . segment", body: createBody("prod/./db", `{}`), status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/path with a .. segment", body: createBody("prod/../db", `{}`), status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/path that is ..", body: createBody("..", `{}`), status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/non-ASCII path", body: createBody("pr\u00e9d", `{}`), status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "200/path with every allowed character", body: createBody("AZaz09_.:=@-/a..b/.../x", `{}`), status: 200,
			check: readsBack("AZaz09_.:=@-/a..b/.../x", `{}`)},
		{name: "200/path of 255 characters", body: createBody(pathOfLen(255), `{}`), status: 200,
			check: readsBack(pathOfLen(255), `{}`)},
		{name: "400/path of 256 characters", body: createBody(pathOfLen(256), `{}`), status: 400,
			errID: "SecretPathMaxExceeded", golden: "error_SecretPathMaxExceeded"},
		{name: "409/path exists", setup: exists, body: createBody("prod/db", `{"v":2}`), status: 409,
			errID: "SecretAlreadyExists", golden: "error_SecretAlreadyExists"},
		{name: "409/path exists with every version deleted", body: createBody("prod/db", `{"v":2}`), status: 409,
			errID: "SecretAlreadyExists", setup: func(e *env) {
				exists(e)
				e.SetVersionState("prod/db", 1, "deleted")
			}},
		{name: "409/path exists with its version deactivated", body: createBody("prod/db", `{"v":2}`), status: 409,
			errID: "SecretAlreadyExists", setup: func(e *env) {
				exists(e)
				e.SetVersionState("prod/db", 1, "deactivated")
			}},
		{name: "200/a deleted path is created anew at version 1", body: createBody("prod/db", `{"v":"new"}`), status: 200,
			setup: func(e *env) {
				exists(e)
				e.writeN("prod/db", 3)
				e.Must("DELETE", "/secret/prod%2Fdb", "")
			},
			check: func(t *testing.T, e *env, r *response) {
				want(t, "currentVersion", decode[api.SecretResponse](t, r).Metadata.CurrentVersion, 1)
				wantIDs(t, "versions", e.versionIDs("prod/db"), []uint32{1})
				readsBack("prod/db", `{"v":"new"}`)(t, e, r)
			}},
		{name: "200/a prefix of an existing path is another secret", setup: exists, body: createBody("prod", `{}`), status: 200},
		{name: "200/maxVersions 24000", body: createMeta(`{"maxVersions":24000}`), status: 200,
			check: createdWith(func(t *testing.T, m api.SecretMetadata) { want(t, "maxVersions", m.MaxVersions, 24000) })},
		{name: "400/maxVersions -1", body: createMeta(`{"maxVersions":-1}`), status: 400, errID: "SecretMaxVersionsMinRequired",
			golden: "error_SecretMaxVersionsMinRequired"},
		{name: "400/maxVersions 24001", body: createMeta(`{"maxVersions":24001}`), status: 400,
			errID: "SecretMaxVersionsMaxExceeded", golden: "error_SecretMaxVersionsMaxExceeded"},
		{name: "200/deactivateVersionAfter 1d is echoed as 1d", body: createMeta(`{"deactivateVersionAfter":"1d"}`), status: 200,
			check: createdWith(func(t *testing.T, m api.SecretMetadata) {
				want(t, "deactivateVersionAfter", m.DeactivateVersionAfter, "1d")
			})},
		{name: "200/deactivateVersionAfter 10h30m10s is echoed as given", body: createMeta(`{"deactivateVersionAfter":"10h30m10s"}`),
			status: 200, check: createdWith(func(t *testing.T, m api.SecretMetadata) {
				want(t, "deactivateVersionAfter", m.DeactivateVersionAfter, "10h30m10s")
			})},
		{name: "400/deactivateVersionAfter 1.5h", body: createMeta(`{"deactivateVersionAfter":"1.5h"}`), status: 400,
			errID: "SecretDeactivateVersionAfterInvalidDuration", golden: "error_SecretDeactivateVersionAfterInvalidDuration"},
		{name: "400/deactivateVersionAfter empty", body: createMeta(`{"deactivateVersionAfter":""}`), status: 400,
			errID: "SecretDeactivateVersionAfterInvalidDuration"},
		{name: "400/deactivateVersionAfter negative", body: createMeta(`{"deactivateVersionAfter":"-1s"}`), status: 400,
			errID: "SecretDeactivateVersionAfterInvalidDuration"},
		{name: "400/deactivateVersionAfter in milliseconds", body: createMeta(`{"deactivateVersionAfter":"500ms"}`), status: 400,
			errID: "SecretDeactivateVersionAfterInvalidDuration"},
		{name: "200/deactivateVersionAfter of 100 years", body: createMeta(`{"deactivateVersionAfter":"36500d"}`), status: 200},
		{name: "200/a cas query parameter is ignored on create", target: "/secret?cas=5", body: createBody("a", `{}`), status: 200},
		{name: "400/deactivateVersionAfter over 100 years", body: createMeta(`{"deactivateVersionAfter":"36501d"}`), status: 400,
			errID: "SecretDeactivateVersionAfterInvalidDuration"},
		{name: "200/64 custom metadata entries", body: createMeta(`{"customMetadata":` + manyMetadata(64) + `}`), status: 200},
		{name: "200/custom metadata key of 128 and value of 512 characters", status: 200,
			body: createMeta(fmt.Sprintf(`{"customMetadata":{%q:%q}}`, strings.Repeat("k", 128), strings.Repeat("v", 512)))},
		{name: "200/custom metadata with every allowed character", status: 200,
			body: createMeta(`{"customMetadata":{"AZaz09_.:/=@%-":"AZaz09_.:/=@%-"}}`),
			check: createdWith(func(t *testing.T, m api.SecretMetadata) {
				want(t, "customMetadata", m.CustomMetadata["AZaz09_.:/=@%-"], "AZaz09_.:/=@%-")
			})},
		{name: "400/65 custom metadata entries", body: createMeta(`{"customMetadata":` + manyMetadata(65) + `}`), status: 400,
			errID: "SecretCustomMetadataMaxExceeded", golden: "error_SecretCustomMetadataMaxExceeded"},
		{name: "400/empty custom metadata key", body: createMeta(`{"customMetadata":{"":"v"}}`), status: 400,
			errID: "SecretCustomMetadataKeyMinRequired", golden: "error_SecretCustomMetadataKeyMinRequired"},
		{name: "400/custom metadata key of 129 characters", status: 400,
			body:  createMeta(fmt.Sprintf(`{"customMetadata":{%q:"v"}}`, strings.Repeat("k", 129))),
			errID: "SecretCustomMetadataKeyMaxExceeded", golden: "error_SecretCustomMetadataKeyMaxExceeded"},
		{name: "400/custom metadata key with a space", body: createMeta(`{"customMetadata":{"a b":"v"}}`), status: 400,
			errID: "SecretCustomMetadataKeyInvalidCharacter", golden: "error_SecretCustomMetadataKeyInvalidCharacter"},
		{name: "400/empty custom metadata value", body: createMeta(`{"customMetadata":{"k":""}}`), status: 400,
			errID: "SecretCustomMetadataValueMinRequired", golden: "error_SecretCustomMetadataValueMinRequired"},
		{name: "400/custom metadata value of 513 characters", status: 400,
			body:  createMeta(fmt.Sprintf(`{"customMetadata":{"k":%q}}`, strings.Repeat("v", 513))),
			errID: "SecretCustomMetadataValueMaxExceeded", golden: "error_SecretCustomMetadataValueMaxExceeded"},
		{name: "400/custom metadata value with a space", body: createMeta(`{"customMetadata":{"k":"a b"}}`), status: 400,
			errID: "SecretCustomMetadataValueInvalidCharacter", golden: "error_SecretCustomMetadataValueInvalidCharacter"},
		{name: "400/custom metadata value that is not a string", body: createMeta(`{"customMetadata":{"k":1}}`), status: 400,
			errID: "RequestBodyInvalidJson"},
		{name: "400/every violation is listed, the first one names the error", status: 400, errID: "SecretPathInvalidCharacter",
			body: `{"path":"a b","metadata":{"maxVersions":-1,"deactivateVersionAfter":"x","customMetadata":{"k":""}},"version":{"data":[]}}`,
			check: func(t *testing.T, e *env, r *response) {
				if got := errorOf(t, r).Errors; len(got) != 5 {
					t.Errorf("errors = %q, want 5 messages (path, data, maxVersions, duration, custom metadata)", got)
				}
			}},
	}
	for i := range cases {
		cases[i].target = cmp.Or(cases[i].target, "/secret")
	}
	cases = append(cases, commonCases(nil, "/secret", createBody("prod/db", `{}`), 200, false)...)
	cases = append(cases, bodyCases(nil, "/secret", false)...)
	runCases(t, "POST", cases)
}

// seedDB creates prod/db with {"v":1} at t0 and {"v":2} one minute later.
func seedDB(e *env) {
	e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"customMetadata":{"team":"dba"}}`)
	e.clock.Advance(time.Minute)
	e.WriteSecret("prod/db", `{"v":2}`)
}

func TestGetSecret(t *testing.T) {
	t.Parallel()
	secretVersion := func(id uint32, state, data string) func(*testing.T, *env, *response) {
		return func(t *testing.T, e *env, r *response) {
			got := decode[api.GetSecretResponse](t, r)
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
			e.clock.Advance(time.Hour)
			e.SetVersionState("prod/db", id, state)
		}
	}
	scheduled := func(dva string) func(*env) {
		return func(e *env) {
			e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"deactivateVersionAfter":"`+dva+`"}`)
		}
	}
	cases := []apiCase{
		{name: "200/current version without data", setup: seedDB, target: "/secret/prod%2Fdb", status: 200,
			golden: "secret_get", check: func(t *testing.T, e *env, r *response) {
				secretVersion(2, "active", "")(t, e, r)
				got := decode[api.GetSecretResponse](t, r)
				want(t, "createdAt", got.Metadata.CreatedAt, at(0))
				want(t, "updatedAt", got.Metadata.UpdatedAt, at(time.Minute))
				want(t, "version.createdAt", got.Version.CreatedAt, at(time.Minute))
				if got.Version.DeactivatedAt != nil {
					t.Errorf("deactivatedAt = %q, want null", *got.Version.DeactivatedAt)
				}
			}},
		{name: "200/includeData=true", setup: seedDB, target: "/secret/prod%2Fdb?includeData=true", status: 200,
			golden: "secret_get_data", check: secretVersion(2, "active", `{"v":2}`)},
		{name: "200/includeData=false", setup: seedDB, target: "/secret/prod%2Fdb?includeData=false", status: 200,
			check: secretVersion(2, "active", "")},
		{name: "200/version=1 with data", setup: seedDB, target: "/secret/prod%2Fdb?version=1&includeData=true", status: 200,
			check: secretVersion(1, "active", `{"v":1}`)},
		{name: "200/includeData on a deactivated version: its state, no data", setup: withVersionState(2, "deactivated"),
			target: "/secret/prod%2Fdb?includeData=true", status: 200, check: func(t *testing.T, e *env, r *response) {
				secretVersion(2, "deactivated", "")(t, e, r)
				want(t, "deactivatedAt", *decode[api.GetSecretResponse](t, r).Version.DeactivatedAt, at(time.Minute+time.Hour))
			}},
		{name: "200/includeData on a deleted version: its state, no data", setup: withVersionState(1, "deleted"),
			target: "/secret/prod%2Fdb?version=1&includeData=true", status: 200, check: secretVersion(1, "deleted", "")},
		{name: "400/includeData=notabool", setup: seedDB, target: "/secret/prod%2Fdb?includeData=notabool", status: 400,
			errID: "QueryParameterInvalid", golden: "error_QueryParameterInvalid"},
		{name: "400/version=abc", setup: seedDB, target: "/secret/prod%2Fdb?version=abc", status: 400, errID: "QueryParameterInvalid"},
		{name: "400/version=0", setup: seedDB, target: "/secret/prod%2Fdb?version=0", status: 400,
			errID: "SecretVersionMinRequired", golden: "error_SecretVersionMinRequired"},
		{name: "400/version=-1", setup: seedDB, target: "/secret/prod%2Fdb?version=-1", status: 400, errID: "SecretVersionMinRequired"},
		{name: "400/version=24001", setup: seedDB, target: "/secret/prod%2Fdb?version=24001", status: 400,
			errID: "SecretVersionMaxExceeded", golden: "error_SecretVersionMaxExceeded"},
		{name: "400/version beyond 64 bits", setup: seedDB, target: "/secret/prod%2Fdb?version=99999999999999999999999", status: 400,
			errID: "SecretVersionMaxExceeded"},
		{name: "400/version below -2^63", setup: seedDB, target: "/secret/prod%2Fdb?version=-99999999999999999999999", status: 400,
			errID: "SecretVersionMinRequired"},
		{name: "400/version=1.0", setup: seedDB, target: "/secret/prod%2Fdb?version=1.0", status: 400, errID: "QueryParameterInvalid"},
		{name: "404/unknown secret", target: "/secret/prod%2Fdb", status: 404, errID: "SecretNotFound", golden: "error_SecretNotFound"},
		{name: "404/version that never existed", setup: seedDB, target: "/secret/prod%2Fdb?version=3", status: 404,
			errID: "SecretVersionNotFound", golden: "error_SecretVersionNotFound"},
		{name: "404/pruned version", target: "/secret/prod%2Fdb?version=1", status: 404, errID: "SecretVersionNotFound",
			setup: func(e *env) {
				e.CreateSecret("prod/db", `{"v":1}`, `"metadata":{"maxVersions":1}`)
				e.WriteSecret("prod/db", `{"v":2}`)
			}},
		{name: "200/a scheduled deactivation not yet reached is invisible", target: "/secret/prod%2Fdb?includeData=true",
			status: 200, setup: func(e *env) {
				scheduled("1h")(e)
				e.clock.Advance(time.Hour - time.Second)
			}, check: func(t *testing.T, e *env, r *response) {
				secretVersion(1, "active", `{"v":1}`)(t, e, r)
				if d := decode[api.GetSecretResponse](t, r).Version.DeactivatedAt; d != nil {
					t.Errorf("deactivatedAt = %q, want null", *d)
				}
			}},
		{name: "200/deactivated automatically after deactivateVersionAfter", target: "/secret/prod%2Fdb?includeData=true",
			status: 200, setup: func(e *env) {
				scheduled("1h")(e)
				e.clock.Advance(time.Hour)
			}, check: func(t *testing.T, e *env, r *response) {
				secretVersion(1, "deactivated", "")(t, e, r)
				want(t, "deactivatedAt", *decode[api.GetSecretResponse](t, r).Version.DeactivatedAt, at(time.Hour))
			}},
		{name: "200/the domain's deactivateVersionAfter applies", target: "/secret/prod%2Fdb?includeData=true",
			status: 200, setup: func(e *env) {
				e.Must("PUT", "/secretConfig", `{"deactivateVersionAfter":"2h"}`)
				e.CreateSecret("prod/db", `{"v":1}`)
				e.clock.Advance(2 * time.Hour)
			}, check: secretVersion(1, "deactivated", "")},
		{name: "200/raw-slash path", setup: seedDB, target: "/secret/prod/db", status: 200, check: secretVersion(2, "active", "")},
		{name: "200/last segment named version, encoded", target: "/secret/prod%2Fversion?includeData=true", status: 200,
			setup: func(e *env) { e.CreateSecret("prod/version", `{"k":"v"}`) }, check: secretVersion(1, "active", `{"k":"v"}`)},
		{name: "200/encodeURIComponent path", target: "/secret/app%2Fa%3Ab%3Dc%40d?includeData=true", status: 200,
			setup: func(e *env) { e.CreateSecret("app/a:b=c@d", `{"k":"v"}`) }, check: secretVersion(1, "active", `{"k":"v"}`)},
		{name: "400/double-encoded path", setup: seedDB, target: "/secret/prod%252Fdb", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/encoded space in the path", target: "/secret/prod%20db", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/dot segment in the URL", target: "/secret/prod/./db", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/dot-dot segment in the URL", target: "/secret/prod/../db", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/empty segment in the URL", target: "/secret/prod//db", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/trailing slash", target: "/secret/prod%2Fdb/", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/empty path", target: "/secret/", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "200/path of 255 characters", target: "/secret/" + esc(pathOfLen(255)), status: 200,
			setup: func(e *env) { e.CreateSecret(pathOfLen(255), `{}`) }},
		{name: "400/path of 256 characters", target: "/secret/" + esc(pathOfLen(256)), status: 400, errID: "SecretPathMaxExceeded"},
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
		out := decode[api.SecretResponse](t, r)
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
		e.clock.Advance(time.Hour)
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
			want(t, "oldestVersion", decode[api.SecretResponse](t, r).Metadata.OldestVersion, oldest)
			wantIDs(t, "versions", e.versionIDs("p"), ids)
		}
	}
	cases := []apiCase{
		{name: "200/new version", setup: seed, target: target, body: newData, status: 200, golden: "secret_update",
			check: func(t *testing.T, e *env, r *response) {
				afterUpdate(2, func(t *testing.T, m api.SecretMetadata) {
					want(t, "createdAt", m.CreatedAt, at(0))
					want(t, "updatedAt", m.UpdatedAt, at(time.Hour))
				})(t, e, r)
				if decode[api.SecretResponse](t, r).Warnings != nil {
					t.Errorf("warnings: %s, want null", r.Body)
				}
				readsBack("prod/db", `{"v":2}`)(t, e, r)
				wantData(t, "version 1", ptr(e.getVersion("prod/db", 1)), `{"v":1}`)
			}},
		{name: "200/identical data creates a version anyway", setup: seed, target: target, body: `{"version":{"data":{"v":1}}}`,
			status: 200, check: afterUpdate(2, nil)},
		{name: "200/metadata only creates no version", setup: seed, target: target, body: `{"metadata":{"maxVersions":7}}`,
			status: 200, check: afterUpdate(1, func(t *testing.T, m api.SecretMetadata) {
				want(t, "maxVersions", m.MaxVersions, 7)
				want(t, "updatedAt", m.UpdatedAt, at(time.Hour))
			})},
		{name: "200/metadata with nothing to change is a no-op", setup: seed, target: target, body: `{"metadata":{}}`,
			status: 200, check: afterUpdate(1, unchanged)},
		{name: "200/metadata setting the stored values is a no-op", setup: seed, target: target,
			body: `{"metadata":{"maxVersions":5,"casRequired":false}}`, status: 200, check: afterUpdate(1, unchanged)},
		{name: "200/customMetadata {} means no change", setup: seed, target: target, body: `{"metadata":{"customMetadata":{}}}`,
			status: 200, check: afterUpdate(1, unchanged)},
		{name: "200/customMetadata null means no change", setup: seed, target: target, body: `{"metadata":{"customMetadata":null}}`,
			status: 200, check: afterUpdate(1, unchanged)},
		{name: "200/customMetadata {} with data keeps the map", setup: seed, target: target,
			body: `{"metadata":{"customMetadata":{}},"version":{"data":{"v":2}}}`, status: 200,
			check: afterUpdate(2, func(t *testing.T, m api.SecretMetadata) {
				want(t, "customMetadata", fmt.Sprint(m.CustomMetadata), "map[team:dba]")
			})},
		{name: "200/non-empty customMetadata replaces the whole map", setup: seed, target: target,
			body: `{"metadata":{"customMetadata":{"env":"prod"}}}`, status: 200,
			check: afterUpdate(1, func(t *testing.T, m api.SecretMetadata) {
				want(t, "customMetadata", fmt.Sprint(m.CustomMetadata), "map[env:prod]")
				want(t, "updatedAt", m.UpdatedAt, at(time.Hour))
			})},
		{name: "200/absent metadata fields are unchanged", setup: seed, target: target, body: `{"metadata":{"casRequired":true}}`,
			status: 200, check: afterUpdate(1, func(t *testing.T, m api.SecretMetadata) {
				want(t, "casRequired", m.CasRequired, true)
				want(t, "maxVersions", m.MaxVersions, 5)
				want(t, "customMetadata", fmt.Sprint(m.CustomMetadata), "map[team:dba]")
			})},
		{name: "200/null metadata fields are unchanged", setup: seed, target: target, status: 200,
			body:  `{"metadata":{"casRequired":null,"maxVersions":null,"deactivateVersionAfter":null}}`,
			check: afterUpdate(1, unchanged)},
		{name: "200/deactivateVersionAfter 1d is echoed as 1d", setup: seed, target: target,
			body: `{"metadata":{"deactivateVersionAfter":"1d"}}`, status: 200,
			check: afterUpdate(1, func(t *testing.T, m api.SecretMetadata) {
				want(t, "deactivateVersionAfter", m.DeactivateVersionAfter, "1d")
			})},
		{name: "200/maxVersions 0 gives the setting back to the domain", setup: seed, target: target,
			body: `{"metadata":{"maxVersions":0}}`, status: 200,
			check: afterUpdate(1, func(t *testing.T, m api.SecretMetadata) { want(t, "maxVersions", m.MaxVersions, 0) })},
		{name: "200/changing deactivateVersionAfter keeps the stored schedules", target: "/secret/p",
			body: `{"metadata":{"deactivateVersionAfter":"10h"}}`, status: 200,
			setup: func(e *env) { e.CreateSecret("p", `{}`, `"metadata":{"deactivateVersionAfter":"1h"}`) },
			check: func(t *testing.T, e *env, r *response) {
				e.WriteSecret("p", `{}`)
				e.clock.Advance(time.Hour)
				want(t, "version 1 (scheduled before)", e.getVersion("p", 1).State, "deactivated")
				want(t, "version 2 (scheduled after)", e.getVersion("p", 2).State, "active")
			}},
		{name: "400/neither metadata nor version", setup: seed, target: target, body: `{}`, status: 400, errID: "SecretFieldRequired"},
		{name: "400/metadata and version both null", setup: seed, target: target, body: `{"metadata":null,"version":null}`,
			status: 400, errID: "SecretFieldRequired"},
		{name: "400/version without data", setup: seed, target: target, body: `{"version":{}}`, status: 400, errID: "SecretFieldRequired"},
		{name: "200/data null is the empty object", setup: seed, target: target, body: `{"version":{"data":null}}`, status: 200,
			check: readsBack("prod/db", `{}`)},
		// Check-and-set (okms-rest.md 3.3).
		{name: "200/cas equal to the current version", setup: seed, target: target + "?cas=1", body: newData, status: 200,
			check: afterUpdate(2, nil)},
		{name: "400/cas mismatch", setup: seed, target: target + "?cas=2", body: newData, status: 400, errID: "SecretCasMismatch",
			golden: "error_SecretCasMismatch", check: casRefused},
		{name: "400/cas=0 on a secret that has a version", setup: seed, target: target + "?cas=0", body: newData, status: 400,
			errID: "SecretCasMismatch", check: casRefused},
		{name: "400/cas required by the secret", setup: seedCAS, target: target, body: newData, status: 400,
			errID: "SecretCasRequired", golden: "error_SecretCasRequired", check: casRefused},
		{name: "400/cas required by secretConfig", setup: seedCASDomain, target: target, body: newData, status: 400,
			errID: "SecretCasRequired", check: casRefused},
		{name: "200/cas given while required by the secret", setup: seedCAS, target: target + "?cas=1", body: newData, status: 200,
			check: afterUpdate(2, nil)},
		{name: "200/cas given while required by secretConfig", setup: seedCASDomain, target: target + "?cas=1", body: newData,
			status: 200, check: afterUpdate(2, nil)},
		{name: "200/casRequired false in the same PUT applies first", setup: seedCAS, target: target, status: 200,
			body:  `{"metadata":{"casRequired":false},"version":{"data":{"v":2}}}`,
			check: afterUpdate(2, func(t *testing.T, m api.SecretMetadata) { want(t, "casRequired", m.CasRequired, false) })},
		{name: "400/casRequired true in the same PUT applies first", setup: seed, target: target, status: 400,
			body: `{"metadata":{"casRequired":true},"version":{"data":{"v":2}}}`, errID: "SecretCasRequired"},
		{name: "400/casRequired false on the secret does not lift the domain's", setup: seedCASDomain, target: target,
			body: `{"metadata":{"casRequired":false},"version":{"data":{"v":2}}}`, status: 400, errID: "SecretCasRequired"},
		{name: "400/a failed cas stores no metadata either", setup: seed, target: target + "?cas=7", status: 400,
			body:  `{"metadata":{"casRequired":true,"maxVersions":1,"deactivateVersionAfter":"1d","customMetadata":{"x":"y"}},"version":{"data":{"v":2}}}`,
			errID: "SecretCasMismatch"},
		{name: "400/a missing cas stores no metadata either", setup: seedCAS, target: target, status: 400,
			body:  `{"metadata":{"maxVersions":1,"customMetadata":{"x":"y"}},"version":{"data":{"v":2}}}`,
			errID: "SecretCasRequired"},
		{name: "200/metadata-only PUT is not subject to casRequired", setup: seedCAS, target: target,
			body: `{"metadata":{"maxVersions":3}}`, status: 200,
			check: afterUpdate(1, func(t *testing.T, m api.SecretMetadata) { want(t, "maxVersions", m.MaxVersions, 3) })},
		{name: "400/metadata-only PUT with a wrong cas", setup: seed, target: target + "?cas=5", body: `{"metadata":{"maxVersions":3}}`,
			status: 400, errID: "SecretCasMismatch"},
		{name: "200/metadata-only PUT with the right cas", setup: seed, target: target + "?cas=1", body: `{"metadata":{"maxVersions":3}}`,
			status: 200, check: afterUpdate(1, nil)},
		{name: "400/cas=-1", setup: seed, target: target + "?cas=-1", body: newData, status: 400, errID: "SecretCasMinRequired",
			golden: "error_SecretCasMinRequired"},
		{name: "400/cas=24001", setup: seed, target: target + "?cas=24001", body: newData, status: 400,
			errID: "SecretCasMaxExceeded", golden: "error_SecretCasMaxExceeded"},
		{name: "400/cas=abc", setup: seed, target: target + "?cas=abc", body: newData, status: 400, errID: "QueryParameterInvalid"},
		{name: "400/cas beyond 64 bits", setup: seed, target: target + "?cas=99999999999999999999999", body: newData, status: 400,
			errID: "SecretCasMaxExceeded"},
		{name: "400/empty cas", setup: seed, target: target + "?cas=", body: newData, status: 400, errID: "QueryParameterInvalid"},
		// Retention (okms-rest.md 3.2).
		{name: "200/oldestVersion is 0 up to maxVersions", setup: nVersions(9, `{}`), target: "/secret/p",
			body: newData, status: 200, check: versionsAre(seq(10), 0)},
		{name: "200/the 11th version prunes version 1", setup: nVersions(10, `{}`), target: "/secret/p",
			body: newData, status: 200, check: func(t *testing.T, e *env, r *response) {
				versionsAre(seq(11)[1:], 2)(t, e, r)
				r = e.Call("GET", "/secret/p?version=1", "")
				r.Expect(t, 404, "SecretVersionNotFound")
			}},
		{name: "200/maxVersions lowered in the same PUT prunes at once", setup: nVersions(10, `{}`), target: "/secret/p",
			body: `{"metadata":{"maxVersions":2},"version":{"data":{"v":11}}}`, status: 200,
			check: versionsAre([]uint32{10, 11}, 10)},
		{name: "200/lowering maxVersions alone prunes nothing", setup: nVersions(5, `{}`), target: "/secret/p",
			body: `{"metadata":{"maxVersions":2}}`, status: 200, check: func(t *testing.T, e *env, r *response) {
				versionsAre(seq(5), 0)(t, e, r)
				e.WriteSecret("p", `{"n":6}`)
				wantIDs(t, "versions after the next write", e.versionIDs("p"), []uint32{5, 6})
			}},
		{name: "200/deleted versions count as retained until pruned", target: "/secret/p", body: newData, status: 200,
			setup: func(e *env) {
				nVersions(2, `{"maxVersions":2}`)(e)
				e.SetVersionState("p", 2, "deleted")
			}, check: func(t *testing.T, e *env, r *response) {
				versionsAre([]uint32{2, 3}, 2)(t, e, r)
				want(t, "version 2 state", e.getVersion("p", 2).State, "deleted")
			}},
		{name: "404/unknown secret", target: target, body: newData, status: 404, errID: "SecretNotFound"},
		{name: "404/metadata-only update of an unknown secret", target: target, body: `{"metadata":{}}`, status: 404, errID: "SecretNotFound"},
		// Data and metadata validation.
		{name: "400/data is not an object", setup: seed, target: target, body: `{"version":{"data":[1]}}`, status: 400,
			errID: "SecretDataInvalidKeyValueJson"},
		{name: "200/data of 65,536 bytes", setup: seed, target: target, body: `{"version":{"data":` + dataOfSize(65536) + `}}`,
			status: 200, check: readsBack("prod/db", dataOfSize(65536))},
		{name: "400/data of 65,537 bytes", setup: seed, target: target, body: `{"version":{"data":` + dataOfSize(65537) + `}}`,
			status: 400, errID: "SecretDataMaxExceeded"},
		{name: "400/duplicate key in data", setup: seed, target: target, body: `{"version":{"data":{"k":1,"k":1}}}`, status: 400,
			errID: "SecretDataInvalidKeyValueJson"},
		{name: "200/data nested 64 levels", setup: seed, target: target, body: `{"version":{"data":` + nested(64) + `}}`, status: 200},
		{name: "400/data nested 65 levels", setup: seed, target: target, body: `{"version":{"data":` + nested(65) + `}}`, status: 400,
			errID: "SecretDataInvalidKeyValueJson"},
		{name: "400/maxVersions 24001", setup: seed, target: target, body: `{"metadata":{"maxVersions":24001}}`, status: 400,
			errID: "SecretMaxVersionsMaxExceeded"},
		{name: "400/invalid duration", setup: seed, target: target, body: `{"metadata":{"deactivateVersionAfter":"1w"}}`, status: 400,
			errID: "SecretDeactivateVersionAfterInvalidDuration"},
		{name: "400/custom metadata value with a space", setup: seed, target: target,
			body: `{"metadata":{"customMetadata":{"k":"a b"}}}`, status: 400, errID: "SecretCustomMetadataValueInvalidCharacter"},
		{name: "400/a bad metadata field refuses valid data", setup: seed, target: target,
			body: `{"metadata":{"maxVersions":-1},"version":{"data":{"v":2}}}`, status: 400, errID: "SecretMaxVersionsMinRequired"},
		{name: "400/every violation is listed", setup: seed, target: target, status: 400, errID: "SecretMaxVersionsMinRequired",
			body: `{"metadata":{"maxVersions":-1,"deactivateVersionAfter":"x"},"version":{"data":"x"}}`,
			check: func(t *testing.T, e *env, r *response) {
				if got := errorOf(t, r).Errors; len(got) != 3 {
					t.Errorf("errors = %q, want 3 messages", got)
				}
			}},
		// Addressing (okms-rest.md 1.2).
		{name: "200/raw-slash path", setup: seed, target: "/secret/prod/db", body: newData, status: 200, check: afterUpdate(2, nil)},
		{name: "200/last segment named version, encoded", target: "/secret/prod%2Fversion", body: newData, status: 200,
			setup: func(e *env) {
				e.CreateSecret("prod", `{}`)
				e.CreateSecret("prod/version", `{}`)
			}, check: func(t *testing.T, e *env, r *response) {
				want(t, "path", decode[api.SecretResponse](t, r).Path, "prod/version")
				want(t, "prod currentVersion", e.getSecret("/secret/prod").Metadata.CurrentVersion, 1)
			}},
		{name: "405/PUT on the version collection", setup: seed, target: "/secret/prod/db/version", body: newData, status: 405,
			errID: "MethodNotAllowed"},
		{name: "400/double-encoded path", setup: seed, target: "/secret/prod%252Fdb", body: newData, status: 400,
			errID: "SecretPathInvalidCharacter"},
		{name: "400/path of 256 characters", target: "/secret/" + esc(pathOfLen(256)), body: newData, status: 400,
			errID: "SecretPathMaxExceeded"},
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
		{name: "204/delete", setup: seedDB, target: "/secret/prod%2Fdb", status: 204, golden: "secret_delete",
			check: func(t *testing.T, e *env, r *response) {
				gone("prod/db")(t, e, r)
				e.CreateSecret("prod/db", `{"v":"new"}`)
				want(t, "currentVersion after re-creation", e.getSecret("/secret/prod%2Fdb").Metadata.CurrentVersion, 1)
				wantData(t, "version 1 after re-creation", ptr(e.getVersion("prod/db", 1)), `{"v":"new"}`)
			}},
		{name: "204/raw-slash path", setup: seedDB, target: "/secret/prod/db", status: 204, check: gone("prod/db")},
		{name: "204/a secret with deactivated and deleted versions", target: "/secret/prod%2Fdb", status: 204,
			setup: func(e *env) {
				seedDB(e)
				e.SetVersionState("prod/db", 1, "deleted")
				e.SetVersionState("prod/db", 2, "deactivated")
			}, check: gone("prod/db")},
		{name: "204/other secrets are untouched", target: "/secret/prod%2Fdb", status: 204,
			setup: func(e *env) {
				e.CreateSecret("prod", `{}`)
				e.CreateSecret("prod/db", `{}`)
				e.CreateSecret("prod/db/x", `{}`)
				e.CreateSecret("prod/db2", `{}`)
			}, check: func(t *testing.T, e *env, r *response) {
				gone("prod/db")(t, e, r)
				want(t, "secrets left", len(e.listAll("/secret")), 3)
			}},
		{name: "204/last segment named version, encoded", target: "/secret/prod%2Fversion", status: 204,
			setup: func(e *env) {
				e.CreateSecret("prod", `{}`)
				e.CreateSecret("prod/version", `{}`)
			}, check: func(t *testing.T, e *env, r *response) {
				gone("prod/version")(t, e, r)
				e.Must("GET", "/secret/prod", "")
			}},
		{name: "404/unknown secret", target: "/secret/prod%2Fdb", status: 404, errID: "SecretNotFound"},
		{name: "404/deleted twice", target: "/secret/prod%2Fdb", status: 404, errID: "SecretNotFound",
			setup: func(e *env) {
				seedDB(e)
				e.Must("DELETE", "/secret/prod%2Fdb", "")
			}},
		{name: "405/DELETE on one version", setup: seedDB, target: "/secret/prod%2Fdb/version/1", status: 405, errID: "MethodNotAllowed"},
		{name: "405/DELETE on the version collection", setup: seedDB, target: "/secret/prod%2Fdb/version", status: 405,
			errID: "MethodNotAllowed"},
		{name: "405/DELETE on the secret list", setup: seedDB, target: "/secret", status: 405, errID: "MethodNotAllowed"},
		{name: "400/double-encoded path", setup: seedDB, target: "/secret/prod%252Fdb", status: 400, errID: "SecretPathInvalidCharacter"},
		{name: "400/path of 256 characters", target: "/secret/" + esc(pathOfLen(256)), status: 400, errID: "SecretPathMaxExceeded"},
	}
	cases = append(cases, commonCases(seedDB, "/secret/prod%2Fdb", "", 204, false)...)
	runCases(t, "DELETE", cases)
}

func TestListSecrets(t *testing.T) {
	t.Parallel()
	paths := func(t *testing.T, r *response) []string {
		t.Helper()
		var out []string
		for _, s := range decode[[]api.GetSecretResponse](t, r) {
			out = append(out, s.Path)
		}
		return out
	}
	// Names whose creation order, natural order and byte-wise order differ.
	names := []string{"b", "app/10", "B", "a/b", "app/9", "a-b", "_x", "a", "a.b", "0", "Z/z", "a:b", "a=b", "a@b"}
	cases := []apiCase{
		{name: "200/empty domain", target: "/secret", status: 200, check: func(t *testing.T, e *env, r *response) {
			want(t, "body", string(r.Body), "[]")
			want(t, api.HeaderCursorNext, r.Header.Get(api.HeaderCursorNext), "")
		}},
		{name: "200/each item with its current version, without data", target: "/secret", status: 200, golden: "secret_list",
			setup: func(e *env) {
				seedDB(e)
				e.clock.Advance(time.Hour)
				e.CreateSecret("prod/api", `{"token":"t"}`, `"metadata":{"casRequired":true,"deactivateVersionAfter":"1d"}`)
				e.SetVersionState("prod/api", 1, "deactivated")
			}, check: func(t *testing.T, e *env, r *response) {
				items := decode[[]api.GetSecretResponse](t, r)
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
		{name: "200/sorted by path, byte-wise", target: "/secret", status: 200,
			setup: func(e *env) {
				for _, n := range names {
					e.CreateSecret(n, `{}`)
				}
			}, check: func(t *testing.T, e *env, r *response) {
				got, sorted := paths(t, r), slices.Clone(names)
				sort.Strings(sorted)
				if !slices.Equal(got, sorted) {
					t.Errorf("paths = %q, want %q", got, sorted)
				}
			}},
		{name: "200/deleted secrets are absent", target: "/secret", status: 200,
			setup: func(e *env) {
				e.CreateSecret("a", `{}`)
				e.CreateSecret("b", `{}`)
				e.CreateSecret("c", `{}`)
				e.Must("DELETE", "/secret/b", "")
			}, check: func(t *testing.T, e *env, r *response) {
				if got := paths(t, r); !slices.Equal(got, []string{"a", "c"}) {
					t.Errorf("paths = %q, want [a c]", got)
				}
			}},
		{name: "200/an automatically deactivated current version is shown deactivated", target: "/secret", status: 200,
			setup: func(e *env) {
				e.CreateSecret("a", `{}`, `"metadata":{"deactivateVersionAfter":"1h"}`)
				e.clock.Advance(2 * time.Hour)
			}, check: func(t *testing.T, e *env, r *response) {
				v := decode[[]api.GetSecretResponse](t, r)[0].Version
				want(t, "state", v.State, "deactivated")
				want(t, "deactivatedAt", *v.DeactivatedAt, at(time.Hour))
			}},
		{name: "200/includeData is ignored", setup: seedDB, target: "/secret?includeData=true", status: 200,
			check: func(t *testing.T, e *env, r *response) {
				if strings.Contains(string(r.Body), `"data"`) {
					t.Errorf("list carries data: %s", r.Body)
				}
			}},
		{name: "405/PUT on the secret list", target: "/secret", method: "PUT", body: `{}`, status: 405, errID: "MethodNotAllowed"},
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
			ids[decode[api.SecretVersion](t, r).ID] = true
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
