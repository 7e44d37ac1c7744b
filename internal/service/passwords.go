package service

import (
	"cmp"
	"context"
	"errors"
	"math"
	"net"
	"runtime"
	"sync"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/auth"
)

// Password checks (issue 13, points 2 and 4). A password check is slow on
// purpose (Argon2id), so a flood of sign-ins could exhaust the server's
// memory and CPU, and a guesser rotating addresses is slowed by no
// per-address limit. Every check of a secret presented with a name (the
// panel's password sign-in today; an OAuth2 client secret tomorrow) goes
// through [Service.checkSecret], which
//
//  1. consults, before any hashing, the failure budget of the client
//     address (iam.md 7.1: 10 per second, bursts of 20) and that of the
//     login (a few free failures, then an exponential delay capped at
//     maxLoginDelay), reserving one failure in each: a refused attempt is
//     ErrTooManyRequests with the time to wait;
//  2. runs the check in one of a few hashing slots (as many as the CPUs);
//     a check that waits longer than slotWait for one is ErrBusy;
//  3. keeps a failure against both budgets, or hands both reservations
//     back on success, and audits the attempt (action "authenticate").
//
// An attacker can slow sign-ins to a login but never lock it out for good:
// the delay is capped and forgotten after a quiet period, and a client
// address that signed in to the login successfully keeps a budget of its
// own, which failures from elsewhere do not touch.

// ErrBusy: every password-hashing slot stayed taken while the request
// waited; the client should try again shortly.
var ErrBusy = errors.New("service: too many password checks in progress")

// RetryError is a refusal the client may retry after a while:
// ErrTooManyRequests or ErrBusy, with the time to wait.
type RetryError struct {
	Err   error
	After time.Duration
}

func (e *RetryError) Error() string { return e.Err.Error() }

// Unwrap returns ErrTooManyRequests or ErrBusy.
func (e *RetryError) Unwrap() error { return e.Err }

// RetryAfter returns the whole seconds a client should wait before trying
// again after err (at least 1), for a Retry-After header; ok is false when
// err does not say.
func RetryAfter(err error) (seconds int, ok bool) {
	re, ok := errors.AsType[*RetryError](err)
	if !ok {
		return 0, false
	}
	return max(1, int(math.Ceil(re.After.Seconds()))), true
}

// Budget and slot settings.
const (
	// freeLoginFailures are the failures of a login (or of a trusted
	// address on it) before delays begin.
	freeLoginFailures = 5
	// firstLoginDelay is the delay after the first failure beyond the free
	// ones; each further failure doubles it, up to maxLoginDelay.
	firstLoginDelay = time.Second
	maxLoginDelay   = 15 * time.Minute
	// loginQuiet: a budget without a failure for that long is forgotten.
	loginQuiet = time.Hour
	// trustedFor is how long a client address stays trusted for a login
	// after a successful sign-in from it; maxTrusted bounds them per login.
	trustedFor = 30 * 24 * time.Hour
	maxTrusted = 8
	// maxBudgets bounds the budgets kept; beyond, new logins are not
	// tracked (the address limit and the hashing slots still hold).
	maxBudgets = 100_000
	// slotWait is how long a check waits for a hashing slot.
	slotWait = 500 * time.Millisecond
	// busyRetry is the Retry-After of ErrBusy.
	busyRetry = time.Second
)

// Audit reasons of password checks; the server counts refusals by them
// (coffer_login_throttled_total).
const (
	ReasonWrongPassword  = "wrong login or password"
	ReasonLoginDelayed   = "login delayed after repeated failures"
	ReasonAddressLimited = "too many failures from this address"
	ReasonBusy           = "password checks busy"
)

// loginBudget is the failure budget of a login, or of a login from a
// trusted address.
type loginBudget struct {
	failures int       // failures since the last success (or quiet period)
	inflight int       // checks under way, each holding a reservation
	next     time.Time // no check before
	last     time.Time // last failure
}

// passwordGate holds the budgets and the hashing slots. It is safe for
// concurrent use.
type passwordGate struct {
	slots   chan struct{}
	mu      sync.Mutex
	budgets map[string]*loginBudget         // login, or login + "\x00" + trusted address
	trusted map[string]map[string]time.Time // login → address → trusted until
	lastGC  time.Time
}

