package kv2

import (
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/secret"
)

// deleteVersions serves POST|PUT delete/<key> (vault-kv2.md 4.6): each
// listed version that can be is deactivated now.
func (a *API) deleteVersions(w http.ResponseWriter, r *http.Request, c *call) error {
	return a.setStates(w, r, c, secret.Deactivated, errNoVersions)
}

// undeleteVersions serves POST|PUT undelete/<key> (vault-kv2.md 4.6): each
// listed version that is not deleted becomes active, its deactivation
// timer restarting now.
func (a *API) undeleteVersions(w http.ResponseWriter, r *http.Request, c *call) error {
	return a.setStates(w, r, c, secret.Active, errNoVersions)
}

// destroyVersions serves POST|PUT destroy/<key> (vault-kv2.md 4.6): each
// listed version is deleted for good, its data destroyed. Vault's message
// for an empty list is lower case here.
func (a *API) destroyVersions(w http.ResponseWriter, r *http.Request, c *call) error {
	return a.setStates(w, r, c, secret.Deleted, errNoVersionsLower)
}

// setStates parses the versions and moves them to state to; unknown
// versions and a missing secret are skipped by the service. Always 204.
func (a *API) setStates(w http.ResponseWriter, r *http.Request, c *call, to secret.State, empty error) error {
	ids, err := c.params.versions("versions")
	if err != nil {
		return err
	}
	p, err := secretPath(c.key)
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return empty
	}
	if err := a.svc.SetVersionStates(r.Context(), c.caller, c.domain, p, ids, to); err != nil {
		return err
	}
	return noContent(w)
}
