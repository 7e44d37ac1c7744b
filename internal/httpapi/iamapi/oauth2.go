package iamapi

import (
	"context"
	"errors"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// The OAuth2 token endpoint (iam.md 7.2, RFC 6749 4.4): a service account
// exchanges its client credentials, in the form or with HTTP Basic, for a
// one-hour bearer token. It speaks OAuth2, not the OVH API: its answers are
// RFC 6749 5.1 and 5.2 bodies, never the OVH envelope, and every one
// carries Cache-Control: no-store and Pragma: no-cache.

// TokenPath is the token endpoint (OVHcloud's is
// https://www.ovh.com/auth/oauth2/token; clients are given coffer's address
// with this path).
const TokenPath = "/auth/oauth2/token"

// PrefixAuth is the path prefix of the token endpoint; the server sends
// this package every request under it.
const PrefixAuth = "/auth/"

// oauthError is an RFC 6749 5.2 error answer. The description never quotes
// what the client sent.
type oauthError struct {
	status int
	Code   string `json:"error"`
	Desc   string `json:"error_description"`
}

func (e *oauthError) Error() string { return "oauth2: " + e.Code + ": " + e.Desc }

func invalidRequest(desc string) *oauthError {
	return &oauthError{status: http.StatusBadRequest, Code: "invalid_request", Desc: desc}
}

// errInvalidClient: unknown client, wrong secret, or no client
// authentication. RFC 6749 5.2: 401 with a WWW-Authenticate challenge of the
// scheme a client may use, Basic.
var errInvalidClient = &oauthError{status: http.StatusUnauthorized, Code: "invalid_client",
	Desc: "client authentication failed: give the client_id and client_secret of a service account, in the form or with HTTP Basic"}

// accessTokenResponse is RFC 6749 5.1's answer (iam.md 7.2).
type accessTokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// The grant types coffer knows: client_credentials is the one it grants;
// the two others are grants OVHcloud's endpoint also takes, but coffer
// never issues their codes or refresh tokens, so any presented is invalid.
const (
	grantClientCredentials = "client_credentials"
	grantRefreshToken      = "refresh_token"
	grantAuthorizationCode = "authorization_code"
)

// issueToken serves POST /auth/oauth2/token. In order: a well-formed
// request (invalid_request), a known grant type (unsupported_grant_type),
// the client's authentication (invalid_client, limited per address like
// every failed authentication), the grant (invalid_grant), the scope, which
// must be "all" as on OVHcloud (invalid_scope); then the token.
func (a *API) issueToken(w http.ResponseWriter, r *http.Request) error {
	form, err := tokenForm(w, r)
	if err != nil {
		return err
	}
	grant := form.Get("grant_type")
	switch grant {
	case grantClientCredentials, grantRefreshToken, grantAuthorizationCode:
	case "":
		return invalidRequest("grant_type is required: grant_type=client_credentials")
	default:
		return &oauthError{status: http.StatusBadRequest, Code: "unsupported_grant_type",
			Desc: "the grant type is not supported: use grant_type=client_credentials"}
	}
	id, secret, err := clientCredentials(r, form)
	if errors.Is(err, errInvalidClient) {
		return a.clientRefused(r, id) // no usable credentials: a failed authentication too
	}
	if err != nil {
		return err
	}
	c, err := a.authenticateClient(r, id, secret)
	if err != nil {
		return err
	}
	if grant != grantClientCredentials {
		return &oauthError{status: http.StatusBadRequest, Code: "invalid_grant",
			Desc: "coffer issues no authorization codes or refresh tokens: request a new token with grant_type=client_credentials"}
	}
	if scope := strings.Fields(form.Get("scope")); len(scope) != 1 || scope[0] != "all" {
		return &oauthError{status: http.StatusBadRequest, Code: "invalid_scope", Desc: `the scope must be "all" (scope=all)`}
	}
	tok, err := a.svc.IssueOAuth2Token(r.Context(), c)
	if err != nil {
		return err
	}
	writeOAuth(w, http.StatusOK, accessTokenResponse{AccessToken: tok.Token, TokenType: "Bearer",
		ExpiresIn: int64(tok.TTL.Seconds()), Scope: "all"})
	return nil
}

// tokenForm reads the form of a token request: form-encoded, in the body
// (RFC 6749 4.4.2), each parameter at most once (3.2), and the client
// secret never in the URL (2.3.1), where proxies would log it.
func tokenForm(w http.ResponseWriter, r *http.Request) (url.Values, error) {
	if _, ok := r.URL.Query()["client_secret"]; ok {
		return nil, invalidRequest("client_secret must not be sent in the URL: send it in the form-encoded body or with HTTP Basic")
	}
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return nil, invalidRequest("the body must be form-encoded (Content-Type: application/x-www-form-urlencoded)")
	}
	b, err := httpapi.ReadBody(w, r)
	if err != nil {
		return nil, err
	}
	form, err := url.ParseQuery(string(b))
	if err != nil {
		return nil, invalidRequest("the form-encoded body is malformed")
	}
	for k, vs := range form {
		switch {
		case len(vs) > 1 && validParam(k):
			return nil, invalidRequest("the parameter " + k + " is repeated")
		case len(vs) > 1:
			return nil, invalidRequest("a parameter is repeated")
		}
	}
	return form, nil
}

// validParam reports whether k is a parameter name coffer may quote back:
// one of RFC 6749's.
func validParam(k string) bool {
	switch k {
	case "grant_type", "client_id", "client_secret", "scope", "refresh_token", "code", "redirect_uri":
		return true
	}
	return false
}

