package client_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/client"
)

func TestServiceAccounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client(t)
	ctx := t.Context()
	creds, err := c.CreateServiceAccount(ctx, client.ServiceAccountRequest{Name: "ci", Description: "the CI"})
	if err != nil || len(creds.ClientID) != 16 || !strings.HasPrefix(creds.ClientSecret, "cof_ocs_") {
		t.Fatalf("CreateServiceAccount = %+v, %v", creds, err)
	}
	if ids, err := c.ListServiceAccounts(ctx); err != nil || !slices.Equal(ids, []string{creds.ClientID}) {
		t.Errorf("ListServiceAccounts = %v, %v", ids, err)
	}
	sa, err := c.GetServiceAccount(ctx, creds.ClientID)
	if err != nil || sa.Name != "ci" || sa.Description != "the CI" || sa.Flow != "CLIENT_CREDENTIALS" ||
		sa.Identity != "urn:v1:eu:identity:credential:coffer/oauth2-"+creds.ClientID || sa.CallbackURLs == nil {
		t.Errorf("GetServiceAccount = %+v, %v", sa, err)
	}
	// The token endpoint needs no token of the client's own: a client
	// without one obtains it.
	anon, err := client.New(e.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	at, err := anon.ClientCredentialsToken(ctx, creds.ClientID, creds.ClientSecret)
	if err != nil || !strings.HasPrefix(at.AccessToken, "cof_oat_") || at.ExpiresIn != 3600 || at.Scope != "all" {
		t.Fatalf("ClientCredentialsToken = %+v, %v", at, err)
	}
	as := e.client(t, client.WithToken(at.AccessToken))
	if info, err := as.LookupSelf(ctx); err != nil || info.DisplayName != "ci" || info.ExpireTime == nil {
		t.Errorf("LookupSelf with the access token = %+v, %v", info, err)
	}
	_, err = c.ClientCredentialsToken(ctx, creds.ClientID, "cof_ocs_wrong")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.ID != "invalid_client" || ce.StatusCode != 401 || len(ce.Messages) != 1 || !errors.Is(err, client.ErrUnauthenticated) {
		t.Errorf("ClientCredentialsToken with a wrong secret = %#v", err)
	}
	if _, err := c.CreateServiceAccount(ctx, client.ServiceAccountRequest{Name: "x", Flow: "AUTHORIZATION_CODE"}); !errors.As(err, &ce) ||
		ce.ID != "InvalidServiceAccount" {
		t.Errorf("CreateServiceAccount(AUTHORIZATION_CODE) = %v", err)
	}
	if err := c.DeleteServiceAccount(ctx, creds.ClientID); err != nil {
		t.Fatal(err)
	}
	if _, err := as.LookupSelf(ctx); !errors.Is(err, client.ErrUnauthenticated) {
		t.Errorf("LookupSelf after the deletion = %v, want ErrUnauthenticated", err)
	}
	if _, err := c.GetServiceAccount(ctx, creds.ClientID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("GetServiceAccount after the deletion = %v, want ErrNotFound", err)
	}
}
