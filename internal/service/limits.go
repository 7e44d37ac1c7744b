package service

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Limits bound what callers may do (reliability-security.md T11). Zero
// fields mean no limit: every limit is off by default.
type Limits struct {
	// SecretsPerDomain caps the secrets of one OKMS domain.
	SecretsPerDomain int
	// VersionsPerDomain caps the versions stored in one domain, all
	// secrets together (versions pruned by maxVersions do not count).
	VersionsPerDomain int
	// Policies caps the IAM policies of the account.
	Policies int
	// RequestRate limits each identity to this many requests per second,
	// with bursts of RequestBurst (default: one second's worth, at least
	// 1). Requests over the limit get ErrRateLimited.
	RequestRate  float64
	RequestBurst int
}

// ErrRateLimited: the caller's identity sent more requests than
// Limits.RequestRate allows; it must slow down.
var ErrRateLimited = errors.New("service: request rate limit of this identity exceeded")

// LimitError is a write refused because it would take an installation
// beyond one of its Limits. Its message names the limit and its value,
// never the data written.
type LimitError struct {
	What  string // "secrets", "versions" or "policies"
	Scope string // "domain" or "account"
	Limit int
}

func (e *LimitError) Error() string {
	return fmt.Sprintf("service: the %s holds the maximum of %d %s allowed by this server", e.Scope, e.Limit, e.What)
}

// checkDomainQuota refuses a version write that would take domain beyond
// its limits: sec is the secret before the write (CurrentVersion 0 for a
// new one), pruned the versions the write removes. Counting lists up to
// limit+1 keys, so limits are meant to stay in the thousands; with no
// limit set it costs nothing.
func (s *Service) checkDomainQuota(tx storage.Tx, domain string, newSecret bool, pruned int) error {
	l := s.limits.Load().Limits
	if newSecret && l.SecretsPerDomain > 0 {
		keys, err := tx.List(secretPrefix(domain), "", l.SecretsPerDomain+1)
		if err != nil {
			return err
		}
		if len(keys) >= l.SecretsPerDomain {
			return &LimitError{What: "secrets", Scope: "domain", Limit: l.SecretsPerDomain}
		}
	}
	if l.VersionsPerDomain > 0 {
		keys, err := tx.List(domainVersionsPrefix(domain), "", l.VersionsPerDomain+1)
		if err != nil {
			return err
		}
		if len(keys)+1-pruned > l.VersionsPerDomain {
			return &LimitError{What: "versions", Scope: "domain", Limit: l.VersionsPerDomain}
		}
	}
	return nil
}

// writeVersion checks the domain's limits, then writes the version with
// the package function writeVersion.
func (s *Service) writeVersion(tx storage.Tx, domain string, sec *secret.Secret, d secret.Data, now time.Time, eff secret.Effective) (secret.Version, error) {
	if l := s.limits.Load().Limits; l.SecretsPerDomain > 0 || l.VersionsPerDomain > 0 {
		// The versions the write will prune that still have data records.
		pruned := 0
		if max := int(eff.MaxVersions); max > 0 && len(sec.Versions)+1 > max {
			for _, v := range sec.Versions[:len(sec.Versions)+1-max] {
				if v.State != secret.Deleted {
					pruned++
				}
			}
		}
		if err := s.checkDomainQuota(tx, domain, sec.CurrentVersion == 0, pruned); err != nil {
			return secret.Version{}, err
		}
	}
	return writeVersion(tx, domain, sec, d, now, eff)
}

// limitState is the limits in force and the request limiter they make.
type limitState struct {
	Limits
	requests *requestLimiter // nil: no request rate limit
}

// SetLimits puts l in force at once, for the requests and writes that
// follow (a configuration reload). The request budgets of identities are
// kept when the rate and burst do not change, and start afresh otherwise.
func (s *Service) SetLimits(l Limits) {
	st := &limitState{Limits: l}
	if old := s.limits.Load(); old != nil && old.RequestRate == l.RequestRate && old.RequestBurst == l.RequestBurst {
		st.requests = old.requests
	} else {
		st.requests = newRequestLimiter(l)
	}
	s.limits.Store(st)
}

// requestLimiter holds a token bucket per identity.
type requestLimiter struct {
	mu     sync.Mutex
	by     map[string]*addrLimiter
	lastGC time.Time
	limit  rate.Limit
	burst  int
}

func newRequestLimiter(l Limits) *requestLimiter {
	if l.RequestRate <= 0 {
		return nil
	}
	burst := l.RequestBurst
	if burst <= 0 {
		burst = max(1, int(l.RequestRate))
	}
	return &requestLimiter{by: map[string]*addrLimiter{}, limit: rate.Limit(l.RequestRate), burst: burst}
}

// AllowRequest records a request of the authenticated principal p and
// reports whether it is within Limits.RequestRate (always, when no rate is
// set). Identities are told apart by their first identity URN (the user,
// or the account for the root), so that all the tokens of one user share
// one budget.
func (s *Service) AllowRequest(p auth.Principal) bool {
	l := s.limits.Load().requests
	if l == nil {
		return true
	}
	key := p.Name
	if len(p.Identities) > 0 {
		key = p.Identities[0]
	}
	key = strings.ToLower(key)
	now := s.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastGC) > limiterIdle {
		for k, a := range l.by {
			if now.Sub(a.last) > limiterIdle {
				delete(l.by, k)
			}
		}
		l.lastGC = now
	}
	a, ok := l.by[key]
	if !ok {
		a = &addrLimiter{lim: rate.NewLimiter(l.limit, l.burst)}
		l.by[key] = a
	}
	a.last = now
	return a.lim.AllowN(now, 1)
}
