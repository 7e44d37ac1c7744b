package kv2

import (
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/secret"
)

// readConfig serves GET config (vault-kv2.md 4.1): the domain's
// secretConfig, its duration as Go duration text.
func (a *API) readConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	cfg, err := a.svc.GetConfig(r.Context(), c.caller, c.domain)
	if err != nil {
		return err
	}
	return reply(w, r, c, configResponse{
		CASRequired: cfg.CASRequired, DeleteVersionAfter: cfg.DeactivateAfter.GoText(), MaxVersions: cfg.MaxVersions,
	})
}

// writeConfig serves POST|PUT config (vault-kv2.md 4.1): only the fields
// provided change; no known field changes nothing. Always 204.
func (a *API) writeConfig(w http.ResponseWriter, r *http.Request, c *call) error {
	u, err := configUpdate(c.params)
	if err != nil {
		return err
	}
	if _, err := a.svc.UpdateConfig(r.Context(), c.caller, c.domain, u); err != nil {
		return err
	}
	return noContent(w)
}

// configUpdate parses a config write. delete_version_after is signed here:
// zero clears it, a negative value disables automatic deactivation for the
// whole domain and reads back as "-1s" (vault-kv2.md 4.1).
func configUpdate(ps params) (secret.ConfigUpdate, error) {
	var u secret.ConfigUpdate
	if n, ok, err := ps.int("max_versions"); err != nil {
		return u, err
	} else if ok {
		mv, err := secret.ParseMaxVersions(n)
		if err != nil {
			return u, err
		}
		u.MaxVersions = &mv
	}
	if b, ok, err := ps.boolean("cas_required"); err != nil {
		return u, err
	} else if ok {
		u.CASRequired = &b
	}
	if vd, ok, err := ps.duration("delete_version_after"); err != nil {
		return u, err
	} else if ok {
		d, err := vd.value()
		if err != nil {
			return u, fieldError("delete_version_after", "the duration must be at most 100 years")
		}
		u.DeactivateAfter = &d
	}
	return u, nil
}
