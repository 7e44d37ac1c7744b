package central

import (
	"net/http"
	"strings"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/servicekey"
)

// Service keys on surface A, the central API (issue 15): the routes
// OVHcloud's Control Panel, terraform's ovh_okms_service_key* resources
// and Pulumi call. States and deactivation reasons are upper case; the iam
// block carries the key's type and state as ovh: tags, which terraform
// compares with the key's own members.

// keyRoutes registers the service key routes of surface A.
func (a *API) keyRoutes() {
	const base = "/v2/okms/resource/{okmsId}/serviceKey"
	a.handle("GET "+base, a.listServiceKeys)
	a.handle("POST "+base, a.createServiceKey)
	a.handle(base, httpapi.NotAllowed)
	a.handle("GET "+base+"/{keyId}", a.getServiceKey)
	a.handle("PUT "+base+"/{keyId}", a.updateServiceKey)
	a.handle("DELETE "+base+"/{keyId}", a.deleteServiceKey)
	a.handle(base+"/{keyId}", httpapi.NotAllowed)
	a.handle("GET /v2/okms/reference/serviceKey", a.serviceKeyReference)
	a.handle("/v2/okms/reference/serviceKey", httpapi.NotAllowed)
}

// serviceKeyCreation is okms.serviceKey.Creation: a generation (type,
// size or curve) or an import (keys).
type serviceKeyCreation struct {
	Name       string           `json:"name"`
	Type       *string          `json:"type"`
	Size       *int             `json:"size"`
	Curve      *string          `json:"curve"`
	Operations []string         `json:"operations"`
	Context    *string          `json:"context"`
	Keys       []api.JSONWebKey `json:"keys"`
}

// serviceKeyUpdate is okms.serviceKey.Update: a new name, and a state with
// the reason of a deactivation.
type serviceKeyUpdate struct {
	Name               *string `json:"name"`
	State              *string `json:"state"`
	DeactivationReason *string `json:"deactivationReason"`
}

type pemKey struct {
	PEM string `json:"pem"`
}

// serviceKeyResponse is okms.serviceKey.ResponseWithIAM. Its JWKs have
// the members of surface B's (api.JSONWebKey). Size is null for
// EC keys, curve for the others; keys and keysPEM appear with
// format=JWK and format=PEM.
type serviceKeyResponse struct {
	ID                 string           `json:"id"`
	Name               string           `json:"name"`
	Type               string           `json:"type"`
	Size               *int             `json:"size"`
	Curve              *string          `json:"curve"`
	Operations         []string         `json:"operations"`
	Context            *string          `json:"context"`
	State              string           `json:"state"`
	DeactivationReason *string          `json:"deactivationReason"`
	CreatedAt          string           `json:"createdAt"`
	Keys               []api.JSONWebKey `json:"keys,omitempty"`
	KeysPEM            []pemKey         `json:"keysPEM,omitempty"`
	IAM                resourceIAM      `json:"iam"`
}

func (a *API) toServiceKey(domain string, v service.KeyView, format string) serviceKeyResponse {
	k := v.Key
	state := strings.ToUpper(k.State.String())
	out := serviceKeyResponse{
		ID: k.ID, Name: k.Name, Type: string(k.Type), Operations: httpapi.UsageNames(k.Usages), State: state,
		CreatedAt: httpapi.TimeText(k.CreatedAt),
		IAM: resourceIAM{ID: k.ID, URN: a.svc.ServiceKeyURN(domain, k.ID), DisplayName: k.Name, State: "OK",
			Tags: map[string]string{"ovh:type": string(k.Type), "ovh:state": state}},
	}
	if k.Size != 0 {
		out.Size = &k.Size
	}
	if k.Curve != "" {
		c := string(k.Curve)
		out.Curve = &c
	}
	if k.Context != "" {
		out.Context = &k.Context
	}
	if k.State != servicekey.Active && k.Reason != "" {
		r := strings.ToUpper(string(k.Reason))
		out.DeactivationReason = &r
	}
	if p := v.Public; p != nil {
		switch {
		case format == "PEM" && p.PEM != "":
			out.KeysPEM = []pemKey{{PEM: p.PEM}}
		case format == "JWK":
			out.Keys = []api.JSONWebKey{api.JSONWebKey(httpapi.PublicJWK(k, p))}
		}
	}
	return out
}

// listServiceKeys serves GET /v2/okms/resource/{okmsId}/serviceKey:
// the keys the caller may serviceKey/get, with pagination headers.
func (a *API) listServiceKeys(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	pg, err := httpapi.ReadPage(r.Header)
	if err != nil {
		return err
	}
	page, err := a.svc.ListServiceKeys(r.Context(), c, domain, service.KeyListOptions{Cursor: pg.Cursor, Limit: pg.Size})
	if err != nil {
		return err
	}
	out := make([]serviceKeyResponse, len(page.Items))
	for i, k := range page.Items {
		out[i] = a.toServiceKey(domain, service.KeyView{Key: k}, "")
	}
	httpapi.SetNext(w.Header(), page.Next)
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// createServiceKey serves POST /v2/okms/resource/{okmsId}/serviceKey.
func (a *API) createServiceKey(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	var req serviceKeyCreation
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	in, err := keyCreation(req)
	if err != nil {
		return err
	}
	v, err := a.svc.CreateServiceKey(r.Context(), c, domain, in)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, a.toServiceKey(domain, v, ""))
	return nil
}

