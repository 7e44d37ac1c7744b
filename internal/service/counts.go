package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// A domain's secret counts (secretCount and secretVersionCount of
// okms-rest.md 5.3) are maintained by the writes that change them, in the
// same transaction, so that reading them costs the same for ten secrets
// or a million (issue 21). They live in two kinds of records:
//
//   - d/<okmsId>/n: the base counts, present once the domain's counts were
//     computed (at creation, or once by a scan on the first read after an
//     upgrade from a store without counts);
//   - d/<okmsId>/n/<uuid>: the change one committed write made. Each write
//     puts a record of its own, never read nor written by another write,
//     so that writes in one domain do not queue on one counter row (nor
//     conflict on it under PostgreSQL's SERIALIZABLE), as they would
//     reading and writing a shared one.
//
// The counts are the base plus every change. Reading them folds the
// changes into the base when there are more than countsFold of them, as
// does every countsFoldEvery-th write of a process.
const (
	countsFold      = 256
	countsFoldEvery = 1024
)

func countsKey(domain string) string          { return prefixDomainData + domain + "/n" }
func countsChangePrefix(domain string) string { return prefixDomainData + domain + "/n/" }

// countsRecord is the base counts, or one write's change to them.
type countsRecord struct {
	Secrets  int64 `json:"s"`
	Versions int64 `json:"v"`
}

func encodeCounts(c countsRecord) ([]byte, error) { return json.Marshal(c) }

func decodeCounts(b []byte) (countsRecord, error) {
	var c countsRecord
	if err := json.Unmarshal(b, &c); err != nil {
		return c, fmt.Errorf("service: counts record: %w", err)
	}
	return c, nil
}

// countingTx is the Tx of a domain's write transactions (domainUpdate): it
// follows what the transaction does to secret records and adds up the
// change to the domain's counts, which flush writes.
type countingTx struct {
	storage.Tx
	domain string
	// stored is, per secret key the transaction read or wrote, the number
	// of retained, non-deleted versions its stored record has now; -1 when
	// there is no record.
	stored            map[string]int
	secrets, versions int64
}

func newCountingTx(tx storage.Tx, domain string) *countingTx {
	return &countingTx{Tx: tx, domain: domain, stored: make(map[string]int, 1)}
}

// GetShared forwards the shared reads of the transaction (storage.SharedGetter).
func (t *countingTx) GetShared(key string) ([]byte, error) { return storage.GetShared(t.Tx, key) }

// storedVersions returns what t knows of the stored record under key,
// reading it if t has not seen it.
func (t *countingTx) storedVersions(key string) (int, error) {
	if n, ok := t.stored[key]; ok {
		return n, nil
	}
	b, err := t.Tx.Get(key)
	if errors.Is(err, storage.ErrNotFound) {
		return -1, nil
	}
	if err != nil {
		return 0, err
	}
	sec, err := decodeSecret(b)
	if err != nil {
		return 0, err
	}
	return sec.RetainedActive(), nil
}

// secretRead records what a read of the secret record under key found
// (versions -1: no record), if tx counts.
func secretRead(tx storage.Tx, key string, versions int) {
	if t, ok := tx.(*countingTx); ok {
		if _, seen := t.stored[key]; !seen {
			t.stored[key] = versions
		}
	}
}

// secretWritten records that the record under key now has versions
// retained, non-deleted versions (-1: deleted), if tx counts.
func secretWritten(tx storage.Tx, key string, versions int) error {
	t, ok := tx.(*countingTx)
	if !ok {
		return nil
	}
	old, err := t.storedVersions(key)
	if err != nil {
		return err
	}
	switch {
	case old < 0 && versions >= 0:
		t.secrets++
		t.versions += int64(versions)
	case old >= 0 && versions < 0:
		t.secrets--
		t.versions -= int64(old)
	case old >= 0:
		t.versions += int64(versions - old)
	}
	t.stored[key] = versions
	return nil
}

