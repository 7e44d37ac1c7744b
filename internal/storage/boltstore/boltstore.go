package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Defaults used for the zero fields of [Options].
const (
	// DefaultTimeout is how long Open waits for the file lock. A second
	// coffer on the same file should fail at start-up, not hang; one second
	// covers a previous process that is still releasing the lock.
	DefaultTimeout = time.Second

	// DefaultMaxBatchDelay is kept for compatibility: Updates no longer wait
	// for others to join them (see [Options.MaxBatchDelay]).
	DefaultMaxBatchDelay = 200 * time.Microsecond

	// DefaultMaxBatchSize caps the number of Updates in one group. A full
	// group commits at once without waiting out the delay. The cap bounds
	// the work redone when one function in the group fails (the rest of
	// the group runs again) and the size of a single transaction; 256
	// coffer writes of a few KiB each make a transaction of about a MiB.
	DefaultMaxBatchSize = 256
)

// Options configures [Open]. The zero value selects the defaults.
type Options struct {
	// Timeout is how long Open waits for the exclusive lock on the file
	// before failing with ErrLocked. Zero or negative means DefaultTimeout.
	Timeout time.Duration

	// MaxBatchDelay is ignored. Updates used to wait up to this long for
	// others to join their group (bbolt's DB.Batch); they now commit at
	// once, and the Updates that arrive while a commit is being written
	// and fsynced form the next group, which waits for no timer.
	//
	// Deprecated: group commit needs no delay.
	MaxBatchDelay time.Duration

	// MaxBatchSize is the largest number of Updates committed together.
	// Zero or negative means DefaultMaxBatchSize; 1 turns group commit off,
	// so that every Update has its own commit and fsync.
	MaxBatchSize int
}

func (o Options) withDefaults() Options {
	if o.Timeout <= 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MaxBatchDelay <= 0 {
		o.MaxBatchDelay = DefaultMaxBatchDelay
	}
	if o.MaxBatchSize <= 0 {
		o.MaxBatchSize = DefaultMaxBatchSize
	}
	return o
}

// ErrLocked is returned (wrapped) by [Open] when another process, or another
// Store in this process, holds the file.
var ErrLocked = errors.New("boltstore: file is locked by another process")

// bucketName is the one bucket holding every key. Keys are flat strings, so
// nested buckets would buy nothing.
var bucketName = []byte("kv")

// fileMode keeps the file private to the user running coffer: even sealed,
// it reveals key names and sizes.
const fileMode = 0o600

// Store is a [storage.Backend] over a bbolt file. It is safe for concurrent
// use. Open it with [Open] and release it with Close. A transaction's
// function must not start another transaction on the same Store, nor Close
// it: bbolt's locks are not reentrant.
type Store struct {
	db   *bolt.DB
	path string

	// mu guards closed, and makes checking it and registering a
	// transaction in active one step, so Close cannot start waiting on
	// active between the two.
	mu     sync.RWMutex
	closed bool
	active sync.WaitGroup // transactions in flight; Close waits for them

	batchSize int // Options.MaxBatchSize

	// Group commit (Update): the Updates waiting to be committed, and
	// whether one of them leads (is committing a group, or about to).
	gmu     sync.Mutex
	pending []*call
	leading bool
	updates uint64 // Updates committed in groups, for GroupStats; under gmu
	commits uint64 // group commits (each one fsynced transaction); under gmu

	closeOnce sync.Once
	closeErr  error
}

var (
	_ storage.Backend     = (*Store)(nil)
	_ storage.MultiGetter = (*Store)(nil)
)

// Open opens the bbolt file at path, creating it with mode 0600 if it does
// not exist (an existing file keeps its mode), and makes sure it holds the
// store's bucket. If another process holds the file, Open fails after
// opts.Timeout with an error wrapping [ErrLocked]. Commits are fsynced.
func Open(path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	db, err := bolt.Open(path, fileMode, &bolt.Options{
		Timeout: opts.Timeout,
		// Spelled out because it is the durability contract: Update
		// returns only after the commit reached the disk.
		NoSync: false,
	})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("boltstore.Open %s: %w (waited %v; is another coffer running on this file?)", path, ErrLocked, opts.Timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore.Open %s: %w", path, err)
	}
	if err := ensureBucket(db); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("boltstore.Open %s: %w", path, err)
	}
	return &Store{db: db, path: path, batchSize: opts.MaxBatchSize}, nil
}

