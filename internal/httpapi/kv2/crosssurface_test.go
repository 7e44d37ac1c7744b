package kv2_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	vault "github.com/hashicorp/vault/api"
)

// surfaceB sends a raw surface-B request (okms-rest.md section 4) for the
// harness's domain: path is what follows /api/{okmsId}/v2/.
func (h *harness) surfaceB(method, path, body string) response {
	h.t.Helper()
	return h.do(method, "/api/"+h.Domain+"/v2/"+path, body, "X-Vault-Token", "", "Authorization", "Bearer "+rootToken)
}

// TestCrossSurface shows that surfaces B and C share one set of objects
// (issue #3, "One set of objects"): what one writes, the other reads at once,
// with the same versions, states, settings and CAS rules.
func TestCrossSurface(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("written on C, read, versioned and deactivated on B", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		kv := h.client("domain").KVv2("secret")
		if _, err := kv.Put(ctx, "cross/c", map[string]any{"user": "alice"}); err != nil {
			t.Fatal(err)
		}
		if err := kv.PatchMetadata(ctx, "cross/c", vault.KVMetadataPatchInput{CustomMetadata: map[string]any{"owner": "jdoe"}}); err != nil {
			t.Fatal(err)
		}
		esc := url.PathEscape("cross/c")
		r := h.surfaceB("GET", "secret/"+esc+"?includeData=true", "")
		expect(t, "B read", r, 200)
		b := r.json(t)
		for path, want := range map[string]any{
			"version.data.user": "alice", "metadata.currentVersion": "1", "version.state": "active",
			"metadata.customMetadata.owner": "jdoe", "path": "cross/c",
		} {
			if got := jsonText(get(b, strings.Split(path, ".")...)); got != want {
				t.Errorf("B %s = %v, want %v", path, got, want)
			}
		}
		// B's CAS rules apply to the version C created.
		expect(t, "B add version, stale cas", h.surfaceB("POST", "secret/"+esc+"/version?cas=0", `{"data":{"user":"bob"}}`), 400)
		expect(t, "B add version", h.surfaceB("POST", "secret/"+esc+"/version?cas=1", `{"data":{"user":"bob"}}`), 200)
		got, err := kv.Get(ctx, "cross/c")
		if err != nil || got.Data["user"] != "bob" || got.VersionMetadata.Version != 2 {
			t.Fatalf("C sees B's version: %+v, %v", got, err)
		}
		h.Clock.Advance(time.Second)
		expect(t, "B deactivate v2", h.surfaceB("PUT", "secret/"+esc+"/version/2", `{"state":"deactivated"}`), 200)
		got, err = kv.Get(ctx, "cross/c")
		if err != nil || got.Data != nil || !got.VersionMetadata.DeletionTime.Equal(h.Clock.Now()) {
			t.Fatalf("C after B's deactivation: %+v, %v", got, err)
		}
		if err := kv.Undelete(ctx, "cross/c", []int{2}); err != nil {
			t.Fatal(err)
		}
		r = h.surfaceB("GET", "secret/"+esc+"/version/2", "")
		if st := jsonText(get(r.json(t), "state")); st != "active" {
			t.Fatalf("B sees C's undelete: state %v", st)
		}
		if err := kv.Destroy(ctx, "cross/c", []int{1}); err != nil {
			t.Fatal(err)
		}
		r = h.surfaceB("GET", "secret/"+esc+"/version/1?includeData=true", "")
		if st, data := jsonText(get(r.json(t), "state")), get(r.json(t), "data"); st != "deleted" || data != nil {
			t.Fatalf("B sees C's destroy: state %v data %v", st, data)
		}
		// A deleted version is final on both surfaces.
		expect(t, "B reactivate a destroyed version", h.surfaceB("PUT", "secret/"+esc+"/version/1", `{"state":"active"}`), 400)
	})

	t.Run("written on B, read, versioned and deactivated on C", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		kv := h.client("domain").KVv2("secret")
		expect(t, "B create", h.surfaceB("POST", "secret",
			`{"path":"cross/b","version":{"data":{"k":"v1"}},"metadata":{"maxVersions":2,"deactivateVersionAfter":"1d","customMetadata":{"team":"ops"}}}`), 200)
		got, err := kv.Get(ctx, "cross/b")
		if err != nil || got.Data["k"] != "v1" || got.CustomMetadata["team"] != "ops" ||
			!got.VersionMetadata.DeletionTime.Equal(h.Clock.Now().Add(24*time.Hour)) {
			t.Fatalf("C reads B's secret: %+v, %v", got, err)
		}
		md, err := kv.GetMetadata(ctx, "cross/b")
		if err != nil || md.MaxVersions != 2 || md.DeleteVersionAfter != 24*time.Hour {
			t.Fatalf("C reads B's settings: %+v, %v", md, err)
		}
		for i, v := range []string{"v2", "v3"} {
			if _, err := kv.Put(ctx, "cross/b", map[string]any{"k": v}, vault.WithCheckAndSet(i+1)); err != nil {
				t.Fatal(err)
			}
		}
		// B's maxVersions 2 pruned version 1 on C's write.
		r := h.surfaceB("GET", "secret/"+url.PathEscape("cross/b"), "")
		if ov := jsonText(get(r.json(t), "metadata", "oldestVersion")); ov != "2" {
			t.Fatalf("B oldestVersion = %v, want 2", ov)
		}
		expect(t, "B version 1 pruned", h.surfaceB("GET", "secret/"+url.PathEscape("cross/b")+"/version/1", ""), 404)
		if err := kv.Delete(ctx, "cross/b"); err != nil {
			t.Fatal(err)
		}
		r = h.surfaceB("GET", "secret/cross/b/version/3", "")
		if st := jsonText(get(r.json(t), "state")); st != "deactivated" || get(r.json(t), "deactivatedAt") == nil {
			t.Fatalf("B sees C's delete: %s", r.body)
		}
		// The domain configuration is one object too (okms-rest.md 2.5).
		r = h.do("PUT", "/api/"+h.Domain+"/v1/secret/config", `{"delete_version_after":"1d","max_versions":24}`)
		expect(t, "C config", r, 204)
		r = h.surfaceB("GET", "secretConfig", "")
		if d, m := jsonText(get(r.json(t), "deactivateVersionAfter")), jsonText(get(r.json(t), "maxVersions")); d != "1d" || m != "24" {
			t.Fatalf("B reads C's config: %s", r.body)
		}
		if err := kv.DeleteMetadata(ctx, "cross/b"); err != nil {
			t.Fatal(err)
		}
		expect(t, "B after C's metadata delete", h.surfaceB("GET", "secret/cross%2Fb", ""), 404)
		if _, err := kv.Get(ctx, "cross/b"); !errors.Is(err, vault.ErrSecretNotFound) {
			t.Fatalf("C after delete: %v", err)
		}
	})

	t.Run("default and named roots are the same domain", func(t *testing.T) {
		t.Parallel()
		h := newHarness(t)
		if _, err := h.client("default").KVv2("secret").Put(ctx, "same", map[string]any{"a": "b"}); err != nil {
			t.Fatal(err)
		}
		got, err := h.client("domain").KVv2("secret").Get(ctx, "same")
		if err != nil || got.Data["a"] != "b" {
			t.Fatalf("named root reads the default root's write: %+v, %v", got, err)
		}
		other := "/api/00000000-0000-4000-8000-000000000000/v1/secret/data/same"
		r := h.do("GET", other, "")
		expect(t, "unknown domain", r, 404)
		if e := r.errors(t); len(e) != 1 || e[0] != "OKMS domain not found" {
			t.Fatalf("unknown domain errors %q", e)
		}
		expect(t, "malformed domain id", h.do("GET", "/api/not-a-uuid/v1/secret/data/same", ""), 404)
		expect(t, "preflight of an unknown domain", h.do("GET", "/api/00000000-0000-4000-8000-000000000000/v1/sys/internal/ui/mounts/secret", ""), 403)
	})
}

// jsonText renders a decoded scalar as text (numbers by their literal).
func jsonText(v any) any {
	if n, ok := v.(interface{ String() string }); ok {
		return n.String()
	}
	return v
}
