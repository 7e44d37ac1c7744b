package service_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// TestService_DeletionCascade (issue 13, points 3 and 6): deleting a user
// revokes the certificates it issued and removes its URN from every
// policy, each audited; deleting a group removes its URN from policies
// too; a certificate's issuer and bound identities are checked at each
// authentication against the directory as it is now.
func TestService_DeletionCascade(t *testing.T) {
	eachPKIBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		if _, err := f.svc.CreateGroup(ctx, f.root, service.GroupInput{Name: "apps", Role: str(service.RoleRegular)}); err != nil {
			t.Fatal(err)
		}
		ci := f.asUser(t, "ci", "apps")
		groupURN, ciURN := "urn:v1:eu:identity:group:coffer/apps", "urn:v1:eu:identity:user:coffer/ci"
		pol, err := f.svc.CreatePolicy(ctx, f.root, policy.Policy{Name: "apps", Identities: []string{groupURN, ciURN},
			Resources: []string{f.svc.DomainURN(f.domain)}, Allow: []string{"okms:apiovh:credential/create", "okms:apikms:secret/get"}})
		if err != nil {
			t.Fatal(err)
		}
		ci.Dialect = service.Central
		cred, _, err := f.svc.CreateCredential(ctx, ci, f.domain, service.CredentialInput{Name: "ci", IdentityURNs: []string{groupURN}})
		if err != nil {
			t.Fatalf("ci binds its group: %v", err)
		}
		if cred.Issuer != ciURN {
			t.Errorf("credential issuer %q, want %s", cred.Issuer, ciURN)
		}
		rootCred, _, err := f.svc.CreateCredential(ctx, f.root, f.domain, service.CredentialInput{Name: "root", IdentityURNs: []string{groupURN}})
		if err != nil || rootCred.Issuer != "urn:v1:eu:identity:account:coffer" {
			t.Fatalf("the root's credential: %+v, %v", rootCred, err)
		}
		p, err := f.svc.AuthenticateCertificate(ctx, f.domain, certDER(t, cred))
		if err != nil || !slices.Equal(p.Identities, []string{groupURN}) || p.User != "ci" || p.UserID != ci.Principal.UserID {
			t.Fatalf("the group certificate authenticates as %+v, %v", p, err)
		}
		// A bound user that does not exist grants nothing, even to whoever
		// takes the login later.
		early, _, err := f.svc.CreateCredential(ctx, f.root, f.domain, service.CredentialInput{Name: "x",
			IdentityURNs: []string{"urn:v1:eu:identity:user:coffer/later"}})
		if err != nil {
			t.Fatal(err)
		}
		f.asUser(t, "later", "")
		if _, err := f.svc.AuthenticateCertificate(ctx, f.domain, certDER(t, early)); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("a certificate bound to a login before its user existed: %v, want ErrUnauthenticated", err)
		}

		m := f.mark()
		if err := f.svc.DeleteUser(ctx, f.root, "ci"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AuthenticateCertificate(ctx, f.domain, certDER(t, cred)); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("the certificate of a deleted issuer: %v, want ErrUnauthenticated", err)
		}
		if _, err := f.svc.GetCredential(ctx, f.root, f.domain, cred.ID); !errors.Is(err, service.ErrCredentialNotFound) {
			t.Errorf("the credential of a deleted issuer: %v, want it revoked", err)
		}
		if _, err := f.svc.AuthenticateCertificate(ctx, f.domain, certDER(t, rootCred)); err != nil {
			t.Errorf("the root's group certificate after ci's deletion: %v", err)
		}
		got, err := f.svc.GetPolicy(ctx, f.root, pol.ID)
		if err != nil || !slices.Equal(got.Identities, []string{groupURN}) {
			t.Errorf("the policy after ci's deletion: %v, %v; want only the group", got.Identities, err)
		}
		var effects []string
		for _, e := range f.since(m) {
			if e.Phase == audit.PhaseResponse && e.Outcome == audit.Allowed && e.Reason != "" && e.Action != "coffer:iam/user/delete" &&
				!strings.HasSuffix(e.Action, "/get") {
				effects = append(effects, e.Action+" "+e.Reason)
			}
		}
		if len(effects) != 2 || !strings.HasPrefix(effects[0], "coffer:iam/policy/update identity deleted: "+ciURN) ||
			effects[1] != "okms:apiovh:credential/delete credential "+cred.ID+" revoked: its issuer was deleted" {
			t.Errorf("audited effects of the deletion: %q", effects)
		}

		// The group's deletion empties the policy, which stays and
		// applies to nobody; the root's certificate bound to it fails.
		if err := f.svc.DeleteGroup(ctx, f.root, "apps"); err != nil {
			t.Fatal(err)
		}
		if got, err := f.svc.GetPolicy(ctx, f.root, pol.ID); err != nil || len(got.Identities) != 0 {
			t.Errorf("the policy after the group's deletion: %v, %v", got.Identities, err)
		}
		if _, err := f.svc.CreateGroup(ctx, f.root, service.GroupInput{Name: "apps"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AuthenticateCertificate(ctx, f.domain, certDER(t, rootCred)); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("a certificate bound to a group deleted and created again: %v, want ErrUnauthenticated", err)
		}
	})
}

