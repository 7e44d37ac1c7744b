package service

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/servicekey"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Options configure a [Service]. Store is required; the rest have defaults.
type Options struct {
	Store   storage.Backend
	Audit   audit.Sink       // default: discard
	Logger  *slog.Logger     // default: discard
	Now     func() time.Time // default: time.Now
	Rand    io.Reader        // default: crypto/rand
	Zone    string           // IAM zone of URNs, default "eu"
	Account string           // account name, default "coffer"
	Region  string           // the region this server runs, default "local"
	Certs   CertIssuer       // access certificates; nil disables them
	Keys    KeyOps           // service key cryptography; nil disables service keys
	// Cursors seals the pagination cursors of every list (cursors.go);
	// without it, a list that has a next page fails.
	Cursors CursorSealer
	// Regions maps each region this installation serves to its storage.
	// Empty means one region, Region, on Store.
	Regions map[string]storage.Backend
	// Limits bound secrets, versions, policies and request rates; the zero
	// value sets no limit.
	Limits Limits
	// Sealer, if set, makes the service start sealed (seal.go): Store and
	// Regions are then unused, and the Sealer's stores serve once unsealed.
	Sealer Sealer
}

// Service implements coffer's use cases. It is safe for concurrent use.
type Service struct {
	store     storage.Backend
	audit     audit.Sink
	log       *slog.Logger
	now       func() time.Time
	rand      io.Reader
	zone      string
	account   string
	region    string
	certs     CertIssuer
	keys      KeyOps
	keyRecs   keyRecordCache // decoded service key records (keycache.go)
	cursors   CursorSealer
	regions   map[string]storage.Backend // region → its storage; Store holds IAM and the domain registry
	domains   atomic.Pointer[map[string]Domain]
	bg        sync.WaitGroup
	fails     *failLimiter
	passwords *passwordGate // budgets of password checks and hashing slots (passwords.go)
	limits    atomic.Pointer[limitState]
	stop      context.CancelFunc // stops listen
	listening sync.WaitGroup

	policies      atomic.Pointer[policy.Index]
	pepper        atomic.Pointer[[]byte]
	defaultDomain atomic.Pointer[string]
	principals    principalCache // token digest → principal (authcache.go)
	hints         readHints      // secret → id and current version, for one-step reads (readhints.go)
	gate          *gate          // the sealed state (seal.go); nil without a Sealer
}

