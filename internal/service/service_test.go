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
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/boltstore"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

// clock is a manual clock for tests: time moves only when told to.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

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

type fixture struct {
	svc    *service.Service
	clock  *clock
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
	opts := service.Options{Store: f.store, Audit: f.audit, Now: f.clock.Now, Rand: rand.Reader}
	if with != nil {
		with(&opts)
	}
	f.svc = service.New(opts)
	res, err := f.svc.Init(t.Context(), service.InitOptions{RootToken: "root-token"})
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	f.domain = res.DefaultDomain
	p, err := f.svc.Authenticate(t.Context(), "root-token")
	if err != nil {
		t.Fatalf("Authenticate(root): %v", err)
	}
	f.root = service.Caller{Principal: p, Surface: "B", RequestID: "req"}
	return f
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

// wantAudited checks that the events since mark are one call's pair: a
// request and a response event of action on resource, the response with
// outcome.
func (f *fixture) wantAudited(t *testing.T, mark int, action, resource, outcome string) {
	t.Helper()
	evs := f.since(mark)
	if len(evs) != 2 || evs[0].Phase != audit.PhaseRequest || evs[1].Phase != audit.PhaseResponse {
		t.Fatalf("audit events %+v; want one request and one response event", evs)
	}
	for _, e := range evs {
		if e.Action != action || e.Resource != resource {
			t.Errorf("audit event %s of %q on %q; want %q on %q", e.Phase, e.Action, e.Resource, action, resource)
		}
	}
	if evs[1].Outcome != outcome {
		t.Errorf("audited outcome %q (%s); want %q", evs[1].Outcome, evs[1].Reason, outcome)
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

func TestService_SecretLifecycle(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		p := secret.MustParsePath("prod/database/MySQL")
		max := uint32(2)
		s, err := f.svc.CreateSecret(ctx, f.root, f.domain, p, data(t, `{"login":"admin"}`), secret.MetadataUpdate{MaxVersions: &max})
		if err != nil || s.CurrentVersion != 1 {
			t.Fatalf("CreateSecret = %v, %v; want version 1", s, err)
		}
		if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, p, data(t, `{}`), secret.MetadataUpdate{}); !errors.Is(err, secret.ErrExists) {
			t.Fatalf("second CreateSecret error = %v, want ErrExists", err)
		}
		for i := 2; i <= 4; i++ {
			f.clock.Advance(time.Second)
			v, _, err := f.svc.PutVersion(ctx, f.root, f.domain, p, data(t, fmt.Sprintf(`{"n":%d}`, i)), service.PutOptions{CAS: u32(uint32(i - 1))})
			if err != nil || v.ID != uint32(i) {
				t.Fatalf("PutVersion #%d = %v, %v", i, v, err)
			}
		}
		vs, more, err := f.svc.ListVersions(ctx, f.root, f.domain, p, 0, 100)
		if err != nil || more || len(vs) != 2 || vs[0].ID != 3 || vs[1].ID != 4 {
			t.Fatalf("ListVersions after pruning to 2 = %v, %v, %v; want versions 3 and 4", vs, more, err)
		}
		// Pruned data is gone, not just hidden.
		if _, _, err := f.svc.GetVersion(ctx, f.root, f.domain, p, 1, true); !errors.Is(err, secret.ErrVersionNotFound) {
			t.Errorf("GetVersion(1) after pruning: %v, want ErrVersionNotFound", err)
		}
		view, err := f.svc.GetSecret(ctx, f.root, f.domain, p, service.GetOptions{IncludeData: true})
		if err != nil || view.Data == nil || string(view.Data.JSON()) != `{"n":4}` || view.Secret.OldestVersion != 3 {
			t.Fatalf("GetSecret(includeData) = %+v, %v", view, err)
		}
		if _, err := f.svc.SetVersionState(ctx, f.root, f.domain, p, 4, secret.Deleted); err != nil {
			t.Fatalf("delete version 4: %v", err)
		}
		if _, err := f.svc.SetVersionState(ctx, f.root, f.domain, p, 4, secret.Active); !errors.Is(err, secret.ErrTransition) {
			t.Errorf("reactivate a deleted version: %v, want ErrTransition", err)
		}
		view, err = f.svc.GetSecret(ctx, f.root, f.domain, p, service.GetOptions{IncludeData: true})
		if err != nil || view.Data != nil || view.Version.State != secret.Deleted {
			t.Errorf("GetSecret of a deleted current version = %+v, %v; want state deleted and no data", view, err)
		}
		if err := f.svc.DeleteSecret(ctx, f.root, f.domain, p); err != nil {
			t.Fatalf("DeleteSecret: %v", err)
		}
		if _, err := f.svc.GetSecret(ctx, f.root, f.domain, p, service.GetOptions{}); !errors.Is(err, secret.ErrNotFound) {
			t.Errorf("GetSecret after delete: %v, want ErrNotFound", err)
		}
		// Re-creating the path starts a new secret at version 1.
		s, err = f.svc.CreateSecret(ctx, f.root, f.domain, p, data(t, `{}`), secret.MetadataUpdate{})
		if err != nil || s.CurrentVersion != 1 {
			t.Errorf("re-create = %v, %v", s, err)
		}
	})
}

