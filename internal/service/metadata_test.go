package service_test

import (
	"errors"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

func TestService_WriteAndPatchMetadata(t *testing.T) {
	t.Parallel()
	eachVT(t, func(t *testing.T, e *vtEnv) {
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
		e.clock.Advance(time.Second)
		yes := true
		res, err = e.svc.WriteMetadata(e.ctx, e.root, e.domain, p, secret.MetadataUpdate{CASRequired: &yes})
		if err != nil || res.Secret.Settings.MaxVersions != 5 || !res.Secret.Settings.CASRequired || len(res.Secret.CustomMetadata) != 2 ||
			!res.Secret.UpdatedAt.Equal(e.clock.Now()) {
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
	})
}
