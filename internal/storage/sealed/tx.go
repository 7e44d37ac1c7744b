package sealed

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// tx is the [storage.Tx] a Store hands to transaction functions: it seals on
// Put, opens on Get, and hides KeyringKey. One tx serves one attempt of one
// transaction function, so everything it learns (a keyring read or changed
// in the transaction) is discarded if the attempt is retried.
type tx struct {
	s        *Store
	tx       storage.Tx
	writable bool

	// keyring is the keyring as this transaction sees it once read from the
	// transaction (nil until then), including terms added by this
	// transaction. When set it is preferred to the Store's cached keyring.
	keyring  *crypto.Keyring
	root     crypto.Key // the root key keyring was sealed under
	rootTerm uint32
}

// Get returns the plaintext of the value stored under key, or
// [storage.ErrNotFound] (unwrapped, from the backend) if there is none. A
// value that does not open gives an error naming key and wrapping both
// [crypto.ErrIntegrity] and [storage.ErrIntegrity]; it never carries
// plaintext.
func (t *tx) Get(key string) ([]byte, error) { return t.get(key, t.tx.Get) }

// revisionTx is the Tx of a View whose wrapped transaction has a
// revision ([storage.Revisioner]): sealing changes no revision.
type revisionTx struct {
	*tx
	rev uint64
}

func (t revisionTx) Revision() uint64 { return t.rev }

// GetShared implements [storage.SharedGetter]: Get, through the wrapped
// transaction's GetShared if it has one.
func (t *tx) GetShared(key string) ([]byte, error) {
	return t.get(key, func(k string) ([]byte, error) { return storage.GetShared(t.tx, k) })
}

func (t *tx) get(key string, fetch func(string) ([]byte, error)) ([]byte, error) {
	if reserved(key) {
		return nil, fmt.Errorf("sealed: get %q: %w", key, ErrReserved)
	}
	ct, err := fetch(key)
	if err != nil {
		return nil, err
	}
	return t.openValue(key, ct)
}

// openValue opens ct, read under key, as Get does.
func (t *tx) openValue(key string, ct []byte) ([]byte, error) {
	id := t.s.selectKey(key)
	if err := checkKeyID(id, key); err != nil {
		return nil, err
	}
	pt, err := t.open(id, key, ct)
	if err != nil {
		if errors.Is(err, crypto.ErrIntegrity) {
			return nil, fmt.Errorf("sealed: get %q: %w (%w)", key, err, storage.ErrIntegrity)
		}
		return nil, fmt.Errorf("sealed: get %q: %w", key, err)
	}
	return pt, nil
}

// open opens ct, the value stored under key in family id, with the key
// term its header names.
func (t *tx) open(id crypto.KeyID, key string, ct []byte) ([]byte, error) {
	term, err := crypto.Term(ct)
	if err != nil {
		return nil, err
	}
	kt, err := t.lookup(id, term)
	if err != nil {
		return nil, err
	}
	return crypto.Open(kt.Key, id, key, ct)
}

// lookup returns term term of family id, reading the keyring from the
// transaction if the cache does not know it: another process may have
// created it since the cache was filled.
func (t *tx) lookup(id crypto.KeyID, term uint32) (crypto.KeyTerm, error) {
	if t.keyring == nil {
		if kt, ok := t.s.keyring.Load().Lookup(id, term); ok {
			return kt, nil
		}
		if err := t.loadKeyring(); err != nil {
			return crypto.KeyTerm{}, err
		}
	}
	kt, ok := t.keyring.Lookup(id, term)
	if !ok {
		return crypto.KeyTerm{}, fmt.Errorf("no term %d for key id %q: %w", term, id, crypto.ErrIntegrity)
	}
	return kt, nil
}

// Put seals value under the current term of key's family, with key as
// associated data, and stores the result. It returns [storage.ErrReadOnly]
// in a View.
func (t *tx) Put(key string, value []byte) error {
	if reserved(key) {
		return fmt.Errorf("sealed: put %q: %w", key, ErrReserved)
	}
	if !t.writable {
		// Checked before sealing so that a read-only transaction never
		// creates a key term.
		return fmt.Errorf("sealed: put %q: %w", key, storage.ErrReadOnly)
	}
	id := t.s.selectKey(key)
	if err := checkKeyID(id, key); err != nil {
		return err
	}
	kt, err := t.current(id)
	if err != nil {
		return fmt.Errorf("sealed: put %q: %w", key, err)
	}
	ct, err := crypto.Seal(kt.Key, id, kt.Term, key, value)
	if err != nil {
		return fmt.Errorf("sealed: put %q: %w", key, err)
	}
	return t.tx.Put(key, ct)
}

// current returns the current term of family id. A family without a term
// gets its first one here, added to the keyring read from this transaction
// and written back in it: two writers racing to create it then conflict in
// the backend instead of each keeping a key of its own.
func (t *tx) current(id crypto.KeyID) (crypto.KeyTerm, error) {
	if t.keyring == nil {
		if kt, ok := t.s.keyring.Load().Current(id); ok {
			return kt, nil
		}
		if err := t.loadKeyring(); err != nil {
			return crypto.KeyTerm{}, err
		}
	}
	if kt, ok := t.keyring.Current(id); ok {
		return kt, nil
	}
	k, err := crypto.NewKey(t.s.rand)
	if err != nil {
		return crypto.KeyTerm{}, err
	}
	if _, err := t.keyring.Add(id, k, t.s.now()); err != nil {
		return crypto.KeyTerm{}, err
	}
	if err := t.saveKeyring(); err != nil {
		return crypto.KeyTerm{}, err
	}
	kt, _ := t.keyring.Current(id)
	return kt, nil
}

// Delete removes key from the wrapped backend.
func (t *tx) Delete(key string) error {
	if reserved(key) {
		return fmt.Errorf("sealed: delete %q: %w", key, ErrReserved)
	}
	return t.tx.Delete(key)
}

// List lists the wrapped backend's keys, which are in clear, leaving out
// the reserved keys.
func (t *tx) List(prefix, after string, limit int) ([]string, error) {
	n := limit
	if limit > 0 {
		for _, k := range reservedKeys {
			if strings.HasPrefix(k, prefix) && k > after {
				// A hidden key may take a place in the page: ask for one more.
				n++
			}
		}
	}
	keys, err := t.tx.List(prefix, after, n)
	if err != nil {
		return nil, err
	}
	keys = slices.DeleteFunc(keys, reserved)
	if limit > 0 && len(keys) > limit {
		keys = keys[:limit]
	}
	return keys, nil
}

// reservedKeys are the records of the wrapped backend a Store keeps from
// its callers: the keyring, and the seal record (package internal/seal),
// which is stored in clear for the seal to read before the root key is
// known.
var reservedKeys = [...]string{KeyringKey, SealRecordKey}

func reserved(key string) bool { return key == KeyringKey || key == SealRecordKey }
