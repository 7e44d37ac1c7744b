package httpapi

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// This file holds what the error tables of the surfaces that speak the
// OKMS dialect share (okms-rest.md 8): the error ids and codes, the rows
// surfaces A and B map alike, and the OVH envelope of surface A and the
// identity API. Each surface composes its table from these rows and its
// own, and renders them in its envelope; surface C takes only the codes.

// Errors of routing, shared by the surfaces whose routes are ServeMux
// patterns.
var (
	// ErrRouteNotFound: no route matches the path (404).
	ErrRouteNotFound = errors.New("no route matches this request")
	// ErrMethodNotAllowed: the path has routes, none for the method (405).
	ErrMethodNotAllowed = errors.New("method not allowed on this route")
	// ErrDomainInvalid: the {okmsId} of the path is not a UUID, answered
	// as an unknown domain.
	ErrDomainInvalid = errors.New("no OKMS domain has this id")
)

// NotFound is the handler of the catch-all patterns: ErrRouteNotFound.
func NotFound(http.ResponseWriter, *http.Request) error { return ErrRouteNotFound }

// NotAllowed is the handler of the method-less pattern of a path whose
// routes all name their method: ErrMethodNotAllowed.
func NotAllowed(http.ResponseWriter, *http.Request) error { return ErrMethodNotAllowed }

// DomainID returns the {okmsId} path value of r in lower case. It returns
// ErrDomainInvalid unless it is a UUID in its 36-character form.
func DomainID(r *http.Request) (string, error) {
	id := r.PathValue("okmsId")
	if _, err := uuid.Parse(id); err != nil || len(id) != 36 {
		return "", ErrDomainInvalid
	}
	return strings.ToLower(id), nil
}

// OKMSCode returns the error_code of the OKMS error_id id: okms-rest.md
// 8.1's table, and coffer's codes for its own ids (limits, a canceled
// request). It returns 0 for an id it does not know.
func OKMSCode(id string) int32 {
	if c, ok := okmsCodes[id]; ok {
		return c
	}
	c, _ := keyCode(id) // keys.go: the service key errors
	return c
}

var okmsCodes = map[string]int32{
	"SecretNotFound":                      17125377,
	"SecretVersionNotFound":               17125378,
	"DomainNotFound":                      16994305,
	"DomainNotReady":                      17014785,
	"RouteNotFound":                       50417665,
	"MethodNotAllowed":                    50405378,
	"RequestBodyInvalidJson":              50405379,
	"RequestBodyTooLarge":                 50405380,
	"PaginationCursorInvalid":             50405382,
	"PaginationSizeInvalid":               50405383,
	"QueryParameterInvalid":               50405384,
	"RequestCanceled":                     50405385,
	"DomainSecretLimitReached":            50405386,
	"DomainVersionLimitReached":           50405386,
	"AccountPolicyLimitReached":           50405386,
	"Unauthenticated":                     50475011,
	"Forbidden":                           16924673,
	"TooManyRequests":                     50434049,
	"ServiceUnavailable":                  50425858,
	"InternalError":                       50401281,
	"SecretAlreadyExists":                 17145857,
	"SecretCasRequired":                   17137665,
	"SecretCasMismatch":                   17137666,
	"SecretVersionStateTransitionInvalid": 17137667,
	"SecretVersionLimitReached":           17137668,
	// The validation errors (secret.Violation.ID).
	"SecretFieldRequired":                         17113089,
	"SecretPathInvalidCharacter":                  17113090,
	"SecretPathMaxExceeded":                       17113091,
	"SecretDataInvalidKeyValueJson":               17113092,
	"SecretDataMaxExceeded":                       17113093,
	"SecretCustomMetadataMaxExceeded":             17113094,
	"SecretCustomMetadataKeyInvalidCharacter":     17113095,
	"SecretCustomMetadataKeyMaxExceeded":          17113096,
	"SecretCustomMetadataKeyMinRequired":          17113097,
	"SecretCustomMetadataValueInvalidCharacter":   17113098,
	"SecretCustomMetadataValueMaxExceeded":        17113099,
	"SecretCustomMetadataValueMinRequired":        17113100,
	"SecretDeactivateVersionAfterInvalidDuration": 17113101,
	"SecretMaxVersionsMaxExceeded":                17113102,
	"SecretMaxVersionsMinRequired":                17113103,
	"SecretVersionMaxExceeded":                    17113104,
	"SecretVersionMinRequired":                    17113105,
	"SecretCasMaxExceeded":                        17113106,
	"SecretCasMinRequired":                        17113107,
	"SecretVersionStateInvalid":                   17113108,
}

// ErrorRow maps the errors matching Err (errors.Is) to a status, an OKMS
// error_id and a message; an empty Msg keeps the error's own message.
type ErrorRow struct {
	Err    error
	Status int
	ID     string
	Msg    string
}

// RequestErrors are the rows of what any request may meet, whatever it is
// about: routing, its body, authentication, rate limits, the audit log.
// Denial is not among them: each surface words it.
var RequestErrors = []ErrorRow{
	{ErrRouteNotFound, 404, "RouteNotFound", ""},
	{ErrMethodNotAllowed, 405, "MethodNotAllowed", ""},
	{ErrBodyTooLarge, 413, "RequestBodyTooLarge", "request body exceeds 1048576 bytes"},
	{ErrFormBody, 400, "RequestBodyInvalidJson", ""},
	{service.ErrUnauthenticated, 401, "Unauthenticated", "missing or invalid credentials"},
	{service.ErrAuditUnavailable, 503, "ServiceUnavailable", "the audit log is unavailable; try again later"},
	{service.ErrSealed, 503, "ServiceUnavailable", "coffer is sealed; unseal it first"},
	{service.ErrUnavailable, 503, "ServiceUnavailable", "the storage is unavailable; try again later"},
	{service.ErrTooManyRequests, 429, "TooManyRequests", "too many failed authentications from this address; slow down"},
	{service.ErrRateLimited, 429, "TooManyRequests", "this identity sent more requests than the server's rate limit allows; retry later"},
	{service.ErrBusy, 503, "ServiceUnavailable", "the server is busy checking passwords; try again shortly"},
}

