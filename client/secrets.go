package client

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strconv"

	"github.com/seed-3e8d63de/coffer/api"
)

// Surface B: the OKMS regional REST API of a domain (okms-rest.md 4).
// Every call addresses the domain of [Client.Domain].

// secretPath returns the escaped URL path of a surface-B route: the secret
// path travels as one segment, its slashes as %2F (okms-rest.md 1.2).
func (c *Client) secretPath(ctx context.Context, path string, suffix string) (string, error) {
	d, err := c.Domain(ctx)
	if err != nil {
		return "", err
	}
	p := "/api/" + url.PathEscape(d) + "/v2/secret"
	if path != "" {
		p += "/" + url.PathEscape(path)
	}
	return p + suffix, nil
}

// PageOptions choose a page of a listing.
type PageOptions struct {
	// Size is the number of items asked for (X-Pagination-Size); 0 lets
	// the server choose (100). The server clamps it to 10..100.
	Size int
	// Cursor is the X-Pagination-Cursor-Next of the previous page, "" for
	// the first page.
	Cursor string
}

func (o PageOptions) header() http.Header {
	h := http.Header{}
	if o.Size > 0 {
		h.Set(api.HeaderPageSize, strconv.Itoa(o.Size))
	}
	if o.Cursor != "" {
		h.Set(api.HeaderCursor, o.Cursor)
	}
	return h
}

// ListSecretsPage returns one page of the secrets the caller may see,
// sorted by path, and the cursor of the next page ("" after the last).
// A page may hold fewer items than asked while more follow (okms-rest.md
// 7): only an empty cursor means the end.
func (c *Client) ListSecretsPage(ctx context.Context, opt PageOptions) ([]api.GetSecretResponse, string, error) {
	p, err := c.secretPath(ctx, "", "")
	if err != nil {
		return nil, "", err
	}
	var out []api.GetSecretResponse
	res, err := c.do(ctx, request{method: http.MethodGet, path: p, header: opt.header(), out: &out})
	if err != nil {
		return nil, "", err
	}
	return out, res.header.Get(api.HeaderCursorNext), nil
}

// Secrets iterates over every secret the caller may see, page after page
// of pageSize (0: the server's default). Iteration stops at the first
// error, which is yielded with a zero value.
func (c *Client) Secrets(ctx context.Context, pageSize int) iter.Seq2[api.GetSecretResponse, error] {
	return paginate(func(cursor string) ([]api.GetSecretResponse, string, error) {
		return c.ListSecretsPage(ctx, PageOptions{Size: pageSize, Cursor: cursor})
	})
}

// paginate turns a page fetcher into an iterator that follows the cursor
// until it is empty.
func paginate[T any](fetch func(cursor string) ([]T, string, error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		cursor := ""
		for {
			items, next, err := fetch(cursor)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if next == "" {
				return
			}
			if next == cursor {
				var zero T
				yield(zero, errors.New("client: the server returned the same cursor twice"))
				return
			}
			cursor = next
		}
	}
}

