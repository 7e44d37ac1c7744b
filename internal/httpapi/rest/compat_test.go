package rest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// TestCompatibility is the client checklist of okms-rest.md section 10,
// one subtest per client behaviour, written the way each client calls.
func TestCompatibility(t *testing.T) {
	t.Parallel()
	checks := []struct {
		name string
		run  func(t *testing.T, e *env)
	}{
		// 1. okms-sdk-go / okms CLI.
		{"okms-sdk-go/200 on create, read as JSON200", func(t *testing.T, e *env) {
			r := e.Call("POST", "/secret", `{"path":"prod/db","version":{"data":{"k":"v"}}}`)
			r.Expect(t, 200, "")
			if out := wiretest.DecodeBody[api.SecretResponse](t, r); out.Path != "prod/db" || out.Metadata.CurrentVersion != 1 {
				t.Errorf("create answered %s", r.Body)
			}
		}},
		{"okms-sdk-go/Content-Type application/json on every response with a body", func(t *testing.T, e *env) {
			e.CreateSecret("prod/db", `{}`)
			for _, rq := range []request{
				{Method: "GET", Target: "/secret"}, {Method: "GET", Target: "/secret/prod%2Fdb"},
				{Method: "GET", Target: "/secret/prod%2Fdb/version"}, {Method: "GET", Target: "/secret/prod%2Fdb/version/1"},
				{Method: "POST", Target: "/secret/prod%2Fdb/version", Body: `{"data":{}}`},
				{Method: "PUT", Target: "/secret/prod%2Fdb", Body: `{"metadata":{}}`},
				{Method: "PUT", Target: "/secret/prod%2Fdb/version/1", Body: `{"state":"active"}`},
				{Method: "GET", Target: "/secretConfig"}, {Method: "PUT", Target: "/secretConfig", Body: `{"maxVersions":10}`},
				{Method: "GET", Target: "/secret/nope"}, {Method: "GET", Target: "/nope"},
			} {
				if got := e.Send(rq).Header.Get("Content-Type"); !strings.Contains(got, "json") {
					t.Errorf("%s %s: Content-Type %q", rq.Method, rq.Target, got)
				}
			}
		}},
		{"okms-sdk-go/url.PathEscape paths", func(t *testing.T, e *env) {
			e.CreateSecret("prod/database/MySQL", `{"k":"v"}`)
			e.Must("PUT", "/secret/prod%2Fdatabase%2FMySQL", `{"version":{"data":{"k":"w"}}}`)
			e.Must("POST", "/secret/prod%2Fdatabase%2FMySQL/version", `{"data":{"k":"x"}}`)
			e.Must("PUT", "/secret/prod%2Fdatabase%2FMySQL/version/1", `{"state":"deactivated"}`)
			want(t, "versions", len(e.versionIDs("prod/database/MySQL")), 3)
			v := e.getVersion("prod/database/MySQL", 3)
			wantData(t, "version 3", &v, `{"k":"x"}`)
			e.Must("DELETE", "/secret/prod%2Fdatabase%2FMySQL", "")
		}},
		{"okms-sdk-go/the iterator stops on a missing X-Pagination-Cursor-Next", func(t *testing.T, e *env) {
			manySecrets(25)(e)
			n, pages, cursor := 0, 0, ""
			for {
				r := e.Send(request{Method: "GET", Target: "/secret",
					Header: map[string]string{api.HeaderPageSize: "10", api.HeaderCursor: cursor}})
				r.Expect(t, 200, "")
				n += len(wiretest.DecodeBody[[]api.GetSecretResponse](t, r))
				pages++
				// iter.go: the loop ends when the header is empty.
				if cursor = r.Header.Get(api.HeaderCursorNext); cursor == "" {
					break
				}
			}
			want(t, "secrets", n, 25)
			want(t, "pages", pages, 3)
		}},
		{"okms-sdk-go/error bodies parsed for every status of 400 and above", func(t *testing.T, e *env) {
			e.CreateSecret("prod/db", `{}`)
			for _, tc := range []struct {
				rq       request
				category int32 // okms-sdk-go errors.go: (code >> 12) & 0xf
			}{
				{request{Method: "PUT", Target: "/secret/prod%2Fdb?cas=9", Body: `{"version":{"data":{}}}`}, 8},
				{request{Method: "POST", Target: "/secret", Body: `{"path":"a b","version":{"data":{}}}`}, 2},
				{request{Method: "GET", Target: "/secret", Header: map[string]string{"Authorization": ""}}, 3},
				{request{Method: "GET", Target: "/secret/nope"}, 5},
				{request{Method: "GET", Target: "/nope"}, 5},
				{request{Method: "DELETE", Target: "/secretConfig"}, 2},
				{request{Method: "POST", Target: "/secret", Body: `{"path":"prod/db","version":{"data":{}}}`}, 10},
				{request{Method: "POST", Target: "/secret", Body: `{"pad":"` + strings.Repeat("x", 1<<20) + `"}`}, 2},
			} {
				r := e.Send(tc.rq)
				if r.Status < 400 {
					t.Fatalf("%s %s: %d, want an error", tc.rq.Method, tc.rq.Target, r.Status)
				}
				// NewKmsErrorFromBytes: the body must decode as the envelope.
				var ke struct {
					ErrorCode int32    `json:"error_code"`
					ErrorID   string   `json:"error_id"`
					Errors    []string `json:"errors"`
					RequestID string   `json:"request_id"`
				}
				if err := json.Unmarshal(r.Body, &ke); err != nil || ke.ErrorCode == 0 || ke.RequestID == "" || len(ke.Errors) == 0 {
					t.Errorf("%d: body %s is not an OKMS error (%v)", r.Status, r.Body, err)
					continue
				}
				major, category := ke.ErrorCode>>24, (ke.ErrorCode>>12)&0xf
				if major < 1 || major > 6 || category != tc.category {
					t.Errorf("%d %s: error_code %#x has major %d, category %d; want major 1..6, category %d",
						r.Status, ke.ErrorID, ke.ErrorCode, major, category, tc.category)
				}
			}
		}},
		// 2. okms CLI (okms secret ...), tests/secrets.yaml.
		{"okms-cli/whole-second Z timestamps", func(t *testing.T, e *env) {
			e.Clock.Advance(123456789 * time.Nanosecond)
			e.CreateSecret("prod/db", `{}`)
			e.SetVersionState("prod/db", 1, "deactivated")
			s := e.getSecret("/secret/prod%2Fdb")
			for what, v := range map[string]string{"createdAt": s.Metadata.CreatedAt, "updatedAt": s.Metadata.UpdatedAt,
				"version.createdAt": s.Version.CreatedAt, "version.deactivatedAt": *s.Version.DeactivatedAt} {
				if !wholeSecZ.MatchString(v) {
					t.Errorf("%s = %q, want ^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}Z$", what, v)
				}
			}
		}},
		{"okms-cli/oldestVersion present, 0 after one to four writes", func(t *testing.T, e *env) {
			e.CreateSecret("prod/db", `{}`)
			for i := 1; i <= 4; i++ {
				r := e.Must("GET", "/secret/prod%2Fdb", "")
				if !strings.Contains(string(r.Body), `"oldestVersion":0`) {
					t.Errorf("after %d writes: %s, want oldestVersion 0", i, r.Body)
				}
				if i < 4 {
					e.WriteSecret("prod/db", `{}`)
				}
			}
		}},
		{"okms-cli/step 002: a duplicate create is an error status", func(t *testing.T, e *env) {
			e.CreateSecret("prod/db", `{}`)
			if r := e.Call("POST", "/secret", `{"path":"prod/db","version":{"data":{}}}`); r.Status < 400 {
				t.Errorf("duplicate create: %d, want an error", r.Status)
			}
		}},
		{"okms-cli/step 011: --state activated fails", func(t *testing.T, e *env) {
			e.CreateSecret("prod/db", `{}`)
			e.Call("PUT", "/secret/prod%2Fdb/version/1", `{"state":"activated"}`).Expect(t, 400, "SecretVersionStateInvalid")
		}},
		{"okms-cli/step 013: a deactivated version comes with its state, without data", func(t *testing.T, e *env) {
			e.CreateSecret("prod/db", `{"k":"v"}`)
			e.SetVersionState("prod/db", 1, "deactivated")
			s := e.getSecret("/secret/prod%2Fdb?version=1&includeData=true")
			want(t, "state", s.Version.State, "deactivated")
			wantData(t, "deactivated version", s.Version, "")
		}},
		{"okms-cli/step 014: casRequired false and data in one PUT, without cas", func(t *testing.T, e *env) {
			e.CreateSecret("prod/db", `{}`, `"metadata":{"casRequired":true}`)
			e.Call("PUT", "/secret/prod%2Fdb", `{"version":{"data":{"k":"v"}}}`).Expect(t, 400, "SecretCasRequired")
			r := e.Must("PUT", "/secret/prod%2Fdb", `{"metadata":{"casRequired":false,"customMetadata":{}},"version":{"data":{"k":"v"}}}`)
			m := wiretest.DecodeBody[api.SecretResponse](t, r).Metadata
			want(t, "casRequired", m.CasRequired, false)
			want(t, "currentVersion", m.CurrentVersion, 2)
		}},
		{"okms-cli/step 001: deactivateVersionAfter 1d is read back as 1d", func(t *testing.T, e *env) {
			e.CreateSecret("prod/db", `{}`, `"metadata":{"deactivateVersionAfter":"1d"}`)
			want(t, "deactivateVersionAfter", e.getSecret("/secret/prod%2Fdb").Metadata.DeactivateVersionAfter, "1d")
		}},
		{"okms-cli/step 019: config written through the Vault surface, read through /v2/secretConfig", func(t *testing.T, e *env) {
			// The Vault route (POST /v1/secret/config) is not mounted yet; it
			// writes the same stored object through this service call, with
			// delete_version_after=1d and max_versions=24.
			d, err := secret.ParseDuration("1d")
			if err != nil {
				t.Fatal(err)
			}
			c := service.Caller{Principal: auth.Principal{Root: true, Name: "vault"}, Surface: "C"}
			if _, err := e.Server.Service().UpdateConfig(context.Background(), c, e.Domain,
				secret.ConfigUpdate{DeactivateAfter: &d, MaxVersions: ptr(uint32(24))}); err != nil {
				t.Fatal(err)
			}
			got := wiretest.DecodeBody[api.SecretConfig](t, e.Must("GET", "/secretConfig", ""))
			want(t, "config", got, api.SecretConfig{DeactivateVersionAfter: "1d", MaxVersions: 24})
		}},
		// 3. terraform-provider-ovh ovh_okms_secret.
		{"terraform/read, then version/{currentVersion}?includeData=true", func(t *testing.T, e *env) {
			data := `{"user":"u","nested":{"n":[1,2.5,true]}}`
			e.CreateSecret("tf/secret", data)
			e.WriteSecret("tf/secret", data)
			s := e.getSecret("/secret/tf%2Fsecret")
			v := wiretest.DecodeBody[api.SecretVersion](t, e.Must("GET", fmt.Sprintf("/secret/tf%%2Fsecret/version/%d?includeData=true",
				s.Metadata.CurrentVersion), ""))
			var got, wantV any
			_ = json.Unmarshal(v.Data, &got)
			_ = json.Unmarshal([]byte(data), &wantV)
			if !reflect.DeepEqual(got, wantV) {
				t.Errorf("data %s, want %s semantically", v.Data, data)
			}
		}},
		{"terraform/a metadata-only update creates no version", func(t *testing.T, e *env) {
			e.CreateSecret("tf/secret", `{}`)
			r := e.Must("PUT", "/secret/tf%2Fsecret?cas=1", `{"metadata":{"casRequired":true,"maxVersions":3,"customMetadata":{"a":"b"}}}`)
			want(t, "currentVersion", wiretest.DecodeBody[api.SecretResponse](t, r).Metadata.CurrentVersion, 1)
			wantIDs(t, "versions", e.versionIDs("tf/secret"), []uint32{1})
		}},
		{"terraform/a wrong cas fails with a message matching /cas/i", func(t *testing.T, e *env) {
			e.CreateSecret("tf/secret", `{}`)
			r := e.Call("PUT", "/secret/tf%2Fsecret?cas=5", `{"version":{"data":{}}}`)
			r.Expect(t, 400, "SecretCasMismatch")
			casRefused(t, e, r)
		}},
		// 4. ESO native OVH provider.
		{"ESO/error_code 17125377 on a missing secret", func(t *testing.T, e *env) {
			for _, target := range []string{"/secret/eso%2Fmissing", "/secret/eso%2Fmissing?includeData=true",
				"/secret/eso%2Fmissing/version/1?includeData=true"} {
				r := e.Call("GET", target, "")
				want(t, target+" status", r.Status, 404)
				want(t, target+" error_code", errorOf(t, r).ErrorCode, 17125377)
			}
		}},
		// 5. Control Panel.
		{"Control Panel/encodeURIComponent paths: %3A %3D %40 decoded", func(t *testing.T, e *env) {
			e.CreateSecret("cp/a:b=c@d", `{"k":"v"}`)
			const target = "/secret/cp%2Fa%3Ab%3Dc%40d"
			want(t, "path", e.getSecret(target).Path, "cp/a:b=c@d")
			e.Must("PUT", target, `{"version":{"data":{"k":"w"}}}`)
			e.Must("PUT", target+"/version/1", `{"state":"deleted"}`)
			want(t, "versions", len(e.versionIDs("cp/a:b=c@d")), 2)
			e.Must("DELETE", target, "")
		}},
		{"Control Panel/message in surface A errors", func(t *testing.T, e *env) {
			r := e.Call("GET", "/v2/okms/resource/{okmsId}/secret/nope", "")
			var body struct{ Class, Message string }
			if err := json.Unmarshal(r.Body, &body); err != nil || r.Status < 400 || body.Message == "" || body.Class == "" {
				t.Errorf("surface A error: %d %s, want class and message", r.Status, r.Body)
			}
			want(t, "X-Ovh-QueryID", r.Header.Get("X-Ovh-QueryID"), r.Header.Get("X-Request-Id"))
		}},
	}
	for _, c := range checks {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newEnv(t))
		})
	}
}
