package service

import (
	"context"
	"errors"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Metadata writes of the Vault KV v2 surface (vault-kv2.md 4.7): Vault's
// POST metadata, which may create a secret without versions, and PATCH
// metadata. Surfaces A and B change metadata through UpdateSecret
// (secrets.go).

// MetadataResult is what [Service.WriteMetadata] and [Service.PatchMetadata]
// return: the secret after the call (nil when nothing was written because the
// update was empty and the secret did not exist), and the domain's
// configuration, whose casRequired the Vault surface reports in a warning
// (vault-kv2.md 2.4).
type MetadataResult struct {
	Secret *secret.Secret
	Config secret.Config
}

// WriteMetadata applies u to the settings and custom metadata of the secret
// at p, changing only the fields u sets (Vault's POST metadata,
// vault-kv2.md 4.7). A missing secret is created with no version, which
// needs secret/create in addition to secret/updateMetadata; an empty u
// creates nothing (Vault's quirk) and changes nothing. Custom-metadata
// problems are returned as violations and nothing is written. Action:
// secret/updateMetadata, plus secret/create when the secret is created.
func (s *Service) WriteMetadata(ctx context.Context, c Caller, domain string, p secret.Path, u secret.MetadataUpdate) (MetadataResult, error) {
	var out MetadataResult
	now := s.clock()
	id := s.newID()
	urn := s.SecretURN(domain, p)
	err := s.run(ctx, c, urn, []string{c.action(policy.SecretUpdateMetadata)}, func() error {
		return s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
			out = MetadataResult{}
			cfg, err := domainConfig(tx, domain)
			if err != nil {
				return err
			}
			out.Config = cfg
			sec, err := loadSecret(tx, domain, p)
			switch {
			case errors.Is(err, secret.ErrNotFound) && u.IsEmpty():
				return nil
			case errors.Is(err, secret.ErrNotFound):
				// iam.md 6: writing metadata on a new path creates the
				// secret, which secret/create governs.
				if !s.allowed(c, c.action(policy.SecretCreate), urn) {
					return ErrDenied
				}
				sec = secret.New(id, p, now)
			case err != nil:
				return err
			}
			if err := sec.ApplyMetadata(u, now); err != nil {
				return err
			}
			out.Secret = sec
			return saveSecret(tx, domain, sec)
		})
	})
	return out, internalUnlessDomain("WriteMetadata", err)
}

// PatchMetadata applies u to the settings and custom metadata of an
// existing secret (Vault's PATCH metadata, vault-kv2.md 4.7): u carries the
// merge-patch semantics (CustomMetadataPatch merges key by key). It returns
// secret.ErrNotFound if the secret is missing and violations if the merged
// custom metadata is invalid. Action: secret/updateMetadata.
func (s *Service) PatchMetadata(ctx context.Context, c Caller, domain string, p secret.Path, u secret.MetadataUpdate) (MetadataResult, error) {
	var out MetadataResult
	now := s.clock()
	err := s.run(ctx, c, s.SecretURN(domain, p), []string{c.action(policy.SecretUpdateMetadata)}, func() error {
		return s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
			out = MetadataResult{}
			cfg, err := domainConfig(tx, domain)
			if err != nil {
				return err
			}
			out.Config = cfg
			sec, err := loadSecret(tx, domain, p)
			if err != nil {
				return err
			}
			if err := sec.ApplyMetadata(u, now); err != nil {
				return err
			}
			out.Secret = sec
			return saveSecret(tx, domain, sec)
		})
	})
	return out, internalUnlessDomain("PatchMetadata", err)
}