func newPasswordGate() *passwordGate {
	return &passwordGate{slots: make(chan struct{}, max(1, runtime.GOMAXPROCS(0))),
		budgets: map[string]*loginBudget{}, trusted: map[string]map[string]time.Time{}}
}

// hostOf is the address part of a remote address (host:port or host).
func hostOf(remote string) string {
	if host, _, err := net.SplitHostPort(remote); err == nil {
		return host
	}
	return remote
}

// budgetKey is the budget an attempt on login from host draws on: the
// host's own if it is trusted for the login, else the login's.
func (g *passwordGate) budgetKey(login, host string, now time.Time) string {
	if until, ok := g.trusted[login][host]; ok && now.Before(until) {
		return login + "\x00" + host
	}
	return login
}

// reserve takes one failure from the budget of key, or returns how long
// to wait. g.mu is held.
func (g *passwordGate) reserve(key string, now time.Time) (time.Duration, bool) {
	b := g.budgets[key]
	if b == nil {
		if len(g.budgets) >= maxBudgets {
			g.gc(now)
		}
		if len(g.budgets) >= maxBudgets {
			return 0, true // untracked: the address limit and the slots still hold
		}
		b = &loginBudget{}
		g.budgets[key] = b
	}
	switch {
	case now.Before(b.next):
		return b.next.Sub(now), false
	case b.failures+b.inflight < freeLoginFailures, b.inflight == 0:
		// Within the free failures, checks may run side by side; beyond,
		// one at a time, once its delay is over.
		b.inflight++
		return 0, true
	}
	return firstLoginDelay, false
}

// settle ends a reservation of key: a failure is kept (with the delay it
// brings), a success clears the budget.
func (g *passwordGate) settle(key string, failed bool, now time.Time) {
	b := g.budgets[key]
	if b == nil {
		return
	}
	b.inflight--
	if !failed {
		if b.inflight == 0 {
			delete(g.budgets, key)
		} else {
			b.failures, b.next = 0, time.Time{}
		}
		return
	}
	b.failures++
	b.last = now
	if over := b.failures - freeLoginFailures; over > 0 {
		d := maxLoginDelay
		if over <= 20 {
			d = min(maxLoginDelay, firstLoginDelay<<(over-1))
		}
		b.next = now.Add(d)
	}
}

// trust marks host as trusted for login after a successful sign-in.
func (g *passwordGate) trust(login, host string, now time.Time) {
	m := g.trusted[login]
	if m == nil {
		m = map[string]time.Time{}
		g.trusted[login] = m
	}
	if _, ok := m[host]; !ok && len(m) >= maxTrusted {
		oldest := ""
		for h, until := range m {
			if oldest == "" || until.Before(m[oldest]) {
				oldest = h
			}
		}
		delete(m, oldest)
	}
	m[host] = now.Add(trustedFor)
}

// gc forgets quiet budgets and expired trust. g.mu is held.
func (g *passwordGate) gc(now time.Time) {
	g.lastGC = now
	for k, b := range g.budgets {
		if b.inflight == 0 && now.Sub(b.last) > loginQuiet && !now.Before(b.next) {
			delete(g.budgets, k)
		}
	}
	for login, m := range g.trusted {
		for h, until := range m {
			if !now.Before(until) {
				delete(m, h)
			}
		}
		if len(m) == 0 {
			delete(g.trusted, login)
		}
	}
}

// DelayedLogins returns the number of logins (or trusted addresses of a
// login) whose next sign-in is delayed now, for /metrics.
func (s *Service) DelayedLogins() int {
	g, now := s.passwords, s.now()
	g.mu.Lock()
	defer g.mu.Unlock()
	n := 0
	for _, b := range g.budgets {
		if now.Before(b.next) {
			n++
		}
	}
	return n
}

// hashSlot waits up to slotWait for a hashing slot and returns its
// release, or ErrBusy.
func (s *Service) hashSlot(ctx context.Context) (func(), error) {
	g := s.passwords
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, nil
	default:
	}
	t := time.NewTimer(slotWait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return func() { <-g.slots }, nil
	case <-t.C:
		return nil, &RetryError{Err: ErrBusy, After: busyRetry}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// hashPassword is auth.HashPassword in a hashing slot.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	release, err := s.hashSlot(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	return auth.HashPassword(password)
}

