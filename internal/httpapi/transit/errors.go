package transit

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/vaultwire"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/servicekey"
)

// Errors of the surface that are not domain or service errors.
var (
	errNoToken         = errors.New("permission denied")
	errMethod          = vaultwire.ErrMethod
	errUnsupported     = errors.New("unsupported operation")
	errNoRoute         = errors.New("unsupported path")
	errWriteSlash      = errors.New("cannot write to a path ending in '/'")
	errNoDefaultDomain = errors.New("no default domain configured; use /api/{okmsId}/v1/transit/...")
	errBadJSON         = errors.New("error parsing JSON")
	errBadInput        = errors.New("invalid request")
	errKeyMissing      = errors.New("encryption key not found")
)

// requestError is a client error with its own message, rendered by the
// row of its kind.
type requestError = vaultwire.RequestError

func badInput(format string, args ...any) error {
	return &requestError{Kind: errBadInput, Msg: fmt.Sprintf(format, args...)}
}

func fieldError(name, detail string) error { return vaultwire.FieldError(errBadInput, name, detail) }

func jsonError(detail string) error { return vaultwire.JSONError(errBadJSON, detail) }

func routeError(path string) error {
	return &requestError{Kind: errNoRoute, Msg: vaultwire.MultiError([]string{"unsupported path"})}
}

// keyMissing is a key that does not exist, as the crypto routes say it
// (a 400, as Vault); reads and key management answer 404.
func keyMissing(err error) error {
	if errors.Is(err, servicekey.ErrNotFound) {
		return errKeyMissing
	}
	return err
}

// wire is how an error goes on the wire: status, Vault's errors strings
// (nil: the error's own message) and the OKMS error_id.
type wire struct {
	status int
	errors []string
	id     string
}

