package kv2_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/google/uuid"
	okms "github.com/ovh/okms-sdk-go"
	"github.com/ovh/okms-sdk-go/types"
)

// okmsCLI is OVHcloud's okms CLI as its `kv` (alias of `vault`) commands
// call the okms SDK (okms-cli cmd/okms/secrets/*.go, SDK v0.5.4): the same
// calls with the same arguments, through the SDK's retrying HTTP client
// and a bearer token (common.SetupRestApiFlags).
type okmsCLI struct {
	t      *testing.T
	client *okms.Client
	domain uuid.UUID
}

func newOkmsCLI(t *testing.T, h *harness) *okmsCLI {
	t.Helper()
	c, err := okms.NewRestAPIClient(h.HTTP.URL, okms.ClientConfig{Retry: &okms.RetryConfig{RetryMax: 0}})
	if err != nil {
		t.Fatalf("okms.NewRestAPIClient: %v", err)
	}
	c.SetCustomHeader("Authorization", "Bearer "+rootToken)
	return &okmsCLI{t: t, client: c, domain: uuid.MustParse(h.Domain)}
}

func ptr[T any](v T) *T { return &v }

// put is `okms kv put PATH k=v… [--cas N]` (cas < 0: flag not given).
func (o *okmsCLI) put(path string, data map[string]any, cas int32) (*types.PostSecretResponse, error) {
	body := types.PostSecretRequest{Data: &data}
	if cas > -1 {
		body.Options = &types.PostSecretOptions{Cas: ptr(uint32(cas))}
	}
	return o.client.PostSecretRequest(context.Background(), o.domain, path, body)
}

// patch is `okms kv patch PATH k=v… [--cas N]`: a PATCH sent with
// Content-Type application/json.
func (o *okmsCLI) patch(path string, data map[string]any, cas int32) (*types.PatchSecretResponse, error) {
	body := types.PostSecretRequest{Data: &data}
	if cas > -1 {
		body.Options = &types.PostSecretOptions{Cas: ptr(uint32(cas))}
	}
	return o.client.PatchSecretRequest(context.Background(), o.domain, path, body)
}

// get is `okms kv get PATH [--version N]` (0: flag not given).
func (o *okmsCLI) get(path string, version uint32) (*types.GetSecretResponse, error) {
	var v *uint32
	if version != 0 {
		v = &version
	}
	return o.client.GetSecretRequest(context.Background(), o.domain, path, v)
}

// errorID is the OKMS error id of an SDK error, with its status.
func errorID(err error) (int, string) {
	if e := okms.AsKmsError(err); e != nil {
		return okms.ErrStatusCode(err), e.ErrorId
	}
	return okms.ErrStatusCode(err), ""
}

