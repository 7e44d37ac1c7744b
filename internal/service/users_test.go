package service_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

func TestService_Users(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		pw := "CANARY-password-of-alice"
		aliceURN := "urn:v1:eu:identity:user:coffer/alice"

		m := f.mark()
		alice, err := f.svc.CreateUser(ctx, f.root, service.UserInput{Login: "alice", Description: str("Alice"), Email: str("alice@example.com"), Password: &pw})
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		want := service.User{Login: "alice", Description: "Alice", Email: "alice@example.com", URN: aliceURN,
			HasPassword: true, CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now()}
		if alice != want {
			t.Errorf("CreateUser = %+v, want %+v", alice, want)
		}
		f.wantAudited(t, m, "coffer:iam/user/create", aliceURN, audit.Allowed)

		if _, err := f.svc.CreateUser(ctx, f.root, service.UserInput{Login: "alice"}); !errors.Is(err, service.ErrIdentityExists) {
			t.Errorf("CreateUser(alice) again = %v, want ErrIdentityExists", err)
		}
		if got, err := f.svc.GetUser(ctx, f.root, "alice"); err != nil || got != want {
			t.Errorf("GetUser(alice) = %+v, %v; want %+v", got, err, want)
		}
		m = f.mark()
		if _, err := f.svc.GetUser(ctx, f.root, "nobody"); !errors.Is(err, service.ErrUserNotFound) {
			t.Errorf("GetUser(nobody) = %v, want ErrUserNotFound", err)
		}
		f.wantAudited(t, m, "coffer:iam/user/get", "urn:v1:eu:identity:user:coffer/nobody", audit.Failed)

		bob, err := f.svc.CreateUser(ctx, f.root, service.UserInput{Login: "bob"})
		if err != nil || bob.HasPassword || bob.Group != "" {
			t.Fatalf("CreateUser(bob) = %+v, %v; want a user without password nor group", bob, err)
		}
		users, err := f.svc.ListUsers(ctx, f.root)
		if err != nil || len(users) != 2 || users[0].Login != "alice" || users[1].Login != "bob" {
			t.Errorf("ListUsers = %+v, %v; want alice and bob", users, err)
		}

		// Update changes only the fields it sets, and checks the group.
		f.clock.Advance(time.Minute)
		if _, err := f.svc.UpdateUser(ctx, f.root, service.UserInput{Login: "alice", Group: str("ops")}); !isInvalid(err, "group") {
			t.Errorf("UpdateUser into a missing group = %v, want an invalid group", err)
		}
		if _, err := f.svc.CreateGroup(ctx, f.root, service.GroupInput{Name: "ops"}); err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.UpdateUser(ctx, f.root, service.UserInput{Login: "alice", Group: str("ops"), Description: str("Alice B.")})
		want.Group, want.Description, want.UpdatedAt = "ops", "Alice B.", f.clock.Now()
		if err != nil || got != want {
			t.Errorf("UpdateUser = %+v, %v; want %+v", got, err, want)
		}
		if got, err := f.svc.GetUser(ctx, f.root, "alice"); err != nil || got != want {
			t.Errorf("GetUser after update = %+v, %v; want %+v", got, err, want)
		}
		if _, err := f.svc.UpdateUser(ctx, f.root, service.UserInput{Login: "nobody", Description: str("x")}); !errors.Is(err, service.ErrUserNotFound) {
			t.Errorf("UpdateUser(nobody) = %v, want ErrUserNotFound", err)
		}

		m = f.mark()
		if err := f.svc.DeleteUser(ctx, f.root, "alice"); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		f.wantAudited(t, m, "coffer:iam/user/delete", aliceURN, audit.Allowed)
		if _, err := f.svc.GetUser(ctx, f.root, "alice"); !errors.Is(err, service.ErrUserNotFound) {
			t.Errorf("GetUser after delete = %v, want ErrUserNotFound", err)
		}
		if err := f.svc.DeleteUser(ctx, f.root, "alice"); !errors.Is(err, service.ErrUserNotFound) {
			t.Errorf("DeleteUser again = %v, want ErrUserNotFound", err)
		}

		for _, e := range f.since(0) {
			if strings.Contains(fmt.Sprintf("%+v", e), "CANARY") {
				t.Errorf("a password reached the audit log: %+v", e)
			}
		}
	})
}

