package service_test

import (
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

var (
	clientIDRE     = regexp.MustCompile(`^[0-9a-f]{16}$`)
	clientSecretRE = regexp.MustCompile(`^cof_ocs_[A-Za-z0-9_-]{43}$`)
	oauthTokenRE   = regexp.MustCompile(`^cof_oat_[A-Za-z0-9_-]{43}$`)
)

// newServiceAccount creates a service account as the root and returns it
// with its client secret.
func (f *fixture) newServiceAccount(t *testing.T, name string) (service.ServiceAccount, string) {
	t.Helper()
	sa, secret, err := f.svc.CreateServiceAccount(t.Context(), f.root,
		service.ServiceAccountInput{Name: name, Flow: service.FlowClientCredentials})
	if err != nil {
		t.Fatalf("CreateServiceAccount(%s): %v", name, err)
	}
	return sa, secret
}

// oauthToken exchanges client credentials for an access token, as the
// token endpoint does, and returns the token with the caller it
// authenticates.
func (f *fixture) oauthToken(t *testing.T, clientID, secret string) (service.OAuth2Token, service.Caller) {
	t.Helper()
	ctx := t.Context()
	p, err := f.svc.AuthenticateClient(ctx, clientID, secret)
	if err != nil {
		t.Fatalf("AuthenticateClient: %v", err)
	}
	tok, err := f.svc.IssueOAuth2Token(ctx, service.Caller{Principal: p, Surface: "iam", RequestID: "req-oauth"})
	if err != nil {
		t.Fatalf("IssueOAuth2Token: %v", err)
	}
	tp, err := f.svc.Authenticate(ctx, tok.Token)
	if err != nil {
		t.Fatalf("Authenticate(access token): %v", err)
	}
	return tok, service.Caller{Principal: tp, Surface: "B", RequestID: "req-sa"}
}

// rawValues returns every key and value of the store, as one string.
func rawValues(t *testing.T, b storage.Backend) string {
	t.Helper()
	var sb strings.Builder
	err := b.View(t.Context(), func(tx storage.Tx) error {
		keys, err := tx.List("", "", 0)
		for _, k := range keys {
			v, err := tx.Get(k)
			if err != nil {
				return err
			}
			sb.WriteString(k + "=" + string(v) + "\n")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return sb.String()
}

func TestService_ServiceAccounts(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		m := f.mark()
		sa, secret, err := f.svc.CreateServiceAccount(ctx, f.root, service.ServiceAccountInput{
			Name: "External Secrets (prod)", Description: "reads prod/", Flow: service.FlowClientCredentials, CallbackURLs: []string{}})
		if err != nil {
			t.Fatalf("CreateServiceAccount: %v", err)
		}
		wantURN := "urn:v1:eu:identity:credential:coffer/oauth2-" + sa.ClientID
		if !clientIDRE.MatchString(sa.ClientID) || !clientSecretRE.MatchString(secret) || sa.URN != wantURN ||
			sa.Name != "External Secrets (prod)" || sa.Description != "reads prod/" || sa.Flow != "CLIENT_CREDENTIALS" ||
			!sa.CreatedAt.Equal(f.clock.Now()) {
			t.Errorf("CreateServiceAccount = %+v, secret %q", sa, secret)
		}
		if _, err := policy.ParseURN(sa.URN); err != nil {
			t.Errorf("the service account's URN does not parse: %v", err)
		}
		f.wantAudited(t, m, "coffer:iam/serviceAccount/create", wantURN, audit.Allowed)
		// Only the secret's digest is stored.
		if raw := rawValues(t, f.store.Backend); strings.Contains(raw, secret) || strings.Contains(raw, strings.TrimPrefix(secret, "cof_ocs_")) {
			t.Errorf("the store holds the client secret in clear")
		}
		for _, e := range f.since(0) {
			if strings.Contains(e.Reason+e.Resource+e.Credential+strings.Join(e.Principal, ","), secret) {
				t.Errorf("an audit event holds the client secret: %+v", e)
			}
		}

		got, err := f.svc.GetServiceAccount(ctx, f.root, sa.ClientID)
		if err != nil || got != sa {
			t.Errorf("GetServiceAccount = %+v, %v; want %+v", got, err, sa)
		}
		if _, err := f.svc.GetServiceAccount(ctx, f.root, "0123456789abcdef"); !errors.Is(err, service.ErrServiceAccountNotFound) {
			t.Errorf("GetServiceAccount(unknown) = %v, want ErrServiceAccountNotFound", err)
		}
		other, _ := f.newServiceAccount(t, "other")
		list, err := f.svc.ListServiceAccounts(ctx, f.root)
		want := []string{sa.ClientID, other.ClientID}
		slices.Sort(want)
		if err != nil || len(list) != 2 || list[0].ClientID != want[0] || list[1].ClientID != want[1] {
			t.Errorf("ListServiceAccounts = %+v, %v; want %v by client id", list, err, want)
		}

		m = f.mark()
		if err := f.svc.DeleteServiceAccount(ctx, f.root, sa.ClientID); err != nil {
			t.Fatalf("DeleteServiceAccount: %v", err)
		}
		f.wantAudited(t, m, "coffer:iam/serviceAccount/delete", wantURN, audit.Allowed)
		if err := f.svc.DeleteServiceAccount(ctx, f.root, sa.ClientID); !errors.Is(err, service.ErrServiceAccountNotFound) {
			t.Errorf("DeleteServiceAccount again = %v, want ErrServiceAccountNotFound", err)
		}
		if _, err := f.svc.AuthenticateClient(ctx, sa.ClientID, secret); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("AuthenticateClient of a deleted account = %v, want ErrUnauthenticated", err)
		}
		if empty, err := f.svc.IsEmpty(ctx); err != nil || empty {
			t.Errorf("IsEmpty with a service account = %v, %v; want false (a restore would lose it)", empty, err)
		}
	})
}

func TestService_ServiceAccountValidation(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		tests := []struct {
			name  string
			in    service.ServiceAccountInput
			field string
		}{
			{"no name", service.ServiceAccountInput{Flow: "CLIENT_CREDENTIALS"}, "name"},
			{"blank name", service.ServiceAccountInput{Name: "  ", Flow: "CLIENT_CREDENTIALS"}, "name"},
			{"name too long", service.ServiceAccountInput{Name: strings.Repeat("n", 257), Flow: "CLIENT_CREDENTIALS"}, "name"},
			{"control character", service.ServiceAccountInput{Name: "a\nb", Flow: "CLIENT_CREDENTIALS"}, "name"},
			{"invalid UTF-8", service.ServiceAccountInput{Name: "a\xffb", Flow: "CLIENT_CREDENTIALS"}, "name"},
			{"description too long", service.ServiceAccountInput{Name: "a", Description: strings.Repeat("d", 1025), Flow: "CLIENT_CREDENTIALS"}, "description"},
			{"no flow", service.ServiceAccountInput{Name: "a"}, "flow"},
			{"authorization code", service.ServiceAccountInput{Name: "a", Flow: "AUTHORIZATION_CODE"}, "flow"},
			{"lower-case flow", service.ServiceAccountInput{Name: "a", Flow: "client_credentials"}, "flow"},
			{"callback URLs", service.ServiceAccountInput{Name: "a", Flow: "CLIENT_CREDENTIALS", CallbackURLs: []string{"https://x"}}, "callbackUrls"},
		}
		for _, tc := range tests {
			_, secret, err := f.svc.CreateServiceAccount(t.Context(), f.root, tc.in)
			ie, ok := errors.AsType[*service.InvalidError](err)
			if !ok || ie.Field != tc.field || secret != "" {
				t.Errorf("%s: CreateServiceAccount = %q, %v; want an InvalidError on %s", tc.name, secret, err, tc.field)
			}
		}
		if list, _ := f.svc.ListServiceAccounts(t.Context(), f.root); len(list) != 0 {
			t.Errorf("refused creations left %d service accounts", len(list))
		}
	})
}

