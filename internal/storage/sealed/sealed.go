package sealed

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// KeyringKey is the storage key of the keyring record in the wrapped
// backend. It is reserved: the [Store] refuses to read or write it for its
// callers and hides it from List.
const KeyringKey = "sys/keyring"

// SealRecordKey is the storage key of the seal record (internal/seal's
// RecordKey), stored in clear beside the keyring. It is reserved like
// KeyringKey.
const SealRecordKey = "sys/seal"

// ErrReserved is returned, wrapped, by Get, Put and Delete of [KeyringKey]
// through a [Store].
var ErrReserved = errors.New("sealed: reserved key")

// Store encrypts the values of a wrapped [storage.Backend]. It implements
// [storage.Backend] with the same contract, so that code above it sees
// plaintext and never knows it is there.
//
// A Store is safe for concurrent use. It holds the root key and the keyring
// in memory until Close; it prints as REDACTED through fmt and log/slog.
type Store struct {
	b         storage.Backend
	selectKey func(storageKey string) crypto.KeyID
	now       func() time.Time
	rand      io.Reader

	// keyring is the last committed keyring seen. A published keyring is
	// never modified: transactions that add a term work on a copy parsed
	// from the transaction and publish it after the commit.
	keyring atomic.Pointer[crypto.Keyring]

	roots roots
	// rotateRoot serialises RotateRootKey calls, which each derive the next
	// root term from the one they read.
	rotateRoot sync.Mutex
	closed     atomic.Bool
}

var _ storage.Backend = (*Store)(nil)

// Open returns a Store that encrypts the values of b, which it takes over:
// the Store's Close closes b. If Open fails, b is left open for the caller
// to close.
//
// root is the root key; selectKey names the key family of each storage key
// ([crypto.SystemKeyID] or a domain's id). It is called on every Get and
// Put, must be deterministic, and must not return "" or [crypto.RootKeyID].
//
// Open reads the keyring from b, or, if b has none, creates an empty one in
// an Update. If the keyring does not open under root, Open fails with an
// error that says the root key does not match the data and wraps
// [crypto.ErrIntegrity]. Other errors come from b (for example
// [storage.ErrClosed] or ctx's error).
func Open(ctx context.Context, b storage.Backend, root crypto.Key, selectKey func(storageKey string) crypto.KeyID) (*Store, error) {
	switch {
	case b == nil:
		return nil, errors.New("sealed.Open: nil backend")
	case selectKey == nil:
		return nil, errors.New("sealed.Open: nil selectKey")
	case root.IsZero():
		return nil, fmt.Errorf("sealed.Open: root key: %w", crypto.ErrInvalidKey)
	}
	s := &Store{b: b, selectKey: selectKey, now: time.Now, rand: rand.Reader}

	var (
		kr   *crypto.Keyring
		term uint32
	)
	err := b.View(ctx, func(tx storage.Tx) error {
		var err error
		kr, term, err = readRootKeyring(tx, root)
		return err
	})
	if err == nil && kr == nil {
		// Another process may create the keyring between the View and this
		// Update; reading it again inside the Update keeps exactly one.
		err = b.Update(ctx, func(tx storage.Tx) error {
			var err error
			if kr, term, err = readRootKeyring(tx, root); err != nil || kr != nil {
				return err
			}
			kr, term = crypto.NewKeyring(), 1
			return writeKeyring(tx, kr, root, term)
		})
	}
	if err != nil {
		return nil, fmt.Errorf("sealed.Open: %w", err)
	}
	s.roots.init(term, root)
	s.keyring.Store(kr)
	return s, nil
}

// View runs fn in a read-only transaction of the wrapped backend, through a
// [storage.Tx] that opens values on Get. Its contract is
// [storage.Backend.View]'s; in addition, Get returns an error wrapping
// [crypto.ErrIntegrity] and naming the key for a value that does not open.
func (s *Store) View(ctx context.Context, fn func(storage.Tx) error) error {
	if s.closed.Load() {
		return fmt.Errorf("sealed.View: %w", storage.ErrClosed)
	}
	var last *tx
	err := s.b.View(ctx, func(btx storage.Tx) error {
		last = &tx{s: s, tx: btx}
		if rev, ok := storage.RevisionOf(btx); ok {
			return fn(revisionTx{last, rev})
		}
		return fn(last)
	})
	if err == nil && last != nil {
		s.publish(last.keyring)
	}
	return err
}

