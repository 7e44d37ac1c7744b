package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// KV is the Vault KV version 2 surface of a domain (surface C,
// vault-kv2.md), mounted at /v1/<mount>/ for the server's default domain
// or /api/{okmsId}/v1/<mount>/ when the client has an explicit domain
// ([Client.ExplicitDomain]). Keys are paths inside the mount ("app/db").
type KV struct {
	c     *Client
	mount string
}

// KV returns the Vault KV v2 surface at mount; "" is coffer's only mount,
// "secret".
func (c *Client) KV(mount string) *KV {
	if mount == "" {
		mount = "secret"
	}
	return &KV{c: c, mount: mount}
}

// KVVersionMetadata describes one version in data reads and writes
// (vault-kv2.md 4.2, 4.3). Times are RFC 3339 with nanoseconds; an empty
// DeletionTime means no deactivation is set.
type KVVersionMetadata struct {
	Version        int               `json:"version"`
	CreatedTime    string            `json:"created_time"`
	DeletionTime   string            `json:"deletion_time"`
	Destroyed      bool              `json:"destroyed"`
	CustomMetadata map[string]string `json:"custom_metadata"`
}

// KVSecret is a data read: the version's value, null when the version is
// deactivated or destroyed, and its metadata.
type KVSecret struct {
	Data     json.RawMessage   `json:"data"`
	Metadata KVVersionMetadata `json:"metadata"`
}

// KVVersion is one entry of a metadata read's versions.
type KVVersion struct {
	CreatedTime  string `json:"created_time"`
	DeletionTime string `json:"deletion_time"`
	Destroyed    bool   `json:"destroyed"`
}

// KVMetadata is a metadata read (vault-kv2.md 4.7): the secret-level
// settings (0, false and "0s" when unset) and every retained version, by
// decimal id.
type KVMetadata struct {
	CasRequired        bool                 `json:"cas_required"`
	CreatedTime        string               `json:"created_time"`
	CurrentVersion     int                  `json:"current_version"`
	CustomMetadata     map[string]string    `json:"custom_metadata"`
	DeleteVersionAfter string               `json:"delete_version_after"`
	MaxVersions        int                  `json:"max_versions"`
	OldestVersion      int                  `json:"oldest_version"`
	UpdatedTime        string               `json:"updated_time"`
	URN                string               `json:"urn"`
	Versions           map[string]KVVersion `json:"versions"`
}

// KVMetadataUpdate is a metadata write; nil members are not sent.
type KVMetadataUpdate struct {
	MaxVersions        *int
	CasRequired        *bool
	DeleteVersionAfter *string
	// CustomMetadata, if not nil, replaces the whole map on a put and is
	// merged key by key on a patch, where a nil value removes the key.
	CustomMetadata map[string]*string
}

func (u KVMetadataUpdate) body() map[string]any {
	m := map[string]any{}
	if u.MaxVersions != nil {
		m["max_versions"] = *u.MaxVersions
	}
	if u.CasRequired != nil {
		m["cas_required"] = *u.CasRequired
	}
	if u.DeleteVersionAfter != nil {
		m["delete_version_after"] = *u.DeleteVersionAfter
	}
	if u.CustomMetadata != nil {
		m["custom_metadata"] = u.CustomMetadata
	}
	return m
}

// kvEnvelope is Vault's response envelope (vault-kv2.md 2.3).
type kvEnvelope struct {
	Data json.RawMessage `json:"data"`
}

// path returns the escaped path of op ("data", "metadata"...) on key.
func (kv *KV) path(op, key string) string {
	return kv.c.vaultRoot() + url.PathEscape(kv.mount) + "/" + op + "/" + escapeSegments(key)
}

// call sends a request and decodes the envelope's data into out.
func (kv *KV) call(ctx context.Context, rq request, out any) error {
	var env kvEnvelope
	rq.out = &env
	if _, err := kv.c.do(ctx, rq); err != nil {
		var e *Error
		if errors.As(err, &e) && e.StatusCode == http.StatusNotFound && len(e.Messages) == 0 {
			// Vault answers a bare 404: say what was not found.
			p := strings.TrimPrefix(rq.path, kv.c.vaultRoot())
			if u, uerr := url.PathUnescape(p); uerr == nil {
				p = u
			}
			e.Messages = []string{"no value found at " + p}
		}
		return err
	}
	if out != nil && len(env.Data) > 0 {
		if err := json.Unmarshal(env.Data, out); err != nil {
			return fmt.Errorf("client: %s %s: decode the answer: %w", rq.method, rq.path, err)
		}
	}
	return nil
}