func TestService_ServiceAccountsNeedAnAdmin(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		sa, secret := f.newServiceAccount(t, "ci")
		bob := f.asUser(t, "bob", "")
		_, saCaller := f.oauthToken(t, sa.ClientID, secret)
		for _, c := range []service.Caller{bob, saCaller} {
			f.wantRefused(t, map[string]func() error{
				"coffer:iam/serviceAccount/create": func() error {
					_, _, err := f.svc.CreateServiceAccount(ctx, c, service.ServiceAccountInput{Name: "x", Flow: "CLIENT_CREDENTIALS"})
					return err
				},
				"coffer:iam/serviceAccount/list": func() error { _, err := f.svc.ListServiceAccounts(ctx, c); return err },
				"coffer:iam/serviceAccount/get": func() error {
					_, err := f.svc.GetServiceAccount(ctx, c, sa.ClientID)
					return err
				},
				"coffer:iam/serviceAccount/delete": func() error { return f.svc.DeleteServiceAccount(ctx, c, sa.ClientID) },
				// A token caller cannot mint OAuth2 tokens: only client
				// credentials do.
				"coffer:iam/oauth2/token": func() error { _, err := f.svc.IssueOAuth2Token(ctx, c); return err },
			})
		}
		admins := f.asUser(t, "carol", "")
		if _, err := f.svc.CreateGroup(ctx, f.root, service.GroupInput{Name: "admins", Role: str(service.RoleAdmin)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.UpdateUser(ctx, f.root, service.UserInput{Login: "carol", Group: str("admins")}); err != nil {
			t.Fatal(err)
		}
		admins.Principal, _ = f.svc.Authenticate(ctx, mustPAT(t, f, "carol"))
		if _, err := f.svc.GetServiceAccount(ctx, admins, sa.ClientID); err != nil {
			t.Errorf("GetServiceAccount by an ADMIN user = %v", err)
		}
	})
}

