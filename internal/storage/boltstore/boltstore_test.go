package boltstore_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/boltstore"
	"github.com/seed-3e8d63de/coffer/internal/storage/storagetest"
)

// open opens a Store at path and closes it when the test ends.
func open(tb testing.TB, path string, opts boltstore.Options) *boltstore.Store {
	tb.Helper()
	s, err := boltstore.Open(path, opts)
	if err != nil {
		tb.Fatalf("Open(%q) = %v, want nil", path, err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("Close() = %v, want nil", err)
		}
	})
	return s
}

// tempPath returns the path of a file that does not exist yet in a fresh
// temporary directory.
func tempPath(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(tb.TempDir(), "coffer.db")
}

// The grouping options change performance, never behaviour, so the suite
// runs with grouping off and with groups larger than the defaults make.
func TestStore(t *testing.T) {
	tests := []struct {
		name string
		opts boltstore.Options
	}{
		{"defaults", boltstore.Options{}},
		{"one commit per update", boltstore.Options{MaxBatchSize: 1}},
		{"large groups", boltstore.Options{MaxBatchDelay: 5 * time.Millisecond}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storagetest.Run(t, func(t *testing.T) storage.Backend {
				return open(t, tempPath(t), tc.opts)
			})
		})
	}
}

func TestStore_survivesReopen(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	want := map[string]string{"a": "1", "a/b": "2", "empty": "", "é": "3"}

	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("Open(%q) = %v, want nil", path, err)
	}
	err = s.Update(t.Context(), func(tx storage.Tx) error {
		for k, v := range want {
			if err := tx.Put(k, []byte(v)); err != nil {
				return err
			}
		}
		return tx.Put("deleted", []byte("x"))
	})
	if err != nil {
		t.Fatalf("Update() = %v, want nil", err)
	}
	if err := s.Update(t.Context(), func(tx storage.Tx) error { return tx.Delete("deleted") }); err != nil {
		t.Fatalf("Update(delete) = %v, want nil", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}

	s = open(t, path, boltstore.Options{})
	err = s.View(t.Context(), func(tx storage.Tx) error {
		keys, err := tx.List("", "", 0)
		if err != nil {
			return err
		}
		if got := strings.Join(keys, ","); got != "a,a/b,empty,é" {
			t.Errorf("List after reopen = %q, want a,a/b,empty,é", got)
		}
		for k, v := range want {
			if got, err := tx.Get(k); err != nil || string(got) != v {
				t.Errorf("Get(%q) after reopen = %q, %v; want %q, nil", k, got, err, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View() = %v, want nil", err)
	}
}

func TestOpen_lockedFailsFast(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	first, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("Open(%q) = %v, want nil", path, err)
	}

	// bbolt locks with flock(2), which conflicts between two opens of the
	// same file even within one process, so this stands in for a second
	// coffer process.
	const timeout = 100 * time.Millisecond
	start := time.Now()
	second, err := boltstore.Open(path, boltstore.Options{Timeout: timeout})
	elapsed := time.Since(start)
	if err == nil {
		second.Close()
		t.Fatalf("second Open(%q) = nil error, want ErrLocked", path)
	}
	if !errors.Is(err, boltstore.ErrLocked) {
		t.Errorf("second Open(%q) = %v, want an error wrapping ErrLocked", path, err)
	}
	if msg := err.Error(); !strings.Contains(msg, "locked by another process") || !strings.Contains(msg, path) {
		t.Errorf("second Open error %q should name the file and say it is locked by another process", msg)
	}
	if elapsed > 10*timeout {
		t.Errorf("second Open took %v with Timeout %v, want it to fail fast", elapsed, timeout)
	}

	// Close releases the lock.
	if err := first.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}
	open(t, path, boltstore.Options{Timeout: timeout})
}

func TestOpen_fileMode(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	open(t, path, boltstore.Options{})
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("Stat(%q) = %v, want nil", path, err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("mode of a new store file = %v, want -rw-------", got)
	}
}

func TestOpen_errors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
	}{
		{"missing directory", filepath.Join(dir, "missing", "coffer.db")},
		{"path is a directory", dir},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := boltstore.Open(tc.path, boltstore.Options{Timeout: 100 * time.Millisecond})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%q) = nil error, want an error", tc.path)
			}
			if !strings.Contains(err.Error(), tc.path) {
				t.Errorf("Open(%q) error %q does not name the path", tc.path, err)
			}
		})
	}
}