func TestService_LazyDeactivation(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		p := secret.MustParsePath("app/token")
		d, _ := secret.ParseDuration("1h")
		if _, err := f.svc.UpdateConfig(ctx, f.root, f.domain, secret.ConfigUpdate{DeactivateAfter: &d}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, p, data(t, `{"k":"v"}`), secret.MetadataUpdate{}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Hour - time.Nanosecond)
		view, _ := f.svc.GetSecret(ctx, f.root, f.domain, p, service.GetOptions{IncludeData: true})
		if view.Version.State != secret.Active || view.Data == nil {
			t.Fatalf("just before the deadline: state %v, data %v; want active with data", view.Version.State, view.Data != nil)
		}
		f.clock.Advance(time.Nanosecond)
		view, _ = f.svc.GetSecret(ctx, f.root, f.domain, p, service.GetOptions{IncludeData: true})
		if view.Version.State != secret.Deactivated || view.Data != nil {
			t.Fatalf("at the deadline: state %v, data %v; want deactivated without data", view.Version.State, view.Data != nil)
		}
		// Reactivation re-arms the timer from now.
		if _, err := f.svc.SetVersionState(ctx, f.root, f.domain, p, 1, secret.Active); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(59 * time.Minute)
		if v, _, _ := f.svc.GetVersion(ctx, f.root, f.domain, p, 1, false); v.State != secret.Active {
			t.Errorf("59m after reactivation: %v, want active", v.State)
		}
		f.clock.Advance(time.Minute)
		if v, _, _ := f.svc.GetVersion(ctx, f.root, f.domain, p, 1, false); v.State != secret.Deactivated {
			t.Errorf("1h after reactivation: %v, want deactivated", v.State)
		}
	})
}

func TestService_CASAndMetadataFirst(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		p := secret.MustParsePath("cas/secret")
		yes, no := true, false
		if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, p, data(t, `{"a":1}`), secret.MetadataUpdate{CASRequired: &yes}); err != nil {
			t.Fatal(err)
		}
		d := data(t, `{"a":2}`)
		tests := []struct {
			name string
			in   service.UpdateSecretInput
			want error
		}{
			{"cas required", service.UpdateSecretInput{Data: &d}, secret.ErrCASRequired},
			{"cas mismatch", service.UpdateSecretInput{Data: &d, CAS: u32(0)}, secret.ErrCASMismatch},
			{"metadata-only ignores casRequired", service.UpdateSecretInput{Metadata: &secret.MetadataUpdate{}}, nil},
			{"metadata-only checks a given cas", service.UpdateSecretInput{Metadata: &secret.MetadataUpdate{}, CAS: u32(7)}, secret.ErrCASMismatch},
			{"metadata in the same PUT applies first", service.UpdateSecretInput{Data: &d, Metadata: &secret.MetadataUpdate{CASRequired: &no}}, nil},
		}
		for _, tc := range tests {
			_, err := f.svc.UpdateSecret(ctx, f.root, f.domain, p, tc.in)
			if !errors.Is(err, tc.want) {
				t.Errorf("%s: UpdateSecret error = %v, want %v", tc.name, err, tc.want)
			}
		}
		view, _ := f.svc.GetSecret(ctx, f.root, f.domain, p, service.GetOptions{})
		if view.Secret.CurrentVersion != 2 || view.Secret.Settings.CASRequired {
			t.Errorf("after the table: version %d casRequired %v; want 2, false", view.Secret.CurrentVersion, view.Secret.Settings.CASRequired)
		}
		// The whole PUT is atomic: a CAS failure keeps the metadata too.
		if _, err := f.svc.UpdateSecret(ctx, f.root, f.domain, p, service.UpdateSecretInput{Data: &d, CAS: u32(9), Metadata: &secret.MetadataUpdate{CASRequired: &yes}}); !errors.Is(err, secret.ErrCASMismatch) {
			t.Fatalf("UpdateSecret with wrong cas: %v", err)
		}
		view, _ = f.svc.GetSecret(ctx, f.root, f.domain, p, service.GetOptions{})
		if view.Secret.Settings.CASRequired {
			t.Error("a PUT refused for CAS still changed casRequired")
		}
	})
}

