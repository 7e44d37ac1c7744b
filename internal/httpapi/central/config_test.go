package central_test

import "testing"

var configMembers = []string{"casRequired", "deactivateVersionAfter", "maxVersions"}

func TestGetSecretConfig(t *testing.T) {
	t.Parallel()
	cases := []apiCase{
		{name: "200/the defaults of a new domain", status: 200, golden: "config_get",
			check: func(t *testing.T, _ *env, r *response) {
				wantMembers(t, "config", r.Body, configMembers...)
				c := decode[configOut](t, r)
				want(t, "config", c, configOut{CasRequired: false, DeactivateVersionAfter: "0s", MaxVersions: 10})
			}},
		{name: "200/a configuration written through surface B", status: 200,
			setup: func(e *env) {
				e.Must("PUT", "/api/{okmsId}/v2/secretConfig", `{"casRequired":true,"deactivateVersionAfter":"1d","maxVersions":24}`)
			},
			check: func(t *testing.T, _ *env, r *response) {
				want(t, "config", decode[configOut](t, r), configOut{CasRequired: true, DeactivateVersionAfter: "1d", MaxVersions: 24})
			}},
	}
	cases = append(cases, commonCases(nil, "/secretConfig", "", 200, false)...)
	runCases(t, "GET", "/secretConfig", cases)
}

func TestUpdateSecretConfig(t *testing.T) {
	t.Parallel()
	cases := []apiCase{
		{name: "200/every field, answered without warnings", body: `{"casRequired":true,"deactivateVersionAfter":"1d","maxVersions":24}`,
			status: 200, golden: "config_update",
			check: func(t *testing.T, e *env, r *response) {
				wantMembers(t, "config", r.Body, configMembers...)
				wantCfg := configOut{CasRequired: true, DeactivateVersionAfter: "1d", MaxVersions: 24}
				want(t, "response", decode[configOut](t, r), wantCfg)
				want(t, "read back", decode[configOut](t, e.Must("GET", "/secretConfig", "")), wantCfg)
			}},
		{name: "200/one field leaves the others", body: `{"maxVersions":3}`, status: 200,
			check: func(t *testing.T, _ *env, r *response) {
				want(t, "config", decode[configOut](t, r), configOut{DeactivateVersionAfter: "0s", MaxVersions: 3})
			}},
		{name: "200/a null member changes nothing", body: `{"casRequired":null,"maxVersions":0}`, status: 200,
			check: func(t *testing.T, _ *env, r *response) {
				want(t, "config", decode[configOut](t, r), configOut{DeactivateVersionAfter: "0s", MaxVersions: 0})
			}},
		{name: "400/nothing to change", body: `{}`, status: 400, class: "Client::BadRequest::SecretFieldRequired"},
		{name: "400/bad duration", body: `{"deactivateVersionAfter":"1w"}`, status: 400,
			class: "Client::BadRequest::SecretDeactivateVersionAfterInvalidDuration"},
		{name: "400/maxVersions over 24000", body: `{"maxVersions":24001}`, status: 400,
			class: "Client::BadRequest::SecretMaxVersionsMaxExceeded"},
		{name: "400/casRequired of the wrong type", body: `{"casRequired":"yes"}`, status: 400, class: clsBadJSON},
	}
	cases = append(cases, commonCases(nil, "/secretConfig", `{"maxVersions":5}`, 200, false)...)
	cases = append(cases, bodyCases(nil, "/secretConfig", false)...)
	runCases(t, "PUT", "/secretConfig", cases)
}