// TestService_IssuerStanding: a certificate a user issued carries only
// what the user could bind now: its group while it is a member, nothing
// once it left; an ADMIN user's certificate loses what it bound beyond
// itself when the user is no longer ADMIN.
func TestService_IssuerStanding(t *testing.T) {
	eachPKIBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		for _, g := range []struct{ name, role string }{{"apps", service.RoleRegular}, {"admins", service.RoleAdmin}} {
			if _, err := f.svc.CreateGroup(ctx, f.root, service.GroupInput{Name: g.name, Role: str(g.role)}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := f.svc.CreatePolicy(ctx, f.root, policy.Policy{Name: "apps", Identities: []string{"urn:v1:eu:identity:group:coffer/apps"},
			Resources: []string{f.svc.DomainURN(f.domain)}, Allow: []string{"okms:apiovh:credential/create"}}); err != nil {
			t.Fatal(err)
		}
		dev := f.asUser(t, "dev", "apps")
		boss := f.asUser(t, "boss", "admins")
		dev.Dialect, boss.Dialect = service.Central, service.Central
		devCred, _, err := f.svc.CreateCredential(ctx, dev, f.domain, service.CredentialInput{Name: "dev",
			IdentityURNs: []string{"urn:v1:eu:identity:user:coffer/dev", "urn:v1:eu:identity:group:coffer/apps"}})
		if err != nil {
			t.Fatal(err)
		}
		bossCred, _, err := f.svc.CreateCredential(ctx, boss, f.domain, service.CredentialInput{Name: "boss",
			IdentityURNs: []string{"urn:v1:eu:identity:group:coffer/apps", "urn:v1:eu:identity:account:coffer"}})
		if err != nil {
			t.Fatal(err)
		}
		ids := func(c service.Credential) []string {
			p, err := f.svc.AuthenticateCertificate(ctx, f.domain, certDER(t, c))
			if errors.Is(err, service.ErrUnauthenticated) {
				return nil
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Root {
				return append(p.Identities, "ROOT")
			}
			return p.Identities
		}
		if got := ids(devCred); len(got) != 2 {
			t.Errorf("dev's certificate: %v", got)
		}
		if got := ids(bossCred); !slices.Contains(got, "ROOT") {
			t.Errorf("boss's certificate: %v, want the root", got)
		}
		if _, err := f.svc.UpdateUser(ctx, f.root, service.UserInput{Login: "dev", Group: str("")}); err != nil {
			t.Fatal(err)
		}
		if got := ids(devCred); !slices.Equal(got, []string{"urn:v1:eu:identity:user:coffer/dev"}) {
			t.Errorf("dev's certificate once dev left the group: %v, want dev alone", got)
		}
		if _, err := f.svc.UpdateUser(ctx, f.root, service.UserInput{Login: "boss", Group: str("apps")}); err != nil {
			t.Fatal(err)
		}
		if got := ids(bossCred); !slices.Equal(got, []string{"urn:v1:eu:identity:group:coffer/apps"}) {
			t.Errorf("boss's certificate once boss is no longer ADMIN: %v, want only the group boss is in", got)
		}
		if _, err := f.svc.UpdateUser(ctx, f.root, service.UserInput{Login: "boss", Group: str("")}); err != nil {
			t.Fatal(err)
		}
		if got := ids(bossCred); got != nil {
			t.Errorf("boss's certificate with nothing boss may bind: %v, want refused", got)
		}
	})
}

// TestService_LegacyIdentityRecords: records written before immutable ids
// keep working (a user, its token) and get an id derived from their
// creation time, which a user created again does not share.
func TestService_LegacyIdentityRecords(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		f.asUser(t, "old", "")
		tok, _, err := f.svc.CreatePAT(ctx, f.root, "old", "legacy", "", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		strip := func(key, field string) {
			err := f.store.Update(ctx, func(tx storage.Tx) error {
				keys, err := tx.List(key, "", 0)
				if err != nil {
					return err
				}
				for _, k := range keys {
					b, err := tx.Get(k)
					if err != nil {
						return err
					}
					var r map[string]any
					if json.Unmarshal(b, &r) != nil {
						continue
					}
					delete(r, field)
					b, _ = json.Marshal(r)
					if err := tx.Put(k, b); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		strip("iam/user/old", "id")
		strip("iam/token/", "uid")
		p, err := f.svc.Authenticate(ctx, tok)
		if err != nil || p.UserID == "" || !strings.HasPrefix(p.UserID, "created-") {
			t.Fatalf("a legacy token of a legacy user: %+v, %v", p, err)
		}
		if err := f.svc.DeleteUser(ctx, f.root, "old"); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Second)
		if _, err := f.svc.CreateUser(ctx, f.root, service.UserInput{Login: "old"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RefreshLogin(ctx, "old", p.UserID); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("a session of the legacy user with the new one: %v, want ErrUnauthenticated", err)
		}
	})
}
