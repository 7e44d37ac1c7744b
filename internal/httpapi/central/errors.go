package central

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Errors of surface A that are not validation violations.
var (
	errRouteNotFound    = errors.New("no route matches this request")
	errMethodNotAllowed = errors.New("method not allowed on this route")
	errDomainInvalid    = errors.New("no OKMS domain has this id")
	errIamTags          = errors.New("the iamTags filter is not supported: coffer has no resource tags")
)

// ovhError is the OVH API error envelope (okms-rest.md 8.2; go-ovh
// APIError). details is never sent.
type ovhError struct {
	Class   string `json:"class"`
	Message string `json:"message"`
}

// OVH error classes (okms-rest.md 8.2).
const (
	classBadRequest = "Client::BadRequest::"
	classNotFound   = "Client::NotFound::"
)

// table maps errors to the wire, in the order they are tested: status,
// OVH class and message ("" keeps the error's own message). Violations,
// body and query errors come before it (describe).
var table = []struct {
	err    error
	status int
	class  string
	msg    string
}{
	{secret.ErrNotFound, 404, classNotFound + "SecretNotFound", "secret not found"},
	{secret.ErrVersionNotFound, 404, classNotFound + "SecretVersionNotFound", "secret version not found"},
	{service.ErrDomainNotFound, 404, classNotFound + "DomainNotFound", "OKMS domain not found"},
	{errDomainInvalid, 404, classNotFound + "DomainNotFound", "OKMS domain not found"},
	{errRouteNotFound, 404, classNotFound + "RouteNotFound", ""},
	{errMethodNotAllowed, 405, "Client::MethodNotAllowed", ""},
	{httpapi.ErrBodyTooLarge, 413, "Client::PayloadTooLarge", "request body exceeds 1048576 bytes"},
	{httpapi.ErrFormBody, 400, classBadRequest + "RequestBodyInvalidJson", ""},
	{httpapi.ErrCursorInvalid, 400, classBadRequest + "PaginationCursorInvalid", ""},
	{httpapi.ErrPageSizeInvalid, 400, classBadRequest + "PaginationSizeInvalid", ""},
	{errIamTags, 400, classBadRequest + "IamTagsNotSupported", ""},
	{service.ErrUnauthenticated, 401, "Client::Unauthorized", "missing or invalid credentials"},
	{service.ErrDenied, 403, "Client::Forbidden", "permission denied"},
	{service.ErrAuditUnavailable, 503, "Server::ServiceUnavailable", "the audit log is unavailable; try again later"},
	{service.ErrTooManyRequests, 429, "Client::TooManyRequests", "too many failed authentications from this address; slow down"},
	{service.ErrRateLimited, 429, "Client::TooManyRequests", "this identity sent more requests than the server's rate limit allows; retry later"},
	{secret.ErrExists, 409, "Client::Conflict::SecretAlreadyExists", "a secret already exists at this path"},
	{secret.ErrCASRequired, 400, classBadRequest + "SecretCasRequired", "cas parameter required for this call"},
	{secret.ErrCASMismatch, 400, classBadRequest + "SecretCasMismatch", "cas parameter did not match the current version"},
	{secret.ErrTransition, 400, classBadRequest + "SecretVersionStateTransitionInvalid", "a deleted version cannot change state"},
	{secret.ErrVersionLimit, 400, classBadRequest + "SecretVersionLimitReached", "the secret has reached the maximum version number 24000"},
	{service.ErrRegionNotFound, 404, classNotFound + "RegionNotFound", "no region of this installation has this id"},
	{service.ErrDomainNotReady, 409, "Client::Conflict::DomainNotReady", "the OKMS domain is being created or deleted; retry shortly"},
	{service.ErrConfirmationRequired, 400, classBadRequest + "ConfirmationRequired", "deleting an OKMS domain deletes its secrets, versions, credentials and keys, which the Key Management Service shares: repeat the domain id in ?confirm=<okmsId>"},
	{service.ErrCredentialNotFound, 404, classNotFound + "CredentialNotFound", "credential not found"},
	{errCredentialCursor, 400, classBadRequest + "CredentialPaginationCursorInvalidValue", ""},
	{service.ErrNoPKI, 404, classNotFound + "RouteNotFound", "access certificates are not available on this server"},
	// The client went away; nobody reads this answer.
	{context.Canceled, 400, classBadRequest + "RequestCanceled", "request canceled"},
}

// describe returns the status, class and message of err.
func describe(err error) (int, string, string) {
	if vs, ok := secret.AsViolations(err); ok {
		return http.StatusBadRequest, classBadRequest + vs[0].ID(), violationMessage(vs)
	}
	var be *httpapi.BodyError
	if errors.As(err, &be) {
		return http.StatusBadRequest, classBadRequest + "RequestBodyInvalidJson", be.Error()
	}
	var ie *service.InvalidError
	if errors.As(err, &ie) {
		return http.StatusBadRequest, classBadRequest + ie.Field, ie.Reason
	}
	var qe *httpapi.QueryError
	if errors.As(err, &qe) {
		return http.StatusBadRequest, classBadRequest + "QueryParameterInvalid", qe.Error()
	}
	if id, msg, ok := httpapi.Limit(err); ok {
		return http.StatusBadRequest, classBadRequest + id, msg
	}
	for _, row := range table {
		if errors.Is(err, row.err) {
			msg := row.msg
			if msg == "" {
				msg = row.err.Error()
			}
			return row.status, row.class, msg
		}
	}
	return http.StatusInternalServerError, "Server::InternalServerError", ""
}

// violationMessage joins the messages of every violation: the OVH
// envelope has one message where the OKMS one has a list. Version states
// are named as surface A spells them.
func violationMessage(vs secret.Violations) string {
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.Error()
		if v.Field == secret.FieldState {
			msgs[i] = "state must be one of ACTIVE, DEACTIVATED, DELETED"
		}
	}
	return strings.Join(msgs, "; ")
}

// writeError renders err in the OVH envelope; X-Ovh-QueryID is already
// set (ServeHTTP). Unknown errors are logged in full and answered with a
// generic 500 that carries the request id.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, class, msg := describe(err)
	if status >= 500 {
		rid := httpapi.RequestID(r.Context())
		a.log.ErrorContext(r.Context(), "request failed", "err", err, "request_id", rid)
		if msg == "" {
			msg = "internal error; request id " + rid
		}
	}
	httpapi.WriteJSON(w, status, ovhError{Class: class, Message: msg})
}
