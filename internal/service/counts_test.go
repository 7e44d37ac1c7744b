package service_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// The domain counts are maintained by the writes (counts.go): after every
// step of a random sequence of every kind of write, on every backend, they
// equal a count by reading every secret record; concurrent writers lose no
// change; and a store written before counts were maintained (no count
// records) gets them computed once, by the first domain read.
func TestService_DomainCounts(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx, c, d := t.Context(), f.root, f.domain
		check := func(step string) {
			t.Helper()
			info, err := f.svc.GetDomain(ctx, c, d)
			if err != nil {
				t.Fatalf("%s: GetDomain: %v", step, err)
			}
			secrets, versions, err := f.svc.CountByScan(ctx, d)
			if err != nil {
				t.Fatal(err)
			}
			if info.SecretCount != secrets || info.SecretVersionCount != versions {
				t.Fatalf("%s: counts %d secrets, %d versions; a scan finds %d, %d", step, info.SecretCount, info.SecretVersionCount, secrets, versions)
			}
		}
		check("empty domain")
		rng := rand.New(rand.NewPCG(21, 21))
		three := uint32(3)
		paths := []secret.Path{secret.MustParsePath("c/a"), secret.MustParsePath("c/b"), secret.MustParsePath("c/d/e")}
		ops := []struct {
			name string
			do   func(p secret.Path) error
		}{
			{"create", func(p secret.Path) error {
				_, err := f.svc.CreateSecret(ctx, c, d, p, data(t, `{"a":1}`), secret.MetadataUpdate{})
				return err
			}},
			{"put version (create if missing)", func(p secret.Path) error {
				_, _, err := f.svc.PutVersion(ctx, c, d, p, data(t, `{"a":2}`), service.PutOptions{CreateIfMissing: true})
				return err
			}},
			{"patch version", func(p secret.Path) error {
				_, _, err := f.svc.PatchVersion(ctx, c, d, p, []byte(`{"b":3}`), nil)
				return err
			}},
			{"maxVersions 3 (prunes)", func(p secret.Path) error {
				_, err := f.svc.WriteMetadata(ctx, c, d, p, secret.MetadataUpdate{MaxVersions: &three})
				return err
			}},
			{"update with data", func(p secret.Path) error {
				dd := data(t, `{"u":1}`)
				_, err := f.svc.UpdateSecret(ctx, c, d, p, service.UpdateSecretInput{Data: &dd})
				return err
			}},
			{"delete version 1", func(p secret.Path) error {
				_, err := f.svc.SetVersionState(ctx, c, d, p, 1, secret.Deleted)
				return err
			}},
			{"deactivate version 2", func(p secret.Path) error {
				_, err := f.svc.SetVersionState(ctx, c, d, p, 2, secret.Deactivated)
				return err
			}},
			{"destroy versions 1-3", func(p secret.Path) error {
				return f.svc.SetVersionStates(ctx, c, d, p, []int64{1, 2, 3}, secret.Deleted)
			}},
			{"delete current version", func(p secret.Path) error { return f.svc.DeleteCurrentVersion(ctx, c, d, p) }},
			{"delete secret", func(p secret.Path) error { return f.svc.DeleteSecret(ctx, c, d, p) }},
		}
		for i := range 120 {
			op, p := ops[rng.IntN(len(ops))], paths[rng.IntN(len(paths))]
			op.do(p) // refusals (missing secret, version, state) must change no count either
			check(fmt.Sprintf("step %d: %s %s", i, op.name, p))
		}

		// Concurrent writers in the domain: no change lost.
		var wg sync.WaitGroup
		for w := range 8 {
			wg.Go(func() {
				for i := range 5 {
					p := secret.MustParsePath(fmt.Sprintf("conc/%d/%d", w, i))
					if _, _, err := f.svc.PutVersion(ctx, c, d, p, data(t, `{"w":1}`), service.PutOptions{CreateIfMissing: true}); err != nil {
						t.Errorf("writer %d: %v", w, err)
					}
					if i%2 == 0 {
						if err := f.svc.DeleteSecret(ctx, c, d, p); err != nil {
							t.Errorf("writer %d: %v", w, err)
						}
					}
				}
			})
		}
		wg.Wait()
		check("after concurrent writers")

		// A store from before the counts: the first read computes them once.
		base, changes := service.CountsKeys(d)
		err := f.store.Update(ctx, func(tx storage.Tx) error {
			keys, err := tx.List(changes, "", 0)
			if err != nil {
				return err
			}
			for _, k := range append(keys, base) {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		check("after an upgrade from a store without counts")
		var based bool
		f.store.View(ctx, func(tx storage.Tx) error {
			_, err := tx.Get(base)
			based = err == nil
			return nil
		})
		if !based {
			t.Error("the first read after the upgrade did not store the counts")
		}
		if _, _, err := f.svc.PutVersion(ctx, c, d, paths[0], data(t, `{"after":1}`), service.PutOptions{CreateIfMissing: true}); err != nil {
			t.Fatal(err)
		}
		check("a write after the upgrade")
	})
}