// New returns a Service over opts.Store.
func New(opts Options) *Service {
	s := &Service{
		store: opts.Store, audit: opts.Audit, log: opts.Logger, now: opts.Now, rand: opts.Rand,
		zone: opts.Zone, account: opts.Account, region: opts.Region, certs: opts.Certs, keys: opts.Keys,
		cursors: opts.Cursors,
	}
	if s.audit == nil {
		s.audit = audit.Discard{}
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.rand == nil {
		s.rand = rand.Reader
	}
	if s.zone == "" {
		s.zone = "eu"
	}
	if s.account == "" {
		s.account = "coffer"
	}
	if s.region == "" {
		s.region = "local"
	}
	s.fails = newFailLimiter()
	s.passwords = newPasswordGate()
	s.SetLimits(opts.Limits)
	s.regions = opts.Regions
	if len(s.regions) == 0 {
		s.regions = map[string]storage.Backend{s.region: opts.Store}
	}
	if opts.Sealer != nil {
		s.newGate(opts.Sealer)
		opts.Store = s.regions[s.region]
	}
	if opts.Store != nil {
		s.store = &iamWatch{Backend: opts.Store, changed: s.principalsChanged}
	}
	return s
}

// Dialect selects the action namespace of a call: the data plane
// (surfaces B and C, okms:apikms:) or the central API (surface A,
// okms:apiovh:). It never selects a behaviour.
type Dialect uint8

// Dialects.
const (
	KMS Dialect = iota
	Central
)

// Caller describes who makes a call and through which surface, for
// authorization and audit.
type Caller struct {
	Principal  auth.Principal
	Dialect    Dialect
	Surface    string // "A", "B", "C", "sys"
	RequestID  string
	RemoteAddr string
}

func (c Caller) action(suffix string) string {
	if c.Dialect == Central {
		return policy.NamespaceCentral + suffix
	}
	return policy.NamespaceKMS + suffix
}

func (s *Service) clock() time.Time { return s.now().UTC() }

// Zone returns the IAM zone used in URNs.
func (s *Service) Zone() string { return s.zone }

// Region returns the region this service runs.
func (s *Service) Region() string { return s.region }

// SecretURN returns the URN of a secret (okms-rest.md 2.7).
func (s *Service) SecretURN(domain string, p secret.Path) string {
	return policy.SecretURN(s.zone, domain, p.Escaped())
}

// DomainURN returns the URN of a domain.
func (s *Service) DomainURN(domain string) string { return policy.DomainURN(s.zone, domain) }

// allowed decides one action on one resource, without auditing.
func (s *Service) allowed(c Caller, action, resource string) bool {
	return s.decide(c, action, resource).Allowed
}

// decide evaluates IAM (iam.md 4.3) for one action on one resource: the
// account root and ADMIN users pass; others need a policy.
func (s *Service) decide(c Caller, action, resource string) policy.Decision {
	p := c.Principal
	sub := policy.Subject{Identities: p.Identities, Root: p.Root, Admin: p.Admin}
	return s.policies.Load().Evaluate(sub, action, resource, s.clock())
}

// op is one audited operation: what both audit events of its pair say.
type op struct {
	c          Caller
	resource   string
	principal  []string
	credential string
	action     string
	durable    bool
	// decision is the authorization decision of an operation that changes
	// nothing, kept for its one audit event.
	decision string
	// whileSealed: the operation is served sealed (init, unseal).
	whileSealed bool
}

func newOp(c Caller, resource string, actions ...string) *op {
	p := c.Principal
	return &op{
		c: c, resource: resource,
		principal:  slices.Clone(p.Identities),
		credential: string(p.Kind) + ":" + p.CredentialID,
		action:     joinActions(actions),
		durable:    changesState(actions),
	}
}

// begin authorizes every action on resource, in order, and writes the audit
// request event. A denial is audited and returned as ErrDenied; a failure to
// audit stops the operation (fail closed).
func (s *Service) begin(ctx context.Context, c Caller, resource string, actions ...string) (*op, error) {
	o := newOp(c, resource, actions...)
	outcome, reason, refused := audit.Allowed, "", ""
	for _, a := range actions {
		d := s.decide(c, a, resource)
		reason = d.String()
		if !d.Allowed {
			outcome, reason, refused = audit.Denied, a+": "+reason, a
			break
		}
	}
	if err := s.start(ctx, o, outcome, reason); err != nil {
		if errors.Is(err, ErrDenied) {
			return nil, &DeniedError{Action: refused, Resource: resource}
		}
		return nil, err
	}
	return o, nil
}

// start writes o's request event with the decision taken on it. When the
// event cannot be written the operation does not run (fail closed:
// ErrAuditUnavailable); a denial is audited like any other request, with
// the response event of its pair (reliability-security.md 7), and returned
// as ErrDenied.
//
// An operation that changes nothing (o.durable unset: reads, lists,
// metadata reads) has one event instead of the pair
// (audit.PhaseRequestResponse): start only keeps the decision, and end
// writes the event with the outcome, before the answer is sent.
func (s *Service) start(ctx context.Context, o *op, outcome, reason string) error {
	if err := s.sealedErr(); err != nil && !o.whileSealed {
		return err
	}
	if !o.durable {
		o.decision = reason
		if outcome == audit.Denied {
			if err := s.end(ctx, o, ErrDenied); err != nil {
				return err
			}
			return ErrDenied
		}
		return nil
	}
	if err := s.audit.Record(ctx, s.event(o, audit.PhaseRequest, outcome, reason)); err != nil {
		s.log.ErrorContext(ctx, "audit request event failed; operation refused", "err", err, "request_id", o.c.RequestID)
		return ErrAuditUnavailable
	}
	if outcome == audit.Denied {
		_ = s.end(ctx, o, ErrDenied)
		return ErrDenied
	}
	return nil
}

// end writes the audit response event. Its failure cannot undo a committed
// change: it is logged, and end returns nil. For an operation that changes
// nothing it writes the operation's one event, and its failure is
// ErrAuditUnavailable: the caller must not send the answer (fail closed).
func (s *Service) end(ctx context.Context, o *op, err error) error {
	outcome, reason := audit.Allowed, ""
	switch {
	case errors.Is(err, ErrDenied):
		outcome, reason = audit.Denied, "not allowed"
	case err != nil:
		outcome, reason = audit.Failed, reasonOf(err)
	}
	if !o.durable {
		e := s.event(o, audit.PhaseRequestResponse, outcome, reason)
		e.Decision = o.decision
		if errors.Is(err, ErrDenied) {
			e.Reason = o.decision
		}
		if aerr := s.audit.Record(ctx, e); aerr != nil {
			s.log.ErrorContext(ctx, "audit event failed; answer withheld", "err", aerr, "request_id", o.c.RequestID)
			return ErrAuditUnavailable
		}
		return nil
	}
	if aerr := s.audit.Record(ctx, s.event(o, audit.PhaseResponse, outcome, reason)); aerr != nil {
		s.log.ErrorContext(ctx, "audit response event failed", "err", aerr, "request_id", o.c.RequestID)
	}
	return nil
}

// finish ends o with fn's error err and returns what the caller must
// return: err, or ErrAuditUnavailable when the one event of an operation
// that changes nothing could not be written.
func (s *Service) finish(ctx context.Context, o *op, err error) error {
	if aerr := s.end(ctx, o, err); aerr != nil {
		return aerr
	}
	return err
}

// runList audits a list request under action without enforcing it on
// the domain: lists are filtered item by item instead (iam.md 6.1).
func (s *Service) runList(ctx context.Context, c Caller, resource, action string, fn func() error) error {
	o := newOp(c, resource, action)
	if err := s.start(ctx, o, audit.Allowed, "list, filtered per item"); err != nil {
		return err
	}
	return s.finish(ctx, o, fn())
}

// run is begin, fn, end.
func (s *Service) run(ctx context.Context, c Caller, resource string, actions []string, fn func() error) error {
	o, err := s.begin(ctx, c, resource, actions...)
	if err != nil {
		return err
	}
	return s.finish(ctx, o, fn())
}

func (s *Service) event(o *op, phase, outcome, reason string) audit.Event {
	return audit.Event{
		Time: s.clock(), Phase: phase, RequestID: o.c.RequestID, Surface: o.c.Surface,
		Principal: o.principal, Credential: o.credential,
		Action: o.action, Resource: o.resource, Outcome: outcome, Reason: reason,
		RemoteAddr: o.c.RemoteAddr, Durable: o.durable,
	}
}

// changesState reports whether an operation with these actions may change
// state: its audit events are then made durable before it proceeds
// (iam issue: fsync'd before the response for writes).
func changesState(actions []string) bool {
	for _, a := range actions {
		switch {
		case strings.HasSuffix(a, "/get"), strings.HasSuffix(a, "/getData"), strings.HasSuffix(a, "/list"):
		default:
			return true
		}
	}
	return false
}

func joinActions(as []string) string {
	switch len(as) {
	case 0:
		return ""
	case 1:
		return as[0]
	}
	out := as[0]
	for _, a := range as[1:] {
		out += "," + a
	}
	return out
}

// reasonOf summarises an error for the audit log without any value: domain
// sentinels and violations name rules, never content.
func reasonOf(err error) string {
	if vs, ok := secret.AsViolations(err); ok {
		ids := make([]string, len(vs))
		for i, v := range vs {
			ids[i] = v.ID()
		}
		return fmt.Sprint(ids)
	}
	if vs, ok := servicekey.AsViolations(err); ok {
		ids := make([]string, len(vs))
		for i, v := range vs {
			ids[i] = v.ID()
		}
		return fmt.Sprint(ids)
	}
	if isKeyError(err) && !errors.Is(err, storage.ErrIntegrity) {
		return strings.TrimPrefix(err.Error(), "servicekey: ")
	}
	for _, e := range knownErrors {
		if errors.Is(err, e) {
			return e.Error()
		}
	}
	if _, ok := errors.AsType[*LimitError](err); ok {
		return "limit"
	}
	if errors.Is(err, storage.ErrIntegrity) {
		// reliability-security.md 3: a record that does not open (altered
		// or moved) is audited as such; the caller still gets a generic 500.
		return "integrity"
	}
	return "internal error"
}

func (s *Service) newID() string {
	id, err := uuid.NewRandomFromReader(s.rand)
	if err != nil {
		// crypto/rand does not fail on supported platforms.
		panic(fmt.Sprintf("service: random id: %v", err))
	}
	return id.String()
}

// internal wraps an unexpected storage or encoding error with the
// operation's name; surfaces answer it with a generic 500.
func internal(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("service.%s: %w", op, err)
}
