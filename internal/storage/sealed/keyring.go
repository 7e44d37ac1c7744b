package sealed

import (
	"errors"
	"fmt"
	"sync"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// The keyring record is crypto.Seal(root, crypto.RootKeyID, rootTerm,
// KeyringKey, keyring.Marshal()). The root term counts root keys: 1 for the
// first, plus one per RotateRootKey. It lets a Store tell which of the root
// keys it holds (see roots) opens a keyring record read by a transaction.

// errRootMismatch prefixes every failure to open the keyring record.
const errRootMismatch = "the root key does not match the data: keyring %q (root term %d) does not open: %w"

// readRootKeyring reads and opens the keyring record of tx under root,
// whatever its root term. It returns a nil keyring and no error if there is
// no record.
func readRootKeyring(tx storage.Tx, root crypto.Key) (*crypto.Keyring, uint32, error) {
	ct, err := tx.Get(KeyringKey)
	if errors.Is(err, storage.ErrNotFound) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("reading keyring: %w", err)
	}
	term, err := crypto.Term(ct)
	if err != nil {
		return nil, 0, fmt.Errorf(errRootMismatch, KeyringKey, 0, err)
	}
	kr, err := openKeyring(ct, root, term)
	return kr, term, err
}

// openKeyring opens the keyring record ct, whose root term is term, with
// root.
func openKeyring(ct []byte, root crypto.Key, term uint32) (*crypto.Keyring, error) {
	pt, err := crypto.Open(root, crypto.RootKeyID, KeyringKey, ct)
	if err != nil {
		return nil, fmt.Errorf(errRootMismatch, KeyringKey, term, err)
	}
	kr, err := crypto.ParseKeyring(pt)
	clear(pt)
	if err != nil {
		return nil, fmt.Errorf("keyring %q: %w", KeyringKey, err)
	}
	return kr, nil
}

// writeKeyring seals kr under root with root term term and puts it in tx.
func writeKeyring(tx storage.Tx, kr *crypto.Keyring, root crypto.Key, term uint32) error {
	pt, err := kr.Marshal()
	if err != nil {
		return err
	}
	ct, err := crypto.Seal(root, crypto.RootKeyID, term, KeyringKey, pt)
	clear(pt)
	if err != nil {
		return err
	}
	if err := tx.Put(KeyringKey, ct); err != nil {
		return fmt.Errorf("writing keyring: %w", err)
	}
	return nil
}

// roots holds the root keys a Store can open the keyring with, by root term:
// the current one, the previous one (a transaction whose snapshot predates
// the last RotateRootKey still reads the keyring sealed under it), and,
// while RotateRootKey runs, the next one (a transaction that reads the
// keyring just after the rotation commits, before RotateRootKey returns).
// Keeping the previous key costs nothing the rotation protects against: a
// root key is rotated because a copy of it may exist outside the process.
type roots struct {
	mu      sync.Mutex
	keys    map[uint32]crypto.Key
	current uint32
	prev    uint32 // 0: none
}

func (r *roots) init(term uint32, root crypto.Key) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = map[uint32]crypto.Key{term: root}
	r.current = term
}

// get returns the root key of root term term.
func (r *roots) get(term uint32) (crypto.Key, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	k, ok := r.keys[term]
	return k, ok
}

// currentKey returns the current root term and key.
func (r *roots) currentKey() (uint32, crypto.Key) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.current, r.keys[r.current]
}

// addNext registers the key of a root term that a RotateRootKey attempt is
// about to commit.
func (r *roots) addNext(term uint32, root crypto.Key) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.keys != nil && term != r.current && term != r.prev {
		r.keys[term] = root
	}
}

// commit makes term, registered by addNext, current.
func (r *roots) commit(term uint32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prev, r.current = r.current, term
	r.prune()
}

// abort forgets the keys registered by addNext.
func (r *roots) abort() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.prune()
}

func (r *roots) prune() {
	for term := range r.keys {
		if term != r.current && term != r.prev {
			delete(r.keys, term)
		}
	}
}

func (r *roots) clear() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.keys = nil
}

// loadKeyring reads the keyring committed in t's transaction, with whichever
// root key its root term names, and keeps it in t (replacing any keyring t
// held) along with that root, so that a term added in t is written back
// under the same root.
func (t *tx) loadKeyring() error {
	ct, err := t.tx.Get(KeyringKey)
	if errors.Is(err, storage.ErrNotFound) {
		// Open created it: its absence is damage, not a fresh store.
		return fmt.Errorf("keyring %q is missing: %w", KeyringKey, crypto.ErrIntegrity)
	}
	if err != nil {
		return fmt.Errorf("reading keyring: %w", err)
	}
	term, err := crypto.Term(ct)
	if err != nil {
		return fmt.Errorf(errRootMismatch, KeyringKey, 0, err)
	}
	root, ok := t.s.roots.get(term)
	if !ok {
		cur, _ := t.s.roots.currentKey()
		return fmt.Errorf("keyring %q is sealed under root term %d, this store holds root term %d (root key rotated elsewhere?): %w",
			KeyringKey, term, cur, crypto.ErrIntegrity)
	}
	kr, err := openKeyring(ct, root, term)
	if err != nil {
		return err
	}
	t.keyring, t.root, t.rootTerm = kr, root, term
	return nil
}

// saveKeyring writes t's keyring back under t's root key and root term.
func (t *tx) saveKeyring() error {
	return writeKeyring(t.tx, t.keyring, t.root, t.rootTerm)
}
