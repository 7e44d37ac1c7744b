package service

// Use cases that the Vault KV v2 surface (surface C, vault-kv2.md) needs
// beyond those shared with surfaces A and B: merge patch of the current
// version, Vault's bulk delete/undelete/destroy with its skip semantics, the
// soft delete of the current version, metadata writes that may create a
// secret, the key structure of a version (subkeys), the preflight's domain
// check and Vault's token calls. Each one follows the pattern of the other
// use cases: authorize, audit the request, one storage transaction, audit
// the response. The rules themselves live in package secret.

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// ErrTokenNotRevocable is returned by [Service.RevokeChildToken] for a token
// that is not a child token: root tokens, PATs and OAuth2 tokens are revoked
// through the identity API (vault-kv2.md 6.4).
var ErrTokenNotRevocable = errors.New("service: only a child token can revoke itself")

// DefaultChildTokenTTL is the lifetime of a child token created without a
// ttl (vault-kv2.md 6.4).
const DefaultChildTokenTTL = time.Hour

// PatchVersion applies the RFC 7396 merge patch patch (the JSON text of
// Vault's "data" member) to the data of the current version of the secret at
// p and stores the result as a new version, pruning as a write does
// (vault-kv2.md 4.4). The checks run in Vault's order, in one transaction:
// secret.ErrNotFound if the secret is missing; the CAS check
// (secret.ErrCASMismatch, secret.ErrCASRequired); secret.ErrVersionNotFound
// if the secret has no version; secret.ErrVersionInactive if the current
// version is deactivated or deleted, in which case the returned version and
// secret describe it; then the merge and the data rules (violations).
// Action: secret/version/create.
func (s *Service) PatchVersion(ctx context.Context, c Caller, domain string, p secret.Path, patch []byte, cas *uint32) (secret.Version, *secret.Secret, error) {
	var (
		v   secret.Version
		out *secret.Secret
	)
	now := s.clock()
	err := s.run(ctx, c, s.SecretURN(domain, p), []string{c.action(policy.SecretVersionCreate)}, func() error {
		return s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
			v, out = secret.Version{}, nil
			cfg, err := domainConfig(tx, domain)
			if err != nil {
				return err
			}
			sec, err := loadSecret(tx, domain, p)
			if err != nil {
				return err
			}
			eff := secret.EffectiveSettings(cfg, sec.Settings)
			if err := secret.CheckCAS(eff.CASRequired, cas, sec.CurrentVersion); err != nil {
				return err
			}
			if sec.CurrentVersion == 0 {
				return secret.ErrVersionNotFound
			}
			cur, err := sec.Version(0, now)
			if err != nil {
				return err
			}
			if cur.State != secret.Active {
				v, out = cur, sec
				return secret.ErrVersionInactive
			}
			d, err := loadData(tx, domain, sec.ID, cur.ID)
			if err != nil {
				return err
			}
			merged, err := secret.MergePatch(d, patch)
			if err != nil {
				return err
			}
			nv, err := s.writeVersion(tx, domain, sec, merged, now, eff)
			if err != nil {
				return err
			}
			v, out = nv, sec
			return nil
		})
	})
	return v, out, internalUnlessDomain("PatchVersion", err)
}