func keyCreation(req serviceKeyCreation) (service.KeyInput, error) {
	in := service.KeyInput{Name: req.Name, Operations: req.Operations}
	if req.Type != nil {
		in.Type = *req.Type
	}
	if req.Size != nil {
		in.Size = *req.Size
	}
	if req.Curve != nil {
		in.Curve = *req.Curve
	}
	if req.Context != nil {
		in.Context = *req.Context
	}
	for _, j := range req.Keys {
		k, err := httpapi.ParseJWK(httpapi.JWKFields(j))
		if err != nil {
			return in, err
		}
		in.Keys = append(in.Keys, k)
	}
	return in, nil
}

// getServiceKey serves GET .../serviceKey/{keyId}?format=JWK|PEM.
func (a *API) getServiceKey(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	format := strings.ToUpper(httpapi.Query(r).Get("format"))
	if format != "" && format != "JWK" && format != "PEM" {
		return &httpapi.QueryError{Msg: "format must be JWK or PEM"}
	}
	v, err := a.svc.GetServiceKey(r.Context(), c, domain, r.PathValue("keyId"), service.KeyGetOptions{Public: format != ""})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, a.toServiceKey(domain, v, format))
	return nil
}

// updateServiceKey serves PUT .../serviceKey/{keyId}: a new name, and a
// state (ACTIVE, DEACTIVATED or COMPROMISED) with a deactivation reason.
func (a *API) updateServiceKey(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	var req serviceKeyUpdate
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	ch, err := keyChange(req)
	if err != nil {
		return err
	}
	k, err := a.svc.UpdateServiceKey(r.Context(), c, domain, r.PathValue("keyId"), ch)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, a.toServiceKey(domain, service.KeyView{Key: k}, ""))
	return nil
}

// keyChange maps surface A's update to the service's: DEACTIVATED needs a
// reason (ServiceKeyDeactivationReasonRequired); COMPROMISED is a
// deactivation for KEY_COMPROMISE unless a compromise reason is given.
func keyChange(req serviceKeyUpdate) (service.KeyChange, error) {
	ch := service.KeyChange{Name: req.Name}
	if req.State == nil {
		return ch, nil
	}
	reason := ""
	if req.DeactivationReason != nil {
		reason = strings.ToLower(*req.DeactivationReason)
	}
	switch *req.State {
	case "ACTIVE":
		ch.Activate = true
	case "DEACTIVATED":
		ch.Deactivate = &reason
	case "COMPROMISED":
		if reason == "" {
			reason = string(servicekey.ReasonKeyCompromise)
		}
		if !servicekey.Reason(reason).Compromise() {
			return ch, servicekey.Violations{{Field: servicekey.FieldDeactivationReason, Rule: servicekey.RuleIncompatible,
				Reason: "state COMPROMISED needs deactivationReason KEY_COMPROMISE or CA_COMPROMISE"}}
		}
		ch.Deactivate = &reason
	default:
		return ch, servicekey.Invalid(servicekey.FieldState, "state must be one of ACTIVE, DEACTIVATED, COMPROMISED")
	}
	return ch, nil
}

// deleteServiceKey serves DELETE .../serviceKey/{keyId} (204): the key
// must be deactivated first.
func (a *API) deleteServiceKey(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteServiceKey(r.Context(), c, domain, r.PathValue("keyId")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// choice is one value of the reference, and whether it is the default.
type choice[T any] struct {
	Value   T    `json:"value"`
	Default bool `json:"default"`
}

// serviceKeyReference is okms.reference.serviceKey.Response, one per type.
type serviceKeyReference struct {
	Type            string             `json:"type"`
	Default         bool               `json:"default"`
	Sizes           []choice[int]      `json:"sizes"`
	Curves          []choice[string]   `json:"curves"`
	Operations      []choice[[]string] `json:"operations"`
	ProtectionLevel []choice[string]   `json:"protectionLevel"`
}

// serviceKeyReference serves GET /v2/okms/reference/serviceKey: the types,
// sizes, curves and usage combinations a key may have. Any authenticated
// caller may read it; region, when given, must be one of the
// installation's.
func (a *API) serviceKeyReference(w http.ResponseWriter, r *http.Request) error {
	if _, err := a.caller(r); err != nil {
		return err
	}
	if region := httpapi.Query(r).Get("region"); region != "" && !a.svc.HasRegion(region) {
		return service.ErrRegionNotFound
	}
	var out []serviceKeyReference
	for _, ref := range a.svc.ServiceKeyReference() {
		row := serviceKeyReference{Type: string(ref.Type), Default: ref.Default, Sizes: []choice[int]{}, Curves: []choice[string]{},
			ProtectionLevel: []choice[string]{{Value: servicekey.ProtectionSoftware, Default: true}}}
		for _, s := range ref.Sizes {
			row.Sizes = append(row.Sizes, choice[int]{s.Value, s.Default})
		}
		for _, c := range ref.Curves {
			row.Curves = append(row.Curves, choice[string]{string(c.Value), c.Default})
		}
		for _, o := range ref.Operations {
			row.Operations = append(row.Operations, choice[[]string]{httpapi.UsageNames(servicekey.UsagesOf(o.Value...)), o.Default})
		}
		out = append(out, row)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}
