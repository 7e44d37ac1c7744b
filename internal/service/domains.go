package service

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Domain is an OKMS domain: a tenant holding secrets, in one region.
type Domain struct {
	ID          string
	Region      string
	DisplayName string
	CreatedAt   time.Time
	// State is DomainCreating until the domain's key material and
	// configuration exist in its region, then DomainReady.
	State string
}

// Domain states.
const (
	DomainCreating = "CREATING"
	DomainReady    = "READY"
	DomainDeleting = "DELETING"
)

// Errors of domains and regions.
var (
	// ErrRegionNotFound: no region of this installation has that id.
	ErrRegionNotFound = errors.New("service: region not found")
	// ErrDomainNotReady: the domain is still being created (or is being
	// deleted); retry shortly.
	ErrDomainNotReady = errors.New("service: the OKMS domain is not ready")
	// ErrConfirmationRequired: deleting a domain needs an explicit
	// confirmation.
	ErrConfirmationRequired = errors.New("service: deleting a domain needs confirmation")
)

// Region is a region this installation serves: its data lives in its own
// storage.
type Region struct {
	ID string
}

// Regions returns the regions of this installation, sorted by id.
func (s *Service) Regions() []Region {
	ids := slices.Sorted(maps.Keys(s.regions))
	out := make([]Region, len(ids))
	for i, id := range ids {
		out[i] = Region{ID: id}
	}
	return out
}

// HasRegion reports whether the installation serves region.
func (s *Service) HasRegion(region string) bool {
	_, ok := s.regions[region]
	return ok
}

// regionStore returns the storage of the region holding domain, reading
// the domain registry again when the domain is not known yet (another node
// may have created it).
func (s *Service) regionStore(ctx context.Context, domain string) (storage.Backend, error) {
	d, ok := s.cachedDomain(domain)
	if !ok || d.State != DomainReady {
		if err := s.loadDomains(ctx); err != nil {
			return nil, err
		}
		if d, ok = s.cachedDomain(domain); !ok {
			return nil, ErrDomainNotFound
		}
	}
	if d.State != DomainReady {
		return nil, ErrDomainNotReady
	}
	st, ok := s.regions[d.Region]
	if !ok {
		return nil, fmt.Errorf("service: domain %s is in region %q, which this server does not serve", domain, d.Region)
	}
	return st, nil
}

// domainView runs fn in a read transaction on the domain's region store.
func (s *Service) domainView(ctx context.Context, domain string, fn func(storage.Tx) error) error {
	st, err := s.regionStore(ctx, domain)
	if err != nil {
		return err
	}
	return st.View(ctx, fn)
}

// domainUpdate runs fn in a write transaction on the domain's region
// store. The transaction keeps the domain's counts (counts.go): fn's
// changes to secret records are added up and written with it.
func (s *Service) domainUpdate(ctx context.Context, domain string, fn func(storage.Tx) error) error {
	st, err := s.regionStore(ctx, domain)
	if err != nil {
		return err
	}
	var changed bool
	err = st.Update(ctx, func(tx storage.Tx) error {
		ct := newCountingTx(tx, domain)
		if err := fn(ct); err != nil {
			return err
		}
		var err error
		changed, err = ct.flush(s.newID())
		return err
	})
	if err == nil && changed && countWrites.Add(1)%countsFoldEvery == 0 {
		if _, ferr := s.foldDomainCounts(ctx, st, domain); ferr != nil {
			s.log.WarnContext(ctx, "folding the domain's counts failed; the next listing folds them", "okms_id", domain, "err", ferr)
		}
	}
	return err
}

func (s *Service) cachedDomain(id string) (Domain, bool) {
	m := s.domains.Load()
	if m == nil {
		return Domain{}, false
	}
	d, ok := (*m)[id]
	return d, ok
}

