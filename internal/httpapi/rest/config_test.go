package rest_test

import (
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/api"
)

// isConfig checks a secretConfig answer and what GET reads back.
func isConfig(cas bool, dva string, max uint32) func(*testing.T, *env, *response) {
	return func(t *testing.T, e *env, r *response) {
		t.Helper()
		for what, c := range map[string]api.SecretConfig{
			"response":  decode[api.SecretConfig](t, r),
			"read back": decode[api.SecretConfig](t, e.Must("GET", "/secretConfig", "")),
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
		{name: "200/defaults of a new domain", target: "/secretConfig", status: 200, golden: "config_get",
			check: isConfig(false, "0s", 10)},
		{name: "200/1d is read back as 1d", target: "/secretConfig", status: 200,
			setup: func(e *env) { e.Must("PUT", "/secretConfig", `{"deactivateVersionAfter":"1d","maxVersions":24}`) },
			check: isConfig(false, "1d", 24)},
		{name: "200/a query string changes nothing", target: "/secretConfig?includeData=x", status: 200, check: isConfig(false, "0s", 10)},
		{name: "405/DELETE", target: "/secretConfig", method: "DELETE", status: 405, errID: "MethodNotAllowed"},
		{name: "405/POST", target: "/secretConfig", method: "POST", body: `{"casRequired":true}`, status: 405, errID: "MethodNotAllowed"},
		{name: "404/sub-path of secretConfig", target: "/secretConfig/x", status: 404, errID: "RouteNotFound"},
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
		{name: "200/every field", target: target, body: `{"casRequired":true,"deactivateVersionAfter":"1d","maxVersions":24}`,
			status: 200, golden: "config_update", check: func(t *testing.T, e *env, r *response) {
				isConfig(true, "1d", 24)(t, e, r)
				if decode[api.SecretConfigResponse](t, r).Warnings != nil {
					t.Errorf("warnings: %s, want null", r.Body)
				}
			}},
		{name: "200/one field leaves the others", target: target, body: `{"maxVersions":3}`, status: 200,
			setup: set(`{"casRequired":true,"deactivateVersionAfter":"10h30m10s"}`), check: isConfig(true, "10h30m10s", 3)},
		{name: "200/null fields change nothing", target: target, body: `{"casRequired":null,"deactivateVersionAfter":null,"maxVersions":5}`,
			status: 200, setup: set(`{"casRequired":true,"deactivateVersionAfter":"1h"}`), check: isConfig(true, "1h", 5)},
		{name: "200/unknown members are ignored", target: target, body: `{"maxVersions":5,"warnings":["x"],"region":"x"}`,
			status: 200, check: isConfig(false, "0s", 5)},
		{name: "200/the stored values again", target: target, body: `{"casRequired":false,"deactivateVersionAfter":"0s","maxVersions":10}`,
			status: 200, check: isConfig(false, "0s", 10)},
		{name: "200/maxVersions 0", target: target, body: `{"maxVersions":0}`, status: 200, check: func(t *testing.T, e *env, r *response) {
			isConfig(false, "0s", 0)(t, e, r)
			// okms-rest.md 2.5: a domain maxVersions of 0 means 10.
			e.CreateSecret("p", `{}`)
			e.writeN("p", 10)
			wantIDs(t, "versions", e.versionIDs("p"), seq(11)[1:])
		}},
		{name: "200/maxVersions 24000", target: target, body: `{"maxVersions":24000}`, status: 200, check: isConfig(false, "0s", 24000)},
		{name: "400/no field", target: target, body: `{}`, status: 400, errID: "SecretFieldRequired"},
		{name: "400/every field null", target: target, body: `{"casRequired":null,"deactivateVersionAfter":null,"maxVersions":null}`,
			status: 400, errID: "SecretFieldRequired"},
		{name: "400/maxVersions -1", target: target, body: `{"maxVersions":-1}`, status: 400, errID: "SecretMaxVersionsMinRequired"},
		{name: "400/maxVersions 24001", target: target, body: `{"maxVersions":24001}`, status: 400, errID: "SecretMaxVersionsMaxExceeded"},
		{name: "400/maxVersions is a string", target: target, body: `{"maxVersions":"10"}`, status: 400, errID: "RequestBodyInvalidJson"},
		{name: "400/casRequired is a string", target: target, body: `{"casRequired":"true"}`, status: 400, errID: "RequestBodyInvalidJson"},
		{name: "400/invalid duration", target: target, body: `{"deactivateVersionAfter":"24 hours"}`, status: 400,
			errID: "SecretDeactivateVersionAfterInvalidDuration"},
		{name: "400/a bad field refuses the valid ones", target: target, body: `{"casRequired":true,"maxVersions":24001}`,
			status: 400, errID: "SecretMaxVersionsMaxExceeded"},
		{name: "400/every violation is listed", target: target, body: `{"deactivateVersionAfter":"x","maxVersions":-1}`,
			status: 400, errID: "SecretMaxVersionsMinRequired", check: func(t *testing.T, e *env, r *response) {
				if got := errorOf(t, r).Errors; len(got) != 2 {
					t.Errorf("errors = %q, want 2 messages", got)
				}
			}},
		// okms-rest.md 4.10: the configuration applies to versions created
		// afterwards and to the next pruning.
		{name: "200/maxVersions applies at the next pruning", target: target, body: `{"maxVersions":2}`, status: 200,
			setup: func(e *env) {
				e.CreateSecret("p", `{}`)
				e.writeN("p", 2)
			}, check: func(t *testing.T, e *env, r *response) {
				wantIDs(t, "versions right after", e.versionIDs("p"), []uint32{1, 2, 3})
				e.WriteSecret("p", `{}`)
				wantIDs(t, "versions after a write", e.versionIDs("p"), []uint32{3, 4})
				want(t, "oldestVersion", e.getSecret("/secret/p").Metadata.OldestVersion, 3)
			}},
		{name: "200/the secret's maxVersions wins over the domain's", target: target, body: `{"maxVersions":2}`, status: 200,
			setup: func(e *env) { e.CreateSecret("p", `{}`, `"metadata":{"maxVersions":3}`) },
			check: func(t *testing.T, e *env, r *response) {
				e.writeN("p", 3)
				wantIDs(t, "versions", e.versionIDs("p"), []uint32{2, 3, 4})
			}},
		{name: "200/deactivateVersionAfter applies to versions created afterwards", target: target,
			body: `{"deactivateVersionAfter":"1h"}`, status: 200,
			setup: func(e *env) { e.CreateSecret("p", `{}`) },
			check: func(t *testing.T, e *env, r *response) {
				e.WriteSecret("p", `{}`)
				e.clock.Advance(time.Hour)
				want(t, "version 1 (created before)", e.getVersion("p", 1).State, "active")
				want(t, "version 2 (created after)", e.getVersion("p", 2).State, "deactivated")
			}},
		{name: "200/the secret's deactivateVersionAfter wins over the domain's", target: target,
			body: `{"deactivateVersionAfter":"1h"}`, status: 200,
			setup: func(e *env) { e.CreateSecret("p", `{}`, `"metadata":{"deactivateVersionAfter":"2h"}`) },
			check: func(t *testing.T, e *env, r *response) {
				e.WriteSecret("p", `{}`)
				e.clock.Advance(time.Hour)
				want(t, "after 1h", e.getVersion("p", 2).State, "active")
				e.clock.Advance(time.Hour)
				want(t, "after 2h", e.getVersion("p", 2).State, "deactivated")
			}},
		{name: "200/a secret deactivateVersionAfter of 0s defers to the domain", target: target,
			body: `{"deactivateVersionAfter":"1h"}`, status: 200,
			check: func(t *testing.T, e *env, r *response) {
				e.CreateSecret("p", `{}`, `"metadata":{"deactivateVersionAfter":"0s"}`)
				e.clock.Advance(time.Hour)
				want(t, "version 1", e.getVersion("p", 1).State, "deactivated")
			}},
		{name: "200/casRequired applies to every secret", target: target, body: `{"casRequired":true}`, status: 200,
			setup: func(e *env) { e.CreateSecret("p", `{}`) },
			check: func(t *testing.T, e *env, r *response) {
				e.Call("PUT", "/secret/p", `{"version":{"data":{}}}`).Expect(t, 400, "SecretCasRequired")
				e.Call("POST", "/secret/p/version", `{"data":{}}`).Expect(t, 400, "SecretCasRequired")
				e.Must("PUT", "/secret/p?cas=1", `{"version":{"data":{}}}`)
			}},
	}
	cases = append(cases, commonCases(nil, target, `{"casRequired":true}`, 200, false)...)
	cases = append(cases, bodyCases(nil, target, true)...)
	runCases(t, "PUT", cases)
}
