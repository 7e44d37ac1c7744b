package webui

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

var (
	errBadForm  = errors.New("webui: the form could not be read")
	errNotFound = errors.New("webui: not found")
)

// errorTable is the panel's one table from error to status and message
// (architecture.md 1.6). Messages speak to people and never quote a value.
var errorTable = []struct {
	err     error
	status  int
	message string
}{
	{service.ErrDenied, http.StatusForbidden, "You are not allowed to do this. Ask an administrator for a policy that allows it."},
	{errCSRF, http.StatusForbidden, "This form has expired or did not come from this page. Go back, reload the page and try again."},
	{errBadForm, http.StatusBadRequest, "The form could not be read."},
	{errNotFound, http.StatusNotFound, "There is no such page."},
	{secret.ErrNotFound, http.StatusNotFound, "There is no secret at this path."},
	{secret.ErrVersionNotFound, http.StatusNotFound, "This version does not exist: it was never created, or it was removed beyond the maximum number of versions."},
	{secret.ErrExists, http.StatusConflict, "A secret already exists at this path."},
	{secret.ErrCASRequired, http.StatusConflict, "Check-and-set is required for this secret: the current version must be sent."},
	{secret.ErrCASMismatch, http.StatusConflict, "The secret changed since this page was loaded."},
	{secret.ErrVersionInactive, http.StatusConflict, "This version is not active: a deactivated version's value cannot be read, a deleted one's is destroyed."},
	{secret.ErrTransition, http.StatusConflict, "A deleted version cannot change state: its value is destroyed."},
	{secret.ErrVersionLimit, http.StatusConflict, "This secret has reached the highest version number."},
	{service.ErrDomainNotFound, http.StatusNotFound, "There is no OKMS domain with this id."},
	{service.ErrConfirmationRequired, http.StatusBadRequest, "Type the id of the OKMS domain to confirm its deletion."},
	{service.ErrDomainNotReady, http.StatusConflict, "This OKMS domain is still being created. Try again in a moment."},
	{service.ErrRegionNotFound, http.StatusNotFound, "This installation does not serve that region."},
	{service.ErrCredentialNotFound, http.StatusNotFound, "There is no such access certificate."},
	{service.ErrNoPKI, http.StatusServiceUnavailable, "Access certificates are not available on this server."},
	{service.ErrUserNotFound, http.StatusNotFound, "There is no such user."},
	{service.ErrGroupNotFound, http.StatusNotFound, "There is no such group."},
	{service.ErrTokenNotFound, http.StatusNotFound, "There is no such token."},
	{service.ErrPolicyNotFound, http.StatusNotFound, "There is no such policy."},
	{service.ErrServiceAccountNotFound, http.StatusNotFound, "There is no such service account."},
	{service.ErrIdentityExists, http.StatusConflict, "This name is already taken."},
	{service.ErrGroupInUse, http.StatusConflict, "This group still has members."},
	{service.ErrAuditNotReadable, http.StatusServiceUnavailable, "The audit log goes to the server log and cannot be read here: start the server with --audit-file."},
	{service.ErrAuditUnavailable, http.StatusServiceUnavailable, "The audit log cannot be written, so nothing was done. Try again later."},
	{service.ErrUnavailable, http.StatusServiceUnavailable, "The database cannot be reached at the moment. Try again in a few seconds."},
	{service.ErrTooManyRequests, http.StatusTooManyRequests, "Too many failed attempts from your address. Wait a moment and try again."},
	{service.ErrBusy, http.StatusServiceUnavailable, "The server is busy checking other passwords. Wait a moment and try again."},
	{service.ErrCursorInvalid, http.StatusBadRequest, "This page link is not valid for you any more. Go back to the first page of the list."},
}

// describe returns the status and message of err.
func describe(err error) (int, string) {
	if status, msg, ok := describeKeyError(err); ok { // keys.go
		return status, msg
	}
	if vs, ok := secret.AsViolations(err); ok {
		msgs := make([]string, len(vs))
		for i, v := range vs {
			msgs[i] = violationMessage(v)
		}
		return http.StatusBadRequest, strings.Join(msgs, " ")
	}
	var ie *service.InvalidError
	if errors.As(err, &ie) {
		if plainField.MatchString(ie.Field) && strings.HasPrefix(ie.Reason, "must") {
			// "login", "must be …": say which field.
			return http.StatusBadRequest, sentence(ie.Field + " " + ie.Reason)
		}
		return http.StatusBadRequest, sentence(ie.Reason)
	}
	var de *service.DeniedError
	if errors.As(err, &de) && de.Action != "" {
		return http.StatusForbidden, fmt.Sprintf("You are not allowed to do this: it needs the action %s on %s. "+
			"Ask an administrator for a policy that allows it.", de.Action, de.Resource)
	}
	var ps policy.Problems
	if errors.As(err, &ps) {
		return http.StatusBadRequest, sentence(strings.TrimPrefix(ps.Error(), "policy: invalid policy: "))
	}
	for _, e := range errorTable {
		if errors.Is(err, e.err) {
			return e.status, e.message
		}
	}
	return http.StatusInternalServerError, "Something went wrong on the server. Quote the request id to your administrator."
}

// plainField matches the field names of the service's InvalidError that
// read as words ("login", "displayName"), not OKMS error ids.
var plainField = regexp.MustCompile(`^[a-z][a-zA-Z]*$`)

