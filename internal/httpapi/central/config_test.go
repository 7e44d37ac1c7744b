package central_test

import (
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

var configMembers = []string{"casRequired", "deactivateVersionAfter", "maxVersions"}

func TestGetSecretConfig(t *testing.T) {
	t.Parallel()
	cases := []apiCase{
		{Name: "200/the defaults of a new domain", Status: 200, Golden: "config_get",
			Check: func(t *testing.T, _ *env, r *response) {
				wantMembers(t, "config", r.Body, configMembers...)
				c := wiretest.DecodeBody[configOut](t, r)
				want(t, "config", c, configOut{CasRequired: false, DeactivateVersionAfter: "0s", MaxVersions: 10})
			}},
		{Name: "200/a configuration written through surface B", Status: 200,
			Setup: func(e *env) {
				e.Must("PUT", "/api/{okmsId}/v2/secretConfig", `{"casRequired":true,"deactivateVersionAfter":"1d","maxVersions":24}`)
			},
			Check: func(t *testing.T, _ *env, r *response) {
				want(t, "config", wiretest.DecodeBody[configOut](t, r), configOut{CasRequired: true, DeactivateVersionAfter: "1d", MaxVersions: 24})
			}},
	}
	cases = append(cases, commonCases(nil, "/secretConfig", "", 200, false)...)
	runCases(t, "GET", "/secretConfig", cases)
}

func TestUpdateSecretConfig(t *testing.T) {
	t.Parallel()
	cases := []apiCase{
		{Name: "200/every field, answered without warnings", Body: `{"casRequired":true,"deactivateVersionAfter":"1d","maxVersions":24}`,
			Status: 200, Golden: "config_update",
			Check: func(t *testing.T, e *env, r *response) {
				wantMembers(t, "config", r.Body, configMembers...)
				wantCfg := configOut{CasRequired: true, DeactivateVersionAfter: "1d", MaxVersions: 24}
				want(t, "response", wiretest.DecodeBody[configOut](t, r), wantCfg)
				want(t, "read back", wiretest.DecodeBody[configOut](t, e.Must("GET", "/secretConfig", "")), wantCfg)
			}},
		{Name: "200/one field leaves the others", Body: `{"maxVersions":3}`, Status: 200,
			Check: func(t *testing.T, _ *env, r *response) {
				want(t, "config", wiretest.DecodeBody[configOut](t, r), configOut{DeactivateVersionAfter: "0s", MaxVersions: 3})
			}},
		{Name: "200/a null member changes nothing", Body: `{"casRequired":null,"maxVersions":0}`, Status: 200,
			Check: func(t *testing.T, _ *env, r *response) {
				want(t, "config", wiretest.DecodeBody[configOut](t, r), configOut{DeactivateVersionAfter: "0s", MaxVersions: 0})
			}},
		{Name: "400/nothing to change", Body: `{}`, Status: 400, Err: "Client::BadRequest::SecretFieldRequired"},
		{Name: "400/bad duration", Body: `{"deactivateVersionAfter":"1w"}`, Status: 400,
			Err: "Client::BadRequest::SecretDeactivateVersionAfterInvalidDuration"},
		{Name: "400/maxVersions over 24000", Body: `{"maxVersions":24001}`, Status: 400,
			Err: "Client::BadRequest::SecretMaxVersionsMaxExceeded"},
		{Name: "400/casRequired of the wrong type", Body: `{"casRequired":"yes"}`, Status: 400, Err: clsBadJSON},
	}
	cases = append(cases, commonCases(nil, "/secretConfig", `{"maxVersions":5}`, 200, false)...)
	cases = append(cases, bodyCases(nil, "/secretConfig", false)...)
	runCases(t, "PUT", "/secretConfig", cases)
}