// Update runs fn in a read-write transaction of the wrapped backend, through
// a [storage.Tx] that seals values on Put and opens them on Get. Its contract
// is [storage.Backend.Update]'s.
//
// A Put for a key family that has no term yet creates its first term inside
// this transaction, so that concurrent writers (in this process or another)
// agree on one key. The new term is used by the rest of the Store only after
// the commit.
func (s *Store) Update(ctx context.Context, fn func(storage.Tx) error) error {
	if s.closed.Load() {
		return fmt.Errorf("sealed.Update: %w", storage.ErrClosed)
	}
	var last *tx
	err := s.b.Update(ctx, func(btx storage.Tx) error {
		// fn may run several times: each attempt starts from a fresh tx,
		// and only the last, committed attempt's keyring is published.
		last = &tx{s: s, tx: btx, writable: true}
		return fn(last)
	})
	if err == nil && last != nil {
		s.publish(last.keyring)
	}
	return err
}

// GetMany implements [storage.MultiGetter]: the wrapped backend's GetMany
// (one statement on PostgreSQL), then every value opened as Get opens it,
// with the same errors. A value sealed under a key term this process has
// not seen yet (another node rotated the key) is read again through a View,
// which loads the keyring from the store.
func (s *Store) GetMany(ctx context.Context, keys []string) ([][]byte, error) {
	if s.closed.Load() {
		return nil, fmt.Errorf("sealed.GetMany: %w", storage.ErrClosed)
	}
	for _, k := range keys {
		if reserved(k) {
			return nil, fmt.Errorf("sealed: get %q: %w", k, ErrReserved)
		}
	}
	vals, err := storage.GetMany(ctx, s.b, keys)
	if err != nil {
		return nil, err
	}
	kr := s.keyring.Load()
	t := &tx{s: s}
	for i, ct := range vals {
		if ct == nil {
			continue
		}
		if term, err := crypto.Term(ct); err == nil {
			if _, ok := kr.Lookup(s.selectKey(keys[i]), term); !ok {
				return storage.GetManyView(ctx, s, keys)
			}
		}
		if vals[i], err = t.openValue(keys[i], ct); err != nil {
			return nil, err
		}
	}
	return vals, nil
}

// Close closes the wrapped backend, then drops the Store's references to the
// root key and the keyring. Every later call returns an error wrapping
// [storage.ErrClosed]. Close is idempotent and returns the wrapped backend's
// Close error.
func (s *Store) Close() error {
	s.closed.Store(true)
	err := s.b.Close()
	s.keyring.Store(crypto.NewKeyring())
	s.roots.clear()
	return err
}

// Unwrap returns the backend under the encryption layer, for optional
// capabilities that carry no values (storage.NotifierOf).
func (s *Store) Unwrap() storage.Backend { return s.b }

// String returns "sealed.Store(REDACTED)": a Store holds key material.
func (s *Store) String() string { return "sealed.Store(REDACTED)" }

// GoString returns "sealed.Store(REDACTED)" so that %#v prints no key
// material.
func (s *Store) GoString() string { return s.String() }

// LogValue returns the string "REDACTED" so that log/slog prints no key
// material.
func (s *Store) LogValue() slog.Value { return slog.StringValue("REDACTED") }

// publish makes kr the cached keyring unless the cache already holds the
// same or a newer one. Publishes may arrive out of commit order (two
// Updates commit, then publish in reverse), and the older must not win, or
// writes would go back to a term that a RotateKey has replaced.
func (s *Store) publish(kr *crypto.Keyring) {
	if kr == nil || s.closed.Load() {
		return
	}
	for {
		old := s.keyring.Load()
		if old != nil && old.Generation() >= kr.Generation() {
			return
		}
		if s.keyring.CompareAndSwap(old, kr) {
			return
		}
	}
}

// checkKeyID rejects ids that selectKey must never return.
func checkKeyID(id crypto.KeyID, key string) error {
	if id == "" || id == crypto.RootKeyID {
		return fmt.Errorf("sealed: key id %q selected for %q: %w", id, key, crypto.ErrInvalidKeyID)
	}
	return nil
}
