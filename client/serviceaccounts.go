package client

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
)

// Service accounts (iam.md 3, 7.2, 7.4): OAuth2 clients of the
// client-credentials flow. An administrator creates one; the account
// exchanges its client id and secret for one-hour access tokens at the
// token endpoint ([Client.ClientCredentialsToken]), and policies and
// access certificates name it by its identity URN.

// ServiceAccount is a service account as the server describes it
// (OVHcloud's /me/api/oauth2/client/{clientId}), never its secret.
type ServiceAccount struct {
	CallbackURLs []string `json:"callbackUrls"`
	ClientID     string   `json:"clientId"`
	Description  string   `json:"description"`
	Flow         string   `json:"flow"`
	// Identity is the URN of the service account, for policies and access
	// certificates: urn:v1:<zone>:identity:credential:<account>/oauth2-<clientId>.
	Identity string `json:"identity"`
	Name     string `json:"name"`
}

// ServiceAccountRequest creates a service account. Flow defaults to
// CLIENT_CREDENTIALS, the only flow coffer offers.
type ServiceAccountRequest struct {
	Name         string   `json:"name"`
	Description  string   `json:"description,omitempty"`
	Flow         string   `json:"flow"`
	CallbackURLs []string `json:"callbackUrls"`
}

// ServiceAccountCredentials are a new service account's client id and
// secret: the only answer that holds the secret, which the server does
// not keep.
type ServiceAccountCredentials struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// AccessToken is an OAuth2 access token (RFC 6749 5.1).
type AccessToken struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	// ExpiresIn is the lifetime in seconds, counted from the answer.
	ExpiresIn int64  `json:"expires_in"`
	Scope     string `json:"scope"`
}

const (
	serviceAccountsPath = "/1.0/me/api/oauth2/client"
	// TokenPath is the OAuth2 token endpoint, under the server's address.
	TokenPath = "/auth/oauth2/token"
)

// ListServiceAccounts returns the client ids of every service account.
func (c *Client) ListServiceAccounts(ctx context.Context) ([]string, error) {
	out, err := getAs[[]string](ctx, c, serviceAccountsPath)
	if err != nil {
		return nil, err
	}
	return *out, nil
}

// CreateServiceAccount creates a service account and returns its client id
// and secret.
func (c *Client) CreateServiceAccount(ctx context.Context, req ServiceAccountRequest) (*ServiceAccountCredentials, error) {
	if req.Flow == "" {
		req.Flow = "CLIENT_CREDENTIALS"
	}
	if req.CallbackURLs == nil {
		req.CallbackURLs = []string{}
	}
	return sendAs[ServiceAccountCredentials](ctx, c, http.MethodPost, serviceAccountsPath, req)
}

// GetServiceAccount returns a service account.
func (c *Client) GetServiceAccount(ctx context.Context, clientID string) (*ServiceAccount, error) {
	return getAs[ServiceAccount](ctx, c, serviceAccountsPath+"/"+url.PathEscape(clientID))
}

// DeleteServiceAccount deletes a service account: its access tokens stop
// working at once.
func (c *Client) DeleteServiceAccount(ctx context.Context, clientID string) error {
	return c.del(ctx, serviceAccountsPath+"/"+url.PathEscape(clientID))
}

// ClientCredentialsToken obtains an access token for the service account
// clientID at the token endpoint (grant_type=client_credentials,
// scope=all), authenticating with HTTP Basic. The client's own token, if
// any, is not sent. A refusal is an [*Error] whose ID is the OAuth2 error
// code (invalid_client for a wrong secret or an unknown client).
func (c *Client) ClientCredentialsToken(ctx context.Context, clientID, clientSecret string) (*AccessToken, error) {
	basic := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID) + ":" + url.QueryEscape(clientSecret)))
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"all"}}
	var out AccessToken
	_, err := c.do(ctx, request{method: http.MethodPost, path: TokenPath, body: []byte(form.Encode()), out: &out,
		header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}, "Authorization": {"Basic " + basic}}})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
