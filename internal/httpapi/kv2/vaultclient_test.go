package kv2_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
)

// TestKVHelpers drives a real coffer server over TCP with the official Go
// client, calling every method of its KVv2 helper, in both addressing
// modes. It follows Vault's own vault/external_tests/api/kv_helpers_test.go
// (vault-kv2.md section 9), with coffer's differences of section 8.
func TestKVHelpers(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			kv := h.client(mode).KVv2("secret")
			ctx := context.Background()
			put := func(t *testing.T, path string, data map[string]any, opts ...vault.KVOption) *vault.KVSecret {
				t.Helper()
				s, err := kv.Put(ctx, path, data, opts...)
				if err != nil {
					t.Fatalf("Put(%s): %v", path, err)
				}
				return s
			}

			t.Run("get data and full metadata", func(t *testing.T) {
				written := put(t, "get/one", map[string]any{"foo": "bar"})
				s, err := kv.Get(ctx, "get/one")
				if err != nil {
					t.Fatal(err)
				}
				if s.Data["foo"] != "bar" || !s.VersionMetadata.CreatedTime.Equal(written.VersionMetadata.CreatedTime) {
					t.Fatalf("Get = %v %+v, want foo=bar created %v", s.Data, s.VersionMetadata, written.VersionMetadata.CreatedTime)
				}
				md, err := kv.GetMetadata(ctx, "get/one")
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(s.CustomMetadata, md.CustomMetadata) || md.CurrentVersion != 1 || len(md.Versions) != 1 {
					t.Fatalf("GetMetadata = %+v", md)
				}
			})

			t.Run("missing secret", func(t *testing.T) {
				put(t, "missing/present", map[string]any{"foo": "bar"})
				if _, err := kv.Get(ctx, "does/not/exist"); !errors.Is(err, vault.ErrSecretNotFound) {
					t.Errorf("Get: %v, want ErrSecretNotFound", err)
				}
				if _, err := kv.GetMetadata(ctx, "does/not/exist"); !errors.Is(err, vault.ErrSecretNotFound) {
					t.Errorf("GetMetadata: %v, want ErrSecretNotFound", err)
				}
				if _, err := kv.GetVersion(ctx, "missing/present", 99); !errors.Is(err, vault.ErrSecretNotFound) {
					t.Errorf("GetVersion(99): %v, want ErrSecretNotFound", err)
				}
			})

			t.Run("multiple versions", func(t *testing.T) {
				put(t, "multi", map[string]any{"foo": "bar"})
				put(t, "multi", map[string]any{"foo": "baz"})
				s, err := kv.Get(ctx, "multi")
				if err != nil || s.Data["foo"] != "baz" || s.VersionMetadata.Version != 2 {
					t.Fatalf("Get = %+v, %v; want foo=baz version 2", s, err)
				}
				s1, err := kv.GetVersion(ctx, "multi", 1)
				if err != nil || s1.Data["foo"] != "bar" || s1.VersionMetadata.Version != 1 {
					t.Fatalf("GetVersion(1) = %+v, %v", s1, err)
				}
			})

			t.Run("delete and undelete", func(t *testing.T) {
				put(t, "del", map[string]any{"foo": "bar"})
				put(t, "del", map[string]any{"foo": "baz"})
				if err := kv.DeleteVersions(ctx, "del", []int{1}); err != nil {
					t.Fatal(err)
				}
				s1, err := kv.GetVersion(ctx, "del", 1)
				if err != nil {
					t.Fatalf("GetVersion of a deleted version must not fail: %v", err)
				}
				if s1.Data != nil || s1.VersionMetadata.DeletionTime.IsZero() {
					t.Fatalf("deleted version: data %v, deletion time %v", s1.Data, s1.VersionMetadata.DeletionTime)
				}
				if err := kv.Undelete(ctx, "del", []int{1}); err != nil {
					t.Fatal(err)
				}
				s1, err = kv.GetVersion(ctx, "del", 1)
				if err != nil || s1.Data["foo"] != "bar" {
					t.Fatalf("undeleted version = %+v, %v", s1, err)
				}
				// Delete (no versions) deactivates the current version.
				if err := kv.Delete(ctx, "del"); err != nil {
					t.Fatal(err)
				}
				cur, err := kv.Get(ctx, "del")
				if err != nil || cur.Data != nil || cur.VersionMetadata.Version != 2 || cur.VersionMetadata.DeletionTime.IsZero() {
					t.Fatalf("Get after Delete = %+v, %v", cur, err)
				}
				if err := kv.DeleteVersions(ctx, "del", nil); err != nil {
					t.Fatalf("DeleteVersions(nil) sends nothing: %v", err)
				}
			})

			t.Run("destroy", func(t *testing.T) {
				put(t, "destroy", map[string]any{"foo": "bar"})
				if err := kv.Destroy(ctx, "destroy", []int{1}); err != nil {
					t.Fatal(err)
				}
				s, err := kv.Get(ctx, "destroy")
				if err != nil || s.Data != nil || !s.VersionMetadata.Destroyed {
					t.Fatalf("Get after Destroy = %+v, %v; want destroyed without error", s, err)
				}
				if err := kv.Undelete(ctx, "destroy", []int{1}); err != nil {
					t.Fatal(err)
				}
				if s, _ := kv.Get(ctx, "destroy"); s == nil || s.Data != nil {
					t.Fatalf("undelete brought a destroyed version back: %+v", s)
				}
				if err := kv.Destroy(ctx, "no/such/secret", []int{1}); err != nil {
					t.Fatalf("Destroy of a missing secret: %v", err)
				}
			})

			t.Run("check-and-set", func(t *testing.T) {
				put(t, "cas", map[string]any{"foo": "bar"})
				_, err := kv.Put(ctx, "cas", map[string]any{"meow": "woof"}, vault.WithCheckAndSet(99))
				if err == nil || !strings.Contains(err.Error(), "check-and-set parameter did not match the current version") {
					t.Fatalf("Put with cas 99: %v", err)
				}
				if _, err := kv.Put(ctx, "cas", map[string]any{"bow": "wow"}, vault.WithOption("cas", 99)); err == nil {
					t.Fatal("Put with WithOption(cas, 99) succeeded")
				}
				if _, err := kv.Put(ctx, "cas/new", map[string]any{"a": "b"}, vault.WithCheckAndSet(0)); err != nil {
					t.Fatalf("Put with cas 0 on a new secret: %v", err)
				}
				if _, err := kv.Put(ctx, "cas/new", map[string]any{"a": "c"}, vault.WithCheckAndSet(0)); err == nil {
					t.Fatal("Put with cas 0 on an existing secret succeeded")
				}
				s := put(t, "cas", map[string]any{"foo": "qux"}, vault.WithCheckAndSet(1))
				if s.VersionMetadata.Version != 2 {
					t.Fatalf("Put with cas 1 gave version %d", s.VersionMetadata.Version)
				}
				if _, err := kv.Patch(ctx, "cas", map[string]any{"x": "y"}, vault.WithCheckAndSet(1)); err == nil ||
					!strings.Contains(err.Error(), "check-and-set parameter did not match the current version") {
					t.Fatalf("Patch with a stale cas: %v", err)
				}
			})

			t.Run("patch", func(t *testing.T) {
				put(t, "patch", map[string]any{"foo": "bar"})
				steps := []struct {
					data    map[string]any
					opts    []vault.KVOption
					version int
				}{
					{map[string]any{"dog": "cat"}, nil, 2},
					{map[string]any{"rat": "mouse"}, []vault.KVOption{vault.WithMergeMethod(vault.KVMergeMethodPatch)}, 3},
					{map[string]any{"bird": "tweet"}, []vault.KVOption{vault.WithMergeMethod(vault.KVMergeMethodReadWrite)}, 4},
				}
				for _, st := range steps {
					s, err := kv.Patch(ctx, "patch", st.data, st.opts...)
					if err != nil || s.VersionMetadata.Version != st.version {
						t.Fatalf("Patch(%v) = %+v, %v; want version %d", st.data, s, err, st.version)
					}
				}
				s, err := kv.Get(ctx, "patch")
				if err != nil {
					t.Fatal(err)
				}
				for k, want := range map[string]any{"foo": "bar", "dog": "cat", "rat": "mouse", "bird": "tweet"} {
					if s.Data[k] != want {
						t.Errorf("after patches %s = %v, want %v", k, s.Data[k], want)
					}
				}
				for _, st := range []struct {
					val  any
					keep bool
				}{{"pug", true}, {nil, false}, {"", true}} {
					if _, err := kv.Patch(ctx, "patch", map[string]any{"dog": st.val}); err != nil {
						t.Fatal(err)
					}
					s, _ := kv.Get(ctx, "patch")
					if v, ok := s.Data["dog"]; ok != st.keep || (ok && v != st.val) {
						t.Errorf("patch dog=%v: got %v (present %t)", st.val, v, ok)
					}
				}
			})

			t.Run("patch a secret that does not exist", func(t *testing.T) {
				for _, opts := range [][]vault.KVOption{
					{}, {vault.WithMergeMethod(vault.KVMergeMethodPatch)}, {vault.WithMergeMethod(vault.KVMergeMethodReadWrite)},
				} {
					_, err := kv.Patch(ctx, "does/not/exist", map[string]any{"no": "nope"}, opts...)
					if !errors.Is(err, vault.ErrSecretNotFound) {
						t.Errorf("Patch %v: %v, want ErrSecretNotFound", opts, err)
					}
				}
			})

			t.Run("rollback", func(t *testing.T) {
				put(t, "rb", map[string]any{"foo": "bar"})
				put(t, "rb", map[string]any{"color": "yellow"})
				vs, err := kv.GetVersionsAsList(ctx, "rb")
				if err != nil || len(vs) != 2 || vs[0].Version != 1 || vs[1].Version != 2 {
					t.Fatalf("GetVersionsAsList = %+v, %v", vs, err)
				}
				rb, err := kv.Rollback(ctx, "rb", 1)
				if err != nil || rb.VersionMetadata.Version != 3 {
					t.Fatalf("Rollback(1) = %+v, %v; want version 3", rb, err)
				}
				if s, _ := kv.Get(ctx, "rb"); s.Data["foo"] != "bar" {
					t.Fatalf("after rollback data = %v", s.Data)
				}
				if err := kv.Destroy(ctx, "rb", []int{1}); err != nil {
					t.Fatal(err)
				}
				if _, err := kv.Rollback(ctx, "rb", 1); err == nil {
					t.Fatal("Rollback to a destroyed version succeeded")
				}
			})

			t.Run("delete all versions", func(t *testing.T) {
				put(t, "all", map[string]any{"foo": "bar"})
				put(t, "all", map[string]any{"color": "yellow"})
				if err := kv.DeleteMetadata(ctx, "all"); err != nil {
					t.Fatal(err)
				}
				if vs, err := kv.GetVersionsAsList(ctx, "all"); err == nil || len(vs) > 0 {
					t.Fatalf("GetVersionsAsList after DeleteMetadata = %v, %v", vs, err)
				}
				if err := kv.DeleteMetadata(ctx, "all"); err != nil {
					t.Fatalf("DeleteMetadata of a missing secret: %v", err)
				}
			})

			t.Run("metadata without data", func(t *testing.T) {
				err := kv.PutMetadata(ctx, "empty", vault.KVMetadataPutInput{
					DeleteVersionAfter: 5 * time.Hour, MaxVersions: 5, CustomMetadata: map[string]any{"ape": "gorilla"},
				})
				if err != nil {
					t.Fatal(err)
				}
				md, err := kv.GetMetadata(ctx, "empty")
				if err != nil || md.CreatedTime.IsZero() || len(md.Versions) != 0 || md.MaxVersions != 5 ||
					md.DeleteVersionAfter != 5*time.Hour || md.CustomMetadata["ape"] != "gorilla" {
					t.Fatalf("GetMetadata = %+v, %v", md, err)
				}
				if _, err := kv.Get(ctx, "empty"); !errors.Is(err, vault.ErrSecretNotFound) {
					t.Fatalf("Get of a secret without versions: %v", err)
				}
			})

			t.Run("put and patch metadata", func(t *testing.T) {
				put(t, "md", map[string]any{"foo": "bar"})
				md, _ := kv.GetMetadata(ctx, "md")
				err := kv.PutMetadata(ctx, "md", vault.KVMetadataPutInput{
					CASRequired: true, DeleteVersionAfter: 6 * time.Hour, MaxVersions: 6,
					CustomMetadata: map[string]any{"foo": "fwah", "cat": "tabby"},
				})
				if err != nil {
					t.Fatal(err)
				}
				md2, _ := kv.GetMetadata(ctx, "md")
				if md.CASRequired == md2.CASRequired || md.MaxVersions == md2.MaxVersions ||
					md.DeleteVersionAfter == md2.DeleteVersionAfter || reflect.DeepEqual(md.CustomMetadata, md2.CustomMetadata) {
					t.Fatalf("PutMetadata changed nothing: %+v", md2)
				}
				seven := 7
				err = kv.PatchMetadata(ctx, "md", vault.KVMetadataPatchInput{
					MaxVersions: &seven, CustomMetadata: map[string]any{"foo": nil, "rat": "brown"},
				})
				if err != nil {
					t.Fatal(err)
				}
				md3, _ := kv.GetMetadata(ctx, "md")
				if md3.CASRequired != md2.CASRequired || md3.DeleteVersionAfter != md2.DeleteVersionAfter || md3.MaxVersions != 7 {
					t.Fatalf("PatchMetadata changed the wrong fields: %+v", md3)
				}
				want := map[string]any{"cat": "tabby", "rat": "brown"}
				if !reflect.DeepEqual(md3.CustomMetadata, want) {
					t.Fatalf("custom metadata = %v, want %v", md3.CustomMetadata, want)
				}
				// The secret now requires CAS: a write without it fails.
				if _, err := kv.Put(ctx, "md", map[string]any{"a": "b"}); err == nil ||
					!strings.Contains(err.Error(), "check-and-set parameter required for this call") {
					t.Fatalf("Put without cas on a cas_required secret: %v", err)
				}
			})

			t.Run("patch metadata with explicit zero values", func(t *testing.T) {
				put(t, "zero", map[string]any{"foo": "bar"})
				if err := kv.PutMetadata(ctx, "zero", vault.KVMetadataPutInput{
					CASRequired: true, MaxVersions: 3, DeleteVersionAfter: time.Hour, CustomMetadata: map[string]any{"k": "v"},
				}); err != nil {
					t.Fatal(err)
				}
				var (
					f bool
					z int
					d time.Duration
				)
				err := kv.PatchMetadata(ctx, "zero", vault.KVMetadataPatchInput{
					CASRequired: &f, MaxVersions: &z, DeleteVersionAfter: &d, CustomMetadata: map[string]any{},
				})
				if err != nil {
					t.Fatal(err)
				}
				md, _ := kv.GetMetadata(ctx, "zero")
				if len(md.CustomMetadata) > 0 || md.MaxVersions != 0 || md.CASRequired || md.DeleteVersionAfter.String() != "0s" {
					t.Fatalf("after zero patch: %+v", md)
				}
			})

			t.Run("list", func(t *testing.T) {
				put(t, "tree/a", map[string]any{"x": "1"})
				put(t, "tree/b/c", map[string]any{"x": "1"})
				put(t, "tree/b", map[string]any{"x": "1"})
				s, err := h.client(mode).Logical().List("secret/metadata/tree")
				if err != nil || s == nil {
					t.Fatalf("List = %v, %v", s, err)
				}
				if got := s.Data["keys"]; !reflect.DeepEqual(got, []any{"a", "b", "b/"}) {
					t.Fatalf("keys = %v, want [a b b/]", got)
				}
				if s, err := h.client(mode).Logical().List("secret/metadata/nothing/here"); err != nil || s != nil {
					t.Fatalf("List of an empty folder = %v, %v; want nil, nil", s, err)
				}
			})
		})
	}
}

