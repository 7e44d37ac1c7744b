package central

import (
	"encoding/json"
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// listVersions serves GET .../secret/{path}/version (okms-rest.md 5.2,
// 4.6): one page of versions without data, ascending by id.
func (a *API) listVersions(w http.ResponseWriter, r *http.Request, domain string, c service.Caller, rt httpapi.SecretRoute) error {
	pg, err := httpapi.ReadPage(r.Header)
	if err != nil {
		return err
	}
	vs, next, err := a.svc.ListVersions(r.Context(), c, domain, rt.Path, pg.Cursor, pg.Size)
	if err != nil {
		return err
	}
	out := make([]*secretVersion, len(vs))
	for i, v := range vs {
		out[i] = toVersion(v, nil)
	}
	httpapi.SetNext(w.Header(), next)
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// addVersion serves POST .../secret/{path}/version (okms-rest.md 5.2,
// 4.7): the new version, without data.
func (a *API) addVersion(w http.ResponseWriter, r *http.Request, domain string, c service.Caller, rt httpapi.SecretRoute) error {
	cas, err := httpapi.CASQuery(r)
	if err != nil {
		return err
	}
	var req versionInput
	if err := httpapi.DecodeWithData(w, r, &req, func() json.RawMessage { return req.Data }); err != nil {
		return err
	}
	d, err := httpapi.ParseData(req.Data, "data")
	if err != nil {
		return err
	}
	v, _, err := a.svc.PutVersion(r.Context(), c, domain, rt.Path, d, service.PutOptions{CAS: cas})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toVersion(v, nil))
	return nil
}

// getVersion serves GET .../secret/{path}/version/{version} (okms-rest.md
// 5.2, 4.8): the version, with data on includeData=true if it is active.
func (a *API) getVersion(w http.ResponseWriter, r *http.Request, domain string, c service.Caller, rt httpapi.SecretRoute) error {
	include, err := httpapi.BoolQuery(r, "includeData")
	if err != nil {
		return err
	}
	v, d, err := a.svc.GetVersion(r.Context(), c, domain, rt.Path, rt.Version, include)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toVersion(v, d))
	return nil
}

// updateVersion serves PUT .../secret/{path}/version/{version}
// (okms-rest.md 5.2, 3.4): {state} in upper case, answered with
// UpdateResponse {id, state, createdAt, deactivatedAt}. The service adds
// secret/version/edit for the Central dialect.
func (a *API) updateVersion(w http.ResponseWriter, r *http.Request, domain string, c service.Caller, rt httpapi.SecretRoute) error {
	var req versionUpdateRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.State == nil {
		return secret.Required("state")
	}
	st, err := parseState(*req.State)
	if err != nil {
		return err
	}
	v, err := a.svc.SetVersionState(r.Context(), c, domain, rt.Path, rt.Version, st)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toVersion(v, nil))
	return nil
}
