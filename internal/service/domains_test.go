package service_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

// countingGets counts the Gets of secret records in the Views of a
// backend, keeping the revisions of its Views.
type countingGets struct {
	storage.Backend
	gets atomic.Int64
}

type countingTx struct {
	storage.Tx
	gets *atomic.Int64
}

func (c *countingGets) View(ctx context.Context, fn func(storage.Tx) error) error {
	return c.Backend.View(ctx, func(tx storage.Tx) error {
		if rev, ok := storage.RevisionOf(tx); ok {
			return fn(revisionedTx{countingTx{tx, &c.gets}, rev})
		}
		return fn(countingTx{tx, &c.gets})
	})
}

func (t countingTx) Get(key string) ([]byte, error) {
	if strings.Contains(key, "/s/") { // a secret record
		t.gets.Add(1)
	}
	return t.Tx.Get(key)
}

type revisionedTx struct {
	countingTx
	rev uint64
}

func (t revisionedTx) Revision() uint64 { return t.rev }

// TestService_DomainCountsRead checks the domain's counts on every kind
// of change, and that reading them reads no secret record, whether the
// store has revisions or not: they are maintained by the writes
// (counts.go), so their cost does not grow with the domain.
func TestService_DomainCountsRead(t *testing.T) {
	for _, withRevisions := range []bool{true, false} {
		t.Run(fmt.Sprint("revisions=", withRevisions), func(t *testing.T) {
			mem := memstore.New()
			store := &countingGets{Backend: mem}
			var backend storage.Backend = store
			if !withRevisions {
				backend = noRevisions{store}
			}
			f := newFixture(t, backend)
			ctx := t.Context()
			want := func(step string, secrets, versions int) {
				t.Helper()
				before := store.gets.Load()
				info, err := f.svc.GetDomain(ctx, f.root, f.domain)
				if err != nil {
					t.Fatalf("%s: GetDomain: %v", step, err)
				}
				if info.SecretCount != secrets || info.SecretVersionCount != versions {
					t.Errorf("%s: counts %d secrets, %d versions; want %d, %d", step, info.SecretCount, info.SecretVersionCount, secrets, versions)
				}
				if got := store.gets.Load() - before; got != 0 {
					t.Errorf("%s: reading the counts read %d secret records, want 0", step, got)
				}
			}
			p := secret.MustParsePath("app/db")
			want("empty", 0, 0)
			if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, p, data(t, `{"a":1}`), secret.MetadataUpdate{}); err != nil {
				t.Fatal(err)
			}
			want("created", 1, 1)
			if _, _, err := f.svc.PutVersion(ctx, f.root, f.domain, p, data(t, `{"a":2}`), service.PutOptions{}); err != nil {
				t.Fatal(err)
			}
			want("second version", 1, 2)
			want("unchanged", 1, 2)
			if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, secret.MustParsePath("app/other"), data(t, `{}`), secret.MetadataUpdate{}); err != nil {
				t.Fatal(err)
			}
			want("another secret", 2, 3)
			if err := f.svc.DeleteSecret(ctx, f.root, f.domain, secret.MustParsePath("app/other")); err != nil {
				t.Fatal(err)
			}
			want("deleted", 1, 2)
		})
	}
}

// noRevisions hides the revisions of a backend's Views.
type noRevisions struct{ *countingGets }

func (n noRevisions) View(ctx context.Context, fn func(storage.Tx) error) error {
	return n.Backend.View(ctx, func(tx storage.Tx) error {
		return fn(countingTx{tx, &n.gets})
	})
}

func TestService_CheckDomain(t *testing.T) {
	t.Parallel()
	eachVT(t, func(t *testing.T, e *vtEnv) {
		if err := e.svc.CheckDomain(e.ctx, e.root, e.domain); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.CheckDomain(e.ctx, e.root, "6a0f3c1e-0000-4000-8000-000000000000"); !errors.Is(err, service.ErrDomainNotFound) {
			t.Fatalf("unknown domain: %v", err)
		}
	})
}

