package service

import (
	"context"
	"errors"
	"slices"
	"sort"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// ErrPolicyNotFound: no policy has that id.
var ErrPolicyNotFound = errors.New("service: policy not found")

// CreatePolicy validates, canonicalises and stores a policy (iam.md 4.1).
// Names are unique. Root or ADMIN only.
func (s *Service) CreatePolicy(ctx context.Context, c Caller, p policy.Policy) (policy.Policy, error) {
	p.ID = s.newID()
	return s.writePolicy(ctx, c, p, true)
}

// UpdatePolicy replaces a policy. Root or ADMIN only.
func (s *Service) UpdatePolicy(ctx context.Context, c Caller, p policy.Policy) (policy.Policy, error) {
	return s.writePolicy(ctx, c, p, false)
}

func (s *Service) writePolicy(ctx context.Context, c Caller, p policy.Policy, create bool) (policy.Policy, error) {
	now := s.clock()
	what := "policy/update"
	if create {
		what = "policy/create"
	}
	var out policy.Policy
	err := s.requireAdmin(ctx, c, what, s.policyURN(p.ID), func() error {
		if err := p.Validate(); err != nil {
			return err
		}
		p = p.Canonical()
		return s.store.Update(ctx, func(tx storage.Tx) error {
			all, err := listJSON[policy.Policy](tx, prefixPolicies)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(all, func(q policy.Policy) bool { return q.ID == p.ID })
			max := s.limits.Load().Policies
			switch {
			case create && max > 0 && len(all) >= max:
				return &LimitError{What: "policies", Scope: "account", Limit: max}
			case create:
				p.CreatedAt, p.UpdatedAt = now, now
			case i < 0:
				return ErrPolicyNotFound
			default:
				p.CreatedAt, p.UpdatedAt = all[i].CreatedAt, now
			}
			if slices.ContainsFunc(all, func(q policy.Policy) bool { return q.ID != p.ID && q.Name == p.Name }) {
				return ErrIdentityExists
			}
			p.Owner, p.ReadOnly = s.account, false
			out = p
			return putJSON(tx, policyKey(p.ID), p)
		})
	})
	if err == nil {
		s.reloadPolicies(ctx)
		s.notify(ctx, changedPolicies)
	}
	return out, internalUnlessIAM("writePolicy", err)
}

// GetPolicy returns a policy. Root or ADMIN only.
func (s *Service) GetPolicy(ctx context.Context, c Caller, id string) (policy.Policy, error) {
	var out policy.Policy
	err := s.requireAdmin(ctx, c, "policy/get", s.policyURN(id), func() error {
		return s.store.View(ctx, func(tx storage.Tx) error {
			return getJSON(tx, policyKey(id), &out, ErrPolicyNotFound)
		})
	})
	return out, internalUnlessIAM("GetPolicy", err)
}

// ListPolicies returns every policy, sorted by name. Root or ADMIN only.
func (s *Service) ListPolicies(ctx context.Context, c Caller) ([]policy.Policy, error) {
	var out []policy.Policy
	err := s.requireAdmin(ctx, c, "policy/list", policy.AccountURN(s.zone, s.account), func() error {
		return s.store.View(ctx, func(tx storage.Tx) (err error) {
			out, err = listJSON[policy.Policy](tx, prefixPolicies)
			return err
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, internalUnlessIAM("ListPolicies", err)
}

// DeletePolicy deletes a policy. Root or ADMIN only.
func (s *Service) DeletePolicy(ctx context.Context, c Caller, id string) error {
	err := s.requireAdmin(ctx, c, "policy/delete", s.policyURN(id), func() error {
		return s.store.Update(ctx, func(tx storage.Tx) error {
			if _, err := tx.Get(policyKey(id)); errors.Is(err, storage.ErrNotFound) {
				return ErrPolicyNotFound
			} else if err != nil {
				return err
			}
			return tx.Delete(policyKey(id))
		})
	})
	if err == nil {
		s.reloadPolicies(ctx)
		s.notify(ctx, changedPolicies)
	}
	return internalUnlessIAM("DeletePolicy", err)
}

// reloadPolicies rebuilds the in-memory policy index from storage. A
// failure keeps the previous index and is logged: the write it follows is
// committed.
func (s *Service) reloadPolicies(ctx context.Context) {
	if err := s.loadPolicies(ctx); err != nil {
		s.log.ErrorContext(ctx, "reload policies", "err", err)
	}
}

func (s *Service) loadPolicies(ctx context.Context) error {
	var ps []policy.Policy
	err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		ps, err = listJSON[policy.Policy](tx, prefixPolicies)
		return err
	})
	if err != nil {
		return internal("loadPolicies", err)
	}
	s.policies.Store(policy.NewIndex(ps))
	return nil
}

// policyURN names a policy in the audit log of its management.
func (s *Service) policyURN(id string) string { return "urn:v1:" + s.zone + ":iam:policy:" + id }
