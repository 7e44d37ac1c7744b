package service

import (
	"errors"
	"slices"
	"sync"

	"github.com/seed-3e8d63de/coffer/internal/servicekey"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// keyRecordCache keeps decoded service key records by their stored bytes,
// so that the operations on a key (encrypt, sign, ...), which read its
// record on every request, do not decode the same JSON again: decoding was
// a tenth of the server's CPU per key-encrypt request (docs/performance.md).
// An entry is found only by bytes equal to those it was decoded from, so a
// changed record is never served stale and nothing needs invalidating.
// Records hold metadata, never key material. It is safe for concurrent
// use; its zero value is ready.
type keyRecordCache struct {
	mu sync.Mutex
	m  map[string]*servicekey.Key
}

// keyRecordCacheSize bounds the entries; when full, the map is dropped
// and fills again with the keys in use.
const keyRecordCacheSize = 1024

// decode returns the key of record b, a copy the caller may change.
func (c *keyRecordCache) decode(b []byte) (*servicekey.Key, error) {
	c.mu.Lock()
	k, ok := c.m[string(b)]
	c.mu.Unlock()
	if !ok {
		var err error
		if k, err = decodeKey(b); err != nil {
			return nil, err
		}
		c.mu.Lock()
		if c.m == nil || len(c.m) >= keyRecordCacheSize {
			c.m = make(map[string]*servicekey.Key)
		}
		c.m[string(b)] = k
		c.mu.Unlock()
	}
	cp := *k
	cp.Versions = slices.Clone(k.Versions)
	return &cp, nil
}

// loadKeyCached is loadKey through the service's record cache.
func (s *Service) loadKeyCached(tx storage.Tx, domain, id string) (*servicekey.Key, error) {
	b, err := tx.Get(keyKey(domain, id))
	if errors.Is(err, storage.ErrNotFound) {
		return loadKey(tx, domain, id) // the domain's absence, or ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return s.keyRecs.decode(b)
}
