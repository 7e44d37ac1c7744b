package service_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

func TestService_Authenticate(t *testing.T) {
	f := newFixture(t, memstore.New())
	for _, tok := range []string{"", "wrong", "root-token ", "ROOT-TOKEN"} {
		if _, err := f.svc.Authenticate(t.Context(), tok); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("Authenticate(%q) = %v, want ErrUnauthenticated", tok, err)
		}
	}
	p, err := f.svc.Authenticate(t.Context(), "root-token")
	if err != nil || !p.Root || p.CredentialID == "" || contains(p.CredentialID, "root-token") {
		t.Errorf("Authenticate(root) = %+v, %v", p, err)
	}
	// Init again is a no-op that keeps the installation.
	res, err := f.svc.Init(t.Context(), service.InitOptions{RootToken: "other"})
	if err != nil || res.Created || res.DefaultDomain != f.domain {
		t.Errorf("second Init = %+v, %v", res, err)
	}
	if _, err := f.svc.Authenticate(t.Context(), "other"); !errors.Is(err, service.ErrUnauthenticated) {
		t.Errorf("a second Init replaced the root token")
	}
}

func TestService_ChildTokens(t *testing.T) {
	t.Parallel()
	eachVT(t, func(t *testing.T, e *vtEnv) {
		info, err := e.svc.LookupToken(e.ctx, e.root, vtRootToken)
		if err != nil || !info.Root || info.Child || !info.ExpiresAt.IsZero() || info.TTL != 0 || info.Accessor != e.root.Principal.CredentialID {
			t.Fatalf("LookupToken(root) = %+v, %v", info, err)
		}
		tests := []struct {
			name string
			opt  service.ChildTokenOptions
			ttl  time.Duration
		}{
			{"default ttl", service.ChildTokenOptions{}, time.Hour},
			{"requested ttl", service.ChildTokenOptions{TTL: 20 * time.Minute, DisplayName: "terraform"}, 20 * time.Minute},
			{"capped by explicit_max_ttl", service.ChildTokenOptions{TTL: 2 * time.Hour, MaxTTL: 10 * time.Minute}, 10 * time.Minute},
		}
		for _, tc := range tests {
			tok, ti, err := e.svc.CreateChildToken(e.ctx, e.root, vtRootToken, tc.opt)
			if err != nil || !strings.HasPrefix(tok, "cof_ctk_") || ti.TTL != tc.ttl || !ti.Child || !ti.Root {
				t.Errorf("%s: %q, %+v, %v", tc.name, tok, ti, err)
				continue
			}
			p, err := e.svc.Authenticate(e.ctx, tok)
			if err != nil || !p.Root || p.Kind != auth.KindChildToken || len(p.Identities) != 1 || p.Identities[0] != e.root.Principal.Identities[0] {
				t.Errorf("%s: Authenticate = %+v, %v", tc.name, p, err)
			}
		}

		child, _, err := e.svc.CreateChildToken(e.ctx, e.root, vtRootToken, service.ChildTokenOptions{TTL: 30 * time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		cp, _ := e.svc.Authenticate(e.ctx, child)
		cc := service.Caller{Principal: cp, Dialect: service.KMS, Surface: "C"}
		grand, gi, err := e.svc.CreateChildToken(e.ctx, cc, child, service.ChildTokenOptions{TTL: 5 * time.Hour})
		if err != nil || gi.TTL != 30*time.Minute {
			t.Fatalf("grandchild ttl %v (%v), want the parent's 30m", gi.TTL, err)
		}
		if err := e.svc.RevokeChildToken(e.ctx, e.root, vtRootToken); !errors.Is(err, service.ErrTokenNotRevocable) {
			t.Fatalf("revoking the root token: %v", err)
		}
		if err := e.svc.RevokeChildToken(e.ctx, cc, child); err != nil {
			t.Fatal(err)
		}
		for name, tok := range map[string]string{"child": child, "grandchild": grand} {
			if _, err := e.svc.Authenticate(e.ctx, tok); !errors.Is(err, service.ErrUnauthenticated) {
				t.Errorf("%s after revocation: %v", name, err)
			}
		}
		if _, err := e.svc.Authenticate(e.ctx, vtRootToken); err != nil {
			t.Fatalf("root after its child's revocation: %v", err)
		}

		short, _, err := e.svc.CreateChildToken(e.ctx, e.root, vtRootToken, service.ChildTokenOptions{TTL: time.Minute})
		if err != nil {
			t.Fatal(err)
		}
		e.clock.Advance(time.Minute)
		if _, err := e.svc.Authenticate(e.ctx, short); !errors.Is(err, service.ErrUnauthenticated) {
			t.Fatalf("expired child: %v", err)
		}
		if _, err := e.svc.LookupToken(e.ctx, e.root, short); !errors.Is(err, service.ErrUnauthenticated) {
			t.Fatalf("LookupToken of an expired child: %v", err)
		}
		if _, _, err := e.svc.CreateChildToken(e.ctx, e.root, short, service.ChildTokenOptions{}); !errors.Is(err, service.ErrUnauthenticated) {
			t.Fatalf("child of an expired token: %v", err)
		}
		for _, ev := range e.audit.events {
			if strings.Contains(ev.Resource, "cof_") || strings.Contains(ev.Reason, "cof_") {
				t.Fatalf("a token leaked into the audit log: %+v", ev)
			}
		}
	})
}

func TestService_PATs(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		aliceURN := "urn:v1:eu:identity:user:coffer/alice"
		if _, err := f.svc.CreateUser(ctx, f.root, service.UserInput{Login: "alice"}); err != nil {
			t.Fatal(err)
		}
		t0 := f.clock.Now()
		expires := t0.Add(24 * time.Hour)

		m := f.mark()
		tok, pat, err := f.svc.CreatePAT(ctx, f.root, "alice", "ci", "the CI", expires)
		if err != nil || !strings.HasPrefix(tok, "cof_pat_") {
			t.Fatalf("CreatePAT = %q, %v", tok, err)
		}
		want := service.PAT{Name: "ci", Description: "the CI", CreatedAt: t0, ExpiresAt: expires}
		if pat != want {
			t.Errorf("CreatePAT = %+v, want %+v", pat, want)
		}
		f.wantAudited(t, m, "coffer:iam/token/create", aliceURN, audit.Allowed)

		errs := []struct {
			name string
			call func() error
			want error
			// field is set for an invalid input.
			field string
		}{
			{"taken name", func() error { _, _, err := f.svc.CreatePAT(ctx, f.root, "alice", "ci", "", time.Time{}); return err }, service.ErrIdentityExists, ""},
			{"unknown user", func() error { _, _, err := f.svc.CreatePAT(ctx, f.root, "nobody", "ci", "", time.Time{}); return err }, service.ErrUserNotFound, ""},
			{"invalid name", func() error { _, _, err := f.svc.CreatePAT(ctx, f.root, "alice", "a/b", "", time.Time{}); return err }, nil, "name"},
			{"long description", func() error {
				_, _, err := f.svc.CreatePAT(ctx, f.root, "alice", "d", strings.Repeat("x", 1025), time.Time{})
				return err
			}, nil, "description"},
			{"expiry in the past", func() error { _, _, err := f.svc.CreatePAT(ctx, f.root, "alice", "e", "", t0); return err }, nil, "expiresAt"},
			{"list of an unknown user", func() error { _, err := f.svc.ListPATs(ctx, f.root, "nobody"); return err }, service.ErrUserNotFound, ""},
			{"get of an unknown token", func() error { _, err := f.svc.GetPAT(ctx, f.root, "alice", "nope"); return err }, service.ErrTokenNotFound, ""},
			{"revoke of an unknown token", func() error { return f.svc.RevokePAT(ctx, f.root, "alice", "nope") }, service.ErrTokenNotFound, ""},
		}
		for _, tc := range errs {
			err := tc.call()
			if tc.field != "" && !isInvalid(err, tc.field) || tc.field == "" && !errors.Is(err, tc.want) {
				t.Errorf("%s: %v, want %v%s", tc.name, err, tc.want, tc.field)
			}
		}

		// The token acts as its user; its use is recorded at most once a
		// minute.
		p, err := f.svc.Authenticate(ctx, tok)
		if err != nil || p.Kind != auth.KindPAT || p.Name != "alice" || len(p.Identities) != 1 || p.Identities[0] != aliceURN {
			t.Fatalf("Authenticate(PAT) = %+v, %v", p, err)
		}
		lastUsed := func() time.Time {
			t.Helper()
			got, err := f.svc.GetPAT(ctx, f.root, "alice", "ci")
			if err != nil {
				t.Fatal(err)
			}
			return got.LastUsed
		}
		if got := lastUsed(); !got.Equal(t0) {
			t.Errorf("LastUsed after the first use = %v, want %v", got, t0)
		}
		f.clock.Advance(30 * time.Second)
		if _, err := f.svc.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); !got.Equal(t0) {
			t.Errorf("LastUsed 30s later = %v, want %v (recorded once a minute)", got, t0)
		}
		f.clock.Advance(31 * time.Second)
		if _, err := f.svc.Authenticate(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); !got.Equal(f.clock.Now()) {
			t.Errorf("LastUsed 61s later = %v, want %v", got, f.clock.Now())
		}
		info, err := f.svc.LookupToken(ctx, service.Caller{Principal: p}, tok)
		if err != nil || info.Kind != auth.KindPAT || info.Child || info.Root || !info.ExpiresAt.Equal(expires) || info.Accessor != p.CredentialID {
			t.Errorf("LookupToken(PAT) = %+v, %v", info, err)
		}

		if _, _, err := f.svc.CreatePAT(ctx, f.root, "alice", "deploy", "", time.Time{}); err != nil {
			t.Fatal(err)
		}
		list, err := f.svc.ListPATs(ctx, f.root, "alice")
		if err != nil || len(list) != 2 || list[0].Name != "ci" || list[1].Name != "deploy" || !list[1].ExpiresAt.IsZero() {
			t.Errorf("ListPATs = %+v, %v; want ci and deploy (no expiry)", list, err)
		}

		// Revoking a PAT revokes the child tokens made from it.
		child, _, err := f.svc.CreateChildToken(ctx, service.Caller{Principal: p}, tok, service.ChildTokenOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m = f.mark()
		if err := f.svc.RevokePAT(ctx, f.root, "alice", "ci"); err != nil {
			t.Fatalf("RevokePAT: %v", err)
		}
		f.wantAudited(t, m, "coffer:iam/token/delete", aliceURN, audit.Allowed)
		for name, tk := range map[string]string{"PAT": tok, "its child": child} {
			if _, err := f.svc.Authenticate(ctx, tk); !errors.Is(err, service.ErrUnauthenticated) {
				t.Errorf("Authenticate(%s) after RevokePAT = %v, want ErrUnauthenticated", name, err)
			}
		}
		if err := f.svc.RevokePAT(ctx, f.root, "alice", "ci"); !errors.Is(err, service.ErrTokenNotFound) {
			t.Errorf("RevokePAT again = %v, want ErrTokenNotFound", err)
		}

		for _, e := range f.since(0) {
			if strings.Contains(fmt.Sprintf("%+v", e), "cof_pat_") {
				t.Errorf("a token reached the audit log: %+v", e)
			}
		}
	})
}