func mustPAT(t *testing.T, f *fixture, login string) string {
	t.Helper()
	tok, _, err := f.svc.CreatePAT(t.Context(), f.root, login, "admin-test", "", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestService_AuthenticateClient(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		sa, secret := f.newServiceAccount(t, "ci")
		other, otherSecret := f.newServiceAccount(t, "other")
		p, err := f.svc.AuthenticateClient(ctx, sa.ClientID, secret)
		if err != nil || p.Kind != auth.KindClientSecret || p.CredentialID != sa.ClientID || p.Root || p.Admin ||
			!slices.Equal(p.Identities, []string{sa.URN}) || p.Name != "ci" {
			t.Errorf("AuthenticateClient = %+v, %v", p, err)
		}
		for name, tc := range map[string][2]string{
			"wrong secret":              {sa.ClientID, secret + "x"},
			"another account's secret":  {sa.ClientID, otherSecret},
			"secret of another account": {other.ClientID, secret},
			"unknown client":            {"0123456789abcdef", secret},
			"malformed client id":       {"../sa/" + sa.ClientID, secret},
			"upper-case client id":      {strings.ToUpper(sa.ClientID), secret},
			"empty secret":              {sa.ClientID, ""},
			"empty client id":           {"", secret},
			"secret with a space":       {sa.ClientID, secret + " "},
			"overlong secret":           {sa.ClientID, strings.Repeat("s", 300)},
		} {
			if p, err := f.svc.AuthenticateClient(ctx, tc[0], tc[1]); !errors.Is(err, service.ErrUnauthenticated) {
				t.Errorf("%s: AuthenticateClient = %+v, %v; want ErrUnauthenticated", name, p, err)
			}
		}
		// A client secret is not a bearer token.
		if _, err := f.svc.Authenticate(ctx, secret); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("Authenticate(client secret) = %v, want ErrUnauthenticated", err)
		}
	})
}

