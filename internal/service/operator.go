package service

import (
	"context"

	"github.com/seed-3e8d63de/coffer/internal/policy"
)

// Operate runs fn, an operator action on the whole installation (a key
// rotation), for the account root or an ADMIN user only. It is audited as
// every call is: a request event before fn runs (and fn does not run if
// that event cannot be written: ErrAuditUnavailable), a response event
// after. A caller who is neither root nor ADMIN gets ErrDenied.
func (s *Service) Operate(ctx context.Context, c Caller, action, resource string, fn func() error) error {
	o := newOp(c, resource, action)
	outcome, reason := adminDecision(c)
	if err := s.start(ctx, o, outcome, reason); err != nil {
		return err
	}
	return s.finish(ctx, o, fn())
}

// AccountURN returns the URN of the account, the resource of operations
// on the whole installation.
func (s *Service) AccountURN() string { return policy.AccountURN(s.zone, s.account) }

// DomainRegion returns the region of the OKMS domain id, reading the
// domain registry if it does not know the domain yet. It returns
// ErrDomainNotFound for an unknown domain. It checks no permission: the
// caller has.
func (s *Service) DomainRegion(ctx context.Context, id string) (string, error) {
	if d, ok := s.cachedDomain(id); ok {
		return d.Region, nil
	}
	if err := s.loadDomains(ctx); err != nil {
		return "", internal("DomainRegion", err)
	}
	if d, ok := s.cachedDomain(id); ok {
		return d.Region, nil
	}
	return "", ErrDomainNotFound
}