// SetVersionStates moves each listed version of the secret at p to state to,
// with Vault's skip semantics (vault-kv2.md 4.6): ids that are out of range,
// unknown or pruned are skipped, and so are versions the transition table
// refuses (a deleted version is final); a missing secret is not an error.
// Moving to secret.Active re-arms the deactivation schedule from now even for
// a version that is already active (Vault's undelete); moving to
// secret.Deleted destroys the data. All changes are made in one transaction.
// Action: the one of the target state (secret/version/deactivate, activate
// or delete).
func (s *Service) SetVersionStates(ctx context.Context, c Caller, domain string, p secret.Path, ids []int64, to secret.State) error {
	opt := secret.SetOptions{Rearm: to == secret.Active}
	now := s.clock()
	err := s.run(ctx, c, s.SecretURN(domain, p), []string{c.action(stateAction[to])}, func() error {
		return s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
			cfg, err := domainConfig(tx, domain)
			if err != nil {
				return err
			}
			sec, err := loadSecret(tx, domain, p)
			if errors.Is(err, secret.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			eff := secret.EffectiveSettings(cfg, sec.Settings)
			changed := false
			for _, n := range ids {
				if n < 1 || n > secret.MaxVersionID {
					continue
				}
				id := uint32(n)
				_, ch, err := sec.SetState(id, to, now, eff, opt)
				if errors.Is(err, secret.ErrVersionNotFound) || errors.Is(err, secret.ErrTransition) {
					continue
				}
				if err != nil {
					return err
				}
				if ch && to == secret.Deleted {
					if err := tx.Delete(versionKey(domain, sec.ID, id)); err != nil {
						return err
					}
				}
				changed = changed || ch
			}
			if !changed {
				return nil
			}
			return saveSecret(tx, domain, sec)
		})
	})
	return internalUnlessDomain("SetVersionStates", err)
}

// DeleteCurrentVersion deactivates the current version of the secret at p
// now, replacing any future schedule (Vault's DELETE data, vault-kv2.md 4.5).
// It does nothing when the secret is missing, has no version, or its current
// version is already deactivated or deleted. Action:
// secret/version/deactivate.
func (s *Service) DeleteCurrentVersion(ctx context.Context, c Caller, domain string, p secret.Path) error {
	now := s.clock()
	err := s.run(ctx, c, s.SecretURN(domain, p), []string{c.action(policy.SecretVersionDeactivate)}, func() error {
		return s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
			cfg, err := domainConfig(tx, domain)
			if err != nil {
				return err
			}
			sec, err := loadSecret(tx, domain, p)
			if errors.Is(err, secret.ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			if sec.CurrentVersion == 0 {
				return nil
			}
			eff := secret.EffectiveSettings(cfg, sec.Settings)
			_, changed, err := sec.SetState(sec.CurrentVersion, secret.Deactivated, now, eff, secret.SetOptions{})
			if errors.Is(err, secret.ErrTransition) || (err == nil && !changed) {
				return nil
			}
			if err != nil {
				return err
			}
			return saveSecret(tx, domain, sec)
		})
	})
	return internalUnlessDomain("DeleteCurrentVersion", err)
}

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

// SubkeysView is the key structure of one version (vault-kv2.md 4.8).
type SubkeysView struct {
	Secret  *secret.Secret
	Version secret.Version // as it stands at the time of the read
	// Subkeys is the data with every leaf replaced by nil (secret.Subkeys);
	// nil when the version is not active.
	Subkeys map[string]any
}

