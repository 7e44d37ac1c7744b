package kv2

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/vaultwire"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Errors of surface C that are not domain or service errors. Each is a row
// of the table below; errors that carry their own message (requestError)
// name their row through Is.
var (
	errNoToken          = errors.New("no token")
	errMethod           = vaultwire.ErrMethod
	errUnsupported      = errors.New("unsupported operation")
	errListParam        = vaultwire.ErrListParam
	errWriteSlash       = errors.New("cannot write to a path ending in '/'")
	errNamespace        = vaultwire.ErrNamespace
	errWrapping         = vaultwire.ErrWrapping
	errNoDefaultDomain  = errors.New("no default domain configured; use /api/{okmsId}/v1/...")
	errNoData           = errors.New("no data provided")
	errMissingPath      = errors.New("missing path")
	errNoVersions       = errors.New("No version number provided")
	errNoVersionsLower  = errors.New("no version number provided")
	errCASParse         = errors.New("error parsing check-and-set parameter")
	errEmptyNotFound    = errors.New("not found, empty body")
	errNotRenewable     = errors.New("token is not renewable")
	errFieldValidation  = errors.New("field validation failed")
	errBadJSON          = errors.New("error parsing JSON")
	errBadMetadataValue = errors.New("custom_metadata validation failed")
	errNoMediaType      = errors.New("mime: no media type")
	errBadMediaType     = errors.New("unsupported media type")
	errNoRoute          = errors.New("no handler for route")
	errPreflight        = errors.New("preflight capability check returned 403")
	errBadHealthCode    = errors.New("bad code")
)

// requestError is a client error with its own message, Vault's exact
// text, rendered by the table row of its kind.
type requestError = vaultwire.RequestError

// fieldError is Vault's parameter conversion error (vault-kv2.md 2.2).
func fieldError(name, detail string) error {
	return vaultwire.FieldError(errFieldValidation, name, detail)
}

// jsonError is a body that is not a JSON object (vault-kv2.md 2.2); a PATCH
// gets Vault's shorter message. The detail never quotes the body.
func jsonError(detail string, patch bool) error {
	if patch {
		return &requestError{Kind: errBadJSON, Msg: "error parsing JSON"}
	}
	return vaultwire.JSONError(errBadJSON, detail)
}

func mediaTypeError(msg string) error { return &requestError{Kind: errNoMediaType, Msg: msg} }

func unsupportedMediaType(mt string) error {
	return &requestError{Kind: errBadMediaType,
		Msg: "PATCH requires Content-Type of application/merge-patch+json, provided " + mt}
}

func routeError(path string) error {
	return &requestError{Kind: errNoRoute, Msg: fmt.Sprintf("no handler for route %q. route entry not found.", path)}
}

func preflightError(path string) error {
	return &requestError{Kind: errPreflight, Msg: fmt.Sprintf(
		"preflight capability check returned 403, please ensure client's policies grant access to path %q", path+"/")}
}

// metadataError carries custom-metadata violations with the map they are
// about, so that keys and values with unprintable characters get Vault's
// message (vault-kv2.md 5.5). The map is never printed whole.
type metadataError struct {
	vs secret.Violations
	m  map[string]string
}

func (e *metadataError) Error() string { return e.vs.Error() }
func (e *metadataError) Unwrap() error { return e.vs }

// wireError is how an error goes on the wire (vault-kv2.md 2.4): the
// status, Vault's errors strings (nil: the error's own message; empty:
// []), and the OKMS error_id of okms-rest.md 8.1, which comes with its
// error_code (httpapi.OKMSCode).
type wireError struct {
	status int
	errors []string
	id     string
	empty  bool // 404 with an empty body (vault-kv2.md 2.5-3)
}