// ErrNotStore is returned (wrapped) by [OpenReadOnly] for a bbolt file that
// holds no coffer store.
var ErrNotStore = errors.New("boltstore: not a coffer store")

// OpenReadOnly opens the existing bbolt file at path for reading, for tools
// that copy or inspect a store (coffer operator migrate). It takes a shared
// lock, so it fails after opts.Timeout with an error wrapping [ErrLocked]
// while a server has the file open, and it never creates or changes the
// file: Update on the returned Store fails. It fails with an error wrapping
// [ErrNotStore] if the file is a bbolt file without coffer's bucket. Only
// opts.Timeout is used.
func OpenReadOnly(path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	db, err := bolt.Open(path, fileMode, &bolt.Options{Timeout: opts.Timeout, ReadOnly: true})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("boltstore.OpenReadOnly %s: %w (waited %v; stop the coffer server using it first)", path, ErrLocked, opts.Timeout)
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore.OpenReadOnly %s: %w", path, err)
	}
	var ok bool
	_ = db.View(func(tx *bolt.Tx) error {
		ok = tx.Bucket(bucketName) != nil
		return nil
	})
	if !ok {
		_ = db.Close()
		return nil, fmt.Errorf("boltstore.OpenReadOnly %s: %w", path, ErrNotStore)
	}
	return &Store{db: db, path: path}, nil
}

// ensureBucket creates the bucket on first use. It looks first, so that
// reopening an existing file costs no write and no fsync.
func ensureBucket(db *bolt.DB) error {
	exists := false
	if err := db.View(func(tx *bolt.Tx) error {
		exists = tx.Bucket(bucketName) != nil
		return nil
	}); err != nil || exists {
		return err
	}
	return db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(bucketName)
		return err
	})
}

// View runs fn in a bbolt read-only transaction, which sees a consistent
// snapshot and runs concurrently with other Views and with Updates. It
// returns fn's error unchanged, an error wrapping [storage.ErrClosed] after
// Close, or one wrapping ctx.Err() if ctx is done before fn runs; in those
// two cases fn is not called. A panic in fn propagates to the caller.
func (s *Store) View(ctx context.Context, fn func(storage.Tx) error) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("boltstore.View: %w", err)
	}
	defer s.active.Done()
	err := s.db.View(func(btx *bolt.Tx) error {
		t := &viewTx{tx: tx{b: btx.Bucket(bucketName)}, rev: uint64(btx.ID())}
		defer t.end()
		if err := fn(t); err != nil {
			return fnError{err}
		}
		return nil
	})
	return s.result("View", err)
}

// GetMany implements [storage.MultiGetter] with one read transaction.
func (s *Store) GetMany(ctx context.Context, keys []string) ([][]byte, error) {
	if err := s.enter(ctx); err != nil {
		return nil, fmt.Errorf("boltstore.GetMany: %w", err)
	}
	defer s.active.Done()
	out := make([][]byte, len(keys))
	err := s.db.View(func(btx *bolt.Tx) error {
		c := btx.Bucket(bucketName).Cursor()
		for i, key := range keys {
			// As in Get: Seek tells an empty value from a missing key.
			if k, v := c.Seek([]byte(key)); k != nil && string(k) == key {
				out[i] = clone(v)
			}
		}
		return nil
	})
	if err := s.result("GetMany", err); err != nil {
		return nil, err
	}
	return out, nil
}

