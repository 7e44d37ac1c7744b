package service

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Sealing (reliability-security.md section 4, issue 19). Until the root
// key is available the service is sealed: every use case answers
// ErrSealed, except the seal status, init and unseal, which the seal
// itself serves. The sealed state belongs to the service, not to the
// adapters: its storage goes through a gate (one per region) that answers
// ErrSealed while no unsealed store is behind it, and Authenticate and the
// start of every audited operation check the state first.
//
// The service does not know how the root key is obtained: the server gives
// it a Sealer (over package internal/seal), which hands back the region
// stores, opened with the root key, once unsealed.

// Errors of sealing.
var (
	// ErrSealed: the installation is sealed; unseal it first.
	ErrSealed = errors.New("service: sealed")
	// ErrAlreadyInitialized: init on an installation that has a seal.
	ErrAlreadyInitialized = errors.New("service: already initialized")
	// ErrUnsealKeys: the unseal keys (shares, passphrase) given do not
	// open the seal, or are malformed.
	ErrUnsealKeys = errors.New("service: invalid unseal keys")
	// ErrSealParameters: a seal cannot be made with the parameters given
	// (shares, threshold, passphrase, recipients, seal type).
	ErrSealParameters = errors.New("service: invalid seal parameters")
	// ErrNoSealChange: a commit names no pending rekey or seal migration,
	// or another one.
	ErrNoSealChange = errors.New("service: no such seal change in progress")
	// ErrUnsealLimited: too many unseal (or init) attempts from the client
	// address; it is an ErrTooManyRequests.
	ErrUnsealLimited = fmt.Errorf("service: too many unseal attempts: %w", ErrTooManyRequests)
)

// SealStatus describes the seal (Vault's sys/seal-status).
type SealStatus struct {
	Type        string // file, shamir, passphrase
	Initialized bool
	Sealed      bool
	T, N        int // keys needed, keys handed out (0 for automatic seals)
	Progress    int // keys submitted towards the current unseal
	Nonce       string
	// Change describes a rekey or seal migration that was started and not
	// committed; nil if none.
	Change *SealChangeStatus
}

// SealChangeStatus is a pending rekey or seal migration.
type SealChangeStatus struct {
	Nonce string
	Type  string // the seal type it puts in place
	T, N  int
}

// SealInit asks for a new installation's seal (Vault's sys/init).
type SealInit struct {
	Shares, Threshold int      // shamir
	Passphrase        []byte   // passphrase
	Recipients        []string // age public keys, one per share (optional)
}

// SealKeys are what init, rekey and seal migration hand out once.
type SealKeys struct {
	Keys       []string // shares in hex, or age-encrypted (base64) with recipients
	KeysBase64 []string // shares in base64, or age-encrypted (base64) with recipients
	RootToken  string   // init only
	Type       string   // the seal type
	T, N       int
	Nonce      string // rekey and migration: what the commit must name
}

// SealChange asks for a rekey (same seal type, new keys) or a seal
// migration (another type), keeping the root key. Keys are the current
// unseal keys, required for shamir and passphrase: an operator token alone
// cannot replace the key holders.
type SealChange struct {
	To                string // the target seal type; "" for the current one (rekey)
	Shares, Threshold int
	Passphrase        []byte
	Recipients        []string
	Keys              []string
}

// SealCommit commits a pending change: Nonce must name it; Keys, if given,
// are new keys (threshold shares, or the new passphrase) checked before the
// change takes effect.
type SealCommit struct {
	Nonce string
	Keys  []string
}

