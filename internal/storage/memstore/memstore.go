package memstore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Store is an in-memory, ordered, transactional key-value store.
//
// The zero value is an empty store ready to use. A Store is safe for
// concurrent use and must not be copied after first use. Values are copied
// in by Put and out by Get: no slice is ever shared with a caller. A
// transaction's function must not start another transaction on the same
// Store, nor Close it: it would wait for the lock it is holding.
type Store struct {
	mu     sync.RWMutex
	closed bool
	// keys holds every key of vals in byte-wise ascending order, so List is
	// a binary search followed by a scan instead of a sort of the whole map.
	keys []string
	vals map[string][]byte
	// rev counts the Updates committed: the revision of a View.
	rev uint64
}

var (
	_ storage.Backend     = (*Store)(nil)
	_ storage.MultiGetter = (*Store)(nil)
)

// New returns an empty Store. It is the same as new(Store) and exists so
// that every backend is made by a constructor.
func New() *Store {
	return &Store{}
}

// errTxDone is returned by a Tx used after the function it was passed to has
// returned, which the storage contract forbids. Without it a late write
// would land in a discarded overlay, or race with the next transaction.
var errTxDone = errors.New("memstore: transaction used after its function returned")

// View runs fn under the read lock, so fn sees a consistent snapshot while
// other Views run concurrently and Updates wait. It returns fn's error, an
// error wrapping [storage.ErrClosed] after Close, or one wrapping ctx.Err()
// if ctx is done before fn runs; in those two cases fn is not called.
// A panic in fn propagates to the caller.
func (s *Store) View(ctx context.Context, fn func(storage.Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.usable(ctx); err != nil {
		return fmt.Errorf("memstore.View: %w", err)
	}
	t := &viewTx{tx: tx{s: s}, rev: s.rev}
	defer t.end()
	return fn(t)
}

// GetMany implements [storage.MultiGetter]: the keys are read under one
// read lock, so they come from one committed state.
func (s *Store) GetMany(ctx context.Context, keys []string) ([][]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.usable(ctx); err != nil {
		return nil, fmt.Errorf("memstore.GetMany: %w", err)
	}
	out := make([][]byte, len(keys))
	for i, k := range keys {
		if v, ok := s.vals[k]; ok {
			out[i] = append(make([]byte, 0, len(v)), v...)
		}
	}
	return out, nil
}

// Update runs fn under the write lock with its writes staged in an overlay,
// then applies them if fn returned nil. It returns fn's error unchanged, an
// error wrapping [storage.ErrClosed] after Close, or one wrapping ctx.Err()
// if ctx is done before fn runs; in those two cases fn is not called.
// fn runs exactly once. A panic in fn propagates to the caller and nothing
// fn wrote is kept.
func (s *Store) Update(ctx context.Context, fn func(storage.Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.usable(ctx); err != nil {
		return fmt.Errorf("memstore.Update: %w", err)
	}
	t := &tx{s: s, writable: true}
	defer t.end()
	if err := fn(t); err != nil {
		return err
	}
	s.apply(t.writes)
	s.rev++
	return nil
}

// Close discards the data. Transactions running when it is called finish
// first, since Close waits for the write lock. Close is idempotent and always
// returns nil.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed, s.keys, s.vals = true, nil, nil
	return nil
}

// usable reports why a transaction may not start. The context is checked
// after the lock is acquired, so a caller that gave up while waiting for the
// lock does not run fn.
func (s *Store) usable(ctx context.Context) error {
	if s.closed {
		return storage.ErrClosed
	}
	return ctx.Err()
}

// apply merges an Update's staged writes into the store. writes maps a key
// to its new value, or to nil for a deletion. The values are already private
// copies made by Put, so they are kept without copying again.
func (s *Store) apply(writes map[string][]byte) {
	if len(writes) == 0 {
		return
	}
	if s.vals == nil {
		s.vals = make(map[string][]byte, len(writes))
	}
	var added, removed []string
	for k, v := range writes {
		_, exists := s.vals[k]
		switch {
		case v == nil && exists:
			delete(s.vals, k)
			removed = append(removed, k)
		case v == nil:
			// Deleting an absent key is a no-op.
		default:
			if !exists {
				added = append(added, k)
			}
			s.vals[k] = v
		}
	}
	s.reindex(added, removed)
}

// fewChanges is the number of added plus removed keys up to which reindex
// edits the sorted slice in place. Each in-place edit is a memmove of the
// tail; past a handful, one merge into a fresh slice is cheaper.
const fewChanges = 8

// reindex updates s.keys after the keys in added were inserted into s.vals
// and those in removed were deleted from it.
func (s *Store) reindex(added, removed []string) {
	if len(added)+len(removed) <= fewChanges {
		for _, k := range removed {
			i, _ := slices.BinarySearch(s.keys, k)
			s.keys = slices.Delete(s.keys, i, i+1)
		}
		for _, k := range added {
			i, _ := slices.BinarySearch(s.keys, k)
			s.keys = slices.Insert(s.keys, i, k)
		}
		return
	}
	slices.Sort(added)
	slices.Sort(removed)
	keys := make([]string, 0, len(s.keys)+len(added)-len(removed))
	a, r := 0, 0
	for _, k := range s.keys {
		// removed is a sorted subset of s.keys, so it is consumed in step.
		if r < len(removed) && removed[r] == k {
			r++
			continue
		}
		for a < len(added) && added[a] < k {
			keys = append(keys, added[a])
			a++
		}
		keys = append(keys, k)
	}
	s.keys = append(keys, added[a:]...)
}

// tx is a transaction over a Store. In a View it reads the store directly;
// in an Update it also reads and writes an overlay of staged writes.
type tx struct {
	s        *Store // nil once the transaction has ended
	writable bool
	// writes maps each key written in this transaction to its new value, or
	// to nil if it was deleted. Put always stages a non-nil slice, so an
	// empty value is never mistaken for a deletion.
	writes map[string][]byte
}

func (t *tx) end() { t.s = nil }

// viewTx is the Tx of a View.
type viewTx struct {
	tx
	rev uint64
}

// Revision implements [storage.Revisioner]: the number of Updates committed
// before this View (the read lock keeps it so while the View runs).
func (t *viewTx) Revision() uint64 { return t.rev }

// Get implements [storage.Tx]. It returns [storage.ErrNotFound] itself (not
// wrapped), which keeps the hot "absent" path free of allocations.
func (t *tx) Get(key string) ([]byte, error) {
	if t.s == nil {
		return nil, errTxDone
	}
	v, staged := t.writes[key]
	if !staged {
		var ok bool
		if v, ok = t.s.vals[key]; !ok {
			return nil, storage.ErrNotFound
		}
	} else if v == nil {
		return nil, storage.ErrNotFound
	}
	return clone(v), nil
}

// Put implements [storage.Tx]. It returns [storage.ErrReadOnly] in a View.
func (t *tx) Put(key string, value []byte) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	if t.writes == nil {
		t.writes = make(map[string][]byte)
	}
	t.writes[key] = clone(value)
	return nil
}

