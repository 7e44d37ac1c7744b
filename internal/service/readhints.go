package service

import "sync"

// maxReadHints bounds the hints a node keeps: past it they are all
// forgotten and learnt again from the next reads.
const maxReadHints = 4096

// readHints remembers, per secret, its id and current version as this node
// last read them, so that a read can ask the store for the secret record
// and the data of the version it expects in one step
// ([storage.GetMany], one statement on PostgreSQL) instead of reading the
// record first and then the data it names.
//
// A hint is only a guess about which data record to fetch alongside: the
// read always decides from the secret record fetched in the same snapshot,
// and uses the data fetched with it only when the record names exactly
// that version of that secret; otherwise it reads again as before. So a
// stale hint (another node wrote a version, the secret was deleted and
// created again) costs one more read, never a wrong answer, and nothing
// needs invalidating: version data is keyed by the secret's random id and
// the version number, never rewritten in place.
type readHints struct {
	mu sync.RWMutex
	m  map[string]readHint
}

type readHint struct {
	id      string // the secret's id
	current uint32 // its current version
}

func (h *readHints) get(key string) (readHint, bool) {
	h.mu.RLock()
	v, ok := h.m[key]
	h.mu.RUnlock()
	return v, ok
}

func (h *readHints) put(key string, v readHint) {
	if old, ok := h.get(key); ok && old == v {
		return
	}
	h.mu.Lock()
	if h.m == nil || len(h.m) >= maxReadHints {
		h.m = make(map[string]readHint)
	}
	h.m[key] = v
	h.mu.Unlock()
}