// table maps errors to the wire, in the order they are tested. Auth
// failures are 403 with Vault's strings, not 401, because Vault clients are
// written against 403; no client error is ever 5xx, 412 or 429, which
// Vault clients retry.
var table = []struct {
	err  error
	wire wireError
}{
	{errNoToken, wireError{http.StatusForbidden, []string{"permission denied"}, "Unauthenticated", false}},
	{service.ErrUnauthenticated, wireError{http.StatusForbidden, []string{vaultwire.InvalidToken}, "Unauthenticated", false}},
	{service.ErrDenied, wireError{http.StatusForbidden, []string{vaultwire.Denied}, "Forbidden", false}},
	{errPreflight, wireError{http.StatusForbidden, nil, "Forbidden", false}},
	{errEmptyNotFound, wireError{http.StatusNotFound, []string{}, "SecretNotFound", true}},
	{secret.ErrNotFound, wireError{http.StatusNotFound, []string{}, "SecretNotFound", false}},
	{secret.ErrVersionNotFound, wireError{http.StatusNotFound, []string{}, "SecretVersionNotFound", false}},
	{service.ErrDomainNotFound, wireError{http.StatusNotFound, []string{"OKMS domain not found"}, "DomainNotFound", false}},
	{service.ErrDomainNotReady, wireError{http.StatusBadRequest, []string{"the OKMS domain is being created or deleted; retry shortly"}, "DomainNotReady", false}},
	{errNoDefaultDomain, wireError{http.StatusNotFound, nil, "DomainNotFound", false}},
	{errNoRoute, wireError{http.StatusNotFound, nil, "RouteNotFound", false}},
	{errMethod, wireError{http.StatusMethodNotAllowed, []string{}, "MethodNotAllowed", false}},
	{errUnsupported, wireError{http.StatusMethodNotAllowed, []string{vaultwire.Unsupported}, "MethodNotAllowed", false}},
	{httpapi.ErrBodyTooLarge, wireError{http.StatusRequestEntityTooLarge, []string{"http: request body too large"}, "RequestBodyTooLarge", false}},
	{errBadMediaType, wireError{http.StatusUnsupportedMediaType, nil, "RequestBodyInvalidJson", false}},
	{errNoMediaType, wireError{http.StatusBadRequest, nil, "RequestBodyInvalidJson", false}},
	{errBadJSON, wireError{http.StatusBadRequest, nil, "RequestBodyInvalidJson", false}},
	{errListParam, wireError{http.StatusBadRequest, []string{}, "QueryParameterInvalid", false}},
	// vault-kv2.md 4.7: a list paginated with the OKMS headers.
	{service.ErrCursorInvalid, wireError{http.StatusBadRequest, []string{"the pagination cursor is invalid"}, "PaginationCursorInvalid", false}},
	{httpapi.ErrPageSizeInvalid, wireError{http.StatusBadRequest, []string{"X-Pagination-Size must be a positive integer"}, "PaginationSizeInvalid", false}},
	{errFieldValidation, wireError{http.StatusBadRequest, nil, "QueryParameterInvalid", false}},
	{errBadMetadataValue, wireError{http.StatusBadRequest, nil, "SecretCustomMetadataValueInvalidCharacter", false}},
	{errNamespace, wireError{http.StatusBadRequest, nil, "QueryParameterInvalid", false}},
	{errWrapping, wireError{http.StatusBadRequest, nil, "QueryParameterInvalid", false}},
	{errBadHealthCode, wireError{http.StatusBadRequest, nil, "QueryParameterInvalid", false}},
	{errWriteSlash, wireError{http.StatusBadRequest, nil, "SecretPathInvalidCharacter", false}},
	{errMissingPath, wireError{http.StatusBadRequest, nil, "SecretFieldRequired", false}},
	{errNoData, wireError{http.StatusBadRequest, nil, "SecretFieldRequired", false}},
	{errNoVersions, wireError{http.StatusBadRequest, nil, "SecretFieldRequired", false}},
	{errNoVersionsLower, wireError{http.StatusBadRequest, nil, "SecretFieldRequired", false}},
	{errCASParse, wireError{http.StatusBadRequest, nil, "SecretCasMinRequired", false}},
	{secret.ErrCASMismatch, wireError{http.StatusBadRequest, []string{"check-and-set parameter did not match the current version"}, "SecretCasMismatch", false}},
	{secret.ErrCASRequired, wireError{http.StatusBadRequest, []string{"check-and-set parameter required for this call"}, "SecretCasRequired", false}},
	{secret.ErrVersionLimit, wireError{http.StatusBadRequest, []string{"secret has reached the maximum version number 24000"}, "SecretVersionLimitReached", false}},
	{secret.ErrTransition, wireError{http.StatusBadRequest, []string{"a deleted version cannot change state"}, "SecretVersionStateTransitionInvalid", false}},
	{service.ErrTokenNotRevocable, wireError{http.StatusBadRequest, []string{"this token can only be revoked through the identity API"}, "Forbidden", false}},
	{errNotRenewable, wireError{http.StatusBadRequest, nil, "QueryParameterInvalid", false}},
	{service.ErrAuditUnavailable, wireError{http.StatusServiceUnavailable, []string{"the audit log is unavailable; try again later"}, "ServiceUnavailable", false}},
	{service.ErrUnsealLimited, wireError{http.StatusTooManyRequests, []string{"too many unseal attempts from this address; slow down"}, "TooManyRequests", false}},
	{service.ErrUnavailable, wireError{http.StatusServiceUnavailable, []string{"the storage is unavailable; try again later"}, "ServiceUnavailable", false}},
	{service.ErrTooManyRequests, wireError{http.StatusTooManyRequests, []string{"too many failed authentications from this address; slow down"}, "TooManyRequests", false}},
	{service.ErrRateLimited, wireError{http.StatusTooManyRequests, []string{"this identity sent more requests than the server's rate limit allows; retry later"}, "TooManyRequests", false}},
	{service.ErrNotInitialized, wireError{http.StatusServiceUnavailable, []string{"Vault is sealed"}, "ServiceUnavailable", false}},
	{service.ErrSealed, wireError{http.StatusServiceUnavailable, []string{"Vault is sealed"}, "ServiceUnavailable", false}},
	{service.ErrAlreadyInitialized, wireError{http.StatusBadRequest, []string{"Vault is already initialized"}, "QueryParameterInvalid", false}},
	{service.ErrUnsealKeys, wireError{http.StatusBadRequest, nil, "QueryParameterInvalid", false}},
	{service.ErrSealParameters, wireError{http.StatusBadRequest, nil, "QueryParameterInvalid", false}},
	{service.ErrNoSealChange, wireError{http.StatusBadRequest, nil, "QueryParameterInvalid", false}},
	{errSealRequest, wireError{http.StatusBadRequest, nil, "QueryParameterInvalid", false}},
	// The client went away; nobody reads this answer.
	{context.Canceled, wireError{http.StatusBadRequest, []string{"request canceled"}, "RequestCanceled", false}},
}

