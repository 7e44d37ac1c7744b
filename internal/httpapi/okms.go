package httpapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// This file holds what the two OKMS REST dialects, surfaces A (central)
// and B (rest), share: their requests have the same camelCase members and
// the same rules (okms-rest.md 1.1, 2, 3); only envelopes, enum case and
// the iam block differ, and those stay in each surface.

// TimeText formats t as surfaces A and B do: RFC 3339, UTC, whole seconds,
// Z (okms-rest.md 2.8).
func TimeText(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// OptTimeText is TimeText for an optional time: nil for the zero time,
// which the surfaces send as null.
func OptTimeText(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := TimeText(t)
	return &s
}

// QueryError is an invalid query parameter; its message names the
// parameter and what it must be, never the value received.
type QueryError struct{ Msg string }

func (e *QueryError) Error() string { return e.Msg }

// BoolQuery parses the optional boolean query parameter name (false when
// absent). It returns a *QueryError for anything strconv.ParseBool refuses.
func BoolQuery(r *http.Request, name string) (bool, error) {
	s := Query(r).Get(name)
	if s == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return false, &QueryError{Msg: name + " must be true or false"}
	}
	return b, nil
}

// CASQuery parses the optional cas query parameter (okms-rest.md 3.3): nil
// when absent, a *QueryError when not an integer, secret.Violations when
// out of 0..24000.
func CASQuery(r *http.Request) (*uint32, error) {
	q := Query(r)
	if !q.Has("cas") {
		return nil, nil
	}
	n, ok := queryInt(q.Get("cas"))
	if !ok {
		return nil, &QueryError{Msg: "cas must be an integer between 0 and 24000"}
	}
	c, err := secret.ParseCAS(n)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// VersionQuery parses the optional version query parameter (okms-rest.md
// 4.3): 0 when absent, a *QueryError when not an integer,
// secret.Violations when out of 1..24000.
func VersionQuery(r *http.Request) (uint32, error) {
	s := Query(r).Get("version")
	if s == "" {
		return 0, nil
	}
	n, ok := queryInt(s)
	if !ok {
		return 0, &QueryError{Msg: "version must be an integer between 1 and 24000"}
	}
	return secret.ParseVersionID(n)
}

// queryInt parses an integer query value. One beyond 64 bits is still an
// integer: it comes back clamped to the int64 range, so that the range
// check names the bound it breaks (SecretVersionMaxExceeded, as the same
// number gets in the URL path) rather than an invalid parameter.
func queryInt(s string) (int64, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil || errors.Is(err, strconv.ErrRange)
}

// DecodeWithData decodes the JSON body of a request that carries a secret
// value, with the rules of [DecodeJSON], except that a problem lying
// inside the value (a duplicate member name, invalid UTF-8, nesting beyond
// 64 levels) is reported as secret.Violations (SecretDataInvalidKeyValueJson)
// rather than a *BodyError (okms-rest.md 1.1, 2.4). data returns the raw
// value of the decoded request, nil if absent.
func DecodeWithData(w http.ResponseWriter, r *http.Request, v any, data func() json.RawMessage) error {
	return DecodeStrictWithData(w, r, v, data, nil)
}

// DecodeStrictWithData is DecodeWithData, and then, with members set,
// refuses with a *BodyError naming it the first member of the body, at any
// depth, that members does not list.
func DecodeStrictWithData(w http.ResponseWriter, r *http.Request, v any, data func() json.RawMessage, members Members) error {
	if ct := r.Header.Get("Content-Type"); strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return ErrFormBody
	}
	b, err := ReadBody(w, r)
	if err != nil {
		return err
	}
	err = Unmarshal(b, v, false)
	if err == nil && members != nil {
		return members.check(b, "")
	}
	var be *BodyError
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

// Members lists the members a JSON object of a request may hold, by exact
// name: for each, the members of its own value when that is an object
// coffer checks too, nil when its content is not checked (a value, a
// secret's data, custom metadata).
type Members map[string]Members

// check returns a *BodyError naming the first member of the JSON object b
// (within the object at path) that m does not list, looking into listed
// members that have Members of their own.
func (m Members) check(b []byte, path string) error {
	var obj map[string]json.RawMessage
	if json.Unmarshal(b, &obj) != nil {
		return nil // not an object: the decoder has said what it expects
	}
	names := make([]string, 0, len(obj))
	for name := range obj {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		sub, ok := m[name]
		if !ok {
			return &BodyError{Reason: path + memberName(name) + " is not a member of this request"}
		}
		if sub != nil {
			if err := sub.check(obj[name], path+name+"."); err != nil {
				return err
			}
		}
	}
	return nil
}

// memberName is a member name fit for an error message: at most 64 bytes,
// quoted as a Go string literal unless it is plain.
func memberName(s string) string {
	more := ""
	if len(s) > 64 {
		s, more = s[:64], "…"
	}
	if strings.IndexFunc(s, func(r rune) bool { return r < 0x21 || r > 0x7e || r == '"' || r == '\\' }) >= 0 {
		return strconv.Quote(s) + more
	}
	return s + more
}

// ParseData validates a version value; absent data (nil raw) is a missing
// field named field.
func ParseData(raw []byte, field string) (secret.Data, error) {
	if raw == nil {
		return secret.Data{}, secret.Required(field)
	}
	return secret.ParseData(raw)
}

// MetadataFields are the metadata members of a create or update request
// of surfaces A and B; nil members are absent or null. Its fields follow
// the order of the surfaces' wire types so that those convert to it.
type MetadataFields struct {
	CasRequired            *bool
	CustomMetadata         map[string]string
	DeactivateVersionAfter *string
	MaxVersions            *int64
}

// ParseMetadata parses the metadata of a create (create set) or update
// request, reporting every violation at once. On update, an empty
// customMetadata means "no change" (okms-rest.md 3.7: okms-cli always
// sends {}); on create it is the initial map.
func ParseMetadata(m MetadataFields, create bool) (secret.MetadataUpdate, error) {
	var (
		u  = secret.MetadataUpdate{CASRequired: m.CasRequired}
		vs secret.Violations
	)
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

// VersionFields is the version member of a create or update request of
// surfaces A and B: Data nil when absent or null.
type VersionFields struct {
	Data json.RawMessage
}

// ParseCreate parses the members of a secret creation request (okms-rest.md
// 4.2, 5.2), reporting every violation at once: the path, the metadata
// (nil: none) and the version, which is required.
func ParseCreate(path string, meta *MetadataFields, version *VersionFields) (secret.Path, secret.Data, secret.MetadataUpdate, error) {
	p, perr := secret.ParsePath(path)
	var (
		m    secret.MetadataUpdate
		merr error
	)
	if meta != nil {
		m, merr = ParseMetadata(*meta, true)
	}
	var (
		d    secret.Data
		derr = secret.Required("version")
	)
	if version != nil {
		d, derr = ParseData(version.Data, "version.data")
	}
	return p, d, m, JoinViolations(perr, merr, derr)
}

// ParseUpdate parses the members of a secret update request (okms-rest.md
// 4.4, 5.2) and its cas into the service's input, reporting every
// violation at once. Metadata (nil: no change) or a version is required.
func ParseUpdate(meta *MetadataFields, version *VersionFields, cas *uint32) (service.UpdateSecretInput, error) {
	in := service.UpdateSecretInput{CAS: cas}
	if meta == nil && version == nil {
		return in, secret.Required("metadata or version")
	}
	var merr, derr error
	if meta != nil {
		var m secret.MetadataUpdate
		m, merr = ParseMetadata(*meta, false)
		in.Metadata = &m
	}
	if version != nil {
		var d secret.Data
		d, derr = ParseData(version.Data, "version.data")
		in.Data = &d
	}
	return in, JoinViolations(merr, derr)
}

// ConfigFields are the members of a secretConfig update of surfaces A and
// B (okms-rest.md 4.10); nil members are absent or null. Its fields follow
// the order of the surfaces' wire types so that those convert to it.
type ConfigFields struct {
	CasRequired            *bool
	DeactivateVersionAfter *string
	MaxVersions            *int64
}

// ParseConfigUpdate parses a secretConfig update, reporting every
// violation at once; an update that sets nothing is SecretFieldRequired.
func ParseConfigUpdate(f ConfigFields) (secret.ConfigUpdate, error) {
	var (
		u  = secret.ConfigUpdate{CASRequired: f.CasRequired}
		vs secret.Violations
	)
	if f.MaxVersions != nil {
		n, err := secret.ParseMaxVersions(*f.MaxVersions)
		vs = appendViolations(vs, err)
		u.MaxVersions = &n
	}
	if f.DeactivateVersionAfter != nil {
		d, err := secret.ParseDuration(*f.DeactivateVersionAfter)
		vs = appendViolations(vs, err)
		u.DeactivateAfter = &d
	}
	if len(vs) > 0 {
		return u, vs
	}
	if u.IsEmpty() {
		return u, secret.Required("casRequired, deactivateVersionAfter or maxVersions")
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

// JoinViolations merges the validation errors of one request so that every
// problem is reported at once, the first one naming the error
// (okms-rest.md 8.1). An error that is not a violation wins. It returns
// nil when every err is nil.
func JoinViolations(errs ...error) error {
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
