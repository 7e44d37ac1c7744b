package iamapi

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Errors of this surface that the service does not return.
var (
	errRouteNotFound    = errors.New("no route matches this request")
	errMethodNotAllowed = errors.New("method not allowed on this route")
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
	classConflict   = "Client::Conflict::"
)

// kind is the kind of object a route manages. It words the errors whose
// sentinel is shared by every kind: a taken name (service.ErrIdentityExists)
// and an invalid input (*service.InvalidError).
type kind uint8

const (
	kindNone kind = iota
	kindUser
	kindGroup
	kindToken
	kindPolicy
	kindAudit
)

var kinds = [...]struct {
	name   string // in error classes: UserAlreadyExists, InvalidUser
	exists string // the message of a conflict
}{
	kindNone:   {"", "the name is already taken"},
	kindUser:   {"User", "a user with this login already exists"},
	kindGroup:  {"Group", "a group with this name already exists"},
	kindToken:  {"Token", "the user already has a token with this name"},
	kindPolicy: {"Policy", "a policy with this name already exists"},
	kindAudit:  {"Audit", "the name is already taken"},
}

// table maps sentinel errors to the wire, in the order they are tested:
// status, OVH class and message ("" keeps the error's own message). Typed
// errors and the kind-dependent ones come before it (describe).
var table = []struct {
	err    error
	status int
	class  string
	msg    string
}{
	{errRouteNotFound, 404, classNotFound + "RouteNotFound", ""},
	{errMethodNotAllowed, 405, "Client::MethodNotAllowed", ""},
	{service.ErrUnauthenticated, 401, "Client::Unauthorized", "missing or invalid credentials"},
	{service.ErrDenied, 403, "Client::Forbidden", "permission denied: identity management is restricted to the account root and ADMIN users"},
	{service.ErrUserNotFound, 404, classNotFound + "UserNotFound", "no user has this login"},
	{service.ErrGroupNotFound, 404, classNotFound + "GroupNotFound", "no group has this name"},
	{service.ErrTokenNotFound, 404, classNotFound + "TokenNotFound", "the user has no token with this name"},
	{service.ErrPolicyNotFound, 404, classNotFound + "PolicyNotFound", "no policy has this id"},
	{service.ErrGroupInUse, 409, classConflict + "GroupInUse", "the group still has members; move them to another group first"},
	{httpapi.ErrBodyTooLarge, 413, "Client::PayloadTooLarge", "request body exceeds 1048576 bytes"},
	{httpapi.ErrFormBody, 400, classBadRequest + "RequestBodyInvalidJson", ""},
	// The server audits to its log, which it cannot read back.
	{service.ErrAuditNotReadable, 501, "Server::NotImplemented::AuditNotReadable",
		"the audit log cannot be read back: the server writes it to its own log; start it with --audit-file"},
	{service.ErrAuditUnavailable, 503, "Server::ServiceUnavailable", "the audit log is unavailable; try again later"},
	{service.ErrTooManyRequests, 429, "Client::TooManyRequests", "too many failed authentications from this address; slow down"},
	{service.ErrRateLimited, 429, "Client::TooManyRequests", "this identity sent more requests than the server's rate limit allows; retry later"},
	// The client went away; nobody reads this answer.
	{context.Canceled, 400, classBadRequest + "RequestCanceled", "request canceled"},
}

// describe returns the status, class and message of err on a route that
// manages objects of kind k; a 500 has an empty message.
func describe(k kind, err error) (int, string, string) {
	if ps, ok := errors.AsType[policy.Problems](err); ok {
		return http.StatusBadRequest, classBadRequest + "InvalidPolicy", problemsMessage(ps)
	}
	if ie, ok := errors.AsType[*service.InvalidError](err); ok {
		return http.StatusBadRequest, classBadRequest + "Invalid" + kinds[k].name, ie.Error()
	}
	if be, ok := errors.AsType[*httpapi.BodyError](err); ok {
		return http.StatusBadRequest, classBadRequest + "RequestBodyInvalidJson", be.Error()
	}
	if id, msg, ok := httpapi.Limit(err); ok {
		return http.StatusBadRequest, classBadRequest + id, msg
	}
	if errors.Is(err, service.ErrIdentityExists) {
		return http.StatusConflict, classConflict + kinds[k].name + "AlreadyExists", kinds[k].exists
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

// problemsMessage lists every problem of a policy document, each with its
// field, index, rule and reason: the OVH envelope has one message.
func problemsMessage(ps policy.Problems) string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return "invalid policy: " + strings.Join(msgs, "; ")
}

// writeError returns the error writer of routes managing objects of kind
// k. It renders err in the OVH envelope; X-Ovh-QueryID is already set
// (ServeHTTP). Unknown errors are logged in full and answered with a
// generic 500 that carries the request id.
func (a *API) writeError(k kind) httpapi.ErrorWriter {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		status, class, msg := describe(k, err)
		if status >= 500 {
			rid := httpapi.RequestID(r.Context())
			a.log.ErrorContext(r.Context(), "request failed", "err", err, "request_id", rid)
			if msg == "" {
				msg = "internal error; request id " + rid
			}
		}
		httpapi.WriteJSON(w, status, ovhError{Class: class, Message: msg})
	}
}