// Sealer obtains the root key and opens the stores with it; the server
// implements it over internal/seal.
type Sealer interface {
	// Regions lists the regions whose stores the Sealer opens.
	Regions() []string
	// Status describes the seal (Sealed is the service's to say).
	Status(ctx context.Context) (SealStatus, error)
	// Init makes a new installation's seal and root key, and returns the
	// keys to hand out, the region stores, opened, and commit, which marks
	// the installation initialized once the service has created it (until
	// then, an init may start again).
	Init(ctx context.Context, req SealInit) (SealKeys, map[string]storage.Backend, func(context.Context) error, error)
	// Unseal takes one key (a share, the passphrase; none for automatic
	// seals) or resets the progress. It returns the stores once the keys
	// submitted reach the threshold.
	Unseal(ctx context.Context, key string, reset bool) (SealStatus, map[string]storage.Backend, error)
	// Seal drops the root key and every key derived from it: the stores it
	// returned are closed. The service has stopped using them.
	Seal(ctx context.Context) error
	// StartChange prepares a rekey or seal migration; CommitChange puts it
	// in place.
	StartChange(ctx context.Context, req SealChange) (SealKeys, error)
	CommitChange(ctx context.Context, req SealCommit) (SealStatus, error)
}

// Unseal attempts are limited per client address: bursts of 20, then one
// a second (a passphrase guess also costs an Argon2id derivation, and the
// derivations run one at a time).
const (
	unsealEvery = time.Second
	unsealBurst = 20
)

// gate is the sealed state: the stores behind the service's storage, nil
// while sealed.
type gate struct {
	// mu is held shared by every transaction and exclusively while the
	// stores are swapped, so that a seal waits for the transactions in
	// flight. Transactions take it with TryRLock: once a seal is waiting,
	// new ones are refused with ErrSealed instead of queueing (a nested
	// transaction could otherwise deadlock).
	mu      sync.RWMutex
	regions map[string]*gated
	open    atomic.Bool // requests are served
	// sealer is what unseals; unsealing serialises on sealing.
	sealer  Sealer
	sealing sync.Mutex
	limiter *failLimiter
}

// gated is one region's storage as the service sees it.
type gated struct {
	g   *gate
	cur atomic.Pointer[storage.Backend]
}

var _ storage.Backend = (*gated)(nil)

func (b *gated) backend() (storage.Backend, bool) {
	if !b.g.mu.TryRLock() {
		return nil, false
	}
	p := b.cur.Load()
	if p == nil {
		b.g.mu.RUnlock()
		return nil, false
	}
	return *p, true
}

func (b *gated) View(ctx context.Context, fn func(storage.Tx) error) error {
	st, ok := b.backend()
	if !ok {
		return ErrSealed
	}
	defer b.g.mu.RUnlock()
	return st.View(ctx, fn)
}

func (b *gated) Update(ctx context.Context, fn func(storage.Tx) error) error {
	st, ok := b.backend()
	if !ok {
		return ErrSealed
	}
	defer b.g.mu.RUnlock()
	return st.Update(ctx, fn)
}

// GetMany implements [storage.MultiGetter] through the unsealed store.
func (b *gated) GetMany(ctx context.Context, keys []string) ([][]byte, error) {
	st, ok := b.backend()
	if !ok {
		return nil, ErrSealed
	}
	defer b.g.mu.RUnlock()
	return storage.GetMany(ctx, st, keys)
}

// Close does nothing: the Sealer owns the stores.
func (b *gated) Close() error { return nil }

// Unwrap returns the unsealed store, nil while sealed (storage.NotifierOf).
func (b *gated) Unwrap() storage.Backend {
	if p := b.cur.Load(); p != nil {
		return *p
	}
	return nil
}

// newGate makes the service's gated storage for every region of sealer.
func (s *Service) newGate(sealer Sealer) {
	g := &gate{regions: map[string]*gated{}, sealer: sealer,
		limiter: &failLimiter{byAddr: map[string]*addrLimiter{}, limit: rate.Every(unsealEvery), burst: unsealBurst}}
	s.regions = map[string]storage.Backend{}
	for _, id := range sealer.Regions() {
		b := &gated{g: g}
		g.regions[id] = b
		s.regions[id] = b
	}
	s.gate = g
}

// Stores returns the service's storage of each region: behind the gate
// with a Sealer (ErrSealed while sealed), else the stores given.
func (s *Service) Stores() map[string]storage.Backend { return s.regions }