// Get reads a version's value (GET data/<key>); version 0 is the current
// one. If the version is deactivated or destroyed, Get returns its
// metadata (with a null Data) together with an error matching
// [ErrNotFound]; if there is no such secret or version, only the error.
func (kv *KV) Get(ctx context.Context, key string, version int) (*KVSecret, error) {
	var q url.Values
	if version > 0 {
		q = url.Values{"version": {strconv.Itoa(version)}}
	}
	var env kvEnvelope
	res, err := kv.c.do(ctx, request{method: http.MethodGet, path: kv.path("data", key), query: q, out: &env, ok: []int{http.StatusNotFound}})
	if err != nil {
		return nil, err
	}
	if res.status == http.StatusNotFound {
		// vault-kv2.md 2.5: a raw 404 carries the version's metadata.
		_ = json.Unmarshal(res.body, &env)
	}
	var s *KVSecret
	if len(env.Data) > 0 && string(env.Data) != "null" {
		s = new(KVSecret)
		if err := json.Unmarshal(env.Data, s); err != nil {
			return nil, fmt.Errorf("client: GET %s: decode the answer: %w", kv.path("data", key), err)
		}
	}
	if res.status == http.StatusNotFound {
		e := parseError(res.status, res.header, res.body)
		if s != nil && len(e.Messages) == 0 {
			state := "deactivated"
			if s.Metadata.Destroyed {
				state = "destroyed"
			}
			e.Messages = []string{fmt.Sprintf("version %d of %s is %s", s.Metadata.Version, key, state)}
		} else if len(e.Messages) == 0 {
			e.Messages = []string{"no value found at " + kv.mount + "/data/" + key}
		}
		return s, e
	}
	return s, nil
}

// writeOptions is the options member of a data write.
type writeOptions struct {
	CAS *int `json:"cas,omitempty"`
}

