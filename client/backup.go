package client

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// RestoreResult is the answer to [Client.Restore].
type RestoreResult struct {
	Records int      `json:"records"`
	Regions []string `json:"regions"`
	// Created is when the backup was taken (RFC 3339).
	Created string `json:"created"`
}

// Backup asks the server for a consistent snapshot of its installation,
// encrypted under a key derived from passphrase (Argon2id), and copies it
// to w as it arrives (POST /sys/backup). The passphrase must be at least
// 12 characters. Account root or ADMIN only. A snapshot cut short does not
// open: keep w only if Backup returns nil.
func (c *Client) Backup(ctx context.Context, passphrase string, w io.Writer) (int64, error) {
	body, err := json.Marshal(map[string]string{"passphrase": passphrase})
	if err != nil {
		return 0, err
	}
	res, err := c.raw(ctx, http.MethodPost, "/sys/backup", strings.NewReader(string(body)), "application/json", nil)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	n, err := io.Copy(w, res.Body)
	if err != nil {
		return n, &TransportError{Method: http.MethodPost, URL: c.base + "/sys/backup", Err: err}
	}
	return n, nil
}

// Restore sends the backup file r to the server, which replaces the
// records of its installation, which must be empty (no secret, user, group
// or policy), with those of the backup (POST /sys/restore). The server's
// root key may differ from the backup's: records are re-encrypted under
// the target's keys. Account root or ADMIN only. Afterwards the backup's
// tokens are valid on the server, and the server's own root token no
// longer is.
func (c *Client) Restore(ctx context.Context, passphrase string, r io.Reader) (*RestoreResult, error) {
	res, err := c.raw(ctx, http.MethodPost, "/sys/restore", r, "application/octet-stream",
		http.Header{"X-Coffer-Backup-Passphrase": {passphrase}})
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	var out RestoreResult
	if err := json.NewDecoder(io.LimitReader(res.Body, maxResponse)).Decode(&out); err != nil {
		return nil, fmt.Errorf("client: POST /sys/restore: decode the answer: %w", err)
	}
	return &out, nil
}

// raw sends a request whose body or answer may be too large for do: the
// caller reads and closes the answer's body, which is a 2xx.
func (c *Client) raw(ctx context.Context, method, path string, body io.Reader, contentType string, h http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", c.userAgent)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.hc.Do(req)
	if err != nil {
		return nil, &TransportError{Method: method, URL: c.base + path, Err: unwrapURLError(err)}
	}
	if res.StatusCode >= 300 {
		defer res.Body.Close()
		b, _ := io.ReadAll(io.LimitReader(res.Body, maxResponse))
		return nil, parseError(res.StatusCode, res.Header, b)
	}
	return res, nil
}