// SecretErrors are the rows of the errors about secrets and their OKMS
// domain, which surfaces A and B answer alike.
var SecretErrors = []ErrorRow{
	{secret.ErrNotFound, 404, "SecretNotFound", "secret not found"},
	{secret.ErrVersionNotFound, 404, "SecretVersionNotFound", "secret version not found"},
	{service.ErrDomainNotFound, 404, "DomainNotFound", "OKMS domain not found"},
	{ErrDomainInvalid, 404, "DomainNotFound", "OKMS domain not found"},
	{service.ErrDomainNotReady, 409, "DomainNotReady", "the OKMS domain is being created or deleted; retry shortly"},
	{ErrCursorInvalid, 400, "PaginationCursorInvalid", "the pagination cursor is invalid"},
	{ErrPageSizeInvalid, 400, "PaginationSizeInvalid", ""},
	{service.ErrDenied, 403, "Forbidden", "permission denied"},
	{secret.ErrExists, 409, "SecretAlreadyExists", "a secret already exists at this path"},
	{secret.ErrCASRequired, 400, "SecretCasRequired", "cas parameter required for this call"},
	{secret.ErrCASMismatch, 400, "SecretCasMismatch", "cas parameter did not match the current version"},
	{secret.ErrTransition, 400, "SecretVersionStateTransitionInvalid", "a deleted version cannot change state"},
	{secret.ErrVersionLimit, 400, "SecretVersionLimitReached", "the secret has reached the maximum version number 24000"},
}

// Describe returns the status, OKMS error_id and message of err as the
// surfaces of the OKMS dialect answer it: a body that is not JSON, an
// invalid query parameter, a limit reached, else the first row of tables
// that err matches, else a canceled request. Anything else is a 500
// InternalError with an empty message, which the surface words. Validation
// errors are the surfaces' to describe, before.
func Describe(err error, tables ...[]ErrorRow) (status int, id, msg string) {
	if be, ok := errors.AsType[*BodyError](err); ok {
		return http.StatusBadRequest, "RequestBodyInvalidJson", be.Error()
	}
	if qe, ok := errors.AsType[*QueryError](err); ok {
		return http.StatusBadRequest, "QueryParameterInvalid", qe.Msg
	}
	if id, msg, ok := Limit(err); ok {
		return http.StatusBadRequest, id, msg
	}
	for _, table := range tables {
		for _, row := range table {
			if errors.Is(err, row.Err) {
				msg := row.Msg
				if msg == "" {
					msg = row.Err.Error()
				}
				return row.Status, row.ID, msg
			}
		}
	}
	if errors.Is(err, context.Canceled) {
		// The client went away; nobody reads this answer.
		return http.StatusBadRequest, "RequestCanceled", "request canceled"
	}
	return http.StatusInternalServerError, "InternalError", ""
}

// OVHError is the OVH API error envelope of surface A and the identity
// API (okms-rest.md 8.2; go-ovh APIError). details is never sent.
type OVHError struct {
	Class   string `json:"class"`
	Message string `json:"message"`
}

// OVHClass returns the OVH error class of an error of status and OKMS
// error_id id (okms-rest.md 8.2): the 400, 404, 409 and 501 classes name
// the id, the others only the status.
func OVHClass(status int, id string) string {
	switch status {
	case http.StatusBadRequest:
		return "Client::BadRequest::" + id
	case http.StatusUnauthorized:
		return "Client::Unauthorized"
	case http.StatusForbidden:
		return "Client::Forbidden"
	case http.StatusNotFound:
		return "Client::NotFound::" + id
	case http.StatusMethodNotAllowed:
		return "Client::MethodNotAllowed"
	case http.StatusConflict:
		return "Client::Conflict::" + id
	case http.StatusRequestEntityTooLarge:
		return "Client::PayloadTooLarge"
	case http.StatusTooManyRequests:
		return "Client::TooManyRequests"
	case http.StatusNotImplemented:
		return "Server::NotImplemented::" + id
	case http.StatusServiceUnavailable:
		return "Server::ServiceUnavailable"
	}
	return "Server::InternalServerError"
}

// RetryAfter is the Retry-After, in seconds, of every 503: the storage or
// the audit log unavailable are transient (a database restart or failover
// takes seconds), and clients (Vault's, the okms SDK) retry a 503.
const RetryAfter = "2"

// SetRetryAfter sets Retry-After on an answer of status 503, unless the
// error already said when to retry.
func SetRetryAfter(w http.ResponseWriter, status int) {
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", RetryAfter)
	}
}

// WriteOVHError renders err, described by status, OKMS error_id id and
// message msg, in the OVH envelope. A 5xx is logged with err in full; when
// msg is empty its message is a generic one that carries the request id.
func WriteOVHError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error, status int, id, msg string) {
	if secs, ok := service.RetryAfter(err); ok {
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	if status >= 500 {
		rid := RequestID(r.Context())
		log.ErrorContext(r.Context(), "request failed", "err", err, "request_id", rid)
		if msg == "" {
			msg = "internal error; request id " + rid
		}
	}
	SetRetryAfter(w, status)
	WriteJSON(w, status, OVHError{Class: OVHClass(status, id), Message: msg})
}
