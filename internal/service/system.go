package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// InitOptions configure the first start of an installation.
type InitOptions struct {
	// RootToken, if set, becomes the root token instead of a generated one
	// (COFFER_INIT_ROOT_TOKEN, --dev-root-token).
	RootToken string
}

// InitResult says what Init did.
type InitResult struct {
	// Created is true on the first start, when the installation was made.
	Created bool
	// DefaultDomain is the id of the default OKMS domain.
	DefaultDomain string
	// RootToken is the generated root token, set only when Created and no
	// token was supplied: it is shown once and stored only as a digest.
	RootToken string
}

type initRecord struct {
	F       int    `json:"f"`
	Account string `json:"account"`
	Created int64  `json:"created"`
}

// Init makes sure the store holds an installation: on the first start it
// creates the token pepper, the first OKMS domain in this region (the
// default domain) with the default secret configuration, and the root
// token, all in one transaction. On later starts it only loads what the
// service keeps in memory. It is not authorized: only the server calls it.
func (s *Service) Init(ctx context.Context, opt InitOptions) (InitResult, error) {
	now := s.clock()
	var pepper [32]byte
	if _, err := io.ReadFull(s.rand, pepper[:]); err != nil {
		return InitResult{}, fmt.Errorf("service.Init: pepper: %w", err)
	}
	domainID := s.newID()
	token := opt.RootToken
	generated := false
	if token == "" {
		t, err := auth.NewToken(auth.KindRootToken, s.rand)
		if err != nil {
			return InitResult{}, fmt.Errorf("service.Init: %w", err)
		}
		token, generated = t, true
	}
	var res InitResult
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		res = InitResult{}
		if _, err := tx.Get(keyInit); err == nil {
			return nil
		} else if !errors.Is(err, storage.ErrNotFound) {
			return err
		}
		res.Created = true
		res.DefaultDomain = domainID
		if generated {
			res.RootToken = token
		}
		steps := []struct {
			key string
			val func() ([]byte, error)
		}{
			{keyPepper, func() ([]byte, error) { return pepper[:], nil }},
			{domainKey(domainID), func() ([]byte, error) {
				return encodeDomain(Domain{ID: domainID, Region: s.region, DisplayName: "default", CreatedAt: now, State: DomainCreating})
			}},
			{keyDefaultDomain, func() ([]byte, error) { return []byte(domainID), nil }},
			{tokenKey(auth.Digest(pepper[:], token)), func() ([]byte, error) {
				return json.Marshal(tokenRecord{F: recordFormat, Kind: string(auth.KindRootToken), Name: "root",
					Identities: []string{policy.AccountURN(s.zone, s.account)}, Root: true, Created: unixNano(now)})
			}},
			{keyInit, func() ([]byte, error) {
				return json.Marshal(initRecord{F: recordFormat, Account: s.account, Created: unixNano(now)})
			}},
		}
		for _, st := range steps {
			v, err := st.val()
			if err != nil {
				return err
			}
			if err := tx.Put(st.key, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return InitResult{}, internal("Init", err)
	}
	if err := s.load(ctx); err != nil {
		return InitResult{}, err
	}
	// Finish what a previous run left half done (a crash while a domain
	// was being created or deleted), the first domain included.
	if err := s.resumeDomains(ctx); err != nil {
		return InitResult{}, err
	}
	s.listen()
	res.DefaultDomain = *s.defaultDomain.Load()
	return res, nil
}

// load reads the pepper and the default domain into memory.
func (s *Service) load(ctx context.Context) error {
	err := internal("load", s.store.View(ctx, func(tx storage.Tx) error {
		p, err := tx.Get(keyPepper)
		if err != nil {
			return fmt.Errorf("pepper: %w", err)
		}
		d, err := tx.Get(keyDefaultDomain)
		if errors.Is(err, storage.ErrNotFound) {
			d, err = nil, nil // the default domain was deleted
		}
		if err != nil {
			return fmt.Errorf("default domain: %w", err)
		}
		dd := string(d)
		s.pepper.Store(&p)
		s.defaultDomain.Store(&dd)
		return nil
	}))
	if err != nil {
		return err
	}
	return s.loadPolicies(ctx)
}

// DefaultDomain returns the id of the default OKMS domain, served by the
// unprefixed Vault routes (/v1/secret/...).
func (s *Service) DefaultDomain() string {
	if d := s.defaultDomain.Load(); d != nil {
		return *d
	}
	return ""
}

// Authenticate returns the principal a bearer token acts as, or
// ErrUnauthenticated for a token that is unknown, expired or revoked, whose
// user no longer exists, or whose parent token is gone. The token is looked
// up by its digest and never logged. The principal is cached for at most a
// second (authcache.go); revocations through the service apply at once.
func (s *Service) Authenticate(ctx context.Context, token string) (auth.Principal, error) {
	digest, err := s.tokenDigest(token)
	if err != nil {
		return auth.Principal{}, err
	}
	now := s.clock()
	if e, ok := s.principals.get(digest, now); ok {
		s.touchIfStale(ctx, digest, e, now)
		return e.p, nil
	}
	gen := s.principals.generation()
	var (
		p        auth.Principal
		lastUsed int64
		expires  int64 // the earliest expiry of the token and its parents
	)
	err = s.store.View(ctx, func(tx storage.Tx) error {
		expires = 0
		rec, err := loadToken(tx, digest, now)
		if err != nil {
			return err
		}
		lastUsed = rec.LastUsed
		// A child token acts as its parent, and dies with it.
		origin := rec
		for depth := 0; ; depth++ {
			if origin.Expires != 0 && (expires == 0 || origin.Expires < expires) {
				expires = origin.Expires
			}
			if origin.Parent == "" {
				break
			}
			if depth > 16 {
				return ErrUnauthenticated
			}
			if origin, err = loadToken(tx, origin.Parent, now); err != nil {
				return err
			}
		}
		if origin.Login != "" {
			p, err = s.userPrincipalTx(tx, origin.Login, auth.Kind(rec.Kind), auth.Accessor(digest))
			return err
		}
		p = auth.Principal{Identities: rec.Identities, Root: origin.Root, Name: rec.Name,
			Kind: auth.Kind(rec.Kind), CredentialID: auth.Accessor(digest)}
		return nil
	})
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return auth.Principal{}, ErrUnauthenticated
	case err != nil:
		return auth.Principal{}, internal("Authenticate", err)
	}
	e := newCachedPrincipal(p, now, expires, lastUsed)
	s.principals.put(digest, e, gen)
	s.touchIfStale(ctx, digest, e, now)
	return e.p, nil
}

