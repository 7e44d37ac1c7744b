package iamapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Errors are answered in the OVH envelope (okms-rest.md 8.2), whose class
// names the error_id. The table is this API's rows and those of any
// request (httpapi.RequestErrors).

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
	kindServiceAccount
)

var kinds = [...]struct {
	name   string // in error ids: UserAlreadyExists, InvalidUser
	exists string // the message of a conflict
}{
	kindNone:           {"", "the name is already taken"},
	kindUser:           {"User", "a user with this login already exists"},
	kindGroup:          {"Group", "a group with this name already exists"},
	kindToken:          {"Token", "the user already has a token with this name"},
	kindPolicy:         {"Policy", "a policy with this name already exists"},
	kindAudit:          {"Audit", "the name is already taken"},
	kindServiceAccount: {"ServiceAccount", "the client id is already taken"},
}

// table holds the rows of the errors of identity management. Typed errors
// and the kind-dependent ones come before it (describe).
var table = []httpapi.ErrorRow{
	{Err: service.ErrDenied, Status: 403, ID: "Forbidden", Msg: "permission denied: identity management is restricted to the account root and ADMIN users"},
	{Err: service.ErrUserNotFound, Status: 404, ID: "UserNotFound", Msg: "no user has this login"},
	{Err: service.ErrGroupNotFound, Status: 404, ID: "GroupNotFound", Msg: "no group has this name"},
	{Err: service.ErrTokenNotFound, Status: 404, ID: "TokenNotFound", Msg: "the user has no token with this name"},
	{Err: service.ErrPolicyNotFound, Status: 404, ID: "PolicyNotFound", Msg: "no policy has this id"},
	{Err: service.ErrServiceAccountNotFound, Status: 404, ID: "ServiceAccountNotFound", Msg: "no service account has this client id"},
	{Err: httpapi.ErrCursorInvalid, Status: 400, ID: "PaginationCursorInvalid", Msg: "the pagination cursor is invalid"},
	{Err: httpapi.ErrPageSizeInvalid, Status: 400, ID: "PaginationSizeInvalid"},
	{Err: service.ErrGroupInUse, Status: 409, ID: "GroupInUse", Msg: "the group still has members; move them to another group first"},
	// The server audits to its log, which it cannot read back.
	{Err: service.ErrAuditNotReadable, Status: 501, ID: "AuditNotReadable",
		Msg: "the audit log cannot be read back: the server writes it to its own log; start it with --audit-file"},
}

// describe returns the status, OKMS-style error id and message of err on
// a route that manages objects of kind k; a 500 has an empty message.
func describe(k kind, err error) (int, string, string) {
	if ps, ok := errors.AsType[policy.Problems](err); ok {
		return http.StatusBadRequest, "InvalidPolicy", problemsMessage(ps)
	}
	if ie, ok := errors.AsType[*service.InvalidError](err); ok {
		return http.StatusBadRequest, "Invalid" + kinds[k].name, ie.Error()
	}
	if errors.Is(err, service.ErrIdentityExists) {
		return http.StatusConflict, kinds[k].name + "AlreadyExists", kinds[k].exists
	}
	return httpapi.Describe(err, table, httpapi.RequestErrors)
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
		status, id, msg := describe(k, err)
		httpapi.WriteOVHError(w, r, a.log, err, status, id, msg)
	}
}
