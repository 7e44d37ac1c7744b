package client

import (
	"context"
	"net/http"
	"net/url"
)

// MasterKeyRotation is the answer to [Client.RotateMasterKey].
type MasterKeyRotation struct {
	// KeyFile is where the server keeps the new root key ("" for a server
	// in dev mode, whose key lives in memory).
	KeyFile string `json:"keyFile"`
	// Regions are the regions whose keyring was re-sealed.
	Regions []string `json:"regions"`
}

// DomainKeyRotation is the answer to [Client.RotateDomainKey].
type DomainKeyRotation struct {
	OkmsID string `json:"okmsId"`
	// KeyTerm is the key term new writes of the domain use.
	KeyTerm uint32 `json:"keyTerm"`
}

// RotateMasterKey has the server re-seal the keyring of every region under
// a new root key, which it saves in place of its key file (POST
// /sys/master-key/rotate). No secret is re-encrypted. Account root or
// ADMIN only.
func (c *Client) RotateMasterKey(ctx context.Context) (*MasterKeyRotation, error) {
	return sendAs[MasterKeyRotation](ctx, c, http.MethodPost, "/sys/master-key/rotate", nil)
}

// RotateDomainKey gives the OKMS domain okmsID a new key term (POST
// /sys/domains/{okmsId}/key/rotate): new writes use it at once, and
// versions written before still open under theirs. Account root or ADMIN
// only.
func (c *Client) RotateDomainKey(ctx context.Context, okmsID string) (*DomainKeyRotation, error) {
	return sendAs[DomainKeyRotation](ctx, c, http.MethodPost, "/sys/domains/"+url.PathEscape(okmsID)+"/key/rotate", nil)
}
