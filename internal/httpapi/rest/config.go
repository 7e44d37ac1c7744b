package rest

import (
	"net/http"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
)

// getConfig serves GET /v2/secretConfig (okms-rest.md 4.10).
func (a *API) getConfig(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	cfg, err := a.svc.GetConfig(r.Context(), c, domain)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toConfig(cfg))
	return nil
}

// updateConfig serves PUT /v2/secretConfig (okms-rest.md 4.10).
func (a *API) updateConfig(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	var req api.UpdateSecretConfigRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	u, err := httpapi.ParseConfigUpdate(httpapi.ConfigFields(req))
	if err != nil {
		return err
	}
	cfg, err := a.svc.UpdateConfig(r.Context(), c, domain, u)
	if err != nil {
		return err
	}
	out := toConfig(cfg)
	httpapi.WriteJSON(w, http.StatusOK, api.SecretConfigResponse{
		CasRequired: out.CasRequired, DeactivateVersionAfter: out.DeactivateVersionAfter, MaxVersions: out.MaxVersions,
	})
	return nil
}
