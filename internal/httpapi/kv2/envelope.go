package kv2

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/vaultwire"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// envelope is Vault's response body, shared with the Transit surface
// (vaultwire.Envelope).
type envelope = vaultwire.Envelope

// rawNotFound is the complete envelope Vault returns with status 404 for
// reads of versions that cannot be read (vault-kv2.md 2.5) and for the
// catch-all (4.9), with coffer's OKMS members (2.4). It has no errors
// member, as Vault's raw responses have none: hvac reads an errors member
// whenever there is one and then drops the body (a deleted version's
// metadata, the catch-all's warning).
type rawNotFound struct {
	envelope
	ErrorCode int32  `json:"error_code"`
	ErrorID   string `json:"error_id"`
}

// versionMetadata describes one version in data reads and writes, patches
// and subkeys (vault-kv2.md 4.2, 4.3): exactly these members, sorted.
type versionMetadata struct {
	CreatedTime    string            `json:"created_time"`
	CustomMetadata map[string]string `json:"custom_metadata"`
	DeletionTime   string            `json:"deletion_time"`
	Destroyed      bool              `json:"destroyed"`
	Version        uint32            `json:"version"`
}

// dataResponse is the data of a data read; Data is null when the version
// cannot be read.
type dataResponse struct {
	Data     json.RawMessage `json:"data"`
	Metadata versionMetadata `json:"metadata"`
}

// subkeysResponse is the data of a subkeys read (vault-kv2.md 4.8).
type subkeysResponse struct {
	Metadata versionMetadata `json:"metadata"`
	Subkeys  map[string]any  `json:"subkeys"`
}

// versionEntry is one member of a metadata read's versions object.
type versionEntry struct {
	CreatedTime  string `json:"created_time"`
	DeletionTime string `json:"deletion_time"`
	Destroyed    bool   `json:"destroyed"`
}

// metadataResponse is the data of a metadata read (vault-kv2.md 4.7): the
// secret-level settings, not the effective ones, and versions always an
// object (the Go client type-asserts it).
type metadataResponse struct {
	CASRequired        bool                    `json:"cas_required"`
	CreatedTime        string                  `json:"created_time"`
	CurrentVersion     uint32                  `json:"current_version"`
	CustomMetadata     map[string]string       `json:"custom_metadata"`
	DeleteVersionAfter string                  `json:"delete_version_after"`
	MaxVersions        uint32                  `json:"max_versions"`
	OldestVersion      uint32                  `json:"oldest_version"`
	UpdatedTime        string                  `json:"updated_time"`
	URN                string                  `json:"urn"`
	Versions           map[string]versionEntry `json:"versions"`
}

// configResponse is the data of a config read (vault-kv2.md 4.1).
type configResponse struct {
	CASRequired        bool   `json:"cas_required"`
	DeleteVersionAfter string `json:"delete_version_after"`
	MaxVersions        uint32 `json:"max_versions"`
}

// listResponse is the data of a list.
type listResponse struct {
	Keys []string `json:"keys"`
}

// vaultTime formats t as Vault does (vault-kv2.md 2.6).
func vaultTime(t time.Time) string { return vaultwire.Time(t) }

// customMetadata is the secret's map, or null when empty (vault-kv2.md 4.7).
func customMetadata(s *secret.Secret) map[string]string {
	if len(s.CustomMetadata) == 0 {
		return nil
	}
	return s.CustomMetadata
}

// toVersionMetadata describes version v of s as Vault does (vault-kv2.md
// section 3): deletion_time is the deactivation time, past or scheduled;
// destroyed means deleted.
func toVersionMetadata(s *secret.Secret, v secret.Version) versionMetadata {
	return versionMetadata{
		CreatedTime: vaultTime(v.CreatedAt), CustomMetadata: customMetadata(s),
		DeletionTime: vaultTime(v.DeletionTime()), Destroyed: v.State == secret.Deleted, Version: v.ID,
	}
}

// toMetadata describes a secret as a metadata read does. A version's
// deletion time does not depend on when it is read, so the stored index is
// enough.
func toMetadata(svc *service.Service, domain string, s *secret.Secret) metadataResponse {
	versions := make(map[string]versionEntry, len(s.Versions))
	for _, v := range s.Versions {
		versions[strconv.FormatUint(uint64(v.ID), 10)] = versionEntry{
			CreatedTime: vaultTime(v.CreatedAt), DeletionTime: vaultTime(v.DeletionTime()), Destroyed: v.State == secret.Deleted,
		}
	}
	return metadataResponse{
		CASRequired: s.Settings.CASRequired, CreatedTime: vaultTime(s.CreatedAt), CurrentVersion: s.CurrentVersion,
		CustomMetadata: customMetadata(s), DeleteVersionAfter: s.Settings.DeactivateAfter.GoText(),
		MaxVersions: s.Settings.MaxVersions, OldestVersion: s.OldestVersion, UpdatedTime: vaultTime(s.UpdatedAt),
		URN: svc.SecretURN(domain, s.Path), Versions: versions,
	}
}

// reply writes a 200 envelope with data and the warnings: the handler's,
// then the ignored parameters (vault-kv2.md 2.2, 2.3). It returns nil, so
// that a handler can end with it.
func reply(w http.ResponseWriter, r *http.Request, c *call, data any, warnings ...string) error {
	env := newEnvelope(r, c.mount, data, warnings)
	if len(c.ignored) > 0 {
		env.Warnings = append(env.Warnings, fmt.Sprintf("Endpoint ignored these unrecognized parameters: %v", c.ignored))
	}
	writeJSON(w, http.StatusOK, env, true)
	return nil
}

func newEnvelope(r *http.Request, mount string, data any, warnings []string) envelope {
	return vaultwire.NewEnvelope(r, mount, data, warnings)
}

// noContent answers 204 where Vault does (vault-kv2.md 2.3).
func noContent(w http.ResponseWriter) error { return vaultwire.NoContent(w) }

// writeRaw404 writes a raw 404 body (vault-kv2.md 2.5): a complete
// envelope with mount_type "" and no trailing newline (quirk: Vault
// marshals these before its pipeline sets the mount type), plus the OKMS
// members of the error kind but no errors member. It returns nil.
func writeRaw404(w http.ResponseWriter, r *http.Request, data any, warnings []string, kind error) error {
	return raw404(w, r, rawNotFound{envelope: newEnvelope(r, "", data, warnings)}, kind)
}

// writeCatchAll404 writes the catch-all's raw 404 (vault-kv2.md 4.9): as
// writeRaw404, with the warning that says what to do instead. It returns nil.
func writeCatchAll404(w http.ResponseWriter, r *http.Request, warnings []string) error {
	return raw404(w, r, rawNotFound{envelope: newEnvelope(r, "", nil, warnings)}, errNoRoute)
}

func raw404(w http.ResponseWriter, r *http.Request, body rawNotFound, kind error) error {
	we := describe(kind)
	body.ErrorCode, body.ErrorID = httpapi.OKMSCode(we.id), we.id
	writeJSON(w, http.StatusNotFound, body, false)
	return nil
}

// writePlain writes a sys/ body that has no envelope (vault-kv2.md 6.2).
func writePlain(w http.ResponseWriter, status int, v any) { writeJSON(w, status, v, true) }

// writeJSON encodes v as Vault does (vaultwire.WriteJSON).
func writeJSON(w http.ResponseWriter, status int, v any, newline bool) {
	vaultwire.WriteJSON(w, status, v, newline)
}