// Update runs fn in a read-write transaction and returns once it has been
// committed and fsynced. Updates are committed in groups that share one
// bbolt transaction and one fsync (group commit, without any delay): an
// Update that finds no commit in progress commits at once, alone or with
// whatever Updates arrived with it; the Updates that arrive while a group
// is being committed wait for it to finish, then form the next group, up to
// [Options.MaxBatchSize] Updates. Update returns fn's error unchanged (and
// then nothing fn wrote is kept), an error wrapping [storage.ErrClosed]
// after Close, or one wrapping ctx.Err() if ctx is done before fn is
// queued; in those two cases fn is not called. Once queued, fn runs and
// commits even if ctx is cancelled meanwhile: the wait is at most the
// commits queued ahead of it.
//
// fn may be called several times, and on a goroutine other than the
// caller's: when another function of its group fails, the group is rolled
// back and run again without it. A function that fails (or panics) is then
// run again alone in its caller's goroutine with an ordinary bbolt Update,
// whose error (or panic) reaches the caller, as with bbolt's DB.Batch. A
// panic in fn propagates to the caller and nothing fn wrote is kept.
func (s *Store) Update(ctx context.Context, fn func(storage.Tx) error) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("boltstore.Update: %w", err)
	}
	defer s.active.Done()
	bfn := func(btx *bolt.Tx) error {
		return run(fn, &tx{b: btx.Bucket(bucketName), writable: true})
	}
	err := s.group(bfn)
	if errors.Is(err, errSolo) {
		// fn failed inside a group: run it alone, so that its error (or
		// panic) is its own and reaches this goroutine.
		err = s.db.Update(bfn)
	}
	return s.result("Update", err)
}

// call is one Update waiting in a group.
type call struct {
	fn   func(*bolt.Tx) error
	done chan error // its outcome; errLead makes its goroutine the leader
}

var (
	// errSolo tells an Update whose function failed in a group to run
	// alone.
	errSolo = errors.New("boltstore: run alone")
	// errLead hands the leadership to a waiting Update.
	errLead = errors.New("boltstore: lead the next group")
)

// group queues fn for the next group commit and returns its outcome.
//
// One waiting Update at a time leads: it takes every Update queued (up to
// the batch size), commits them together and delivers their outcomes; if
// more arrived meanwhile, it hands the leadership to the first of them and
// returns. An Update never waits for a timer, only for the commit in
// progress, and a leader commits one group only, so that no caller pays for
// other callers' commits after its own.
func (s *Store) group(fn func(*bolt.Tx) error) error {
	c := &call{fn: fn, done: make(chan error, 1)}
	s.gmu.Lock()
	s.pending = append(s.pending, c)
	lead := !s.leading
	s.leading = true
	s.gmu.Unlock()
	if !lead {
		if err := <-c.done; err != errLead {
			return err
		}
	}
	s.gmu.Lock()
	n := len(s.pending)
	if s.batchSize > 0 {
		n = min(n, s.batchSize)
	}
	batch := s.pending[:n:n]
	s.pending = s.pending[n:]
	s.gmu.Unlock()

	commits := s.commit(batch)

	s.gmu.Lock()
	s.updates += uint64(len(batch))
	s.commits += uint64(commits)
	if len(s.pending) > 0 {
		s.pending[0].done <- errLead
	} else {
		s.leading = false
		s.pending = nil
	}
	s.gmu.Unlock()
	return <-c.done
}

// GroupStats returns the number of Updates committed through groups so far
// and the number of bbolt transactions that committed them: their ratio is
// the number of writes that shared each fsync. (An Update whose function
// fails in a group, and is run again alone, is counted in the group.)
func (s *Store) GroupStats() (updates, commits uint64) {
	s.gmu.Lock()
	defer s.gmu.Unlock()
	return s.updates, s.commits
}

// commit runs the functions of batch in one bbolt transaction and delivers
// each its outcome. A function that fails is taken out, told to run alone,
// and the others run again. It returns the number of transactions run.
func (s *Store) commit(batch []*call) (txs int) {
	for len(batch) > 0 {
		txs++
		failed := -1
		err := s.db.Update(func(btx *bolt.Tx) error {
			for i, c := range batch {
				if err := safely(c.fn, btx); err != nil {
					failed = i
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, c := range batch {
				c.done <- err // nil, or the commit's own failure
			}
			return txs
		}
		batch[failed].done <- errSolo
		batch = append(batch[:failed:failed], batch[failed+1:]...)
	}
	return txs
}

// safely calls fn, turning a panic into an error (the function is then
// run again alone, where it panics in its own goroutine).
func safely(fn func(*bolt.Tx) error, btx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("boltstore: panic in Update function: %v", p)
		}
	}()
	return fn(btx)
}

// Close waits for the transactions in flight, then closes the file and
// releases its lock. Later calls return the first call's result. Close
// must not be called from inside a transaction's function.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.closeOnce.Do(func() {
		s.active.Wait()
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("boltstore.Close %s: %w", s.path, err)
		}
	})
	return s.closeErr
}

// enter registers a transaction about to start, or reports why it may not.
func (s *Store) enter(ctx context.Context) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return storage.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.active.Add(1)
	return nil
}

