package crypto

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"sync"
	"time"
)

// keyringFormat is the version written by [Keyring.Marshal]. A new layout
// gets a new number; old numbers are never reinterpreted.
const keyringFormat = 1

// KeyTerm is one numbered term of a key family.
type KeyTerm struct {
	// Term is the term number, from 1.
	Term uint32
	// Key is the term's key. It prints as REDACTED.
	Key Key
	// Created is when the term was added.
	Created time.Time
}

// Keyring holds the terms of every key family ([KeyID]) except the root key.
// The current term of a family is its highest; older terms are kept so that
// values sealed under them still open.
//
// A Keyring is safe for concurrent use. Its zero value is not usable; make
// one with [NewKeyring] or [ParseKeyring]. It prints as REDACTED through fmt
// and log/slog. Its serialised form ([Keyring.Marshal]) holds the keys in
// clear and must itself be sealed (under the root key) before it is stored.
type Keyring struct {
	mu sync.RWMutex
	// terms holds each family's terms in ascending term order.
	terms map[KeyID][]KeyTerm
	// generation counts the terms ever added, so that of two copies of one
	// keyring the newer can be told from the older.
	generation uint64
}

// NewKeyring returns an empty keyring.
func NewKeyring() *Keyring {
	return &Keyring{terms: make(map[KeyID][]KeyTerm)}
}

// Current returns the current (highest) term of the family id, and false if
// the family has no term.
func (r *Keyring) Current(id KeyID) (KeyTerm, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ts := r.terms[id]
	if len(ts) == 0 {
		return KeyTerm{}, false
	}
	return ts[len(ts)-1], true
}

// Lookup returns term term of the family id, and false if there is none.
func (r *Keyring) Lookup(id KeyID, term uint32) (KeyTerm, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	ts := r.terms[id]
	i, ok := slices.BinarySearchFunc(ts, term, func(t KeyTerm, n uint32) int {
		switch {
		case t.Term < n:
			return -1
		case t.Term > n:
			return 1
		}
		return 0
	})
	if !ok {
		return KeyTerm{}, false
	}
	return ts[i], true
}

// Add adds k, created at created, as the new current term of the family id
// (term 1 for a new family) and returns its number. This is key rotation:
// older terms stay available to [Keyring.Lookup].
//
// Add returns [ErrInvalidKeyID] for an empty id or [RootKeyID], and
// [ErrInvalidKey] for a zero key.
func (r *Keyring) Add(id KeyID, k Key, created time.Time) (uint32, error) {
	if id == "" || id == RootKeyID || len(id) > maxIDLen {
		return 0, fmt.Errorf("crypto.Keyring.Add %q: %w", id, ErrInvalidKeyID)
	}
	if k.IsZero() {
		return 0, fmt.Errorf("crypto.Keyring.Add %q: %w", id, ErrInvalidKey)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	ts := r.terms[id]
	term := uint32(1)
	if len(ts) > 0 {
		last := ts[len(ts)-1].Term
		if last == math.MaxUint32 {
			return 0, fmt.Errorf("crypto.Keyring.Add %q: no term after %d: %w", id, last, ErrInvalidTerm)
		}
		term = last + 1
	}
	// A new slice, so that a KeyTerm slice handed out earlier is never
	// written to.
	r.terms[id] = append(slices.Clip(ts), KeyTerm{Term: term, Key: k, Created: created})
	r.generation++
	return term, nil
}

// IDs returns the key families that have at least one term, sorted. The
// slice belongs to the caller.
func (r *Keyring) IDs() []KeyID {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return slices.Sorted(maps.Keys(r.terms))
}

// Generation returns the number of terms ever added to this keyring (and to
// the keyrings it was parsed from). Of two copies of one stored keyring, the
// one with the higher generation is the newer.
func (r *Keyring) Generation() uint64 {
	r.mu.RLock()
	defer r.mu.RUnlock()
	return r.generation
}

// String returns "crypto.Keyring(REDACTED)", never key material.
func (r *Keyring) String() string { return "crypto.Keyring(" + redacted + ")" }

// GoString returns "crypto.Keyring(REDACTED)" so that %#v cannot print key
// material.
func (r *Keyring) GoString() string { return r.String() }

// LogValue returns the string "REDACTED" so that log/slog cannot print key
// material.
func (r *Keyring) LogValue() slog.Value { return slog.StringValue(redacted) }

// keyringJSON is the serialised keyring. Key bytes are base64 (encoding/json
// encodes []byte so).
type keyringJSON struct {
	Format     int                     `json:"format"`
	Generation uint64                  `json:"generation"`
	Keys       map[KeyID][]keyTermJSON `json:"keys"`
}

type keyTermJSON struct {
	Term    uint32    `json:"term"`
	Created time.Time `json:"created"`
	Key     []byte    `json:"key"`
}

// Marshal serialises the keyring as versioned JSON. The result holds every
// key in clear: seal it before storing it. The slice belongs to the caller.
//
// Marshal is deliberately not MarshalJSON, so that encoding a struct that
// happens to contain a Keyring cannot leak it.
func (r *Keyring) Marshal() ([]byte, error) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	v := keyringJSON{Format: keyringFormat, Generation: r.generation, Keys: make(map[KeyID][]keyTermJSON, len(r.terms))}
	for id, ts := range r.terms {
		out := make([]keyTermJSON, len(ts))
		for i, t := range ts {
			out[i] = keyTermJSON{Term: t.Term, Created: t.Created, Key: t.Key.material().b[:]}
		}
		v.Keys[id] = out
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("crypto.Keyring.Marshal: %w", err)
	}
	return b, nil
}

// ParseKeyring parses the output of [Keyring.Marshal]. It returns an error
// wrapping [ErrKeyringFormat] for invalid JSON, an unknown format version,
// unknown fields, an invalid key id, a key that is not [KeySize] bytes, or
// terms that are 0 or not strictly ascending. Errors never contain key
// material.
func ParseKeyring(data []byte) (*Keyring, error) {
	var v keyringJSON
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil || dec.More() {
		// The JSON error may quote part of the input, which holds keys:
		// drop it.
		return nil, fmt.Errorf("crypto.ParseKeyring: invalid JSON: %w", ErrKeyringFormat)
	}
	if v.Format != keyringFormat {
		return nil, fmt.Errorf("crypto.ParseKeyring: unknown format %d: %w", v.Format, ErrKeyringFormat)
	}
	r := NewKeyring()
	r.generation = v.Generation
	for id, ts := range v.Keys {
		if id == "" || id == RootKeyID || len(id) > maxIDLen {
			return nil, fmt.Errorf("crypto.ParseKeyring: key id %q: %w", id, ErrKeyringFormat)
		}
		if len(ts) == 0 {
			continue
		}
		terms := make([]KeyTerm, len(ts))
		for i, t := range ts {
			if t.Term == 0 || (i > 0 && t.Term <= ts[i-1].Term) {
				return nil, fmt.Errorf("crypto.ParseKeyring: key id %q: term %d out of order: %w", id, t.Term, ErrKeyringFormat)
			}
			k, err := keyFromBytes(t.Key)
			if err != nil {
				return nil, fmt.Errorf("crypto.ParseKeyring: key id %q term %d: key of %d bytes: %w", id, t.Term, len(t.Key), ErrKeyringFormat)
			}
			terms[i] = KeyTerm{Term: t.Term, Key: k, Created: t.Created}
		}
		r.terms[id] = terms
	}
	return r, nil
}
