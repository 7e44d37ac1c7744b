package service_test

import (
	"slices"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// TestService_LookupTokenTellsTheTruth: Vault's lookup-self describes the
// caller as IAM sees it (vault-kv2.md 6.3, issue 17 part 3): the login a
// personal access token acts as, its identities, the names of the
// unexpired policies naming them, and the token's own expiry; a child
// token keeps its Vault-style name and acts as its parent.
func TestService_LookupTokenTellsTheTruth(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		if _, err := f.svc.CreateGroup(ctx, f.root, service.GroupInput{Name: "ops"}); err != nil {
			t.Fatal(err)
		}
		for _, login := range []string{"alice", "bob"} {
			in := service.UserInput{Login: login}
			if login == "alice" {
				in.Group = str("ops")
			}
			if _, err := f.svc.CreateUser(ctx, f.root, in); err != nil {
				t.Fatal(err)
			}
		}
		const (
			aliceURN = "urn:v1:eu:identity:user:coffer/alice"
			opsURN   = "urn:v1:eu:identity:group:coffer/ops"
			bobURN   = "urn:v1:eu:identity:user:coffer/bob"
		)
		soon := f.clock.Now().Add(time.Hour)
		for _, p := range []policy.Policy{
			readPolicy(f, "alice-read", aliceURN),
			readPolicy(f, "ops-read", opsURN),
			readPolicy(f, "bob-read", bobURN),
			{Name: "alice-temp", Identities: []string{aliceURN}, Allow: []string{"okms:apikms:secret/get"},
				Resources: []string{f.svc.DomainURN(f.domain) + "/*"}, ExpiredAt: &soon},
		} {
			if _, err := f.svc.CreatePolicy(ctx, f.root, p); err != nil {
				t.Fatalf("CreatePolicy(%s): %v", p.Name, err)
			}
		}
		expires := f.clock.Now().Add(24 * time.Hour)
		pat, _, err := f.svc.CreatePAT(ctx, f.root, "alice", "ci", "", expires)
		if err != nil {
			t.Fatal(err)
		}
		caller := func(tok string) service.Caller {
			t.Helper()
			p, err := f.svc.Authenticate(ctx, tok)
			if err != nil {
				t.Fatalf("Authenticate: %v", err)
			}
			return service.Caller{Principal: p, Surface: "C"}
		}
		check := func(what string, got service.TokenInfo, name string, policies []string, ttl time.Duration, child bool) {
			t.Helper()
			if got.Name != name || !slices.Equal(got.Policies, policies) || got.TTL != ttl || got.Child != child || got.Root ||
				!slices.Equal(got.Identities, []string{aliceURN, opsURN}) {
				t.Errorf("%s = %+v, want name %q, policies %q, ttl %v, identities [alice ops]", what, got, name, policies, ttl)
			}
		}

		alice := caller(pat)
		ti, err := f.svc.LookupToken(ctx, alice, pat)
		if err != nil {
			t.Fatal(err)
		}
		check("LookupToken(PAT)", ti, "alice", []string{"alice-read", "alice-temp", "ops-read"}, 24*time.Hour, false)
		if !ti.ExpiresAt.Equal(expires) || !ti.CreatedAt.Equal(f.clock.Now()) {
			t.Errorf("LookupToken(PAT) times = %v, %v", ti.CreatedAt, ti.ExpiresAt)
		}

		child, cti, err := f.svc.CreateChildToken(ctx, alice, pat, service.ChildTokenOptions{DisplayName: "agent", TTL: 30 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		check("CreateChildToken", cti, "token-agent", []string{"alice-read", "alice-temp", "ops-read"}, 30*time.Minute, true)
		ti, err = f.svc.LookupToken(ctx, caller(child), child)
		if err != nil {
			t.Fatal(err)
		}
		check("LookupToken(child)", ti, "token-agent", []string{"alice-read", "alice-temp", "ops-read"}, 30*time.Minute, true)

		// An hour later the temporary policy has expired; 23 hours are left.
		f.clock.Advance(time.Hour)
		ti, err = f.svc.LookupToken(ctx, caller(pat), pat)
		if err != nil {
			t.Fatal(err)
		}
		check("LookupToken(PAT) an hour later", ti, "alice", []string{"alice-read", "ops-read"}, 23*time.Hour, false)

		// The account root: no policy applies to it.
		ti, err = f.svc.LookupToken(ctx, f.root, "root-token")
		if err != nil || !ti.Root || ti.Policies != nil || ti.Name != "root" || len(ti.Identities) != 1 || ti.TTL != 0 {
			t.Errorf("LookupToken(root) = %+v, %v", ti, err)
		}
	})
}
