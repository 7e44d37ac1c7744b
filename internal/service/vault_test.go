package service_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

// vtClock, vtAudit and vtEnv are this file's own helpers, so that it does
// not depend on those of the other test files of the package.
type vtClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *vtClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *vtClock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type vtAudit struct {
	mu     sync.Mutex
	events []audit.Event
}

func (a *vtAudit) Record(_ context.Context, e audit.Event) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.events = append(a.events, e)
	return nil
}

func (a *vtAudit) last() audit.Event {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.events[len(a.events)-1]
}

type vtEnv struct {
	svc    *service.Service
	clock  *vtClock
	audit  *vtAudit
	root   service.Caller
	other  service.Caller // authenticated, not the root: IAM denies everything for now
	domain string
	ctx    context.Context
}

const vtRootToken = "cof_root_vault-test"

func newVT(t *testing.T) *vtEnv {
	t.Helper()
	e := &vtEnv{clock: &vtClock{t: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)}, audit: &vtAudit{}, ctx: context.Background()}
	store := memstore.New()
	t.Cleanup(func() { store.Close() })
	e.svc = service.New(service.Options{Store: store, Audit: e.audit, Now: e.clock.now})
	res, err := e.svc.Init(e.ctx, service.InitOptions{RootToken: vtRootToken})
	if err != nil {
		t.Fatal(err)
	}
	e.domain = res.DefaultDomain
	p, err := e.svc.Authenticate(e.ctx, vtRootToken)
	if err != nil {
		t.Fatal(err)
	}
	e.root = service.Caller{Principal: p, Dialect: service.KMS, Surface: "C"}
	e.other = service.Caller{Principal: auth.Principal{Identities: []string{"urn:v1:eu:identity:user:coffer/bob"}, Name: "bob"},
		Dialect: service.KMS, Surface: "C"}
	return e
}