// flush puts the transaction's change to the counts, if any, under a key
// of its own, and reports whether it did.
func (t *countingTx) flush(id string) (bool, error) {
	if t.secrets == 0 && t.versions == 0 {
		return false, nil
	}
	b, err := encodeCounts(countsRecord{Secrets: t.secrets, Versions: t.versions})
	if err != nil {
		return false, err
	}
	return true, t.Tx.Put(countsChangePrefix(t.domain)+id, b)
}

// countWrites counts this process's writes that changed counts, to fold
// the changes every countsFoldEvery of them.
var countWrites atomic.Uint64

// readCounts returns a domain's counts from tx: the base and every change.
// ok is false when the domain has no base yet (a store written by an
// earlier coffer); changes is the number of change records.
func readCounts(tx storage.Tx, domain string) (c countsRecord, changes int, ok bool, err error) {
	b, err := tx.Get(countsKey(domain))
	if errors.Is(err, storage.ErrNotFound) {
		return c, 0, false, nil
	}
	if err != nil {
		return c, 0, false, err
	}
	if c, err = decodeCounts(b); err != nil {
		return c, 0, false, err
	}
	prefix := countsChangePrefix(domain)
	for after := ""; ; {
		keys, err := tx.List(prefix, after, 1000)
		if err != nil {
			return c, 0, false, err
		}
		for _, k := range keys {
			b, err := tx.Get(k)
			if err != nil {
				return c, 0, false, err
			}
			d, err := decodeCounts(b)
			if err != nil {
				return c, 0, false, err
			}
			c.Secrets += d.Secrets
			c.Versions += d.Versions
		}
		changes += len(keys)
		if len(keys) < 1000 {
			return c, changes, true, nil
		}
		after = keys[len(keys)-1]
	}
}

// foldCounts writes a domain's counts as its base and deletes the change
// records: computed by reading every secret record when there is no base
// yet (once, after an upgrade), else the base plus the changes. It returns
// the counts.
func foldCounts(tx storage.Tx, domain string) (countsRecord, error) {
	c, _, ok, err := readCounts(tx, domain)
	if err != nil {
		return c, err
	}
	if !ok {
		if c, err = countByScan(tx, domain); err != nil {
			return c, err
		}
	}
	b, err := encodeCounts(c)
	if err != nil {
		return c, err
	}
	if err := tx.Put(countsKey(domain), b); err != nil {
		return c, err
	}
	// Without a base, changes written before it are part of the scan.
	prefix := countsChangePrefix(domain)
	for {
		keys, err := tx.List(prefix, "", 1000)
		if err != nil {
			return c, err
		}
		for _, k := range keys {
			if err := tx.Delete(k); err != nil {
				return c, err
			}
		}
		if len(keys) < 1000 {
			return c, nil
		}
	}
}

// countByScan counts a domain's secrets and their retained, non-deleted
// versions by reading every secret record.
func countByScan(tx storage.Tx, domain string) (countsRecord, error) {
	var c countsRecord
	prefix := secretPrefix(domain)
	for after := ""; ; {
		keys, err := tx.List(prefix, after, 1000)
		if err != nil {
			return c, err
		}
		for _, k := range keys {
			b, err := tx.Get(k)
			if err != nil {
				return c, err
			}
			sec, err := decodeSecret(b)
			if err != nil {
				return c, err
			}
			c.Secrets++
			c.Versions += int64(sec.RetainedActive())
		}
		if len(keys) < 1000 {
			return c, nil
		}
		after = keys[len(keys)-1]
	}
}

// foldDomainCounts folds a domain's counts in a transaction of its own.
func (s *Service) foldDomainCounts(ctx context.Context, st storage.Backend, domain string) (countsRecord, error) {
	var c countsRecord
	err := st.Update(ctx, func(tx storage.Tx) error {
		var err error
		c, err = foldCounts(tx, domain)
		return err
	})
	return c, err
}
