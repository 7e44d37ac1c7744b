package service_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

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
		vs, more, err := f.svc.ListVersions(ctx, f.root, f.domain, p, "", 100)
		if err != nil || more != "" || len(vs) != 2 || vs[0].ID != 3 || vs[1].ID != 4 {
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
		pg, err := f.svc.ListSecrets(ctx, f.root, f.domain, service.ListOptions{Cursor: after, Limit: 10})
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
				pg, err := f.svc.ListSecrets(ctx, bob, f.domain, service.ListOptions{Cursor: after, Limit: limit})
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