// TestOkmsCLI runs the okms CLI's kv commands (put, get, patch, metadata
// get|put|patch|delete, subkeys, delete, undelete, destroy, config
// read|write) against a real coffer server on 127.0.0.1 through the okms
// SDK, as the CLI does (issue 17 part 2b). The SDK addresses
// /api/{okmsId}/v1/secret/...; TestPatchMediaTypes covers the default
// domain's /v1/secret/... form.
func TestOkmsCLI(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	o := newOkmsCLI(t, h)
	ctx := context.Background()
	const p = "okmskv/app"
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// okms kv config write --max-versions 5 --delete-after 0s; config read.
	must("config write", o.client.PostSecretConfig(ctx, o.domain, types.PostConfigRequest{MaxVersions: ptr(uint32(5)), DeleteVersionAfter: ptr("0s")}))
	cfg, err := o.client.GetSecretConfig(ctx, o.domain)
	must("config read", err)
	if cfg.Data == nil || *cfg.Data.MaxVersions != 5 || *cfg.Data.DeleteVersionAfter != "0s" || *cfg.Data.CasRequired {
		t.Fatalf("config read = %+v", cfg.Data)
	}

	// okms kv put okmskv/app pw=s3cret user=app; put --cas 0 again fails.
	w, err := o.put(p, map[string]any{"pw": "s3cret", "user": "app"}, -1)
	must("put", err)
	if w.Data == nil || *w.Data.Version != 1 || *w.Data.Destroyed || *w.Data.DeletionTime != "" || *w.Data.CreatedTime == "" {
		t.Fatalf("put = %+v", w.Data)
	}
	if _, err := o.put(p, map[string]any{"pw": "x"}, 0); err == nil {
		t.Fatalf("put --cas 0 on an existing secret succeeded")
	} else if st, id := errorID(err); st != 400 || id != "SecretCasMismatch" || !strings.Contains(err.Error(), "check-and-set parameter did not match the current version") {
		t.Fatalf("put --cas 0: %d %q %v", st, id, err)
	}

	// okms kv patch okmskv/app pw=n3w (the command of the issue), then
	// with --cas.
	pr, err := o.patch(p, map[string]any{"pw": "n3w"}, -1)
	must("patch", err)
	if pr.Data == nil || *pr.Data.Version != 2 {
		t.Fatalf("patch = %+v", pr.Data)
	}
	pr, err = o.patch(p, map[string]any{"extra": map[string]any{"a": "b"}}, 2)
	must("patch --cas 2", err)
	if *pr.Data.Version != 3 {
		t.Fatalf("patch --cas 2 = version %d", *pr.Data.Version)
	}
	if _, err := o.patch(p, map[string]any{"pw": "x"}, 1); err == nil {
		t.Fatalf("patch --cas 1 succeeded")
	} else if st, id := errorID(err); st != 400 || id != "SecretCasMismatch" {
		t.Fatalf("patch --cas 1: %d %q %v", st, id, err)
	}
	// A missing secret: a 404 the SDK decodes (a Vault client gets an
	// empty body there).
	if _, err := o.patch("okmskv/missing", map[string]any{"pw": "x"}, -1); err == nil {
		t.Fatalf("patch of a missing secret succeeded")
	} else if st, id := errorID(err); st != 404 || id != "SecretNotFound" {
		t.Fatalf("patch of a missing secret: %d %q %v", st, id, err)
	}
	if err := o.client.PatchSecretMetadata(ctx, o.domain, "okmskv/missing", types.SecretUpdatableMetadata{
		CustomMetadata: &map[string]string{}}); err == nil {
		t.Fatalf("metadata patch of a missing secret succeeded")
	} else if st, id := errorID(err); st != 404 || id != "SecretNotFound" {
		t.Fatalf("metadata patch of a missing secret: %d %q %v", st, id, err)
	}

	// okms kv get okmskv/app [--version 1].
	g, err := o.get(p, 0)
	must("get", err)
	if want := map[string]any{"pw": "n3w", "user": "app", "extra": map[string]any{"a": "b"}}; g.Data == nil || !reflect.DeepEqual(g.Data.Data, want) || *g.Data.Metadata.Version != 3 {
		t.Fatalf("get = %+v, want data %v version 3", g.Data, want)
	}
	g, err = o.get(p, 1)
	must("get --version 1", err)
	if !reflect.DeepEqual(g.Data.Data, map[string]any{"pw": "s3cret", "user": "app"}) {
		t.Fatalf("get --version 1 = %v", g.Data.Data)
	}

	// okms kv subkeys okmskv/app [--depth 1].
	sk, err := o.client.GetSecretSubkeys(ctx, o.domain, p, nil, nil)
	must("subkeys", err)
	if want := map[string]any{"pw": nil, "user": nil, "extra": map[string]any{"a": nil}}; sk.Data == nil || !reflect.DeepEqual(sk.Data.Subkeys, want) {
		t.Fatalf("subkeys = %+v, want %v", sk.Data, want)
	}
	sk, err = o.client.GetSecretSubkeys(ctx, o.domain, p, ptr(uint32(1)), ptr(uint32(3)))
	must("subkeys --depth 1 --version 3", err)
	if want := map[string]any{"pw": nil, "user": nil, "extra": nil}; !reflect.DeepEqual(sk.Data.Subkeys, want) || *sk.Data.Metadata.Version != 3 {
		t.Fatalf("subkeys --depth 1 = %+v, want %v", sk.Data, want)
	}

	// okms kv metadata put --max-versions 4 --custom-metadata owner=ops;
	// metadata patch --cas-required=false --delete-after 1h (the CLI
	// always sends custom_metadata, {} without the flag: a merge patch
	// that changes nothing); metadata get.
	must("metadata put", o.client.PostSecretMetadata(ctx, o.domain, p, types.SecretUpdatableMetadata{
		MaxVersions: ptr(uint32(4)), CustomMetadata: &map[string]string{"owner": "ops"}}))
	must("metadata patch", o.client.PatchSecretMetadata(ctx, o.domain, p, types.SecretUpdatableMetadata{
		CasRequired: ptr(false), DeleteVersionAfter: ptr("1h"), CustomMetadata: &map[string]string{}}))
	md, err := o.client.GetSecretsMetadata(ctx, o.domain, p, false)
	must("metadata get", err)
	d := md.Data
	if d == nil || *d.MaxVersions != 4 || *d.DeleteVersionAfter != "1h0m0s" || *d.CurrentVersion != 3 || *d.CasRequired ||
		!reflect.DeepEqual(*d.CustomMetadata, map[string]string{"owner": "ops"}) || len(*d.Versions) != 3 || d.Urn == nil {
		t.Fatalf("metadata get = %+v", d)
	}

	// The SDK's list (GetSecretsMetadata with list=true).
	_, err = o.put("okmskv/other", map[string]any{"k": "v"}, -1)
	must("put okmskv/other", err)
	ls, err := o.client.GetSecretsMetadata(ctx, o.domain, "okmskv", true)
	must("list", err)
	if ls.Data == nil || ls.Data.Keys == nil || !reflect.DeepEqual(*ls.Data.Keys, []string{"app", "other"}) {
		t.Fatalf("list = %+v", ls.Data)
	}

	// okms kv delete okmskv/app: the current version (3) is deactivated,
	// its read is a 404 that the SDK reports with the OKMS error id.
	must("delete", o.client.DeleteSecretRequest(ctx, o.domain, p))
	if _, err := o.get(p, 0); err == nil {
		t.Fatalf("get after delete succeeded")
	} else if st, id := errorID(err); st != 404 || id != "SecretVersionNotFound" {
		t.Fatalf("get after delete: %d %q %v", st, id, err)
	}
	// okms kv delete --versions 1,2; undelete --versions 2,3.
	must("delete --versions 1,2", o.client.DeleteSecretVersions(ctx, o.domain, p, []uint32{1, 2}))
	must("undelete --versions 2,3", o.client.PostSecretUndelete(ctx, o.domain, p, []uint32{2, 3}))
	if _, err := o.get(p, 1); okms.ErrStatusCode(err) != 404 {
		t.Fatalf("get --version 1 after delete: %v, want a 404", err)
	}
	for _, v := range []uint32{2, 3} {
		if _, err := o.get(p, v); err != nil {
			t.Fatalf("get --version %d after undelete: %v", v, err)
		}
	}
	// okms kv destroy --versions 1.
	must("destroy --versions 1", o.client.PutSecretDestroy(ctx, o.domain, p, []uint32{1}))
	md, err = o.client.GetSecretsMetadata(ctx, o.domain, p, false)
	must("metadata get after destroy", err)
	if v1 := (*md.Data.Versions)["1"]; v1.Destroyed == nil || !*v1.Destroyed {
		t.Fatalf("version 1 after destroy = %+v", v1)
	}
	must("undelete --versions 1", o.client.PostSecretUndelete(ctx, o.domain, p, []uint32{1}))
	if _, err := o.get(p, 1); okms.ErrStatusCode(err) != 404 {
		t.Fatalf("get --version 1 after destroy and undelete: %v, want a 404", err)
	}

	// okms kv metadata delete okmskv/app.
	must("metadata delete", o.client.DeleteSecretMetadata(ctx, o.domain, p))
	if _, err := o.client.GetSecretsMetadata(ctx, o.domain, p, false); okms.ErrStatusCode(err) != 404 {
		t.Fatalf("metadata get after metadata delete: %v, want a 404", err)
	}
}

