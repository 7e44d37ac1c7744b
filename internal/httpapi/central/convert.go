package central

import (
	"encoding/json"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Wire types of surface A, named after the central schema's
// (okms-rest.md 5.1, 5.2). Members are camelCase, as on surface B.

// resourceIAM is iam.ResourceMetadata. coffer has no resource tags: tags
// is always null; state is always "OK".
type resourceIAM struct {
	ID          string            `json:"id"`
	URN         string            `json:"urn"`
	DisplayName string            `json:"displayName"`
	Tags        map[string]string `json:"tags"`
	State       string            `json:"state"`
}

// secretMetadata is okms.secret.Metadata: surface B's metadata without
// urn, which surface A carries in the iam block. Every member is present.
type secretMetadata struct {
	CasRequired            bool              `json:"casRequired"`
	CreatedAt              string            `json:"createdAt"`
	UpdatedAt              string            `json:"updatedAt"`
	CurrentVersion         uint32            `json:"currentVersion"`
	OldestVersion          uint32            `json:"oldestVersion"`
	MaxVersions            uint32            `json:"maxVersions"`
	DeactivateVersionAfter string            `json:"deactivateVersionAfter"`
	CustomMetadata         map[string]string `json:"customMetadata"`
}

// secretVersion is okms.secret.Version; without data it is also
// okms.secret.version.UpdateResponse ({id, state, createdAt,
// deactivatedAt}). State is upper case; deactivatedAt is null while the
// version has not been deactivated.
type secretVersion struct {
	ID            uint32          `json:"id"`
	State         string          `json:"state"`
	CreatedAt     string          `json:"createdAt"`
	DeactivatedAt *string         `json:"deactivatedAt"`
	Data          json.RawMessage `json:"data,omitempty"`
}

// getSecretResponse is okms.secret.GetResponseWithIAM, the answer to GET
// .../secret/{path} and one item of the secret list. Version is absent for
// a secret without versions.
type getSecretResponse struct {
	IAM      resourceIAM    `json:"iam"`
	Path     string         `json:"path"`
	Metadata secretMetadata `json:"metadata"`
	Version  *secretVersion `json:"version,omitempty"`
}

// secretResponse is okms.secret.PostResponse, the answer to a create and
// to an update: no warnings, unlike surface B.
type secretResponse struct {
	Path     string         `json:"path"`
	Metadata secretMetadata `json:"metadata"`
}

// secretConfig is okms.secretConfig.Response, the answer to GET and PUT
// .../secretConfig: no warnings, unlike surface B.
type secretConfig struct {
	CasRequired            bool   `json:"casRequired"`
	DeactivateVersionAfter string `json:"deactivateVersionAfter"`
	MaxVersions            uint32 `json:"maxVersions"`
}

// metadataInput is the metadata of okms.secret.Creation and
// okms.secret.UpdateRequest; absent or null members change nothing. Its
// fields are those of httpapi.MetadataFields, in the same order.
type metadataInput struct {
	CasRequired            *bool             `json:"casRequired"`
	CustomMetadata         map[string]string `json:"customMetadata"`
	DeactivateVersionAfter *string           `json:"deactivateVersionAfter"`
	MaxVersions            *int64            `json:"maxVersions"`
}

// versionInput carries a new version's value, a JSON object
// (okms.secret.version.Creation, also the version of a create or update);
// its field is that of httpapi.VersionFields.
type versionInput struct {
	Data json.RawMessage `json:"data"`
}

// creationRequest is okms.secret.Creation, the body of POST .../secret.
type creationRequest struct {
	Path     string         `json:"path"`
	Metadata *metadataInput `json:"metadata"`
	Version  *versionInput  `json:"version"`
}

// updateRequest is okms.secret.UpdateRequest, the body of PUT
// .../secret/{path}.
type updateRequest struct {
	Metadata *metadataInput `json:"metadata"`
	Version  *versionInput  `json:"version"`
}

// versionUpdateRequest is okms.secret.version.UpdateRequest, the body of
// PUT .../version/{version}.
type versionUpdateRequest struct {
	State *string `json:"state"`
}

// configUpdateRequest is the body of PUT .../secretConfig; absent or null
// members change nothing. Its fields are those of httpapi.ConfigFields, in
// the same order.
type configUpdateRequest struct {
	CasRequired            *bool   `json:"casRequired"`
	DeactivateVersionAfter *string `json:"deactivateVersionAfter"`
	MaxVersions            *int64  `json:"maxVersions"`
}

// states are the version states as surface A spells them (okms-rest.md
// 2.3: okms.SecretStateEnum), in requests and responses.
var states = map[secret.State]string{
	secret.Active:      "ACTIVE",
	secret.Deactivated: "DEACTIVATED",
	secret.Deleted:     "DELETED",
}

// parseState parses an upper-case state. Surface B's lower-case names are
// invalid here, as any other value: SecretVersionStateInvalid.
func parseState(s string) (secret.State, error) {
	for st, name := range states {
		if s == name {
			return st, nil
		}
	}
	return 0, secret.Violations{{Field: secret.FieldState, Rule: secret.RuleInvalid}}
}

func toMetadata(s *secret.Secret) secretMetadata {
	cm := s.CustomMetadata
	if cm == nil {
		cm = map[string]string{}
	}
	return secretMetadata{
		CasRequired: s.Settings.CASRequired, CreatedAt: httpapi.TimeText(s.CreatedAt), UpdatedAt: httpapi.TimeText(s.UpdatedAt),
		CurrentVersion: s.CurrentVersion, OldestVersion: s.OldestVersion,
		MaxVersions: s.Settings.MaxVersions, DeactivateVersionAfter: s.Settings.DeactivateAfter.Text(),
		CustomMetadata: cm,
	}
}

func toVersion(v secret.Version, d *secret.Data) *secretVersion {
	out := &secretVersion{ID: v.ID, State: states[v.State], CreatedAt: httpapi.TimeText(v.CreatedAt), DeactivatedAt: httpapi.OptTimeText(v.DeactivatedAt)}
	if d != nil {
		out.Data = d.JSON()
	}
	return out
}

// toGetSecret renders a secret with its iam block: the secret's own id
// (never reused), its URN and its path as display name (okms-rest.md 5.1).
func (a *API) toGetSecret(domain string, v service.SecretView) getSecretResponse {
	s := v.Secret
	out := getSecretResponse{
		IAM:  resourceIAM{ID: s.ID, URN: a.svc.SecretURN(domain, s.Path), DisplayName: s.Path.String(), State: "OK"},
		Path: s.Path.String(), Metadata: toMetadata(s),
	}
	if v.Version != nil {
		out.Version = toVersion(*v.Version, v.Data)
	}
	return out
}

func toSecret(s *secret.Secret) secretResponse {
	return secretResponse{Path: s.Path.String(), Metadata: toMetadata(s)}
}

func toConfig(c secret.Config) secretConfig {
	return secretConfig{CasRequired: c.CASRequired, DeactivateVersionAfter: c.DeactivateAfter.Text(), MaxVersions: c.MaxVersions}
}

// versionData returns the raw data of a version input, nil if absent.
func versionData(v *versionInput) json.RawMessage {
	if v == nil {
		return nil
	}
	return v.Data
}
