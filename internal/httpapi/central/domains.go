package central

import (
	"encoding/json"
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// domainResponse is okms.resource.ResponseWithIAM (okms-rest.md 5.3).
type domainResponse struct {
	ID                 string          `json:"id"`
	Region             string          `json:"region"`
	RestEndpoint       string          `json:"restEndpoint"`
	KmipEndpoint       string          `json:"kmipEndpoint"`
	KmipRsaEndpoint    *string         `json:"kmipRsaEndpoint"`
	PublicRsaCA        *string         `json:"publicRsaCA"`
	PublicCA           json.RawMessage `json:"publicCA,omitempty"` // a PEM string or null, only with ?publicCA=true
	SwaggerEndpoint    string          `json:"swaggerEndpoint"`
	SecretCount        int             `json:"secretCount"`
	SecretVersionCount int             `json:"secretVersionCount"`
	ServiceKeyCount    int             `json:"serviceKeyCount"`
	KmipObjectCount    int             `json:"kmipObjectCount"`
	IAM                resourceIAM     `json:"iam"`
}

// iamState renders a domain's lifecycle state in the iam block: OVH's
// resource states are IN_CREATION and OK.
var iamState = map[string]string{
	service.DomainCreating: "IN_CREATION",
	service.DomainReady:    "OK",
	service.DomainDeleting: "DELETING",
}

func (a *API) toDomain(d service.DomainInfo, withCA bool) domainResponse {
	out := domainResponse{
		ID: d.ID, Region: d.Region, RestEndpoint: a.publicURL, SwaggerEndpoint: a.publicURL + "/docs",
		SecretCount: d.SecretCount, SecretVersionCount: d.SecretVersionCount, ServiceKeyCount: d.ServiceKeyCount,
		IAM: resourceIAM{ID: d.ID, URN: a.svc.DomainURN(d.ID), DisplayName: d.DisplayName, State: iamState[d.State]},
	}
	if withCA {
		// null when coffer serves a certificate clients already trust.
		out.PublicCA = json.RawMessage("null")
		if a.publicCA != "" {
			out.PublicCA, _ = json.Marshal(a.publicCA)
		}
	}
	return out
}

// listDomains serves GET /v2/okms/resource (okms-rest.md 5.3).
func (a *API) listDomains(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	ds, err := a.svc.ListDomains(r.Context(), c)
	if err != nil {
		return err
	}
	out := make([]domainResponse, len(ds))
	for i, d := range ds {
		out[i] = a.toDomain(d, false)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// createDomainRequest activates a domain in a region (coffer's extension
// of okms-rest.md 5.3).
type createDomainRequest struct {
	Region      string `json:"region"`
	DisplayName string `json:"displayName"`
}

// createDomain serves POST /v2/okms/resource: the domain is returned at
// once in state IN_CREATION and becomes OK when its keys exist.
func (a *API) createDomain(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	var req createDomainRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.Region == "" {
		return &service.InvalidError{Field: "RegionRequired", Reason: "region is required (see GET /v2/okms/reference/regions)"}
	}
	d, err := a.svc.CreateDomain(r.Context(), c, req.Region, req.DisplayName)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, a.toDomain(service.DomainInfo{Domain: d}, false))
	return nil
}

// getDomain serves GET /v2/okms/resource/{okmsId}[?publicCA=true].
func (a *API) getDomain(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	withCA, err := httpapi.BoolQuery(r, "publicCA")
	if err != nil {
		return err
	}
	d, err := a.svc.GetDomain(r.Context(), c, domain)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, a.toDomain(d, withCA))
	return nil
}

// renameDomainRequest renames a domain.
type renameDomainRequest struct {
	DisplayName *string `json:"displayName"`
}

// renameDomain serves PUT /v2/okms/resource/{okmsId} with {displayName}.
func (a *API) renameDomain(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	var req renameDomainRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	if req.DisplayName == nil {
		return &service.InvalidError{Field: "DisplayNameRequired", Reason: "displayName is required"}
	}
	if _, err := a.svc.RenameDomain(r.Context(), c, domain, *req.DisplayName); err != nil {
		return err
	}
	d, err := a.svc.GetDomain(r.Context(), c, domain)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, a.toDomain(d, false))
	return nil
}

// deleteDomain serves DELETE /v2/okms/resource/{okmsId}?confirm={okmsId}:
// the domain, its secrets, versions, credentials and keys are deleted.
// Because the domain is shared with the Key Management Service, the id
// must be repeated in confirm.
func (a *API) deleteDomain(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteDomain(r.Context(), c, domain, r.URL.Query().Get("confirm")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// regionResponse is okms.reference.Region.
type regionResponse struct {
	ID             string   `json:"id"`
	RestEndpoint   string   `json:"restEndpoint"`
	KmipEndpoint   string   `json:"kmipEndpoint"`
	Type           string   `json:"type"`
	Certifications []string `json:"certifications"`
}

// listRegions serves GET /v2/okms/reference/regions.
func (a *API) listRegions(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.caller(r); err != nil {
		return err
	}
	regions := a.svc.Regions()
	out := make([]regionResponse, len(regions))
	for i, rg := range regions {
		out[i] = regionResponse{ID: rg.ID, RestEndpoint: a.publicURL, Type: "REGION-1-AZ", Certifications: []string{}}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// regionConfigResponse is the region's default secret configuration.
type regionConfigResponse struct {
	CasRequired bool   `json:"casRequired"`
	MaxVersions uint32 `json:"maxVersions"`
}

// regionSecretConfig serves GET /v2/okms/reference/secretConfig?region=.
func (a *API) regionSecretConfig(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.caller(r); err != nil {
		return err
	}
	region := r.URL.Query().Get("region")
	if region == "" {
		return &service.InvalidError{Field: "RegionRequired", Reason: "the region query parameter is required"}
	}
	cfg, err := a.svc.RegionDefaults(region)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, regionConfigResponse{CasRequired: cfg.CASRequired, MaxVersions: cfg.MaxVersions})
	return nil
}
