package service

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/seed-3e8d63de/coffer/internal/audit"
)

// ErrTooManyRequests: the client address failed to authenticate too often
// (iam.md 7.1); it must slow down.
var ErrTooManyRequests = errors.New("service: too many failed authentications from this address")

// Failed authentications are limited per client address: 10 per second,
// bursts of 20 (iam.md 7.1).
const (
	authFailRate  = 10
	authFailBurst = 20
	// limiterIdle is how long an address's limiter is kept after its last
	// failure; idle limiters are full again by then.
	limiterIdle = time.Minute
)

// failLimiter tracks failed authentications per client address.
type failLimiter struct {
	mu     sync.Mutex
	byAddr map[string]*addrLimiter
	lastGC time.Time
	limit  rate.Limit
	burst  int
}

type addrLimiter struct {
	lim  *rate.Limiter
	last time.Time
}

func newFailLimiter() *failLimiter {
	return &failLimiter{byAddr: map[string]*addrLimiter{}, limit: authFailRate, burst: authFailBurst}
}

// AuthFailed records a failed authentication from remote (a host:port or a
// host) and reports whether that address is now over its limit, in which
// case the request is answered with ErrTooManyRequests instead.
func (s *Service) AuthFailed(remote string) bool { return s.fails.over(remote, s.now()) }

// over records one event from remote (a host:port or a host) at now and
// reports whether that address is now over its limit.
func (l *failLimiter) over(remote string, now time.Time) bool {
	return !l.limiter(hostOf(remote), now).AllowN(now, 1)
}

// reserve takes one failure from the budget of host at now, before the
// check it stands for (passwords.go): the reservation is cancelled when
// the check succeeds, and says how long to wait when the budget is spent.
func (l *failLimiter) reserve(host string, now time.Time) *rate.Reservation {
	return l.limiter(host, now).ReserveN(now, 1)
}

// limiter returns the limiter of host, forgetting those idle for
// limiterIdle.
func (l *failLimiter) limiter(host string, now time.Time) *rate.Limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastGC) > limiterIdle {
		for k, a := range l.byAddr {
			if now.Sub(a.last) > limiterIdle {
				delete(l.byAddr, k)
			}
		}
		l.lastGC = now
	}
	a, ok := l.byAddr[host]
	if !ok {
		a = &addrLimiter{lim: rate.NewLimiter(l.limit, l.burst)}
		l.byAddr[host] = a
	}
	a.last = now
	return a.lim
}

// AuditUnauthenticated records a request refused at authentication (no
// credential, or one that is unknown, expired or revoked), so that the
// audit log holds every decision, not only those about authorized
// principals. resource is what the request addressed. A failure to write
// it is logged: the request is refused anyway.
func (s *Service) AuditUnauthenticated(ctx context.Context, surface, requestID, remote, resource, reason string) {
	e := audit.Event{Time: s.clock(), Phase: audit.PhaseRequest, RequestID: requestID, Surface: surface,
		Principal: []string{}, Action: "authenticate", Resource: resource, Outcome: audit.Denied, Reason: reason,
		RemoteAddr: remote}
	if err := s.audit.Record(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "audit of a refused authentication failed", "err", err, "request_id", requestID)
	}
}