// Attempt is one presentation of a secret with a name: a password
// sign-in, or any other route that checks a secret a caller presents.
type Attempt struct {
	// Login is the name presented: a user's login, a client id.
	Login string
	// Resource names the identity in the audit log when it exists ("" for
	// an unknown login: the name a client typed is not logged, as it may
	// be a password typed in the wrong field).
	Resource string
	// Surface, RequestID and RemoteAddr are the request's.
	Surface, RequestID, RemoteAddr string
	// Kind is the kind of credential checked, for the audit log; default
	// a password.
	Kind auth.Kind
}

// checkSecret runs check, which compares the secret presented with what is
// stored (a hash, hashed set, or a digest), behind the budgets and the
// hashing slots described at the top of this file, and audits the
// attempt. check returns nil on a match, ErrLoginFailed on a mismatch,
// any other error for a failure that is not the caller's (which keeps no
// failure). principal names who signed in, for the audit of a success.
func (s *Service) checkSecret(ctx context.Context, a Attempt, hashed bool, check func() (principal []string, err error)) error {
	now, g := s.now(), s.passwords
	host := hostOf(a.RemoteAddr)
	g.mu.Lock()
	if now.Sub(g.lastGC) > limiterIdle {
		g.gc(now)
	}
	key := g.budgetKey(a.Login, host, now)
	wait, ok := g.reserve(key, now)
	g.mu.Unlock()
	if !ok {
		s.auditAttempt(ctx, a, nil, audit.Denied, ReasonLoginDelayed)
		return &RetryError{Err: ErrTooManyRequests, After: wait}
	}
	addr := s.fails.reserve(host, now)
	if !addr.OK() || addr.DelayFrom(now) > 0 {
		wait := addr.DelayFrom(now)
		addr.CancelAt(now)
		s.settleAttempt(key, false, "", now)
		s.auditAttempt(ctx, a, nil, audit.Denied, ReasonAddressLimited)
		return &RetryError{Err: ErrTooManyRequests, After: max(wait, time.Second)}
	}
	var release func()
	if hashed {
		var err error
		if release, err = s.hashSlot(ctx); err != nil {
			addr.CancelAt(now)
			s.settleAttempt(key, false, "", now)
			s.auditAttempt(ctx, a, nil, audit.Denied, ReasonBusy)
			return err
		}
	}
	principal, err := check()
	if release != nil {
		release()
	}
	switch {
	case errors.Is(err, ErrLoginFailed):
		s.settleAttempt(key, true, "", s.now())
		s.auditAttempt(ctx, a, nil, audit.Denied, ReasonWrongPassword)
	case err != nil:
		addr.CancelAt(now)
		s.settleAttempt(key, false, "", s.now())
	default:
		addr.CancelAt(now)
		s.settleAttempt(key, false, a.Login+"\x00"+host, s.now())
		s.auditAttempt(ctx, a, principal, audit.Allowed, string(cmp.Or(a.Kind, auth.KindPassword)))
	}
	return err
}

// settleAttempt ends the reservation of key; trust, when set, is the login
// and address of a success to trust.
func (s *Service) settleAttempt(key string, failed bool, trust string, now time.Time) {
	g := s.passwords
	g.mu.Lock()
	defer g.mu.Unlock()
	g.settle(key, failed, now)
	if login, host, ok := cutTrust(trust); ok {
		g.trust(login, host, now)
	}
}

func cutTrust(s string) (login, host string, ok bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == 0 {
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}

// auditAttempt records a password check: one event, action
// "authenticate", never the secret nor a login that does not exist.
func (s *Service) auditAttempt(ctx context.Context, a Attempt, principal []string, outcome, reason string) {
	resource := a.Resource
	if resource == "" {
		resource = "unknown login"
	}
	if principal == nil {
		principal = []string{}
	}
	kind := cmp.Or(a.Kind, auth.KindPassword)
	e := audit.Event{Time: s.clock(), Phase: audit.PhaseRequest, RequestID: a.RequestID, Surface: a.Surface,
		Principal: principal, Credential: string(kind), Action: "authenticate", Resource: resource,
		Outcome: outcome, Reason: reason, RemoteAddr: a.RemoteAddr}
	if err := s.audit.Record(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "audit of a password check failed", "err", err, "request_id", a.RequestID)
	}
}