// fnError carries the error of the caller's function through bbolt, so that
// result can tell it apart from bbolt's own errors and hand it back as is.
type fnError struct{ err error }

func (e fnError) Error() string { return e.err.Error() }

// run calls fn on t, ends t (even if fn panics) and marks fn's error.
func run(fn func(storage.Tx) error, t *tx) error {
	defer t.end()
	if err := fn(t); err != nil {
		return fnError{err}
	}
	return nil
}

// result turns what bbolt returned into what View or Update return.
func (s *Store) result(op string, err error) error {
	var fe fnError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &fe):
		return fe.err
	case errors.Is(err, bolt.ErrDatabaseNotOpen):
		// Close won the race despite enter; report it as the contract says.
		return fmt.Errorf("boltstore.%s %s: %w", op, s.path, storage.ErrClosed)
	default:
		return fmt.Errorf("boltstore.%s %s: %w", op, s.path, err)
	}
}

// errTxDone is returned by a Tx used after the function it was passed to
// has returned, which the storage contract forbids. bbolt memory is unmapped
// or reused by then, so reading it could crash rather than fail.
var errTxDone = errors.New("boltstore: transaction used after its function returned")

// tx adapts a bbolt bucket to [storage.Tx].
type tx struct {
	b        *bolt.Bucket // nil once the transaction has ended
	writable bool
}

// viewTx is the Tx of a View.
type viewTx struct {
	tx
	rev uint64 // the bbolt transaction id the View reads: the last commit's
}

// Revision implements [storage.Revisioner]: the id of the last committed
// bbolt transaction, which every commit increments. The store's file is
// locked by one process, so no commit happens behind its back.
func (t *viewTx) Revision() uint64 { return t.rev }

func (t *tx) end() { t.b = nil }

// Get implements [storage.Tx]. It returns [storage.ErrNotFound] itself (not
// wrapped). It asks a cursor for the key rather than calling Bucket.Get,
// whose nil result cannot tell an absent key from an empty value.
func (t *tx) Get(key string) ([]byte, error) {
	if t.b == nil {
		return nil, errTxDone
	}
	k, v := t.b.Cursor().Seek([]byte(key))
	if k == nil || string(k) != key {
		return nil, storage.ErrNotFound
	}
	// v points into the memory map, valid only until the transaction ends.
	return clone(v), nil
}

// Put implements [storage.Tx]. It returns [storage.ErrReadOnly] in a View.
// The empty key and keys over 32 KiB are rejected by bbolt.
func (t *tx) Put(key string, value []byte) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	// bbolt copies the key but keeps a reference to the value until the
	// commit, so it gets a copy the caller cannot mutate.
	if err := t.b.Put([]byte(key), clone(value)); err != nil {
		return fmt.Errorf("boltstore: put %q: %w", key, err)
	}
	return nil
}

// Delete implements [storage.Tx]. It returns [storage.ErrReadOnly] in a
// View. bbolt's Delete is already a no-op for an absent key.
func (t *tx) Delete(key string) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	if err := t.b.Delete([]byte(key)); err != nil {
		return fmt.Errorf("boltstore: delete %q: %w", key, err)
	}
	return nil
}

func (t *tx) writeCheck() error {
	switch {
	case t.b == nil:
		return errTxDone
	case !t.writable:
		return storage.ErrReadOnly
	}
	return nil
}

// List implements [storage.Tx]. bbolt keeps keys in byte-wise order, so a
// cursor positioned at the larger of prefix and after walks them in order.
func (t *tx) List(prefix, after string, limit int) ([]string, error) {
	if t.b == nil {
		return nil, errTxDone
	}
	c := t.b.Cursor()
	var k []byte
	if after < prefix {
		k, _ = c.Seek([]byte(prefix))
	} else if k, _ = c.Seek([]byte(after)); k != nil && string(k) == after {
		k, _ = c.Next()
	}
	p := []byte(prefix)
	var out []string
	for ; k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
		if limit > 0 && len(out) == limit {
			break
		}
		out = append(out, string(k))
	}
	return out, nil
}

// clone returns a copy of b that is never nil, so that an empty value is
// stored, and handed back, as a present key with an empty value.
func clone(b []byte) []byte {
	return append(make([]byte, 0, len(b)), b...)
}