// BenchmarkUpdateParallel measures concurrent durable writes of 1 KiB values
// under distinct keys, with group commit and without it.
func BenchmarkUpdateParallel(b *testing.B) {
	for _, bm := range benchModes {
		b.Run(bm.name, func(b *testing.B) {
			s := open(b, tempPath(b), bm.opts)
			storagetest.BenchUpdateParallel(b, s)
			if updates, commits := s.GroupStats(); commits > 0 {
				b.ReportMetric(float64(updates)/float64(commits), "updates/commit")
			}
		})
	}
}

// BenchmarkUpdate measures the latency of one writer alone, which commits
// without sharing its fsync.
func BenchmarkUpdate(b *testing.B) {
	for _, bm := range benchModes {
		b.Run(bm.name, func(b *testing.B) {
			storagetest.BenchUpdate(b, open(b, tempPath(b), bm.opts))
		})
	}
}

// benchModes are the commit modes the write benchmarks compare.
var benchModes = []struct {
	name string
	opts boltstore.Options
}{
	{"group commit", boltstore.Options{}},
	{"one commit per update", boltstore.Options{MaxBatchSize: 1}},
}

// BenchmarkView measures concurrent reads of a 1 KiB value among 1,000 keys.
func BenchmarkView(b *testing.B) {
	storagetest.BenchView(b, open(b, tempPath(b), boltstore.Options{}))
}

func TestOpenReadOnly(t *testing.T) {
	t.Parallel()
	path := tempPath(t)
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("Open(%q) = %v, want nil", path, err)
	}
	if err := s.Update(t.Context(), func(tx storage.Tx) error { return tx.Put("k", []byte("v")) }); err != nil {
		t.Fatalf("Update() = %v, want nil", err)
	}

	// A server holding the file keeps read-only openers out.
	if ro, err := boltstore.OpenReadOnly(path, boltstore.Options{Timeout: 50 * time.Millisecond}); !errors.Is(err, boltstore.ErrLocked) {
		if err == nil {
			ro.Close()
		}
		t.Errorf("OpenReadOnly(%q) while open = %v, want ErrLocked", path, err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close() = %v, want nil", err)
	}

	ro, err := boltstore.OpenReadOnly(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("OpenReadOnly(%q) = %v, want nil", path, err)
	}
	defer ro.Close()
	// Read-only openers share the file.
	ro2, err := boltstore.OpenReadOnly(path, boltstore.Options{Timeout: 50 * time.Millisecond})
	if err != nil {
		t.Fatalf("second OpenReadOnly(%q) = %v, want nil", path, err)
	}
	ro2.Close()
	err = ro.View(t.Context(), func(tx storage.Tx) error {
		v, err := tx.Get("k")
		if err != nil || string(v) != "v" {
			t.Errorf("Get(k) read-only = %q, %v; want v", v, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View() = %v, want nil", err)
	}
	if err := ro.Update(t.Context(), func(tx storage.Tx) error { return tx.Put("k", []byte("x")) }); err == nil {
		t.Error("Update() on a read-only store = nil error, want an error")
	}
}

func TestOpenReadOnly_errors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	if s, err := boltstore.OpenReadOnly(missing, boltstore.Options{}); err == nil {
		s.Close()
		t.Errorf("OpenReadOnly(%q) of a missing file = nil error, want an error", missing)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("OpenReadOnly created %q (stat: %v), want no file", missing, err)
	}

	// A bbolt file of someone else's, without coffer's bucket.
	other := filepath.Join(dir, "other.db")
	db, err := bolt.Open(other, 0o600, nil)
	if err != nil {
		t.Fatalf("bolt.Open(%q) = %v", other, err)
	}
	db.Close()
	if s, err := boltstore.OpenReadOnly(other, boltstore.Options{}); !errors.Is(err, boltstore.ErrNotStore) {
		if err == nil {
			s.Close()
		}
		t.Errorf("OpenReadOnly(%q) of a bbolt file without the bucket = %v, want ErrNotStore", other, err)
	}
}
