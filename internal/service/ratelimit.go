package service

import (
	"errors"
	"net"
	"sync"
	"time"

	"golang.org/x/time/rate"
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
func (s *Service) AuthFailed(remote string) bool {
	host, _, err := net.SplitHostPort(remote)
	if err != nil {
		host = remote
	}
	now := time.Now()
	l := s.fails
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
	return !a.lim.AllowN(now, 1)
}