// TestPatchMediaTypes: a PATCH of data or metadata is accepted with
// Vault's application/merge-patch+json and with application/json (the
// OKMS swagger; okms kv patch sends it), on both addressing forms; other
// media types get Vault's 415 and a missing header Vault's 400
// (vault-kv2.md 2.1). Requests are shaped as the okms CLI sends them.
func TestPatchMediaTypes(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	tests := []struct {
		contentType string
		status      int
		errs        string // errors[0], for refusals
	}{
		{"application/merge-patch+json", 0, ""},
		{"application/json", 0, ""},
		{"application/json; charset=utf-8", 0, ""},
		{"Application/JSON", 0, ""},
		{"text/plain", 415, "PATCH requires Content-Type of application/merge-patch+json, provided text/plain"},
		{"application/json-patch+json", 415, "PATCH requires Content-Type of application/merge-patch+json, provided application/json-patch+json"},
		{"", 400, "mime: no media type"},
	}
	for _, mode := range modes {
		// The SDK escapes the path's slashes; %2F is a separator here.
		key := "media/app"
		if mode == "domain" {
			key = "media%2Fapp"
		}
		base := h.prefix(mode) + "/v1/secret/"
		expect(t, "put", h.do("PUT", base+"data/"+key, `{"data":{"pw":"old"}}`), 200)
		for _, tc := range tests {
			ct := []string{"Content-Type", tc.contentType}
			for _, rq := range []struct{ path, body string }{
				{"data/" + key, `{"data":{"pw":"n3w"}}`},
				{"metadata/" + key, `{"custom_metadata":{"owner":"ops"}}`},
			} {
				what := mode + " PATCH " + rq.path + " " + tc.contentType
				before := h.do("GET", base+"metadata/"+key, "")
				r := h.do("PATCH", base+rq.path, rq.body, ct...)
				if tc.status != 0 {
					expect(t, what, r, tc.status)
					if got := r.errors(t); len(got) != 1 || got[0] != tc.errs {
						t.Errorf("%s: errors %q, want [%q]", what, got, tc.errs)
					}
					if after := h.do("GET", base+"metadata/"+key, ""); get(after.json(t), "data", "updated_time") != get(before.json(t), "data", "updated_time") {
						t.Errorf("%s: the refused patch changed the secret", what)
					}
					continue
				}
				if strings.HasPrefix(rq.path, "data/") {
					expect(t, what, r, 200)
					if v := get(r.json(t), "data", "version"); v == nil || v == get(before.json(t), "data", "current_version") {
						t.Errorf("%s: no new version (%s)", what, r.body)
					}
				} else {
					expect(t, what, r, 204)
				}
			}
		}
		// Patches of a missing secret: Vault's empty 404 for a Vault
		// client, the OKMS error body for an application/json one.
		for _, path := range []string{"data/media/missing", "metadata/media/missing"} {
			r := h.do("PATCH", base+path, `{"data":{"a":"b"},"custom_metadata":{"a":"b"}}`, patchType...)
			if expect(t, mode+" merge-patch "+path, r, 404); len(r.body) != 0 {
				t.Errorf("%s merge-patch %s: body %q, want none", mode, path, r.body)
			}
			r = h.do("PATCH", base+path, `{"data":{"a":"b"},"custom_metadata":{"a":"b"}}`, "Content-Type", "application/json")
			if expect(t, mode+" json "+path, r, 404); get(r.json(t), "error_id") != "SecretNotFound" {
				t.Errorf("%s json %s: body %s, want the SecretNotFound error", mode, path, r.body)
			}
		}
		r := h.do("GET", base+"data/"+key, "")
		expect(t, mode+" read back", r, 200)
		if got := get(r.json(t), "data", "data", "pw"); got != "n3w" {
			t.Errorf("%s: pw = %v after the patches", mode, got)
		}
		if got := get(h.do("GET", base+"metadata/"+key, "").json(t), "data", "custom_metadata", "owner"); got != "ops" {
			t.Errorf("%s: custom_metadata owner = %v after the patches", mode, got)
		}
	}
}
