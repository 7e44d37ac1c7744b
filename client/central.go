package client

import (
	"context"
	"iter"
	"net/http"
	"net/url"
)

// Surface A: OKMS domains, regions and access certificates, in the shapes
// of OVHcloud's central API v2 (okms-rest.md 5.3, 5.4). Surface A accepts
// bearer tokens only.

// States of a domain, in its iam block.
const (
	DomainStateReady    = "OK"
	DomainStateCreating = "IN_CREATION"
	DomainStateDeleting = "DELETING"
)

// ResourceIAM is the iam block of a domain (iam.ResourceMetadata).
type ResourceIAM struct {
	ID          string            `json:"id"`
	URN         string            `json:"urn"`
	DisplayName string            `json:"displayName"`
	Tags        map[string]string `json:"tags"`
	State       string            `json:"state"`
}

// Domain is an OKMS domain (okms.resource.ResponseWithIAM).
type Domain struct {
	ID                 string      `json:"id"`
	Region             string      `json:"region"`
	RestEndpoint       string      `json:"restEndpoint"`
	KmipEndpoint       string      `json:"kmipEndpoint"`
	SwaggerEndpoint    string      `json:"swaggerEndpoint"`
	PublicCA           *string     `json:"publicCA,omitempty"`
	SecretCount        int         `json:"secretCount"`
	SecretVersionCount int         `json:"secretVersionCount"`
	IAM                ResourceIAM `json:"iam"`
}

// Region is a region of the installation (okms.reference.Region).
type Region struct {
	ID           string `json:"id"`
	RestEndpoint string `json:"restEndpoint"`
	Type         string `json:"type"`
}

// ListDomains returns the domains the caller may see (GET
// /v2/okms/resource), sorted by id.
func (c *Client) ListDomains(ctx context.Context) ([]Domain, error) {
	var out []Domain
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v2/okms/resource", out: &out})
	return out, err
}

// GetDomain returns one domain (GET /v2/okms/resource/{okmsId}); withCA
// adds the PEM of the CA of the server's TLS certificate (publicCA).
func (c *Client) GetDomain(ctx context.Context, okmsID string, withCA bool) (*Domain, error) {
	var q url.Values
	if withCA {
		q = url.Values{"publicCA": {"true"}}
	}
	var out Domain
	if _, err := c.do(ctx, request{method: http.MethodGet, path: "/v2/okms/resource/" + url.PathEscape(okmsID), query: q, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ActivateDomain creates a domain in region (POST /v2/okms/resource,
// coffer's extension). It returns at once, in state
// [DomainStateCreating]; poll [Client.GetDomain] until it is
// [DomainStateReady].
func (c *Client) ActivateDomain(ctx context.Context, region, displayName string) (*Domain, error) {
	body := struct {
		Region      string `json:"region"`
		DisplayName string `json:"displayName,omitempty"`
	}{region, displayName}
	var out Domain
	if _, err := c.do(ctx, request{method: http.MethodPost, path: "/v2/okms/resource", body: body, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// RenameDomain changes a domain's display name (PUT
// /v2/okms/resource/{okmsId}).
func (c *Client) RenameDomain(ctx context.Context, okmsID, displayName string) (*Domain, error) {
	body := struct {
		DisplayName string `json:"displayName"`
	}{displayName}
	var out Domain
	if _, err := c.do(ctx, request{method: http.MethodPut, path: "/v2/okms/resource/" + url.PathEscape(okmsID), body: body, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteDomain deletes a domain with its secrets, versions and
// credentials, for good (DELETE /v2/okms/resource/{okmsId}; the id is
// repeated as the confirmation the server requires).
func (c *Client) DeleteDomain(ctx context.Context, okmsID string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: "/v2/okms/resource/" + url.PathEscape(okmsID),
		query: url.Values{"confirm": {okmsID}}})
	return err
}

// Regions returns the regions of the installation (GET
// /v2/okms/reference/regions).
func (c *Client) Regions(ctx context.Context) ([]Region, error) {
	var out []Region
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v2/okms/reference/regions", out: &out})
	return out, err
}

// Credential is an access certificate of a domain
// (okms.credential.GetResponse; okms-rest.md 5.4).
type Credential struct {
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
	// Issuer is the URN of the user (or the account) that issued it:
	// coffer's extra member; the credential is revoked with that user.
	Issuer string `json:"issuer,omitempty"`
	// PrivateKeyPEM is set only in the answer to a creation without CSR:
	// the server does not keep it.
	PrivateKeyPEM *string `json:"privateKeyPEM,omitempty"`
}

// CredentialRequest creates an access certificate
// (okms.credential.Creation).
type CredentialRequest struct {
	Name         string   `json:"name"`
	Description  string   `json:"description,omitempty"`
	IdentityURNs []string `json:"identityURNs"`
	// Validity is in days, 1..365; 0 means the server's default (365).
	Validity int `json:"validity,omitempty"`
	// CertificateType is ECDSA (default) or RSA; not with CSR.
	CertificateType string `json:"certificateType,omitempty"`
	// CSR is a PEM certificate request: the server then generates no key.
	CSR string `json:"csr,omitempty"`
}

func (c *Client) credentialPath(ctx context.Context, id string) (string, error) {
	d, err := c.Domain(ctx)
	if err != nil {
		return "", err
	}
	p := "/v2/okms/resource/" + url.PathEscape(d) + "/credential"
	if id != "" {
		p += "/" + url.PathEscape(id)
	}
	return p, nil
}

// CreateCredential issues an access certificate of the domain (POST
// .../credential). Without a CSR the answer holds the private key, once.
func (c *Client) CreateCredential(ctx context.Context, req CredentialRequest) (*Credential, error) {
	p, err := c.credentialPath(ctx, "")
	if err != nil {
		return nil, err
	}
	var out Credential
	if _, err := c.do(ctx, request{method: http.MethodPost, path: p, body: req, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetCredential returns one credential with its certificate.
func (c *Client) GetCredential(ctx context.Context, id string) (*Credential, error) {
	p, err := c.credentialPath(ctx, id)
	if err != nil {
		return nil, err
	}
	var out Credential
	if _, err := c.do(ctx, request{method: http.MethodGet, path: p, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeCredential revokes a credential at once (DELETE
// .../credential/{id}); the answer has the status DELETING.
func (c *Client) RevokeCredential(ctx context.Context, id string) (*Credential, error) {
	p, err := c.credentialPath(ctx, id)
	if err != nil {
		return nil, err
	}
	var out Credential
	if _, err := c.do(ctx, request{method: http.MethodDelete, path: p, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListCredentialsPage returns one page of the domain's credentials and the
// cursor of the next page ("" after the last).
func (c *Client) ListCredentialsPage(ctx context.Context, opt PageOptions) ([]Credential, string, error) {
	p, err := c.credentialPath(ctx, "")
	if err != nil {
		return nil, "", err
	}
	var out []Credential
	res, err := c.do(ctx, request{method: http.MethodGet, path: p, header: opt.header(), out: &out})
	if err != nil {
		return nil, "", err
	}
	return out, res.header.Get("X-Pagination-Cursor-Next"), nil
}

// Credentials iterates over every credential of the domain (see
// [Client.Secrets]).
func (c *Client) Credentials(ctx context.Context, pageSize int) iter.Seq2[Credential, error] {
	return paginate(func(cursor string) ([]Credential, string, error) {
		return c.ListCredentialsPage(ctx, PageOptions{Size: pageSize, Cursor: cursor})
	})
}
