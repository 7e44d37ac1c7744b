package service_test

import (
	"fmt"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

// TestService_HoldsData: a new installation holds nothing a restore would
// replace; each secret, user, group or policy makes it hold data, and
// removing them makes it empty again.
func TestService_HoldsData(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		holds := func(when string, want bool) {
			t.Helper()
			if got, err := f.svc.HoldsData(ctx); err != nil || got != want {
				t.Errorf("%s: HoldsData = %v, %v; want %v", when, got, err, want)
			}
		}
		holds("a new installation", false)
		p := secret.MustParsePath("app/db")
		if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, p, data(t, `{"k":"v"}`), secret.MetadataUpdate{}); err != nil {
			t.Fatal(err)
		}
		holds("with a secret", true)
		if err := f.svc.DeleteSecret(ctx, f.root, f.domain, p); err != nil {
			t.Fatal(err)
		}
		holds("after the secret's deletion", false)

		role := service.RoleAdmin
		if _, err := f.svc.CreateGroup(ctx, f.root, service.GroupInput{Name: "ops", Role: &role}); err != nil {
			t.Fatal(err)
		}
		holds("with a group", true)
		if err := f.svc.DeleteGroup(ctx, f.root, "ops"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateUser(ctx, f.root, service.UserInput{Login: "alice"}); err != nil {
			t.Fatal(err)
		}
		holds("with a user", true)
		if err := f.svc.DeleteUser(ctx, f.root, "alice"); err != nil {
			t.Fatal(err)
		}
		holds("after the user's and the group's deletion", false)
		pol, err := f.svc.CreatePolicy(ctx, f.root, policy.Policy{Name: "read",
			Identities: []string{"urn:v1:eu:identity:account:coffer"}, Allow: []string{"okms:apikms:secret/get"},
			Resources: []string{f.svc.DomainURN(f.domain)}})
		if err != nil {
			t.Fatal(err)
		}
		holds("with a policy", true)
		if err := f.svc.DeletePolicy(ctx, f.root, pol.ID); err != nil {
			t.Fatal(err)
		}
		holds("after the policy's deletion", false)
	})
}

// TestService_HoldsDataKeys: which records count, read from a store
// written directly, in the default region and in another one.
func TestService_HoldsDataKeys(t *testing.T) {
	const domain = "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"
	tests := []struct {
		key  string
		want bool
	}{
		{"d/" + domain + "/s/app/db", true},
		{"d/" + domain + "/s/x", true},
		{"iam/user/alice", true},
		{"iam/group/ops", true},
		{"iam/policy/0b7e3f8e-2c51-4d7e-9c1f-6b8a0e2d4c12", true},
		{"d/" + domain + "/config", false},
		{"d/" + domain + "/ca", false},
		{"d/" + domain + "/v/0b7e3f8e-2c51-4d7e-9c1f-6b8a0e2d4c11/0000000001", false},
		{"d/" + domain + "/cred/0b7e3f8e-2c51-4d7e-9c1f-6b8a0e2d4c11", false},
		{"d/" + domain + "/serial/0a", false},
		{"d/" + domain + "/sx", false},
		{"d/s/x", false},
		{"iam/token/abc", false},
		{"iam/pat/alice/ci", false},
		{"iam/users", false},
		{"sys/domains/" + domain, false},
		{"sys/keyring", false},
		{"s/app/db", false},
	}
	for _, tc := range tests {
		for _, region := range []string{"local", "other"} {
			t.Run(region+"/"+tc.key, func(t *testing.T) {
				t.Parallel()
				stores := map[string]storage.Backend{"local": memstore.New(), "other": memstore.New()}
				// Many keys before it: the check reads the store in pages.
				err := stores[region].Update(t.Context(), func(tx storage.Tx) error {
					for i := range 2500 {
						if err := tx.Put(fmt.Sprintf("d/%s/config%04d", domain, i), nil); err != nil {
							return err
						}
					}
					return tx.Put(tc.key, []byte("{}"))
				})
				if err != nil {
					t.Fatal(err)
				}
				svc := service.New(service.Options{Store: stores["local"], Regions: stores, Region: "local"})
				if got, err := svc.HoldsData(t.Context()); err != nil || got != tc.want {
					t.Errorf("HoldsData with %q in region %s = %v, %v; want %v", tc.key, region, got, err, tc.want)
				}
			})
		}
	}
}

func TestDomainKeyFamily(t *testing.T) {
	const domain = "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"
	fam := service.DomainKeyFamily(domain)
	for _, key := range []string{"d/" + domain + "/config", "d/" + domain + "/s/app/db", "d/" + domain + "/v/x/0000000001"} {
		if got := service.KeyFamily(key); got != fam {
			t.Errorf("KeyFamily(%q) = %q, DomainKeyFamily(%q) = %q: want the same", key, got, domain, fam)
		}
	}
	if other := service.DomainKeyFamily("0b7e3f8e-2c51-4d7e-9c1f-6b8a0e2d4c11"); other == fam || fam == service.KeyFamily("sys/keyring") {
		t.Errorf("DomainKeyFamily(%q) = %q is shared with another domain or the system records", domain, fam)
	}
}