// TestKVHelpers_Retention checks pruning by max_versions and expiry by
// delete_version_after through the Go client, with the server's clock
// moved by the test (vault-kv2.md 5.1, 5.3).
func TestKVHelpers_Retention(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			kv := h.client(mode).KVv2("secret")
			ctx := context.Background()

			// 5.1: after 10 versions and max_versions 2, writing v11 leaves
			// {10, 11} and oldest_version 10.
			for i := range 10 {
				if _, err := kv.Put(ctx, "prune", map[string]any{"n": i}); err != nil {
					t.Fatal(err)
				}
			}
			if md, _ := kv.GetMetadata(ctx, "prune"); md.OldestVersion != 0 || len(md.Versions) != 10 {
				t.Fatalf("after 10 writes: oldest %d, %d versions", md.OldestVersion, len(md.Versions))
			}
			two := 2
			if err := kv.PatchMetadata(ctx, "prune", vault.KVMetadataPatchInput{MaxVersions: &two}); err != nil {
				t.Fatal(err)
			}
			if _, err := kv.Put(ctx, "prune", map[string]any{"n": 11}); err != nil {
				t.Fatal(err)
			}
			vs, err := kv.GetVersionsAsList(ctx, "prune")
			if err != nil || len(vs) != 2 || vs[0].Version != 10 || vs[1].Version != 11 {
				t.Fatalf("after pruning: %+v, %v", vs, err)
			}
			if md, _ := kv.GetMetadata(ctx, "prune"); md.OldestVersion != 10 {
				t.Fatalf("oldest_version = %d, want 10", md.OldestVersion)
			}
			if _, err := kv.GetVersion(ctx, "prune", 9); !errors.Is(err, vault.ErrSecretNotFound) {
				t.Fatalf("GetVersion of a pruned version: %v", err)
			}

			// 5.3: a version past its schedule reads as deleted; undelete
			// re-arms the timer from the undelete time.
			hour := time.Hour
			if err := kv.PatchMetadata(ctx, "prune", vault.KVMetadataPatchInput{DeleteVersionAfter: &hour}); err != nil {
				t.Fatal(err)
			}
			s, err := kv.Put(ctx, "prune", map[string]any{"n": 12})
			if err != nil {
				t.Fatal(err)
			}
			if want := h.Clock.Now().Add(time.Hour); !s.VersionMetadata.DeletionTime.Equal(want) {
				t.Fatalf("scheduled deletion_time = %v, want %v", s.VersionMetadata.DeletionTime, want)
			}
			if _, err := kv.Rollback(ctx, "prune", 12); err == nil {
				t.Fatal("Rollback to a version with a scheduled deletion succeeded (the client must refuse it)")
			}
			h.Clock.Advance(2 * time.Hour)
			got, err := kv.Get(ctx, "prune")
			if err != nil || got.Data != nil || got.VersionMetadata.Version != 12 {
				t.Fatalf("expired version: %+v, %v; want no data", got, err)
			}
			if err := kv.Undelete(ctx, "prune", []int{12}); err != nil {
				t.Fatal(err)
			}
			got, err = kv.Get(ctx, "prune")
			if err != nil || got.Data == nil || !got.VersionMetadata.DeletionTime.Equal(h.Clock.Now().Add(time.Hour)) {
				t.Fatalf("after undelete: %+v, %v; want data, deletion in an hour", got, err)
			}
			// Deleting a version that is scheduled replaces the schedule.
			if err := kv.Delete(ctx, "prune"); err != nil {
				t.Fatal(err)
			}
			got, _ = kv.Get(ctx, "prune")
			if got.Data != nil || !got.VersionMetadata.DeletionTime.Equal(h.Clock.Now()) {
				t.Fatalf("after Delete: %+v", got.VersionMetadata)
			}
		})
	}
}

