package iamapi

import (
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// serviceAccountRequest is OVHcloud's POST /me/api/oauth2/client body
// (iam.md 7.4): name, description, flow, and callbackUrls, which the
// client-credentials flow leaves empty (terraform-provider-ovh sends []).
type serviceAccountRequest struct {
	Name         string   `json:"name"`
	Description  string   `json:"description"`
	Flow         string   `json:"flow"`
	CallbackURLs []string `json:"callbackUrls"`
}

// serviceAccountCreated is OVHcloud's answer to the creation: the only
// response that carries the client secret (shown once).
type serviceAccountCreated struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// serviceAccountResponse is OVHcloud's GET /me/api/oauth2/client/{clientId}
// answer, never the secret: identity is the URN policies and certificates
// name.
type serviceAccountResponse struct {
	CallbackURLs []string `json:"callbackUrls"`
	ClientID     string   `json:"clientId"`
	Description  string   `json:"description"`
	Flow         string   `json:"flow"`
	Identity     string   `json:"identity"`
	Name         string   `json:"name"`
}

func toServiceAccount(sa service.ServiceAccount) serviceAccountResponse {
	return serviceAccountResponse{CallbackURLs: []string{}, ClientID: sa.ClientID, Description: sa.Description,
		Flow: sa.Flow, Identity: sa.URN, Name: sa.Name}
}

// listServiceAccounts serves GET /1.0/me/api/oauth2/client: the client
// ids, as OVHcloud answers.
func (a *API) listServiceAccounts(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	sas, err := a.svc.ListServiceAccounts(r.Context(), c)
	if err == nil {
		sas, err = pageOf(w, r, a.svc, c, service.Listing{Kind: service.ListServiceAccounts}, sas,
			func(sa service.ServiceAccount) string { return sa.ClientID })
	}
	if err != nil {
		return err
	}
	out := make([]string, len(sas))
	for i, sa := range sas {
		out[i] = sa.ClientID
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// createServiceAccount serves POST /1.0/me/api/oauth2/client. The answer
// holds the client secret, which coffer does not keep.
func (a *API) createServiceAccount(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	var req serviceAccountRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	sa, secret, err := a.svc.CreateServiceAccount(r.Context(), c, service.ServiceAccountInput{Name: req.Name,
		Description: req.Description, Flow: req.Flow, CallbackURLs: req.CallbackURLs})
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, serviceAccountCreated{ClientID: sa.ClientID, ClientSecret: secret})
	return nil
}

// getServiceAccount serves GET /1.0/me/api/oauth2/client/{clientId}.
func (a *API) getServiceAccount(w http.ResponseWriter, r *http.Request) error {
	c, id, err := a.begin(r, clientID)
	if err != nil {
		return err
	}
	sa, err := a.svc.GetServiceAccount(r.Context(), c, id)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toServiceAccount(sa))
	return nil
}

// deleteServiceAccount serves DELETE /1.0/me/api/oauth2/client/{clientId}:
// its access tokens stop working at once, and certificates naming it no
// longer authenticate as it.
func (a *API) deleteServiceAccount(w http.ResponseWriter, r *http.Request) error {
	c, id, err := a.begin(r, clientID)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteServiceAccount(r.Context(), c, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// clientID returns the {clientId} of a route on one service account: 16
// lowercase hexadecimal digits, or the account cannot exist.
func clientID(r *http.Request) (string, error) {
	id := r.PathValue("clientId")
	if !policy.ValidClientID(id) {
		return "", service.ErrServiceAccountNotFound
	}
	return id, nil
}