// GetSubkeys returns the key structure of a version of the secret at p
// (version 0: the current one), down to depth levels (0: unlimited). It
// returns secret.ErrNotFound for a missing secret and
// secret.ErrVersionNotFound for a version that is not retained (or a secret
// without versions). Action: secret/subKeys/get.
func (s *Service) GetSubkeys(ctx context.Context, c Caller, domain string, p secret.Path, version uint32, depth int) (SubkeysView, error) {
	var out SubkeysView
	now := s.clock()
	err := s.run(ctx, c, s.SecretURN(domain, p), []string{c.action(policy.SecretSubkeysGet)}, func() error {
		return s.domainView(ctx, domain, func(tx storage.Tx) error {
			sec, err := loadSecret(tx, domain, p)
			if err != nil {
				return err
			}
			if version == 0 && sec.CurrentVersion == 0 {
				return secret.ErrVersionNotFound
			}
			v, err := sec.Version(version, now)
			if err != nil {
				return err
			}
			out = SubkeysView{Secret: sec, Version: v}
			if v.State != secret.Active {
				return nil
			}
			d, err := loadData(tx, domain, sec.ID, v.ID)
			if err != nil {
				return err
			}
			out.Subkeys, err = secret.Subkeys(d, depth)
			return err
		})
	})
	return out, internalUnlessDomain("GetSubkeys", err)
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

// childTokenRecord is a token record with the digest of the token that
// created it. It embeds tokenRecord so that Authenticate reads a child token
// like any other; Parent lets a revocation reach the children
// (vault-kv2.md 6.4: a child token is revoked with its parent).
type childTokenRecord struct {
	tokenRecord
	Parent string `json:"parent,omitempty"`
}

// TokenInfo describes a token for Vault's lookup-self and token create
// (vault-kv2.md 6.3, 6.4). It never holds the token itself.
type TokenInfo struct {
	// Accessor is the token's stable, non-secret identifier.
	Accessor string
	Kind     auth.Kind
	// Name is the display name: the identity's name, or "token-<name>" for
	// a child token created with a display name.
	Name string
	// Root is true for a token acting as the account root.
	Root bool
	// Child is true for a child token.
	Child     bool
	CreatedAt time.Time
	// ExpiresAt is zero for a token that does not expire.
	ExpiresAt time.Time
	// TTL is the lifetime left at the time of the call, zero when the token
	// does not expire.
	TTL time.Duration
}

// ChildTokenOptions are the parameters of a child token (vault-kv2.md 6.4).
type ChildTokenOptions struct {
	// DisplayName is appended to "token-" as Vault does; empty gives "token".
	DisplayName string
	// TTL is the requested lifetime; zero or negative means
	// DefaultChildTokenTTL.
	TTL time.Duration
	// MaxTTL caps the lifetime when positive (Vault's explicit_max_ttl).
	MaxTTL time.Duration
}

// LookupToken describes token, which must be the credential of c (Vault's
// lookup-self, vault-kv2.md 6.3). It returns ErrUnauthenticated for a token
// that is unknown or expired. It needs a valid credential and no action; the
// call is audited.
func (s *Service) LookupToken(ctx context.Context, c Caller, token string) (TokenInfo, error) {
	var out TokenInfo
	now := s.clock()
	err := s.run(ctx, c, tokenResource(c), nil, func() error {
		digest, err := s.tokenDigest(token)
		if err != nil {
			return err
		}
		return s.store.View(ctx, func(tx storage.Tx) error {
			rec, err := loadToken(tx, digest, now)
			if err != nil {
				return err
			}
			out = rec.info(digest, now)
			return nil
		})
	})
	return out, internalUnlessDomain("LookupToken", err)
}

// CreateChildToken issues a child token of parent, the credential of c
// (Vault's auth/token/create, vault-kv2.md 6.4, iam.md 7.2): it acts as the
// same identities as its parent, lives opt.TTL (capped by opt.MaxTTL and by
// the parent's expiry), is not renewable, and is revoked with its parent. It
// returns the new token, shown once and stored only as a digest, and its
// description. It needs a valid credential and no action; the call is
// audited.
func (s *Service) CreateChildToken(ctx context.Context, c Caller, parent string, opt ChildTokenOptions) (string, TokenInfo, error) {
	ttl := opt.TTL
	if ttl <= 0 {
		ttl = DefaultChildTokenTTL
	}
	if opt.MaxTTL > 0 && ttl > opt.MaxTTL {
		ttl = opt.MaxTTL
	}
	name := "token"
	if opt.DisplayName != "" {
		name = "token-" + opt.DisplayName
	}
	token, err := auth.NewToken(auth.KindChildToken, s.rand)
	if err != nil {
		return "", TokenInfo{}, internal("CreateChildToken", err)
	}
	now := s.clock()
	var out TokenInfo
	err = s.run(ctx, c, tokenResource(c), nil, func() error {
		pd, err := s.tokenDigest(parent)
		if err != nil {
			return err
		}
		cd, _ := s.tokenDigest(token)
		return s.store.Update(ctx, func(tx storage.Tx) error {
			prec, err := loadToken(tx, pd, now)
			if err != nil {
				return err
			}
			expires := now.Add(ttl).UnixNano()
			if prec.Expires != 0 && prec.Expires < expires {
				expires = prec.Expires
			}
			// iam.md 3: a child token acts as its parent's principal, so it
			// inherits the whole parent record (identities, root, and
			// whatever authentication derives the principal from); only what
			// makes it a distinct credential changes.
			rec := childTokenRecord{tokenRecord: prec.tokenRecord, Parent: pd}
			rec.F, rec.Kind, rec.Name = recordFormat, string(auth.KindChildToken), name
			rec.Identities = slices.Clone(prec.Identities)
			rec.Created, rec.Expires = unixNano(now), expires
			b, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			out = rec.info(cd, now)
			return tx.Put(tokenKey(cd), b)
		})
	})
	if err != nil {
		return "", TokenInfo{}, internalUnlessDomain("CreateChildToken", err)
	}
	return token, out, nil
}

// RevokeChildToken revokes token, the credential of c, and every token
// created from it, directly or not (Vault's revoke-self, vault-kv2.md 6.4).
// It returns ErrTokenNotRevocable unless token is a child token, and
// ErrUnauthenticated if it is unknown or expired. It needs a valid
// credential and no action; the call is audited.
func (s *Service) RevokeChildToken(ctx context.Context, c Caller, token string) error {
	now := s.clock()
	err := s.run(ctx, c, tokenResource(c), nil, func() error {
		digest, err := s.tokenDigest(token)
		if err != nil {
			return err
		}
		return s.store.Update(ctx, func(tx storage.Tx) error {
			rec, err := loadToken(tx, digest, now)
			if err != nil {
				return err
			}
			if rec.Kind != string(auth.KindChildToken) {
				return ErrTokenNotRevocable
			}
			return revokeTokenTree(tx, digest)
		})
	})
	if errors.Is(err, ErrTokenNotRevocable) {
		return err
	}
	return internalUnlessDomain("RevokeChildToken", err)
}

// revokeTokenTree deletes the token with the given digest and all its
// descendants. The identity API's revocations (iam.md 7.2: deleting a PAT
// revokes its child tokens) can call it too.
func revokeTokenTree(tx storage.Tx, digest string) error {
	keys, err := tx.List(prefixTokens, "", 0)
	if err != nil {
		return err
	}
	children := map[string][]string{}
	for _, k := range keys {
		b, err := tx.Get(k)
		if err != nil {
			return err
		}
		var rec childTokenRecord
		if json.Unmarshal(b, &rec) == nil && rec.Parent != "" {
			children[rec.Parent] = append(children[rec.Parent], k[len(prefixTokens):])
		}
	}
	for queue := []string{digest}; len(queue) > 0; queue = queue[1:] {
		d := queue[0]
		if err := tx.Delete(tokenKey(d)); err != nil {
			return err
		}
		queue = append(queue, children[d]...)
	}
	return nil
}

// tokenDigest returns the storage digest of token.
func (s *Service) tokenDigest(token string) (string, error) {
	pp := s.pepper.Load()
	if pp == nil {
		return "", ErrNotInitialized
	}
	if !auth.PlausibleToken(token) {
		return "", ErrUnauthenticated
	}
	return auth.Digest(*pp, token), nil
}

// loadToken reads a token record, refusing one that is unknown or expired
// at now as Authenticate does.
func loadToken(tx storage.Tx, digest string, now time.Time) (childTokenRecord, error) {
	var rec childTokenRecord
	b, err := tx.Get(tokenKey(digest))
	if errors.Is(err, storage.ErrNotFound) {
		return rec, ErrUnauthenticated
	}
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, err
	}
	if rec.Expires != 0 && now.UnixNano() >= rec.Expires {
		return rec, ErrUnauthenticated
	}
	return rec, nil
}

func (r childTokenRecord) info(digest string, now time.Time) TokenInfo {
	ti := TokenInfo{
		Accessor: auth.Accessor(digest), Kind: auth.Kind(r.Kind), Name: r.Name, Root: r.Root,
		Child: r.Kind == string(auth.KindChildToken), CreatedAt: fromNano(r.Created),
	}
	if r.Expires != 0 {
		ti.ExpiresAt = fromNano(r.Expires)
		ti.TTL = ti.ExpiresAt.Sub(now)
	}
	return ti
}

// tokenResource names what a token call acts on in the audit log: the
// caller's own identity, since Vault's token calls act on the caller's
// credential.
func tokenResource(c Caller) string {
	if len(c.Principal.Identities) > 0 {
		return c.Principal.Identities[0]
	}
	return "token:" + c.Principal.CredentialID
}
