package service_test

import (
	"errors"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

func TestService_Config(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		cfg, err := f.svc.GetConfig(ctx, f.root, f.domain)
		if err != nil || cfg != secret.DefaultConfig() {
			t.Fatalf("GetConfig = %+v, %v; want the default", cfg, err)
		}
		yes, five := true, uint32(5)
		m := f.mark()
		got, err := f.svc.UpdateConfig(ctx, f.root, f.domain, secret.ConfigUpdate{CASRequired: &yes, MaxVersions: &five})
		want := cfg
		want.CASRequired, want.MaxVersions = true, 5
		if err != nil || got != want {
			t.Errorf("UpdateConfig = %+v, %v; want %+v", got, err, want)
		}
		f.wantAudited(t, m, "okms:apikms:secretConfig/update", f.svc.DomainURN(f.domain), audit.Allowed)
		if got, err := f.svc.GetConfig(ctx, f.root, f.domain); err != nil || got != want {
			t.Errorf("GetConfig after the update = %+v, %v; want %+v", got, err, want)
		}
		// An empty update changes nothing.
		if got, err := f.svc.UpdateConfig(ctx, f.root, f.domain, secret.ConfigUpdate{}); err != nil || got != want {
			t.Errorf("empty UpdateConfig = %+v, %v; want %+v", got, err, want)
		}

		unknown := "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"
		if _, err := f.svc.GetConfig(ctx, f.root, unknown); !errors.Is(err, service.ErrDomainNotFound) {
			t.Errorf("GetConfig(unknown domain) = %v, want ErrDomainNotFound", err)
		}
		if _, err := f.svc.UpdateConfig(ctx, f.root, unknown, secret.ConfigUpdate{CASRequired: &yes}); !errors.Is(err, service.ErrDomainNotFound) {
			t.Errorf("UpdateConfig(unknown domain) = %v, want ErrDomainNotFound", err)
		}

		// Surface A names the actions in its own namespace; a user
		// without policy is refused either way, and nothing changes.
		bob := f.asUser(t, "bob", "")
		bob.Dialect = service.Central
		f.wantRefused(t, map[string]func() error{
			"okms:apiovh:secretConfig/update": func() error {
				_, err := f.svc.UpdateConfig(ctx, bob, f.domain, secret.ConfigUpdate{MaxVersions: new(uint32)})
				return err
			},
			"okms:apiovh:secretConfig/get": func() error { _, err := f.svc.GetConfig(ctx, bob, f.domain); return err },
		})
		if got, _ := f.svc.GetConfig(ctx, f.root, f.domain); got != want {
			t.Errorf("a refused update changed the configuration: %+v", got)
		}
	})
}
