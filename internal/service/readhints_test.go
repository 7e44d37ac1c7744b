package service_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

// countingStore counts the read steps the service takes: Views and
// GetMany calls.
type countingStore struct {
	storage.Backend
	views, getManys atomic.Int64
}

func (c *countingStore) View(ctx context.Context, fn func(storage.Tx) error) error {
	c.views.Add(1)
	return c.Backend.View(ctx, fn)
}

func (c *countingStore) GetMany(ctx context.Context, keys []string) ([][]byte, error) {
	c.getManys.Add(1)
	return storage.GetMany(ctx, c.Backend, keys)
}

// A read of a secret with its data takes one step of the store (one
// GetMany: one statement on PostgreSQL) once the node has read the secret
// before; after a new version, a deletion or a re-creation the first read
// takes one more step (a View) and still returns the current state.
func TestService_ReadInOneStep(t *testing.T) {
	store := &countingStore{Backend: memstore.New()}
	f := newFixture(t, store)
	ctx, c, d := t.Context(), f.root, f.domain
	p := secret.MustParsePath("hint/s")
	if _, err := f.svc.CreateSecret(ctx, c, d, p, data(t, `{"v":1}`), secret.MetadataUpdate{}); err != nil {
		t.Fatal(err)
	}
	read := func(version uint32) (string, uint32) {
		t.Helper()
		view, err := f.svc.GetSecret(ctx, c, d, p, service.GetOptions{IncludeData: true, Version: version})
		if err != nil {
			t.Fatalf("GetSecret(version %d) = %v", version, err)
		}
		if view.Data == nil {
			return "", view.Version.ID
		}
		return string(view.Data.JSON()), view.Version.ID
	}
	steps := func() (views, getManys int64) {
		v, g := store.views.Swap(0), store.getManys.Swap(0)
		return v, g
	}
	tests := []struct {
		name        string
		before      func()
		version     uint32
		wantData    string
		wantVersion uint32
		wantViews   int64
	}{
		{"first read: no hint yet", nil, 0, `{"v":1}`, 1, 1},
		{"second read: one step", nil, 0, `{"v":1}`, 1, 0},
		{"a version by number: one step", nil, 1, `{"v":1}`, 1, 0},
		{"after a new version: the stale hint costs a View", func() {
			if _, _, err := f.svc.PutVersion(ctx, c, d, p, data(t, `{"v":2}`), service.PutOptions{}); err != nil {
				t.Fatal(err)
			}
		}, 0, `{"v":2}`, 2, 1},
		{"then one step again", nil, 0, `{"v":2}`, 2, 0},
		{"the former version by number", nil, 1, `{"v":1}`, 1, 0},
		{"a deactivated version: no data, one step", func() {
			if _, err := f.svc.SetVersionState(ctx, c, d, p, 2, secret.Deactivated); err != nil {
				t.Fatal(err)
			}
		}, 0, ``, 2, 0},
		{"created again at the same path: never the former data", func() {
			if err := f.svc.DeleteSecret(ctx, c, d, p); err != nil {
				t.Fatal(err)
			}
			if _, err := f.svc.CreateSecret(ctx, c, d, p, data(t, `{"v":"new"}`), secret.MetadataUpdate{}); err != nil {
				t.Fatal(err)
			}
		}, 0, `{"v":"new"}`, 1, 1},
		{"and one step again", nil, 0, `{"v":"new"}`, 1, 0},
	}
	for _, tc := range tests {
		if tc.before != nil {
			tc.before()
		}
		steps()
		got, version := read(tc.version)
		views, getManys := steps()
		if got != tc.wantData || version != tc.wantVersion {
			t.Errorf("%s: read %q at version %d, want %q at %d", tc.name, got, version, tc.wantData, tc.wantVersion)
		}
		if views != tc.wantViews || getManys != 1 {
			t.Errorf("%s: %d Views and %d GetMany calls, want %d and 1", tc.name, views, getManys, tc.wantViews)
		}
	}
}