func TestService_FailedCallChangesNothing(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		p := secret.MustParsePath("atomic/one")
		if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, p, data(t, `{"v":1}`), secret.MetadataUpdate{}); err != nil {
			t.Fatal(err)
		}
		f.store.on = true
		d := data(t, `{"v":2}`)
		max := uint32(1)
		if _, err := f.svc.UpdateSecret(ctx, f.root, f.domain, p, service.UpdateSecretInput{Data: &d, Metadata: &secret.MetadataUpdate{MaxVersions: &max}}); !errors.Is(err, errInjected) {
			t.Fatalf("UpdateSecret under a failing store: %v", err)
		}
		if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, secret.MustParsePath("atomic/two"), d, secret.MetadataUpdate{}); !errors.Is(err, errInjected) {
			t.Fatalf("CreateSecret under a failing store: %v", err)
		}
		f.store.on = false
		view, err := f.svc.GetSecret(ctx, f.root, f.domain, p, service.GetOptions{Version: 1, IncludeData: true})
		if err != nil || view.Secret.CurrentVersion != 1 || view.Secret.Settings.MaxVersions != 0 || string(view.Data.JSON()) != `{"v":1}` {
			t.Errorf("after failed update: %+v, %v; want version 1 unchanged", view, err)
		}
		if _, err := f.svc.GetSecret(ctx, f.root, f.domain, secret.MustParsePath("atomic/two"), service.GetOptions{}); !errors.Is(err, secret.ErrNotFound) {
			t.Errorf("a failed create left a secret: %v", err)
		}
	})
}

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

func TestService_UnknownDomain(t *testing.T) {
	f := newFixture(t, memstore.New())
	other := "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"
	p := secret.MustParsePath("x")
	if _, err := f.svc.CreateSecret(t.Context(), f.root, other, p, data(t, `{}`), secret.MetadataUpdate{}); !errors.Is(err, service.ErrDomainNotFound) {
		t.Errorf("CreateSecret in an unknown domain = %v", err)
	}
	if _, err := f.svc.GetSecret(t.Context(), f.root, other, p, service.GetOptions{}); !errors.Is(err, service.ErrDomainNotFound) {
		t.Errorf("GetSecret in an unknown domain = %v", err)
	}
	if _, err := f.svc.ListSecrets(t.Context(), f.root, other, service.ListOptions{Limit: 10}); !errors.Is(err, service.ErrDomainNotFound) {
		t.Errorf("ListSecrets in an unknown domain = %v", err)
	}
}

// TestService_ConcurrentCAS runs read-then-CAS-write loops from many
// goroutines on one secret: every acknowledged write gets a distinct
// version and none is lost.
func TestService_ConcurrentCAS(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		p := secret.MustParsePath("counter")
		if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, p, data(t, `{"n":0}`), secret.MetadataUpdate{}); err != nil {
			t.Fatal(err)
		}
		const workers, each = 8, 15
		var (
			wg  sync.WaitGroup
			mu  sync.Mutex
			ids = map[uint32]bool{}
		)
		for range workers {
			wg.Go(func() {
				for done := 0; done < each; {
					view, err := f.svc.GetSecret(ctx, f.root, f.domain, p, service.GetOptions{})
					if err != nil {
						t.Error(err)
						return
					}
					v, _, err := f.svc.PutVersion(ctx, f.root, f.domain, p, data(t, `{}`), service.PutOptions{CAS: u32(view.Secret.CurrentVersion)})
					if errors.Is(err, secret.ErrCASMismatch) {
						continue
					}
					if err != nil {
						t.Error(err)
						return
					}
					mu.Lock()
					if ids[v.ID] {
						t.Errorf("version %d acknowledged twice", v.ID)
					}
					ids[v.ID] = true
					mu.Unlock()
					done++
				}
			})
		}
		wg.Wait()
		view, _ := f.svc.GetSecret(ctx, f.root, f.domain, p, service.GetOptions{})
		if got, want := view.Secret.CurrentVersion, uint32(1+workers*each); got != want || len(ids) != workers*each {
			t.Errorf("after %d CAS writes: currentVersion %d (want %d), %d distinct ids", workers*each, got, want, len(ids))
		}
	})
}

