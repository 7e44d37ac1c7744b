package service_test

import (
	"errors"
	"strings"
	"testing"
	"time"

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
