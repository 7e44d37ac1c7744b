package kv2_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// TestTokenLookupTellsTheTruth: auth/token/lookup-self, read through the
// official Go client as the vault CLI, ESO and Vault Agent read it,
// describes the caller as IAM sees it (vault-kv2.md 6.3, issue 17 part
// 3): a user's personal access token shows the user's login, the names
// of the policies naming the user or its group, the identity URNs in
// meta and the token's real expiry; a child token keeps Vault's name and
// its own expiry; renew-self answers as Vault does for a token without a
// renewable lease.
func TestTokenLookupTellsTheTruth(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			pat := h.userPAT(t)
			const (
				aliceURN = "urn:v1:eu:identity:user:coffer/alice"
				opsURN   = "urn:v1:eu:identity:group:coffer/ops"
			)
			c := h.client(mode)
			c.SetToken(pat)
			self, err := c.Auth().Token().LookupSelf()
			if err != nil {
				t.Fatalf("LookupSelf: %v", err)
			}
			d := self.Data
			if d["display_name"] != "alice" || d["id"] != pat || d["renewable"] != false || d["type"] != "service" || d["orphan"] != true {
				t.Errorf("LookupSelf data = %v", d)
			}
			if ps, err := self.TokenPolicies(); err != nil || !reflect.DeepEqual(ps, []string{"alice-read", "ops-read"}) {
				t.Errorf("policies = %q, %v; want alice-read and ops-read", ps, err)
			}
			if meta, err := self.TokenMetadata(); err != nil || meta["identity"] != aliceURN || meta["identities"] != aliceURN+","+opsURN {
				t.Errorf("meta = %v, %v", meta, err)
			}
			if ttl, err := self.TokenTTL(); err != nil || ttl != 24*time.Hour {
				t.Errorf("ttl = %v, %v; want 24h", ttl, err)
			}
			exp := h.Clock.Now().Add(24 * time.Hour).UTC().Format(time.RFC3339)
			if d["expire_time"] != exp || d["issue_time"] != h.Clock.Now().UTC().Format(time.RFC3339) {
				t.Errorf("expire_time %v, issue_time %v; want %s", d["expire_time"], d["issue_time"], exp)
			}
			if ct, _ := d["creation_time"].(json.Number).Int64(); ct != h.Clock.Now().Unix() {
				t.Errorf("creation_time = %v", d["creation_time"])
			}
			if ren, err := self.TokenIsRenewable(); err != nil || ren {
				t.Errorf("renewable = %v, %v", ren, err)
			}
			if _, err := c.Auth().Token().RenewSelf(0); err == nil || !strings.Contains(err.Error(), "* lease is not renewable") {
				t.Errorf("RenewSelf: %v, want Vault's 400 lease is not renewable", err)
			}

			// A child token (terraform's start-up) of the PAT.
			child, err := c.Auth().Token().Create(&vault.TokenCreateRequest{DisplayName: "terraform", TTL: "20m"})
			if err != nil {
				t.Fatalf("Token().Create: %v", err)
			}
			if !reflect.DeepEqual(child.Auth.Policies, []string{"alice-read", "ops-read"}) || child.Auth.LeaseDuration != 1200 {
				t.Errorf("child auth = %+v", child.Auth)
			}
			cc := h.client(mode)
			cc.SetToken(child.Auth.ClientToken)
			cself, err := cc.Auth().Token().LookupSelf()
			if err != nil {
				t.Fatalf("child LookupSelf: %v", err)
			}
			if ttl, _ := cself.TokenTTL(); cself.Data["display_name"] != "token-terraform" || ttl != 20*time.Minute || cself.Data["orphan"] != false {
				t.Errorf("child LookupSelf = %v", cself.Data)
			}
			if ps, _ := cself.TokenPolicies(); !reflect.DeepEqual(ps, []string{"alice-read", "ops-read"}) {
				t.Errorf("child policies = %q", ps)
			}

			// Time passes on the server's clock: the ttl follows the record.
			h.Clock.Advance(5 * time.Minute)
			self, err = c.Auth().Token().LookupSelf()
			if ttl, _ := self.TokenTTL(); err != nil || ttl != 24*time.Hour-5*time.Minute {
				t.Errorf("ttl 5 minutes later = %v, %v", ttl, err)
			}

			// The root token as before.
			root, err := h.client(mode).Auth().Token().LookupSelf()
			if ps, _ := root.TokenPolicies(); err != nil || root.Data["display_name"] != "root" || !reflect.DeepEqual(ps, []string{"root"}) || root.Data["expire_time"] != nil {
				t.Errorf("root LookupSelf = %v, %v", root, err)
			}
		})
	}
}