func TestService_PATExpiry(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		if _, err := f.svc.CreateUser(ctx, f.root, service.UserInput{Login: "alice"}); err != nil {
			t.Fatal(err)
		}
		tok, _, err := f.svc.CreatePAT(ctx, f.root, "alice", "short", "", f.clock.Now().Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Hour - time.Nanosecond)
		if _, err := f.svc.Authenticate(ctx, tok); err != nil {
			t.Fatalf("Authenticate just before the expiry = %v", err)
		}
		f.clock.Advance(time.Nanosecond)
		if _, err := f.svc.Authenticate(ctx, tok); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("Authenticate at the expiry = %v, want ErrUnauthenticated", err)
		}
		// Deleting the user revokes its tokens.
		forever, _, err := f.svc.CreatePAT(ctx, f.root, "alice", "forever", "", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteUser(ctx, f.root, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Authenticate(ctx, forever); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("Authenticate with the PAT of a deleted user = %v, want ErrUnauthenticated", err)
		}
		if _, err := f.svc.CreateUser(ctx, f.root, service.UserInput{Login: "alice"}); err != nil {
			t.Fatal(err)
		}
		if list, err := f.svc.ListPATs(ctx, f.root, "alice"); err != nil || len(list) != 0 {
			t.Errorf("a re-created user inherited tokens: %+v, %v", list, err)
		}
		if _, err := f.svc.Authenticate(ctx, forever); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("a deleted user's PAT works for the re-created user: %v", err)
		}
	})
}

func TestService_PATsNeedAnAdmin(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		bob := f.asUser(t, "bob", "")
		// Not even for one's own tokens.
		f.wantRefused(t, map[string]func() error{
			"coffer:iam/token/create": func() error { _, _, err := f.svc.CreatePAT(ctx, bob, "bob", "more", "", time.Time{}); return err },
			"coffer:iam/token/list":   func() error { _, err := f.svc.ListPATs(ctx, bob, "bob"); return err },
			"coffer:iam/token/get":    func() error { _, err := f.svc.GetPAT(ctx, bob, "bob", "test"); return err },
			"coffer:iam/token/delete": func() error { return f.svc.RevokePAT(ctx, bob, "bob", "test") },
		})
		if list, err := f.svc.ListPATs(ctx, f.root, "bob"); err != nil || len(list) != 1 {
			t.Errorf("refused calls changed bob's tokens: %+v, %v", list, err)
		}
	})
}
