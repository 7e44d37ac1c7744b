// Package storage defines the transactional key-value contract that every
// coffer backend implements. Values are opaque bytes; keys are UTF-8 strings
// compared byte-wise. The package holds no implementation and does no I/O:
// backends live in sub-packages (memstore, boltstore, pgstore) and the
// encryption decorator in sealed. The conformance suite in storagetest checks
// every rule written here.
package storage

import (
	"context"
	"errors"
)

// Errors returned by backends. Callers compare them with [errors.Is].
var (
	// ErrNotFound is returned by [Tx.Get] when the key is absent.
	ErrNotFound = errors.New("storage: not found")
	// ErrClosed is returned by every method once [Backend.Close] was called.
	ErrClosed = errors.New("storage: closed")
	// ErrReadOnly is returned by [Tx.Put] and [Tx.Delete] inside [Backend.View].
	ErrReadOnly = errors.New("storage: write in a read-only transaction")
	// ErrIntegrity is returned, wrapped, by [Tx.Get] of a backend that
	// authenticates its values (the encryption layer) when a stored value
	// does not open: it was altered, or moved from another key. Such an
	// error never carries any part of the value. Callers that may not know
	// the encryption layer (the service) tell integrity failures apart with
	// it, for the audit log.
	ErrIntegrity = errors.New("storage: integrity check failed")
	// ErrUnavailable is returned, wrapped, by [Backend.View] and
	// [Backend.Update] of a backend that keeps its data elsewhere (a
	// database server) when it cannot reach it: the connection is refused
	// or broken, the server is shutting down, starting up or failing over,
	// or no connection frees up in time. It is transient: the same call may
	// succeed later, and nothing of an Update that fails with it is kept,
	// except when the connection broke while the commit was under way (the
	// error then says the outcome is unknown). Callers answer it with a
	// retryable "service unavailable" rather than an internal error.
	ErrUnavailable = errors.New("storage: unavailable")
)

// Backend is a transactional, ordered key-value store.
//
// All methods are safe for concurrent use. A Backend must be closed with
// Close when it is no longer needed; after Close every call returns an error
// satisfying errors.Is(err, ErrClosed).
type Backend interface {
	// View runs fn in a read-only transaction that sees a consistent
	// snapshot: it never observes part of a concurrent Update. Writes inside
	// fn fail with ErrReadOnly. View returns fn's error, or an error
	// satisfying errors.Is(err, context.Canceled) (or DeadlineExceeded) if
	// ctx is done before fn runs. A panic in fn propagates to the caller.
	View(ctx context.Context, fn func(Tx) error) error

	// Update runs fn in a read-write transaction and commits its writes
	// atomically when fn returns nil; when fn returns an error nothing fn
	// wrote is kept and that error is returned. Update returns only once the
	// commit is durable (it survives a process crash, and for disk backends
	// a power loss as far as fsync guarantees it).
	//
	// fn may be called more than once (after a conflict with a concurrent
	// Update, or to batch commits), so it must be idempotent and must have
	// no effect outside the transaction. Concurrent Updates are serializable
	// with respect to the keys they read and write: no update is lost.
	//
	// A panic in fn propagates to the caller (possibly from a later call of
	// fn) and nothing fn wrote is kept; the Backend stays usable.
	Update(ctx context.Context, fn func(Tx) error) error

	// Close releases the backend's resources. Transactions running when
	// Close is called finish first. Close is idempotent.
	Close() error
}

// Tx is a transaction. It is valid only inside the function passed to
// [Backend.View] or [Backend.Update] and must not be used concurrently or
// retained after that function returns.
type Tx interface {
	// Get returns the value stored under key, or ErrNotFound if there is
	// none. An empty value is not a missing key. The returned slice belongs
	// to the caller.
	Get(key string) ([]byte, error)

	// Put stores value under key, replacing any previous value. The store
	// keeps its own copy: the caller may reuse value afterwards.
	Put(key string, value []byte) error

	// Delete removes key. Deleting an absent key is not an error. Keys that
	// merely have key as a prefix are not affected.
	Delete(key string) error

	// List returns, in byte-wise ascending order, at most limit keys that
	// start with prefix and compare greater than after ("" means from the
	// start). A limit <= 0 means no limit. It sees the transaction's own
	// writes.
	List(prefix, after string, limit int) ([]string, error)
}

// SharedGetter is an optional capability of a Tx. GetShared reads like
// Get; inside an Update it tells the backend that the caller does not mean
// to write key in this Update, so that a backend which locks what an
// Update reads may lock it shared: concurrent Updates that read a common,
// rarely written record (a domain's configuration, read by every write in
// the domain) then run side by side, while an Update that writes the
// record still excludes them and they it. Writing a key read with
// GetShared in the same Update stays correct, but may cost a retry.
// Backends whose Updates run one at a time need not implement it; use
// [GetShared], which falls back to Get.
type SharedGetter interface {
	GetShared(key string) ([]byte, error)
}

// Revisioner is an optional capability of the Tx of a View: Revision
// identifies the committed state the View reads. Two Views with the same
// revision read the same data; any committed Update changes it. A caller
// may therefore keep what it derived from a View (a count over a whole
// domain, say) and reuse it while the revision stays the same. Backends
// shared by several processes, whose state changes behind this one's back
// without a cheap revision to read, do not implement it.
type Revisioner interface {
	Revision() uint64
}

// RevisionOf returns the revision of a View's tx, if its backend has one.
func RevisionOf(tx Tx) (uint64, bool) {
	if r, ok := tx.(Revisioner); ok {
		return r.Revision(), true
	}
	return 0, false
}

// GetShared reads key with tx's GetShared if it has one, else with Get.
func GetShared(tx Tx, key string) ([]byte, error) {
	if s, ok := tx.(SharedGetter); ok {
		return s.GetShared(key)
	}
	return tx.Get(key)
}

// MultiGetter is an optional capability of a Backend: GetMany reads
// several keys from one consistent snapshot, as a View calling Get for each
// would, but in one step of the backend's own: a single statement outside
// any explicit transaction on PostgreSQL (one round trip instead of BEGIN,
// a statement per key and COMMIT), one read transaction on the embedded
// stores. It serves reads that know every key they need up front.
//
// The result has one entry per key, in the order of keys: the value, which
// belongs to the caller, or nil when the key is absent (an empty value is
// an empty, non-nil slice). A key may appear more than once. After Close
// GetMany fails with an error satisfying errors.Is(err, ErrClosed), and
// with ctx's error when ctx is done before it reads. Decorators
// (encryption, metrics, the seal gate) implement it by calling [GetMany] on
// what they wrap. Use [GetMany], which falls back to a View.
type MultiGetter interface {
	GetMany(ctx context.Context, keys []string) ([][]byte, error)
}

// GetMany reads keys with b's GetMany if it has one, else with Get in one
// View: the same result either way (see [MultiGetter]).
func GetMany(ctx context.Context, b Backend, keys []string) ([][]byte, error) {
	if m, ok := b.(MultiGetter); ok {
		return m.GetMany(ctx, keys)
	}
	return GetManyView(ctx, b, keys)
}

// GetManyView is [GetMany] through b's View alone, for backends and
// decorators whose native GetMany would do nothing better.
func GetManyView(ctx context.Context, b Backend, keys []string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	err := b.View(ctx, func(tx Tx) error {
		for i, k := range keys {
			v, err := tx.Get(k)
			switch {
			case errors.Is(err, ErrNotFound):
				out[i] = nil
			case err != nil:
				return err
			case v == nil:
				out[i] = []byte{}
			default:
				out[i] = v
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
