package sys

import (
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
)

// Key management of a running server (reliability-security.md 2):
//
//	POST /sys/master-key/rotate              re-seal every keyring under a new root key
//	POST /sys/domains/{okmsId}/key/rotate    give a domain a new key term
//
// Rotating the root key re-encrypts no secret: data records are sealed
// under key terms, which the keyring holds. Rotating a domain key adds a
// term to the domain's key family: new writes use it at once, versions
// written before still open under theirs.

// rootKeyRotationResponse is the answer of POST /sys/master-key/rotate.
type rootKeyRotationResponse struct {
	KeyFile string   `json:"keyFile,omitempty"` // "" in dev mode
	Regions []string `json:"regions"`
}

// domainKeyRotationResponse is the answer of POST
// /sys/domains/{okmsId}/key/rotate.
type domainKeyRotationResponse struct {
	OkmsID  string `json:"okmsId"`
	KeyTerm uint32 `json:"keyTerm"`
}

// rotateRootKey serves POST /sys/master-key/rotate.
func (a *API) rotateRootKey(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	out, err := a.op.RotateRootKey(r.Context(), c)
	if err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "root key rotated", "key_file", out.KeyFile, "regions", out.Regions, "request_id", c.RequestID)
	httpapi.WriteJSON(w, http.StatusOK, rootKeyRotationResponse{KeyFile: out.KeyFile, Regions: nonNil(out.Regions)})
	return nil
}

// rotateDomainKey serves POST /sys/domains/{okmsId}/key/rotate.
func (a *API) rotateDomainKey(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	out, err := a.op.RotateDomainKey(r.Context(), c, r.PathValue("okmsId"))
	if err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "domain key rotated", "okms_id", out.OkmsID, "key_term", out.KeyTerm, "request_id", c.RequestID)
	httpapi.WriteJSON(w, http.StatusOK, domainKeyRotationResponse{OkmsID: out.OkmsID, KeyTerm: out.KeyTerm})
	return nil
}

// nonNil returns s, or an empty slice for nil: lists are [] on the wire,
// never null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