// Delete implements [storage.Tx]. It returns [storage.ErrReadOnly] in a View.
func (t *tx) Delete(key string) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	if t.writes == nil {
		t.writes = make(map[string][]byte)
	}
	t.writes[key] = nil
	return nil
}

func (t *tx) writeCheck() error {
	switch {
	case t.s == nil:
		return errTxDone
	case !t.writable:
		return storage.ErrReadOnly
	}
	return nil
}

// List implements [storage.Tx] by merging two sorted sequences: the
// committed keys from the binary-search position onwards, and the staged
// keys of this transaction, sorted on demand (an overlay is usually small).
func (t *tx) List(prefix, after string, limit int) ([]string, error) {
	if t.s == nil {
		return nil, errTxDone
	}
	if limit <= 0 {
		limit = math.MaxInt
	}
	base := t.s.keys[seek(t.s.keys, prefix, after):]
	staged := t.stagedKeys(prefix, after)

	var out []string
	i, j := 0, 0
	for len(out) < limit {
		// Committed keys this transaction wrote are shadowed: if still
		// present they are in staged, and if deleted they must not appear.
		for i < len(base) && t.writes != nil {
			if _, ok := t.writes[base[i]]; !ok {
				break
			}
			i++
		}
		inBase := i < len(base) && strings.HasPrefix(base[i], prefix)
		switch {
		case inBase && (j == len(staged) || base[i] < staged[j]):
			out = append(out, base[i])
			i++
		case j < len(staged):
			out = append(out, staged[j])
			j++
		default:
			return out, nil
		}
	}
	return out, nil
}

// stagedKeys returns, sorted, the keys this transaction put (not deleted)
// that start with prefix and sort after after.
func (t *tx) stagedKeys(prefix, after string) []string {
	var keys []string
	for k, v := range t.writes {
		if v != nil && k > after && strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	return keys
}

// seek returns the index in the sorted keys of the first key that is at
// least prefix and greater than after: where a List scan starts.
func seek(keys []string, prefix, after string) int {
	if after < prefix {
		i, _ := slices.BinarySearch(keys, prefix)
		return i
	}
	i, found := slices.BinarySearch(keys, after)
	if found {
		i++
	}
	return i
}

// clone returns a copy of b that is never nil, so an empty value stays
// distinct from a deletion in the overlay.
func clone(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}
