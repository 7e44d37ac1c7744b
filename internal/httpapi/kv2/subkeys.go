package kv2

import (
	"fmt"
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/secret"
)

// readSubkeys serves GET subkeys/<key>?version=N&depth=D (vault-kv2.md
// 4.8): the data's structure with every leaf null. A version that cannot
// be read is a raw 404 with "subkeys": null.
func (a *API) readSubkeys(w http.ResponseWriter, r *http.Request, c *call) error {
	depth, err := depthParam(c.params)
	if err != nil {
		return err
	}
	p, version, err := readTarget(c)
	if err != nil {
		return err
	}
	v, err := a.svc.GetSubkeys(r.Context(), c.caller, c.domain, p, version, depth)
	if err != nil {
		return err
	}
	body := subkeysResponse{Metadata: toVersionMetadata(v.Secret, v.Version), Subkeys: v.Subkeys}
	if v.Subkeys == nil {
		return writeRaw404(w, r, body, nil, secret.ErrVersionNotFound)
	}
	return reply(w, r, c, body)
}

// depthParam parses depth: absent or 0 is unlimited; a negative value is a
// field validation error.
func depthParam(ps params) (int, error) {
	n, _, err := ps.int("depth")
	switch {
	case err != nil:
		return 0, err
	case n < 0:
		return 0, fieldError("depth", fmt.Sprintf("cannot provide negative value '%d'", n))
	}
	return int(min(n, secret.MaxDataDepth+1)), nil
}