// describe returns the wire form of err.
func describe(err error) wireError {
	if vs, ok := secret.AsViolations(err); ok {
		var me *metadataError
		var m map[string]string
		if errors.As(err, &me) {
			m = me.m
		}
		id := vs[0].ID()
		return wireError{status: http.StatusBadRequest, errors: violationMessages(vs, m), id: id}
	}
	if id, msg, ok := httpapi.Limit(err); ok {
		return wireError{status: http.StatusBadRequest, errors: []string{msg}, id: id}
	}
	if be, ok := errors.AsType[*httpapi.BodyError](err); ok {
		// A body that could not be read in full (the client sent less than
		// its Content-Length, or a broken chunked encoding): the client's
		// fault, as Vault's "failed to parse JSON input" is.
		return wireError{status: http.StatusBadRequest, errors: []string{be.Error()}, id: "RequestBodyInvalidJson"}
	}
	for _, row := range table {
		if errors.Is(err, row.err) {
			we := row.wire
			if we.errors == nil {
				we.errors = []string{err.Error()}
			}
			return we
		}
	}
	return wireError{status: http.StatusInternalServerError, errors: []string{"internal error; see the server log for request details"},
		id: "InternalError"}
}

// writeError renders err (vault-kv2.md 2.4): Content-Type exactly
// application/json (hvac compares it byte for byte), Vault's errors array
// and the OKMS members. Unknown errors are logged in full and answered with
// a generic 500 that carries the request id.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	we := describe(err)
	if we.empty {
		httpapi.SetRetryAfter(w, we.status)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(we.status)
		return
	}
	vaultwire.WriteError(w, r, a.log, err, we.status, we.errors, we.id)
}

