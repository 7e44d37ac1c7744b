package service

import (
	"context"
	"errors"
	"slices"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Rights that outlive a request (issue 13, points 3 and 6): personal
// access tokens and their child tokens, panel sessions, access
// certificates and policies name users and groups. Logins and group names
// can be deleted and taken again, so whatever carries rights also records
// the immutable id of the user or group it was made for, and is checked
// against the live directory each time it is used:
//
//   - a token acts as its user only while that login still has the id the
//     token recorded (userPrincipalTx); deleting a user revokes its tokens;
//   - a panel session carries the user's id, checked at every request
//     (RefreshLogin);
//   - a certificate records its issuer and the ids of the users and groups
//     it binds; at each authentication its issuer must still exist with
//     that id, and the identities it binds must still be ones the issuer
//     could bind now (certIdentities); deleting a user revokes the
//     certificates it issued;
//   - a policy names identities by URN (iam.md 4.1): deleting a user or a
//     group removes its URN from every policy, so that a new holder of the
//     name starts with nothing. A policy left without identities stays, and
//     applies to nobody until an administrator names someone.
//
// Each removal is audited as its own event.

// issuerOf returns the URN and the immutable id (for a user) of who issues
// a credential now: the account for the root, else the user behind the
// principal ("" for a principal with no user behind it, such as a
// certificate bound to a group by the root).
func (s *Service) issuerOf(p auth.Principal) (urn, id string) {
	switch {
	case p.UserID != "":
		return s.userURN(p.User), p.UserID
	case p.Root:
		return policy.AccountURN(s.zone, s.account), ""
	}
	return "", ""
}

// identityIDs returns the immutable ids of the users and groups among
// urns, by URN. A user or group of this account that does not exist gets
// absentID, which no user or group has: the credential never grants it,
// even to someone who takes the name later.
func (s *Service) identityIDs(ctx context.Context, urns []string) (map[string]string, error) {
	ids := map[string]string{}
	err := s.store.View(ctx, func(tx storage.Tx) error {
		clear(ids)
		for _, u := range urns {
			urn, err := policy.ParseURN(u)
			if err != nil || urn.Account != s.account {
				continue
			}
			var (
				rec interface{ id() string }
				key string
			)
			switch urn.Type {
			case policy.TypeUser:
				rec, key = &userRecord{}, userKey(urn.Name)
			case policy.TypeGroup:
				rec, key = &groupRecord{}, groupKey(urn.Name)
			default:
				continue
			}
			switch err := getJSON(tx, key, rec, storage.ErrNotFound); {
			case errors.Is(err, storage.ErrNotFound):
				ids[u] = absentID
			case err != nil:
				return err
			default:
				ids[u] = rec.id()
			}
		}
		return nil
	})
	return ids, err
}

// absentID stands for a user or group that did not exist when a
// credential bound it.
const absentID = "absent"

// certIdentities fills p with the identities of the credential r as they
// stand now (iam.md 3, 7.3): users expanded with their group, the account
// URN making the root, and anything that no longer holds dropped. For a
// credential with an issuer, that issuer must still exist with the id it
// had (else ErrUnauthenticated), and unless it is the root or an ADMIN user
// now, it may keep only its own user and its current group, as the
// escalation guard would allow if it issued the credential today.
func (s *Service) certIdentities(tx storage.Tx, r credentialRecord, p *auth.Principal) error {
	account := policy.AccountURN(s.zone, s.account)
	privileged, self := true, auth.Principal{} // credentials without an issuer keep the former rule
	switch {
	case r.IssuerID != "":
		urn, err := policy.ParseURN(r.Issuer)
		if err != nil {
			return ErrUnauthenticated
		}
		if self, err = s.userPrincipalTx(tx, urn.Name, r.IssuerID, auth.KindCertificate, ""); err != nil {
			return err // the issuer is gone: so is the credential
		}
		privileged = self.Admin
		p.UserID, p.User = self.UserID, self.User
	case r.Issuer != "":
		privileged = r.Issuer == account
	}
	for _, u := range r.URNs {
		urn, err := policy.ParseURN(u)
		if err != nil || (urn.Type != policy.TypeAccount && urn.Account != s.account) {
			continue
		}
		if !privileged && !slices.Contains(self.Identities, u) {
			continue // no longer one the issuer may bind
		}
		switch urn.Type {
		case policy.TypeAccount:
			if u == account {
				p.Root = true
				p.Identities = append(p.Identities, u)
			}
		case policy.TypeUser:
			up, err := s.userPrincipalTx(tx, urn.Name, r.IDs[u], auth.KindCertificate, "")
			if errors.Is(err, ErrUnauthenticated) {
				continue // gone, or another user of the login now
			} else if err != nil {
				return err
			}
			p.Identities = append(p.Identities, up.Identities...)
			p.Admin = p.Admin || up.Admin
		case policy.TypeGroup:
			var g groupRecord
			err := getJSON(tx, groupKey(urn.Name), &g, storage.ErrNotFound)
			if errors.Is(err, storage.ErrNotFound) || (err == nil && r.IDs[u] != "" && r.IDs[u] != g.id()) {
				continue // gone, or another group of the name now
			} else if err != nil {
				return err
			}
			p.Identities = append(p.Identities, u)
			p.Admin = p.Admin || g.Role == RoleAdmin
		case policy.TypeCredential:
			if ok, err := exists(tx, saKey(urn.Name)); err != nil {
				return err
			} else if !ok {
				continue // the service account was deleted (its client id is never reused)
			}
			p.Identities = append(p.Identities, u)
		default:
			p.Identities = append(p.Identities, u)
		}
	}
	return nil
}

// dropFromPolicies removes urn from the identities of every policy that
// names it, in tx, and returns the policies it changed.
func dropFromPolicies(tx storage.Tx, urn string) ([]policy.Policy, error) {
	all, err := listJSON[policy.Policy](tx, prefixPolicies)
	if err != nil {
		return nil, err
	}
	var changed []policy.Policy
	for _, p := range all {
		if !slices.Contains(p.Identities, urn) {
			continue
		}
		p.Identities = slices.DeleteFunc(p.Identities, func(i string) bool { return i == urn })
		if err := putJSON(tx, policyKey(p.ID), p); err != nil {
			return nil, err
		}
		changed = append(changed, p)
	}
	return changed, nil
}

// forgotten finishes the deletion of a user or a group whose URN the
// committed transaction removed from policies: the policy index is
// reloaded here and on the other nodes, and each change is audited.
func (s *Service) forgotten(ctx context.Context, c Caller, urn string, changed []policy.Policy) {
	if len(changed) == 0 {
		return
	}
	s.reloadPolicies(ctx)
	s.notify(ctx, changedPolicies)
	for _, p := range changed {
		s.auditEffect(ctx, c, "coffer:iam/policy/update", s.policyURN(p.ID), "identity deleted: "+urn)
	}
}

// revokeIssued revokes, in every domain, the credentials issued by the
// user whose immutable id is userID, each audited. It runs after the
// user's deletion is committed: a failure here leaves credentials that
// no longer authenticate (their issuer is gone, certIdentities), and is
// logged.
func (s *Service) revokeIssued(ctx context.Context, c Caller, userID, why string) {
	s.revokeCredentials(ctx, c, "its issuer was "+why, func(r credentialRecord) bool {
		return r.IssuerID == userID
	})
}

// revokeBoundTo revokes, in every domain, the credentials that bind urn and
// nothing else (a service account's certificates), each audited, after the
// identity's deletion is committed. A credential that binds other
// identities too stays: it no longer authenticates as urn (certIdentities).
func (s *Service) revokeBoundTo(ctx context.Context, c Caller, urn string) {
	s.revokeCredentials(ctx, c, "the identity it binds was deleted", func(r credentialRecord) bool {
		return len(r.URNs) > 0 && !slices.ContainsFunc(r.URNs, func(u string) bool { return u != urn })
	})
}

// revokeCredentials deletes, in every domain, the credentials that match,
// each audited with reason. Failures are logged: the credentials they
// leave no longer authenticate as what was deleted.
func (s *Service) revokeCredentials(ctx context.Context, c Caller, reason string, match func(credentialRecord) bool) {
	if err := s.loadDomains(ctx); err != nil {
		s.log.ErrorContext(ctx, "revoke credentials", "reason", reason, "err", err)
		return
	}
	for _, d := range *s.domains.Load() {
		var revoked []string
		err := s.domainUpdate(ctx, d.ID, func(tx storage.Tx) error {
			revoked = nil
			rs, err := listJSON[credentialRecord](tx, credentialPrefix(d.ID))
			if err != nil {
				return err
			}
			for _, r := range rs {
				if !match(r) {
					continue
				}
				if err := tx.Delete(serialKey(d.ID, r.Serial)); err != nil {
					return err
				}
				if err := tx.Delete(credentialKey(d.ID, r.ID)); err != nil {
					return err
				}
				revoked = append(revoked, r.ID)
			}
			return nil
		})
		if err != nil && !errors.Is(err, ErrDomainNotFound) && !errors.Is(err, ErrDomainNotReady) {
			s.log.ErrorContext(ctx, "revoke credentials", "reason", reason, "okms_id", d.ID, "err", err)
		}
		for _, id := range revoked {
			s.auditEffect(ctx, c, policy.NamespaceCentral+policy.CredentialDelete, s.DomainURN(d.ID),
				"credential "+id+" revoked: "+reason)
		}
	}
}

// auditEffect records a change made as a consequence of the operation of
// c (a deletion's cascade): one event, after the fact.
func (s *Service) auditEffect(ctx context.Context, c Caller, action, resource, reason string) {
	o := newOp(c, resource, action)
	e := s.event(o, audit.PhaseResponse, audit.Allowed, reason)
	if err := s.audit.Record(ctx, e); err != nil {
		s.log.ErrorContext(ctx, "audit of a deletion's effect failed", "err", err, "request_id", c.RequestID)
	}
}
