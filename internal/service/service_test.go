package service_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/crypto/keyops"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/boltstore"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// newClock returns the manual clock of a service test.
func newClock() *testenv.Clock { return testenv.NewClock(time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)) }

// recorder is an audit sink that keeps events, and fails when told to.
type recorder struct {
	mu     sync.Mutex
	events []audit.Event
	fail   bool
}

func (r *recorder) Record(_ context.Context, e audit.Event) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail {
		return errors.New("audit disk full")
	}
	r.events = append(r.events, e)
	return nil
}

// last returns the last event recorded.
func (r *recorder) last() audit.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events[len(r.events)-1]
}

// failAfter runs each Update's function, then fails the transaction, so
// that the function's writes are staged and must be rolled back.
type failAfter struct {
	storage.Backend
	on bool
}

var errInjected = errors.New("injected storage failure")

func (f *failAfter) Update(ctx context.Context, fn func(storage.Tx) error) error {
	if !f.on {
		return f.Backend.Update(ctx, fn)
	}
	return f.Backend.Update(ctx, func(tx storage.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errInjected
	})
}

// GetMany keeps the wrapped backend's one-step reads (storage.MultiGetter).
func (f *failAfter) GetMany(ctx context.Context, keys []string) ([][]byte, error) {
	return storage.GetMany(ctx, f.Backend, keys)
}

type fixture struct {
	svc    *service.Service
	clock  *testenv.Clock
	audit  *recorder
	store  *failAfter
	domain string
	root   service.Caller
}

// backends are the stores every service behaviour runs on.
var backends = map[string]func(t *testing.T) storage.Backend{
	"memstore": func(*testing.T) storage.Backend { return memstore.New() },
	"boltstore": func(t *testing.T) storage.Backend {
		b, err := boltstore.Open(filepath.Join(t.TempDir(), "coffer.db"), boltstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		return b
	},
}

func newFixture(t *testing.T, backend storage.Backend) *fixture {
	t.Helper()
	return newFixtureWith(t, backend, nil)
}

// newFixtureWith is newFixture with options set by with (limits, a
// certificate issuer) before the service is made.
func newFixtureWith(t *testing.T, backend storage.Backend, with func(*service.Options)) *fixture {
	t.Helper()
	t.Cleanup(func() { backend.Close() })
	f := &fixture{clock: newClock(), audit: &recorder{}, store: &failAfter{Backend: backend}}
	opts := service.Options{Store: f.store, Audit: f.audit, Now: f.clock.Now, Rand: rand.Reader, Keys: keyops.New(nil)}
	if with != nil {
		with(&opts)
	}
	var p auth.Principal
	f.svc, f.domain, p = startService(t, opts, "root-token")
	f.root = service.Caller{Principal: p, Surface: "B", RequestID: "req"}
	return f
}

// startService makes a service over opts, initialises it with rootToken
// and returns it with its default domain and the root's principal.
func startService(t *testing.T, opts service.Options, rootToken string) (*service.Service, string, auth.Principal) {
	t.Helper()
	if opts.Cursors == nil {
		opts.Cursors = crypto.NewTokenSealer("coffer list cursors")
	}
	svc := service.New(opts)
	res, err := svc.Init(t.Context(), service.InitOptions{RootToken: rootToken})
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	p, err := svc.Authenticate(t.Context(), rootToken)
	if err != nil {
		t.Fatalf("Authenticate(root): %v", err)
	}
	return svc, res.DefaultDomain, p
}

func eachBackend(t *testing.T, test func(t *testing.T, f *fixture)) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, newFixture(t, open(t)))
		})
	}
}

// mark returns the position of the next audit event, for since.
func (f *fixture) mark() int {
	f.audit.mu.Lock()
	defer f.audit.mu.Unlock()
	return len(f.audit.events)
}

// since returns the audit events recorded from mark on.
func (f *fixture) since(mark int) []audit.Event {
	f.audit.mu.Lock()
	defer f.audit.mu.Unlock()
	return append([]audit.Event(nil), f.audit.events[mark:]...)
}