// isInvalid reports whether err is an InvalidError about field.
func isInvalid(err error, field string) bool {
	ie, ok := errors.AsType[*service.InvalidError](err)
	return ok && ie.Field == field
}

func TestService_UserValidation(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		long := strings.Repeat("x", 1025)
		tests := []struct {
			name  string
			in    service.UserInput
			field string
		}{
			{"empty login", service.UserInput{}, "login"},
			{"login with a slash", service.UserInput{Login: "a/b"}, "login"},
			{"dot-dot login", service.UserInput{Login: ".."}, "login"},
			{"login of 65 characters", service.UserInput{Login: strings.Repeat("a", 65)}, "login"},
			{"long description", service.UserInput{Login: "carol", Description: &long}, "description"},
			{"long email", service.UserInput{Login: "carol", Email: str(strings.Repeat("e", 255))}, "email"},
			{"invalid group name", service.UserInput{Login: "carol", Group: str("a b")}, "group"},
			{"short password", service.UserInput{Login: "carol", Password: str("short")}, "password"},
		}
		for _, tc := range tests {
			if _, err := f.svc.CreateUser(ctx, f.root, tc.in); !isInvalid(err, tc.field) {
				t.Errorf("%s: CreateUser = %v, want an invalid %s", tc.name, err, tc.field)
			}
		}
		if users, err := f.svc.ListUsers(ctx, f.root); err != nil || len(users) != 0 {
			t.Errorf("invalid inputs created users: %+v, %v", users, err)
		}
	})
}

// TestService_UsersNeedAnAdmin checks that only the root and ADMIN users
// manage users, and that a refusal is audited and changes nothing.
func TestService_UsersNeedAnAdmin(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		if _, err := f.svc.CreateGroup(ctx, f.root, service.GroupInput{Name: "admins", Role: str(service.RoleAdmin)}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateGroup(ctx, f.root, service.GroupInput{Name: "staff", Role: str(service.RoleRegular)}); err != nil {
			t.Fatal(err)
		}
		dave := f.asUser(t, "dave", "staff")
		f.wantRefused(t, map[string]func() error{
			"coffer:iam/user/create": func() error {
				_, err := f.svc.CreateUser(ctx, dave, service.UserInput{Login: "mallory", Password: str("x")})
				return err
			},
			"coffer:iam/user/get":  func() error { _, err := f.svc.GetUser(ctx, dave, "dave"); return err },
			"coffer:iam/user/list": func() error { _, err := f.svc.ListUsers(ctx, dave); return err },
			"coffer:iam/user/update": func() error {
				_, err := f.svc.UpdateUser(ctx, dave, service.UserInput{Login: "dave", Group: str("admins")})
				return err
			},
			"coffer:iam/user/delete": func() error { return f.svc.DeleteUser(ctx, dave, "dave") },
		})
		if u, err := f.svc.GetUser(ctx, f.root, "dave"); err != nil || u.Group != "staff" {
			t.Errorf("after refused calls dave is %+v, %v; want unchanged", u, err)
		}
		if _, err := f.svc.GetUser(ctx, f.root, "mallory"); !errors.Is(err, service.ErrUserNotFound) {
			t.Errorf("a refused CreateUser created a user: %v", err)
		}

		// A member of an ADMIN group may.
		admin := f.asUser(t, "erin", "admins")
		if _, err := f.svc.CreateUser(ctx, admin, service.UserInput{Login: "frank"}); err != nil {
			t.Errorf("CreateUser by an ADMIN user = %v", err)
		}
	})
}

