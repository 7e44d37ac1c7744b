package service_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

func TestService_PatchVersion(t *testing.T) {
	t.Parallel()
	eachVT(t, func(t *testing.T, e *vtEnv) {
		p := secret.MustParsePath("patch/me")
		patch := []byte(`{"b":2,"a":null}`)

		// vault-kv2.md 4.4: the order of the checks.
		if _, _, err := e.svc.PatchVersion(e.ctx, e.root, e.domain, p, patch, nil); !errors.Is(err, secret.ErrNotFound) {
			t.Fatalf("missing secret: %v", err)
		}
		cas := true
		if _, err := e.svc.WriteMetadata(e.ctx, e.root, e.domain, p, secret.MetadataUpdate{CASRequired: &cas}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.PatchVersion(e.ctx, e.root, e.domain, p, patch, nil); !errors.Is(err, secret.ErrCASRequired) {
			t.Fatalf("cas required before the version check: %v", err)
		}
		if _, _, err := e.svc.PatchVersion(e.ctx, e.root, e.domain, p, patch, vtCAS(0)); !errors.Is(err, secret.ErrVersionNotFound) {
			t.Fatalf("no version: %v", err)
		}
		d, _ := secret.ParseData([]byte(`{"a":1,"c":{"x":1}}`))
		if _, _, err := e.svc.PutVersion(e.ctx, e.root, e.domain, p, d, service.PutOptions{CAS: vtCAS(0)}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.svc.PatchVersion(e.ctx, e.root, e.domain, p, patch, vtCAS(0)); !errors.Is(err, secret.ErrCASMismatch) {
			t.Fatalf("stale cas: %v", err)
		}
		v, s, err := e.svc.PatchVersion(e.ctx, e.root, e.domain, p, patch, vtCAS(1))
		if err != nil || v.ID != 2 || s.CurrentVersion != 2 {
			t.Fatalf("PatchVersion = %+v, %v", v, err)
		}
		if ev := e.audit.last(); ev.Action != "okms:apikms:secret/version/create" || ev.Phase != audit.PhaseResponse {
			t.Fatalf("audit %+v", ev)
		}
		if got := string(e.view(t, "patch/me", 0).Data.JSON()); got != `{"b":2,"c":{"x":1}}` {
			t.Fatalf("merged data %s", got)
		}

		// An invalid result changes nothing.
		big := []byte(`{"blob":"` + strings.Repeat("x", secret.MaxDataSize) + `"}`)
		if _, _, err := e.svc.PatchVersion(e.ctx, e.root, e.domain, p, big, vtCAS(2)); err == nil {
			t.Fatal("a patch whose result exceeds 64 KiB was stored")
		}
		if _, _, err := e.svc.PatchVersion(e.ctx, e.root, e.domain, p, []byte(`{"a":1,"a":2}`), vtCAS(2)); err == nil {
			t.Fatal("a patch with duplicate members was accepted")
		}
		if cur := e.view(t, "patch/me", 0); cur.Secret.CurrentVersion != 2 {
			t.Fatalf("failed patches created version %d", cur.Secret.CurrentVersion)
		}

		// An inactive current version is returned with ErrVersionInactive.
		if err := e.svc.DeleteCurrentVersion(e.ctx, e.root, e.domain, p); err != nil {
			t.Fatal(err)
		}
		v, s, err = e.svc.PatchVersion(e.ctx, e.root, e.domain, p, patch, vtCAS(2))
		if !errors.Is(err, secret.ErrVersionInactive) || v.ID != 2 || v.State != secret.Deactivated || s == nil {
			t.Fatalf("inactive current version: %+v, %v", v, err)
		}

		// Authorization comes before existence.
		if _, _, err := e.svc.PatchVersion(e.ctx, e.other, "no-such-domain", p, patch, nil); !errors.Is(err, service.ErrDenied) {
			t.Fatalf("denied caller: %v", err)
		}
	})
}

func TestService_PatchVersionPrunes(t *testing.T) {
	t.Parallel()
	eachVT(t, func(t *testing.T, e *vtEnv) {
		p := secret.MustParsePath("prune")
		two := uint32(2)
		if _, err := e.svc.WriteMetadata(e.ctx, e.root, e.domain, p, secret.MetadataUpdate{MaxVersions: &two}); err != nil {
			t.Fatal(err)
		}
		e.put(t, "prune", `{"n":1}`)
		for range 2 {
			if _, _, err := e.svc.PatchVersion(e.ctx, e.root, e.domain, p, []byte(`{"m":1}`), nil); err != nil {
				t.Fatal(err)
			}
		}
		s := e.view(t, "prune", 0).Secret
		if s.OldestVersion != 2 || len(s.Versions) != 2 || s.CurrentVersion != 3 {
			t.Fatalf("after pruning: oldest %d, %d versions, current %d", s.OldestVersion, len(s.Versions), s.CurrentVersion)
		}
	})
}

func TestService_SetVersionStates(t *testing.T) {
	t.Parallel()
	eachVT(t, func(t *testing.T, e *vtEnv) {
		p := secret.MustParsePath("states")
		for i := range 3 {
			e.put(t, "states", `{"n":`+string(rune('1'+i))+`}`)
		}
		tests := []struct {
			name  string
			ids   []int64
			to    secret.State
			check func(t *testing.T)
		}{
			{"delete skips unknown and out-of-range ids", []int64{0, -1, 1, 99, 24001}, secret.Deactivated, func(t *testing.T) {
				if v := e.view(t, "states", 1); v.Version.State != secret.Deactivated || !v.Version.DeactivatedAt.Equal(e.clock.Now()) || v.Data != nil {
					t.Fatalf("version 1: %+v", v.Version)
				}
			}},
			{"delete again keeps the first deactivation time", []int64{1}, secret.Deactivated, func(t *testing.T) {
				if v := e.view(t, "states", 1); !v.Version.DeactivatedAt.Equal(e.clock.Now().Add(-time.Minute)) {
					t.Fatalf("version 1 deactivated at %v", v.Version.DeactivatedAt)
				}
			}},
			{"destroy deletes the data for good", []int64{2, 2}, secret.Deleted, func(t *testing.T) {
				if v := e.view(t, "states", 2); v.Version.State != secret.Deleted || v.Data != nil {
					t.Fatalf("version 2: %+v", v.Version)
				}
			}},
			{"undelete skips a destroyed version and reactivates the others", []int64{1, 2, 3}, secret.Active, func(t *testing.T) {
				if v := e.view(t, "states", 1); v.Version.State != secret.Active || v.Data == nil {
					t.Fatalf("version 1: %+v", v.Version)
				}
				if v := e.view(t, "states", 2); v.Version.State != secret.Deleted {
					t.Fatalf("version 2 came back: %+v", v.Version)
				}
			}},
			{"delete skips a destroyed version", []int64{2}, secret.Deactivated, func(t *testing.T) {
				if v := e.view(t, "states", 2); v.Version.State != secret.Deleted {
					t.Fatalf("version 2: %+v", v.Version)
				}
			}},
		}
		for _, tc := range tests {
			if err := e.svc.SetVersionStates(e.ctx, e.root, e.domain, p, tc.ids, tc.to); err != nil {
				t.Fatalf("%s: %v", tc.name, err)
			}
			t.Run(tc.name, tc.check)
			e.clock.Advance(time.Minute)
		}
		if err := e.svc.SetVersionStates(e.ctx, e.root, e.domain, secret.MustParsePath("missing"), []int64{1}, secret.Deleted); err != nil {
			t.Fatalf("missing secret: %v", err)
		}
		if err := e.svc.SetVersionStates(e.ctx, e.root, "nope", p, []int64{1}, secret.Deleted); !errors.Is(err, service.ErrDomainNotFound) {
			t.Fatalf("missing domain: %v", err)
		}
		actions := map[secret.State]string{secret.Deactivated: "deactivate", secret.Active: "activate", secret.Deleted: "delete"}
		for to, act := range actions {
			_ = e.svc.SetVersionStates(e.ctx, e.root, e.domain, p, []int64{3}, to)
			if ev := e.audit.last(); ev.Action != "okms:apikms:secret/version/"+act {
				t.Errorf("state %v audited as %q", to, ev.Action)
			}
		}
	})
}

func TestService_UndeleteRearms(t *testing.T) {
	t.Parallel()
	eachVT(t, func(t *testing.T, e *vtEnv) {
		p := secret.MustParsePath("rearm")
		hour := secret.DurationFromStored(3600, "1h")
		if _, err := e.svc.WriteMetadata(e.ctx, e.root, e.domain, p, secret.MetadataUpdate{DeactivateAfter: &hour}); err != nil {
			t.Fatal(err)
		}
		e.put(t, "rearm", `{}`)
		e.clock.Advance(30 * time.Minute)
		// vault-kv2.md 4.6: undelete restarts the timer even on an active version.
		if err := e.svc.SetVersionStates(e.ctx, e.root, e.domain, p, []int64{1}, secret.Active); err != nil {
			t.Fatal(err)
		}
		if v := e.view(t, "rearm", 1); !v.Version.DeactivateAt.Equal(e.clock.Now().Add(time.Hour)) {
			t.Fatalf("schedule %v, want an hour from the undelete", v.Version.DeactivateAt)
		}
	})
}

func TestService_DeleteCurrentVersion(t *testing.T) {
	t.Parallel()
	eachVT(t, func(t *testing.T, e *vtEnv) {
		p := secret.MustParsePath("current")
		if err := e.svc.DeleteCurrentVersion(e.ctx, e.root, e.domain, p); err != nil {
			t.Fatalf("missing secret: %v", err)
		}
		if _, err := e.svc.WriteMetadata(e.ctx, e.root, e.domain, p, secret.MetadataUpdate{MaxVersions: new(uint32)}); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteCurrentVersion(e.ctx, e.root, e.domain, p); err != nil {
			t.Fatalf("no version: %v", err)
		}
		e.put(t, "current", `{}`)
		e.put(t, "current", `{}`)
		if err := e.svc.DeleteCurrentVersion(e.ctx, e.root, e.domain, p); err != nil {
			t.Fatal(err)
		}
		first := e.clock.Now()
		e.clock.Advance(time.Minute)
		if err := e.svc.DeleteCurrentVersion(e.ctx, e.root, e.domain, p); err != nil {
			t.Fatal(err)
		}
		if ev := e.audit.last(); ev.Action != "okms:apikms:secret/version/deactivate" {
			t.Fatalf("audited as %q", ev.Action)
		}
		if v := e.view(t, "current", 0); v.Version.ID != 2 || !v.Version.DeactivatedAt.Equal(first) {
			t.Fatalf("current version %+v, want v2 deactivated at %v", v.Version, first)
		}
		if v := e.view(t, "current", 1); v.Version.State != secret.Active {
			t.Fatalf("version 1 changed: %+v", v.Version)
		}
	})
}

func TestService_GetSubkeys(t *testing.T) {
	t.Parallel()
	eachVT(t, func(t *testing.T, e *vtEnv) {
		p := secret.MustParsePath("sub")
		if _, err := e.svc.GetSubkeys(e.ctx, e.root, e.domain, p, 0, 0); !errors.Is(err, secret.ErrNotFound) {
			t.Fatalf("missing secret: %v", err)
		}
		e.put(t, "sub", `{"a":{"b":{"c":1}},"d":2}`)
		v, err := e.svc.GetSubkeys(e.ctx, e.root, e.domain, p, 0, 2)
		if err != nil || v.Version.ID != 1 || v.Subkeys["d"] != nil || v.Subkeys["a"].(map[string]any)["b"] != nil {
			t.Fatalf("GetSubkeys depth 2 = %+v, %v", v, err)
		}
		if _, err := e.svc.GetSubkeys(e.ctx, e.root, e.domain, p, 2, 0); !errors.Is(err, secret.ErrVersionNotFound) {
			t.Fatalf("missing version: %v", err)
		}
		if err := e.svc.SetVersionStates(e.ctx, e.root, e.domain, p, []int64{1}, secret.Deleted); err != nil {
			t.Fatal(err)
		}
		if v, err := e.svc.GetSubkeys(e.ctx, e.root, e.domain, p, 0, 0); err != nil || v.Subkeys != nil || v.Version.State != secret.Deleted {
			t.Fatalf("deleted version = %+v, %v", v, err)
		}
		if ev := e.audit.last(); ev.Action != "okms:apikms:secret/subKeys/get" {
			t.Fatalf("audited as %q", ev.Action)
		}
	})
}
