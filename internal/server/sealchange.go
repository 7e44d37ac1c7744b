package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/google/uuid"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/seal"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage/sealed"
)

// Changing seals: rekey (new shares or a new passphrase) and seal
// migration (another seal type) keep the root key and re-wrap it; no data
// record changes. Both take two steps, so that the store opens, whatever
// the moment a crash stops them, with the old protection or the new one,
// never neither:
//
//  1. StartChange checks the current keys, creates the new protection,
//     wraps the root key under it and stores it as the record's Pending
//     (the record's own protection is untouched), then hands out the new
//     keys;
//  2. CommitChange, once the operator holds them, replaces the record by
//     Pending in one write. For the file seal as target it first writes
//     the key file; leaving the file seal, it deletes the key file after.
//
// Root key rotation under a stored seal is crash-safe the same way: the new
// root key is stored wrapped as NextRoot before any keyring is re-sealed,
// and replaces Root once every region is (unlockStores finishes a rotation
// a crash interrupted).

// StartChange prepares a rekey or seal migration.
func (m *sealer) StartChange(ctx context.Context, req service.SealChange) (service.SealKeys, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.root.IsZero() {
		return service.SealKeys{}, service.ErrSealed
	}
	rec, err := m.record(ctx)
	if err != nil {
		return service.SealKeys{}, err
	}
	if rec == nil || !rec.Initialized {
		return service.SealKeys{}, service.ErrNotInitialized
	}
	cur, err := m.sealOf(rec.Type)
	if err != nil {
		return service.SealKeys{}, err
	}
	if !cur.Auto() {
		if err := m.checkKeys(ctx, cur, rec, req.Keys); err != nil {
			return service.SealKeys{}, err
		}
	}
	to := rec.Type
	if req.To != "" {
		if to, err = seal.ParseType(req.To); err != nil {
			return service.SealKeys{}, fmt.Errorf("%w: %v", service.ErrSealParameters, err)
		}
	}
	if to == seal.TypeFile && rec.Type == seal.TypeFile {
		return service.SealKeys{}, fmt.Errorf("%w: the seal is the file seal already; `coffer operator rotate-master-key` replaces its key", service.ErrSealParameters)
	}
	if to == seal.TypeFile && m.cfg.Dev {
		return service.SealKeys{}, fmt.Errorf("%w: dev mode keeps no key file", service.ErrSealParameters)
	}
	target, err := m.sealOf(to)
	if err != nil {
		return service.SealKeys{}, fmt.Errorf("%w: %v", service.ErrSealParameters, err)
	}
	newRec, w, keys, err := target.Create(ctx, seal.CreateOptions{Shares: req.Shares, Threshold: req.Threshold, Passphrase: req.Passphrase})
	if err != nil {
		return service.SealKeys{}, sealParamError(err)
	}
	out, err := handOut(keys, req.Recipients)
	if err == nil && to != seal.TypeFile {
		// The file seal's key file is written at the commit.
		newRec.Root, err = w.Wrap(ctx, m.root)
	}
	if err != nil {
		w.Wipe()
		return service.SealKeys{}, err
	}
	newRec.Initialized = true
	rec.Pending, rec.Nonce = newRec, uuid.NewString()
	if err := m.writeRecord(ctx, rec); err != nil {
		w.Wipe()
		return service.SealKeys{}, err
	}
	if m.pending != nil {
		m.pending.Wipe()
	}
	m.pending, m.pendingNonce = w, rec.Nonce
	out.Type, out.T, out.N, out.Nonce = string(to), newRec.T(), newRec.N(), rec.Nonce
	m.log.Info("seal change started", "from", rec.Type, "to", to, "nonce", rec.Nonce)
	return out, nil
}

// checkKeys checks the current unseal keys of a manual seal: they must
// open it, and unwrap the root key in memory.
func (m *sealer) checkKeys(ctx context.Context, s seal.Seal, rec *seal.Record, keys []string) error {
	if len(keys) < rec.T() {
		return fmt.Errorf("%w: the current seal needs %d unseal keys, %d given", service.ErrUnsealKeys, rec.T(), len(keys))
	}
	w, err := m.unlockWith(ctx, s, rec, keys)
	if err != nil {
		return err
	}
	defer w.Wipe()
	root, err := w.Unwrap(ctx, rec.Root)
	if err != nil || !root.Equal(m.root) {
		return fmt.Errorf("%w: they do not unwrap the root key in use", service.ErrUnsealKeys)
	}
	return nil
}

// unlockWith decodes keys and unlocks rec with them.
func (m *sealer) unlockWith(ctx context.Context, s seal.Seal, rec *seal.Record, keys []string) (seal.Wrapper, error) {
	raw := make([][]byte, 0, len(keys))
	defer func() {
		for _, k := range raw {
			clear(k)
		}
	}()
	for _, k := range keys {
		b, err := seal.DecodeKey(rec.Type, k)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", service.ErrUnsealKeys, err)
		}
		raw = append(raw, b)
	}
	w, err := s.Unlock(ctx, rec, raw)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", service.ErrUnsealKeys, err)
	}
	return w, nil
}

