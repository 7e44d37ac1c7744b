package rest

import (
	"encoding/json"
	"net/http"

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

func toMetadata(svc *service.Service, domain string, s *secret.Secret) api.SecretMetadata {
	cm := s.CustomMetadata
	if cm == nil {
		cm = map[string]string{}
	}
	return api.SecretMetadata{
		CasRequired: s.Settings.CASRequired, CreatedAt: httpapi.TimeText(s.CreatedAt), UpdatedAt: httpapi.TimeText(s.UpdatedAt),
		CurrentVersion: s.CurrentVersion, OldestVersion: s.OldestVersion,
		MaxVersions: s.Settings.MaxVersions, DeactivateVersionAfter: s.Settings.DeactivateAfter.Text(),
		CustomMetadata: cm, URN: svc.SecretURN(domain, s.Path),
	}
}

func toVersion(v secret.Version, d *secret.Data) *api.SecretVersion {
	out := &api.SecretVersion{ID: v.ID, State: v.State.String(), CreatedAt: httpapi.TimeText(v.CreatedAt), DeactivatedAt: httpapi.OptTimeText(v.DeactivatedAt)}
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

// versionData returns the raw data of a version input, nil if absent.
func versionData(v *api.VersionInput) json.RawMessage {
	if v == nil {
		return nil
	}
	return v.Data
}
