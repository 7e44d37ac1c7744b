package service_test

import (
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

// TestService_IsEmpty checks what makes an installation non-empty: a
// secret, a user, a group or a policy, and nothing an installation has
// from its first start or that an operator adds without content (tokens,
// domains, their configuration).
func TestService_IsEmpty(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		want := func(step string, empty bool) {
			t.Helper()
			got, err := f.svc.IsEmpty(ctx)
			if err != nil || got != empty {
				t.Fatalf("%s: IsEmpty = %v, %v; want %v", step, got, err, empty)
			}
		}
		want("fresh installation", true)
		if _, _, err := f.svc.CreateChildToken(ctx, f.root, "root-token", service.ChildTokenOptions{}); err != nil {
			t.Fatal(err)
		}
		d, err := f.svc.CreateDomain(ctx, f.root, "local", "second")
		if err != nil {
			t.Fatal(err)
		}
		f.svc.Wait()
		yes := true
		if _, err := f.svc.UpdateConfig(ctx, f.root, d.ID, secret.ConfigUpdate{CASRequired: &yes}); err != nil {
			t.Fatal(err)
		}
		p := secret.MustParsePath("app/db")
		if _, err := f.svc.WriteMetadata(ctx, f.root, d.ID, p, secret.MetadataUpdate{CASRequired: &yes}); err != nil {
			t.Fatal(err)
		}
		want("a secret without versions in the second domain", false)
		if err := f.svc.DeleteSecret(ctx, f.root, d.ID, p); err != nil {
			t.Fatal(err)
		}
		want("a token, a second domain and its configuration", true)

		var policyID string
		steps := []struct {
			name   string
			create func() error
			remove func() error
		}{
			{"a secret in the default domain",
				func() error {
					_, err := f.svc.CreateSecret(ctx, f.root, f.domain, p, data(t, `{"a":1}`), secret.MetadataUpdate{})
					return err
				},
				func() error { return f.svc.DeleteSecret(ctx, f.root, f.domain, p) }},
			{"a user",
				func() error {
					_, err := f.svc.CreateUser(ctx, f.root, service.UserInput{Login: "alice"})
					return err
				},
				func() error { return f.svc.DeleteUser(ctx, f.root, "alice") }},
			{"a group",
				func() error { _, err := f.svc.CreateGroup(ctx, f.root, service.GroupInput{Name: "ops"}); return err },
				func() error { return f.svc.DeleteGroup(ctx, f.root, "ops") }},
			{"a policy",
				func() error {
					pol, err := f.svc.CreatePolicy(ctx, f.root, policy.Policy{Name: "p", Identities: []string{f.svc.AccountURN()},
						Allow: []string{"okms:apikms:secret/get"}, Resources: []string{"*"}})
					policyID = pol.ID
					return err
				},
				func() error { return f.svc.DeletePolicy(ctx, f.root, policyID) }},
		}
		for _, st := range steps {
			if err := st.create(); err != nil {
				t.Fatalf("create %s: %v", st.name, err)
			}
			want(st.name, false)
			if err := st.remove(); err != nil {
				t.Fatalf("remove %s: %v", st.name, err)
			}
			want(st.name+" removed", true)
		}
	})
}

// TestService_IsEmptyRegions checks that every region counts: a secret
// in a domain of a second region, whose store holds no identity.
func TestService_IsEmptyRegions(t *testing.T) {
	sys, other := memstore.New(), memstore.New()
	t.Cleanup(func() { sys.Close(); other.Close() })
	svc, _, p := startService(t, service.Options{Store: sys, Region: "eu-west-par",
		Regions: map[string]storage.Backend{"eu-west-par": sys, "ca-east-bhs": other}}, "root-token")
	ctx := t.Context()
	root := service.Caller{Principal: p, Surface: "B"}
	d, err := svc.CreateDomain(ctx, root, "ca-east-bhs", "bhs")
	if err != nil {
		t.Fatal(err)
	}
	svc.Wait()
	if empty, err := svc.IsEmpty(ctx); err != nil || !empty {
		t.Fatalf("IsEmpty with an empty second region = %v, %v; want true", empty, err)
	}
	if _, err := svc.CreateSecret(ctx, root, d.ID, secret.MustParsePath("x"), data(t, `{}`), secret.MetadataUpdate{}); err != nil {
		t.Fatal(err)
	}
	if empty, err := svc.IsEmpty(ctx); err != nil || empty {
		t.Fatalf("IsEmpty with a secret in the second region = %v, %v; want false", empty, err)
	}
}
