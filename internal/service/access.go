package service

import (
	"context"
	"sort"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Access: who may do what, beyond the authorization each use case does
// for itself (service.go). requireAdmin gates identity management and
// operator actions. The rest are the few questions interfaces (the web
// panel, internal/webui) ask the service so that they offer only what the
// caller may do. They reuse the service's own decisions: an interface never
// holds a copy of the rules, and every operation it then runs is authorized
// and audited again by the method that performs it.

// requireAdmin runs fn as an identity-management operation: only the
// account root and ADMIN users may (iam.md 7.4). It is audited like every
// other call, under the pseudo-action "coffer:iam/<what>".
func (s *Service) requireAdmin(ctx context.Context, c Caller, what, resource string, fn func() error) error {
	return s.Operate(ctx, c, "coffer:iam/"+what, resource, fn)
}

func adminDecision(c Caller) (outcome, reason string) {
	switch {
	case c.Principal.Root:
		return audit.Allowed, "root"
	case c.Principal.Admin:
		return audit.Allowed, "admin"
	}
	return audit.Denied, "identity management needs the account root or an ADMIN user"
}

// Allowed reports whether the caller may perform action (a full action
// name such as "okms:apikms:secret/version/getData") on resource (a URN
// built by [Service.SecretURN] or [Service.DomainURN]) now. It is not
// audited and grants nothing: it only tells an interface whether to offer
// an action.
func (s *Service) Allowed(c Caller, action, resource string) bool {
	return s.allowed(c, action, resource)
}

// CanAdminister reports whether the caller may manage identities, policies
// and domains and read the audit log: the account root and ADMIN users
// (iam.md 7.4). Like [Service.Allowed] it is a hint for interfaces.
func (s *Service) CanAdminister(c Caller) bool {
	outcome, _ := adminDecision(c)
	return outcome == audit.Allowed
}

// PanelDomain is a domain as the web panel lists it.
type PanelDomain struct {
	Domain
	// HasSecrets is true when the caller may see at least one secret of
	// the domain (secret/get on it).
	HasSecrets bool
}

// panelScan bounds the secret records read per domain to find one the
// caller may see.
const panelScan = maxScan

// PanelDomains returns the domains, READY or being created, in which the
// caller may do something the panel offers: those it may resource/get,
// secret/get or secret/create on as a whole, or in which it may see at
// least one secret, the actions being those of the caller's dialect (the
// panel calls as surface A does, okms:apiovh:). They are sorted by region,
// display name and id. The list is audited as one list request, filtered
// per domain.
func (s *Service) PanelDomains(ctx context.Context, c Caller) ([]PanelDomain, error) {
	get, create := c.action(policy.SecretGet), c.action(policy.SecretCreate)
	resGet := policy.NamespaceCentral + policy.ResourceGet
	var out []PanelDomain
	err := s.runList(ctx, c, policy.AccountURN(s.zone, s.account), get, func() error {
		if err := s.loadDomains(ctx); err != nil {
			return err
		}
		out = nil
		for _, d := range *s.domains.Load() {
			if d.State == DomainDeleting {
				continue
			}
			urn := s.DomainURN(d.ID)
			whole := s.allowed(c, resGet, urn) || s.allowed(c, get, urn) || s.allowed(c, create, urn)
			pd := PanelDomain{Domain: d}
			if d.State == DomainReady {
				var err error
				if pd.HasSecrets, err = s.seesASecret(ctx, c, d, get); err != nil {
					return err
				}
			}
			if whole || pd.HasSecrets {
				out = append(out, pd)
			}
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Region != b.Region {
			return a.Region < b.Region
		}
		if a.DisplayName != b.DisplayName {
			return a.DisplayName < b.DisplayName
		}
		return a.ID < b.ID
	})
	return out, internalUnlessIAM("PanelDomains", err)
}

// seesASecret reports whether the caller may secret/get at least one of
// the first panelScan secrets of d.
func (s *Service) seesASecret(ctx context.Context, c Caller, d Domain, act string) (bool, error) {
	st, ok := s.regions[d.Region]
	if !ok {
		return false, nil
	}
	found := false
	err := st.View(ctx, func(tx storage.Tx) error {
		found = false
		prefix := secretPrefix(d.ID)
		keys, err := tx.List(prefix, "", panelScan)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if s.allowed(c, act, policy.SecretURN(s.zone, d.ID, escapeKeyPath(k, prefix))) {
				found = true
				return nil
			}
		}
		return nil
	})
	return found, err
}
