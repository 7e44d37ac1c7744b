package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/google/uuid"

	"github.com/seed-3e8d63de/coffer/internal/config"
	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/seal"
	"github.com/seed-3e8d63de/coffer/internal/seal/okmsseal"
	"github.com/seed-3e8d63de/coffer/internal/seal/transitseal"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/sealed"
)

// sealer implements service.Sealer over internal/seal: it reads and writes
// the seal record in the default region's raw store, collects unseal keys,
// and opens every region's store under the root key once unsealed.
//
// The raw stores stay open for the server's life (the seal record must be
// readable while sealed); the encrypted stores exist only while unsealed.
type sealer struct {
	cfg    Config
	log    *slog.Logger
	raws   map[string]storage.Backend // region → raw store (timed), never closed here
	system string                     // the default region: it holds the seal record
	family func(string) crypto.KeyID
	// want is the seal type the configuration asks for: it decides the
	// seal of a new installation. An existing one's record decides for it.
	want seal.Type

	mu      sync.Mutex
	keys    [][]byte // unseal keys submitted so far
	nonce   string   // of the unseal in progress
	open    map[string]*sealed.Store
	root    crypto.Key   // while unsealed
	wrapper seal.Wrapper // while unsealed: re-wraps the root key (rotation)
	devRoot crypto.Key   // --dev with the file seal: the root key lives in memory
	// pending is the Wrapper of a started rekey or migration, kept so that
	// the commit needs no new keys.
	pending      seal.Wrapper
	pendingNonce string
}

var _ service.Sealer = (*sealer)(nil)

// newSealer checks the configured seal against the store's and returns the
// sealer. A --seal that differs from an installation's seal is refused:
// changing seals is what migrate-seal does.
func newSealer(ctx context.Context, cfg Config, raws map[string]storage.Backend, system string, log *slog.Logger) (*sealer, error) {
	want := seal.TypeFile
	if cfg.Seal != "" {
		t, err := seal.ParseType(cfg.Seal)
		if err != nil {
			return nil, err
		}
		want = t
	}
	m := &sealer{cfg: cfg, log: log, raws: raws, system: system, want: want,
		family: func(key string) crypto.KeyID { return crypto.KeyID(service.KeyFamily(key)) }}
	s, err := m.sealOf(want)
	if err != nil {
		return nil, err
	}
	rec, err := m.record(ctx)
	if err != nil {
		return nil, err
	}
	if rec != nil && cfg.Seal != "" && rec.Type != want {
		return nil, fmt.Errorf("this installation's seal is %s, not %s: start with --seal %s (or without --seal), and change seals with `coffer operator migrate-seal`",
			rec.Type, want, rec.Type)
	}
	if c, ok := s.(interface{ Check() error }); ok && rec == nil {
		// A new installation under a KMS seal: its settings must be
		// complete before anything is created.
		if err := c.Check(); err != nil {
			return nil, err
		}
	}
	if rec != nil && rec.Type != seal.TypeFile {
		m.warnStaleKeyFile()
	}
	return m, nil
}

// sealOf returns the seal of type t: an explicit switch, no registry.
func (m *sealer) sealOf(t seal.Type) (seal.Seal, error) {
	switch t {
	case seal.TypeFile:
		return seal.File{Path: keyFilePath(m.cfg)}, nil
	case seal.TypeShamir:
		return seal.Shamir{Rand: rand.Reader}, nil
	case seal.TypePassphrase:
		return seal.Passphrase{Rand: rand.Reader, Time: m.cfg.KDFTime, Memory: m.cfg.KDFMemory, Threads: m.cfg.KDFThreads}, nil
	case seal.TypeOKMS:
		c := m.cfg
		return okmsseal.Seal{Endpoint: c.SealOKMSEndpoint, Domain: c.SealOKMSID, KeyID: c.SealOKMSKeyID, Token: c.SealOKMSToken,
			CertFile: c.SealOKMSCert, KeyFile: c.SealOKMSCertKey, CAFile: c.SealOKMSCA}, nil
	case seal.TypeTransit:
		c := m.cfg
		return transitseal.Seal{Address: c.SealTransitAddress, Token: c.SealTransitToken, KeyName: c.SealTransitKeyName,
			MountPath: c.SealTransitMountPath, CACert: c.SealTransitCACert}, nil
	}
	return nil, fmt.Errorf("unknown seal %q", t)
}