// CreateSecret creates a secret and its version 1 (POST /v2/secret). It
// fails with [ErrConflict] if the path exists.
func (c *Client) CreateSecret(ctx context.Context, req api.CreateSecretRequest) (*api.SecretResponse, error) {
	p, err := c.secretPath(ctx, "", "")
	if err != nil {
		return nil, err
	}
	var out api.SecretResponse
	if _, err := c.do(ctx, request{method: http.MethodPost, path: p, body: req, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// GetSecretOptions choose what [Client.GetSecret] returns.
type GetSecretOptions struct {
	// Version is the version to return, 0 for the current one.
	Version uint32
	// IncludeData asks for the version's value; it needs the action
	// secret/version/getData, and an inactive version has no value.
	IncludeData bool
}

// GetSecret returns a secret's metadata and one version (GET
// /v2/secret/{path}).
func (c *Client) GetSecret(ctx context.Context, path string, opt GetSecretOptions) (*api.GetSecretResponse, error) {
	p, err := c.secretPath(ctx, path, "")
	if err != nil {
		return nil, err
	}
	q := url.Values{}
	if opt.Version > 0 {
		q.Set("version", strconv.FormatUint(uint64(opt.Version), 10))
	}
	if opt.IncludeData {
		q.Set("includeData", "true")
	}
	var out api.GetSecretResponse
	if _, err := c.do(ctx, request{method: http.MethodGet, path: p, query: q, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// casQuery is the cas query parameter (okms-rest.md 3.3), absent if nil.
func casQuery(cas *uint32) url.Values {
	if cas == nil {
		return nil
	}
	return url.Values{"cas": {strconv.FormatUint(uint64(*cas), 10)}}
}

// UpdateSecret changes a secret's metadata and/or adds a version (PUT
// /v2/secret/{path}); cas, if not nil, must equal the current version.
func (c *Client) UpdateSecret(ctx context.Context, path string, req api.UpdateSecretRequest, cas *uint32) (*api.SecretResponse, error) {
	p, err := c.secretPath(ctx, path, "")
	if err != nil {
		return nil, err
	}
	var out api.SecretResponse
	if _, err := c.do(ctx, request{method: http.MethodPut, path: p, query: casQuery(cas), body: req, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteSecret deletes a secret and all its versions (DELETE
// /v2/secret/{path}).
func (c *Client) DeleteSecret(ctx context.Context, path string) error {
	p, err := c.secretPath(ctx, path, "")
	if err != nil {
		return err
	}
	_, err = c.do(ctx, request{method: http.MethodDelete, path: p})
	return err
}

// ListVersionsPage returns one page of a secret's versions, by id, without
// data, and the cursor of the next page ("" after the last).
func (c *Client) ListVersionsPage(ctx context.Context, path string, opt PageOptions) ([]api.SecretVersion, string, error) {
	p, err := c.secretPath(ctx, path, "/version")
	if err != nil {
		return nil, "", err
	}
	var out []api.SecretVersion
	res, err := c.do(ctx, request{method: http.MethodGet, path: p, header: opt.header(), out: &out})
	if err != nil {
		return nil, "", err
	}
	return out, res.header.Get(api.HeaderCursorNext), nil
}

// Versions iterates over every version of a secret (see [Client.Secrets]).
func (c *Client) Versions(ctx context.Context, path string, pageSize int) iter.Seq2[api.SecretVersion, error] {
	return paginate(func(cursor string) ([]api.SecretVersion, string, error) {
		return c.ListVersionsPage(ctx, path, PageOptions{Size: pageSize, Cursor: cursor})
	})
}

// AddVersion adds a version holding data, a JSON object (POST
// /v2/secret/{path}/version); cas, if not nil, must equal the current
// version.
func (c *Client) AddVersion(ctx context.Context, path string, data json.RawMessage, cas *uint32) (*api.SecretVersion, error) {
	p, err := c.secretPath(ctx, path, "/version")
	if err != nil {
		return nil, err
	}
	var out api.SecretVersion
	body := api.AddVersionRequest{Data: data}
	if _, err := c.do(ctx, request{method: http.MethodPost, path: p, query: casQuery(cas), body: body, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

func versionSuffix(id uint32) string { return "/version/" + strconv.FormatUint(uint64(id), 10) }

// GetVersion returns one version (GET /v2/secret/{path}/version/{id}),
// with its value if includeData and the version is active.
func (c *Client) GetVersion(ctx context.Context, path string, id uint32, includeData bool) (*api.SecretVersion, error) {
	p, err := c.secretPath(ctx, path, versionSuffix(id))
	if err != nil {
		return nil, err
	}
	var q url.Values
	if includeData {
		q = url.Values{"includeData": {"true"}}
	}
	var out api.SecretVersion
	if _, err := c.do(ctx, request{method: http.MethodGet, path: p, query: q, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetVersionState changes a version's state to [api.StateActive],
// [api.StateDeactivated] or [api.StateDeleted] (PUT
// /v2/secret/{path}/version/{id}). Deleted is final: the value is
// destroyed.
func (c *Client) SetVersionState(ctx context.Context, path string, id uint32, state string) (*api.SecretVersion, error) {
	p, err := c.secretPath(ctx, path, versionSuffix(id))
	if err != nil {
		return nil, err
	}
	var out api.SecretVersion
	body := api.UpdateVersionRequest{State: &state}
	if _, err := c.do(ctx, request{method: http.MethodPut, path: p, body: body, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// configPath is the path of the domain's secretConfig.
func (c *Client) configPath(ctx context.Context) (string, error) {
	d, err := c.Domain(ctx)
	if err != nil {
		return "", err
	}
	return "/api/" + url.PathEscape(d) + "/v2/secretConfig", nil
}

// SecretConfig returns the domain's secret configuration (GET
// /v2/secretConfig).
func (c *Client) SecretConfig(ctx context.Context) (*api.SecretConfig, error) {
	p, err := c.configPath(ctx)
	if err != nil {
		return nil, err
	}
	var out api.SecretConfig
	if _, err := c.do(ctx, request{method: http.MethodGet, path: p, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}

// UpdateSecretConfig changes the members of the domain's secret
// configuration that req sets (PUT /v2/secretConfig).
func (c *Client) UpdateSecretConfig(ctx context.Context, req api.UpdateSecretConfigRequest) (*api.SecretConfigResponse, error) {
	p, err := c.configPath(ctx)
	if err != nil {
		return nil, err
	}
	var out api.SecretConfigResponse
	if _, err := c.do(ctx, request{method: http.MethodPut, path: p, body: req, out: &out}); err != nil {
		return nil, err
	}
	return &out, nil
}
