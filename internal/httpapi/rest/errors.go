package rest

import (
	"log/slog"
	"net/http"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/secret"
)

// Surface B answers every error in the OKMS envelope (okms-rest.md 8.1):
// its table is the rows shared with surface A (httpapi.SecretErrors) and
// those of any request (httpapi.RequestErrors), and each error_id has its
// error_code (httpapi.OKMSCode).

// describe returns the status, error_id and messages of err: one message
// per violation, one otherwise.
func describe(err error) (int, string, []string) {
	if vs, ok := secret.AsViolations(err); ok {
		return http.StatusBadRequest, vs[0].ID(), vs.Messages()
	}
	if kw, ok := httpapi.KeyError(err); ok {
		return kw.Status, kw.ID, kw.Messages
	}
	status, id, msg := httpapi.Describe(err, httpapi.SecretErrors, httpapi.RequestErrors)
	if status == http.StatusInternalServerError {
		msg = "internal error; see the server log for request details"
	}
	return status, id, []string{msg}
}

// writeError renders err in the OKMS envelope. Unknown errors are logged
// in full and answered with a generic 500 that carries the request id.
func writeError(log *slog.Logger) httpapi.ErrorWriter {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		status, id, msgs := describe(err)
		rid := httpapi.RequestID(r.Context())
		if status >= 500 {
			log.ErrorContext(r.Context(), "request failed", "err", err, "request_id", rid)
		}
		httpapi.SetRetryAfter(w, status)
		httpapi.WriteJSON(w, status, api.ErrorResponse{ErrorCode: httpapi.OKMSCode(id), ErrorID: id, Errors: msgs, RequestID: rid})
	}
}
