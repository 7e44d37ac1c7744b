package api

import "encoding/json"

// Version states on surface B.
const (
	StateActive      = "active"
	StateDeactivated = "deactivated"
	StateDeleted     = "deleted"
)

// Pagination headers (okms-rest.md 7).
const (
	HeaderPageSize   = "X-Pagination-Size"
	HeaderCursor     = "X-Pagination-Cursor"
	HeaderCursorNext = "X-Pagination-Cursor-Next"
)

// SecretMetadata is a secret's metadata (SecretV2Metadata). Every member is
// always present; times are RFC 3339 UTC in whole seconds.
type SecretMetadata struct {
	CasRequired            bool              `json:"casRequired"`
	CreatedAt              string            `json:"createdAt"`
	UpdatedAt              string            `json:"updatedAt"`
	CurrentVersion         uint32            `json:"currentVersion"`
	OldestVersion          uint32            `json:"oldestVersion"`
	MaxVersions            uint32            `json:"maxVersions"`
	DeactivateVersionAfter string            `json:"deactivateVersionAfter"`
	CustomMetadata         map[string]string `json:"customMetadata"`
	URN                    string            `json:"urn"`
}

// SecretVersion is one version (SecretV2Version). DeactivatedAt is null
// while the version has not been deactivated; Data is present only on an
// authorized includeData read of an active version.
type SecretVersion struct {
	ID            uint32          `json:"id"`
	State         string          `json:"state"`
	CreatedAt     string          `json:"createdAt"`
	DeactivatedAt *string         `json:"deactivatedAt"`
	Data          json.RawMessage `json:"data,omitempty"`
}

// GetSecretResponse is the answer to GET /v2/secret/{path} and one item of
// the secret list. Version is absent for a secret without versions.
type GetSecretResponse struct {
	Path     string         `json:"path"`
	Metadata SecretMetadata `json:"metadata"`
	Version  *SecretVersion `json:"version,omitempty"`
}

// SecretResponse answers POST /v2/secret and PUT /v2/secret/{path}
// (PostSecretV2Response, PutSecretV2Response).
type SecretResponse struct {
	Path     string         `json:"path"`
	Metadata SecretMetadata `json:"metadata"`
	Warnings []string       `json:"warnings"`
}

// MetadataInput is the metadata of a create or update request; absent or
// null members change nothing.
type MetadataInput struct {
	CasRequired            *bool             `json:"casRequired,omitempty"`
	CustomMetadata         map[string]string `json:"customMetadata,omitempty"`
	DeactivateVersionAfter *string           `json:"deactivateVersionAfter,omitempty"`
	MaxVersions            *int64            `json:"maxVersions,omitempty"`
}

// VersionInput carries a new version's value, a JSON object.
type VersionInput struct {
	Data json.RawMessage `json:"data"`
}

// CreateSecretRequest is the body of POST /v2/secret (PostSecretV2Request).
type CreateSecretRequest struct {
	Path     string         `json:"path"`
	Metadata *MetadataInput `json:"metadata,omitempty"`
	Version  *VersionInput  `json:"version,omitempty"`
}

// UpdateSecretRequest is the body of PUT /v2/secret/{path}
// (PutSecretV2Request).
type UpdateSecretRequest struct {
	Metadata *MetadataInput `json:"metadata,omitempty"`
	Version  *VersionInput  `json:"version,omitempty"`
}

// AddVersionRequest is the body of POST /v2/secret/{path}/version.
type AddVersionRequest struct {
	Data json.RawMessage `json:"data"`
}

// UpdateVersionRequest is the body of PUT /v2/secret/{path}/version/{id}.
type UpdateVersionRequest struct {
	State *string `json:"state"`
}

// SecretConfig is a domain's secret configuration
// (GetSecretConfigV2Response).
type SecretConfig struct {
	CasRequired            bool   `json:"casRequired"`
	DeactivateVersionAfter string `json:"deactivateVersionAfter"`
	MaxVersions            uint32 `json:"maxVersions"`
}

// SecretConfigResponse answers PUT /v2/secretConfig.
type SecretConfigResponse struct {
	CasRequired            bool     `json:"casRequired"`
	DeactivateVersionAfter string   `json:"deactivateVersionAfter"`
	MaxVersions            uint32   `json:"maxVersions"`
	Warnings               []string `json:"warnings"`
}

// UpdateSecretConfigRequest is the body of PUT /v2/secretConfig; absent or
// null members change nothing.
type UpdateSecretConfigRequest struct {
	CasRequired            *bool   `json:"casRequired,omitempty"`
	DeactivateVersionAfter *string `json:"deactivateVersionAfter,omitempty"`
	MaxVersions            *int64  `json:"maxVersions,omitempty"`
}

// ErrorResponse is the OKMS error envelope (okms-rest.md 8.1).
type ErrorResponse struct {
	ErrorCode int32    `json:"error_code"`
	ErrorID   string   `json:"error_id"`
	Errors    []string `json:"errors"`
	RequestID string   `json:"request_id"`
}
