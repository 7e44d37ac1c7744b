package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
)

// Identity management (iam.md 7.4): users, groups, personal access tokens,
// policies and the audit log. Every call is restricted to the account root
// and ADMIN users.

// User is an identity that authenticates with tokens (auth.User).
type User struct {
	Login       string `json:"login"`
	Description string `json:"description"`
	Email       string `json:"email"`
	Group       string `json:"group"`
	URN         string `json:"urn"`
	Creation    string `json:"creation"`
	LastUpdate  string `json:"lastUpdate"`
	Status      string `json:"status"`
}

// UserRequest creates or updates a user. On update, nil members are left
// unchanged and Login is ignored.
type UserRequest struct {
	Login       string  `json:"login,omitempty"`
	Description *string `json:"description,omitempty"`
	Email       *string `json:"email,omitempty"`
	Group       *string `json:"group,omitempty"`
	Password    *string `json:"password,omitempty"`
}

// Group is a group of users with a role (auth.Group); members of an ADMIN
// group pass every IAM check.
type Group struct {
	Name         string `json:"name"`
	Description  string `json:"description"`
	Role         string `json:"role"`
	URN          string `json:"urn"`
	Creation     string `json:"creation"`
	LastUpdate   string `json:"lastUpdate"`
	DefaultGroup bool   `json:"defaultGroup"`
}

// GroupRequest creates or updates a group; on update nil members are left
// unchanged and Name is ignored.
type GroupRequest struct {
	Name        string  `json:"name,omitempty"`
	Description *string `json:"description,omitempty"`
	Role        *string `json:"role,omitempty"`
}

// Token is a personal access token of a user. Token (the value) is set
// only in the answer to its creation: the server keeps a digest.
type Token struct {
	Name        string  `json:"name"`
	Description string  `json:"description"`
	Token       string  `json:"token,omitempty"`
	Creation    string  `json:"creation"`
	ExpiresAt   *string `json:"expiresAt"`
	LastUsed    *string `json:"lastUsed"`
}

// TokenRequest creates a personal access token; ExpiresAt is RFC 3339, ""
// for a token that never expires.
type TokenRequest struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	ExpiresAt   string `json:"expiresAt,omitempty"`
}

// Policy is an IAM policy (iam.md 4.1) as the server returns it.
type Policy struct {
	ID                string           `json:"id"`
	Name              string           `json:"name"`
	Description       string           `json:"description"`
	Identities        []string         `json:"identities"`
	Resources         []PolicyResource `json:"resources"`
	Permissions       PolicyActions    `json:"permissions"`
	PermissionsGroups []PolicyResource `json:"permissionsGroups"`
	ExpiredAt         *string          `json:"expiredAt"`
	CreatedAt         string           `json:"createdAt"`
	UpdatedAt         string           `json:"updatedAt"`
	ReadOnly          bool             `json:"readOnly"`
	Owner             string           `json:"owner"`
}

// PolicyResource is a resource URN pattern of a policy.
type PolicyResource struct {
	URN string `json:"urn"`
}

// PolicyAction is an action pattern of a policy.
type PolicyAction struct {
	Action string `json:"action"`
}

// PolicyActions are the permissions of a policy.
type PolicyActions struct {
	Allow  []PolicyAction `json:"allow"`
	Except []PolicyAction `json:"except"`
	Deny   []PolicyAction `json:"deny"`
}

// AuditEvent is one event of the audit log. It never holds a value, a
// token or a password.
type AuditEvent struct {
	Time       string   `json:"time"`
	Phase      string   `json:"phase"`
	RequestID  string   `json:"requestId"`
	Surface    string   `json:"surface"`
	Principal  []string `json:"principal"`
	Credential string   `json:"credential"`
	Action     string   `json:"action"`
	Resource   string   `json:"resource"`
	Outcome    string   `json:"outcome"`
	Reason     string   `json:"reason"`
	RemoteAddr string   `json:"remoteAddr"`
}

const (
	usersPath    = "/1.0/me/identity/user"
	groupsPath   = "/1.0/me/identity/group"
	policiesPath = "/v2/iam/policy"
)

// get, send and del are the shapes of the identity calls.
func (c *Client) get(ctx context.Context, path string, out any) error {
	_, err := c.do(ctx, request{method: http.MethodGet, path: path, out: out})
	return err
}

func (c *Client) send(ctx context.Context, method, path string, body, out any) error {
	_, err := c.do(ctx, request{method: method, path: path, body: body, out: out})
	return err
}

