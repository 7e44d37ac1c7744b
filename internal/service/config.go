package service

import (
	"context"

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
