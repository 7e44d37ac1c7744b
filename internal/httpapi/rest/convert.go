package rest

import (
	"net/http"
	"strconv"
	"time"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// caller authenticates the request (okms-rest.md 1: bearer token or
// X-Vault-Token) and describes it for the service.
func (a *API) caller(r *http.Request) (service.Caller, error) {
	tok := httpapi.Token(r)
	if tok == "" {
		return service.Caller{}, service.ErrUnauthenticated
	}
	p, err := a.svc.Authenticate(r.Context(), tok)
	if err != nil {
		return service.Caller{}, err
	}
	httpapi.NotePrincipal(r.Context(), p.Name)
	return service.Caller{Principal: p, Dialect: service.KMS, Surface: "B",
		RequestID: httpapi.RequestID(r.Context()), RemoteAddr: r.RemoteAddr}, nil
}

// timeText formats t as surface B does: RFC 3339, UTC, whole seconds
// (okms-rest.md 2.8).
func timeText(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

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

// metadataUpdate parses the metadata of a create or update request. On
// update, an empty customMetadata means "no change" (okms-rest.md 3.7,
// okms-cli always sends {}); on create it is the initial map.
func metadataUpdate(m *api.MetadataInput, create bool) (secret.MetadataUpdate, error) {
	var u secret.MetadataUpdate
	if m == nil {
		return u, nil
	}
	var vs secret.Violations
	u.CASRequired = m.CasRequired
	if m.MaxVersions != nil {
		n, err := secret.ParseMaxVersions(*m.MaxVersions)
		vs = appendViolations(vs, err)
		u.MaxVersions = &n
	}
	if m.DeactivateVersionAfter != nil {
		d, err := secret.ParseDuration(*m.DeactivateVersionAfter)
		vs = appendViolations(vs, err)
		u.DeactivateAfter = &d
	}
	if len(m.CustomMetadata) > 0 || (create && m.CustomMetadata != nil) {
		cm := m.CustomMetadata
		vs = appendViolations(vs, secret.ValidateCustomMetadata(cm))
		u.CustomMetadata = &cm
	}
	if len(vs) > 0 {
		return u, vs
	}
	return u, nil
}

func appendViolations(vs secret.Violations, err error) secret.Violations {
	if err == nil {
		return vs
	}
	more, _ := secret.AsViolations(err)
	return append(vs, more...)
}

// boolQuery parses an optional boolean query parameter.
func boolQuery(r *http.Request, name string) (bool, error) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, &queryError{msg: name + " must be true or false"}
	}
	return b, nil
}

// casQuery parses the optional cas query parameter (0..24000).
func casQuery(r *http.Request) (*uint32, error) {
	q := r.URL.Query()
	if !q.Has("cas") {
		return nil, nil
	}
	n, err := strconv.ParseInt(q.Get("cas"), 10, 64)
	if err != nil {
		return nil, &queryError{msg: "cas must be an integer between 0 and 24000"}
	}
	c, err := secret.ParseCAS(n)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// versionQuery parses the optional version query parameter (1..24000).
func versionQuery(r *http.Request) (uint32, error) {
	s := r.URL.Query().Get("version")
	if s == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, &queryError{msg: "version must be an integer between 1 and 24000"}
	}
	return secret.ParseVersionID(n)
}

// parseData validates a version value; absent data is a missing field.
func parseData(raw []byte, field string) (secret.Data, error) {
	if raw == nil {
		return secret.Data{}, secret.Required(field)
	}
	return secret.ParseData(raw)
}
