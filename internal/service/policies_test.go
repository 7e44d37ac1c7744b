package service_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// readPolicy grants who secret/get on every secret of the fixture's
// domain.
func readPolicy(f *fixture, name, who string) policy.Policy {
	return policy.Policy{Name: name, Identities: []string{who}, Allow: []string{"okms:apikms:secret/get"},
		Resources: []string{f.svc.DomainURN(f.domain) + "/*"}}
}

func TestService_Policies(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		bob := f.asUser(t, "bob", "")
		p := secret.MustParsePath("app/db")
		if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, p, data(t, `{"a":1}`), secret.MetadataUpdate{}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.GetSecret(ctx, bob, f.domain, p, service.GetOptions{}); !errors.Is(err, service.ErrDenied) {
			t.Fatalf("GetSecret without a policy = %v, want ErrDenied", err)
		}

		m := f.mark()
		read, err := f.svc.CreatePolicy(ctx, f.root, readPolicy(f, "read", bob.Principal.Identities[0]))
		if err != nil {
			t.Fatalf("CreatePolicy: %v", err)
		}
		if read.ID == "" || read.Owner != "coffer" || read.ReadOnly || !read.CreatedAt.Equal(f.clock.Now()) || !read.UpdatedAt.Equal(f.clock.Now()) {
			t.Errorf("CreatePolicy = %+v; want an id, the account as owner and the creation time", read)
		}
		f.wantAudited(t, m, "coffer:iam/policy/create", "urn:v1:eu:iam:policy:"+read.ID, audit.Allowed)
		// The policy applies at once.
		if _, err := f.svc.GetSecret(ctx, bob, f.domain, p, service.GetOptions{}); err != nil {
			t.Errorf("GetSecret with a policy = %v", err)
		}
		if _, err := f.svc.GetSecret(ctx, bob, f.domain, p, service.GetOptions{IncludeData: true}); !errors.Is(err, service.ErrDenied) {
			t.Errorf("GetSecret with data, not granted = %v, want ErrDenied", err)
		}

		if _, err := f.svc.CreatePolicy(ctx, f.root, readPolicy(f, "read", bob.Principal.Identities[0])); !errors.Is(err, service.ErrIdentityExists) {
			t.Errorf("CreatePolicy with a taken name = %v, want ErrIdentityExists", err)
		}
		other, err := f.svc.CreatePolicy(ctx, f.root, readPolicy(f, "another", f.svc.AccountURN()))
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.GetPolicy(ctx, f.root, read.ID)
		if err != nil || got.Name != "read" || !slices.Equal(got.Identities, read.Identities) || !slices.Equal(got.Resources, read.Resources) {
			t.Errorf("GetPolicy = %+v, %v; want %+v", got, err, read)
		}
		list, err := f.svc.ListPolicies(ctx, f.root)
		if err != nil || len(list) != 2 || list[0].ID != other.ID || list[1].ID != read.ID {
			t.Errorf("ListPolicies = %+v, %v; want another, read (by name)", list, err)
		}

		// An update keeps the creation time and names stay unique.
		f.clock.Advance(time.Minute)
		upd := readPolicy(f, "read", bob.Principal.Identities[0])
		upd.ID = read.ID
		upd.Allow = append(upd.Allow, "okms:apikms:secret/version/getData")
		got, err = f.svc.UpdatePolicy(ctx, f.root, upd)
		if err != nil || !got.CreatedAt.Equal(read.CreatedAt) || !got.UpdatedAt.Equal(f.clock.Now()) || len(got.Allow) != 2 {
			t.Errorf("UpdatePolicy = %+v, %v; want the creation time kept and two actions", got, err)
		}
		if _, err := f.svc.GetSecret(ctx, bob, f.domain, p, service.GetOptions{IncludeData: true}); err != nil {
			t.Errorf("GetSecret with data after the update = %v", err)
		}
		upd.Name = "another"
		if _, err := f.svc.UpdatePolicy(ctx, f.root, upd); !errors.Is(err, service.ErrIdentityExists) {
			t.Errorf("UpdatePolicy to a taken name = %v, want ErrIdentityExists", err)
		}
		missing := readPolicy(f, "ghost", f.svc.AccountURN())
		missing.ID = "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"
		if _, err := f.svc.UpdatePolicy(ctx, f.root, missing); !errors.Is(err, service.ErrPolicyNotFound) {
			t.Errorf("UpdatePolicy of a missing policy = %v, want ErrPolicyNotFound", err)
		}
		if _, err := f.svc.GetPolicy(ctx, f.root, missing.ID); !errors.Is(err, service.ErrPolicyNotFound) {
			t.Errorf("GetPolicy of a missing policy = %v, want ErrPolicyNotFound", err)
		}

		m = f.mark()
		if err := f.svc.DeletePolicy(ctx, f.root, read.ID); err != nil {
			t.Fatalf("DeletePolicy: %v", err)
		}
		f.wantAudited(t, m, "coffer:iam/policy/delete", "urn:v1:eu:iam:policy:"+read.ID, audit.Allowed)
		if _, err := f.svc.GetSecret(ctx, bob, f.domain, p, service.GetOptions{}); !errors.Is(err, service.ErrDenied) {
			t.Errorf("GetSecret after the policy's deletion = %v, want ErrDenied", err)
		}
		if err := f.svc.DeletePolicy(ctx, f.root, read.ID); !errors.Is(err, service.ErrPolicyNotFound) {
			t.Errorf("DeletePolicy again = %v, want ErrPolicyNotFound", err)
		}
	})
}

