package sys

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Errors an [Operator] returns for what a client can get wrong. Wrap them
// (fmt.Errorf("%w: …")) to add details: their whole message is sent.
var (
	// ErrRotationPending: an earlier root key rotation stopped half way,
	// and its key is still needed (409).
	ErrRotationPending = errors.New("a previous root key rotation did not finish")
	// ErrPassphrase: a backup passphrase too short (400).
	ErrPassphrase = errors.New("the backup passphrase is too short")
	// ErrBackupUnreadable: the backup file does not open (400).
	ErrBackupUnreadable = errors.New("the backup does not open: wrong passphrase, or the file is not a complete coffer backup")
	// ErrBackupTooLarge: the backup file exceeds MaxBackupSize (413).
	ErrBackupTooLarge = fmt.Errorf("the backup is larger than %d bytes", MaxBackupSize)
	// ErrNotEmpty: a restore into an installation that holds data (409).
	ErrNotEmpty = errors.New("the installation is not empty: restore needs one with no secret, user, group or policy")
	// ErrRegions: a restore of a backup of other regions (409).
	ErrRegions = errors.New("the backup's regions are not this server's")
)

// Errors of this surface that no Operator returns.
var (
	errRouteNotFound    = errors.New("no route matches")
	errMethodNotAllowed = errors.New("method not allowed on this route")
)

// routeNotFound is the error of a request no route serves.
func routeNotFound(method, path string) error {
	return fmt.Errorf("%w %s %s", errRouteNotFound, method, path)
}

// errorResponse is the envelope of every error of this surface.
type errorResponse struct {
	Errors []string `json:"errors"`
}

// table maps errors to the wire, in the order they are tested: status and
// message ("" sends the error's own message, details included). Typed
// errors come before it (describe).
var table = []struct {
	err    error
	status int
	msg    string
}{
	{errRouteNotFound, http.StatusNotFound, ""},
	{errMethodNotAllowed, http.StatusMethodNotAllowed, ""},
	{service.ErrUnauthenticated, http.StatusUnauthorized, "missing or invalid credentials"},
	{service.ErrTooManyRequests, http.StatusTooManyRequests, "too many requests; retry later"},
	{service.ErrRateLimited, http.StatusTooManyRequests, "too many requests; retry later"},
	{service.ErrDenied, http.StatusForbidden, "permission denied: the /sys routes are for the account root and ADMIN users"},
	{service.ErrDomainNotFound, http.StatusNotFound, "OKMS domain not found"},
	{service.ErrAuditUnavailable, http.StatusServiceUnavailable, "the audit log is unavailable; try again later"},
	{service.ErrSealed, http.StatusServiceUnavailable, "coffer is sealed; unseal it first"},
	{service.ErrUnsealKeys, http.StatusBadRequest, ""},
	{service.ErrSealParameters, http.StatusBadRequest, ""},
	{service.ErrNoSealChange, http.StatusConflict, ""},
	{service.ErrNotInitialized, http.StatusConflict, "coffer is not initialized"},
	{service.ErrUnavailable, http.StatusServiceUnavailable, "the storage is unavailable; try again later"},
	{ErrRotationPending, http.StatusConflict, ""},
	{ErrNotEmpty, http.StatusConflict, ""},
	{ErrRegions, http.StatusConflict, ""},
	{ErrPassphrase, http.StatusBadRequest, ""},
	{ErrBackupUnreadable, http.StatusBadRequest, ""},
	{httpapi.ErrFormBody, http.StatusBadRequest, ""},
	{ErrBackupTooLarge, http.StatusRequestEntityTooLarge, ""},
	{httpapi.ErrBodyTooLarge, http.StatusRequestEntityTooLarge, "the request body is too large"},
	// The client went away; nobody reads this answer.
	{context.Canceled, http.StatusBadRequest, "request canceled"},
}

// describe returns the status and message of err; a 500 has an empty
// message.
func describe(err error) (int, string) {
	if be, ok := errors.AsType[*httpapi.BodyError](err); ok {
		return http.StatusBadRequest, be.Error()
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return http.StatusRequestEntityTooLarge, "the request body is too large"
	}
	for _, row := range table {
		if errors.Is(err, row.err) {
			if row.msg == "" {
				return row.status, err.Error()
			}
			return row.status, row.msg
		}
	}
	return http.StatusInternalServerError, ""
}

// writeError renders err in the envelope. Unknown errors are logged in
// full and answered with a generic 500 that carries the request id.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, msg := describe(err)
	if msg == "" {
		rid := httpapi.RequestID(r.Context())
		a.log.ErrorContext(r.Context(), "operator request failed", "err", err, "request_id", rid)
		msg = "internal error; see the server log for request " + rid
	}
	httpapi.SetRetryAfter(w, status)
	httpapi.WriteJSON(w, status, errorResponse{Errors: []string{msg}})
}