// Regions lists the regions, the default first.
func (m *sealer) Regions() []string {
	ids := make([]string, 0, len(m.raws))
	for id := range m.raws {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// record reads the installation's seal record. An installation made
// before seals existed has none but holds data: its seal is the file seal.
// A store with neither is not initialized (nil, nil).
//
// The record and the data of the default region are read in one
// transaction (one snapshot): read apart, a node of a PostgreSQL
// installation could find no record, then the data another node wrote
// with its new record meanwhile, and take the installation for one made
// before seals existed.
func (m *sealer) record(ctx context.Context) (*seal.Record, error) {
	rec, used, err := m.storedRecord(ctx)
	if err != nil || rec != nil {
		return rec, err
	}
	if !used {
		if used, err = m.holdsData(ctx); err != nil || !used {
			return nil, err
		}
		// Another region holds data: written before seals existed, or by
		// a node that has stored its seal record since the read above
		// (a node writes the record before anything else).
		if rec, _, err = m.storedRecord(ctx); err != nil || rec != nil {
			return rec, err
		}
	}
	return &seal.Record{Type: seal.TypeFile, Initialized: true}, nil
}

// storedRecord reads the stored seal record, nil if there is none, and
// then whether the default region holds other records (in the same
// snapshot).
func (m *sealer) storedRecord(ctx context.Context) (*seal.Record, bool, error) {
	var (
		b    []byte
		used bool
	)
	err := m.raws[m.system].View(ctx, func(tx storage.Tx) error {
		var err error
		b, err = tx.Get(seal.RecordKey)
		if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		keys, err := tx.List("", "", 2)
		for _, k := range keys {
			used = used || k != seal.RecordKey
		}
		return err
	})
	if err != nil {
		return nil, false, fmt.Errorf("read the seal record: %w", err)
	}
	if b == nil {
		return nil, used, nil
	}
	rec, err := seal.ParseRecord(b)
	return rec, true, err
}

// writeRecord stores rec, in one transaction: every change of seal commits
// at that write.
func (m *sealer) writeRecord(ctx context.Context, rec *seal.Record) error {
	b, err := rec.Marshal()
	if err != nil {
		return err
	}
	return m.raws[m.system].Update(ctx, func(tx storage.Tx) error { return tx.Put(seal.RecordKey, b) })
}

// errRecordExists: createRecord found a seal record.
var errRecordExists = errors.New("a seal record exists")

// createRecord stores rec unless the store holds a seal record already
// (errRecordExists), in one transaction: of nodes starting together on an
// empty PostgreSQL store, one creates the seal.
func (m *sealer) createRecord(ctx context.Context, rec *seal.Record) error {
	b, err := rec.Marshal()
	if err != nil {
		return err
	}
	return m.raws[m.system].Update(ctx, func(tx storage.Tx) error {
		if _, err := tx.Get(seal.RecordKey); err == nil {
			return errRecordExists
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		return tx.Put(seal.RecordKey, b)
	})
}

// unsealAuto unseals with the stored record of an automatic seal.
func (m *sealer) unsealAuto(ctx context.Context) (service.SealStatus, map[string]storage.Backend, error) {
	rec, err := m.record(ctx)
	if err != nil || rec == nil || !rec.Initialized {
		return m.status(rec), nil, err
	}
	if !rec.Type.KMS() {
		return m.status(rec), nil, fmt.Errorf("the installation's seal is %s, not %s", rec.Type, m.want)
	}
	s, err := m.sealOf(rec.Type)
	if err != nil {
		return m.status(rec), nil, err
	}
	w, roots, err := unwrapRoots(ctx, s, rec)
	if err != nil {
		return m.status(rec), nil, kmsError(err)
	}
	stores, err := m.openRoots(ctx, rec, w, roots)
	if err != nil {
		w.Wipe()
		return m.status(rec), nil, err
	}
	return m.status(rec), stores, nil
}

// holdsData reports whether any region's store holds a record other than
// the seal record.
func (m *sealer) holdsData(ctx context.Context) (bool, error) {
	for id, raw := range m.raws {
		used := false
		err := raw.View(ctx, func(tx storage.Tx) error {
			keys, err := tx.List("", "", 2)
			for _, k := range keys {
				used = used || k != seal.RecordKey
			}
			return err
		})
		if err != nil {
			return false, fmt.Errorf("region %s: %w", id, err)
		}
		if used {
			return true, nil
		}
	}
	return false, nil
}

// Status describes the seal; Sealed is left to the service.
func (m *sealer) Status(ctx context.Context) (service.SealStatus, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, err := m.record(ctx)
	if err != nil {
		return service.SealStatus{Type: string(m.want)}, err
	}
	return m.status(rec), nil
}

func (m *sealer) status(rec *seal.Record) service.SealStatus {
	if rec == nil || !rec.Initialized {
		return service.SealStatus{Type: string(m.want)}
	}
	st := service.SealStatus{Type: string(rec.Type), Initialized: true, T: rec.T(), N: rec.N(), Progress: len(m.keys), Nonce: m.nonce}
	if p := rec.Pending; p != nil {
		st.Change = &service.SealChangeStatus{Nonce: rec.Nonce, Type: string(p.Type), T: p.T(), N: p.N()}
	}
	return st
}

// Init makes a new installation's seal: the root key, its protection, and
// the keyring of every region. The record is written first marked not
// initialized, and marked initialized by commit, once the service has
// created the installation: a crash in between leaves a store that a new
// init wipes (nobody ever received its keys).
func (m *sealer) Init(ctx context.Context, req service.SealInit) (service.SealKeys, map[string]storage.Backend, func(context.Context) error, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, err := m.record(ctx)
	if err != nil {
		return service.SealKeys{}, nil, nil, err
	}
	if rec != nil && rec.Initialized {
		return service.SealKeys{}, nil, nil, service.ErrAlreadyInitialized
	}
	s, err := m.sealOf(m.want)
	if err != nil {
		return service.SealKeys{}, nil, nil, fmt.Errorf("%w: %v", service.ErrSealParameters, err)
	}
	if s.Auto() {
		// An automatic seal initialises itself at start.
		return service.SealKeys{}, nil, nil, service.ErrAlreadyInitialized
	}
	if rec != nil {
		m.log.Warn("a previous init did not finish; its records are deleted and init starts again")
		if err := m.wipeRegions(ctx); err != nil {
			return service.SealKeys{}, nil, nil, err
		}
	}
	newRec, w, keys, err := s.Create(ctx, seal.CreateOptions{Shares: req.Shares, Threshold: req.Threshold, Passphrase: req.Passphrase})
	if err != nil {
		return service.SealKeys{}, nil, nil, sealParamError(err)
	}
	out, err := handOut(keys, req.Recipients)
	if err != nil {
		w.Wipe()
		return service.SealKeys{}, nil, nil, err
	}
	out.Type, out.T, out.N = string(newRec.Type), newRec.T(), newRec.N()
	root, err := crypto.NewKey(rand.Reader)
	if err == nil {
		newRec.Root, err = w.Wrap(ctx, root)
	}
	if err == nil {
		err = m.writeRecord(ctx, newRec)
	}
	if err != nil {
		w.Wipe()
		return service.SealKeys{}, nil, nil, err
	}
	stores, err := m.openAll(ctx, []crypto.Key{root})
	if err != nil {
		w.Wipe()
		return service.SealKeys{}, nil, nil, err
	}
	m.root, m.wrapper = root, w
	commit := func(ctx context.Context) error {
		newRec.Initialized = true
		return m.writeRecord(ctx, newRec)
	}
	return out, stores, commit, nil
}

// handOut encodes the keys for the operators: hex and base64, or, with
// recipients, each encrypted to its own age public key.
func handOut(keys [][]byte, recipients []string) (service.SealKeys, error) {
	var out service.SealKeys
	defer func() {
		for _, k := range keys {
			clear(k)
		}
	}()
	if len(recipients) > 0 {
		enc, err := seal.EncryptKeys(keys, recipients)
		if err != nil {
			return out, sealParamError(err)
		}
		out.Keys, out.KeysBase64 = enc, enc
		return out, nil
	}
	for _, k := range keys {
		out.Keys = append(out.Keys, hex.EncodeToString(k))
		out.KeysBase64 = append(out.KeysBase64, base64.StdEncoding.EncodeToString(k))
	}
	return out, nil
}

// sealParamError turns a seal's refusal of its parameters into the
// service's error (a 400), keeping the message.
func sealParamError(err error) error {
	if errors.Is(err, seal.ErrParameters) {
		return fmt.Errorf("%w: %v", service.ErrSealParameters, err)
	}
	return err
}

// wipeRegions deletes every record of every region: what an interrupted
// init left.
func (m *sealer) wipeRegions(ctx context.Context) error {
	for id, raw := range m.raws {
		if _, err := clearTarget(ctx, raw, MigrateOptions{Force: true, BatchSize: DefaultMigrateBatch}, nil); err != nil {
			return fmt.Errorf("region %s: %w", id, err)
		}
	}
	return nil
}

// Unseal takes one key. For an automatic seal no key is needed: the root
// key comes from the seal (and a file seal on an empty store creates it).
func (m *sealer) Unseal(ctx context.Context, key string, reset bool) (service.SealStatus, map[string]storage.Backend, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, err := m.record(ctx)
	if err != nil {
		return service.SealStatus{Type: string(m.want)}, nil, err
	}
	if rec == nil || !rec.Initialized {
		if rec == nil && m.want == seal.TypeFile && key == "" && !reset {
			return m.firstFileStart(ctx)
		}
		if m.want.KMS() && key == "" && !reset {
			return m.firstKMSStart(ctx, rec)
		}
		if reset || key == "" {
			return m.status(rec), nil, nil
		}
		return m.status(rec), nil, service.ErrNotInitialized
	}
	s, err := m.sealOf(rec.Type)
	if err != nil {
		return m.status(rec), nil, err
	}
	if reset {
		m.resetKeys()
		return m.status(rec), nil, nil
	}
	var w seal.Wrapper
	switch {
	case rec.Type.KMS():
		// The KMS may take long to answer (or time out): the lock is
		// released meanwhile so that the seal status, which health checks
		// read, does not wait for it. Unseals are serialised by the
		// service (its sealing lock), so no other one runs meanwhile.
		m.mu.Unlock()
		w, roots, err := unwrapRoots(ctx, s, rec)
		m.mu.Lock()
		if err != nil {
			return m.status(rec), nil, kmsError(err)
		}
		stores, err := m.openRoots(ctx, rec, w, roots)
		if err != nil {
			w.Wipe()
			return m.status(rec), nil, err
		}
		return m.status(rec), stores, nil
	case s.Auto():
		if w, err = s.Unlock(ctx, rec, nil); err != nil {
			return m.status(rec), nil, kmsError(err)
		}
	default:
		if key == "" {
			return m.status(rec), nil, nil
		}
		k, err := seal.DecodeKey(rec.Type, key)
		if err != nil {
			return m.status(rec), nil, fmt.Errorf("%w: %v", service.ErrUnsealKeys, err)
		}
		if slices.ContainsFunc(m.keys, func(b []byte) bool { return bytes.Equal(b, k) }) {
			clear(k)
			return m.status(rec), nil, nil // already counted, as Vault does
		}
		if len(m.keys) == 0 {
			m.nonce = uuid.NewString()
		}
		m.keys = append(m.keys, k)
		if len(m.keys) < rec.T() {
			return m.status(rec), nil, nil
		}
		keys := m.keys
		m.keys, m.nonce = nil, ""
		w, err = s.Unlock(ctx, rec, keys)
		for _, k := range keys {
			clear(k)
		}
		if err != nil {
			m.log.Warn("unseal failed: the keys submitted do not open the seal; progress reset", "seal", rec.Type)
			return m.status(rec), nil, fmt.Errorf("%w: %v", service.ErrUnsealKeys, err)
		}
	}
	stores, err := m.unlockStores(ctx, rec, w)
	if err != nil {
		w.Wipe()
		return m.status(rec), nil, kmsError(err)
	}
	return m.status(rec), stores, nil
}

// wrapNewRoot creates the protection of s and a new root key wrapped
// under it, in the record returned.
func wrapNewRoot(ctx context.Context, s seal.Seal) (*seal.Record, seal.Wrapper, crypto.Key, error) {
	rec, w, _, err := s.Create(ctx, seal.CreateOptions{})
	if err != nil {
		return nil, nil, crypto.Key{}, err
	}
	root, err := crypto.NewKey(rand.Reader)
	if err == nil {
		rec.Root, err = w.Wrap(ctx, root)
	}
	if err != nil {
		w.Wipe()
		return nil, nil, crypto.Key{}, err
	}
	return rec, w, root, nil
}

// kmsError makes a KMS's failure to unwrap the root key (seal.ErrKMS) a
// service.ErrSealed: the installation stays sealed (503) and the server
// tries again (autounseal.go); the message says why.
func kmsError(err error) error {
	if errors.Is(err, seal.ErrKMS) {
		return fmt.Errorf("%w: %w", service.ErrSealed, err)
	}
	return err
}

// firstKMSStart initialises a new installation under an okms or transit
// seal: a new root key, wrapped by the KMS, in a record written
// initialized at once (nobody holds keys to lose; the KMS does). If the
// service's creation of the installation stops after that write, the next
// start unseals and creates it.
func (m *sealer) firstKMSStart(ctx context.Context, rec *seal.Record) (service.SealStatus, map[string]storage.Backend, error) {
	if rec != nil {
		// An init of a manual seal that never finished: `coffer operator
		// init` starts it again.
		return m.status(rec), nil, nil
	}
	s, err := m.sealOf(m.want)
	if err != nil {
		return m.status(nil), nil, err
	}
	// As in Unseal, the KMS is called without the lock.
	m.mu.Unlock()
	newRec, w, root, err := wrapNewRoot(ctx, s)
	m.mu.Lock()
	if err != nil {
		return m.status(nil), nil, kmsError(err)
	}
	newRec.Initialized = true
	err = m.createRecord(ctx, newRec)
	if errors.Is(err, errRecordExists) {
		// Another node of a PostgreSQL installation started first: its
		// seal is the installation's.
		w.Wipe()
		crypto.Wipe(root)
		m.log.Info("another node created the installation's seal first; unsealing with it")
		return m.unsealAuto(ctx)
	}
	if err != nil {
		w.Wipe()
		return m.status(nil), nil, err
	}
	stores, err := m.openAll(ctx, []crypto.Key{root})
	if err != nil {
		w.Wipe()
		return m.status(newRec), nil, err
	}
	m.root, m.wrapper = root, w
	m.log.Info("created the root key, wrapped by the KMS", "seal", newRec.Type)
	return m.status(newRec), stores, nil
}

func (m *sealer) resetKeys() {
	for _, k := range m.keys {
		clear(k)
	}
	m.keys, m.nonce = nil, ""
}

// firstFileStart initialises a new installation under the file seal (the
// two-command start): a root key file beside the data unless one is
// configured, or a key in memory in dev mode.
func (m *sealer) firstFileStart(ctx context.Context) (service.SealStatus, map[string]storage.Backend, error) {
	var (
		root crypto.Key
		err  error
	)
	if m.cfg.Dev {
		if m.devRoot, err = crypto.NewKey(rand.Reader); err == nil {
			root, err = copyKey(m.devRoot)
		}
	} else {
		root, err = rootKey(ctx, m.cfg, m.raws, m.log)
	}
	if err != nil {
		return service.SealStatus{}, nil, err
	}
	rec := &seal.Record{Type: seal.TypeFile, Initialized: true}
	if err := m.writeRecord(ctx, rec); err != nil {
		return service.SealStatus{}, nil, err
	}
	m.warnKeyFileBesideData()
	stores, err := m.openAll(ctx, []crypto.Key{root})
	if err != nil {
		return service.SealStatus{}, nil, err
	}
	m.root, m.wrapper = root, nil
	return m.status(rec), stores, nil
}

// unlockStores unwraps the root key with w and opens every region.
func (m *sealer) unlockStores(ctx context.Context, rec *seal.Record, w seal.Wrapper) (map[string]storage.Backend, error) {
	if rec.Type == seal.TypeFile {
		return m.openFile(ctx, w)
	}
	roots, err := unwrapWith(ctx, w, rec)
	if err != nil {
		return nil, err
	}
	return m.openRoots(ctx, rec, w, roots)
}

// unwrapRoots unlocks the automatic seal s and unwraps rec's root key (and
// the next one of a rotation in progress) with it; it touches nothing of
// the sealer's, so it runs without its lock.
func unwrapRoots(ctx context.Context, s seal.Seal, rec *seal.Record) (seal.Wrapper, []crypto.Key, error) {
	w, err := s.Unlock(ctx, rec, nil)
	if err != nil {
		return nil, nil, err
	}
	roots, err := unwrapWith(ctx, w, rec)
	if err != nil {
		w.Wipe()
		return nil, nil, err
	}
	return w, roots, nil
}

// unwrapWith unwraps rec's root key with w, and the next root key of a
// rotation that stopped half way, if it unwraps.
func unwrapWith(ctx context.Context, w seal.Wrapper, rec *seal.Record) ([]crypto.Key, error) {
	root, err := w.Unwrap(ctx, rec.Root)
	if err != nil {
		return nil, fmt.Errorf("unwrap the root key: %w", err)
	}
	roots := []crypto.Key{root}
	if len(rec.NextRoot) > 0 {
		// A root key rotation stopped half way: regions whose keyring is
		// sealed under the new key open with it.
		if next, err := w.Unwrap(ctx, rec.NextRoot); err == nil {
			roots = append(roots, next)
		}
	}
	return roots, nil
}

// openRoots opens every region under roots (the root key, and the next
// one of a rotation in progress, which it finishes), keeping w.
func (m *sealer) openRoots(ctx context.Context, rec *seal.Record, w seal.Wrapper, roots []crypto.Key) (map[string]storage.Backend, error) {
	stores, err := m.openAll(ctx, roots)
	if err != nil {
		return nil, err
	}
	if len(roots) == 2 {
		if err := m.finishStoredRotation(ctx, rec, roots, stores); err != nil {
			m.closeAll(stores)
			return nil, err
		}
	}
	m.root, m.wrapper = roots[0], w
	return stores, nil
}

// finishStoredRotation completes a root key rotation a server stopped in:
// if every region opened under the new key it replaces the old one in the
// record; otherwise the regions still under the old key are re-sealed.
func (m *sealer) finishStoredRotation(ctx context.Context, rec *seal.Record, roots []crypto.Key, stores map[string]storage.Backend) error {
	for _, id := range m.Regions() {
		if err := stores[id].(*sealed.Store).RotateRootKey(ctx, roots[1]); err != nil {
			return fmt.Errorf("region %s: finish the root key rotation: %w", id, err)
		}
	}
	rec.Root, rec.NextRoot = rec.NextRoot, nil
	if err := m.writeRecord(ctx, rec); err != nil {
		return err
	}
	m.log.Warn("finished an interrupted root key rotation")
	roots[0] = roots[1]
	m.root = roots[1]
	return nil
}

// openFile opens the regions under the file seal's key (dev: the key in
// memory), finishing a rotation that stopped before the key file was
// replaced (keys.go).
func (m *sealer) openFile(ctx context.Context, w seal.Wrapper) (map[string]storage.Backend, error) {
	var (
		root crypto.Key
		err  error
	)
	if m.cfg.Dev {
		if m.devRoot.IsZero() {
			return nil, errors.New("dev mode: the root key was wiped by a seal; restart the server (its in-memory data is gone)")
		}
		if root, err = copyKey(m.devRoot); err != nil {
			return nil, err
		}
	} else if root, err = rootKey(ctx, m.cfg, m.raws, m.log); err != nil {
		return nil, err
	}
	m.warnKeyFileBesideData()
	st := map[string]storage.Backend{}
	pending := 0
	open := map[string]*sealed.Store{}
	for _, id := range m.Regions() {
		sb, usedPending, err := openRegion(ctx, m.cfg, keepOpen{m.raws[id]}, root, m.family, m.log)
		if err != nil {
			for _, o := range open {
				o.Close()
			}
			return nil, fmt.Errorf("region %s: %w", id, err)
		}
		if usedPending {
			pending++
		}
		open[id], st[id] = sb, sb
	}
	if err := finishRotation(m.cfg, pending, len(m.raws), m.log); err != nil {
		for _, o := range open {
			o.Close()
		}
		return nil, err
	}
	if pending > 0 && pending == len(m.raws) {
		if root, err = crypto.LoadRootKeyFile(keyFilePath(m.cfg)); err != nil {
			return nil, err
		}
	}
	m.open, m.root, m.wrapper = open, root, w
	return st, nil
}

// openAll opens every region under the first of roots its keyring opens
// with.
func (m *sealer) openAll(ctx context.Context, roots []crypto.Key) (map[string]storage.Backend, error) {
	open := map[string]*sealed.Store{}
	st := map[string]storage.Backend{}
	for _, id := range m.Regions() {
		var err error
		for _, root := range roots {
			var sb *sealed.Store
			if sb, err = sealed.Open(ctx, keepOpen{m.raws[id]}, root, m.family); err == nil {
				open[id], st[id] = sb, sb
				break
			}
			if !errors.Is(err, crypto.ErrIntegrity) {
				break
			}
		}
		if err != nil {
			for _, o := range open {
				o.Close()
			}
			return nil, fmt.Errorf("region %s: %w", id, err)
		}
	}
	m.open = open
	return st, nil
}

func (m *sealer) closeAll(stores map[string]storage.Backend) {
	for _, b := range stores {
		b.Close()
	}
	m.open = nil
}

// Seal closes the encrypted stores and overwrites the keys they and the
// sealer held, as far as Go allows.
func (m *sealer) Seal(context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, st := range m.open {
		errs = append(errs, st.CloseAndWipe())
	}
	m.open = nil
	if m.wrapper != nil {
		m.wrapper.Wipe()
		m.wrapper = nil
	}
	if m.pending != nil {
		m.pending.Wipe()
		m.pending, m.pendingNonce = nil, ""
	}
	// In dev mode with the file seal, devRoot (a copy of its own) is the
	// only copy of the root key and stays, so that the in-memory store can
	// be unsealed again.
	crypto.Wipe(m.root)
	m.root = crypto.Key{}
	m.resetKeys()
	return errors.Join(errs...)
}

// keepOpen is a raw store whose Close does nothing: the encrypted layer is
// closed at each seal, the raw store only when the server stops.
type keepOpen struct{ storage.Backend }

func (keepOpen) Close() error { return nil }

// GetMany keeps the raw store's single-statement reads (storage.MultiGetter).
func (k keepOpen) GetMany(ctx context.Context, keys []string) ([][]byte, error) {
	return storage.GetMany(ctx, k.Backend, keys)
}

// Unwrap keeps the raw store's capabilities reachable (storage.NotifierOf).
func (k keepOpen) Unwrap() storage.Backend { return k.Backend }

// warnKeyFileBesideData warns when the root key file of the file seal sits
// in the data directory of an embedded store: whoever copies the directory
// has every secret.
func (m *sealer) warnKeyFileBesideData() {
	keyFile := keyFilePath(m.cfg)
	if keyFile == "" || m.cfg.ConfigFile != "" || m.cfg.Storage == config.StoragePostgres || m.cfg.Storage == config.StorageMemory {
		return
	}
	kd, _ := filepath.Abs(filepath.Dir(keyFile))
	dd, _ := filepath.Abs(m.cfg.DataDir)
	if kd == dd {
		m.log.Warn("the root key file sits beside the data: whoever copies the data directory can read every secret; move it away (--root-key-file) or use --seal shamir or passphrase (see README, Production: sealing)",
			"key_file", keyFile, "data_dir", m.cfg.DataDir)
	}
}

// warnStaleKeyFile warns when a root key file is left in the data
// directory of an installation whose seal is no longer the file seal (a
// migration that could not remove it).
func (m *sealer) warnStaleKeyFile() {
	if m.cfg.Dev {
		return
	}
	if _, err := os.Stat(keyFilePath(m.cfg)); err == nil {
		m.log.Warn("a root key file is still on disk although the seal is not the file seal: it holds the root key in clear; delete it",
			"key_file", keyFilePath(m.cfg))
	} else if !errors.Is(err, fs.ErrNotExist) {
		m.log.Warn("checking for a stale root key file", "err", err)
	}
}

// copyKey returns a Key with its own copy of k's bytes, which a Wipe of k
// leaves alone.
func copyKey(k crypto.Key) (crypto.Key, error) {
	var c crypto.Key
	err := crypto.ExportKey(k, func(b []byte) error {
		var err error
		c, err = crypto.KeyFromBytes(b)
		return err
	})
	return c, err
}
