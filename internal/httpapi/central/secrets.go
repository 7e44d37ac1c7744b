package central

import (
	"encoding/json"
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// listSecrets serves GET /v2/okms/resource/{okmsId}/secret (okms-rest.md
// 5.2): one page of GetResponseWithIAM items, versions without data.
func (a *API) listSecrets(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	if r.URL.Query().Has("iamTags") {
		// okms-rest.md 5.1: no resource tags in coffer; refusing beats
		// answering unfiltered.
		return errIamTags
	}
	pg, err := httpapi.ReadPage(r.Header)
	if err != nil {
		return err
	}
	page, err := a.svc.ListSecrets(r.Context(), c, domain, service.ListOptions{Cursor: pg.Cursor, Limit: pg.Size})
	if err != nil {
		return err
	}
	out := make([]getSecretResponse, len(page.Items))
	for i, v := range page.Items {
		out[i] = a.toGetSecret(domain, v)
	}
	httpapi.SetNext(w.Header(), page.Next)
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// createSecret serves POST /v2/okms/resource/{okmsId}/secret (okms-rest.md
// 5.2): 200 {path, metadata}.
func (a *API) createSecret(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	var req creationRequest
	if err := httpapi.DecodeWithData(w, r, &req, func() json.RawMessage { return versionData(req.Version) }); err != nil {
		return err
	}
	p, d, meta, err := httpapi.ParseCreate(req.Path, (*httpapi.MetadataFields)(req.Metadata), (*httpapi.VersionFields)(req.Version))
	if err != nil {
		return err
	}
	s, err := a.svc.CreateSecret(r.Context(), c, domain, p, d, meta)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toSecret(s))
	return nil
}

// getSecret serves GET /v2/okms/resource/{okmsId}/secret/{path}
// (okms-rest.md 5.2): GetResponseWithIAM, with data on includeData=true.
func (a *API) getSecret(w http.ResponseWriter, r *http.Request, domain string, c service.Caller, rt httpapi.SecretRoute) error {
	version, err := httpapi.VersionQuery(r)
	if err != nil {
		return err
	}
	include, err := httpapi.BoolQuery(r, "includeData")
	if err != nil {
		return err
	}
	v, err := a.svc.GetSecret(r.Context(), c, domain, rt.Path, service.GetOptions{Version: version, IncludeData: include})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, a.toGetSecret(domain, v))
	return nil
}

// updateSecret serves PUT /v2/okms/resource/{okmsId}/secret/{path}
// (okms-rest.md 5.2, 4.4): metadata and/or a new version, 200
// {path, metadata}. The service adds secret/edit for the Central dialect.
func (a *API) updateSecret(w http.ResponseWriter, r *http.Request, domain string, c service.Caller, rt httpapi.SecretRoute) error {
	cas, err := httpapi.CASQuery(r)
	if err != nil {
		return err
	}
	var req updateRequest
	if err := httpapi.DecodeWithData(w, r, &req, func() json.RawMessage { return versionData(req.Version) }); err != nil {
		return err
	}
	in, err := httpapi.ParseUpdate((*httpapi.MetadataFields)(req.Metadata), (*httpapi.VersionFields)(req.Version), cas)
	if err != nil {
		return err
	}
	s, err := a.svc.UpdateSecret(r.Context(), c, domain, rt.Path, in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toSecret(s))
	return nil
}

// deleteSecret serves DELETE /v2/okms/resource/{okmsId}/secret/{path}
// (okms-rest.md 5.2): 204, no body.
func (a *API) deleteSecret(w http.ResponseWriter, r *http.Request, domain string, c service.Caller, rt httpapi.SecretRoute) error {
	if err := a.svc.DeleteSecret(r.Context(), c, domain, rt.Path); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// secretHandler serves one method on one kind of secret route.
type secretHandler func(w http.ResponseWriter, r *http.Request, domain string, c service.Caller, rt httpapi.SecretRoute) error

// onSecret dispatches a .../secret/{rest...} request to the handler of its
// route kind; a kind without one answers 405.
func (a *API) onSecret(w http.ResponseWriter, r *http.Request, byKind map[httpapi.RouteKind]secretHandler) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	rt, err := secretRouteOf(r)
	if err != nil {
		return err
	}
	h, ok := byKind[rt.Kind]
	if !ok {
		return httpapi.ErrMethodNotAllowed
	}
	return h(w, r, domain, c, rt)
}

func (a *API) getOnSecret(w http.ResponseWriter, r *http.Request) error {
	return a.onSecret(w, r, map[httpapi.RouteKind]secretHandler{
		httpapi.RouteSecret: a.getSecret, httpapi.RouteVersions: a.listVersions, httpapi.RouteVersion: a.getVersion,
	})
}

func (a *API) putOnSecret(w http.ResponseWriter, r *http.Request) error {
	return a.onSecret(w, r, map[httpapi.RouteKind]secretHandler{
		httpapi.RouteSecret: a.updateSecret, httpapi.RouteVersion: a.updateVersion,
	})
}

func (a *API) postOnSecret(w http.ResponseWriter, r *http.Request) error {
	return a.onSecret(w, r, map[httpapi.RouteKind]secretHandler{httpapi.RouteVersions: a.addVersion})
}

func (a *API) deleteOnSecret(w http.ResponseWriter, r *http.Request) error {
	return a.onSecret(w, r, map[httpapi.RouteKind]secretHandler{httpapi.RouteSecret: a.deleteSecret})
}
