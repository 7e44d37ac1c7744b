package rest

import (
	"encoding/json"
	"net/http"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// listVersions serves GET /v2/secret/{path}/version (okms-rest.md 4.6).
func (a *API) listVersions(w http.ResponseWriter, r *http.Request, domain string, c service.Caller, rt secretRoute) error {
	pg, err := httpapi.ReadPage(r.Header)
	if err != nil {
		return err
	}
	vs, next, err := a.svc.ListVersions(r.Context(), c, domain, rt.path, pg.Cursor, pg.Size)
	if err != nil {
		return err
	}
	out := make([]*api.SecretVersion, len(vs))
	for i, v := range vs {
		out[i] = toVersion(v, nil)
	}
	httpapi.SetNext(w.Header(), next)
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// addVersion serves POST /v2/secret/{path}/version (okms-rest.md 4.7).
func (a *API) addVersion(w http.ResponseWriter, r *http.Request, domain string, c service.Caller, rt secretRoute) error {
	cas, err := httpapi.CASQuery(r)
	if err != nil {
		return err
	}
	var req api.AddVersionRequest
	if err := httpapi.DecodeWithData(w, r, &req, func() json.RawMessage { return req.Data }); err != nil {
		return err
	}
	d, err := httpapi.ParseData(req.Data, "data")
	if err != nil {
		return err
	}
	v, _, err := a.svc.PutVersion(r.Context(), c, domain, rt.path, d, service.PutOptions{CAS: cas})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toVersion(v, nil))
	return nil
}

// getVersion serves GET /v2/secret/{path}/version/{version} (okms-rest.md 4.8).
func (a *API) getVersion(w http.ResponseWriter, r *http.Request, domain string, c service.Caller, rt secretRoute) error {
	include, err := httpapi.BoolQuery(r, "includeData")
	if err != nil {
		return err
	}
	v, d, err := a.svc.GetVersion(r.Context(), c, domain, rt.path, rt.version, include)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toVersion(v, d))
	return nil
}

// updateVersion serves PUT /v2/secret/{path}/version/{version}
// (okms-rest.md 4.9).
func (a *API) updateVersion(w http.ResponseWriter, r *http.Request, domain string, c service.Caller, rt secretRoute) error {
	var req api.UpdateVersionRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.State == nil {
		return secret.Required("state")
	}
	st, err := secret.ParseState(*req.State)
	if err != nil {
		return err
	}
	v, err := a.svc.SetVersionState(r.Context(), c, domain, rt.path, rt.version, st)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toVersion(v, nil))
	return nil
}
