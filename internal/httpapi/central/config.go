package central

import (
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
)

// getConfig serves GET /v2/okms/resource/{okmsId}/secretConfig
// (okms-rest.md 5.2, 4.10).
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

// updateConfig serves PUT /v2/okms/resource/{okmsId}/secretConfig
// (okms-rest.md 5.2, 4.10): the three fields, without warnings.
func (a *API) updateConfig(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	var req configUpdateRequest
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
	httpapi.WriteJSON(w, http.StatusOK, toConfig(cfg))
	return nil
}