// wantAudited checks that the events since mark are one call's audit: a
// request and a response event of action on resource, the response with
// outcome, for an operation that may change something; one event carrying
// the decision and the outcome for an operation that changes nothing.
func (f *fixture) wantAudited(t *testing.T, mark int, action, resource, outcome string) {
	t.Helper()
	evs := f.since(mark)
	single := len(evs) == 1 && evs[0].Phase == audit.PhaseRequestResponse && evs[0].Decision != ""
	if !single && (len(evs) != 2 || evs[0].Phase != audit.PhaseRequest || evs[1].Phase != audit.PhaseResponse) {
		t.Fatalf("audit events %+v; want one request and one response event, or one request+response event with its decision", evs)
	}
	for _, e := range evs {
		if e.Action != action || e.Resource != resource {
			t.Errorf("audit event %s of %q on %q; want %q on %q", e.Phase, e.Action, e.Resource, action, resource)
		}
	}
	if last := evs[len(evs)-1]; last.Outcome != outcome {
		t.Errorf("audited outcome %q (%s); want %q", last.Outcome, last.Reason, outcome)
	}
}

// wantRefused runs each call, keyed by the action it is audited under, and
// checks that it returns ErrDenied with a denied audit pair of that action.
func (f *fixture) wantRefused(t *testing.T, calls map[string]func() error) {
	t.Helper()
	for action, call := range calls {
		m := f.mark()
		if err := call(); !errors.Is(err, service.ErrDenied) {
			t.Errorf("%s = %v, want ErrDenied", action, err)
		}
		evs := f.since(m)
		single := len(evs) == 1 && evs[0].Phase == audit.PhaseRequestResponse && evs[0].Action == action &&
			evs[0].Outcome == audit.Denied && evs[0].Decision != ""
		if !single && (len(evs) != 2 || evs[0].Action != action || evs[0].Outcome != audit.Denied || evs[1].Outcome != audit.Denied) {
			t.Errorf("%s refused: audit events %+v; want a denied pair, or one denied request+response event", action, evs)
		}
	}
}

// asUser creates a user, in group unless it is empty, with a personal
// access token, and returns the caller that token authenticates (surface
// B). The user has no password: hashing one is deliberately slow.
func (f *fixture) asUser(t *testing.T, login, group string) service.Caller {
	t.Helper()
	ctx := t.Context()
	in := service.UserInput{Login: login}
	if group != "" {
		in.Group = &group
	}
	if _, err := f.svc.CreateUser(ctx, f.root, in); err != nil {
		t.Fatalf("CreateUser(%s): %v", login, err)
	}
	tok, _, err := f.svc.CreatePAT(ctx, f.root, login, "test", "", time.Time{})
	if err != nil {
		t.Fatalf("CreatePAT(%s): %v", login, err)
	}
	p, err := f.svc.Authenticate(ctx, tok)
	if err != nil {
		t.Fatalf("Authenticate(%s's token): %v", login, err)
	}
	return service.Caller{Principal: p, Surface: "B", RequestID: "req-" + login}
}

// str returns a pointer to s.
func str(s string) *string { return &s }

func data(t *testing.T, s string) secret.Data {
	t.Helper()
	d, err := secret.ParseData([]byte(s))
	if err != nil {
		t.Fatalf("ParseData(%s): %v", s, err)
	}
	return d
}

func u32(n uint32) *uint32 { return &n }

