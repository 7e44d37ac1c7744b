package audit

import (
	"context"
	"log/slog"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/logio"
)

// Outcomes of a decision or an operation.
const (
	Allowed = "allowed"
	Denied  = "denied"
	Failed  = "failed"
)

// Phases: a request event is written before the operation runs, a
// response event after (reliability-security.md 7). An operation that
// changes nothing (a read, a list, a metadata read) has one event instead
// of the pair, phase PhaseRequestResponse, written once the operation is
// done and before its answer is sent: it carries the authorization
// decision (Decision) and the outcome, and when it cannot be written the
// answer is not sent (fail closed).
const (
	PhaseRequest         = "request"
	PhaseResponse        = "response"
	PhaseRequestResponse = "request+response"
)

// Event is one audit record. It never holds a value, a token or a password.
type Event struct {
	Time       time.Time `json:"time"`
	Phase      string    `json:"phase"`
	RequestID  string    `json:"request_id,omitempty"`
	Surface    string    `json:"surface,omitempty"`
	Principal  []string  `json:"principal"`
	Credential string    `json:"credential,omitempty"` // kind:id, never the secret part
	Action     string    `json:"action"`
	Resource   string    `json:"resource"`
	Outcome    string    `json:"outcome"`
	Reason     string    `json:"reason,omitempty"`
	// Decision is the authorization decision of an event of phase
	// PhaseRequestResponse (what its request event's reason would have
	// said), when Outcome and Reason tell how the operation ended.
	Decision   string `json:"decision,omitempty"`
	RemoteAddr string `json:"remote_addr,omitempty"`
	// Durable asks the sink to make the event durable before Record
	// returns: the service sets it for operations that change state.
	Durable bool `json:"-"`
}

// Sink records audit events. Record must be safe for concurrent use; it
// returns only once the event is recorded as durably as the sink promises.
type Sink interface {
	Record(ctx context.Context, e Event) error
}

// SlogSink writes events to a structured logger, one record per event.
type SlogSink struct {
	Logger *slog.Logger
	// Flush, if set, makes what the logger wrote so far reach its output
	// (a logio.Writer's Flush): Record calls it for Durable events, so that
	// the events of operations that change state are written before the
	// operation proceeds even when the log is written asynchronously, and
	// returns its error (the operation is then refused: fail closed).
	Flush func() error
}

// Record implements [Sink].
func (s SlogSink) Record(ctx context.Context, e Event) error {
	attrs := [...]slog.Attr{
		slog.String("phase", e.Phase),
		slog.String("request_id", e.RequestID),
		slog.String("surface", e.Surface),
		slog.Any("principal", e.Principal),
		slog.String("credential", e.Credential),
		slog.String("action", e.Action),
		slog.String("resource", e.Resource),
		slog.String("outcome", e.Outcome),
		slog.String("reason", e.Reason),
		slog.String("decision", e.Decision),
	}
	n := len(attrs)
	if e.Decision == "" {
		n-- // only single events of operations that change nothing have one
	}
	logio.LogAt(ctx, s.Logger, e.Time, slog.LevelInfo, "audit", attrs[:n]...)
	if e.Durable && s.Flush != nil {
		return s.Flush()
	}
	return nil
}

// Discard drops every event (tests that do not look at the audit trail).
type Discard struct{}

// Record implements [Sink].
func (Discard) Record(context.Context, Event) error { return nil }