// TestService_SetUserDisabled: a disabled user cannot sign in, its tokens
// (and their child tokens) and the certificates it issued are revoked,
// certificates binding it grant nothing, a refreshed panel session ends;
// enabling it lets it sign in again but brings back no revoked credential.
func TestService_SetUserDisabled(t *testing.T) {
	eachPKIBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		pw := "correct horse battery staple"
		if _, err := f.svc.CreateUser(ctx, f.root, service.UserInput{Login: "zoe", Password: &pw}); err != nil {
			t.Fatal(err)
		}
		zoeURN := "urn:v1:eu:identity:user:coffer/zoe"
		if _, err := f.svc.CreatePolicy(ctx, f.root, policy.Policy{Name: "zoe", Identities: []string{zoeURN},
			Resources: []string{f.svc.DomainURN(f.domain)}, Allow: []string{"okms:apiovh:credential/create"}}); err != nil {
			t.Fatal(err)
		}
		tok, _, err := f.svc.CreatePAT(ctx, f.root, "zoe", "laptop", "", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.svc.Authenticate(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		zoe := service.Caller{Principal: p, Dialect: service.Central, Surface: "A"}
		issued, _, err := f.svc.CreateCredential(ctx, zoe, f.domain, service.CredentialInput{Name: "zoe-own", IdentityURNs: []string{zoeURN}})
		if err != nil {
			t.Fatal(err)
		}
		bound, _, err := f.svc.CreateCredential(ctx, f.root, f.domain, service.CredentialInput{Name: "for-zoe", IdentityURNs: []string{zoeURN}})
		if err != nil {
			t.Fatal(err)
		}
		signIn := func() error {
			_, err := f.svc.Login(ctx, service.SignIn{Login: "zoe", Password: pw, Surface: "ui", RemoteAddr: "192.0.2.1:1"})
			return err
		}
		if err := signIn(); err != nil {
			t.Fatalf("sign-in before: %v", err)
		}

		// Not herself, not a non-administrator.
		if _, err := f.svc.SetUserDisabled(ctx, zoe, "zoe", true); !errors.Is(err, service.ErrDenied) {
			t.Errorf("a user disabling itself without being ADMIN: %v, want ErrDenied", err)
		}
		u, err := f.svc.SetUserDisabled(ctx, f.root, "zoe", true)
		if err != nil || !u.Disabled {
			t.Fatalf("SetUserDisabled: %+v, %v", u, err)
		}
		if got, err := f.svc.GetUser(ctx, f.root, "zoe"); err != nil || !got.Disabled {
			t.Errorf("GetUser after disabling: %+v, %v", got, err)
		}
		if err := signIn(); !errors.Is(err, service.ErrLoginFailed) {
			t.Errorf("sign-in of a disabled user: %v, want ErrLoginFailed", err)
		}
		if _, err := f.svc.Authenticate(ctx, tok); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("the token of a disabled user: %v, want ErrUnauthenticated", err)
		}
		if _, err := f.svc.RefreshLogin(ctx, "zoe", p.UserID); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("a panel session of a disabled user: %v, want ErrUnauthenticated", err)
		}
		if _, err := f.svc.GetCredential(ctx, f.root, f.domain, issued.ID); !errors.Is(err, service.ErrCredentialNotFound) {
			t.Errorf("the certificate a disabled user issued: %v, want it revoked", err)
		}
		if _, err := f.svc.AuthenticateCertificate(ctx, f.domain, certDER(t, bound)); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("a certificate binding only a disabled user: %v, want ErrUnauthenticated", err)
		}
		if pats, err := f.svc.ListPATs(ctx, f.root, "zoe"); err != nil || len(pats) != 0 {
			t.Errorf("the tokens of a disabled user: %v, %v; want none", pats, err)
		}

		// Enabled again: the password works, the revoked token does not.
		if _, err := f.svc.SetUserDisabled(ctx, f.root, "zoe", false); err != nil {
			t.Fatal(err)
		}
		if err := signIn(); err != nil {
			t.Errorf("sign-in once enabled: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, tok); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("the revoked token after enabling: %v, want ErrUnauthenticated", err)
		}
		if _, err := f.svc.AuthenticateCertificate(ctx, f.domain, certDER(t, bound)); err != nil {
			t.Errorf("the certificate binding zoe once enabled: %v", err)
		}
		if _, err := f.svc.SetUserDisabled(ctx, f.root, "nobody", true); !errors.Is(err, service.ErrUserNotFound) {
			t.Errorf("disabling an unknown user: %v, want ErrUserNotFound", err)
		}
	})
}