// CommitChange puts the pending change in place.
func (m *sealer) CommitChange(ctx context.Context, req service.SealCommit) (service.SealStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.root.IsZero() {
		return service.SealStatus{}, service.ErrSealed
	}
	rec, err := m.record(ctx)
	if err != nil {
		return service.SealStatus{}, err
	}
	if rec == nil || rec.Pending == nil || req.Nonce == "" || req.Nonce != rec.Nonce {
		return m.status(rec), service.ErrNoSealChange
	}
	p := rec.Pending
	target, err := m.sealOf(p.Type)
	if err != nil {
		return m.status(rec), err
	}
	w := m.pending
	if m.pendingNonce != rec.Nonce {
		w = nil // started on another node, or before a restart
	}
	if len(req.Keys) > 0 || (w == nil && !target.Auto()) {
		if len(req.Keys) == 0 {
			return m.status(rec), fmt.Errorf("%w: this change was started elsewhere; give %d of its new keys to commit it", service.ErrUnsealKeys, p.T())
		}
		nw, err := m.unlockWith(ctx, target, p, req.Keys)
		if err != nil {
			return m.status(rec), err
		}
		if root, err := nw.Unwrap(ctx, p.Root); err != nil || !root.Equal(m.root) {
			nw.Wipe()
			return m.status(rec), fmt.Errorf("%w: the new keys do not unwrap the root key in use", service.ErrUnsealKeys)
		}
		if w != nil {
			w.Wipe()
		}
		w = nw
	}
	if w == nil {
		if w, err = target.Unlock(ctx, p, nil); err != nil {
			return m.status(rec), err
		}
	}
	if p.Type == seal.TypeFile {
		// The key file first: if the record write below does not happen,
		// the old seal still opens the store (and a new commit finds the
		// same key in the file).
		if _, err := w.Wrap(ctx, m.root); err != nil {
			return m.status(rec), err
		}
	}
	from := rec.Type
	next := *p
	next.Pending, next.Nonce, next.NextRoot = nil, "", nil
	if err := m.writeRecord(ctx, &next); err != nil {
		return m.status(rec), err
	}
	if m.wrapper != nil && m.wrapper != w {
		m.wrapper.Wipe()
	}
	m.wrapper, m.pending, m.pendingNonce = w, nil, ""
	m.resetKeys()
	m.log.Info("seal change committed", "from", from, "to", next.Type)
	if from == seal.TypeFile && next.Type != seal.TypeFile && !m.cfg.Dev {
		if err := os.Remove(keyFilePath(m.cfg)); err != nil && !errors.Is(err, os.ErrNotExist) {
			m.log.Warn("could not delete the root key file the file seal used; delete it", "key_file", keyFilePath(m.cfg), "err", err)
		}
	}
	return m.status(&next), nil
}

// rotateRoot re-seals every keyring under a new root key. Under the file
// seal it returns handled = false: keys.go rotates the key file.
func (m *sealer) rotateRoot(ctx context.Context) (regions []string, handled bool, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.root.IsZero() {
		return nil, true, service.ErrSealed
	}
	rec, err := m.record(ctx)
	if err != nil {
		return nil, true, err
	}
	if rec == nil || rec.Type == seal.TypeFile {
		return nil, false, nil
	}
	if m.wrapper == nil {
		return nil, true, errors.New("the seal's key is not in memory")
	}
	next, err := crypto.NewKey(rand.Reader)
	if err != nil {
		return nil, true, err
	}
	if rec.NextRoot, err = m.wrapper.Wrap(ctx, next); err != nil {
		return nil, true, err
	}
	if err := m.writeRecord(ctx, rec); err != nil {
		return nil, true, err
	}
	ids := m.Regions()
	regions = []string{}
	for _, id := range ids {
		if err := m.open[id].RotateRootKey(ctx, next); err != nil {
			// The record keeps NextRoot: the next unseal sorts the regions out.
			return regions, true, fmt.Errorf("region %s: %w", id, err)
		}
		regions = append(regions, id)
	}
	rec.Root, rec.NextRoot = rec.NextRoot, nil
	if err := m.writeRecord(ctx, rec); err != nil {
		return regions, true, err
	}
	// The old root key is not wiped: the stores keep it for transactions
	// whose snapshot predates the rotation.
	m.root = next
	slices.Sort(regions)
	return regions, true, nil
}

// sealedStore returns the encrypted store of a region, ErrSealed while
// sealed.
func (m *sealer) sealedStore(region string) (*sealed.Store, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	st, ok := m.open[region]
	if !ok {
		if m.open == nil {
			return nil, service.ErrSealed
		}
		return nil, fmt.Errorf("region %s is not encrypted by this server", region)
	}
	return st, nil
}

// rotatedFileRoot records the root key a file seal rotation put in place.
func (m *sealer) rotatedFileRoot(next crypto.Key) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.root = next
	if m.cfg.Dev {
		if c, err := copyKey(next); err == nil {
			m.devRoot = c
		}
	}
}