// clientCredentials returns the client id and secret of a token request:
// from HTTP Basic (RFC 6749 2.3.1: each form-encoded first) or from the
// form, not both. Without any, the client is unauthenticated.
func clientCredentials(r *http.Request, form url.Values) (string, string, error) {
	auth := r.Header.Get("Authorization")
	basic := len(auth) > 6 && strings.EqualFold(auth[:6], "basic ")
	if !basic {
		// A bearer token is not client authentication: the form decides.
		if form.Get("client_id") == "" && form.Get("client_secret") == "" {
			return "", "", errInvalidClient
		}
		return form.Get("client_id"), form.Get("client_secret"), nil
	}
	if _, ok := form["client_secret"]; ok {
		return "", "", invalidRequest("the client authenticated twice: use HTTP Basic or client_secret in the form, not both")
	}
	user, pass, ok := r.BasicAuth()
	if !ok {
		return "", "", errInvalidClient
	}
	id, err1 := url.QueryUnescape(user)
	secret, err2 := url.QueryUnescape(pass)
	if err1 != nil || err2 != nil {
		return "", "", errInvalidClient
	}
	if fid, ok := form["client_id"]; ok && fid[0] != id {
		return "", "", invalidRequest("client_id differs from the client authenticated with HTTP Basic")
	}
	return id, secret, nil
}

// authenticateClient checks the client credentials behind the service's
// failure budgets (iam.md 7.1 per client address, and per client id), which
// audits the attempt and counts a failure.
func (a *API) authenticateClient(r *http.Request, id, secret string) (service.Caller, error) {
	ctx, rid := r.Context(), httpapi.RequestID(r.Context())
	p, err := a.svc.CheckClient(ctx, service.ClientAttempt{ClientID: id, Secret: secret, Surface: "iam", RequestID: rid,
		RemoteAddr: r.RemoteAddr})
	if errors.Is(err, service.ErrUnauthenticated) {
		return service.Caller{}, errInvalidClient
	}
	if err != nil {
		return service.Caller{}, err
	}
	httpapi.NotePrincipal(ctx, p.Name)
	return service.Caller{Principal: p, Surface: "iam", RequestID: rid, RemoteAddr: r.RemoteAddr}, nil
}

// clientRefused audits a failed client authentication and counts it
// against the client address's limit (iam.md 7.1): it returns
// errInvalidClient, or ErrTooManyRequests once the address is over it.
func (a *API) clientRefused(r *http.Request, id string) error {
	resource := TokenPath
	if policy.ValidClientID(id) {
		resource = a.svc.ServiceAccountURN(id)
	}
	a.svc.AuditUnauthenticated(r.Context(), "iam", httpapi.RequestID(r.Context()), r.RemoteAddr, resource, "invalid client credentials")
	if a.svc.AuthFailed(r.RemoteAddr) {
		return service.ErrTooManyRequests
	}
	return errInvalidClient
}

// writeOAuth writes an answer of the token endpoint: JSON, never cached
// (RFC 6749 5.1: Cache-Control: no-store, which every answer has, and
// Pragma: no-cache).
func writeOAuth(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Pragma", "no-cache")
	httpapi.WriteJSON(w, status, v)
}

// describeOAuth maps an error of the token endpoint to an RFC 6749 5.2
// answer; a 500 has an empty description.
func describeOAuth(err error) *oauthError {
	if oe, ok := errors.AsType[*oauthError](err); ok {
		return oe
	}
	switch {
	case errors.Is(err, service.ErrUnauthenticated):
		// The account was deleted between the check and the issuance.
		return errInvalidClient
	case errors.Is(err, httpapi.ErrMethodNotAllowed):
		return &oauthError{status: http.StatusMethodNotAllowed, Code: "invalid_request",
			Desc: "the token endpoint takes POST requests only"}
	case errors.Is(err, httpapi.ErrBodyTooLarge):
		return &oauthError{status: http.StatusRequestEntityTooLarge, Code: "invalid_request", Desc: "request body exceeds 1048576 bytes"}
	case errors.As(err, new(*httpapi.BodyError)):
		return invalidRequest("the body could not be read")
	case errors.Is(err, service.ErrTooManyRequests):
		return &oauthError{status: http.StatusTooManyRequests, Code: "temporarily_unavailable",
			Desc: "too many failed authentications from this address; slow down"}
	case errors.Is(err, service.ErrSealed):
		return &oauthError{status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
			Desc: "coffer is sealed; try again once it is unsealed"}
	case errors.Is(err, service.ErrAuditUnavailable):
		return &oauthError{status: http.StatusServiceUnavailable, Code: "temporarily_unavailable",
			Desc: "the audit log is unavailable; try again later"}
	case errors.Is(err, context.Canceled):
		return invalidRequest("request canceled")
	}
	return &oauthError{status: http.StatusInternalServerError, Code: "server_error"}
}

// writeOAuthError renders err as an RFC 6749 5.2 answer. Unknown errors
// are logged in full and answered with server_error and the request id.
func (a *API) writeOAuthError(w http.ResponseWriter, r *http.Request, err error) {
	oe := *describeOAuth(err)
	if oe.status >= 500 && oe.Desc == "" {
		rid := httpapi.RequestID(r.Context())
		a.log.ErrorContext(r.Context(), "request failed", "err", err, "request_id", rid)
		oe.Desc = "internal error; request id " + rid
	}
	switch oe.status {
	case http.StatusUnauthorized:
		w.Header().Set("WWW-Authenticate", `Basic realm="coffer"`)
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", http.MethodPost)
	case http.StatusTooManyRequests:
		w.Header().Set("Retry-After", "1")
	}
	writeOAuth(w, oe.status, oe)
}
