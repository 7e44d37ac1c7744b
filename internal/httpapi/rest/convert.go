package rest

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
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
	n, ok := queryInt(q.Get("cas"))
	if !ok {
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
	n, ok := queryInt(s)
	if !ok {
		return 0, &queryError{msg: "version must be an integer between 1 and 24000"}
	}
	return secret.ParseVersionID(n)
}

// queryInt parses an integer query value. One beyond 64 bits is still an
// integer: it comes back clamped to the int64 range, so that the range
// check names the bound it breaks (SecretVersionMaxExceeded, as the same
// number gets in the URL path) rather than QueryParameterInvalid.
func queryInt(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil || errors.Is(err, strconv.ErrRange)
}

// parseData validates a version value; absent data is a missing field.
func parseData(raw []byte, field string) (secret.Data, error) {
	if raw == nil {
		return secret.Data{}, secret.Required(field)
	}
	return secret.ParseData(raw)
}

// decodeWithData decodes the JSON body of a request that carries a secret
// value, with the rules of httpapi.DecodeJSON, except that a problem lying
// inside the value (a duplicate member name, invalid UTF-8, nesting beyond
// 64 levels) is reported as SecretDataInvalidKeyValueJson rather than
// RequestBodyInvalidJson (okms-rest.md 1.1, 2.4). data returns the raw
// value of the decoded request, nil if absent.
func decodeWithData(w http.ResponseWriter, r *http.Request, v any, data func() json.RawMessage) error {
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return httpapi.ErrFormBody
	}
	b, err := httpapi.ReadBody(w, r)
	if err != nil {
		return err
	}
	err = httpapi.Unmarshal(b, v, false)
	var be *httpapi.BodyError
	if !errors.As(err, &be) {
		return err
	}
	// The strict check of the whole body failed. encoding/json accepts
	// duplicate names and invalid UTF-8 and keeps data as raw text: if it
	// decodes and the value alone is refused, the problem is in data.
	if json.Unmarshal(b, v) != nil {
		return err
	}
	if raw := data(); raw != nil {
		if _, derr := secret.ParseData(raw); derr != nil {
			return derr
		}
	}
	return err
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
func violations(errs ...error) error {
	var vs secret.Violations
	for _, err := range errs {
		if err == nil {
			continue
		}
		more, ok := secret.AsViolations(err)
		if !ok {
			return err
		}
		vs = append(vs, more...)
	}
	if len(vs) == 0 {
		return nil
	}
	return vs
}