func TestService_ListSecretsPaging(t *testing.T) {
	f := newFixture(t, memstore.New())
	ctx := t.Context()
	want := []string{}
	for i := range 25 {
		path := fmt.Sprintf("team/%02d", i)
		want = append(want, path)
		if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, secret.MustParsePath(path), data(t, `{}`), secret.MetadataUpdate{}); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	after := ""
	for pages := 0; ; pages++ {
		if pages > 10 {
			t.Fatal("paging does not end")
		}
		pg, err := f.svc.ListSecrets(ctx, f.root, f.domain, service.ListOptions{After: after, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range pg.Items {
			got = append(got, it.Secret.Path.String())
		}
		if pg.Next == "" {
			break
		}
		after = pg.Next
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("paged list = %v, want %v", got, want)
	}
}

// TestService_ListSecretsPagingFiltered pages through a domain as a caller
// whose policies grant one secret in three, with page sizes below, at and
// above the number of visible secrets: the pages together hold exactly the
// visible secrets, in order, without repeats, and only the last page has
// no cursor. Keys are read in chunks of what a page still needs, so the
// filtered keys make the service read further chunks.
func TestService_ListSecretsPagingFiltered(t *testing.T) {
	f := newFixture(t, memstore.New())
	ctx := t.Context()
	var visible []string
	for i := range 60 {
		path := fmt.Sprintf("team/%02d", i)
		if i%3 == 0 {
			path = fmt.Sprintf("team/%02d-seen", i)
			visible = append(visible, path)
		}
		if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, secret.MustParsePath(path), data(t, `{}`), secret.MetadataUpdate{}); err != nil {
			t.Fatal(err)
		}
	}
	pw := "correct horse battery"
	if _, err := f.svc.CreateUser(ctx, f.root, service.UserInput{Login: "bob", Password: &pw}); err != nil {
		t.Fatal(err)
	}
	users, err := f.svc.ListUsers(ctx, f.root)
	if err != nil || len(users) == 0 {
		t.Fatalf("ListUsers = %v, %v", users, err)
	}
	_, err = f.svc.CreatePolicy(ctx, f.root, policy.Policy{
		Name: "seen", Identities: []string{users[0].URN}, Allow: []string{"okms:apikms:secret/get"},
		Resources: []string{"*-seen"},
	})
	if err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	tok, _, err := f.svc.CreatePAT(ctx, f.root, "bob", "t", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.svc.Authenticate(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	bob := service.Caller{Principal: p, Surface: "B", RequestID: "req"}
	for _, limit := range []int{1, 2, 7, 20, 21, 100} {
		t.Run(fmt.Sprint("limit=", limit), func(t *testing.T) {
			var got []string
			after := ""
			for pages := 0; ; pages++ {
				if pages > 60 {
					t.Fatal("paging does not end")
				}
				pg, err := f.svc.ListSecrets(ctx, bob, f.domain, service.ListOptions{After: after, Limit: limit})
				if err != nil {
					t.Fatal(err)
				}
				if len(pg.Items) > limit {
					t.Fatalf("page of %d items, limit %d", len(pg.Items), limit)
				}
				for _, it := range pg.Items {
					got = append(got, it.Secret.Path.String())
				}
				if pg.Next == "" {
					break
				}
				after = pg.Next
			}
			if fmt.Sprint(got) != fmt.Sprint(visible) {
				t.Errorf("paged list = %v, want %v", got, visible)
			}
		})
	}
}

// vtEnv is the environment of the tests of the use cases the Vault surface
// added (versions_test.go, metadata_test.go, tokens_test.go,
// domains_test.go): the root calls through surface C, and other is
// authenticated but holds no right.
type vtEnv struct {
	svc    *service.Service
	clock  *clock
	audit  *recorder
	root   service.Caller
	other  service.Caller // authenticated, not the root: IAM denies everything for now
	domain string
	ctx    context.Context
}

const vtRootToken = "cof_root_vault-test"

func newVT(t *testing.T, store storage.Backend) *vtEnv {
	t.Helper()
	e := &vtEnv{clock: &clock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}, audit: &recorder{}, ctx: context.Background()}
	t.Cleanup(func() { store.Close() })
	e.svc = service.New(service.Options{Store: store, Audit: e.audit, Now: e.clock.Now})
	res, err := e.svc.Init(e.ctx, service.InitOptions{RootToken: vtRootToken})
	if err != nil {
		t.Fatal(err)
	}
	e.domain = res.DefaultDomain
	p, err := e.svc.Authenticate(e.ctx, vtRootToken)
	if err != nil {
		t.Fatal(err)
	}
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
