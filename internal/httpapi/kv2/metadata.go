package kv2

import (
	"errors"
	"net/http"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// casIgnored is Vault's warning for cas_required false on a domain that
// requires CAS; the false is stored all the same (vault-kv2.md 2.4).
const casIgnored = `"cas_required" set to false, but is mandated by backend config. This value will be ignored.`

// listPage is the page size of the service calls of a complete list.
const listPage = 1000

// readMetadata serves GET metadata/<key> (vault-kv2.md 4.7). A key that
// is empty or ends in "/" names no secret: 404, as in Vault.
func (a *API) readMetadata(w http.ResponseWriter, r *http.Request, c *call) error {
	if c.key == "" || strings.HasSuffix(c.key, "/") {
		return secret.ErrNotFound
	}
	p, err := secret.ParsePath(c.key)
	if err != nil {
		return err
	}
	v, err := a.svc.GetSecret(r.Context(), c.caller, c.domain, p, service.GetOptions{})
	if err != nil {
		return err
	}
	return reply(w, r, c, toMetadata(a.svc, c.domain, v.Secret))
}

// listMetadata serves LIST metadata/<prefix> and GET …?list=true
// (vault-kv2.md 4.7): the immediate children the caller may see, from the
// service's filtered list of a folder's children; nothing visible is a
// 404. With X-Pagination-Size the list is one page, continued by the OKMS
// pagination headers (okms-rest.md 7).
func (a *API) listMetadata(w http.ResponseWriter, r *http.Request, c *call) error {
	prefix, exclude, err := listTarget(c)
	if err != nil {
		return err
	}
	var keys []string
	opt := service.ChildOptions{Prefix: prefix, Limit: listPage}
	paged := r.Header.Get(httpapi.HeaderPageSize) != ""
	if paged {
		pg, err := httpapi.ReadPage(r.Header)
		if err != nil {
			return err
		}
		opt.Cursor, opt.Limit = pg.Cursor, pg.Size
	}
	for {
		page, err := a.svc.ListChildren(r.Context(), c.caller, c.domain, opt)
		if err != nil {
			return err
		}
		keys = appendKeys(keys, page.Items, exclude)
		if page.Next == "" || paged {
			if paged {
				httpapi.SetNext(w.Header(), page.Next)
			}
			if len(keys) == 0 && page.Next == "" {
				return secret.ErrNotFound
			}
			if keys == nil {
				keys = []string{}
			}
			return reply(w, r, c, listResponse{Keys: keys})
		}
		opt.Cursor = page.Next
	}
}

// appendKeys appends Vault's list keys of children to keys: secrets as
// "name", folders as "name/". With exclude (Vault's exclude_deleted), the
// secrets whose current version has a deactivation time, past or
// scheduled, are left out; folders are always kept (vault-kv2.md 4.7).
func appendKeys(keys []string, children []service.Child, exclude bool) []string {
	for _, ch := range children {
		v := ch.Secret.Version
		if exclude && !ch.Folder && v != nil && !v.DeletionTime().IsZero() {
			continue
		}
		keys = append(keys, ch.Name)
	}
	return keys
}

// writeMetadata serves POST|PUT metadata/<key> (vault-kv2.md 4.7): only
// the fields provided change; 204, or 200 with the cas warning.
func (a *API) writeMetadata(w http.ResponseWriter, r *http.Request, c *call) error {
	u, err := metadataWrite(c.params)
	if err != nil {
		return err
	}
	p, err := secretPath(c.key)
	if err != nil {
		return err
	}
	res, err := a.svc.WriteMetadata(r.Context(), c.caller, c.domain, p, u)
	if err != nil {
		return err
	}
	return metadataDone(w, r, c, u, res.Config)
}

// patchMetadata serves PATCH metadata/<key> (vault-kv2.md 4.7): a merge
// patch of the settings and custom metadata of an existing secret; a
// missing one is a 404 with an empty body.
func (a *API) patchMetadata(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := secretPath(c.key)
	if err != nil {
		return err
	}
	u, err := metadataPatch(c.params)
	if err != nil {
		return err
	}
	res, err := a.svc.PatchMetadata(r.Context(), c.caller, c.domain, p, u)
	if err != nil {
		return emptyNotFound(r, err)
	}
	return metadataDone(w, r, c, u, res.Config)
}

// deleteMetadata serves DELETE metadata/<key> (vault-kv2.md 4.7): the
// secret and all its versions go; a missing secret is 204 too (surface B
// answers 404 there; each surface keeps its own convention).
func (a *API) deleteMetadata(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := secretPath(c.key)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteSecret(r.Context(), c.caller, c.domain, p); err != nil && !errors.Is(err, secret.ErrNotFound) {
		return err
	}
	return noContent(w)
}

// metadataDone answers a metadata write or patch: 204, or 200 with Vault's
// warning when cas_required false meets a domain that requires CAS.
func metadataDone(w http.ResponseWriter, r *http.Request, c *call, u secret.MetadataUpdate, cfg secret.Config) error {
	if u.CASRequired != nil && !*u.CASRequired && cfg.CASRequired {
		return reply(w, r, c, nil, casIgnored)
	}
	return noContent(w)
}

// listTarget parses a list: the folder, "" (the mount root) or a valid
// path followed by "/", and exclude_deleted.
func listTarget(c *call) (string, bool, error) {
	exclude, _, err := c.params.boolean("exclude_deleted")
	if err != nil || c.key == "" {
		return "", exclude, err
	}
	p, err := secret.ParsePath(strings.TrimSuffix(c.key, "/"))
	if err != nil {
		return "", false, err
	}
	return p.String() + "/", exclude, nil
}

// metadataWrite parses a metadata write (vault-kv2.md 4.7): each field
// provided, and not null, is set; custom_metadata replaces the whole map,
// null or {} clearing it.
func metadataWrite(ps params) (secret.MetadataUpdate, error) {
	u, err := metadataSettings(ps, false)
	if err != nil || !ps.has("custom_metadata") {
		return u, err
	}
	m, _, err := ps.stringMap("custom_metadata")
	if err != nil {
		return u, err
	}
	cm := make(map[string]string, len(m))
	for k, v := range m {
		cm[k] = ""
		if v != nil {
			cm[k] = *v
		}
	}
	if err := validateCustomMetadata(cm); err != nil {
		return u, err
	}
	u.CustomMetadata = &cm
	return u, nil
}

// metadataPatch parses a metadata patch (vault-kv2.md 4.7): null resets
// max_versions and cas_required, but delete_version_after null is "not
// provided" (quirk); custom_metadata merges key by key, a null entry
// removing its key and a null map removing them all.
func metadataPatch(ps params) (secret.MetadataUpdate, error) {
	u, err := metadataSettings(ps, true)
	if err != nil || !ps.has("custom_metadata") {
		return u, err
	}
	m, _, err := ps.stringMap("custom_metadata")
	if err != nil {
		return u, err
	}
	if m == nil {
		empty := map[string]string{}
		u.CustomMetadata = &empty
		return u, nil
	}
	set := map[string]string{}
	for k, v := range m {
		if v != nil {
			set[k] = *v
		}
	}
	if err := validateCustomMetadata(set); err != nil {
		return u, err
	}
	u.CustomMetadataPatch = m
	return u, nil
}

// metadataSettings parses max_versions, cas_required and
// delete_version_after; with nullResets, a null max_versions or
// cas_required resets it.
func metadataSettings(ps params, nullResets bool) (secret.MetadataUpdate, error) {
	var u secret.MetadataUpdate
	if n, ok, err := ps.int("max_versions"); err != nil {
		return u, err
	} else if ok || (nullResets && ps.isNull("max_versions")) {
		mv, err := secret.ParseMaxVersions(n)
		if err != nil {
			return u, err
		}
		u.MaxVersions = &mv
	}
	if b, ok, err := ps.boolean("cas_required"); err != nil {
		return u, err
	} else if ok || (nullResets && ps.isNull("cas_required")) {
		u.CASRequired = &b
	}
	if vd, ok, err := ps.duration("delete_version_after"); err != nil {
		return u, err
	} else if ok {
		d, err := vd.unsigned("delete_version_after")
		if err != nil {
			return u, err
		}
		u.DeactivateAfter = &d
	}
	return u, nil
}

// validateCustomMetadata applies the secret package's rules and keeps the
// map with the violations, for Vault's wording (vault-kv2.md 5.5).
func validateCustomMetadata(m map[string]string) error {
	if err := secret.ValidateCustomMetadata(m); err != nil {
		vs, _ := secret.AsViolations(err)
		return &metadataError{vs: vs, m: m}
	}
	return nil
}
