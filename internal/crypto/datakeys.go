package crypto

import (
	"bytes"
	"crypto/cipher"
	"sync"
)

// dataKeyCacheSize bounds the unwrapped data keys [Open] keeps, for all
// key terms together: about 0.7 KiB each (the AES key schedule and GCM
// tables), so at most about 1.5 MiB.
const dataKeyCacheSize = 2048

// dataKeys keeps the AES-GCM AEADs of recently opened data keys, so that
// reading the same records again (a hot secret read thousands of times a
// second) does not unwrap their data keys and set up two ciphers each
// time: half of the cryptographic work of a read.
//
// An entry is found by the key term that wrapped it (its material, so a
// term that is no longer held cannot be used to find anything) and the
// wrapped key's bytes (nonce, encrypted key and tag: unique to one Seal),
// and it is used only when the associated data (family, term, storage
// key) is byte-for-byte the one its wrap authenticated: a ciphertext moved
// to another storage key misses and takes the full path, which refuses
// it. So Open accepts and refuses exactly what it would without the cache.
// The cache keeps data keys in memory that the key terms in memory can
// unwrap anyway. It is bounded; when full, an arbitrary entry makes room.
var dataKeys = &dataKeyCache{m: make(map[dataKeyID]dataKeyEntry, dataKeyCacheSize)}

type dataKeyID struct {
	kek     *keyMaterial
	wrapped [wrappedSize]byte
}

type dataKeyEntry struct {
	ad   []byte
	aead cipher.AEAD
}

type dataKeyCache struct {
	mu sync.RWMutex
	m  map[dataKeyID]dataKeyEntry
}

func (c *dataKeyCache) get(kek *keyMaterial, wrapped [wrappedSize]byte, ad []byte) cipher.AEAD {
	c.mu.RLock()
	e, ok := c.m[dataKeyID{kek, wrapped}]
	c.mu.RUnlock()
	if !ok || !bytes.Equal(e.ad, ad) {
		return nil
	}
	return e.aead
}

func (c *dataKeyCache) put(kek *keyMaterial, wrapped [wrappedSize]byte, ad []byte, aead cipher.AEAD) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= dataKeyCacheSize {
		for id := range c.m {
			delete(c.m, id)
			break
		}
	}
	c.m[dataKeyID{kek, wrapped}] = dataKeyEntry{ad: ad, aead: aead}
}

// len returns the number of cached data keys (tests).
func (c *dataKeyCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
