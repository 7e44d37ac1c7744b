package service

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Authenticating a token costs a storage read, the decoding of its record
// (and its parents' and its user's) and a digest. Clients that read secrets
// per request send the same token again and again, so the service keeps
// the principal of each recently seen token for a short while.
//
// Revocation still takes effect at once: every committed transaction of
// this process that deletes a record under iam/ (a token, a user, a group)
// or rewrites one other than a token record (a user's group, a group's
// role) drops the whole cache before the revoking call returns, and tells
// the other processes sharing the store (storage.Notifier), which drop
// theirs. Whatever a notification misses (a lost connection to the store,
// a change made by another tool), an entry expires after principalTTL, and
// never outlives the token's own expiry. Only successful authentications
// are cached; certificate authentication is not.

// principalTTL bounds how long a cached principal is used without reading
// the token again.
const principalTTL = time.Second

// maxCachedPrincipals bounds the cache; when it is full, it starts over.
const maxCachedPrincipals = 4096

// changedTokens is the notification payload that makes other processes
// drop their cached principals.
const changedTokens = "tokens"

// cachedPrincipal is the principal a token digest authenticated as.
type cachedPrincipal struct {
	p     auth.Principal // Identities is never modified (its capacity is clipped)
	until int64          // unix nanoseconds: usable strictly before
	// lastUsed is the token's recorded last use; the request that finds it
	// stale records a new one, and only that request.
	lastUsed atomic.Int64
}

// principalCache maps token digests to principals. It is safe for
// concurrent use.
type principalCache struct {
	mu      sync.RWMutex
	gen     uint64 // incremented by every invalidation
	entries map[string]*cachedPrincipal
}

func (c *principalCache) get(digest string, now time.Time) (*cachedPrincipal, bool) {
	c.mu.RLock()
	e := c.entries[digest]
	c.mu.RUnlock()
	if e == nil || now.UnixNano() >= e.until {
		return nil, false
	}
	return e, true
}

// generation returns a value to pass to put: an entry read from the store
// after it was taken is only kept if no invalidation happened since.
func (c *principalCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

func (c *principalCache) put(digest string, e *cachedPrincipal, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return // the principal may have been read before a revocation
	}
	if c.entries == nil || len(c.entries) >= maxCachedPrincipals {
		c.entries = make(map[string]*cachedPrincipal)
	}
	c.entries[digest] = e
}

// invalidate drops every entry.
func (c *principalCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.entries = nil
}

// newCachedPrincipal returns a cache entry for p, usable until the
// earlier of now+principalTTL and expires (unix nanoseconds, 0 for never).
func newCachedPrincipal(p auth.Principal, now time.Time, expires, lastUsed int64) *cachedPrincipal {
	until := now.Add(principalTTL).UnixNano()
	if expires != 0 && expires < until {
		until = expires
	}
	p.Identities = slices.Clip(p.Identities)
	e := &cachedPrincipal{p: p, until: until}
	e.lastUsed.Store(lastUsed)
	return e
}

// iamWatch wraps the system store so that a committed change to the
// records authentication reads drops the cached principals (see above).
type iamWatch struct {
	storage.Backend
	changed func(ctx context.Context)
}

// Update implements [storage.Backend].
func (w *iamWatch) Update(ctx context.Context, fn func(storage.Tx) error) error {
	var hit atomic.Bool // fn may run on another goroutine (group commit)
	err := w.Backend.Update(ctx, func(tx storage.Tx) error {
		return fn(&iamWatchTx{Tx: tx, hit: &hit})
	})
	if hit.Load() {
		// Even after a failed attempt: dropping the cache is always safe.
		w.changed(ctx)
	}
	return err
}

// GetMany implements [storage.MultiGetter]: reads change nothing to watch.
func (w *iamWatch) GetMany(ctx context.Context, keys []string) ([][]byte, error) {
	return storage.GetMany(ctx, w.Backend, keys)
}

// Unwrap returns the store watched, for optional capabilities
// (storage.NotifierOf).
func (w *iamWatch) Unwrap() storage.Backend { return w.Backend }

type iamWatchTx struct {
	storage.Tx
	hit *atomic.Bool
}

// GetShared keeps the watched transaction's shared reads.
func (t *iamWatchTx) GetShared(key string) ([]byte, error) { return storage.GetShared(t.Tx, key) }

func (t *iamWatchTx) Put(key string, value []byte) error {
	// A token record, once written, only changes in its last use: writing
	// one creates a token or records a use, and revokes nothing; nor does
	// indexing an OAuth2 token under its service account.
	if strings.HasPrefix(key, prefixIAM) && !strings.HasPrefix(key, prefixTokens) && !strings.HasPrefix(key, prefixOATs) {
		t.hit.Store(true)
	}
	return t.Tx.Put(key, value)
}

func (t *iamWatchTx) Delete(key string) error {
	if strings.HasPrefix(key, prefixIAM) {
		t.hit.Store(true)
	}
	return t.Tx.Delete(key)
}

// principalsChanged drops this process's cached principals and tells the
// other processes to drop theirs.
func (s *Service) principalsChanged(ctx context.Context) {
	s.principals.invalidate()
	s.notify(ctx, changedTokens)
}
