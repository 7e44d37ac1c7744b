package service_test

import (
	"errors"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

func TestService_AllowedAndCanAdminister(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		for _, g := range []service.GroupInput{{Name: "admins", Role: str(service.RoleAdmin)}, {Name: "staff", Role: str(service.RoleRegular)}} {
			if _, err := f.svc.CreateGroup(ctx, f.root, g); err != nil {
				t.Fatal(err)
			}
		}
		admin, staff := f.asUser(t, "erin", "admins"), f.asUser(t, "dave", "staff")
		for name, tc := range map[string]struct {
			c    service.Caller
			want bool
		}{"root": {f.root, true}, "ADMIN user": {admin, true}, "REGULAR user": {staff, false}} {
			if got := f.svc.CanAdminister(tc.c); got != tc.want {
				t.Errorf("CanAdminister(%s) = %v, want %v", name, got, tc.want)
			}
		}

		urn := f.svc.SecretURN(f.domain, secret.MustParsePath("app/db"))
		get, getData := "okms:apikms:secret/get", "okms:apikms:secret/version/getData"
		if !f.svc.Allowed(f.root, getData, urn) || !f.svc.Allowed(admin, getData, urn) {
			t.Error("Allowed refuses the root or an ADMIN user")
		}
		if f.svc.Allowed(staff, get, urn) {
			t.Error("Allowed grants a user without policy")
		}
		if _, err := f.svc.CreatePolicy(ctx, f.root, readPolicy(f, "read", staff.Principal.Identities[0])); err != nil {
			t.Fatal(err)
		}
		if !f.svc.Allowed(staff, get, urn) || f.svc.Allowed(staff, getData, urn) {
			t.Error("Allowed does not follow the user's policy")
		}
		// Questions are not operations: nothing is audited.
		m := f.mark()
		f.svc.Allowed(staff, get, urn)
		f.svc.CanAdminister(staff)
		if evs := f.since(m); len(evs) != 0 {
			t.Errorf("Allowed and CanAdminister wrote audit events: %+v", evs)
		}
	})
}

func TestService_PanelDomains(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		second, err := f.svc.CreateDomain(ctx, f.root, "local", "second")
		if err != nil {
			t.Fatal(err)
		}
		f.svc.Wait()
		p := secret.MustParsePath("team/db")
		if _, err := f.svc.CreateSecret(ctx, f.root, second.ID, p, data(t, `{"a":1}`), secret.MetadataUpdate{}); err != nil {
			t.Fatal(err)
		}

		m := f.mark()
		all, err := f.svc.PanelDomains(ctx, f.root)
		if err != nil || len(all) != 2 {
			t.Fatalf("PanelDomains(root) = %+v, %v; want both domains", all, err)
		}
		f.wantAudited(t, m, "okms:apikms:secret/get", f.svc.AccountURN(), audit.Allowed)
		seen := map[string]bool{}
		for _, d := range all {
			seen[d.ID] = d.HasSecrets
		}
		if has, ok := seen[f.domain]; !ok || has {
			t.Errorf("the default domain: listed %v, HasSecrets %v; want listed without secrets", ok, has)
		}
		if !seen[second.ID] {
			t.Errorf("the second domain is not listed with its secret: %+v", all)
		}

		bob := f.asUser(t, "bob", "")
		if list, err := f.svc.PanelDomains(ctx, bob); err != nil || len(list) != 0 {
			t.Errorf("PanelDomains of a user without policy = %+v, %v; want none", list, err)
		}
		// One visible secret is enough to list a domain.
		_, err = f.svc.CreatePolicy(ctx, f.root, policy.Policy{Name: "one", Identities: bob.Principal.Identities[:1],
			Allow: []string{"okms:apikms:secret/get"}, Resources: []string{f.svc.SecretURN(second.ID, p)}})
		if err != nil {
			t.Fatal(err)
		}
		list, err := f.svc.PanelDomains(ctx, bob)
		if err != nil || len(list) != 1 || list[0].ID != second.ID || !list[0].HasSecrets {
			t.Errorf("PanelDomains with one visible secret = %+v, %v; want the second domain", list, err)
		}

		// A failing audit sink stops the list (fail closed).
		f.audit.mu.Lock()
		f.audit.fail = true
		f.audit.mu.Unlock()
		_, err = f.svc.PanelDomains(ctx, f.root)
		f.audit.mu.Lock()
		f.audit.fail = false
		f.audit.mu.Unlock()
		if !errors.Is(err, service.ErrAuditUnavailable) {
			t.Errorf("PanelDomains without audit = %v, want ErrAuditUnavailable", err)
		}
	})
}

// A refusal names the action refused and the resource, for interfaces to
// say what is missing; it is still ErrDenied, with ErrDenied's text.
func TestService_DeniedError(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		p := secret.MustParsePath("team/db")
		bob := f.asUser(t, "bob", "")
		_, err := f.svc.GetSecret(ctx, bob, f.domain, p, service.GetOptions{})
		var de *service.DeniedError
		if !errors.As(err, &de) || !errors.Is(err, service.ErrDenied) || err.Error() != service.ErrDenied.Error() {
			t.Fatalf("GetSecret without policy = %v (%T), want a DeniedError", err, err)
		}
		if de.Action != "okms:apikms:secret/get" || de.Resource != f.svc.SecretURN(f.domain, p) {
			t.Errorf("DeniedError = %+v, want secret/get on the secret's URN", de)
		}
		// The second action of a pair is named when the first is allowed.
		if _, err := f.svc.CreatePolicy(ctx, f.root, policy.Policy{Name: "get", Identities: bob.Principal.Identities[:1],
			Allow: []string{"okms:apikms:secret/get"}, Resources: []string{f.svc.DomainURN(f.domain)}}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.GetSecret(ctx, bob, f.domain, p, service.GetOptions{IncludeData: true})
		if !errors.As(err, &de) || de.Action != "okms:apikms:secret/version/getData" {
			t.Errorf("GetSecret with data = %v, want getData named", err)
		}
	})
}