// table maps errors to the wire, in the order they are tested: the same
// authentication, domain and availability rows as surface C, then the
// Transit refusals. No client error is 5xx, 412 or 429.
var table = []struct {
	err  error
	wire wire
}{
	{errNoToken, wire{http.StatusForbidden, []string{"permission denied"}, "Unauthenticated"}},
	{service.ErrUnauthenticated, wire{http.StatusForbidden, []string{vaultwire.InvalidToken}, "Unauthenticated"}},
	{service.ErrDenied, wire{http.StatusForbidden, []string{vaultwire.Denied}, "Forbidden"}},
	{service.ErrDomainNotFound, wire{http.StatusNotFound, []string{"OKMS domain not found"}, "DomainNotFound"}},
	{service.ErrDomainNotReady, wire{http.StatusBadRequest, []string{"the OKMS domain is being created or deleted; retry shortly"}, "DomainNotReady"}},
	{errNoDefaultDomain, wire{http.StatusNotFound, nil, "DomainNotFound"}},
	{errNoRoute, wire{http.StatusNotFound, nil, "RouteNotFound"}},
	{errMethod, wire{http.StatusMethodNotAllowed, []string{}, "MethodNotAllowed"}},
	{errUnsupported, wire{http.StatusMethodNotAllowed, []string{vaultwire.Unsupported}, "MethodNotAllowed"}},
	{vaultwire.ErrListParam, wire{http.StatusBadRequest, []string{}, "QueryParameterInvalid"}},
	{vaultwire.ErrNamespace, wire{http.StatusBadRequest, nil, "QueryParameterInvalid"}},
	{vaultwire.ErrWrapping, wire{http.StatusBadRequest, nil, "QueryParameterInvalid"}},
	{errWriteSlash, wire{http.StatusBadRequest, nil, "QueryParameterInvalid"}},
	{httpapi.ErrBodyTooLarge, wire{http.StatusRequestEntityTooLarge, []string{"http: request body too large"}, "RequestBodyTooLarge"}},
	{errBadJSON, wire{http.StatusBadRequest, nil, "RequestBodyInvalidJson"}},
	{errBadInput, wire{http.StatusBadRequest, nil, "QueryParameterInvalid"}},
	{errKeyMissing, wire{http.StatusBadRequest, nil, "ServiceKeyNotFound"}},
	{servicekey.ErrNotFound, wire{http.StatusNotFound, []string{}, "ServiceKeyNotFound"}},
	{servicekey.ErrNameAmbiguous, wire{http.StatusBadRequest,
		[]string{"several service keys of this domain have this name: rename all but one through the OKMS API, or address the key by its id"}, "ServiceKeyNameAmbiguous"}},
	{servicekey.ErrDeletionNotAllowed, wire{http.StatusBadRequest, []string{"deletion is not allowed for this key"}, "ServiceKeyDeletionNotAllowed"}},
	{servicekey.ErrExists, wire{http.StatusBadRequest, []string{"a key with this name was created meanwhile; retry"}, "ServiceKeyAlreadyExists"}},
	{servicekey.ErrNotActive, wire{http.StatusBadRequest,
		[]string{"the key is not active (deactivated or compromised through the OKMS API): it decrypts and verifies but does not encrypt or sign"}, "ServiceKeyNotActive"}},
	{servicekey.ErrCiphertext, wire{http.StatusBadRequest, []string{"invalid ciphertext: it is malformed, or does not decrypt with this key and context"}, "ServiceKeyCiphertextInvalid"}},
	{servicekey.ErrVersionNotFound, wire{http.StatusBadRequest,
		[]string{"the key version is not available: above the latest version, below min_decryption_version (or min_encryption_version), or trimmed"}, "ServiceKeyVersionNotFound"}},
	{servicekey.ErrSignature, wire{http.StatusBadRequest, []string{"invalid signature: expected vault:v<N>:<base64>"}, "ServiceKeySignatureInvalid"}},
	{service.ErrNoKMS, wire{http.StatusNotFound, []string{"the key management service is not available on this server"}, "RouteNotFound"}},
	{service.ErrAuditUnavailable, wire{http.StatusServiceUnavailable, []string{"the audit log is unavailable; try again later"}, "ServiceUnavailable"}},
	{service.ErrUnavailable, wire{http.StatusServiceUnavailable, []string{"the storage is unavailable; try again later"}, "ServiceUnavailable"}},
	{service.ErrTooManyRequests, wire{http.StatusTooManyRequests, []string{"too many failed authentications from this address; slow down"}, "TooManyRequests"}},
	{service.ErrRateLimited, wire{http.StatusTooManyRequests, []string{"this identity sent more requests than the server's rate limit allows; retry later"}, "TooManyRequests"}},
	{service.ErrBusy, wire{http.StatusServiceUnavailable, []string{"the server is busy; retry shortly"}, "ServiceUnavailable"}},
	{service.ErrNotInitialized, wire{http.StatusServiceUnavailable, []string{"Vault is sealed"}, "ServiceUnavailable"}},
	{service.ErrSealed, wire{http.StatusServiceUnavailable, []string{"Vault is sealed"}, "ServiceUnavailable"}},
	{context.Canceled, wire{http.StatusBadRequest, []string{"request canceled"}, "RequestCanceled"}},
}

// describe returns the wire form of err.
func describe(err error) wire {
	for _, row := range table {
		if errors.Is(err, row.err) {
			w := row.wire
			if w.errors == nil {
				w.errors = []string{err.Error()}
			}
			return w
		}
	}
	if kw, ok := httpapi.KeyError(err); ok {
		return wire{status: kw.Status, errors: kw.Messages, id: kw.ID}
	}
	if id, msg, ok := httpapi.Limit(err); ok {
		return wire{status: http.StatusBadRequest, errors: []string{msg}, id: id}
	}
	if be, ok := errors.AsType[*httpapi.BodyError](err); ok {
		return wire{status: http.StatusBadRequest, errors: []string{be.Error()}, id: "RequestBodyInvalidJson"}
	}
	return wire{status: http.StatusInternalServerError, errors: []string{"internal error; see the server log for request details"}, id: "InternalError"}
}

// itemError is the message of a batch item's error.
func itemError(err error) string {
	w := describe(keyMissing(err))
	if len(w.errors) == 0 {
		return w.id
	}
	return w.errors[0]
}

// writeError renders err in Vault's error body with the OKMS members.
// Unknown errors are logged in full and answered with a generic 500.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	we := describe(err)
	vaultwire.WriteError(w, r, a.log, err, we.status, we.errors, we.id)
}
