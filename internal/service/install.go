package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/policy"
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

// IsEmpty reports whether the installation holds no content in any of its
// regions: no secret, service key, user, group, service account or
// policy. Its own records (the pepper, the domain registry, the root token
// and other tokens, domain configurations, access CAs and credentials) do
// not count, so a freshly initialised installation is empty. A restore
// replaces the records of an empty installation only. It checks no
// permission: the caller has.
func (s *Service) IsEmpty(ctx context.Context) (bool, error) {
	// The system store (identities, policies) is usually the store of the
	// default region too: reading it twice costs a few empty lists.
	stores := []storage.Backend{s.store}
	names := []string{"system"}
	for _, id := range slices.Sorted(maps.Keys(s.regions)) {
		stores, names = append(stores, s.regions[id]), append(names, "region "+id)
	}
	for i, st := range stores {
		var found bool
		err := st.View(ctx, func(tx storage.Tx) (err error) {
			found, err = holdsContent(tx)
			return err
		})
		if err != nil {
			return false, internal("IsEmpty", fmt.Errorf("%s: %w", names[i], err))
		}
		if found {
			return false, nil
		}
	}
	return true, nil
}
