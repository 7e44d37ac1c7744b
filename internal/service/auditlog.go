package service

import (
	"context"
	"errors"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/policy"
)

// ErrAuditNotReadable: the audit goes to a sink that cannot be read
// back (the log); configure an audit file.
var ErrAuditNotReadable = errors.New("service: the audit log is not readable: configure --audit-file")

// AuditTail returns the last n audit events, when the audit sink can be
// read back. Root or ADMIN only; the read is itself audited.
func (s *Service) AuditTail(ctx context.Context, c Caller, n int) ([]audit.Event, error) {
	r, ok := s.audit.(audit.Reader)
	if !ok {
		return nil, ErrAuditNotReadable
	}
	var out []audit.Event
	err := s.requireAdmin(ctx, c, "audit/list", policy.AccountURN(s.zone, s.account), func() (err error) {
		out, err = r.Tail(n)
		return err
	})
	return out, internalUnlessIAM("AuditTail", err)
}
