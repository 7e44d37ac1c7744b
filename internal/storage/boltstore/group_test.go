package boltstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// txID returns the id of the bbolt transaction a storage.Tx of this
// package runs in.
func txID(t storage.Tx) int { return t.(*tx).b.Tx().ID() }

// blockCommits starts an Update that holds the commit in progress until
// the returned function is called, so that the Updates queued meanwhile
// form one group.
func blockCommits(t *testing.T, s *Store) (release func()) {
	t.Helper()
	entered, hold := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(t.Context(), func(tx storage.Tx) error {
			close(entered)
			<-hold
			return tx.Put("blocker", []byte("x"))
		})
	}()
	<-entered
	return func() {
		close(hold)
		if err := <-done; err != nil {
			t.Errorf("blocking Update() = %v", err)
		}
	}
}

// waitQueued waits until n Updates are queued behind the commit in
// progress.
func waitQueued(s *Store, n int) {
	for {
		s.gmu.Lock()
		q := len(s.pending)
		s.gmu.Unlock()
		if q >= n {
			return
		}
	}
}

func openTest(t *testing.T, opts Options) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "coffer.db"), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestUpdate_groupsWithoutDelay(t *testing.T) {
	s := openTest(t, Options{})
	// Alone: committed at once, in its own transaction.
	var first int
	if err := s.Update(t.Context(), func(tx storage.Tx) error { first = txID(tx); return tx.Put("a", nil) }); err != nil {
		t.Fatal(err)
	}

	release := blockCommits(t, s)
	const n = 20
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids = map[int]int{}
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.Update(t.Context(), func(tx storage.Tx) error {
				mu.Lock()
				ids[txID(tx)]++
				mu.Unlock()
				return tx.Put(fmt.Sprint("k", i), []byte("v"))
			})
			if err != nil {
				t.Errorf("Update(%d) = %v", i, err)
			}
		}()
	}
	waitQueued(s, n)
	release()
	wg.Wait()
	if len(ids) != 1 {
		t.Errorf("%d Updates queued behind one commit ran in %d transactions %v, want 1 group", n, len(ids), ids)
	}
	for id := range ids {
		if id == first {
			t.Errorf("the group reused the first transaction's id %d", id)
		}
	}
}

func TestUpdate_groupSize(t *testing.T) {
	s := openTest(t, Options{MaxBatchSize: 4})
	release := blockCommits(t, s)
	var (
		wg  sync.WaitGroup
		mu  sync.Mutex
		ids = map[int]int{}
	)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = s.Update(t.Context(), func(tx storage.Tx) error {
				mu.Lock()
				ids[txID(tx)]++
				mu.Unlock()
				return tx.Put(fmt.Sprint("k", i), []byte("v"))
			})
		}()
	}
	waitQueued(s, 10)
	release()
	wg.Wait()
	for id, n := range ids {
		if n > 4 {
			t.Errorf("transaction %d ran %d Updates, want at most MaxBatchSize 4", id, n)
		}
	}
	if len(ids) != 3 {
		t.Errorf("10 Updates in groups of at most 4 ran in %d transactions, want 3", len(ids))
	}
}

// TestUpdate_failureInGroup checks that a function that fails or panics in
// a group commits nothing, gets its own error or panic, and does not
// disturb the others.
func TestUpdate_failureInGroup(t *testing.T) {
	s := openTest(t, Options{})
	release := blockCommits(t, s)
	errBoom := errors.New("boom")
	const n = 12
	results := make([]any, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if p := recover(); p != nil {
					results[i] = p
				}
			}()
			results[i] = s.Update(t.Context(), func(tx storage.Tx) error {
				if err := tx.Put(fmt.Sprint("k", i), []byte("v")); err != nil {
					return err
				}
				switch i {
				case 3:
					return errBoom
				case 7:
					panic("kaboom")
				}
				return nil
			})
		}()
	}
	waitQueued(s, n)
	release()
	wg.Wait()
	for i, r := range results {
		switch i {
		case 3:
			if err, _ := r.(error); !errors.Is(err, errBoom) {
				t.Errorf("Update(%d) = %v, want its own error", i, r)
			}
		case 7:
			if r != "kaboom" {
				t.Errorf("Update(%d) recovered %v, want its own panic", i, r)
			}
		default:
			if r != nil {
				t.Errorf("Update(%d) = %v, want nil", i, r)
			}
		}
	}
	err := s.View(t.Context(), func(tx storage.Tx) error {
		for i := range n {
			_, err := tx.Get(fmt.Sprint("k", i))
			if failed := i == 3 || i == 7; failed != errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Get(k%d) = %v after the group; want ErrNotFound only for the failed ones", i, err)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
