package central

import (
	"errors"
	"net/http"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Surface A answers every error in the OVH envelope (okms-rest.md 8.2),
// whose class names the OKMS error_id. Its table is the rows shared with
// surface B (httpapi.SecretErrors), its own, and those of any request
// (httpapi.RequestErrors).

var errIamTags = errors.New("the iamTags filter is not supported: coffer has no resource tags")

// table holds the rows of the errors only surface A meets: domains,
// regions and credentials. Violations, body and query errors come before
// (describe).
var table = []httpapi.ErrorRow{
	{Err: errIamTags, Status: 400, ID: "IamTagsNotSupported"},
	{Err: service.ErrRegionNotFound, Status: 404, ID: "RegionNotFound", Msg: "no region of this installation has this id"},
	{Err: service.ErrConfirmationRequired, Status: 400, ID: "ConfirmationRequired", Msg: "deleting an OKMS domain deletes its secrets, versions, credentials and keys, which the Key Management Service shares: repeat the domain id in ?confirm=<okmsId>"},
	{Err: service.ErrCredentialNotFound, Status: 404, ID: "CredentialNotFound", Msg: "credential not found"},
	{Err: errCredentialCursor, Status: 400, ID: "CredentialPaginationCursorInvalidValue"},
	{Err: service.ErrNoPKI, Status: 404, ID: "RouteNotFound", Msg: "access certificates are not available on this server"},
}

// describe returns the status, OKMS error_id and message of err; a 500
// has an empty message.
func describe(err error) (int, string, string) {
	if vs, ok := secret.AsViolations(err); ok {
		return http.StatusBadRequest, vs[0].ID(), violationMessage(vs)
	}
	if ie, ok := errors.AsType[*service.InvalidError](err); ok {
		return http.StatusBadRequest, ie.Field, ie.Reason
	}
	if kw, ok := httpapi.KeyError(err); ok {
		return kw.Status, kw.ID, strings.Join(kw.Messages, "; ")
	}
	return httpapi.Describe(err, httpapi.SecretErrors, table, httpapi.RequestErrors)
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
	status, id, msg := describe(err)
	httpapi.WriteOVHError(w, r, a.log, err, status, id, msg)
}