// getAs and sendAs decode the answer into a new T; nil on error.
func getAs[T any](ctx context.Context, c *Client, path string) (*T, error) {
	var out T
	if err := c.get(ctx, path, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func sendAs[T any](ctx context.Context, c *Client, method, path string, body any) (*T, error) {
	var out T
	if err := c.send(ctx, method, path, body, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// listAs decodes the JSON array of the answer; nil on error.
func listAs[T any](ctx context.Context, c *Client, path string) ([]T, error) {
	var out []T
	if err := c.get(ctx, path, &out); err != nil {
		return nil, err
	}
	return out, nil
}

func (c *Client) del(ctx context.Context, path string) error {
	_, err := c.do(ctx, request{method: http.MethodDelete, path: path})
	return err
}

// ListUsers returns the logins of every user.
func (c *Client) ListUsers(ctx context.Context) ([]string, error) {
	return listAs[string](ctx, c, usersPath)
}

// CreateUser creates a user.
func (c *Client) CreateUser(ctx context.Context, req UserRequest) (*User, error) {
	return sendAs[User](ctx, c, http.MethodPost, usersPath, req)
}

// GetUser returns a user.
func (c *Client) GetUser(ctx context.Context, login string) (*User, error) {
	return getAs[User](ctx, c, usersPath+"/"+url.PathEscape(login))
}

// UpdateUser changes the members of a user that req sets.
func (c *Client) UpdateUser(ctx context.Context, login string, req UserRequest) (*User, error) {
	return sendAs[User](ctx, c, http.MethodPut, usersPath+"/"+url.PathEscape(login), req)
}

// DeleteUser deletes a user and revokes its tokens.
func (c *Client) DeleteUser(ctx context.Context, login string) error {
	return c.del(ctx, usersPath+"/"+url.PathEscape(login))
}

// ListGroups returns the names of every group.
func (c *Client) ListGroups(ctx context.Context) ([]string, error) {
	return listAs[string](ctx, c, groupsPath)
}

// CreateGroup creates a group.
func (c *Client) CreateGroup(ctx context.Context, req GroupRequest) (*Group, error) {
	return sendAs[Group](ctx, c, http.MethodPost, groupsPath, req)
}

// GetGroup returns a group.
func (c *Client) GetGroup(ctx context.Context, name string) (*Group, error) {
	return getAs[Group](ctx, c, groupsPath+"/"+url.PathEscape(name))
}

// UpdateGroup changes the members of a group that req sets.
func (c *Client) UpdateGroup(ctx context.Context, name string, req GroupRequest) (*Group, error) {
	return sendAs[Group](ctx, c, http.MethodPut, groupsPath+"/"+url.PathEscape(name), req)
}

// DeleteGroup deletes a group without members; it fails with [ErrConflict]
// while users belong to it.
func (c *Client) DeleteGroup(ctx context.Context, name string) error {
	return c.del(ctx, groupsPath+"/"+url.PathEscape(name))
}

func tokensPath(login string) string { return usersPath + "/" + url.PathEscape(login) + "/token" }

// ListTokens returns the names of a user's personal access tokens.
func (c *Client) ListTokens(ctx context.Context, login string) ([]string, error) {
	return listAs[string](ctx, c, tokensPath(login))
}

// CreateToken creates a personal access token for a user; the answer holds
// its value, shown once.
func (c *Client) CreateToken(ctx context.Context, login string, req TokenRequest) (*Token, error) {
	return sendAs[Token](ctx, c, http.MethodPost, tokensPath(login), req)
}

// GetToken returns a token's description, never its value.
func (c *Client) GetToken(ctx context.Context, login, name string) (*Token, error) {
	return getAs[Token](ctx, c, tokensPath(login)+"/"+url.PathEscape(name))
}

// RevokeToken revokes a token and the child tokens made with it.
func (c *Client) RevokeToken(ctx context.Context, login, name string) error {
	return c.del(ctx, tokensPath(login)+"/"+url.PathEscape(name))
}

// ListPolicies returns every policy.
func (c *Client) ListPolicies(ctx context.Context) ([]Policy, error) {
	return listAs[Policy](ctx, c, policiesPath)
}

// CreatePolicy creates a policy from its JSON document (iam.md 4.1), sent
// as is: the server rejects unknown members and reports every problem.
func (c *Client) CreatePolicy(ctx context.Context, document json.RawMessage) (*Policy, error) {
	return sendAs[Policy](ctx, c, http.MethodPost, policiesPath, []byte(document))
}

// GetPolicy returns a policy by id.
func (c *Client) GetPolicy(ctx context.Context, id string) (*Policy, error) {
	return getAs[Policy](ctx, c, policiesPath+"/"+url.PathEscape(id))
}

// UpdatePolicy replaces a policy with a JSON document.
func (c *Client) UpdatePolicy(ctx context.Context, id string, document json.RawMessage) (*Policy, error) {
	return sendAs[Policy](ctx, c, http.MethodPut, policiesPath+"/"+url.PathEscape(id), []byte(document))
}

// DeletePolicy deletes a policy.
func (c *Client) DeletePolicy(ctx context.Context, id string) error {
	return c.del(ctx, policiesPath+"/"+url.PathEscape(id))
}

// AuditTail returns the last n events of the audit log, oldest first (GET
// /v2/iam/audit). The server must audit to a file.
func (c *Client) AuditTail(ctx context.Context, n int) ([]AuditEvent, error) {
	var out []AuditEvent
	_, err := c.do(ctx, request{method: http.MethodGet, path: "/v2/iam/audit",
		query: url.Values{"limit": {strconv.Itoa(n)}}, out: &out})
	return out, err
}