// sealedErr returns ErrSealed while the service is sealed.
func (s *Service) sealedErr() error {
	if s.gate != nil && !s.gate.open.Load() {
		return ErrSealed
	}
	return nil
}

// Sealed reports whether the service is sealed.
func (s *Service) Sealed() bool { return s.sealedErr() != nil }

// attach puts the unsealed stores behind the gate, loads what the service
// keeps in memory (creating the installation if the store holds none:
// opt), and opens the service.
func (s *Service) attach(ctx context.Context, stores map[string]storage.Backend, opt InitOptions) (InitResult, error) {
	g := s.gate
	g.mu.Lock()
	for id, b := range g.regions {
		st := stores[id]
		b.cur.Store(&st)
	}
	g.mu.Unlock()
	res, err := s.Init(ctx, opt)
	if err != nil {
		s.detach()
		return InitResult{}, err
	}
	g.open.Store(true)
	return res, nil
}

// detach seals the service: new requests are refused, those in flight end,
// background work stops, and what the service kept in memory from the
// store is dropped (the token pepper; the principals cache; the parsed
// service keys).
func (s *Service) detach() {
	g := s.gate
	g.open.Store(false)
	g.mu.Lock()
	for _, b := range g.regions {
		b.cur.Store(nil)
	}
	g.mu.Unlock()
	if s.stop != nil {
		s.stop()
		s.listening.Wait()
		s.stop = nil
	}
	s.bg.Wait()
	// Requests that read the pepper before the seal may still hold it:
	// the reference is dropped, not the bytes overwritten.
	s.pepper.Store(nil)
	s.principals.invalidate()
	if s.keys != nil {
		s.keys.Forget()
	}
}

// Start opens the service of an automatic seal (file, okms, transit) at
// start, creating the installation on a first start (opt). It returns
// ErrSealed if the seal needs operator input or cannot unseal now (a KMS
// that does not answer: the error says why), and nothing if the service
// is unsealed already.
func (s *Service) Start(ctx context.Context, opt InitOptions) (InitResult, error) {
	if s.gate == nil {
		return s.Init(ctx, opt)
	}
	g := s.gate
	g.sealing.Lock()
	defer g.sealing.Unlock()
	if g.open.Load() {
		// Unsealed meanwhile (sys/unseal while the server retried).
		return InitResult{}, nil
	}
	st, stores, err := g.sealer.Unseal(ctx, "", false)
	if err != nil {
		return InitResult{}, err
	}
	if stores == nil || !st.Initialized {
		return InitResult{}, ErrSealed
	}
	return s.attach(ctx, stores, opt)
}

// SealStatus describes the seal. It needs no credential and is not audited
// (it changes nothing and reveals no secret).
func (s *Service) SealStatus(ctx context.Context) (SealStatus, error) {
	if s.gate == nil {
		return SealStatus{Type: "shamir", Initialized: true, T: 1, N: 1}, nil
	}
	st, err := s.gate.sealer.Status(ctx)
	st.Sealed = !s.gate.open.Load()
	return st, err
}

// sealOp audits and runs one seal operation that does not need the
// service to be unsealed (init, unseal). It is limited per client address.
func (s *Service) sealOp(ctx context.Context, c Caller, action string, fn func() error) error {
	if s.gate == nil {
		return ErrAlreadyInitialized
	}
	o := newOp(c, s.AccountURN(), action)
	o.whileSealed = true
	if s.gate.limiter.over(c.RemoteAddr, s.now()) {
		_ = s.start(ctx, o, audit.Denied, "unseal rate limit")
		return ErrUnsealLimited
	}
	if err := s.start(ctx, o, audit.Allowed, ""); err != nil {
		return err
	}
	return s.finish(ctx, o, fn())
}

