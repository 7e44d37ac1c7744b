package service

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Versions: adding a version (with the CAS check and pruning), reading
// and listing versions, and moving versions between states. Each use case
// authorizes, audits the request, runs one storage transaction and audits
// the response (service.go).

// PutOptions tune PutVersion.
type PutOptions struct {
	CAS *uint32
	// CreateIfMissing creates the secret when it does not exist (Vault's
	// data write); the action is then secret/create instead of
	// secret/version/create.
	CreateIfMissing bool
}

// PutVersion adds a version holding d to the secret at p (okms-rest.md
// 4.7, vault-kv2.md 4.3), after the CAS check, pruning beyond the
// effective maximum. It returns the new version and the secret after the
// write. Action: secret/version/create (or secret/create when it creates the
// secret).
func (s *Service) PutVersion(ctx context.Context, c Caller, domain string, p secret.Path, d secret.Data, opt PutOptions) (secret.Version, *secret.Secret, error) {
	var (
		v   secret.Version
		out *secret.Secret
	)
	now := s.clock()
	id := s.newID()
	urn := s.SecretURN(domain, p)
	actVersion, actCreate := c.action(policy.SecretVersionCreate), c.action(policy.SecretCreate)
	actions := []string{actVersion}
	if opt.CreateIfMissing {
		// Vault data write: the action depends on existence, which must not
		// be revealed to a caller holding neither (iam.md 6).
		switch {
		case s.allowed(c, actVersion, urn):
		case s.allowed(c, actCreate, urn):
			actions = []string{actCreate}
		}
	}
	err := s.run(ctx, c, urn, actions, func() error {
		return s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
			cfg, err := domainConfig(tx, domain)
			if err != nil {
				return err
			}
			sec, err := loadSecret(tx, domain, p)
			switch {
			case errors.Is(err, secret.ErrNotFound) && opt.CreateIfMissing:
				if !s.allowed(c, actCreate, urn) {
					return ErrDenied
				}
				sec = secret.New(id, p, now)
			case err != nil:
				return err
			case !s.allowed(c, actVersion, urn):
				return ErrDenied
			}
			eff := secret.EffectiveSettings(cfg, sec.Settings)
			if err := secret.CheckCAS(eff.CASRequired, opt.CAS, sec.CurrentVersion); err != nil {
				return err
			}
			v, err = s.writeVersion(tx, domain, sec, d, now, eff)
			out = sec
			return err
		})
	})
	return v, out, internalUnlessDomain("PutVersion", err)
}

// GetVersion returns one version as it stands now, with its data when
// includeData is set and the version is active (okms-rest.md 4.8). Actions:
// secret/get, plus secret/version/getData with data.
func (s *Service) GetVersion(ctx context.Context, c Caller, domain string, p secret.Path, id uint32, includeData bool) (secret.Version, *secret.Data, error) {
	view, err := s.GetSecret(ctx, c, domain, p, GetOptions{Version: id, IncludeData: includeData})
	if err != nil {
		return secret.Version{}, nil, err
	}
	if view.Version == nil {
		return secret.Version{}, nil, secret.ErrVersionNotFound
	}
	return *view.Version, view.Data, nil
}

// ListVersions returns one page of the retained versions of a secret,
// ascending, as they stand now: up to limit (0: all) after the cursor of a
// previous page ("" from the first), and the cursor of the next page, ""
// on the last (okms-rest.md 4.6). A cursor that is not one of this list's
// for this caller is ErrCursorInvalid. Action: secret/get.
func (s *Service) ListVersions(ctx context.Context, c Caller, domain string, p secret.Path, cursor string, limit int) ([]secret.Version, string, error) {
	var (
		out  []secret.Version
		next string
	)
	now := s.clock()
	l := Listing{Kind: ListVersions, Domain: domain, Of: p.String()}
	err := s.run(ctx, c, s.SecretURN(domain, p), []string{c.action(policy.SecretGet)}, func() error {
		var all []secret.Version
		err := s.domainView(ctx, domain, func(tx storage.Tx) error {
			sec, err := loadSecret(tx, domain, p)
			if err != nil {
				return err
			}
			all = sec.VersionsAt(now)
			return nil
		})
		if err != nil {
			return err
		}
		out, next, err = PageOf(s, c, l, all, versionPosition, cursor, limit)
		return err
	})
	return out, next, internalUnlessDomain("ListVersions", err)
}

// versionPosition orders versions in a cursor: ids of ten digits sort as
// numbers do.
func versionPosition(v secret.Version) string { return fmt.Sprintf("%010d", v.ID) }

// stateAction is the action needed to move a version to a state.
var stateAction = map[secret.State]string{
	secret.Active:      policy.SecretVersionActivate,
	secret.Deactivated: policy.SecretVersionDeactivate,
	secret.Deleted:     policy.SecretVersionDelete,
}

// SetVersionState moves a version to another state (okms-rest.md 3.4, 4.9);
// deleting destroys its data. Actions: the one of the target state (even for
// a no-op), plus secret/version/edit on surface A.
func (s *Service) SetVersionState(ctx context.Context, c Caller, domain string, p secret.Path, id uint32, to secret.State) (secret.Version, error) {
	var actions []string
	if c.Dialect == Central {
		actions = append(actions, c.action(policy.SecretVersionEdit))
	}
	actions = append(actions, c.action(stateAction[to]))
	var out secret.Version
	now := s.clock()
	err := s.run(ctx, c, s.SecretURN(domain, p), actions, func() error {
		return s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
			cfg, err := domainConfig(tx, domain)
			if err != nil {
				return err
			}
			sec, err := loadSecret(tx, domain, p)
			if err != nil {
				return err
			}
			v, changed, err := sec.SetState(id, to, now, secret.EffectiveSettings(cfg, sec.Settings), secret.SetOptions{})
			if err != nil {
				return err
			}
			out = v
			if !changed {
				return nil
			}
			if to == secret.Deleted {
				if err := tx.Delete(versionKey(domain, sec.ID, id)); err != nil {
					return err
				}
			}
			return saveSecret(tx, domain, sec)
		})
	})
	return out, internalUnlessDomain("SetVersionState", err)
}

func loadData(tx storage.Tx, domain, secretID string, id uint32) (secret.Data, error) {
	b, err := tx.Get(versionKey(domain, secretID, id))
	if err != nil {
		// The index says the version is active: its data must be there.
		return secret.Data{}, err
	}
	return decodeData(b)
}

// writeVersion adds a version holding d to sec, stores its data, destroys
// the data of pruned versions and saves the secret.
func writeVersion(tx storage.Tx, domain string, sec *secret.Secret, d secret.Data, now time.Time, eff secret.Effective) (secret.Version, error) {
	v, pruned, err := sec.AddVersion(now, eff)
	if err != nil {
		return secret.Version{}, err
	}
	if err := tx.Put(versionKey(domain, sec.ID, v.ID), encodeData(d)); err != nil {
		return secret.Version{}, err
	}
	for _, id := range pruned {
		if err := tx.Delete(versionKey(domain, sec.ID, id)); err != nil {
			return secret.Version{}, err
		}
	}
	return v, saveSecret(tx, domain, sec)
}

// The version calls of the Vault KV v2 surface (surface C, vault-kv2.md)
// beyond those shared with surfaces A and B: merge patch of the current
// version, Vault's bulk delete/undelete/destroy with its skip semantics, the
// soft delete of the current version, and the key structure of a version
// (subkeys). The rules themselves live in package secret.

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
