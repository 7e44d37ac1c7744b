package service_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

// TestService_AuthenticateCache checks that cached principals never let a
// revoked or changed credential through: changes made through the service
// apply at once (the clock of the fixture does not move), changes made
// behind its back within a second.
func TestService_AuthenticateCache(t *testing.T) {
	f := newFixture(t, memstore.New())
	ctx := t.Context()
	str := func(s string) *string { return &s }
	if _, err := f.svc.CreateGroup(ctx, f.root, service.GroupInput{Name: "ops", Role: str(service.RoleAdmin)}); err != nil {
		t.Fatalf("CreateGroup: %v", err)
	}
	if _, err := f.svc.CreateUser(ctx, f.root, service.UserInput{Login: "alice", Password: str("correct horse battery")}); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	pat, _, err := f.svc.CreatePAT(ctx, f.root, "alice", "ci", "", time.Time{})
	if err != nil {
		t.Fatalf("CreatePAT: %v", err)
	}
	p, err := f.svc.Authenticate(ctx, pat)
	if err != nil || p.Admin {
		t.Fatalf("Authenticate(PAT) = %+v, %v; want alice, not admin", p, err)
	}

	t.Run("group change applies at once", func(t *testing.T) {
		if _, err := f.svc.UpdateUser(ctx, f.root, service.UserInput{Login: "alice", Group: str("ops")}); err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		p, err := f.svc.Authenticate(ctx, pat)
		if err != nil || !p.Admin || !slices.ContainsFunc(p.Identities, func(s string) bool { return strings.HasSuffix(s, "/ops") }) {
			t.Errorf("Authenticate(PAT) after joining ops = %+v, %v; want an ADMIN principal with the group", p, err)
		}
	})
	t.Run("child revocation applies at once", func(t *testing.T) {
		child, _, err := f.svc.CreateChildToken(ctx, f.root, "root-token", service.ChildTokenOptions{})
		if err != nil {
			t.Fatalf("CreateChildToken: %v", err)
		}
		cp, err := f.svc.Authenticate(ctx, child)
		if err != nil {
			t.Fatalf("Authenticate(child): %v", err)
		}
		if err := f.svc.RevokeChildToken(ctx, service.Caller{Principal: cp}, child); err != nil {
			t.Fatalf("RevokeChildToken: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, child); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("Authenticate(revoked child) = %v, want ErrUnauthenticated", err)
		}
	})
	t.Run("user deletion applies at once", func(t *testing.T) {
		if err := f.svc.DeleteUser(ctx, f.root, "alice"); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, pat); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("Authenticate(PAT of a deleted user) = %v, want ErrUnauthenticated", err)
		}
	})
}

func TestService_AuthenticateCacheBounds(t *testing.T) {
	raw := memstore.New()
	f := newFixture(t, raw)
	ctx := t.Context()

	t.Run("changes behind the service's back within a second", func(t *testing.T) {
		child, _, err := f.svc.CreateChildToken(ctx, f.root, "root-token", service.ChildTokenOptions{})
		if err != nil {
			t.Fatalf("CreateChildToken: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, child); err != nil {
			t.Fatalf("Authenticate(child): %v", err)
		}
		// Another process (or tool) deletes every child token record.
		err = raw.Update(ctx, func(tx storage.Tx) error {
			keys, err := tx.List("iam/token/", "", 0)
			for _, k := range keys {
				b, _ := tx.Get(k)
				if kindOf(b) == string(auth.KindChildToken) {
					if err := tx.Delete(k); err != nil {
						return err
					}
				}
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(999 * time.Millisecond)
		if _, err := f.svc.Authenticate(ctx, child); err != nil {
			t.Errorf("Authenticate(child) within the second = %v, want the cached principal", err)
		}
		f.clock.Advance(time.Millisecond)
		if _, err := f.svc.Authenticate(ctx, child); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("Authenticate(deleted child) a second later = %v, want ErrUnauthenticated", err)
		}
	})
	t.Run("never past the token's expiry", func(t *testing.T) {
		short, _, err := f.svc.CreateChildToken(ctx, f.root, "root-token", service.ChildTokenOptions{TTL: 10 * time.Second})
		if err != nil {
			t.Fatalf("CreateChildToken: %v", err)
		}
		f.clock.Advance(9*time.Second + 500*time.Millisecond)
		if _, err := f.svc.Authenticate(ctx, short); err != nil {
			t.Fatalf("Authenticate(short) before expiry = %v", err)
		}
		f.clock.Advance(500 * time.Millisecond)
		if _, err := f.svc.Authenticate(ctx, short); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("Authenticate(short) at its expiry = %v, want ErrUnauthenticated", err)
		}
	})
}

// kindOf returns the kind of a stored token record.
func kindOf(b []byte) string {
	var r struct{ Kind string }
	if err := json.Unmarshal(b, &r); err != nil {
		return ""
	}
	return r.Kind
}
