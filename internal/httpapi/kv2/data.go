package kv2

import (
	"errors"
	"math"
	"mime"
	"net/http"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// readData serves GET data/<key>[?version=N] (vault-kv2.md 4.2). A version
// that cannot be read is a raw 404 with its metadata (2.5-1).
func (a *API) readData(w http.ResponseWriter, r *http.Request, c *call) error {
	p, version, err := readTarget(c)
	if err != nil {
		return err
	}
	v, err := a.svc.GetSecret(r.Context(), c.caller, c.domain, p, service.GetOptions{Version: version, IncludeData: true})
	if err == nil && v.Version == nil {
		err = secret.ErrVersionNotFound // the secret has no version
	}
	if err != nil {
		return err
	}
	body := dataResponse{Metadata: toVersionMetadata(v.Secret, *v.Version)}
	if v.Data == nil {
		return writeRaw404(w, r, body, nil, secret.ErrVersionNotFound)
	}
	body.Data = v.Data.JSON()
	return replyData(w, r, c, body)
}

// writeData serves POST|PUT data/<key> (vault-kv2.md 4.3): a new version,
// creating the secret if needed; 200 with the version's metadata at the
// top level (the Go client's Put needs it).
func (a *API) writeData(w http.ResponseWriter, r *http.Request, c *call) error {
	p, raw, cas, err := dataInput(c)
	if err != nil {
		return err
	}
	d, err := secret.ParseData(raw)
	if err != nil {
		return err
	}
	v, s, err := a.svc.PutVersion(r.Context(), c.caller, c.domain, p, d, service.PutOptions{CAS: cas, CreateIfMissing: true})
	if err != nil {
		return err
	}
	return reply(w, r, c, toVersionMetadata(s, v))
}

// patchData serves PATCH data/<key> (vault-kv2.md 4.4): a JSON merge patch
// of the current version. A missing secret or one without versions is a
// 404 with an empty body (2.5-3); an unreadable current version a raw 404
// with flat metadata (2.5-2).
func (a *API) patchData(w http.ResponseWriter, r *http.Request, c *call) error {
	p, raw, cas, err := dataInput(c)
	if err != nil {
		return err
	}
	v, s, err := a.svc.PatchVersion(r.Context(), c.caller, c.domain, p, raw, cas)
	if errors.Is(err, secret.ErrVersionInactive) {
		return writeRaw404(w, r, toVersionMetadata(s, v), nil, secret.ErrVersionNotFound)
	}
	if err != nil {
		return emptyNotFound(r, err)
	}
	return reply(w, r, c, toVersionMetadata(s, v))
}

// deleteData serves DELETE data/<key> (vault-kv2.md 4.5): the current
// version is deactivated; always 204.
func (a *API) deleteData(w http.ResponseWriter, r *http.Request, c *call) error {
	p, err := secretPath(c.key)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteCurrentVersion(r.Context(), c.caller, c.domain, p); err != nil {
		return err
	}
	return noContent(w)
}

// secretPath validates the key of a request as a secret path
// (okms-rest.md 2.2); an empty key is Vault's "missing path".
func secretPath(key string) (secret.Path, error) {
	if key == "" {
		return secret.Path{}, errMissingPath
	}
	return secret.ParsePath(key)
}

// readTarget returns the secret and the version a data or subkeys read
// asks for (vault-kv2.md 4.2): version absent, 0 or negative means the
// current one; one beyond the id range is simply not found.
func readTarget(c *call) (secret.Path, uint32, error) {
	n, _, err := c.params.int("version")
	if err != nil {
		return secret.Path{}, 0, err
	}
	p, err := secretPath(c.key)
	if err != nil {
		return p, 0, err
	}
	return p, uint32(min(max(n, 0), math.MaxUint32)), nil
}

// dataInput parses the body of a data write or patch (vault-kv2.md 4.3,
// 4.4): the path, the JSON text of data (required; null is {}) and
// options.cas. terraform's stray top-level "cas" is an ignored parameter,
// never CAS (2.2).
func dataInput(c *call) (secret.Path, []byte, *uint32, error) {
	raw, ok, err := c.params.object("data")
	if err != nil {
		return secret.Path{}, nil, nil, err
	}
	cas, err := c.params.cas()
	if err != nil {
		return secret.Path{}, nil, nil, err
	}
	p, err := secretPath(c.key)
	if err != nil {
		return p, nil, nil, err
	}
	if !ok {
		return p, nil, nil, errNoData
	}
	if strings.TrimSpace(string(raw)) == "null" {
		raw = []byte("{}")
	}
	return p, raw, cas, nil
}

// emptyNotFound turns the not-found errors of a patch into Vault's 404
// with an empty body (vault-kv2.md 2.5-3), which the Go client reads as
// ErrSecretNotFound. A patch sent as application/json comes from an OKMS
// client (no Vault client sends that type): it gets the error's JSON body,
// which the okms SDK decodes, where an empty body fails it with
// "unexpected end of JSON input".
func emptyNotFound(r *http.Request, err error) error {
	if !errors.Is(err, secret.ErrNotFound) && !errors.Is(err, secret.ErrVersionNotFound) {
		return err
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "application/json" {
		return err
	}
	return errEmptyNotFound
}