// TestVaultAgentTokenFile replays what Vault Agent's token_file auto-auth
// does with lookup-self (command/agentproxyshared/auth/auth.go): it
// type-asserts id, ttl, renewable and type, hands the token to its
// template and sink, and builds a lifetime watcher, which renews only a
// renewable token with a ttl; for every kind of coffer token.
func TestVaultAgentTokenFile(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	pat := h.userPAT(t)
	child, err := h.client("default").Auth().Token().Create(&vault.TokenCreateRequest{TTL: "10m"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		token string
		ttl   int64
	}{
		{"root token", rootToken, 0},
		{"personal access token", pat, 86400},
		{"child token", child.Auth.ClientToken, 600},
	} {
		for _, mode := range modes {
			c := h.client(mode)
			c.SetToken(tc.token)
			secret, err := c.Auth().Token().LookupSelf()
			if err != nil || secret == nil || secret.Data == nil {
				t.Fatalf("%s %s: lookup-self: %v", mode, tc.name, err)
			}
			token, ok := secret.Data["id"].(string)
			if !ok || token != tc.token {
				t.Errorf("%s %s: id %v", mode, tc.name, secret.Data["id"])
			}
			duration, err := secret.Data["ttl"].(json.Number).Int64()
			renewable, isBool := secret.Data["renewable"].(bool)
			tokenType, isString := secret.Data["type"].(string)
			if err != nil || duration != tc.ttl || !isBool || renewable || !isString || tokenType == "batch" {
				t.Errorf("%s %s: ttl %v, renewable %v, type %v", mode, tc.name, secret.Data["ttl"], secret.Data["renewable"], secret.Data["type"])
			}
			secret.Auth = &vault.SecretAuth{ClientToken: token, LeaseDuration: int(duration), Renewable: renewable}
			if _, err := c.NewLifetimeWatcher(&vault.LifetimeWatcherInput{Secret: secret}); err != nil {
				t.Errorf("%s %s: NewLifetimeWatcher: %v", mode, tc.name, err)
			}
			// The agent then reads KV v2 for its templates.
			if _, err := c.KVv2("secret").Put(t.Context(), "agent/"+mode, map[string]any{"k": tc.name}); err != nil {
				t.Errorf("%s %s: write: %v", mode, tc.name, err)
			}
			if s, err := c.KVv2("secret").Get(t.Context(), "agent/"+mode); err != nil || s.Data["k"] != tc.name {
				t.Errorf("%s %s: template read = %v, %v", mode, tc.name, s, err)
			}
		}
	}
}

// userPAT makes user alice, of group ops, with the policies alice-read
// (naming alice) and ops-read (naming ops), which allow her everything in
// the default domain, and returns her personal access token "ci",
// expiring in 24 hours. The setup goes through the service; the tests go
// through HTTP.
func (h *harness) userPAT(t *testing.T) string {
	t.Helper()
	ctx := t.Context()
	svc := h.Server.Service()
	p, err := svc.Authenticate(ctx, rootToken)
	if err != nil {
		t.Fatal(err)
	}
	root := service.Caller{Principal: p, Surface: "test"}
	if _, err := svc.CreateGroup(ctx, root, service.GroupInput{Name: "ops"}); err != nil {
		t.Fatal(err)
	}
	group := "ops"
	if _, err := svc.CreateUser(ctx, root, service.UserInput{Login: "alice", Group: &group}); err != nil {
		t.Fatal(err)
	}
	for name, who := range map[string]string{"alice-read": "urn:v1:eu:identity:user:coffer/alice", "ops-read": "urn:v1:eu:identity:group:coffer/ops"} {
		if _, err := svc.CreatePolicy(ctx, root, policy.Policy{Name: name, Identities: []string{who},
			Allow: []string{"okms:apikms:*"}, Resources: []string{svc.DomainURN(h.Domain) + "/*", svc.DomainURN(h.Domain)}}); err != nil {
			t.Fatalf("CreatePolicy(%s): %v", name, err)
		}
	}
	tok, _, err := svc.CreatePAT(ctx, root, "alice", "ci", "", h.Clock.Now().Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
