package sys

import (
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Changing the seal of a running server (issue 19), in two steps so that
// a crash leaves the old protection or the new one, never neither:
//
//	POST /sys/seal/change    rekey (new shares or passphrase) or migrate to another seal;
//	                         answers the new keys, shown once, and a nonce
//	POST /sys/seal/commit    put the change named by its nonce in place
//
// Both are for the account root and ADMIN users; the change also needs
// the current unseal keys (shares or passphrase) unless the seal is
// automatic. The root key stays; no data record is rewritten. Vault's
// init, unseal, seal and seal-status are served by the Vault surface
// (internal/httpapi/kv2) under /v1/sys/.

// sealChangeRequest is the body of POST /sys/seal/change.
type sealChangeRequest struct {
	To            string   `json:"to"` // "" keeps the seal type (rekey)
	Shares        int      `json:"secret_shares"`
	Threshold     int      `json:"secret_threshold"`
	Passphrase    string   `json:"passphrase"`
	AgeRecipients []string `json:"age_recipients"`
	Keys          []string `json:"keys"` // the current unseal keys
}

// sealChangeResponse is the answer of POST /sys/seal/change.
type sealChangeResponse struct {
	Nonce      string   `json:"nonce"`
	Type       string   `json:"type"`
	T          int      `json:"t"`
	N          int      `json:"n"`
	Keys       []string `json:"keys"`
	KeysBase64 []string `json:"keys_base64"`
}

// sealCommitRequest is the body of POST /sys/seal/commit.
type sealCommitRequest struct {
	Nonce string   `json:"nonce"`
	Keys  []string `json:"keys"` // optional: new keys, checked first
}

// sealStatusResponse is the answer of POST /sys/seal/commit: the seal
// now in place.
type sealStatusResponse struct {
	Type        string `json:"type"`
	Initialized bool   `json:"initialized"`
	Sealed      bool   `json:"sealed"`
	T           int    `json:"t"`
	N           int    `json:"n"`
	Progress    int    `json:"progress"`
	Nonce       string `json:"nonce"`
}

// changeSeal serves POST /sys/seal/change.
func (a *API) changeSeal(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	var req sealChangeRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	pass := []byte(req.Passphrase)
	defer clear(pass)
	out, err := a.svc.ChangeSeal(r.Context(), c, service.SealChange{To: req.To, Shares: req.Shares, Threshold: req.Threshold,
		Passphrase: pass, Recipients: req.AgeRecipients, Keys: req.Keys})
	if err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "seal change started", "to", out.Type, "request_id", c.RequestID)
	httpapi.WriteJSON(w, http.StatusOK, sealChangeResponse{Nonce: out.Nonce, Type: out.Type, T: out.T, N: out.N,
		Keys: nonNil(out.Keys), KeysBase64: nonNil(out.KeysBase64)})
	return nil
}

// commitSeal serves POST /sys/seal/commit.
func (a *API) commitSeal(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	var req sealCommitRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	st, err := a.svc.CommitSealChange(r.Context(), c, service.SealCommit{Nonce: req.Nonce, Keys: req.Keys})
	if err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "seal change committed", "seal", st.Type, "request_id", c.RequestID)
	httpapi.WriteJSON(w, http.StatusOK, sealStatusResponse{Type: st.Type, Initialized: st.Initialized, Sealed: st.Sealed,
		T: st.T, N: st.N, Progress: st.Progress, Nonce: st.Nonce})
	return nil
}
