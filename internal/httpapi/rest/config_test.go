package rest_test

import (
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// isConfig checks a secretConfig answer and what GET reads back.
func isConfig(cas bool, dva string, max uint32) func(*testing.T, *env, *response) {
	return func(t *testing.T, e *env, r *response) {
		t.Helper()
		for what, c := range map[string]api.SecretConfig{
			"response":  wiretest.DecodeBody[api.SecretConfig](t, r),
			"read back": wiretest.DecodeBody[api.SecretConfig](t, e.Must("GET", "/secretConfig", "")),
		} {
			if want := (api.SecretConfig{CasRequired: cas, DeactivateVersionAfter: dva, MaxVersions: max}); c != want {
				t.Errorf("%s: %+v, want %+v", what, c, want)
			}
		}
	}
}

func TestGetSecretConfig(t *testing.T) {
	t.Parallel()
	cases := []apiCase{
		{Name: "200/defaults of a new domain", Target: "/secretConfig", Status: 200, Golden: "config_get",
			Check: isConfig(false, "0s", 10)},
		{Name: "200/1d is read back as 1d", Target: "/secretConfig", Status: 200,
			Setup: func(e *env) { e.Must("PUT", "/secretConfig", `{"deactivateVersionAfter":"1d","maxVersions":24}`) },
			Check: isConfig(false, "1d", 24)},
		{Name: "200/a query string changes nothing", Target: "/secretConfig?includeData=x", Status: 200, Check: isConfig(false, "0s", 10)},
		{Name: "405/DELETE", Target: "/secretConfig", Method: "DELETE", Status: 405, Err: "MethodNotAllowed"},
		{Name: "405/POST", Target: "/secretConfig", Method: "POST", Body: `{"casRequired":true}`, Status: 405, Err: "MethodNotAllowed"},
		{Name: "404/sub-path of secretConfig", Target: "/secretConfig/x", Status: 404, Err: "RouteNotFound"},
	}
	cases = append(cases, commonCases(nil, "/secretConfig", "", 200, true)...)
	runCases(t, "GET", cases)
}

func TestUpdateSecretConfig(t *testing.T) {
	t.Parallel()
	const target = "/secretConfig"
	set := func(body string) func(*env) {
		return func(e *env) { e.Must("PUT", target, body) }
	}
	cases := []apiCase{
		{Name: "200/every field", Target: target, Body: `{"casRequired":true,"deactivateVersionAfter":"1d","maxVersions":24}`,
			Status: 200, Golden: "config_update", Check: func(t *testing.T, e *env, r *response) {
				isConfig(true, "1d", 24)(t, e, r)
				if wiretest.DecodeBody[api.SecretConfigResponse](t, r).Warnings != nil {
					t.Errorf("warnings: %s, want null", r.Body)
				}
			}},
		{Name: "200/one field leaves the others", Target: target, Body: `{"maxVersions":3}`, Status: 200,
			Setup: set(`{"casRequired":true,"deactivateVersionAfter":"10h30m10s"}`), Check: isConfig(true, "10h30m10s", 3)},
		{Name: "200/null fields change nothing", Target: target, Body: `{"casRequired":null,"deactivateVersionAfter":null,"maxVersions":5}`,
			Status: 200, Setup: set(`{"casRequired":true,"deactivateVersionAfter":"1h"}`), Check: isConfig(true, "1h", 5)},
		{Name: "200/unknown members are ignored", Target: target, Body: `{"maxVersions":5,"warnings":["x"],"region":"x"}`,
			Status: 200, Check: isConfig(false, "0s", 5)},
		{Name: "200/the stored values again", Target: target, Body: `{"casRequired":false,"deactivateVersionAfter":"0s","maxVersions":10}`,
			Status: 200, Check: isConfig(false, "0s", 10)},
		{Name: "200/maxVersions 0", Target: target, Body: `{"maxVersions":0}`, Status: 200, Check: func(t *testing.T, e *env, r *response) {
			isConfig(false, "0s", 0)(t, e, r)
			// okms-rest.md 2.5: a domain maxVersions of 0 means 10.
			e.CreateSecret("p", `{}`)
			e.writeN("p", 10)
			wantIDs(t, "versions", e.versionIDs("p"), seq(11)[1:])
		}},
		{Name: "200/maxVersions 24000", Target: target, Body: `{"maxVersions":24000}`, Status: 200, Check: isConfig(false, "0s", 24000)},
		{Name: "400/no field", Target: target, Body: `{}`, Status: 400, Err: "SecretFieldRequired"},
		{Name: "400/every field null", Target: target, Body: `{"casRequired":null,"deactivateVersionAfter":null,"maxVersions":null}`,
			Status: 400, Err: "SecretFieldRequired"},
		{Name: "400/maxVersions -1", Target: target, Body: `{"maxVersions":-1}`, Status: 400, Err: "SecretMaxVersionsMinRequired"},
		{Name: "400/maxVersions 24001", Target: target, Body: `{"maxVersions":24001}`, Status: 400, Err: "SecretMaxVersionsMaxExceeded"},
		{Name: "400/maxVersions is a string", Target: target, Body: `{"maxVersions":"10"}`, Status: 400, Err: "RequestBodyInvalidJson"},
		{Name: "400/casRequired is a string", Target: target, Body: `{"casRequired":"true"}`, Status: 400, Err: "RequestBodyInvalidJson"},
		{Name: "400/invalid duration", Target: target, Body: `{"deactivateVersionAfter":"24 hours"}`, Status: 400,
			Err: "SecretDeactivateVersionAfterInvalidDuration"},
		{Name: "400/a bad field refuses the valid ones", Target: target, Body: `{"casRequired":true,"maxVersions":24001}`,
			Status: 400, Err: "SecretMaxVersionsMaxExceeded"},
		{Name: "400/every violation is listed", Target: target, Body: `{"deactivateVersionAfter":"x","maxVersions":-1}`,
			Status: 400, Err: "SecretMaxVersionsMinRequired", Check: func(t *testing.T, e *env, r *response) {
				if got := errorOf(t, r).Errors; len(got) != 2 {
					t.Errorf("errors = %q, want 2 messages", got)
				}
			}},
		// okms-rest.md 4.10: the configuration applies to versions created
		// afterwards and to the next pruning.
		{Name: "200/maxVersions applies at the next pruning", Target: target, Body: `{"maxVersions":2}`, Status: 200,
			Setup: func(e *env) {
				e.CreateSecret("p", `{}`)
				e.writeN("p", 2)
			}, Check: func(t *testing.T, e *env, r *response) {
				wantIDs(t, "versions right after", e.versionIDs("p"), []uint32{1, 2, 3})
				e.WriteSecret("p", `{}`)
				wantIDs(t, "versions after a write", e.versionIDs("p"), []uint32{3, 4})
				want(t, "oldestVersion", e.getSecret("/secret/p").Metadata.OldestVersion, 3)
			}},
		{Name: "200/the secret's maxVersions wins over the domain's", Target: target, Body: `{"maxVersions":2}`, Status: 200,
			Setup: func(e *env) { e.CreateSecret("p", `{}`, `"metadata":{"maxVersions":3}`) },
			Check: func(t *testing.T, e *env, r *response) {
				e.writeN("p", 3)
				wantIDs(t, "versions", e.versionIDs("p"), []uint32{2, 3, 4})
			}},
		{Name: "200/deactivateVersionAfter applies to versions created afterwards", Target: target,
			Body: `{"deactivateVersionAfter":"1h"}`, Status: 200,
			Setup: func(e *env) { e.CreateSecret("p", `{}`) },
			Check: func(t *testing.T, e *env, r *response) {
				e.WriteSecret("p", `{}`)
				e.Clock.Advance(time.Hour)
				want(t, "version 1 (created before)", e.getVersion("p", 1).State, "active")
				want(t, "version 2 (created after)", e.getVersion("p", 2).State, "deactivated")
			}},
		{Name: "200/the secret's deactivateVersionAfter wins over the domain's", Target: target,
			Body: `{"deactivateVersionAfter":"1h"}`, Status: 200,
			Setup: func(e *env) { e.CreateSecret("p", `{}`, `"metadata":{"deactivateVersionAfter":"2h"}`) },
			Check: func(t *testing.T, e *env, r *response) {
				e.WriteSecret("p", `{}`)
				e.Clock.Advance(time.Hour)
				want(t, "after 1h", e.getVersion("p", 2).State, "active")
				e.Clock.Advance(time.Hour)
				want(t, "after 2h", e.getVersion("p", 2).State, "deactivated")
			}},
		{Name: "200/a secret deactivateVersionAfter of 0s defers to the domain", Target: target,
			Body: `{"deactivateVersionAfter":"1h"}`, Status: 200,
			Check: func(t *testing.T, e *env, r *response) {
				e.CreateSecret("p", `{}`, `"metadata":{"deactivateVersionAfter":"0s"}`)
				e.Clock.Advance(time.Hour)
				want(t, "version 1", e.getVersion("p", 1).State, "deactivated")
			}},
		{Name: "200/casRequired applies to every secret", Target: target, Body: `{"casRequired":true}`, Status: 200,
			Setup: func(e *env) { e.CreateSecret("p", `{}`) },
			Check: func(t *testing.T, e *env, r *response) {
				e.Call("PUT", "/secret/p", `{"version":{"data":{}}}`).Expect(t, 400, "SecretCasRequired")
				e.Call("POST", "/secret/p/version", `{"data":{}}`).Expect(t, 400, "SecretCasRequired")
				e.Must("PUT", "/secret/p?cas=1", `{"version":{"data":{}}}`)
			}},
	}
	cases = append(cases, commonCases(nil, target, `{"casRequired":true}`, 200, false)...)
	cases = append(cases, bodyCases(nil, target, true)...)
	runCases(t, "PUT", cases)
}