func TestService_OAuth2Tokens(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		sa, secret := f.newServiceAccount(t, "eso")
		p, err := f.svc.AuthenticateClient(ctx, sa.ClientID, secret)
		if err != nil {
			t.Fatal(err)
		}
		issuedAt := f.clock.Now()
		m := f.mark()
		tok, err := f.svc.IssueOAuth2Token(ctx, service.Caller{Principal: p, Surface: "iam", RequestID: "r1"})
		if err != nil || !oauthTokenRE.MatchString(tok.Token) || tok.TTL != time.Hour || !tok.ExpiresAt.Equal(issuedAt.Add(time.Hour)) {
			t.Fatalf("IssueOAuth2Token = %+v, %v", tok, err)
		}
		f.wantAudited(t, m, "coffer:iam/oauth2/token", sa.URN, audit.Allowed)
		for _, e := range f.since(m) {
			if e.Credential != "client-secret:"+sa.ClientID || !slices.Equal(e.Principal, []string{sa.URN}) {
				t.Errorf("issuance audited with credential %q and principal %v", e.Credential, e.Principal)
			}
		}
		if raw := rawValues(t, f.store.Backend); strings.Contains(raw, tok.Token) || strings.Contains(raw, tok.Token[len("cof_oat_"):]) {
			t.Errorf("the store holds the access token in clear")
		}

		// Fail closed: without audit, no token.
		f.audit.fail = true
		if _, err := f.svc.IssueOAuth2Token(ctx, service.Caller{Principal: p}); !errors.Is(err, service.ErrAuditUnavailable) {
			t.Errorf("IssueOAuth2Token with a failing audit = %v, want ErrAuditUnavailable", err)
		}
		f.audit.fail = false
		if n := countKind(t, f.store.Backend, auth.KindOAuth2); n != 1 {
			t.Errorf("%d OAuth2 token records after an issuance refused for audit, want 1", n)
		}

		tp, err := f.svc.Authenticate(ctx, tok.Token)
		if err != nil || tp.Kind != auth.KindOAuth2 || tp.Root || tp.Admin || !slices.Equal(tp.Identities, []string{sa.URN}) || tp.Name != "eso" {
			t.Fatalf("Authenticate(access token) = %+v, %v", tp, err)
		}
		caller := service.Caller{Principal: tp, Surface: "C"}
		if _, err := f.svc.CreatePolicy(ctx, f.root, readPolicy(f, "eso-reads", sa.URN)); err != nil {
			t.Fatal(err)
		}
		info, err := f.svc.LookupToken(ctx, caller, tok.Token)
		if err != nil || info.Kind != auth.KindOAuth2 || info.Child || info.Root || !info.ExpiresAt.Equal(tok.ExpiresAt) ||
			info.TTL != time.Hour || !info.CreatedAt.Equal(issuedAt) || info.Name != "eso" ||
			!slices.Equal(info.Identities, []string{sa.URN}) || !slices.Equal(info.Policies, []string{"eso-reads"}) {
			t.Errorf("LookupToken = %+v, %v; want the real expiry, the account's name, URN and policy", info, err)
		}
		// A child token (Vault's auth/token/create) acts as the account and
		// dies with its parent.
		child, ci, err := f.svc.CreateChildToken(ctx, caller, tok.Token, service.ChildTokenOptions{TTL: 5 * time.Hour})
		if err != nil || !ci.ExpiresAt.Equal(tok.ExpiresAt) {
			t.Fatalf("CreateChildToken = %+v, %v; want the parent's expiry", ci, err)
		}
		if cp, err := f.svc.Authenticate(ctx, child); err != nil || !slices.Equal(cp.Identities, []string{sa.URN}) {
			t.Errorf("Authenticate(child) = %+v, %v", cp, err)
		}

		// Expiry, by the injected clock.
		f.clock.Advance(59 * time.Minute)
		if info, err := f.svc.LookupToken(ctx, caller, tok.Token); err != nil || info.TTL != time.Minute {
			t.Errorf("LookupToken a minute before expiry = %+v, %v; want a ttl of 1m", info, err)
		}
		if _, err := f.svc.Authenticate(ctx, tok.Token); err != nil {
			t.Errorf("Authenticate a minute before expiry = %v", err)
		}
		f.clock.Advance(time.Minute)
		for name, tk := range map[string]string{"access token": tok.Token, "its child": child} {
			if _, err := f.svc.Authenticate(ctx, tk); !errors.Is(err, service.ErrUnauthenticated) {
				t.Errorf("Authenticate(%s) at expiry = %v, want ErrUnauthenticated", name, err)
			}
		}

		// A new token; the expired one's records are swept by the issuance.
		_, second := f.oauthToken(t, sa.ClientID, secret)
		if !slices.Equal(second.Principal.Identities, []string{sa.URN}) {
			t.Errorf("second token's principal = %+v", second.Principal)
		}
		if n := countKeys(t, f.store.Backend, "iam/oat/"+sa.ClientID+"/"); n != 1 {
			t.Errorf("%d access tokens indexed after the sweep, want 1", n)
		}
		if n := countKind(t, f.store.Backend, auth.KindOAuth2); n != 1 {
			t.Errorf("%d OAuth2 token records after the sweep, want 1", n)
		}
	})
}

