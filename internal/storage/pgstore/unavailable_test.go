package pgstore_test

import (
	"crypto/rand"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/pgstore"
	"github.com/seed-3e8d63de/coffer/internal/storage/storagetest"
)

// proxiedStore opens a store on a fresh schema through a gate proxy.
func proxiedStore(t *testing.T, opts pgstore.Options) (*pgstore.Store, *storagetest.Gate) {
	t.Helper()
	u, _ := schemaURL(t)
	parsed, err := url.Parse(u)
	if err != nil {
		t.Skipf("COFFER_TEST_PGURL is not a URL (%v); the proxy needs host:port", err)
	}
	proxy := storagetest.NewGate(t, parsed.Host)
	parsed.Host = proxy.Addr()
	return openURL(t, parsed.String(), opts), proxy
}

// TestUnavailable_databaseDown: while the database cannot be reached,
// View and Update fail fast with storage.ErrUnavailable (never an error a
// client could mistake for its own, nor a hang); once it is back the store
// works again by itself.
func TestUnavailable_databaseDown(t *testing.T) {
	t.Parallel()
	s, proxy := proxiedStore(t, pgstore.Options{ConnectTimeout: time.Second, AcquireTimeout: 2 * time.Second})
	put := func(key string) error {
		return s.Update(t.Context(), func(tx storage.Tx) error { return tx.Put(key, []byte("v")) })
	}
	get := func(key string) error {
		return s.View(t.Context(), func(tx storage.Tx) error {
			_, err := tx.Get(key)
			return err
		})
	}
	if err := put("before"); err != nil {
		t.Fatalf("Update() = %v", err)
	}
	proxy.SetClosed(true)
	for i := range 3 {
		start := time.Now()
		err := put("during")
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("Update() %d while the database is down = %v, want storage.ErrUnavailable", i, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("Update() while the database is down took %v", d)
		}
		if err := get("before"); !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("View() %d while the database is down = %v, want storage.ErrUnavailable", i, err)
		}
	}
	t.Logf("while down: %v", put("during"))
	proxy.SetClosed(false)
	var err error
	for range 3 { // at most a dead pooled connection or two first
		if err = put("after"); err == nil {
			break
		}
		if !errors.Is(err, storage.ErrUnavailable) {
			t.Errorf("Update() just after the database came back = %v, want nil or storage.ErrUnavailable", err)
		}
	}
	if err != nil {
		t.Fatalf("Update() once the database is back = %v", err)
	}
	if err := get("during"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("View() of a key whose writes failed = %v, want storage.ErrNotFound", err)
	}
}

// TestUnavailable_poolExhausted: a transaction that waits for a free
// connection longer than AcquireTimeout fails with storage.ErrUnavailable.
func TestUnavailable_poolExhausted(t *testing.T) {
	t.Parallel()
	s := open(t, pgstore.Options{MaxConns: 1, AcquireTimeout: 300 * time.Millisecond})
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(t.Context(), func(tx storage.Tx) error {
			if _, err := tx.Get("k"); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			select {
			case holding <- struct{}{}:
			default:
			}
			<-release
			return tx.Put("k", []byte("v"))
		})
	}()
	<-holding
	start := time.Now()
	err := s.View(t.Context(), func(tx storage.Tx) error { return nil })
	close(release)
	if !errors.Is(err, storage.ErrUnavailable) || !strings.Contains(err.Error(), "no connection of the pool") {
		t.Errorf("View() with the only connection busy = %v, want storage.ErrUnavailable naming the pool", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond || d > 3*time.Second {
		t.Errorf("View() gave up after %v, want the AcquireTimeout of 300ms", d)
	}
	if err := <-done; err != nil {
		t.Errorf("the Update holding the connection = %v", err)
	}
}

// TestUnavailable_terminated: a backend terminated by an administrator
// (57P01, as a server shutdown does) on every attempt fails the Update
// with storage.ErrUnavailable; an error of the function's own does not
// carry it.
func TestUnavailable_terminated(t *testing.T) {
	t.Parallel()
	u, _ := schemaURL(t)
	app := "coffer-test-" + strings.ToLower(rand.Text()[:10])
	s := openURL(t, withParam(t, u, "application_name", app), pgstore.Options{})
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		if _, err := tx.Get("k"); err != nil && !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		if _, err := terminate(t, app); err != nil {
			return err
		}
		_, err := tx.Get("k2")
		return err
	})
	if !errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Update() terminated on every attempt = %v, want storage.ErrUnavailable", err)
	}
	own := errors.New("the function's own error")
	if err := s.Update(t.Context(), func(tx storage.Tx) error { return own }); !errors.Is(err, own) || errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Update() failing on its own = %v, want that error and not storage.ErrUnavailable", err)
	}
	if err := s.Update(t.Context(), func(tx storage.Tx) error { return tx.Put("bad\x00key", nil) }); errors.Is(err, storage.ErrUnavailable) {
		t.Errorf("Update() of an invalid key = %v: not an outage", err)
	}
}