func (e *vtEnv) put(t *testing.T, path, data string) secret.Version {
	t.Helper()
	d, err := secret.ParseData([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	v, _, err := e.svc.PutVersion(e.ctx, e.root, e.domain, secret.MustParsePath(path), d, service.PutOptions{CreateIfMissing: true})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (e *vtEnv) view(t *testing.T, path string, version uint32) service.SecretView {
	t.Helper()
	v, err := e.svc.GetSecret(e.ctx, e.root, e.domain, secret.MustParsePath(path), service.GetOptions{Version: version, IncludeData: true})
	if err != nil {
		t.Fatalf("GetSecret(%s, %d): %v", path, version, err)
	}
	return v
}

func vtCAS(n uint32) *uint32 { return &n }

func TestService_PatchVersion(t *testing.T) {
	t.Parallel()
	e := newVT(t)
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
}

func TestService_PatchVersionPrunes(t *testing.T) {
	t.Parallel()
	e := newVT(t)
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
}

func TestService_SetVersionStates(t *testing.T) {
	t.Parallel()
	e := newVT(t)
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
			if v := e.view(t, "states", 1); v.Version.State != secret.Deactivated || !v.Version.DeactivatedAt.Equal(e.clock.now()) || v.Data != nil {
				t.Fatalf("version 1: %+v", v.Version)
			}
		}},
		{"delete again keeps the first deactivation time", []int64{1}, secret.Deactivated, func(t *testing.T) {
			if v := e.view(t, "states", 1); !v.Version.DeactivatedAt.Equal(e.clock.now().Add(-time.Minute)) {
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
		e.clock.advance(time.Minute)
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
}

func TestService_UndeleteRearms(t *testing.T) {
	t.Parallel()
	e := newVT(t)
	p := secret.MustParsePath("rearm")
	hour := secret.DurationFromStored(3600, "1h")
	if _, err := e.svc.WriteMetadata(e.ctx, e.root, e.domain, p, secret.MetadataUpdate{DeactivateAfter: &hour}); err != nil {
		t.Fatal(err)
	}
	e.put(t, "rearm", `{}`)
	e.clock.advance(30 * time.Minute)
	// vault-kv2.md 4.6: undelete restarts the timer even on an active version.
	if err := e.svc.SetVersionStates(e.ctx, e.root, e.domain, p, []int64{1}, secret.Active); err != nil {
		t.Fatal(err)
	}
	if v := e.view(t, "rearm", 1); !v.Version.DeactivateAt.Equal(e.clock.now().Add(time.Hour)) {
		t.Fatalf("schedule %v, want an hour from the undelete", v.Version.DeactivateAt)
	}
}

func TestService_DeleteCurrentVersion(t *testing.T) {
	t.Parallel()
	e := newVT(t)
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
	first := e.clock.now()
	e.clock.advance(time.Minute)
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
}

func TestService_WriteAndPatchMetadata(t *testing.T) {
	t.Parallel()
	e := newVT(t)
	p := secret.MustParsePath("meta")
	// An empty update on a missing secret creates nothing (Vault's quirk).
	res, err := e.svc.WriteMetadata(e.ctx, e.root, e.domain, p, secret.MetadataUpdate{})
	if err != nil || res.Secret != nil {
		t.Fatalf("empty write = %+v, %v", res, err)
	}
	if _, err := e.svc.GetSecret(e.ctx, e.root, e.domain, p, service.GetOptions{}); !errors.Is(err, secret.ErrNotFound) {
		t.Fatalf("empty write created the secret: %v", err)
	}
	five := uint32(5)
	cm := map[string]string{"a": "1", "b": "2"}
	res, err = e.svc.WriteMetadata(e.ctx, e.root, e.domain, p, secret.MetadataUpdate{MaxVersions: &five, CustomMetadata: &cm})
	if err != nil || res.Secret.CurrentVersion != 0 || len(res.Secret.Versions) != 0 || res.Config.MaxVersions != 10 {
		t.Fatalf("creating write = %+v, %v", res, err)
	}
	e.clock.advance(time.Second)
	yes := true
	res, err = e.svc.WriteMetadata(e.ctx, e.root, e.domain, p, secret.MetadataUpdate{CASRequired: &yes})
	if err != nil || res.Secret.Settings.MaxVersions != 5 || !res.Secret.Settings.CASRequired || len(res.Secret.CustomMetadata) != 2 ||
		!res.Secret.UpdatedAt.Equal(e.clock.now()) {
		t.Fatalf("merging write = %+v, %v", res.Secret, err)
	}
	c := "3"
	res, err = e.svc.PatchMetadata(e.ctx, e.root, e.domain, p, secret.MetadataUpdate{CustomMetadataPatch: map[string]*string{"a": nil, "c": &c}})
	if err != nil || len(res.Secret.CustomMetadata) != 2 || res.Secret.CustomMetadata["c"] != "3" || res.Secret.CustomMetadata["b"] != "2" {
		t.Fatalf("patch = %+v, %v", res.Secret, err)
	}
	bad := map[string]string{"k": "a b"}
	if _, err := e.svc.WriteMetadata(e.ctx, e.root, e.domain, p, secret.MetadataUpdate{CustomMetadata: &bad}); err == nil {
		t.Fatal("invalid custom metadata was stored")
	}
	if _, err := e.svc.PatchMetadata(e.ctx, e.root, e.domain, secret.MustParsePath("nope"), secret.MetadataUpdate{MaxVersions: &five}); !errors.Is(err, secret.ErrNotFound) {
		t.Fatalf("patch of a missing secret: %v", err)
	}
	if _, err := e.svc.WriteMetadata(e.ctx, e.other, e.domain, secret.MustParsePath("new"), secret.MetadataUpdate{MaxVersions: &five}); !errors.Is(err, service.ErrDenied) {
		t.Fatalf("denied caller: %v", err)
	}
	if ev := e.audit.last(); ev.Action != "okms:apikms:secret/updateMetadata" || ev.Outcome != audit.Denied {
		t.Fatalf("denial audited as %+v", ev)
	}
}

func TestService_GetSubkeys(t *testing.T) {
	t.Parallel()
	e := newVT(t)
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
}

func TestService_CheckDomain(t *testing.T) {
	t.Parallel()
	e := newVT(t)
	if err := e.svc.CheckDomain(e.ctx, e.root, e.domain); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.CheckDomain(e.ctx, e.root, "6a0f3c1e-0000-4000-8000-000000000000"); !errors.Is(err, service.ErrDomainNotFound) {
		t.Fatalf("unknown domain: %v", err)
	}
}

func TestService_ChildTokens(t *testing.T) {
	t.Parallel()
	e := newVT(t)
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
	e.clock.advance(time.Minute)
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
}
