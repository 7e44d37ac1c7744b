package client

import (
	"context"
	"encoding/base64"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/seed-3e8d63de/coffer/api"
)

// Surface B's service keys (/api/{okmsId}/v1/servicekey..., the OKMS
// swagger v2.17.0): the Key Management Service half of a domain. Every
// call addresses the domain of [Client.Domain]. Byte arguments and results
// are raw bytes: the client does the base64 of the wire.

// keyPath returns the escaped URL path of a service key route: the
// collection when id is "", else the key, then suffix.
func (c *Client) keyPath(ctx context.Context, id, suffix string) (string, error) {
	d, err := c.Domain(ctx)
	if err != nil {
		return "", err
	}
	p := "/api/" + url.PathEscape(d) + "/v1/servicekey"
	if id != "" {
		p += "/" + url.PathEscape(id)
	}
	return p + suffix, nil
}

// keyCall sends one request to a service key route and decodes the
// answer into out (unless nil).
func (c *Client) keyCall(ctx context.Context, method, id, suffix string, query url.Values, body, out any) error {
	p, err := c.keyPath(ctx, id, suffix)
	if err != nil {
		return err
	}
	_, err = c.do(ctx, request{method: method, path: p, query: query, body: body, out: out})
	return err
}

// ServiceKeyListOptions choose a page of [Client.ListServiceKeysPage].
type ServiceKeyListOptions struct {
	// State keeps the keys in this state (api.KeyState... or "all"); ""
	// lets the server choose (active keys only, as OVHcloud's KMS does).
	State string
	// Max is the number of keys asked for, clamped by the server to
	// 10..100; 0 lets it choose.
	Max int
	// ContinuationToken is the token of the previous page, "" for the
	// first.
	ContinuationToken string
}

