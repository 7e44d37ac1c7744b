// Package vaultwire holds what the Vault-compatible surfaces share: the
// response envelope and the error body (vault-kv2.md 2.3, 2.4), Vault's
// time format and multi-error text, the method-to-operation mapping and
// the X-Vault-* header rules (2.1, section 1), and the mounts the
// sys/internal/ui/mounts preflight reports. Surface C (kv2) and the
// Transit surface (transit) each keep their routing, parameters and error
// table; neither copies these.
package vaultwire

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
)

// Envelope is Vault's response body (vault-kv2.md 2.3): every member
// always present, in this order. Neither surface creates leases.
type Envelope struct {
	RequestID     string   `json:"request_id"`
	LeaseID       string   `json:"lease_id"`
	Renewable     bool     `json:"renewable"`
	LeaseDuration int      `json:"lease_duration"`
	Data          any      `json:"data"`
	WrapInfo      any      `json:"wrap_info"`
	Warnings      []string `json:"warnings"`
	Auth          any      `json:"auth"`
	MountType     string   `json:"mount_type"`
}

// NewEnvelope returns the envelope of a request's answer.
func NewEnvelope(r *http.Request, mount string, data any, warnings []string) Envelope {
	env := Envelope{RequestID: httpapi.RequestID(r.Context()), Data: data, MountType: mount}
	if len(warnings) > 0 {
		env.Warnings = warnings
	}
	return env
}

// ErrorBody is an error answer (vault-kv2.md 2.4): Vault's errors array
// plus the OKMS members.
type ErrorBody struct {
	Errors    []string `json:"errors"`
	ErrorCode int32    `json:"error_code"`
	ErrorID   string   `json:"error_id"`
	RequestID string   `json:"request_id"`
}

// WriteJSON encodes v without HTML escaping, with Vault's trailing newline
// when newline is set.
func WriteJSON(w http.ResponseWriter, status int, v any, newline bool) {
	httpapi.EncodeJSON(w, status, v, false, newline)
}

// NoContent answers 204 where Vault does: empty body, Content-Type still
// set. It returns nil.
func NoContent(w http.ResponseWriter) error {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Time formats t as Vault does (vault-kv2.md 2.6): RFC 3339 with
// nanoseconds, UTC, trailing zeros trimmed; "" for no time.
func Time(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}

// MultiError formats messages as go-multierror does, which Vault clients
// print as is.
func MultiError(msgs []string) string {
	if len(msgs) == 1 {
		return "1 error occurred:\n\t* " + msgs[0] + "\n\n"
	}
	return fmt.Sprintf("%d errors occurred:\n\t* %s\n\n", len(msgs), strings.Join(msgs, "\n\t* "))
}

// Op is a Vault logical operation (vault-kv2.md 2.1).
type Op uint8

// Operations.
const (
	OpRead Op = iota + 1
	OpList
	OpWrite // POST and PUT: create or update, identical
	OpPatch
	OpDelete
	OpHead // sys/health only
)

// Vault's multi-error texts, which clients print as is.
var (
	InvalidToken = MultiError([]string{"permission denied", "invalid token"})
	Denied       = MultiError([]string{"permission denied"})
	Unsupported  = MultiError([]string{"unsupported operation"})
)

// RequestError is a client error with its own message, Vault's exact
// text, rendered by the row of its surface's error table that Kind names
// (through Is).
type RequestError struct {
	Kind error
	Msg  string
}

func (e *RequestError) Error() string        { return e.Msg }
func (e *RequestError) Is(target error) bool { return target == e.Kind }

// FieldError is Vault's parameter conversion error (vault-kv2.md 2.2),
// of the surface's kind.
func FieldError(kind error, name, detail string) error {
	return &RequestError{Kind: kind,
		Msg: fmt.Sprintf("Field validation failed: error converting input for field %q: %s", name, detail)}
}

// JSONError is a body that is not a JSON object (vault-kv2.md 2.2), of the
// surface's kind. The detail never quotes the body.
func JSONError(kind error, detail string) error {
	return &RequestError{Kind: kind, Msg: "error parsing JSON: failed to parse JSON input: " + detail}
}

// WriteError renders an error answer (vault-kv2.md 2.4): Content-Type
// exactly application/json, Vault's errors array and the OKMS members of
// the error_id id. A 5xx is logged in full with err and the request id.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, status int, errs []string, id string) {
	rid := httpapi.RequestID(r.Context())
	if status >= 500 {
		log.ErrorContext(r.Context(), "request failed", "err", err, "request_id", rid)
	}
	httpapi.SetRetryAfter(w, status)
	WriteJSON(w, status, ErrorBody{Errors: errs, ErrorCode: httpapi.OKMSCode(id), ErrorID: id, RequestID: rid}, true)
}

