package service_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

func TestService_LoginAndRefresh(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		pw := "CANARY correct horse battery"
		if _, err := f.svc.CreateGroup(ctx, f.root, service.GroupInput{Name: "staff", Role: str(service.RoleRegular)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateUser(ctx, f.root, service.UserInput{Login: "alice", Group: str("staff"), Password: &pw}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateUser(ctx, f.root, service.UserInput{Login: "bob"}); err != nil {
			t.Fatal(err)
		}
		identities := []string{"urn:v1:eu:identity:user:coffer/alice", "urn:v1:eu:identity:group:coffer/staff"}

		p, err := f.svc.Login(ctx, service.SignIn{Login: "alice", Password: pw})
		id := p.UserID
		if err != nil || p.Kind != auth.KindPassword || p.Name != "alice" || p.CredentialID != "password:alice" ||
			p.Admin || p.Root || !slices.Equal(p.Identities, identities) {
			t.Fatalf("Login = %+v, %v; want alice with her group, not an administrator", p, err)
		}
		// The session follows the user's group and role at each refresh.
		if _, err := f.svc.UpdateGroup(ctx, f.root, service.GroupInput{Name: "staff", Role: str(service.RoleAdmin)}); err != nil {
			t.Fatal(err)
		}
		p, err = f.svc.RefreshLogin(ctx, "alice", id)
		if err != nil || !p.Admin || p.Kind != auth.KindPassword || !slices.Equal(p.Identities, identities) {
			t.Errorf("RefreshLogin after the role change = %+v, %v; want an administrator", p, err)
		}
		if _, err := f.svc.UpdateUser(ctx, f.root, service.UserInput{Login: "alice", Group: str("")}); err != nil {
			t.Fatal(err)
		}
		p, err = f.svc.RefreshLogin(ctx, "alice", id)
		if err != nil || p.Admin || !slices.Equal(p.Identities, identities[:1]) {
			t.Errorf("RefreshLogin after leaving the group = %+v, %v", p, err)
		}
		if err := f.svc.DeleteUser(ctx, f.root, "alice"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.RefreshLogin(ctx, "alice", id); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("RefreshLogin of a deleted user = %v, want ErrUnauthenticated (the session ends)", err)
		}

		for _, e := range f.since(0) {
			if strings.Contains(fmt.Sprintf("%+v", e), "CANARY") {
				t.Errorf("a password reached the audit log: %+v", e)
			}
		}
	})
}

// TestService_LoginFailures checks that a failed login never says which
// part was wrong. Each attempt costs an Argon2id computation, by design,
// so this runs on one backend: the failures do not depend on the store.
func TestService_LoginFailures(t *testing.T) {
	f := newFixture(t, memstore.New())
	ctx := t.Context()
	pw := "correct horse battery"
	for _, in := range []service.UserInput{{Login: "alice", Password: &pw}, {Login: "bob"}} {
		if _, err := f.svc.CreateUser(ctx, f.root, in); err != nil {
			t.Fatal(err)
		}
	}
	failures := []struct{ name, login, password string }{
		{"wrong password", "alice", pw + "x"},
		{"empty password", "alice", ""},
		{"unknown login", "nobody", pw},
		{"user without a password", "bob", ""},
	}
	for _, tc := range failures {
		if _, err := f.svc.Login(ctx, service.SignIn{Login: tc.login, Password: tc.password}); err != service.ErrLoginFailed {
			t.Errorf("%s: Login = %v, want exactly ErrLoginFailed", tc.name, err)
		}
	}
}