// violationMessages renders violations in Vault's wording (vault-kv2.md
// 2.4, 5.5): one message per problem, the custom-metadata problems together
// as one multi-error text. m, when known, is the custom metadata they are
// about.
func violationMessages(vs secret.Violations, m map[string]string) []string {
	var out, cm []string
	for _, v := range vs {
		if v.Field == secret.FieldCustomMetadata {
			cm = append(cm, "custom_metadata validation failed: "+customMetadataMessage(v, m))
			continue
		}
		out = append(out, violationMessage(v))
	}
	if len(cm) > 0 {
		out = append(out, multiError(cm))
	}
	return out
}

func violationMessage(v secret.Violation) string {
	switch v.Field {
	case secret.FieldRequired:
		if v.Key == "path" {
			return "missing path"
		}
		return "missing " + v.Key
	case secret.FieldPath:
		if v.Rule == secret.RuleMaxExceeded {
			return fmt.Sprintf("invalid secret path: it is %d characters long, the maximum is %d", v.Got, v.Limit)
		}
		return "invalid secret path: " + v.Reason
	case secret.FieldData:
		if v.Rule == secret.RuleMaxExceeded {
			return fmt.Sprintf("data exceeds the maximum size of %d bytes", secret.MaxDataSize)
		}
		return "data must be a JSON object: " + v.Reason
	case secret.FieldMaxVersions:
		return fmt.Sprintf("max_versions must be between 0 and %d", secret.MaxVersionID)
	case secret.FieldDeactivateVersionAfter:
		return `Field validation failed: error converting input for field "delete_version_after": the duration must be at most 100 years`
	}
	return v.Error()
}

// customMetadataMessage is Vault's message for one custom-metadata
// violation; characters outside coffer's set get coffer's message unless
// they are unprintable (vault-kv2.md 5.5).
func customMetadataMessage(v secret.Violation, m map[string]string) string {
	const set = "[A-Za-z0-9_.:/=@%-]"
	switch v.Rule {
	case secret.RuleMaxExceeded:
		return fmt.Sprintf("payload must contain at most %d keys, provided %d", v.Limit, v.Got)
	case secret.RuleKeyMinRequired:
		return fmt.Sprintf("length of key %q is 0 but must be 0 < len(key) <= %d", v.Key, secret.MaxCustomMetadataKey)
	case secret.RuleKeyMaxExceeded:
		return fmt.Sprintf("length of key %q is %d but must be 0 < len(key) <= %d", v.Key, v.Got, v.Limit)
	case secret.RuleValueMinRequired:
		return fmt.Sprintf("length of value for key %q is 0 but must be 0 < len(value) <= %d", v.Key, secret.MaxCustomMetadataValue)
	case secret.RuleValueMaxExceeded:
		return fmt.Sprintf("length of value for key %q is %d but must be 0 < len(value) <= %d", v.Key, v.Got, v.Limit)
	case secret.RuleKeyInvalidCharacter:
		if !printable(v.Key) {
			return fmt.Sprintf("key %q (%s) contains unprintable characters", v.Key, v.Key)
		}
		return fmt.Sprintf("key %q contains characters outside %s", v.Key, set)
	case secret.RuleValueInvalidCharacter:
		if val, ok := m[v.Key]; ok && !printable(val) {
			return fmt.Sprintf("value for key %q contains unprintable characters", v.Key)
		}
		return fmt.Sprintf("value for key %q contains characters outside %s", v.Key, set)
	}
	return v.Error()
}

// printable reports whether s has only printable characters, as Vault's
// strutil.Printable decides.
func printable(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0
}

// multiError formats messages as go-multierror does.
func multiError(msgs []string) string { return vaultwire.MultiError(msgs) }
