package kv2

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Vault's seal endpoints (vault operator init, unseal, seal, status), over
// the service's seal use cases: sys/init and sys/unseal need no token and
// answer while sealed, sys/seal needs the account root or an ADMIN user.
// Their answers carry no envelope, as Vault's do.

// errSealRequest is a malformed seal request.
var errSealRequest = errors.New("invalid seal request")

// sealedOK reports whether a request for path is served while sealed.
func sealedOK(path string) bool {
	switch path {
	case "sys/health", "sys/seal-status", "sys/leader", "sys/init", "sys/unseal":
		return true
	}
	return false
}

// logicalPath returns the path after /v1/ or /api/{okmsId}/v1/.
func logicalPath(p string) string {
	if rest, ok := strings.CutPrefix(p, "/v1/"); ok {
		return rest
	}
	rest, _ := strings.CutPrefix(p, "/api/")
	_, rest, _ = strings.Cut(rest, "/")
	rest, _ = strings.CutPrefix(rest, "v1/")
	return rest
}

// sealCaller describes an unauthenticated seal request for the audit.
func sealCaller(r *http.Request) service.Caller {
	return service.Caller{Surface: "C", RequestID: httpapi.RequestID(r.Context()), RemoteAddr: r.RemoteAddr}
}

// initStatus is the answer of GET sys/init.
type initStatus struct {
	Initialized bool `json:"initialized"`
}

// initResponse is the answer of PUT sys/init.
type initResponse struct {
	Keys       []string `json:"keys"`
	KeysBase64 []string `json:"keys_base64"`
	RootToken  string   `json:"root_token"`
}

// initStatus serves GET sys/init.
func (a *API) initStatus(w http.ResponseWriter, r *http.Request, c *call) error {
	st, err := a.svc.SealStatus(r.Context())
	if err != nil {
		return err
	}
	writePlain(w, http.StatusOK, initStatus{Initialized: st.Initialized})
	return nil
}

// initialize serves PUT sys/init: secret_shares and secret_threshold for a
// shamir seal (Vault's parameters), and coffer's own passphrase (for a
// passphrase seal) and age_recipients (one age public key per share, to
// encrypt each share to). Vault's PGP parameters are refused: coffer
// encrypts shares to age keys instead.
func (a *API) initialize(w http.ResponseWriter, r *http.Request, c *call) error {
	var req service.SealInit
	for _, name := range []string{"pgp_keys", "root_token_pgp_key", "recovery_pgp_keys"} {
		if v, ok := c.params.value(name); ok && v != nil && v != "" {
			if l, isList := v.([]any); !isList || len(l) > 0 {
				return &requestError{Kind: errSealRequest, Msg: name + " is not supported: coffer encrypts shares to age public keys (age_recipients)"}
			}
		}
	}
	for name, dst := range map[string]*int{"secret_shares": &req.Shares, "secret_threshold": &req.Threshold} {
		n, _, err := c.params.int(name)
		if err != nil {
			return err
		}
		if n < 0 || n > 255 {
			return &requestError{Kind: errSealRequest, Msg: fmt.Sprintf("%s must be between 1 and 255", name)}
		}
		*dst = int(n)
	}
	if v, ok := c.params.value("passphrase"); ok {
		s, isString := v.(string)
		if !isString {
			return &requestError{Kind: errSealRequest, Msg: "passphrase must be a string"}
		}
		req.Passphrase = []byte(s)
	}
	if v, ok := c.params.value("age_recipients"); ok && v != nil {
		list, isList := v.([]any)
		if !isList {
			return &requestError{Kind: errSealRequest, Msg: "age_recipients must be a list of age public keys"}
		}
		for _, e := range list {
			s, isString := e.(string)
			if !isString {
				return &requestError{Kind: errSealRequest, Msg: "age_recipients must be a list of age public keys"}
			}
			req.Recipients = append(req.Recipients, s)
		}
	}
	out, err := a.svc.InitSeal(r.Context(), sealCaller(r), req)
	clear(req.Passphrase)
	if err != nil {
		return err
	}
	writePlain(w, http.StatusOK, initResponse{Keys: out.Keys, KeysBase64: out.KeysBase64, RootToken: out.RootToken})
	return nil
}

// unseal serves PUT sys/unseal: key (a share in hex or base64, or the
// passphrase) or reset. It answers the seal status.
func (a *API) unseal(w http.ResponseWriter, r *http.Request, c *call) error {
	reset, _, err := c.params.boolean("reset")
	if err != nil {
		return err
	}
	key := ""
	if v, ok := c.params.value("key"); ok && v != nil {
		s, isString := v.(string)
		if !isString {
			return &requestError{Kind: errSealRequest, Msg: "'key' must be a valid hex or base64 string"}
		}
		key = s
	}
	if key == "" && !reset {
		st, err := a.svc.SealStatus(r.Context())
		if err != nil {
			return err
		}
		if st.T > 0 {
			return &requestError{Kind: errSealRequest, Msg: "'key' must be specified in request body as JSON, or 'reset' set to true"}
		}
	}
	st, err := a.svc.Unseal(r.Context(), sealCaller(r), key, reset)
	if errors.Is(err, service.ErrNotInitialized) {
		return &requestError{Kind: errSealRequest, Msg: "server is not yet initialized"}
	}
	if err != nil {
		return err
	}
	writePlain(w, http.StatusOK, a.sealStatusOf(st))
	return nil
}

// seal serves PUT sys/seal (vault operator seal).
func (a *API) seal(w http.ResponseWriter, r *http.Request, c *call) error {
	if err := a.svc.Seal(r.Context(), c.caller); err != nil {
		return err
	}
	return noContent(w)
}

// sealStatusOf renders a seal status as Vault does.
func (a *API) sealStatusOf(st service.SealStatus) sealStatusResponse {
	return sealStatusResponse{
		Type: st.Type, Initialized: st.Initialized, Sealed: st.Sealed, T: st.T, N: st.N, Progress: st.Progress, Nonce: st.Nonce,
		Version: vaultVersion, BuildDate: vaultBuildDate, ClusterName: "coffer", ClusterID: a.clusterID(), StorageType: "coffer",
	}
}