// loadDomains reads the domain registry into memory.
func (s *Service) loadDomains(ctx context.Context) error {
	m := map[string]Domain{}
	err := s.store.View(ctx, func(tx storage.Tx) error {
		clear(m)
		keys, err := tx.List(prefixDomains, "", 0)
		if err != nil {
			return err
		}
		for _, k := range keys {
			b, err := tx.Get(k)
			if err != nil {
				return err
			}
			d, err := decodeDomain(b)
			if err != nil {
				return err
			}
			m[d.ID] = d
		}
		return nil
	})
	if err != nil {
		return internal("loadDomains", err)
	}
	s.domains.Store(&m)
	return nil
}

// setDomainState writes a domain's registry state.
func (s *Service) setDomainState(ctx context.Context, id, state string) error {
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		b, err := tx.Get(domainKey(id))
		if err != nil {
			return err
		}
		d, err := decodeDomain(b)
		if err != nil {
			return err
		}
		d.State = state
		b, err = encodeDomain(d)
		if err != nil {
			return err
		}
		return tx.Put(domainKey(id), b)
	})
	if err != nil {
		return err
	}
	s.notify(ctx, changedDomains)
	return s.loadDomains(ctx)
}

// finishDomain creates a domain's records in its region — its secret
// configuration (the region default) and its access CA — then marks it
// ready. It is idempotent, so a creation interrupted by a crash is simply
// run again at the next start.
func (s *Service) finishDomain(ctx context.Context, d Domain) error {
	st, ok := s.regions[d.Region]
	if !ok {
		return fmt.Errorf("service: domain %s: region %q is not served", d.ID, d.Region)
	}
	now := s.clock()
	err := st.Update(ctx, func(tx storage.Tx) error {
		if _, err := tx.Get(configKey(d.ID)); errors.Is(err, storage.ErrNotFound) {
			b, err := encodeConfig(secret.DefaultConfig())
			if err != nil {
				return err
			}
			if err := tx.Put(configKey(d.ID), b); err != nil {
				return err
			}
			// A new domain: its counts start at zero (counts.go).
			if _, err := foldCounts(tx, d.ID); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if s.certs != nil {
			if _, err := s.domainCA(tx, d.ID, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return internal("finishDomain", err)
	}
	return s.setDomainState(ctx, d.ID, DomainReady)
}

// purgeDomain removes every record of a domain from its region, in
// batches, then its registry entry. It is idempotent, like finishDomain.
func (s *Service) purgeDomain(ctx context.Context, d Domain) error {
	st, ok := s.regions[d.Region]
	if !ok {
		return fmt.Errorf("service: domain %s: region %q is not served", d.ID, d.Region)
	}
	prefix := domainPrefix(d.ID)
	for {
		var n int
		err := st.Update(ctx, func(tx storage.Tx) error {
			keys, err := tx.List(prefix, "", 1000)
			if err != nil {
				return err
			}
			n = len(keys)
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return internal("purgeDomain", err)
		}
		if n == 0 {
			break
		}
	}
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		if err := tx.Delete(domainKey(d.ID)); err != nil {
			return err
		}
		b, err := tx.Get(keyDefaultDomain)
		if err == nil && string(b) == d.ID {
			return tx.Delete(keyDefaultDomain)
		}
		if errors.Is(err, storage.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return internal("purgeDomain", err)
	}
	if dd := s.defaultDomain.Load(); dd != nil && *dd == d.ID {
		empty := ""
		s.defaultDomain.Store(&empty)
	}
	s.notify(ctx, changedDomains)
	return s.loadDomains(ctx)
}

// resumeDomains finishes creations and deletions left half done.
func (s *Service) resumeDomains(ctx context.Context) error {
	if err := s.loadDomains(ctx); err != nil {
		return err
	}
	for _, d := range *s.domains.Load() {
		switch d.State {
		case DomainCreating:
			if err := s.finishDomain(ctx, d); err != nil {
				return err
			}
		case DomainDeleting:
			if err := s.purgeDomain(ctx, d); err != nil {
				return err
			}
		}
	}
	return nil
}

// DomainInfo is a domain with its counters.
type DomainInfo struct {
	Domain
	SecretCount        int
	SecretVersionCount int // retained, non-deleted versions
	ServiceKeyCount    int // keys whose material exists (not destroyed)
}

// CreateDomain activates an OKMS domain in a region (okms-rest.md 5.3,
// coffer extension). It returns at once with the domain in the CREATING
// state; its configuration and key material are made in the background,
// after which it is READY. Root or ADMIN only.
func (s *Service) CreateDomain(ctx context.Context, c Caller, region, displayName string) (Domain, error) {
	var out Domain
	now := s.clock()
	id := s.newID()
	err := s.requireAdmin(ctx, c, "domain/create", s.DomainURN(id), func() error {
		if !s.HasRegion(region) {
			return ErrRegionNotFound
		}
		if err := validateDisplayName(displayName); err != nil {
			return err
		}
		out = Domain{ID: id, Region: region, DisplayName: displayName, CreatedAt: now, State: DomainCreating}
		return s.store.Update(ctx, func(tx storage.Tx) error {
			b, err := encodeDomain(out)
			if err != nil {
				return err
			}
			if err := tx.Put(domainKey(id), b); err != nil {
				return err
			}
			// The first domain of an installation that lost its default
			// becomes the default.
			if _, err := tx.Get(keyDefaultDomain); errors.Is(err, storage.ErrNotFound) {
				return tx.Put(keyDefaultDomain, []byte(id))
			} else {
				return err
			}
		})
	})
	if err != nil {
		return Domain{}, internalUnlessIAM("CreateDomain", err)
	}
	if dd := s.defaultDomain.Load(); dd == nil || *dd == "" {
		s.defaultDomain.Store(&id)
	}
	if err := s.loadDomains(ctx); err != nil {
		return Domain{}, err
	}
	s.notify(ctx, changedDomains)
	s.background(func(bctx context.Context) {
		if err := s.finishDomain(bctx, out); err != nil {
			s.log.Error("finish domain creation; it will be retried at the next start", "okms_id", id, "err", err)
		}
	})
	return out, nil
}

func validateDisplayName(name string) error {
	if n := utf8.RuneCountInString(name); n > 128 || strings.ContainsAny(name, "\x00\r\n") {
		return invalid("displayName", "must be at most 128 characters on one line")
	}
	return nil
}

// background runs fn in a goroutine tracked by the service, so that Wait
// (tests, shutdown) can wait for it.
func (s *Service) background(fn func(context.Context)) {
	s.bg.Add(1)
	go func() {
		defer s.bg.Done()
		fn(context.WithoutCancel(context.Background()))
	}()
}

// ListDomains returns the OKMS domains the caller may see (resource/get on
// each), sorted by id, with their counters.
func (s *Service) ListDomains(ctx context.Context, c Caller) ([]DomainInfo, error) {
	c.Dialect = Central
	act := c.action(policy.ResourceGet)
	var out []DomainInfo
	err := s.runList(ctx, c, policy.AccountURN(s.zone, s.account), act, func() error {
		if err := s.loadDomains(ctx); err != nil {
			return err
		}
		out = nil
		for _, d := range *s.domains.Load() {
			if !s.allowed(c, act, s.DomainURN(d.ID)) || d.State == DomainDeleting {
				continue
			}
			info, err := s.domainInfo(ctx, d)
			if err != nil {
				return err
			}
			out = append(out, info)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, internalUnlessIAM("ListDomains", err)
}

// GetDomain returns one domain with its counters. Action: resource/get.
func (s *Service) GetDomain(ctx context.Context, c Caller, id string) (DomainInfo, error) {
	c.Dialect = Central
	var out DomainInfo
	err := s.run(ctx, c, s.DomainURN(id), []string{c.action(policy.ResourceGet)}, func() error {
		if err := s.loadDomains(ctx); err != nil {
			return err
		}
		d, ok := s.cachedDomain(id)
		if !ok || d.State == DomainDeleting {
			return ErrDomainNotFound
		}
		var err error
		out, err = s.domainInfo(ctx, d)
		return err
	})
	return out, internalUnlessIAM("GetDomain", err)
}

// domainInfo returns a domain with its counts: the maintained counts
// (counts.go), whose cost does not depend on the number of secrets, and
// the service keys counted.
func (s *Service) domainInfo(ctx context.Context, d Domain) (DomainInfo, error) {
	info := DomainInfo{Domain: d}
	st, ok := s.regions[d.Region]
	if !ok || d.State != DomainReady {
		return info, nil
	}
	var (
		c       countsRecord
		changes int
		based   bool
	)
	err := st.View(ctx, func(tx storage.Tx) error {
		var err error
		if c, changes, based, err = readCounts(tx, d.ID); err != nil {
			return err
		}
		info.ServiceKeyCount, err = countKeys(tx, d.ID)
		return err
	})
	if err != nil {
		return info, err
	}
	if !based || changes > countsFold {
		// Once after an upgrade (no base yet: every secret record is read),
		// or to keep the next reads short.
		if c, err = s.foldDomainCounts(ctx, st, d.ID); err != nil {
			return info, err
		}
	}
	info.SecretCount, info.SecretVersionCount = int(c.Secrets), int(c.Versions)
	return info, nil
}

// RenameDomain changes a domain's display name. Root or ADMIN only.
func (s *Service) RenameDomain(ctx context.Context, c Caller, id, displayName string) (Domain, error) {
	var out Domain
	err := s.requireAdmin(ctx, c, "domain/update", s.DomainURN(id), func() error {
		if err := validateDisplayName(displayName); err != nil {
			return err
		}
		return s.store.Update(ctx, func(tx storage.Tx) error {
			b, err := tx.Get(domainKey(id))
			if errors.Is(err, storage.ErrNotFound) {
				return ErrDomainNotFound
			} else if err != nil {
				return err
			}
			d, err := decodeDomain(b)
			if err != nil {
				return err
			}
			if d.State == DomainDeleting {
				return ErrDomainNotFound
			}
			d.DisplayName = displayName
			out = d
			if b, err = encodeDomain(d); err != nil {
				return err
			}
			return tx.Put(domainKey(id), b)
		})
	})
	if err == nil {
		s.notify(ctx, changedDomains)
		err = s.loadDomains(ctx)
	}
	return out, internalUnlessIAM("RenameDomain", err)
}

// DeleteDomain deletes a domain with its secrets, versions, credentials and
// keys. The OKMS domain is shared with the Key Management Service, so the
// caller must confirm by naming the domain id again. Root or ADMIN only;
// audited.
func (s *Service) DeleteDomain(ctx context.Context, c Caller, id, confirm string) error {
	err := s.requireAdmin(ctx, c, "domain/delete", s.DomainURN(id), func() error {
		if err := s.loadDomains(ctx); err != nil {
			return err
		}
		d, ok := s.cachedDomain(id)
		if !ok {
			return ErrDomainNotFound
		}
		if confirm != id {
			return ErrConfirmationRequired
		}
		if err := s.setDomainState(ctx, id, DomainDeleting); err != nil {
			return err
		}
		return s.purgeDomain(ctx, d)
	})
	return internalUnlessIAM("DeleteDomain", err)
}

// RegionDefaults returns the secret configuration a new domain of region
// starts with (GET /v2/okms/reference/secretConfig).
func (s *Service) RegionDefaults(region string) (secret.Config, error) {
	if !s.HasRegion(region) {
		return secret.Config{}, ErrRegionNotFound
	}
	return secret.DefaultConfig(), nil
}

// CheckDomain returns ErrDomainNotFound unless the domain exists. The Vault
// CLI's preflight (vault-kv2.md 6.1) uses it to answer 403 rather than
// claim a mount for an unknown domain. It needs a valid credential and no
// action; the call is audited.
func (s *Service) CheckDomain(ctx context.Context, c Caller, domain string) error {
	err := s.run(ctx, c, s.DomainURN(domain), nil, func() error {
		return s.domainView(ctx, domain, func(tx storage.Tx) error { return domainExists(tx, domain) })
	})
	return internalUnlessDomain("CheckDomain", err)
}
