package service_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

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

// TestService_DomainCountsCached checks the domain's counts on every kind
// of change, including one made in the store behind the service's back,
// and that an unchanged store is not counted again.
func TestService_DomainCountsCached(t *testing.T) {
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
				info, err := f.svc.GetDomain(ctx, f.root, f.domain)
				if err != nil {
					t.Fatalf("%s: GetDomain: %v", step, err)
				}
				if info.SecretCount != secrets || info.SecretVersionCount != versions {
					t.Errorf("%s: counts %d secrets, %d versions; want %d, %d", step, info.SecretCount, info.SecretVersionCount, secrets, versions)
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
			before := store.gets.Load()
			want("unchanged", 1, 2)
			if got := store.gets.Load() - before; withRevisions && got != 0 {
				t.Errorf("unchanged store counted again: %d secret records read", got)
			} else if !withRevisions && got == 0 {
				t.Errorf("store without revisions: counts reused")
			}
			if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, secret.MustParsePath("app/other"), data(t, `{}`), secret.MetadataUpdate{}); err != nil {
				t.Fatal(err)
			}
			want("another secret", 2, 3)
			// A change behind the service's back: the secret's records go.
			if err := mem.Update(ctx, func(tx storage.Tx) error {
				keys, err := tx.List("d/"+f.domain+"/s/app/other", "", 0)
				if err != nil {
					return err
				}
				for _, k := range keys {
					if err := tx.Delete(k); err != nil {
						return err
					}
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			want("deleted in the store", 1, 2)
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
