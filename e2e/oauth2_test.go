package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/seed-3e8d63de/coffer/client"
	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// TestOAuth2ClientCredentials: a service account, its policy, and
// golang.org/x/oauth2/clientcredentials as the real client (both of its
// ways of sending the credentials) fetching a token from a live server on
// bbolt; the token reads a secret through surface B and through the Vault
// API with github.com/hashicorp/vault/api, is refused once the server's
// clock passes its hour, and stops at once when the account is deleted.
func TestOAuth2ClientCredentials(t *testing.T) {
	for _, k := range []string{"VAULT_ADDR", "VAULT_TOKEN", "VAULT_NAMESPACE", "VAULT_CACERT", "VAULT_AGENT_ADDR"} {
		t.Setenv(k, "")
	}
	clock := testenv.NewClock(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC))
	l := startLive(t, liveOptions{audit: true, config: func(c *server.Config) { c.Now = clock.Now }})
	ctx := t.Context()
	root, err := client.New(l.base, client.WithToken(l.token))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := root.CreateServiceAccount(ctx, client.ServiceAccountRequest{Name: "external-secrets", Description: "reads prod/"})
	if err != nil {
		t.Fatalf("CreateServiceAccount: %v", err)
	}
	secret := creds.ClientSecret
	sa, err := root.GetServiceAccount(ctx, creds.ClientID)
	if err != nil || sa.Identity != "urn:v1:eu:identity:credential:coffer/oauth2-"+creds.ClientID {
		t.Fatalf("GetServiceAccount = %+v, %v", sa, err)
	}
	// The client's own path to a token.
	if at, err := root.ClientCredentialsToken(ctx, sa.ClientID, secret); err != nil || at.ExpiresIn != 3600 || at.TokenType != "Bearer" {
		t.Errorf("client.ClientCredentialsToken = %+v, %v", at, err)
	}
	if _, err := root.ClientCredentialsToken(ctx, sa.ClientID, "wrong"); !errors.Is(err, client.ErrUnauthenticated) || !isID(err, "invalid_client") {
		t.Errorf("client.ClientCredentialsToken with a wrong secret = %v, want invalid_client", err)
	}
	policy := fmt.Sprintf(`{"name":"eso-prod","identities":[%q],"resources":[{"urn":"urn:v1:eu:resource:okms:%s/secret/prod%%2F*"}],`+
		`"permissions":{"allow":[{"action":"okms:apikms:secret/get"},{"action":"okms:apikms:secret/version/getData"}]}}`, sa.Identity, l.domain)
	if st, _, b := l.do(t, "POST", "/v2/iam/policy", policy); st != 200 {
		t.Fatalf("create the policy: %d %s", st, b)
	}
	for _, folder := range []string{"prod", "dev"} {
		body := fmt.Sprintf(`{"path":"%s/db","version":{"data":{"password":"s3cret-%s"}}}`, folder, folder)
		if st, _, b := l.do(t, "POST", "/api/"+l.domain+"/v2/secret", body); st != 200 {
			t.Fatalf("create a secret: %d %s", st, b)
		}
	}

	cfg := clientcredentials.Config{ClientID: sa.ClientID, ClientSecret: secret, TokenURL: l.base + "/auth/oauth2/token", Scopes: []string{"all"}}
	var token *oauth2.Token
	for _, style := range []oauth2.AuthStyle{oauth2.AuthStyleInHeader, oauth2.AuthStyleInParams, oauth2.AuthStyleAutoDetect} {
		c := cfg
		c.AuthStyle = style
		tok, err := c.Token(ctx)
		if err != nil {
			t.Fatalf("clientcredentials (auth style %d): %v", style, err)
		}
		if tok.TokenType != "Bearer" || !tok.Valid() || time.Until(tok.Expiry) < 59*time.Minute || time.Until(tok.Expiry) > time.Hour {
			t.Errorf("token (auth style %d): type %q, expiry %v", style, tok.TokenType, tok.Expiry)
		}
		if scope, _ := tok.Extra("scope").(string); scope != "all" {
			t.Errorf("token scope = %v, want all", tok.Extra("scope"))
		}
		token = tok
	}

	// Surface B, through the client x/oauth2 makes (Authorization: Bearer).
	hc := cfg.Client(ctx)
	get := func(path string) (int, []byte) {
		t.Helper()
		res, err := hc.Get(l.base + "/api/" + l.domain + "/v2/secret/" + path + "?includeData=true")
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var b json.RawMessage
		_ = json.NewDecoder(res.Body).Decode(&b)
		return res.StatusCode, b
	}
	if st, b := get("prod%2Fdb"); st != 200 || !bytes.Contains(b, []byte("s3cret-prod")) {
		t.Errorf("surface B read of prod/db = %d %s", st, b)
	}
	if st, b := get("dev%2Fdb"); st != 403 {
		t.Errorf("surface B read of dev/db (not granted) = %d %s, want 403", st, b)
	}

	// The Vault API, X-Vault-Token.
	vcfg := vault.DefaultConfig()
	vcfg.Address, vcfg.MaxRetries = l.base, 0
	vc, err := vault.NewClient(vcfg)
	if err != nil {
		t.Fatal(err)
	}
	vc.SetToken(token.AccessToken)
	kv, err := vc.KVv2("secret").Get(ctx, "prod/db")
	if err != nil || kv.Data["password"] != "s3cret-prod" {
		t.Fatalf("Vault KVv2 Get(prod/db) = %+v, %v", kv, err)
	}
	if _, err := vc.KVv2("secret").Get(ctx, "dev/db"); err == nil {
		t.Errorf("Vault KVv2 Get(dev/db), not granted: no error")
	}
	self, err := vc.Auth().Token().LookupSelf()
	if err != nil {
		t.Fatalf("LookupSelf: %v", err)
	}
	ttl, _ := self.TokenTTL()
	exp, _ := self.Data["expire_time"].(string)
	if ttl != time.Hour || exp != clock.Now().Add(time.Hour).Format(time.RFC3339) || self.Data["display_name"] != "external-secrets" {
		t.Errorf("lookup-self: ttl %v, expire_time %q, display_name %v; want 1h, %s, external-secrets",
			ttl, exp, self.Data["display_name"], clock.Now().Add(time.Hour).Format(time.RFC3339))
	}
	pols, _ := self.TokenPolicies()
	meta, _ := self.TokenMetadata()
	renewable, _ := self.TokenIsRenewable()
	if !slices.Equal(pols, []string{"eso-prod"}) || meta["identity"] != sa.Identity || renewable {
		t.Errorf("lookup-self: policies %v, meta %v, renewable %v; want [eso-prod], the account's URN, false", pols, meta, renewable)
	}
	if _, err := vc.Auth().Token().RenewSelf(0); err == nil {
		t.Errorf("renew-self of an OAuth2 token: no error, want Vault's refusal of a non-renewable token")
	}

	// Expiry is the server's: an hour later, by its clock, the token is
	// refused everywhere although the client still holds it.
	clock.Advance(time.Hour)
	if st, b := get("prod%2Fdb"); st != 401 {
		t.Errorf("surface B read after the hour = %d %s, want 401", st, b)
	}
	if _, err := vc.KVv2("secret").Get(ctx, "prod/db"); !isVaultStatus(err, 403) {
		t.Errorf("Vault read after the hour = %v, want a 403", err)
	}
	// A new token works again; deleting the account revokes it at once.
	fresh, err := cfg.Token(ctx)
	if err != nil {
		t.Fatalf("a new token: %v", err)
	}
	vc.SetToken(fresh.AccessToken)
	if _, err := vc.KVv2("secret").Get(ctx, "prod/db"); err != nil {
		t.Fatalf("Vault read with a new token: %v", err)
	}
	if err := root.DeleteServiceAccount(ctx, sa.ClientID); err != nil {
		t.Fatalf("DeleteServiceAccount: %v", err)
	}
	if _, err := vc.KVv2("secret").Get(ctx, "prod/db"); !isVaultStatus(err, 403) {
		t.Errorf("Vault read after the account's deletion = %v, want a 403", err)
	}
	_, err = cfg.Token(ctx)
	var re *oauth2.RetrieveError
	if !errors.As(err, &re) || re.ErrorCode != "invalid_client" || re.Response.StatusCode != http.StatusUnauthorized {
		t.Errorf("token of a deleted account: %v, want invalid_client (401)", err)
	}

	// The client's view of the errors it may meet (RFC 6749 5.2).
	oc, err := root.CreateServiceAccount(ctx, client.ServiceAccountRequest{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	other, otherSecret := oc, oc.ClientSecret
	for _, tc := range []struct {
		name string
		cfg  clientcredentials.Config
		code string
	}{
		{"wrong secret", clientcredentials.Config{ClientID: other.ClientID, ClientSecret: "nope", Scopes: []string{"all"}}, "invalid_client"},
		{"no scope", clientcredentials.Config{ClientID: other.ClientID, ClientSecret: otherSecret}, "invalid_scope"},
		{"another scope", clientcredentials.Config{ClientID: other.ClientID, ClientSecret: otherSecret, Scopes: []string{"read"}}, "invalid_scope"},
	} {
		c := tc.cfg
		c.TokenURL = l.base + "/auth/oauth2/token"
		_, err := c.Token(context.Background())
		if !errors.As(err, &re) || re.ErrorCode != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
}

// isID reports whether err is a client error with that id.
func isID(err error, id string) bool {
	var ce *client.Error
	return errors.As(err, &ce) && ce.ID == id
}

// isVaultStatus reports whether err is a Vault API error of that status.
func isVaultStatus(err error, status int) bool {
	var re *vault.ResponseError
	return errors.As(err, &re) && re.StatusCode == status
}