// touchIfStale records a token's use when its recorded last use is more
// than a minute old (iam.md 7.2); of concurrent requests with the same
// token, one does it.
func (s *Service) touchIfStale(ctx context.Context, digest string, e *cachedPrincipal, now time.Time) {
	last := e.lastUsed.Load()
	if now.UnixNano()-last > int64(time.Minute) && e.lastUsed.CompareAndSwap(last, now.UnixNano()) {
		s.touchToken(ctx, digest, now)
	}
}

// touchToken records a token's last use, at most once a minute (iam.md
// 7.2). Failing to record it does not fail the request.
func (s *Service) touchToken(ctx context.Context, digest string, now time.Time) {
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		var rec childTokenRecord
		if err := getJSON(tx, tokenKey(digest), &rec, storage.ErrNotFound); err != nil {
			return err
		}
		rec.LastUsed = now.UnixNano()
		return putJSON(tx, tokenKey(digest), rec)
	})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.log.WarnContext(ctx, "record token use", "err", err)
	}
}

// internalUnlessDomain wraps err unless it is one the surfaces map.
func internalUnlessDomain(op string, err error) error {
	if err == nil || isDomainError(err) {
		return err
	}
	return internal(op, err)
}

// isDomainError reports whether err is one the surfaces know how to render:
// anything else is an internal error.
func isDomainError(err error) bool {
	if _, ok := secret.AsViolations(err); ok {
		return true
	}
	for _, e := range knownErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// domainExists checks, inside a transaction on the domain's region store,
// that the domain exists there: its configuration record is written when
// the domain becomes ready and removed when it is deleted.
//
// The configuration record is read shared (storage.GetShared): every write
// in the domain reads it, and only UpdateConfig writes it.
func domainExists(tx storage.Tx, domain string) error {
	if _, err := storage.GetShared(tx, configKey(domain)); err != nil {
		if errors.Is(err, storage.ErrNotFound) {
			return ErrDomainNotFound
		}
		return err
	}
	return nil
}

// loadConfig reads a domain's configuration; a domain without one does not
// exist (yet, or any more) in this store.
// It reads the record shared, as domainExists does; UpdateConfig, which
// writes it, reads it with loadConfigForUpdate.
func loadConfig(tx storage.Tx, domain string) (secret.Config, error) {
	return readConfig(domain, func(k string) ([]byte, error) { return storage.GetShared(tx, k) })
}

// loadConfigForUpdate is loadConfig for an Update that writes the record.
func loadConfigForUpdate(tx storage.Tx, domain string) (secret.Config, error) {
	return readConfig(domain, tx.Get)
}

func readConfig(domain string, get func(string) ([]byte, error)) (secret.Config, error) {
	b, err := get(configKey(domain))
	if errors.Is(err, storage.ErrNotFound) {
		return secret.Config{}, ErrDomainNotFound
	}
	if err != nil {
		return secret.Config{}, err
	}
	return decodeConfig(b)
}