// Errors of the request's form, rendered by each surface's table.
var (
	ErrMethod    = errors.New("method not allowed")
	ErrListParam = errors.New("invalid list parameter")
	ErrNamespace = errors.New("namespaces are not supported")
	ErrWrapping  = errors.New("response wrapping is not supported")
)

// Operation maps the method to Vault's operation (vault-kv2.md 2.1). GET
// with a true list parameter is a list; the parameter is then removed from
// q. A PATCH's media type is the surface's to check.
func Operation(r *http.Request, q url.Values) (Op, error) {
	switch r.Method {
	case http.MethodGet:
		s := q.Get("list")
		if s == "" {
			return OpRead, nil
		}
		list, err := strconv.ParseBool(s)
		if err != nil {
			return 0, ErrListParam
		}
		if !list {
			return OpRead, nil
		}
		q.Del("list")
		return OpList, nil
	case "LIST":
		return OpList, nil
	case http.MethodPost, http.MethodPut:
		return OpWrite, nil
	case http.MethodPatch:
		return OpPatch, nil
	case http.MethodDelete:
		return OpDelete, nil
	case http.MethodHead:
		return OpHead, nil
	}
	return 0, ErrMethod
}

// CheckHeaders refuses what coffer cannot honour rather than ignoring it
// (vault-kv2.md section 1): a namespace other than root, and response
// wrapping. The other X-Vault-* headers are ignored.
func CheckHeaders(r *http.Request) error {
	switch r.Header.Get("X-Vault-Namespace") {
	case "", "root", "root/":
	default:
		return ErrNamespace
	}
	if r.Header.Get("X-Vault-Wrap-TTL") != "" {
		return ErrWrapping
	}
	return nil
}

// MountInfo describes a mount to the sys/internal/ui/mounts preflight
// (vault-kv2.md 6.1). The vault CLI reads only path and options.version,
// which for KV must be the string "2".
type MountInfo struct {
	Accessor              string            `json:"accessor"`
	Config                MountConfig       `json:"config"`
	Description           string            `json:"description"`
	ExternalEntropyAccess bool              `json:"external_entropy_access"`
	Local                 bool              `json:"local"`
	Options               map[string]string `json:"options"`
	Path                  string            `json:"path"`
	PluginVersion         string            `json:"plugin_version"`
	RunningPluginVersion  string            `json:"running_plugin_version"`
	RunningSha256         string            `json:"running_sha256"`
	SealWrap              bool              `json:"seal_wrap"`
	Type                  string            `json:"type"`
	UUID                  string            `json:"uuid"`
}

// MountConfig is a mount's lease configuration: none.
type MountConfig struct {
	DefaultLeaseTTL int  `json:"default_lease_ttl"`
	ForceNoCache    bool `json:"force_no_cache"`
	MaxLeaseTTL     int  `json:"max_lease_ttl"`
}

// The mounts every domain has.
const (
	MountKV      = "secret"
	MountTransit = "transit"
)

// Mount describes the mount name ("secret" or "transit") of a domain; its
// uuid and accessor derive from the domain id so that they are stable.
// ok is false for any other name.
func Mount(domain, name string) (MountInfo, bool) {
	short := strings.ReplaceAll(domain, "-", "")
	if len(short) > 8 {
		short = short[:8]
	}
	switch name {
	case MountKV:
		return MountInfo{
			Accessor: "kv_" + short, Description: "key/value secret storage",
			Options: map[string]string{"version": "2"}, Path: "secret/", RunningPluginVersion: "v0.25.0+builtin",
			Type: "kv", UUID: uuid.NewSHA1(uuid.NameSpaceURL, []byte("coffer:kv:"+domain)).String(),
		}, true
	case MountTransit:
		return MountInfo{
			Accessor: "transit_" + short, Description: "encryption as a service over the domain's service keys",
			Options: nil, Path: "transit/", RunningPluginVersion: "v1.15.0+builtin",
			Type: "transit", UUID: uuid.NewSHA1(uuid.NameSpaceURL, []byte("coffer:transit:"+domain)).String(),
		}, true
	}
	return MountInfo{}, false
}

// MountOf returns the mount a logical path (after /v1/) lies in: "secret",
// "transit" or "".
func MountOf(path string) string {
	for _, m := range []string{MountKV, MountTransit} {
		if path == m || strings.HasPrefix(path, m+"/") {
			return m
		}
	}
	return ""
}