// TestVaultClient_SysAndToken covers the calls around KV that clients make
// first (vault-kv2.md section 6) through the Go client.
func TestVaultClient_SysAndToken(t *testing.T) {
	t.Parallel()
	for _, mode := range modes {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t)
			c := h.client(mode)
			health, err := c.Sys().Health()
			if err != nil || !health.Initialized || health.Sealed || health.Version != "1.21.0" {
				t.Fatalf("Health = %+v, %v", health, err)
			}
			ss, err := c.Sys().SealStatus()
			if err != nil || ss.Sealed || !ss.Initialized || ss.Version != "1.21.0" || ss.Type != "file" {
				t.Fatalf("SealStatus = %+v, %v", ss, err)
			}
			if _, err := c.Sys().Leader(); err != nil {
				t.Fatalf("Leader: %v", err)
			}
			self, err := c.Auth().Token().LookupSelf()
			if err != nil || self.Data["type"] != "service" || self.Data["id"] != rootToken || self.Data["expire_time"] != nil {
				t.Fatalf("LookupSelf = %+v, %v", self, err)
			}

			child, err := c.Auth().Token().Create(&vault.TokenCreateRequest{DisplayName: "terraform", TTL: "1200s", ExplicitMaxTTL: "600s"})
			if err != nil || child.Auth == nil || child.Auth.ClientToken == "" || child.Auth.LeaseDuration != 600 || child.Auth.Renewable {
				t.Fatalf("Token().Create = %+v, %v", child, err)
			}
			cc := h.client(mode)
			cc.SetToken(child.Auth.ClientToken)
			cself, err := cc.Auth().Token().LookupSelf()
			if err != nil || cself.Data["display_name"] != "token-terraform" || cself.Data["expire_time"] == nil {
				t.Fatalf("child LookupSelf = %+v, %v", cself, err)
			}
			if ttl, _ := cself.TokenTTL(); ttl != 600*time.Second {
				t.Fatalf("child ttl = %v, want 10m", ttl)
			}
			if _, err := cc.KVv2("secret").Put(context.Background(), "by/child", map[string]any{"a": "b"}); err != nil {
				t.Fatalf("child token cannot write: %v", err)
			}
			grandchild, err := cc.Auth().Token().Create(&vault.TokenCreateRequest{TTL: "2h"})
			if err != nil || grandchild.Auth.LeaseDuration != 600 {
				t.Fatalf("grandchild = %+v, %v; want the parent's expiry as cap", grandchild, err)
			}
			if _, err := cc.Auth().Token().RenewSelf(0); err == nil || !strings.Contains(err.Error(), "lease is not renewable") {
				t.Fatalf("RenewSelf: %v", err)
			}
			if err := cc.Auth().Token().RevokeSelf(""); err != nil {
				t.Fatal(err)
			}
			gc := h.client(mode)
			gc.SetToken(grandchild.Auth.ClientToken)
			for name, cl := range map[string]*vault.Client{"child": cc, "grandchild": gc} {
				if _, err := cl.Auth().Token().LookupSelf(); err == nil || !strings.Contains(err.Error(), "invalid token") {
					t.Errorf("%s LookupSelf after revoke: %v", name, err)
				}
			}
			if _, err := c.Auth().Token().LookupSelf(); err != nil {
				t.Fatalf("the parent was revoked with its child: %v", err)
			}

			// The child expires with the clock.
			expiring, err := c.Auth().Token().Create(&vault.TokenCreateRequest{TTL: "1m"})
			if err != nil {
				t.Fatal(err)
			}
			ec := h.client(mode)
			ec.SetToken(expiring.Auth.ClientToken)
			h.Clock.Advance(2 * time.Minute)
			if _, err := ec.KVv2("secret").Get(context.Background(), "by/child"); err == nil || !strings.Contains(err.Error(), "invalid token") {
				t.Fatalf("expired child token: %v", err)
			}
		})
	}
}
