package service

import (
	"context"
	"errors"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// GetConfig returns a domain's secret configuration (okms-rest.md 4.10).
// Action: secretConfig/get on the domain.
func (s *Service) GetConfig(ctx context.Context, c Caller, domain string) (secret.Config, error) {
	var cfg secret.Config
	err := s.run(ctx, c, s.DomainURN(domain), []string{c.action(policy.SecretConfigGet)}, func() error {
		return s.domainView(ctx, domain, func(tx storage.Tx) (err error) {
			cfg, err = domainConfig(tx, domain)
			return err
		})
	})
	return cfg, internalUnlessDomain("GetConfig", err)
}

// UpdateConfig changes the fields of a domain's secret configuration that
// u sets and returns the result. It applies to versions created afterwards
// and to the next pruning. Action: secretConfig/update on the domain.
func (s *Service) UpdateConfig(ctx context.Context, c Caller, domain string, u secret.ConfigUpdate) (secret.Config, error) {
	var cfg secret.Config
	err := s.run(ctx, c, s.DomainURN(domain), []string{c.action(policy.SecretConfigUpdate)}, func() error {
		return s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
			cur, err := loadConfigForUpdate(tx, domain)
			if err != nil {
				return err
			}
			cfg = cur.Apply(u)
			if cfg == cur {
				return nil
			}
			b, err := encodeConfig(cfg)
			if err != nil {
				return err
			}
			return tx.Put(configKey(domain), b)
		})
	})
	return cfg, internalUnlessDomain("UpdateConfig", err)
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