func TestService_Domains(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		if regions := f.svc.Regions(); len(regions) != 1 || regions[0].ID != "local" || !f.svc.HasRegion("local") || f.svc.HasRegion("nope") {
			t.Errorf("Regions = %+v; want the one region, local", regions)
		}
		if cfg, err := f.svc.RegionDefaults("local"); err != nil || cfg != secret.DefaultConfig() {
			t.Errorf("RegionDefaults(local) = %+v, %v", cfg, err)
		}
		if _, err := f.svc.RegionDefaults("nope"); !errors.Is(err, service.ErrRegionNotFound) {
			t.Errorf("RegionDefaults(nope) = %v, want ErrRegionNotFound", err)
		}

		m := f.mark()
		d, err := f.svc.CreateDomain(ctx, f.root, "local", "second")
		if err != nil || d.State != service.DomainCreating || d.Region != "local" || d.DisplayName != "second" || !d.CreatedAt.Equal(f.clock.Now()) {
			t.Fatalf("CreateDomain = %+v, %v; want a CREATING domain", d, err)
		}
		f.wantAudited(t, m, "coffer:iam/domain/create", f.svc.DomainURN(d.ID), audit.Allowed)
		f.svc.Wait()
		info, err := f.svc.GetDomain(ctx, f.root, d.ID)
		if err != nil || info.State != service.DomainReady || info.SecretCount != 0 || info.SecretVersionCount != 0 {
			t.Fatalf("GetDomain once created = %+v, %v; want READY and empty", info, err)
		}
		if cfg, err := f.svc.GetConfig(ctx, f.root, d.ID); err != nil || cfg != secret.DefaultConfig() {
			t.Errorf("a new domain's configuration = %+v, %v; want the region's default", cfg, err)
		}
		for _, bad := range []struct{ region, name, want string }{
			{"nope", "x", "region"},
			{"local", "two\nlines", "displayName"},
			{"local", strings.Repeat("é", 129), "displayName"},
		} {
			_, err := f.svc.CreateDomain(ctx, f.root, bad.region, bad.name)
			if bad.want == "region" && !errors.Is(err, service.ErrRegionNotFound) || bad.want != "region" && !isInvalid(err, bad.want) {
				t.Errorf("CreateDomain(%q, %q) = %v, want an invalid %s", bad.region, bad.name, err, bad.want)
			}
		}
		list, err := f.svc.ListDomains(ctx, f.root)
		if err != nil || len(list) != 2 || list[0].ID > list[1].ID {
			t.Fatalf("ListDomains = %+v, %v; want the two domains by id", list, err)
		}

		renamed, err := f.svc.RenameDomain(ctx, f.root, d.ID, "renamed")
		if err != nil || renamed.DisplayName != "renamed" || renamed.State != service.DomainReady {
			t.Errorf("RenameDomain = %+v, %v", renamed, err)
		}
		if info, _ := f.svc.GetDomain(ctx, f.root, d.ID); info.DisplayName != "renamed" {
			t.Errorf("GetDomain after rename: %q", info.DisplayName)
		}
		unknown := "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"
		if _, err := f.svc.RenameDomain(ctx, f.root, unknown, "x"); !errors.Is(err, service.ErrDomainNotFound) {
			t.Errorf("RenameDomain(unknown) = %v, want ErrDomainNotFound", err)
		}
		if _, err := f.svc.GetDomain(ctx, f.root, unknown); !errors.Is(err, service.ErrDomainNotFound) {
			t.Errorf("GetDomain(unknown) = %v, want ErrDomainNotFound", err)
		}

		// Deleting needs the id again, and takes the domain's secrets.
		p := secret.MustParsePath("app/db")
		if _, err := f.svc.CreateSecret(ctx, f.root, d.ID, p, data(t, `{"a":1}`), secret.MetadataUpdate{}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteDomain(ctx, f.root, d.ID, ""); !errors.Is(err, service.ErrConfirmationRequired) {
			t.Errorf("DeleteDomain without confirmation = %v, want ErrConfirmationRequired", err)
		}
		if _, err := f.svc.GetSecret(ctx, f.root, d.ID, p, service.GetOptions{}); err != nil {
			t.Errorf("an unconfirmed delete touched the domain: %v", err)
		}
		m = f.mark()
		if err := f.svc.DeleteDomain(ctx, f.root, d.ID, d.ID); err != nil {
			t.Fatalf("DeleteDomain: %v", err)
		}
		f.wantAudited(t, m, "coffer:iam/domain/delete", f.svc.DomainURN(d.ID), audit.Allowed)
		if _, err := f.svc.GetDomain(ctx, f.root, d.ID); !errors.Is(err, service.ErrDomainNotFound) {
			t.Errorf("GetDomain after delete = %v, want ErrDomainNotFound", err)
		}
		if _, err := f.svc.GetSecret(ctx, f.root, d.ID, p, service.GetOptions{}); !errors.Is(err, service.ErrDomainNotFound) {
			t.Errorf("GetSecret in a deleted domain = %v, want ErrDomainNotFound", err)
		}
		if err := f.svc.DeleteDomain(ctx, f.root, d.ID, d.ID); !errors.Is(err, service.ErrDomainNotFound) {
			t.Errorf("DeleteDomain again = %v, want ErrDomainNotFound", err)
		}
		if empty, err := f.svc.IsEmpty(ctx); err != nil || !empty {
			t.Errorf("records of the deleted domain remain: IsEmpty = %v, %v", empty, err)
		}
	})
}