// Put writes a new version holding data, a JSON object (PUT data/<key>),
// creating the secret if needed. cas, if not nil, must equal the current
// version (0: only if the secret has no version).
func (kv *KV) Put(ctx context.Context, key string, data json.RawMessage, cas *int) (*KVVersionMetadata, error) {
	body := struct {
		Data    json.RawMessage `json:"data"`
		Options writeOptions    `json:"options"`
	}{data, writeOptions{cas}}
	var out KVVersionMetadata
	if err := kv.call(ctx, request{method: http.MethodPut, path: kv.path("data", key), body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Patch applies patch to the current version as an RFC 7396 JSON merge
// patch and stores the result as a new version (PATCH data/<key>): a null
// member removes the key.
func (kv *KV) Patch(ctx context.Context, key string, patch json.RawMessage, cas *int) (*KVVersionMetadata, error) {
	body := struct {
		Data    json.RawMessage `json:"data"`
		Options writeOptions    `json:"options"`
	}{patch, writeOptions{cas}}
	h := http.Header{"Content-Type": {"application/merge-patch+json"}}
	var out KVVersionMetadata
	if err := kv.call(ctx, request{method: http.MethodPatch, path: kv.path("data", key), header: h, body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// List returns the keys directly under prefix ("" for the mount's root):
// secrets as "name", folders as "name/". An empty folder is an error
// matching [ErrNotFound], as in Vault.
func (kv *KV) List(ctx context.Context, prefix string) ([]string, error) {
	var out struct {
		Keys []string `json:"keys"`
	}
	err := kv.call(ctx, request{method: http.MethodGet, path: kv.path("metadata", prefix), query: url.Values{"list": {"true"}}}, &out)
	return out.Keys, err
}

// Delete deactivates versions: the current one if versions is empty
// (DELETE data/<key>), else those listed (PUT delete/<key>). Undelete
// reverts it.
func (kv *KV) Delete(ctx context.Context, key string, versions []int) error {
	if len(versions) == 0 {
		return kv.call(ctx, request{method: http.MethodDelete, path: kv.path("data", key)}, nil)
	}
	return kv.versions(ctx, "delete", key, versions)
}

// Undelete reactivates deactivated versions (PUT undelete/<key>).
func (kv *KV) Undelete(ctx context.Context, key string, versions []int) error {
	return kv.versions(ctx, "undelete", key, versions)
}

// Destroy deletes versions for good: their values are destroyed (PUT
// destroy/<key>).
func (kv *KV) Destroy(ctx context.Context, key string, versions []int) error {
	return kv.versions(ctx, "destroy", key, versions)
}

func (kv *KV) versions(ctx context.Context, op, key string, versions []int) error {
	body := struct {
		Versions []int `json:"versions"`
	}{versions}
	return kv.call(ctx, request{method: http.MethodPut, path: kv.path(op, key), body: body}, nil)
}

// Rollback writes the value of version as a new version, as vault kv
// rollback does (vault-kv2.md 5.7): it refuses a version that is
// deactivated, scheduled for deactivation or destroyed, and writes with
// check-and-set on the current version.
func (kv *KV) Rollback(ctx context.Context, key string, version int) (*KVVersionMetadata, error) {
	cur, err := kv.Get(ctx, key, 0)
	if cur == nil {
		return nil, err
	}
	old, err := kv.Get(ctx, key, version)
	if err != nil {
		return nil, err
	}
	if old.Metadata.DeletionTime != "" || old.Metadata.Destroyed || len(old.Data) == 0 || string(old.Data) == "null" {
		return nil, fmt.Errorf("client: cannot roll back to version %d of %s: it is deleted, destroyed or scheduled for deletion", version, key)
	}
	cas := cur.Metadata.Version
	return kv.Put(ctx, key, old.Data, &cas)
}

// Metadata reads a secret's metadata and versions (GET metadata/<key>).
func (kv *KV) Metadata(ctx context.Context, key string) (*KVMetadata, error) {
	var out KVMetadata
	if err := kv.call(ctx, request{method: http.MethodGet, path: kv.path("metadata", key)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// PutMetadata writes the members of u (POST metadata/<key>), creating the
// secret without a version if it does not exist.
func (kv *KV) PutMetadata(ctx context.Context, key string, u KVMetadataUpdate) error {
	return kv.call(ctx, request{method: http.MethodPut, path: kv.path("metadata", key), body: u.body()}, nil)
}

// PatchMetadata merges u into an existing secret's metadata (PATCH
// metadata/<key>).
func (kv *KV) PatchMetadata(ctx context.Context, key string, u KVMetadataUpdate) error {
	h := http.Header{"Content-Type": {"application/merge-patch+json"}}
	return kv.call(ctx, request{method: http.MethodPatch, path: kv.path("metadata", key), header: h, body: u.body()}, nil)
}

// DeleteMetadata deletes a secret and all its versions (DELETE
// metadata/<key>); a missing secret is not an error.
func (kv *KV) DeleteMetadata(ctx context.Context, key string) error {
	return kv.call(ctx, request{method: http.MethodDelete, path: kv.path("metadata", key)}, nil)
}

// TokenInfo describes the caller's credential (Vault's
// auth/token/lookup-self, vault-kv2.md 6.3).
type TokenInfo struct {
	DisplayName string   `json:"display_name"`
	Policies    []string `json:"policies"`
	// ExpireTime is RFC 3339, nil for a credential that does not expire.
	ExpireTime *string `json:"expire_time"`
	TTL        int64   `json:"ttl"`
	Type       string  `json:"type"`
}

// LookupSelf describes the caller's credential. It is the cheapest
// authenticated call: it needs no IAM action.
func (c *Client) LookupSelf(ctx context.Context) (*TokenInfo, error) {
	var out TokenInfo
	if err := c.KV("").call(ctx, request{method: http.MethodGet, path: c.vaultRoot() + "auth/token/lookup-self"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

func (c *Client) vaultRoot() string {
	if d := c.ExplicitDomain(); d != "" {
		return "/api/" + url.PathEscape(d) + "/v1/"
	}
	return "/v1/"
}