func countKeys(t *testing.T, b storage.Backend, prefix string) int {
	t.Helper()
	var n int
	if err := b.View(t.Context(), func(tx storage.Tx) error {
		keys, err := tx.List(prefix, "", 0)
		n = len(keys)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func countKind(t *testing.T, b storage.Backend, kind auth.Kind) int {
	t.Helper()
	var n int
	if err := b.View(t.Context(), func(tx storage.Tx) error {
		keys, err := tx.List("iam/token/", "", 0)
		for _, k := range keys {
			v, err := tx.Get(k)
			if err != nil {
				return err
			}
			if kindOf(v) == string(kind) {
				n++
			}
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestService_ServiceAccountPolicy: a policy naming the service account's
// URN grants exactly what it says, to its tokens and to certificates
// bound to it.
func TestService_ServiceAccountPolicy(t *testing.T) {
	eachPKIBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		sa, clientSecret := f.newServiceAccount(t, "reader")
		for _, p := range []string{"prod/db", "prod/api", "dev/db"} {
			if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, secret.MustParsePath(p), data(t, `{"pw":"x"}`), secret.MetadataUpdate{}); err != nil {
				t.Fatal(err)
			}
		}
		_, c := f.oauthToken(t, sa.ClientID, clientSecret)
		cred, _, err := f.svc.CreateCredential(ctx, f.root, f.domain, service.CredentialInput{Name: "sa", IdentityURNs: []string{sa.URN}})
		if err != nil {
			t.Fatal(err)
		}
		cp, err := f.svc.AuthenticateCertificate(ctx, f.domain, certDER(t, cred))
		if err != nil || !slices.Equal(cp.Identities, []string{sa.URN}) {
			t.Fatalf("AuthenticateCertificate(bound to the service account) = %+v, %v", cp, err)
		}
		viaCert := service.Caller{Principal: cp, Surface: "B"}
		if _, err := f.svc.CreatePolicy(ctx, f.root, policy.Policy{Name: "sa-prod", Identities: []string{sa.URN},
			Resources: []string{f.svc.DomainURN(f.domain) + "/secret/prod%2F*"},
			Allow:     []string{"okms:apikms:secret/get", "okms:apikms:secret/version/getData"}}); err != nil {
			t.Fatal(err)
		}
		for _, caller := range []service.Caller{c, viaCert} {
			for _, tc := range []struct {
				path    string
				getData bool
				allowed bool
			}{
				{"prod/db", true, true}, {"prod/api", false, true}, {"dev/db", false, false}, {"dev/db", true, false},
			} {
				_, err := f.svc.GetSecret(ctx, caller, f.domain, secret.MustParsePath(tc.path), service.GetOptions{IncludeData: tc.getData})
				if tc.allowed != (err == nil) || (!tc.allowed && !errors.Is(err, service.ErrDenied)) {
					t.Errorf("%s: GetSecret(%s, data %v) = %v; allowed %v", caller.Principal.Kind, tc.path, tc.getData, err, tc.allowed)
				}
			}
			_, err := f.svc.CreateSecret(ctx, caller, f.domain, secret.MustParsePath("prod/new"), data(t, `{}`), secret.MetadataUpdate{})
			if !errors.Is(err, service.ErrDenied) {
				t.Errorf("%s: CreateSecret (not granted) = %v, want ErrDenied", caller.Principal.Kind, err)
			}
			_, err = f.svc.UpdateConfig(ctx, caller, f.domain, secret.ConfigUpdate{})
			if !errors.Is(err, service.ErrDenied) {
				t.Errorf("%s: UpdateConfig (not granted) = %v, want ErrDenied", caller.Principal.Kind, err)
			}
		}
	})
}

// TestService_DeleteServiceAccountRevokes: deleting a service account
// revokes its access tokens, their child tokens and its certificates at
// once, even while their principals are cached, and on every node sharing
// the store.
func TestService_DeleteServiceAccountRevokes(t *testing.T) {
	eachPKIBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		sa, secret := f.newServiceAccount(t, "doomed")
		keep, keepSecret := f.newServiceAccount(t, "kept")
		tok, c := f.oauthToken(t, sa.ClientID, secret)
		tok2, _ := f.oauthToken(t, sa.ClientID, secret)
		keptTok, _ := f.oauthToken(t, keep.ClientID, keepSecret)
		child, _, err := f.svc.CreateChildToken(ctx, c, tok.Token, service.ChildTokenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		only, _, err := f.svc.CreateCredential(ctx, f.root, f.domain, service.CredentialInput{Name: "only", IdentityURNs: []string{sa.URN}})
		if err != nil {
			t.Fatal(err)
		}
		shared, _, err := f.svc.CreateCredential(ctx, f.root, f.domain, service.CredentialInput{Name: "shared", IdentityURNs: []string{sa.URN, keep.URN}})
		if err != nil {
			t.Fatal(err)
		}
		pol, err := f.svc.CreatePolicy(ctx, f.root, readPolicy(f, "both", sa.URN))
		if err != nil {
			t.Fatal(err)
		}
		pol.Identities = []string{sa.URN, keep.URN}
		if _, err := f.svc.UpdatePolicy(ctx, f.root, pol); err != nil {
			t.Fatal(err)
		}
		// Every credential authenticates, and is now cached.
		for _, tk := range []string{tok.Token, tok2.Token, child, keptTok.Token} {
			if _, err := f.svc.Authenticate(ctx, tk); err != nil {
				t.Fatalf("Authenticate before the deletion: %v", err)
			}
		}
		if err := f.svc.DeleteServiceAccount(ctx, f.root, sa.ClientID); err != nil {
			t.Fatal(err)
		}
		for name, tk := range map[string]string{"first token": tok.Token, "second token": tok2.Token, "child token": child} {
			if _, err := f.svc.Authenticate(ctx, tk); !errors.Is(err, service.ErrUnauthenticated) {
				t.Errorf("Authenticate(%s) after the deletion = %v, want ErrUnauthenticated", name, err)
			}
		}
		if n := countKind(t, f.store.Backend, auth.KindOAuth2); n != 1 {
			t.Errorf("%d OAuth2 token records after the deletion, want only the other account's", n)
		}
		if n := countKeys(t, f.store.Backend, "iam/oat/"+sa.ClientID+"/"); n != 0 {
			t.Errorf("%d index entries left after the deletion", n)
		}
		if _, err := f.svc.Authenticate(ctx, keptTok.Token); err != nil {
			t.Errorf("another account's token after the deletion = %v", err)
		}
		if _, err := f.svc.AuthenticateCertificate(ctx, f.domain, certDER(t, only)); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("certificate bound only to the deleted account = %v, want ErrUnauthenticated", err)
		}
		p, err := f.svc.AuthenticateCertificate(ctx, f.domain, certDER(t, shared))
		if err != nil || !slices.Equal(p.Identities, []string{keep.URN}) {
			t.Errorf("certificate bound to both accounts = %+v, %v; want the remaining one only", p, err)
		}
		// The credential bound to the account alone is revoked, not left
		// listed as ready; the shared one stays.
		creds, _, err := f.svc.ListCredentials(ctx, f.root, f.domain, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range creds {
			names = append(names, c.Name)
		}
		if !slices.Equal(names, []string{"shared"}) {
			t.Errorf("credentials after the deletion = %v, want [shared]", names)
		}
		if _, err := f.svc.GetCredential(ctx, f.root, f.domain, only.ID); err == nil {
			t.Errorf("GetCredential(only) after the deletion succeeded")
		}
		// Policies forget the account.
		got, err := f.svc.GetPolicy(ctx, f.root, pol.ID)
		if err != nil || !slices.Equal(got.Identities, []string{keep.URN}) {
			t.Errorf("policy after the deletion = %v, %v; want only %s", got.Identities, err, keep.URN)
		}
	})
}

// TestService_OAuth2TokenCap: a service account holds at most
// MaxLiveOAuth2Tokens live access tokens; one more revokes the oldest,
// child tokens included, and the newest keep working.
func TestService_OAuth2TokenCap(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		sa, secret := f.newServiceAccount(t, "busy")
		first, c := f.oauthToken(t, sa.ClientID, secret)
		child, _, err := f.svc.CreateChildToken(ctx, c, first.Token, service.ChildTokenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		var last service.OAuth2Token
		for i := 1; i < service.MaxLiveOAuth2Tokens; i++ {
			f.clock.Advance(time.Second) // distinct expiries, issuance order
			last, _ = f.oauthToken(t, sa.ClientID, secret)
		}
		if _, err := f.svc.Authenticate(ctx, first.Token); err != nil {
			t.Fatalf("the first token at the bound: %v", err)
		}
		f.clock.Advance(time.Second)
		f.oauthToken(t, sa.ClientID, secret)
		for name, tk := range map[string]string{"oldest token": first.Token, "its child": child} {
			if _, err := f.svc.Authenticate(ctx, tk); !errors.Is(err, service.ErrUnauthenticated) {
				t.Errorf("Authenticate(%s) beyond the bound = %v, want ErrUnauthenticated", name, err)
			}
		}
		if _, err := f.svc.Authenticate(ctx, last.Token); err != nil {
			t.Errorf("a recent token beyond the bound: %v", err)
		}
		if n := countKeys(t, f.store.Backend, "iam/oat/"+sa.ClientID+"/"); n != service.MaxLiveOAuth2Tokens {
			t.Errorf("%d live tokens indexed, want %d", n, service.MaxLiveOAuth2Tokens)
		}
	})
}

// TestService_DeleteServiceAccountOtherNode: a node that cached an access
// token's principal refuses it as soon as another node sharing the store
// deletes the service account (PostgreSQL's change notification), without
// waiting for the cache entry to expire: the clock does not move.
func TestService_DeleteServiceAccountOtherNode(t *testing.T) {
	if os.Getenv("COFFER_TEST_PGURL") == "" {
		t.Skip("needs PostgreSQL, the store several nodes share: set COFFER_TEST_PGURL")
	}
	store := openPG(t)
	f := newFixture(t, store)
	ctx := t.Context()
	sa, secret := f.newServiceAccount(t, "ci")
	tok, _ := f.oauthToken(t, sa.ClientID, secret)
	other := service.New(service.Options{Store: store, Now: f.clock.Now})
	if _, err := other.Init(ctx, service.InitOptions{}); err != nil {
		t.Fatalf("start the second node: %v", err)
	}
	t.Cleanup(other.Close)
	if _, err := other.Authenticate(ctx, tok.Token); err != nil {
		t.Fatalf("second node: Authenticate = %v", err)
	}
	if err := f.svc.DeleteServiceAccount(ctx, f.root, sa.ClientID); err != nil {
		t.Fatal(err)
	}
	// The notification is delivered asynchronously: poll for it.
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		_, err := other.Authenticate(ctx, tok.Token)
		if errors.Is(err, service.ErrUnauthenticated) {
			t.Logf("revoked on the second node after %v", time.Since(start).Round(time.Millisecond))
			return
		}
		if time.Since(start) > 10*time.Second {
			t.Fatalf("the second node still authenticates the token of a deleted account: %v", err)
		}
	}
}