// InitSeal initialises a new installation (Vault's sys/init): the Sealer
// makes the root key and its seal, the service creates the installation
// (first domain, root token) in it, and the installation is left sealed
// unless its seal is automatic. The keys and the root token are returned
// once. It needs no credential (there is none yet) and is audited.
func (s *Service) InitSeal(ctx context.Context, c Caller, req SealInit) (SealKeys, error) {
	var out SealKeys
	err := s.sealOp(ctx, c, "coffer:sys/init", func() error {
		g := s.gate
		g.sealing.Lock()
		defer g.sealing.Unlock()
		keys, stores, commit, err := g.sealer.Init(ctx, req)
		if err != nil {
			return err
		}
		res, err := s.attach(ctx, stores, InitOptions{})
		if err == nil {
			err = commit(ctx)
		}
		if err != nil {
			s.detach()
			return errors.Join(err, g.sealer.Seal(ctx))
		}
		out, out.RootToken = keys, res.RootToken
		if out.T > 0 {
			// Manual seals start sealed, as Vault does after init.
			s.detach()
			return g.sealer.Seal(ctx)
		}
		return nil
	})
	return out, err
}

// Unseal submits one unseal key, or resets the keys submitted so far
// (Vault's sys/unseal). Once the threshold is met the service opens. It
// needs no credential; it is rate-limited per client address and audited
// (never the key).
func (s *Service) Unseal(ctx context.Context, c Caller, key string, reset bool) (SealStatus, error) {
	var st SealStatus
	err := s.sealOp(ctx, c, "coffer:sys/unseal", func() error {
		g := s.gate
		g.sealing.Lock()
		defer g.sealing.Unlock()
		if g.open.Load() {
			var err error
			st, err = g.sealer.Status(ctx)
			return err
		}
		var (
			stores map[string]storage.Backend
			err    error
		)
		st, stores, err = g.sealer.Unseal(ctx, key, reset)
		if err != nil || stores == nil {
			st.Sealed = true
			return err
		}
		if _, err := s.attach(ctx, stores, InitOptions{}); err != nil {
			st.Sealed = true
			return errors.Join(err, g.sealer.Seal(ctx))
		}
		st.Sealed, st.Progress = false, 0
		s.log.InfoContext(ctx, "unsealed", "seal", st.Type, "request_id", c.RequestID)
		return nil
	})
	return st, err
}

// Seal seals a running installation (Vault's sys/seal): for the account
// root and ADMIN users, audited. Requests in flight finish; the root key
// and every key derived from it are dropped from memory.
func (s *Service) Seal(ctx context.Context, c Caller) error {
	if s.gate == nil {
		return ErrSealParameters
	}
	return s.Operate(ctx, c, "coffer:sys/seal", s.AccountURN(), func() error {
		g := s.gate
		g.sealing.Lock()
		defer g.sealing.Unlock()
		s.detach()
		s.log.InfoContext(ctx, "sealed", "request_id", c.RequestID)
		return g.sealer.Seal(ctx)
	})
}

// ChangeSeal starts a rekey or a seal migration (SealChange): for the
// account root and ADMIN users, with the current unseal keys, audited. It
// returns the new keys once; nothing changes until CommitSealChange.
func (s *Service) ChangeSeal(ctx context.Context, c Caller, req SealChange) (SealKeys, error) {
	if s.gate == nil {
		return SealKeys{}, ErrSealParameters
	}
	var out SealKeys
	err := s.Operate(ctx, c, "coffer:sys/seal/change", s.AccountURN(), func() error {
		s.gate.sealing.Lock()
		defer s.gate.sealing.Unlock()
		var err error
		out, err = s.gate.sealer.StartChange(ctx, req)
		return err
	})
	return out, err
}

// CommitSealChange puts a pending rekey or seal migration in place: for
// the account root and ADMIN users, audited.
func (s *Service) CommitSealChange(ctx context.Context, c Caller, req SealCommit) (SealStatus, error) {
	if s.gate == nil {
		return SealStatus{}, ErrNoSealChange
	}
	var st SealStatus
	err := s.Operate(ctx, c, "coffer:sys/seal/commit", s.AccountURN(), func() error {
		s.gate.sealing.Lock()
		defer s.gate.sealing.Unlock()
		var err error
		st, err = s.gate.sealer.CommitChange(ctx, req)
		st.Sealed = false
		return err
	})
	return st, err
}
