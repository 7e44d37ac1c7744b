package rest

import (
	"encoding/json"
	"net/http"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// listSecrets serves GET /v2/secret (okms-rest.md 4.1).
func (a *API) listSecrets(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	pg, err := httpapi.ReadPage(r.Header)
	if err != nil {
		return err
	}
	page, err := a.svc.ListSecrets(r.Context(), c, domain, service.ListOptions{Cursor: pg.Cursor, Limit: pg.Size})
	if err != nil {
		return err
	}
	out := make([]api.GetSecretResponse, len(page.Items))
	for i, v := range page.Items {
		out[i] = toGetSecret(a.svc, domain, v)
	}
	httpapi.SetNext(w.Header(), page.Next)
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// createSecret serves POST /v2/secret (okms-rest.md 4.2).
func (a *API) createSecret(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	var req api.CreateSecretRequest
	if err := httpapi.DecodeStrictWithData(w, r, &req, func() json.RawMessage { return versionData(req.Version) }, secretMembers); err != nil {
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
	httpapi.WriteJSON(w, http.StatusOK, api.SecretResponse{Path: s.Path.String(), Metadata: toMetadata(a.svc, domain, s)})
	return nil
}

// getSecret serves GET /v2/secret/{path} (okms-rest.md 4.3).
func (a *API) getSecret(w http.ResponseWriter, r *http.Request, domain string, c service.Caller, p secret.Path) error {
	version, err := httpapi.VersionQuery(r)
	if err != nil {
		return err
	}
	include, err := httpapi.BoolQuery(r, "includeData")
	if err != nil {
		return err
	}
	v, err := a.svc.GetSecret(r.Context(), c, domain, p, service.GetOptions{Version: version, IncludeData: include})
	if err != nil {
		return err
	}
	writeGetSecret(w, toGetSecret(a.svc, domain, v))
	return nil
}

// updateSecret serves PUT /v2/secret/{path} (okms-rest.md 4.4).
func (a *API) updateSecret(w http.ResponseWriter, r *http.Request, domain string, c service.Caller, p secret.Path) error {
	cas, err := httpapi.CASQuery(r)
	if err != nil {
		return err
	}
	var req api.UpdateSecretRequest
	if err := httpapi.DecodeStrictWithData(w, r, &req, func() json.RawMessage { return versionData(req.Version) }, secretMembers); err != nil {
		return err
	}
	in, err := httpapi.ParseUpdate((*httpapi.MetadataFields)(req.Metadata), (*httpapi.VersionFields)(req.Version), cas)
	if err != nil {
		return err
	}
	s, err := a.svc.UpdateSecret(r.Context(), c, domain, p, in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, api.SecretResponse{Path: s.Path.String(), Metadata: toMetadata(a.svc, domain, s)})
	return nil
}

// deleteSecret serves DELETE /v2/secret/{path} (okms-rest.md 4.5).
func (a *API) deleteSecret(w http.ResponseWriter, r *http.Request, domain string, c service.Caller, p secret.Path) error {
	if err := a.svc.DeleteSecret(r.Context(), c, domain, p); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// begin checks the domain id and authenticates the caller.
func (a *API) begin(r *http.Request) (string, service.Caller, error) {
	domain, err := httpapi.DomainID(r)
	if err != nil {
		// Authenticate first so that an unauthenticated caller learns
		// nothing, not even which ids are well formed.
		if _, aerr := a.caller(r, ""); aerr != nil {
			return "", service.Caller{}, aerr
		}
		return "", service.Caller{}, err
	}
	c, err := a.caller(r, domain)
	return domain, c, err
}

// onSecret dispatches a /v2/secret/{rest...} request to the handler of its
// route kind and method.
type secretHandler func(w http.ResponseWriter, r *http.Request, domain string, c service.Caller, rt secretRoute) error

func (a *API) onSecret(w http.ResponseWriter, r *http.Request, byKind map[routeKind]secretHandler) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	rt, err := secretRouteOf(r)
	if err != nil {
		return err
	}
	h, ok := byKind[rt.kind]
	if !ok {
		return httpapi.ErrMethodNotAllowed
	}
	return h(w, r, domain, c, rt)
}

func onPath(h func(http.ResponseWriter, *http.Request, string, service.Caller, secret.Path) error) secretHandler {
	return func(w http.ResponseWriter, r *http.Request, domain string, c service.Caller, rt secretRoute) error {
		return h(w, r, domain, c, rt.path)
	}
}

func (a *API) getOnSecret(w http.ResponseWriter, r *http.Request) error {
	return a.onSecret(w, r, map[routeKind]secretHandler{
		routeSecret: onPath(a.getSecret), routeVersions: a.listVersions, routeVersion: a.getVersion,
	})
}

func (a *API) putOnSecret(w http.ResponseWriter, r *http.Request) error {
	return a.onSecret(w, r, map[routeKind]secretHandler{routeSecret: onPath(a.updateSecret), routeVersion: a.updateVersion})
}

func (a *API) postOnSecret(w http.ResponseWriter, r *http.Request) error {
	return a.onSecret(w, r, map[routeKind]secretHandler{routeVersions: a.addVersion})
}

func (a *API) deleteOnSecret(w http.ResponseWriter, r *http.Request) error {
	return a.onSecret(w, r, map[routeKind]secretHandler{routeSecret: onPath(a.deleteSecret)})
}