// pathRules explains what a secret path may hold (okms-rest.md 2.2).
const pathRules = "A path uses letters, digits and _ . : = @ -, with folders separated by / (not at the start or the end, never //, no . or .. folder), at most 255 characters."

// fieldOf names the form field a mistake is about: "path", "value" or
// "settings"; "" when it is about none in particular.
func fieldOf(err error) string {
	if errors.Is(err, secret.ErrExists) {
		return "path"
	}
	vs, ok := secret.AsViolations(err)
	if !ok || len(vs) == 0 {
		var fe *formErr
		if errors.As(err, &fe) {
			return fe.field
		}
		return ""
	}
	switch v := vs[0]; {
	case v.Field == secret.FieldPath, v.Field == secret.FieldRequired && v.Key == "path":
		return "path"
	case v.Field == secret.FieldData:
		return "value"
	case v.Field == secret.FieldMaxVersions, v.Field == secret.FieldDeactivateVersionAfter, v.Field == secret.FieldCustomMetadata, v.Field == secret.FieldCAS:
		return "settings"
	}
	return ""
}

// violationMessage words a validation problem for the panel's forms,
// whose fields do not bear the API's names.
func violationMessage(v secret.Violation) string {
	switch v.Field {
	case secret.FieldPath:
		if v.Rule == secret.RuleMaxExceeded {
			return fmt.Sprintf("The path has %d characters; the limit is %d.", v.Got, v.Limit)
		}
		return "This path is not valid: " + sentence(v.Reason) + " " + pathRules
	case secret.FieldRequired:
		if v.Key == "path" {
			return "Enter a path. " + pathRules
		}
	case secret.FieldDeactivateVersionAfter:
		return "The expiration period must be a duration such as 30d, 12h or 1h30m (units d, h, m and s), at most 100 years."
	case secret.FieldMaxVersions:
		return fmt.Sprintf("The maximum number of versions must be between 0 and %d.", secret.MaxVersionID)
	case secret.FieldData:
		if v.Rule == secret.RuleMaxExceeded {
			return fmt.Sprintf("The value is %d bytes of compact JSON; the limit is %d (64 KiB).", v.Got, v.Limit)
		}
		return sentence("the value must be a JSON object of key-value pairs: " + v.Reason)
	}
	return sentence(v.Error())
}

// sentence capitalises a message and ends it with a period.
func sentence(s string) string {
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// fail renders err: an error page, or a JSON error for a fetch. Internal
// errors are logged with the request id; their text is not shown.
func (u *UI) fail(w http.ResponseWriter, r *http.Request, rc *reqCtx, err error) {
	httpapi.NoteError(r.Context(), err)
	if errors.Is(err, service.ErrUnauthenticated) {
		u.toSignin(w, r, false, "ended")
		return
	}
	status, msg := describe(err)
	if status == http.StatusInternalServerError {
		u.log.ErrorContext(r.Context(), "web panel", "err", err, "request_id", httpapi.RequestID(r.Context()))
	}
	if rc != nil && rc.caller.Principal.IsZero() {
		rc = nil
	}
	u.renderError(w, r, rc, status, msg)
}

// settingsFields maps the forms of the domain settings (by the last
// element of the path they post to) to their prefix of input ids, and the
// fields the service names (InvalidError.Field, policy problems) to the
// inputs, so that a mistake is shown next to its field.
var settingsFields = map[string]map[string]string{
	"users":            {"login": "u-login", "password": "u-password", "group": "u-group", "email": "u-email", "description": "u-desc", "": "u-login"},
	"groups":           {"name": "g-name", "role": "g-role", "description": "g-desc", "": "g-name"},
	"tokens":           {"name": "t-name", "expiresAt": "t-days", "days": "t-days", "": "t-name"},
	"service-accounts": {"name": "sa-name", "description": "sa-desc", "": "sa-name"},
	"policies": {"name": "p-name", "identities": "p-ids", "resources": "p-res", "permissions": "p-more",
		"permissions.allow": "p-more", "permissions.except": "p-more", "permissions.deny": "p-deny", "": "p-name"},
	"credentials": {"Name": "cred-name", "Description": "cred-desc", "IdentityURNs": "cred-ids", "Validity": "cred-validity",
		"CSR": "cred-csr", "validity": "cred-validity"},
	"config": {"maxVersions": "cfg-maxVersions", string(secret.FieldMaxVersions): "cfg-maxVersions",
		string(secret.FieldDeactivateVersionAfter): "cfg-deactivateAfter"},
	"rename": {"displayName": "displayName"},
}

// settingsField returns the id of the input of a settings form that err
// is about, "" when it is about none in particular. form is the last
// element of the path the form posted to.
func settingsField(form string, err error) string {
	m := settingsFields[form]
	if m == nil {
		return ""
	}
	var ie *service.InvalidError
	var ps policy.Problems
	var fe *formErr
	switch {
	case errors.Is(err, service.ErrIdentityExists):
		return m[""]
	case errors.As(err, &ie):
		if id := m[ie.Field]; id != "" {
			return id
		}
		// Credential errors are OKMS ids: Credential<Field><Rule>.
		for f, id := range m {
			if f != "" && strings.HasPrefix(ie.Field, "Credential"+f) {
				return id
			}
		}
	case errors.As(err, &ps) && len(ps) > 0:
		return m[string(ps[0].Field)]
	case errors.As(err, &fe):
		return m[fe.field]
	}
	if vs, ok := secret.AsViolations(err); ok && len(vs) > 0 {
		return m[string(vs[0].Field)]
	}
	return ""
}
