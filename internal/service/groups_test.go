package service_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

func TestService_Groups(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		opsURN := "urn:v1:eu:identity:group:coffer/ops"

		m := f.mark()
		ops, err := f.svc.CreateGroup(ctx, f.root, service.GroupInput{Name: "ops", Description: str("Operations")})
		want := service.Group{Name: "ops", Description: "Operations", Role: service.RoleNone, URN: opsURN,
			CreatedAt: f.clock.Now(), UpdatedAt: f.clock.Now()}
		if err != nil || ops != want {
			t.Fatalf("CreateGroup = %+v, %v; want %+v (role NONE by default)", ops, err, want)
		}
		f.wantAudited(t, m, "coffer:iam/group/create", opsURN, audit.Allowed)
		if _, err := f.svc.CreateGroup(ctx, f.root, service.GroupInput{Name: "ops"}); !errors.Is(err, service.ErrIdentityExists) {
			t.Errorf("CreateGroup(ops) again = %v, want ErrIdentityExists", err)
		}
		if _, err := f.svc.CreateGroup(ctx, f.root, service.GroupInput{Name: "dev", Role: str(service.RoleRegular)}); err != nil {
			t.Fatal(err)
		}
		if got, err := f.svc.GetGroup(ctx, f.root, "ops"); err != nil || got != want {
			t.Errorf("GetGroup(ops) = %+v, %v; want %+v", got, err, want)
		}
		if _, err := f.svc.GetGroup(ctx, f.root, "nobody"); !errors.Is(err, service.ErrGroupNotFound) {
			t.Errorf("GetGroup(nobody) = %v, want ErrGroupNotFound", err)
		}
		groups, err := f.svc.ListGroups(ctx, f.root)
		if err != nil || len(groups) != 2 || groups[0].Name != "dev" || groups[0].Role != service.RoleRegular || groups[1].Name != "ops" {
			t.Errorf("ListGroups = %+v, %v; want dev (REGULAR) and ops", groups, err)
		}

		f.clock.Advance(time.Minute)
		got, err := f.svc.UpdateGroup(ctx, f.root, service.GroupInput{Name: "ops", Role: str(service.RoleAdmin)})
		want.Role, want.UpdatedAt = service.RoleAdmin, f.clock.Now()
		if err != nil || got != want {
			t.Errorf("UpdateGroup = %+v, %v; want %+v (description kept)", got, err, want)
		}
		if _, err := f.svc.UpdateGroup(ctx, f.root, service.GroupInput{Name: "nobody", Role: str(service.RoleAdmin)}); !errors.Is(err, service.ErrGroupNotFound) {
			t.Errorf("UpdateGroup(nobody) = %v, want ErrGroupNotFound", err)
		}

		// A group with members cannot go; an empty one can.
		if _, err := f.svc.CreateUser(ctx, f.root, service.UserInput{Login: "alice", Group: str("ops")}); err != nil {
			t.Fatal(err)
		}
		m = f.mark()
		if err := f.svc.DeleteGroup(ctx, f.root, "ops"); !errors.Is(err, service.ErrGroupInUse) {
			t.Errorf("DeleteGroup of a group with a member = %v, want ErrGroupInUse", err)
		}
		f.wantAudited(t, m, "coffer:iam/group/delete", opsURN, audit.Failed)
		if _, err := f.svc.UpdateUser(ctx, f.root, service.UserInput{Login: "alice", Group: str("")}); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.DeleteGroup(ctx, f.root, "ops"); err != nil {
			t.Fatalf("DeleteGroup of an empty group: %v", err)
		}
		if _, err := f.svc.GetGroup(ctx, f.root, "ops"); !errors.Is(err, service.ErrGroupNotFound) {
			t.Errorf("GetGroup after delete = %v, want ErrGroupNotFound", err)
		}
		if err := f.svc.DeleteGroup(ctx, f.root, "ops"); !errors.Is(err, service.ErrGroupNotFound) {
			t.Errorf("DeleteGroup again = %v, want ErrGroupNotFound", err)
		}
	})
}

func TestService_GroupValidation(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		tests := []struct {
			name  string
			in    service.GroupInput
			field string
		}{
			{"empty name", service.GroupInput{}, "name"},
			{"name with a space", service.GroupInput{Name: "a b"}, "name"},
			{"unknown role", service.GroupInput{Name: "g", Role: str("OWNER")}, "role"},
			{"lower-case role", service.GroupInput{Name: "g", Role: str("admin")}, "role"},
			{"long description", service.GroupInput{Name: "g", Description: str(strings.Repeat("x", 1025))}, "description"},
		}
		for _, tc := range tests {
			if _, err := f.svc.CreateGroup(ctx, f.root, tc.in); !isInvalid(err, tc.field) {
				t.Errorf("%s: CreateGroup = %v, want an invalid %s", tc.name, err, tc.field)
			}
		}
		if groups, err := f.svc.ListGroups(ctx, f.root); err != nil || len(groups) != 0 {
			t.Errorf("invalid inputs created groups: %+v, %v", groups, err)
		}
	})
}

// TestService_GroupRoles checks that a group's role makes its members
// administrators or not, at once, and that only administrators manage
// groups.
func TestService_GroupRoles(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		if _, err := f.svc.CreateGroup(ctx, f.root, service.GroupInput{Name: "team", Role: str(service.RoleRegular)}); err != nil {
			t.Fatal(err)
		}
		member := f.asUser(t, "alice", "team")
		if member.Principal.Admin || f.svc.CanAdminister(member) {
			t.Fatalf("a REGULAR member is an administrator: %+v", member.Principal)
		}
		f.wantRefused(t, map[string]func() error{
			"coffer:iam/group/create": func() error { _, err := f.svc.CreateGroup(ctx, member, service.GroupInput{Name: "x"}); return err },
			"coffer:iam/group/get":    func() error { _, err := f.svc.GetGroup(ctx, member, "team"); return err },
			"coffer:iam/group/list":   func() error { _, err := f.svc.ListGroups(ctx, member); return err },
			"coffer:iam/group/update": func() error {
				_, err := f.svc.UpdateGroup(ctx, member, service.GroupInput{Name: "team", Role: str(service.RoleAdmin)})
				return err
			},
			"coffer:iam/group/delete": func() error { return f.svc.DeleteGroup(ctx, member, "team") },
		})
		if _, err := f.svc.UpdateGroup(ctx, f.root, service.GroupInput{Name: "team", Role: str(service.RoleAdmin)}); err != nil {
			t.Fatal(err)
		}
		tok, _, err := f.svc.CreatePAT(ctx, f.root, "alice", "second", "", time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		p, err := f.svc.Authenticate(ctx, tok)
		if err != nil || !p.Admin || len(p.Identities) != 2 || p.Identities[1] != "urn:v1:eu:identity:group:coffer/team" {
			t.Fatalf("member of an ADMIN group = %+v, %v; want an administrator with the group's URN", p, err)
		}
		admin := service.Caller{Principal: p, Surface: "B"}
		if _, err := f.svc.CreateGroup(ctx, admin, service.GroupInput{Name: "x"}); err != nil {
			t.Errorf("CreateGroup by an ADMIN user = %v", err)
		}
	})
}
