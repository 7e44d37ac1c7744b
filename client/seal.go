package client

import (
	"context"
	"net/http"
)

// The seal of an installation (coffer's issue 19): Vault's seal endpoints
// under /v1/sys/, which the vault CLI uses too, and coffer's own for rekey
// and seal migration.

// SealStatus is the answer of GET /v1/sys/seal-status (and of an unseal).
type SealStatus struct {
	Type        string `json:"type"`
	Initialized bool   `json:"initialized"`
	Sealed      bool   `json:"sealed"`
	T           int    `json:"t"`
	N           int    `json:"n"`
	Progress    int    `json:"progress"`
	Nonce       string `json:"nonce"`
}

// InitRequest initialises an installation (PUT /v1/sys/init): Shares and
// Threshold for a shamir seal, Passphrase for a passphrase seal;
// AgeRecipients, one per share, encrypt each share to an age public key.
type InitRequest struct {
	Shares        int      `json:"secret_shares,omitempty"`
	Threshold     int      `json:"secret_threshold,omitempty"`
	Passphrase    string   `json:"passphrase,omitempty"`
	AgeRecipients []string `json:"age_recipients,omitempty"`
}

// InitResponse holds the unseal keys and the root token, shown once.
type InitResponse struct {
	Keys       []string `json:"keys"`
	KeysBase64 []string `json:"keys_base64"`
	RootToken  string   `json:"root_token"`
}

// SealStatus describes the seal; it needs no token.
func (c *Client) SealStatus(ctx context.Context) (*SealStatus, error) {
	return getAs[SealStatus](ctx, c, "/v1/sys/seal-status")
}

// Init initialises a new installation; it needs no token.
func (c *Client) Init(ctx context.Context, req InitRequest) (*InitResponse, error) {
	return sendAs[InitResponse](ctx, c, http.MethodPut, "/v1/sys/init", req)
}

// Unseal submits one unseal key (a share, or the passphrase; "" for an
// automatic seal), or with reset forgets those submitted so far.
func (c *Client) Unseal(ctx context.Context, key string, reset bool) (*SealStatus, error) {
	body := map[string]any{"key": key}
	if reset {
		body = map[string]any{"reset": true}
	}
	return sendAs[SealStatus](ctx, c, http.MethodPut, "/v1/sys/unseal", body)
}

// Seal seals the server: account root or ADMIN only.
func (c *Client) Seal(ctx context.Context) error {
	return c.send(ctx, http.MethodPut, "/v1/sys/seal", nil, nil)
}

// SealChangeRequest starts a rekey (To empty: the same seal type, new
// keys) or a seal migration (To: shamir, passphrase or file). Keys are the
// current unseal keys (shares, or the passphrase), required unless the
// current seal is automatic.
type SealChangeRequest struct {
	To            string   `json:"to,omitempty"`
	Shares        int      `json:"secret_shares,omitempty"`
	Threshold     int      `json:"secret_threshold,omitempty"`
	Passphrase    string   `json:"passphrase,omitempty"`
	AgeRecipients []string `json:"age_recipients,omitempty"`
	Keys          []string `json:"keys,omitempty"`
}

// SealChange is a started change: the new keys, shown once, and the nonce
// its commit names.
type SealChange struct {
	Nonce      string   `json:"nonce"`
	Type       string   `json:"type"`
	T          int      `json:"t"`
	N          int      `json:"n"`
	Keys       []string `json:"keys"`
	KeysBase64 []string `json:"keys_base64"`
}

// SealCommitRequest commits a started change; Keys, if given, are new keys
// checked before the change takes effect.
type SealCommitRequest struct {
	Nonce string   `json:"nonce"`
	Keys  []string `json:"keys,omitempty"`
}

// StartSealChange starts a rekey or seal migration (POST /sys/seal/change):
// nothing changes until CommitSealChange. Account root or ADMIN only.
func (c *Client) StartSealChange(ctx context.Context, req SealChangeRequest) (*SealChange, error) {
	return sendAs[SealChange](ctx, c, http.MethodPost, "/sys/seal/change", req)
}

// CommitSealChange puts a started change in place (POST /sys/seal/commit).
func (c *Client) CommitSealChange(ctx context.Context, req SealCommitRequest) (*SealStatus, error) {
	return sendAs[SealStatus](ctx, c, http.MethodPost, "/sys/seal/commit", req)
}