// ListServiceKeysPage returns one page of the service keys the caller may
// see (GET /v1/servicekey).
func (c *Client) ListServiceKeysPage(ctx context.Context, opt ServiceKeyListOptions) (*api.ListServiceKeysResponse, error) {
	q := url.Values{}
	if opt.State != "" {
		q.Set("state", opt.State)
	}
	if opt.Max > 0 {
		q.Set("max", strconv.Itoa(opt.Max))
	}
	if opt.ContinuationToken != "" {
		q.Set("continuation-token", opt.ContinuationToken)
	}
	var out api.ListServiceKeysResponse
	if err := c.keyCall(ctx, http.MethodGet, "", "", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ServiceKeys iterates over every service key in state (see
// [ServiceKeyListOptions]) the caller may see, page after page of max
// keys. Iteration stops at the first error, yielded with a zero value.
func (c *Client) ServiceKeys(ctx context.Context, state string, max int) iter.Seq2[api.ServiceKey, error] {
	return paginate(func(cursor string) ([]api.ServiceKey, string, error) {
		page, err := c.ListServiceKeysPage(ctx, ServiceKeyListOptions{State: state, Max: max, ContinuationToken: cursor})
		if err != nil {
			return nil, "", err
		}
		next := ""
		if page.IsTruncated {
			next = page.ContinuationToken
		}
		return page.ObjectsList, next, nil
	})
}

// CreateServiceKey generates or imports a service key (POST
// /v1/servicekey): Type with Size or Curve to generate, Keys to import a
// JWK, WrappedKeys to import wrapped material. It fails with
// [ErrConflict] when the id is taken.
func (c *Client) CreateServiceKey(ctx context.Context, req api.CreateServiceKeyRequest) (*api.ServiceKey, error) {
	var out api.ServiceKey
	if err := c.keyCall(ctx, http.MethodPost, "", "", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ServiceKeyGetOptions choose what [Client.GetServiceKey] returns besides
// the metadata.
type ServiceKeyGetOptions struct {
	// Format "jwk" or "pem" adds the public key (an asymmetric key's).
	Format string
	// WrappingKeyID asks for a wrapped export of an extractable key under
	// this transport key, in WrappedKeyFormat (JWK, RAW, PKCS1, PKCS8)
	// with WrappingAlgorithm (RSA-OAEP, RSA-OAEP-256); the server chooses
	// when they are "".
	WrappingKeyID     string
	WrappedKeyFormat  string
	WrappingAlgorithm string
}

// GetServiceKey returns a service key (GET /v1/servicekey/{keyId}). It
// fails with [ErrNotFound] when there is no such key.
func (c *Client) GetServiceKey(ctx context.Context, id string, opt ServiceKeyGetOptions) (*api.ServiceKey, error) {
	q := url.Values{}
	if opt.Format != "" {
		q.Set("format", opt.Format)
	}
	if opt.WrappingKeyID != "" {
		q.Set("wrappingKeyId", opt.WrappingKeyID)
		if opt.WrappedKeyFormat != "" {
			q.Set("wrappedKeyFormat", opt.WrappedKeyFormat)
		}
		if opt.WrappingAlgorithm != "" {
			q.Set("wrappingAlgorithm", opt.WrappingAlgorithm)
		}
	}
	var out api.ServiceKey
	if err := c.keyCall(ctx, http.MethodGet, id, "", q, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateServiceKey renames a key and/or changes whether it is extractable
// (PATCH /v1/servicekey/{keyId}); nil members stay as they are.
func (c *Client) UpdateServiceKey(ctx context.Context, id string, req api.UpdateServiceKeyRequest) (*api.ServiceKey, error) {
	var out api.ServiceKey
	if err := c.keyCall(ctx, http.MethodPatch, id, "", nil, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteServiceKey destroys a deactivated key's material for good (DELETE
// /v1/servicekey/{keyId}); an active key is refused.
func (c *Client) DeleteServiceKey(ctx context.Context, id string) error {
	return c.keyCall(ctx, http.MethodDelete, id, "", nil, nil, nil)
}

// ActivateServiceKey returns a deactivated or compromised key to active.
func (c *Client) ActivateServiceKey(ctx context.Context, id string) error {
	return c.keyCall(ctx, http.MethodPost, id, "/activate", nil, struct{}{}, nil)
}

// DeactivateServiceKey deactivates a key with a revocation reason
// (unspecified, key_compromise, ca_compromise, affiliation_changed,
// superseded, cessation_of_operation, privilege_withdrawn); the two
// compromise reasons make it compromised.
func (c *Client) DeactivateServiceKey(ctx context.Context, id, reason string) error {
	return c.keyCall(ctx, http.MethodPost, id, "/deactivate", nil, api.DeactivateServiceKeyRequest{Reason: reason}, nil)
}

// Encrypt encrypts plaintext (up to 4096 bytes) under a symmetric or RSA
// key, bound to context when it is not "" (the same context must be given
// to decrypt). It returns the ciphertext, a JWE.
func (c *Client) Encrypt(ctx context.Context, id string, plaintext []byte, context string) (string, error) {
	req := api.EncryptRequest{Plaintext: base64.StdEncoding.EncodeToString(plaintext)}
	if context != "" {
		req.Context = &context
	}
	var out api.EncryptResponse
	if err := c.keyCall(ctx, http.MethodPost, id, "/encrypt", nil, req, &out); err != nil {
		return "", err
	}
	return out.Ciphertext, nil
}

// Decrypt decrypts a ciphertext of [Client.Encrypt] with the context it
// was made with, and returns the plaintext.
func (c *Client) Decrypt(ctx context.Context, id, ciphertext, context string) ([]byte, error) {
	req := api.DecryptRequest{Ciphertext: ciphertext}
	if context != "" {
		req.Context = &context
	}
	var out api.DecryptResponse
	if err := c.keyCall(ctx, http.MethodPost, id, "/decrypt", nil, req, &out); err != nil {
		return nil, err
	}
	return decodeB64("plaintext", out.Plaintext)
}

// DataKey is a data key of [Client.GenerateDataKey]: in plaintext, and
// wrapped under the service key (a JWE to keep beside the data).
type DataKey struct {
	Plaintext []byte
	Wrapped   string
}

// GenerateDataKey returns a fresh data key of size bits (128, 192 or 256
// for AES), wrapped under the key id; name is an optional label.
func (c *Client) GenerateDataKey(ctx context.Context, id string, size int, name string) (*DataKey, error) {
	req := api.GenerateDataKeyRequest{Size: size}
	if name != "" {
		req.Name = &name
	}
	var out api.GenerateDataKeyResponse
	if err := c.keyCall(ctx, http.MethodPost, id, "/datakey", nil, req, &out); err != nil {
		return nil, err
	}
	p, err := decodeB64("plaintext", out.Plaintext)
	if err != nil {
		return nil, err
	}
	return &DataKey{Plaintext: p, Wrapped: out.Key}, nil
}

// DecryptDataKey unwraps a data key of [Client.GenerateDataKey].
func (c *Client) DecryptDataKey(ctx context.Context, id, wrapped string) ([]byte, error) {
	var out api.DecryptDataKeyResponse
	if err := c.keyCall(ctx, http.MethodPost, id, "/datakey/decrypt", nil, api.DecryptDataKeyRequest{Key: wrapped}, &out); err != nil {
		return nil, err
	}
	return decodeB64("plaintext", out.Plaintext)
}

// Sign signs msg with alg (RS256..512, PS256..512, ES256..512); with
// digest, msg is already the digest of the message under alg's hash. It
// returns the raw signature (PKCS #1 v1.5 or PSS for RSA, r||s for EC).
func (c *Client) Sign(ctx context.Context, id, alg string, msg []byte, digest bool) ([]byte, error) {
	req := api.SignRequest{Message: base64.StdEncoding.EncodeToString(msg), Alg: alg}
	if digest {
		req.IsDigest = &digest
	}
	var out api.SignResponse
	if err := c.keyCall(ctx, http.MethodPost, id, "/sign", url.Values{"format": {"raw"}}, req, &out); err != nil {
		return nil, err
	}
	return decodeB64("signature", out.Signature)
}

// Verify reports whether sig, a raw signature of [Client.Sign], is a
// signature of msg (or of the digest msg, with digest) by key id under
// alg. A signature that does not verify is false with a nil error.
func (c *Client) Verify(ctx context.Context, id, alg string, msg, sig []byte, digest bool) (bool, error) {
	m := base64.StdEncoding.EncodeToString(msg)
	req := api.VerifyRequest{Message: &m, Signature: base64.StdEncoding.EncodeToString(sig), Alg: &alg}
	if digest {
		req.IsDigest = &digest
	}
	var out api.VerifyResponse
	if err := c.keyCall(ctx, http.MethodPost, id, "/verify", nil, req, &out); err != nil {
		return false, err
	}
	return out.Result, nil
}

// Random returns n random bytes from the server (GET /v1/random), 1..4096.
func (c *Client) Random(ctx context.Context, n int) ([]byte, error) {
	d, err := c.Domain(ctx)
	if err != nil {
		return nil, err
	}
	var out api.RandomResponse
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/api/" + url.PathEscape(d) + "/v1/random",
		query: url.Values{"length": {strconv.Itoa(n)}}, out: &out}); err != nil {
		return nil, err
	}
	return decodeB64("bytes", out.Bytes)
}

// decodeB64 decodes a base64 member of an answer.
func decodeB64(member, s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, &decodeError{member: member, err: err}
	}
	return b, nil
}

type decodeError struct {
	member string
	err    error
}

func (e *decodeError) Error() string {
	return "client: the server's " + e.member + " is not base64: " + e.err.Error()
}

func (e *decodeError) Unwrap() error { return e.err }
