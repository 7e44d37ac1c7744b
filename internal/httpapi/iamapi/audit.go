package iamapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Bounds of the limit query parameter of GET /v2/iam/audit.
const (
	auditDefaultLimit = 100
	auditMaxLimit     = 10000
)

// auditEvent is one audit record as the API shows it, camelCase like the
// other identity routes. It never holds a value, a token or a password:
// audit events do not carry any.
type auditEvent struct {
	// Time has nanoseconds, unlike the other times of this API, so that
	// the events of one second keep their order.
	Time       string   `json:"time"`
	Phase      string   `json:"phase"`
	RequestID  string   `json:"requestId"`
	Surface    string   `json:"surface"`
	Principal  []string `json:"principal"`
	Credential string   `json:"credential"`
	Action     string   `json:"action"`
	Resource   string   `json:"resource"`
	Outcome    string   `json:"outcome"`
	Reason     string   `json:"reason"`
	// Decision is the authorization decision of a request+response event.
	Decision   string `json:"decision,omitempty"`
	RemoteAddr string `json:"remoteAddr"`
}

func toAuditEvent(e audit.Event) auditEvent {
	p := e.Principal
	if p == nil {
		p = []string{}
	}
	return auditEvent{Time: e.Time.UTC().Format(time.RFC3339Nano), Phase: e.Phase, RequestID: e.RequestID,
		Surface: e.Surface, Principal: p, Credential: e.Credential, Action: e.Action, Resource: e.Resource,
		Outcome: e.Outcome, Reason: e.Reason, Decision: e.Decision, RemoteAddr: e.RemoteAddr}
}

// auditLimit parses the optional limit query parameter: 1..10000, default
// 100.
func auditLimit(r *http.Request) (int, error) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return auditDefaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > auditMaxLimit {
		return 0, &service.InvalidError{Field: "limit", Reason: "must be an integer between 1 and 10000"}
	}
	return n, nil
}

// auditTail serves GET /v2/iam/audit?limit=N: the last N events of the
// audit log, oldest first (coffer extension; `coffer audit tail`). Root or
// ADMIN only; the read is audited. A server that audits to its log rather
// than to a file (--audit-file) cannot read its events back: 501.
func (a *API) auditTail(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	n, err := auditLimit(r)
	if err != nil {
		return err
	}
	evs, err := a.svc.AuditTail(r.Context(), c, n)
	if err != nil {
		return err
	}
	out := make([]auditEvent, len(evs))
	for i, e := range evs {
		out[i] = toAuditEvent(e)
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}
