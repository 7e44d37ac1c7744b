package central

import (
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
)

// domainResponse is okms.resource.ResponseWithIAM, without the counters
// that arrive with the domain lifecycle (issue #5).
type domainResponse struct {
	ID              string      `json:"id"`
	Region          string      `json:"region"`
	RestEndpoint    string      `json:"restEndpoint"`
	KmipEndpoint    string      `json:"kmipEndpoint"`
	KmipRsaEndpoint *string     `json:"kmipRsaEndpoint"`
	PublicRsaCA     *string     `json:"publicRsaCA"`
	SwaggerEndpoint string      `json:"swaggerEndpoint"`
	IAM             resourceIAM `json:"iam"`
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
		out[i] = domainResponse{
			ID: d.ID, Region: d.Region, RestEndpoint: a.publicURL, SwaggerEndpoint: a.publicURL + "/docs",
			IAM: resourceIAM{ID: d.ID, URN: a.svc.DomainURN(d.ID), DisplayName: d.DisplayName, State: "OK"},
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}