// TestService_DefaultDomainDeleted checks that deleting the default domain
// leaves none, and that the next domain created becomes the default.
func TestService_DefaultDomainDeleted(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		if f.svc.DefaultDomain() != f.domain {
			t.Fatalf("DefaultDomain = %q, want %q", f.svc.DefaultDomain(), f.domain)
		}
		if err := f.svc.DeleteDomain(ctx, f.root, f.domain, f.domain); err != nil {
			t.Fatal(err)
		}
		if got := f.svc.DefaultDomain(); got != "" {
			t.Errorf("DefaultDomain after its deletion = %q, want none", got)
		}
		d, err := f.svc.CreateDomain(ctx, f.root, "local", "next")
		if err != nil {
			t.Fatal(err)
		}
		f.svc.Wait()
		if got := f.svc.DefaultDomain(); got != d.ID {
			t.Errorf("DefaultDomain = %q, want the new domain %q", got, d.ID)
		}
	})
}

func TestService_DomainsAuthorization(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		bob := f.asUser(t, "bob", "")
		f.wantRefused(t, map[string]func() error{
			"coffer:iam/domain/create": func() error { _, err := f.svc.CreateDomain(ctx, bob, "local", "mine"); return err },
			"coffer:iam/domain/update": func() error { _, err := f.svc.RenameDomain(ctx, bob, f.domain, "mine"); return err },
			"coffer:iam/domain/delete": func() error { return f.svc.DeleteDomain(ctx, bob, f.domain, f.domain) },
		})
		if info, err := f.svc.GetDomain(ctx, f.root, f.domain); err != nil || info.DisplayName != "default" {
			t.Errorf("refused calls changed the domain: %+v, %v", info, err)
		}

		// Reading domains is a policy matter: resource/get, per domain.
		second, err := f.svc.CreateDomain(ctx, f.root, "local", "second")
		if err != nil {
			t.Fatal(err)
		}
		f.svc.Wait()
		if _, err := f.svc.GetDomain(ctx, bob, f.domain); !errors.Is(err, service.ErrDenied) {
			t.Errorf("GetDomain without a policy = %v, want ErrDenied", err)
		}
		if list, err := f.svc.ListDomains(ctx, bob); err != nil || len(list) != 0 {
			t.Errorf("ListDomains without a policy = %+v, %v; want an empty list", list, err)
		}
		_, err = f.svc.CreatePolicy(ctx, f.root, policy.Policy{Name: "see-second", Identities: bob.Principal.Identities[:1],
			Allow: []string{"okms:apiovh:resource/get"}, Resources: []string{f.svc.DomainURN(second.ID)}})
		if err != nil {
			t.Fatal(err)
		}
		m := f.mark()
		list, err := f.svc.ListDomains(ctx, bob)
		if err != nil || len(list) != 1 || list[0].ID != second.ID {
			t.Errorf("ListDomains with a policy on one domain = %+v, %v; want that domain", list, err)
		}
		f.wantAudited(t, m, "okms:apiovh:resource/get", f.svc.AccountURN(), audit.Allowed)
		if _, err := f.svc.GetDomain(ctx, bob, second.ID); err != nil {
			t.Errorf("GetDomain with a policy = %v", err)
		}
		if _, err := f.svc.GetDomain(ctx, bob, f.domain); !errors.Is(err, service.ErrDenied) {
			t.Errorf("GetDomain of the other domain = %v, want ErrDenied", err)
		}
	})
}
