package iamapi

import (
	"net/http"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// tokenRequest is OVHcloud's auth.PersonalAccessTokenRequest. Its
// description is optional in coffer.
type tokenRequest struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	ExpiresAt   *string `json:"expiresAt"`
	// ExpiresIn is OVHcloud's relative lifetime, which coffer does not
	// support: it is refused, because ignoring it would create a token that
	// never expires.
	ExpiresIn *int64 `json:"expiresIn"`
}

// expiry returns the requested expiry, zero for none, truncated to the
// second so that the time shown is the time applied.
func (q tokenRequest) expiry() (time.Time, error) {
	if q.ExpiresIn != nil {
		return time.Time{}, &service.InvalidError{Field: "expiresIn", Reason: "is not supported; give expiresAt, an RFC 3339 date-time"}
	}
	if q.ExpiresAt == nil || *q.ExpiresAt == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, *q.ExpiresAt)
	if err != nil {
		return time.Time{}, &service.InvalidError{Field: "expiresAt", Reason: "must be an RFC 3339 date-time, e.g. 2030-01-01T00:00:00Z"}
	}
	return t.UTC().Truncate(time.Second), nil
}

// tokenResponse is OVHcloud's auth.PersonalAccessToken: a token as listed,
// never its value. expiresAt and lastUsed are null for never.
type tokenResponse struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Creation    string  `json:"creation"`
	ExpiresAt   *string `json:"expiresAt"`
	LastUsed    *string `json:"lastUsed"`
}

// tokenCreated is OVHcloud's auth.PersonalAccessTokenResponse: the only
// response that carries a token's value (iam.md 7.2: shown once).
type tokenCreated struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Token       string  `json:"token"`
	Creation    string  `json:"creation"`
	ExpiresAt   *string `json:"expiresAt"`
	LastUsed    *string `json:"lastUsed"`
}

func toToken(p service.PAT) tokenResponse {
	return tokenResponse{Name: p.Name, Description: p.Description, Creation: httpapi.TimeText(p.CreatedAt),
		ExpiresAt: httpapi.OptTimeText(p.ExpiresAt), LastUsed: httpapi.OptTimeText(p.LastUsed)}
}

// listTokens serves GET /1.0/me/identity/user/{login}/token: the token
// names, as OVHcloud answers.
func (a *API) listTokens(w http.ResponseWriter, r *http.Request) error {
	c, login, err := a.begin(r, userLogin)
	if err != nil {
		return err
	}
	ps, err := a.svc.ListPATs(r.Context(), c, login)
	if err == nil {
		ps, err = pageOf(w, r, a.svc, c, service.Listing{Kind: service.ListPATs, Of: login}, ps, func(p service.PAT) string { return p.Name })
	}
	if err != nil {
		return err
	}
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Name
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

// createToken serves POST /1.0/me/identity/user/{login}/token. The answer
// holds the token's value, which coffer does not keep.
func (a *API) createToken(w http.ResponseWriter, r *http.Request) error {
	c, login, err := a.begin(r, userLogin)
	if err != nil {
		return err
	}
	var req tokenRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	exp, err := req.expiry()
	if err != nil {
		return err
	}
	tok, p, err := a.svc.CreatePAT(r.Context(), c, login, req.Name, req.Description, exp)
	if err != nil {
		return err
	}
	t := toToken(p)
	httpapi.WriteJSON(w, http.StatusOK, tokenCreated{Name: t.Name, Description: t.Description, Token: tok,
		Creation: t.Creation, ExpiresAt: t.ExpiresAt, LastUsed: t.LastUsed})
	return nil
}

// getToken serves GET /1.0/me/identity/user/{login}/token/{name}.
func (a *API) getToken(w http.ResponseWriter, r *http.Request) error {
	c, login, tname, err := a.tokenRoute(r)
	if err != nil {
		return err
	}
	p, err := a.svc.GetPAT(r.Context(), c, login, tname)
	if err != nil {
		return err
	}
	httpapi.WriteJSON(w, http.StatusOK, toToken(p))
	return nil
}

// revokeToken serves DELETE /1.0/me/identity/user/{login}/token/{name}:
// the token, and the child tokens made with it, stop working at once.
func (a *API) revokeToken(w http.ResponseWriter, r *http.Request) error {
	c, login, tname, err := a.tokenRoute(r)
	if err != nil {
		return err
	}
	if err := a.svc.RevokePAT(r.Context(), c, login, tname); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// tokenRoute authenticates a request on one token and returns its login
// and token name.
func (a *API) tokenRoute(r *http.Request) (service.Caller, string, string, error) {
	c, login, err := a.begin(r, userLogin)
	if err != nil {
		return c, "", "", err
	}
	tname, err := name(r, "name", service.ErrTokenNotFound)
	return c, login, tname, err
}
