package rest

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// wireError is one row of the error table: status, OKMS error_id and
// error_code (okms-rest.md 8.1).
type wireError struct {
	status int
	id     string
	code   int32
}

// Errors of surface B that are not validation violations.
var (
	errRouteNotFound    = errors.New("route not found")
	errMethodNotAllowed = errors.New("method not allowed")
	errCursorInvalid    = httpapi.ErrCursorInvalid
	errPageSizeInvalid  = httpapi.ErrPageSizeInvalid
	errDomainInvalid    = errors.New("no OKMS domain has this id")
)

// queryError is an invalid query parameter; its message names it.
type queryError = httpapi.QueryError

// table maps errors to the wire, in the order they are tested.
var table = []struct {
	err  error
	wire wireError
	msg  string // "" keeps the error's own message
}{
	{secret.ErrNotFound, wireError{404, "SecretNotFound", 17125377}, "secret not found"},
	{secret.ErrVersionNotFound, wireError{404, "SecretVersionNotFound", 17125378}, "secret version not found"},
	{service.ErrDomainNotFound, wireError{404, "DomainNotFound", 16994305}, "OKMS domain not found"},
	{service.ErrDomainNotReady, wireError{409, "DomainNotReady", 17014785}, "the OKMS domain is being created or deleted; retry shortly"},
	{errDomainInvalid, wireError{404, "DomainNotFound", 16994305}, "OKMS domain not found"},
	{errRouteNotFound, wireError{404, "RouteNotFound", 50417665}, "no route matches this request"},
	{errMethodNotAllowed, wireError{405, "MethodNotAllowed", 50405378}, "method not allowed on this route"},
	{httpapi.ErrBodyTooLarge, wireError{413, "RequestBodyTooLarge", 50405380}, "request body exceeds 1048576 bytes"},
	{httpapi.ErrFormBody, wireError{400, "RequestBodyInvalidJson", 50405379}, ""},
	{errCursorInvalid, wireError{400, "PaginationCursorInvalid", 50405382}, ""},
	{errPageSizeInvalid, wireError{400, "PaginationSizeInvalid", 50405383}, ""},
	{service.ErrUnauthenticated, wireError{401, "Unauthenticated", 50475011}, "missing or invalid credentials"},
	{service.ErrDenied, wireError{403, "Forbidden", 16924673}, "permission denied"},
	{service.ErrAuditUnavailable, wireError{503, "ServiceUnavailable", 50425858}, "the audit log is unavailable; try again later"},
	{service.ErrTooManyRequests, wireError{429, "TooManyRequests", 50434049}, "too many failed authentications from this address; slow down"},
	{service.ErrRateLimited, wireError{429, "TooManyRequests", 50434049}, "this identity sent more requests than the server's rate limit allows; retry later"},
	{secret.ErrExists, wireError{409, "SecretAlreadyExists", 17145857}, "a secret already exists at this path"},
	{secret.ErrCASRequired, wireError{400, "SecretCasRequired", 17137665}, "cas parameter required for this call"},
	{secret.ErrCASMismatch, wireError{400, "SecretCasMismatch", 17137666}, "cas parameter did not match the current version"},
	{secret.ErrTransition, wireError{400, "SecretVersionStateTransitionInvalid", 17137667}, "a deleted version cannot change state"},
	{secret.ErrVersionLimit, wireError{400, "SecretVersionLimitReached", 17137668}, "the secret has reached the maximum version number 24000"},
}

// violationCodes gives the error_code of each validation error id.
var violationCodes = map[string]int32{
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

// describe returns the wire form of err and its messages.
func describe(err error) (wireError, []string) {
	if vs, ok := secret.AsViolations(err); ok {
		id := vs[0].ID()
		return wireError{400, id, violationCodes[id]}, vs.Messages()
	}
	var be *httpapi.BodyError
	if errors.As(err, &be) {
		return wireError{400, "RequestBodyInvalidJson", 50405379}, []string{be.Error()}
	}
	var qe *queryError
	if errors.As(err, &qe) {
		return wireError{400, "QueryParameterInvalid", 50405384}, []string{qe.Msg}
	}
	if id, msg, ok := httpapi.Limit(err); ok {
		return wireError{400, id, 50405386}, []string{msg}
	}
	for _, row := range table {
		if errors.Is(err, row.err) {
			msg := row.msg
			if msg == "" {
				msg = row.err.Error()
			}
			return row.wire, []string{msg}
		}
	}
	if errors.Is(err, context.Canceled) {
		// The client went away; nobody reads this answer.
		return wireError{400, "RequestCanceled", 50405385}, []string{"request canceled"}
	}
	return wireError{500, "InternalError", 50401281}, []string{"internal error; see the server log for request details"}
}

// writeError renders err in the OKMS envelope. Unknown errors are logged
// in full and answered with a generic 500 that carries the request id.
func writeError(log *slog.Logger) httpapi.ErrorWriter {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		we, msgs := describe(err)
		rid := httpapi.RequestID(r.Context())
		if we.status >= 500 {
			log.ErrorContext(r.Context(), "request failed", "err", err, "request_id", rid)
		}
		httpapi.WriteJSON(w, we.status, api.ErrorResponse{ErrorCode: we.code, ErrorID: we.id, Errors: msgs, RequestID: rid})
	}
}