func TestService_PolicyValidation(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		valid := func() policy.Policy { return readPolicy(f, "p", f.svc.AccountURN()) }
		tests := []struct {
			name   string
			change func(p *policy.Policy)
		}{
			{"no name", func(p *policy.Policy) { p.Name = "" }},
			{"name with a space", func(p *policy.Policy) { p.Name = "a b" }},
			{"no identity", func(p *policy.Policy) { p.Identities = nil }},
			{"no resource", func(p *policy.Policy) { p.Resources = nil }},
			{"no action", func(p *policy.Policy) { p.Allow = nil }},
			{"conditions", func(p *policy.Policy) { p.HasConditions = true }},
		}
		for _, tc := range tests {
			p := valid()
			tc.change(&p)
			if _, err := f.svc.CreatePolicy(ctx, f.root, p); !errors.Is(err, policy.ErrInvalidPolicy) {
				t.Errorf("%s: CreatePolicy = %v, want ErrInvalidPolicy", tc.name, err)
			}
		}
		if list, err := f.svc.ListPolicies(ctx, f.root); err != nil || len(list) != 0 {
			t.Errorf("invalid policies were stored: %+v, %v", list, err)
		}
	})
}

func TestService_PoliciesNeedAnAdmin(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		bob := f.asUser(t, "bob", "")
		pol, err := f.svc.CreatePolicy(ctx, f.root, readPolicy(f, "read", bob.Principal.Identities[0]))
		if err != nil {
			t.Fatal(err)
		}
		// A policy grants data-plane actions, never identity management.
		f.wantRefused(t, map[string]func() error{
			"coffer:iam/policy/create": func() error {
				_, err := f.svc.CreatePolicy(ctx, bob, readPolicy(f, "mine", bob.Principal.Identities[0]))
				return err
			},
			"coffer:iam/policy/get":    func() error { _, err := f.svc.GetPolicy(ctx, bob, pol.ID); return err },
			"coffer:iam/policy/list":   func() error { _, err := f.svc.ListPolicies(ctx, bob); return err },
			"coffer:iam/policy/update": func() error { _, err := f.svc.UpdatePolicy(ctx, bob, pol); return err },
			"coffer:iam/policy/delete": func() error { return f.svc.DeletePolicy(ctx, bob, pol.ID) },
		})
		if list, err := f.svc.ListPolicies(ctx, f.root); err != nil || len(list) != 1 {
			t.Errorf("refused calls changed the policies: %+v, %v", list, err)
		}
	})
}

func TestService_PolicyLimit(t *testing.T) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFixtureWith(t, open(t), func(o *service.Options) { o.Limits.Policies = 2 })
			ctx := t.Context()
			for _, n := range []string{"a", "b"} {
				if _, err := f.svc.CreatePolicy(ctx, f.root, readPolicy(f, n, f.svc.AccountURN())); err != nil {
					t.Fatalf("CreatePolicy(%s) within the limit: %v", n, err)
				}
			}
			_, err := f.svc.CreatePolicy(ctx, f.root, readPolicy(f, "c", f.svc.AccountURN()))
			le, ok := errors.AsType[*service.LimitError](err)
			if !ok || le.What != "policies" || le.Limit != 2 {
				t.Fatalf("CreatePolicy beyond the limit = %v, want a LimitError of 2 policies", err)
			}
			list, err := f.svc.ListPolicies(ctx, f.root)
			if err != nil || len(list) != 2 {
				t.Fatalf("ListPolicies = %d, %v; want 2", len(list), err)
			}
			// Updating within the limit is not creating.
			if _, err := f.svc.UpdatePolicy(ctx, f.root, list[0]); err != nil {
				t.Errorf("UpdatePolicy at the limit = %v", err)
			}
		})
	}
}
