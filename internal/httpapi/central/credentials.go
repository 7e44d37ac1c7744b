package central

import (
	"errors"
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// credentialCreation is okms.credential.Creation (okms-rest.md 5.4).
type credentialCreation struct {
	Name            string   `json:"name"`
	Description     string   `json:"description"`
	IdentityURNs    []string `json:"identityURNs"`
	Validity        *int     `json:"validity"`
	CertificateType string   `json:"certificateType"`
	CSR             string   `json:"csr"`
}

// credentialResponse is okms.credential.GetResponse; the creation response
// adds privateKeyPEM, only when coffer generated the key.
type credentialResponse struct {
	ID              string   `json:"id"`
	Name            string   `json:"name"`
	Description     string   `json:"description"`
	IdentityURNs    []string `json:"identityURNs"`
	Status          string   `json:"status"`
	FromCSR         bool     `json:"fromCSR"`
	CertificateType string   `json:"certificateType"`
	CreatedAt       string   `json:"createdAt"`
	ExpiredAt       string   `json:"expiredAt"`
	CertificatePEM  string   `json:"certificatePEM"`
	// Issuer is coffer's extra member (as certificatePEM is in a creation
	// response): the URN of the user (or the account) that issued the
	// credential, which dies with it (issue 13). Absent for credentials
	// issued before coffer recorded issuers.
	Issuer        string  `json:"issuer,omitempty"`
	PrivateKeyPEM *string `json:"privateKeyPEM,omitempty"`
}

func toCredential(c service.Credential) credentialResponse {
	return credentialResponse{ID: c.ID, Name: c.Name, Description: c.Description, IdentityURNs: c.IdentityURNs,
		Status: c.Status, FromCSR: c.FromCSR, CertificateType: c.CertificateType,
		CreatedAt: httpapi.TimeText(c.CreatedAt), ExpiredAt: httpapi.TimeText(c.ExpiredAt), CertificatePEM: c.CertificatePEM,
		Issuer: c.Issuer}
}

var errCredentialCursor = errors.New("the pagination cursor is invalid")

// listCredentials serves GET /v2/okms/resource/{okmsId}/credential.
func (a *API) listCredentials(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	pg, err := httpapi.ReadPage(r.Header)
	if err != nil {
		return err
	}
	creds, next, err := a.svc.ListCredentials(r.Context(), c, domain, pg.Cursor, pg.Size)
	if errors.Is(err, service.ErrCursorInvalid) {
		return errCredentialCursor
	}
	if err != nil {
		return err
	}
	out := make([]credentialResponse, len(creds))
	for i, cr := range creds {
		out[i] = toCredential(cr)
	}
	httpapi.SetNext(w.Header(), next)
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// createCredential serves POST /v2/okms/resource/{okmsId}/credential.
func (a *API) createCredential(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	var req credentialCreation
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	in := service.CredentialInput{Name: req.Name, Description: req.Description, IdentityURNs: req.IdentityURNs,
		CertificateType: req.CertificateType, CSR: req.CSR}
	if req.Validity != nil {
		if *req.Validity < 1 {
			return &service.InvalidError{Field: "CredentialValidityMinimumRequired", Reason: "validity must be between 1 and 365 days"}
		}
		in.ValidityDays = *req.Validity
	}
	cred, key, err := a.svc.CreateCredential(r.Context(), c, domain, in)
	if err != nil {
		return err
	}
	out := toCredential(cred)
	if len(key) > 0 {
		k := string(key)
		out.PrivateKeyPEM = &k
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// getCredential serves GET /v2/okms/resource/{okmsId}/credential/{credentialId}.
func (a *API) getCredential(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	cred, err := a.svc.GetCredential(r.Context(), c, domain, r.PathValue("credentialId"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toCredential(cred))
	return nil
}

// revokeCredential serves DELETE /v2/okms/resource/{okmsId}/credential/{credentialId}.
func (a *API) revokeCredential(w http.ResponseWriter, r *http.Request) error {
	domain, c, err := a.begin(r)
	if err != nil {
		return err
	}
	cred, err := a.svc.RevokeCredential(r.Context(), c, domain, r.PathValue("credentialId"))
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toCredential(cred))
	return nil
}
