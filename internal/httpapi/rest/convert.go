package rest

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// caller authenticates the request (okms-rest.md 1: bearer token,
// X-Vault-Token, or an access certificate of domain) and describes it for
// the service.
func (a *API) caller(r *http.Request, domain string) (service.Caller, error) {
	p, err := httpapi.Authenticate(r, a.svc, domain)
	if err != nil {
		return service.Caller{}, err
	}
	return service.Caller{Principal: p, Dialect: service.KMS, Surface: "B",
		RequestID: httpapi.RequestID(r.Context()), RemoteAddr: r.RemoteAddr}, nil
}

// timeText formats t as surfaces A and B do: RFC 3339, UTC, whole seconds
// (okms-rest.md 2.8).
func timeText(t time.Time) string { return httpapi.TimeText(t) }

func toMetadata(svc *service.Service, domain string, s *secret.Secret) api.SecretMetadata {
	cm := s.CustomMetadata
	if cm == nil {
		cm = map[string]string{}
	}
	return api.SecretMetadata{
		CasRequired: s.Settings.CASRequired, CreatedAt: timeText(s.CreatedAt), UpdatedAt: timeText(s.UpdatedAt),
		CurrentVersion: s.CurrentVersion, OldestVersion: s.OldestVersion,
		MaxVersions: s.Settings.MaxVersions, DeactivateVersionAfter: s.Settings.DeactivateAfter.Text(),
		CustomMetadata: cm, URN: svc.SecretURN(domain, s.Path),
	}
}

func toVersion(v secret.Version, d *secret.Data) *api.SecretVersion {
	out := &api.SecretVersion{ID: v.ID, State: v.State.String(), CreatedAt: timeText(v.CreatedAt)}
	if !v.DeactivatedAt.IsZero() {
		t := timeText(v.DeactivatedAt)
		out.DeactivatedAt = &t
	}
	if d != nil {
		out.Data = d.JSON()
	}
	return out
}

func toGetSecret(svc *service.Service, domain string, v service.SecretView) api.GetSecretResponse {
	out := api.GetSecretResponse{Path: v.Secret.Path.String(), Metadata: toMetadata(svc, domain, v.Secret)}
	if v.Version != nil {
		out.Version = toVersion(*v.Version, v.Data)
	}
	return out
}

func toConfig(c secret.Config) api.SecretConfig {
	return api.SecretConfig{CasRequired: c.CASRequired, DeactivateVersionAfter: c.DeactivateAfter.Text(), MaxVersions: c.MaxVersions}
}

// The request rules below are shared with surface A; they live in
// httpapi (okms.go).

// metadataUpdate parses the metadata of a create or update request. On
// update, an empty customMetadata means "no change" (okms-rest.md 3.7,
// okms-cli always sends {}); on create it is the initial map.
func metadataUpdate(m *api.MetadataInput, create bool) (secret.MetadataUpdate, error) {
	if m == nil {
		return secret.MetadataUpdate{}, nil
	}
	return httpapi.ParseMetadata(httpapi.MetadataFields(*m), create)
}

// boolQuery parses an optional boolean query parameter.
func boolQuery(r *http.Request, name string) (bool, error) { return httpapi.BoolQuery(r, name) }

// casQuery parses the optional cas query parameter (0..24000).
func casQuery(r *http.Request) (*uint32, error) { return httpapi.CASQuery(r) }

// versionQuery parses the optional version query parameter (1..24000).
func versionQuery(r *http.Request) (uint32, error) { return httpapi.VersionQuery(r) }

// parseData validates a version value; absent data is a missing field.
func parseData(raw []byte, field string) (secret.Data, error) { return httpapi.ParseData(raw, field) }

// decodeWithData decodes the JSON body of a request that carries a secret
// value; a problem inside the value is SecretDataInvalidKeyValueJson
// rather than RequestBodyInvalidJson (httpapi.DecodeWithData).
func decodeWithData(w http.ResponseWriter, r *http.Request, v any, data func() json.RawMessage) error {
	return httpapi.DecodeWithData(w, r, v, data)
}

// versionData returns the raw data of a version input, nil if absent.
func versionData(v *api.VersionInput) json.RawMessage {
	if v == nil {
		return nil
	}
	return v.Data
}

// violations merges the validation errors of a request so that every
// problem is reported at once, the first one naming the error
// (okms-rest.md 8.1). An error that is not a violation wins.
func violations(errs ...error) error { return httpapi.JoinViolations(errs...) }