func TestService_AuditAndAuthorization(t *testing.T) {
	f := newFixture(t, memstore.New())
	ctx := t.Context()
	p := secret.MustParsePath("audited/secret")
	before := len(f.audit.events)
	if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, p, data(t, `{"password":"CANARY-audit"}`), secret.MetadataUpdate{}); err != nil {
		t.Fatal(err)
	}
	evs := f.audit.events[before:]
	if len(evs) != 2 || evs[0].Phase != audit.PhaseRequest || evs[1].Phase != audit.PhaseResponse ||
		evs[0].Action != "okms:apikms:secret/create" || evs[1].Outcome != audit.Allowed {
		t.Fatalf("audit events of a create = %+v; want a request and a response event", evs)
	}
	if evs[0].Resource != f.svc.SecretURN(f.domain, p) {
		t.Errorf("audited resource %q, want the secret URN", evs[0].Resource)
	}
	for _, e := range f.audit.events {
		if fmt.Sprint(e) != "" && containsCanary(fmt.Sprintf("%+v", e)) {
			t.Errorf("audit event holds a value: %+v", e)
		}
	}

	// A principal without rights is denied before any read: the same
	// answer whether or not the secret exists.
	nobody := service.Caller{Principal: auth.Principal{Identities: []string{"urn:v1:eu:identity:user:coffer/bob"}, Name: "bob"}}
	for _, path := range []string{"audited/secret", "does/not/exist"} {
		_, err := f.svc.GetSecret(ctx, nobody, f.domain, secret.MustParsePath(path), service.GetOptions{})
		if !errors.Is(err, service.ErrDenied) {
			t.Errorf("GetSecret(%s) by a principal without rights = %v, want ErrDenied", path, err)
		}
	}
	last := f.audit.events[len(f.audit.events)-1]
	if last.Outcome != audit.Denied {
		t.Errorf("denial audited as %q, want denied", last.Outcome)
	}
	// Fail closed: without audit, nothing runs.
	f.audit.fail = true
	_, err := f.svc.CreateSecret(ctx, f.root, f.domain, secret.MustParsePath("audited/other"), data(t, `{}`), secret.MetadataUpdate{})
	if !errors.Is(err, service.ErrAuditUnavailable) {
		t.Fatalf("CreateSecret with a failing audit sink = %v, want ErrAuditUnavailable", err)
	}
	f.audit.fail = false
	if _, err := f.svc.GetSecret(ctx, f.root, f.domain, secret.MustParsePath("audited/other"), service.GetOptions{}); !errors.Is(err, secret.ErrNotFound) {
		t.Errorf("a create refused for audit left a secret: %v", err)
	}
}

func containsCanary(s string) bool { return len(s) > 0 && contains(s, "CANARY") }

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

// vtEnv is the environment of the tests of the use cases the Vault surface
// added (versions_test.go, metadata_test.go, tokens_test.go,
// domains_test.go): the root calls through surface C, and other is
// authenticated but holds no right.
type vtEnv struct {
	svc    *service.Service
	clock  *testenv.Clock
	audit  *recorder
	root   service.Caller
	other  service.Caller // authenticated, not the root: IAM denies everything for now
	domain string
	ctx    context.Context
}

const vtRootToken = "cof_root_vault-test"

func newVT(t *testing.T, store storage.Backend) *vtEnv {
	t.Helper()
	e := &vtEnv{clock: testenv.NewClock(time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)), audit: &recorder{}, ctx: context.Background()}
	t.Cleanup(func() { store.Close() })
	var p auth.Principal
	e.svc, e.domain, p = startService(t, service.Options{Store: store, Audit: e.audit, Now: e.clock.Now}, vtRootToken)
	e.root = service.Caller{Principal: p, Dialect: service.KMS, Surface: "C"}
	e.other = service.Caller{Principal: auth.Principal{Identities: []string{"urn:v1:eu:identity:user:coffer/bob"}, Name: "bob"},
		Dialect: service.KMS, Surface: "C"}
	return e
}

// eachVT runs test on a vtEnv of every backend.
func eachVT(t *testing.T, test func(t *testing.T, e *vtEnv)) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, newVT(t, open(t)))
		})
	}
}

func (e *vtEnv) put(t *testing.T, path, data string) secret.Version {
	t.Helper()
	d, err := secret.ParseData([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := e.svc.PutVersion(e.ctx, e.root, e.domain, secret.MustParsePath(path), d, service.PutOptions{CreateIfMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (e *vtEnv) view(t *testing.T, path string, version uint32) service.SecretView {
	t.Helper()
	v, err := e.svc.GetSecret(e.ctx, e.root, e.domain, secret.MustParsePath(path), service.GetOptions{Version: version, IncludeData: true})
	if err != nil {
		t.Fatalf("GetSecret(%s, %d): %v", path, version, err)
	}
	return v
}

func vtCAS(n uint32) *uint32 { return &n }
