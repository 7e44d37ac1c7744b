package sealed

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// RotateKey adds a new random term to the key family id and returns its
// number (1 if the family had none). Writes through this Store use the new
// term as soon as RotateKey returns; values sealed under older terms still
// open, since terms are never removed here.
//
// Other processes sharing the backend keep writing with the term they have
// cached until they reload the keyring (which they do when they read a value
// sealed under a term they do not know).
//
// It returns an error wrapping [crypto.ErrInvalidKeyID] for "" or
// [crypto.RootKeyID], and errors from the backend.
func (s *Store) RotateKey(ctx context.Context, id crypto.KeyID) (uint32, error) {
	if err := checkKeyID(id, KeyringKey); err != nil {
		return 0, fmt.Errorf("sealed.RotateKey: %w", err)
	}
	if s.closed.Load() {
		return 0, fmt.Errorf("sealed.RotateKey: %w", storage.ErrClosed)
	}
	var (
		term uint32
		kr   *crypto.Keyring
	)
	err := s.b.Update(ctx, func(btx storage.Tx) error {
		t := &tx{s: s, tx: btx, writable: true}
		if err := t.loadKeyring(); err != nil {
			return err
		}
		k, err := crypto.NewKey(s.rand)
		if err != nil {
			return err
		}
		if term, err = t.keyring.Add(id, k, s.now()); err != nil {
			return err
		}
		kr = t.keyring
		return t.saveKeyring()
	})
	if err != nil {
		return 0, fmt.Errorf("sealed.RotateKey %q: %w", id, err)
	}
	s.publish(kr)
	return term, nil
}

// RotateRootKey re-seals the keyring under newRoot. No data record is
// re-encrypted: they are sealed under key terms, which the keyring holds.
// Once it returns, the stored data opens only with newRoot: [Open] with the
// old root key fails.
//
// Other processes sharing the backend cannot read the keyring afterwards
// until they are reopened with newRoot; until then they keep serving values
// under the key terms they have cached.
//
// It returns an error wrapping [crypto.ErrInvalidKey] for a zero newRoot,
// and errors from the backend.
func (s *Store) RotateRootKey(ctx context.Context, newRoot crypto.Key) error {
	if newRoot.IsZero() {
		return fmt.Errorf("sealed.RotateRootKey: new root key: %w", crypto.ErrInvalidKey)
	}
	if s.closed.Load() {
		return fmt.Errorf("sealed.RotateRootKey: %w", storage.ErrClosed)
	}
	s.rotateRoot.Lock()
	defer s.rotateRoot.Unlock()

	var newTerm uint32
	err := s.b.Update(ctx, func(btx storage.Tx) error {
		t := &tx{s: s, tx: btx, writable: true}
		if err := t.loadKeyring(); err != nil {
			return err
		}
		if t.rootTerm == math.MaxUint32 {
			return errors.New("root term exhausted")
		}
		newTerm = t.rootTerm + 1
		// Registered before the commit, so that a transaction reading the
		// keyring between the commit and roots.commit can open it.
		s.roots.addNext(newTerm, newRoot)
		t.root, t.rootTerm = newRoot, newTerm
		return t.saveKeyring()
	})
	if err != nil {
		s.roots.abort()
		return fmt.Errorf("sealed.RotateRootKey: %w", err)
	}
	s.roots.commit(newTerm)
	return nil
}
