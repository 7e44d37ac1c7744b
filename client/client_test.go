package client_test

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/client"
	"github.com/seed-3e8d63de/coffer/internal/server"
)

// These tests run the client against the real server (dev mode, in
// memory) behind httptest; each test has its own server.

const root = "root"

type env struct {
	srv *server.Server
	ts  *httptest.Server

	mu   sync.Mutex
	seen []string // "METHOD escaped-path?query" of every request
}

// newEnv starts a server; configure may change its configuration, tls
// serves TLS from the installation CA in a data directory.
func newEnv(t *testing.T, configure func(*server.Config)) *env {
	t.Helper()
	cfg := server.Config{Dev: true, DevRootToken: root, Logger: slog.New(slog.DiscardHandler), Out: io.Discard}
	if configure != nil {
		configure(&cfg)
	}
	srv, err := server.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	e := &env{srv: srv}
	h := srv.Handler()
	e.ts = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		e.seen = append(e.seen, r.Method+" "+r.URL.RequestURI())
		e.mu.Unlock()
		h.ServeHTTP(w, r)
	}))
	// Handshakes refused on purpose would be logged to stderr.
	e.ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	if cfg.TLSAuto {
		e.ts.TLS = srv.TLSConfig()
		e.ts.StartTLS()
	} else {
		e.ts.Start()
	}
	t.Cleanup(func() {
		e.ts.Close()
		if err := srv.Close(); err != nil {
			t.Errorf("server.Close: %v", err)
		}
	})
	return e
}

func (e *env) requests() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.seen)
}

func (e *env) client(t *testing.T, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(e.ts.URL, append([]client.Option{client.WithToken(root)}, opts...)...)
	if err != nil {
		t.Fatalf("client.New: %v", err)
	}
	return c
}

func data(s string) *api.VersionInput { return &api.VersionInput{Data: json.RawMessage(s)} }

func TestNew_BadAddress(t *testing.T) {
	t.Parallel()
	for _, addr := range []string{"", "127.0.0.1:8200", "ftp://x", "http://", "http://h/?q=1", "http://u:p@h"} {
		if _, err := client.New(addr); err == nil {
			t.Errorf("New(%q) succeeded, want an error", addr)
		}
	}
	if _, err := client.New("http://h", client.WithHTTPClient(http.DefaultClient), client.WithRootCAs(nil)); err == nil {
		t.Errorf("New with an empty CA bundle succeeded")
	}
}

// TestPathEscaping: a secret path travels as one %2F-escaped segment on
// surface B, and characters of the path alphabet come back intact.
func TestPathEscaping(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client(t)
	ctx := t.Context()
	const p = "prod/db:main/user=admin@x/version"
	if _, err := c.CreateSecret(ctx, api.CreateSecretRequest{Path: p, Version: data(`{"a":1}`)}); err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	// The last segment is literally "version": only the escaped form can
	// address it (okms-rest.md 1.2).
	s, err := c.GetSecret(ctx, p, client.GetSecretOptions{})
	if err != nil || s.Path != p {
		t.Fatalf("GetSecret(%q) = %+v, %v", p, s, err)
	}
	if _, err := c.AddVersion(ctx, p, json.RawMessage(`{"a":2}`), nil); err != nil {
		t.Fatalf("AddVersion: %v", err)
	}
	v, err := c.GetVersion(ctx, p, 2, true)
	if err != nil || string(v.Data) != `{"a":2}` {
		t.Fatalf("GetVersion = %+v, %v", v, err)
	}
	want := "/v2/secret/prod%2Fdb:main%2Fuser=admin@x%2Fversion/version/2?includeData=true"
	if !slices.ContainsFunc(e.requests(), func(r string) bool { return strings.HasSuffix(r, want) }) {
		t.Errorf("no request ends in %s; requests: %q", want, e.requests())
	}
}

// TestPagination: the iterator follows the cursor over several pages and
// stops when it is absent.
func TestPagination(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client(t)
	ctx := t.Context()
	var want []string
	for i := range 25 {
		p := fmt.Sprintf("s/%02d", i)
		want = append(want, p)
		if _, err := c.CreateSecret(ctx, api.CreateSecretRequest{Path: p, Version: data(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	before := len(e.requests())
	var got []string
	for s, err := range c.Secrets(ctx, 10) {
		if err != nil {
			t.Fatalf("Secrets: %v", err)
		}
		got = append(got, s.Path)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Secrets = %q, want %q", got, want)
	}
	if n := len(e.requests()) - before; n != 3 {
		t.Errorf("iteration sent %d requests, want 3 pages of 10", n)
	}
	// Stopping early stops fetching.
	before = len(e.requests())
	for range c.Secrets(ctx, 10) {
		break
	}
	if n := len(e.requests()) - before; n != 1 {
		t.Errorf("breaking out after one item sent %d requests, want 1", n)
	}
	page, next, err := c.ListSecretsPage(ctx, client.PageOptions{Size: 10, Cursor: "not-a-cursor"})
	if err == nil {
		t.Errorf("ListSecretsPage with a bad cursor = %v, %q, nil", page, next)
	}
	var ce *client.Error
	if !errors.As(err, &ce) || ce.ID != "PaginationCursorInvalid" || ce.StatusCode != 400 {
		t.Errorf("bad cursor error = %v, want 400 PaginationCursorInvalid", err)
	}
	var versions []uint32
	for i := range 11 {
		if _, err := c.AddVersion(ctx, "s/00", json.RawMessage(fmt.Sprintf(`{"i":%d}`, i)), nil); err != nil {
			t.Fatal(err)
		}
	}
	for v, err := range c.Versions(ctx, "s/00", 10) {
		if err != nil {
			t.Fatal(err)
		}
		versions = append(versions, v.ID)
	}
	if len(versions) != 10 || versions[0] != 3 || versions[9] != 12 {
		t.Errorf("Versions = %v, want 3..12 (max 10 retained)", versions)
	}
}

// TestErrors: every envelope is parsed into an *Error that matches the
// sentinels.
func TestErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client(t)
	ctx := t.Context()
	if _, err := c.CreateSecret(ctx, api.CreateSecretRequest{Path: "a", Version: data(`{}`)}); err != nil {
		t.Fatal(err)
	}
	bad, _ := client.New(e.ts.URL, client.WithToken("cof_pat_wrong"), client.WithDomain(e.srv.DefaultDomain()))
	none, _ := client.New(e.ts.URL, client.WithDomain(e.srv.DefaultDomain()))
	cas := uint32(5)
	_, casErr := c.AddVersion(ctx, "a", json.RawMessage(`{}`), &cas)
	_, dupErr := c.CreateSecret(ctx, api.CreateSecretRequest{Path: "a", Version: data(`{}`)})
	_, userErr := c.GetUser(ctx, "nobody")
	_, kvErr := bad.KV("").Get(ctx, "a", 0)
	_, kvNone := none.KV("").Get(ctx, "a", 0)
	_, kvMissing := c.KV("").Get(ctx, "nope", 0)
	_, badData := c.CreateSecret(ctx, api.CreateSecretRequest{Path: "b", Version: data(`[1]`)})
	tests := []struct {
		name   string
		err    error
		is     error
		status int
		id     string
	}{
		{"okms/unauthenticated", first(bad.GetSecret(ctx, "a", client.GetSecretOptions{})), client.ErrUnauthenticated, 401, "Unauthenticated"},
		{"okms/cas", casErr, client.ErrCASMismatch, 400, "SecretCasMismatch"},
		{"okms/conflict", dupErr, client.ErrConflict, 409, "SecretAlreadyExists"},
		{"okms/validation", badData, nil, 400, "SecretDataInvalidKeyValueJson"},
		{"ovh/not found", userErr, client.ErrNotFound, 404, "UserNotFound"},
		{"ovh/unauthenticated", first(bad.ListDomains(ctx)), client.ErrUnauthenticated, 401, ""},
		{"vault/invalid token", kvErr, client.ErrUnauthenticated, 403, "Unauthenticated"},
		{"vault/no token", kvNone, client.ErrUnauthenticated, 403, "Unauthenticated"},
		{"vault/not found", kvMissing, client.ErrNotFound, 404, ""},
	}
	for _, tc := range tests {
		var ce *client.Error
		if !errors.As(tc.err, &ce) {
			t.Errorf("%s: error %v (%T) is not an *Error", tc.name, tc.err, tc.err)
			continue
		}
		if tc.is != nil && !errors.Is(tc.err, tc.is) {
			t.Errorf("%s: errors.Is(%v, %v) = false", tc.name, tc.err, tc.is)
		}
		if errors.Is(tc.err, client.ErrForbidden) {
			t.Errorf("%s: %v matches ErrForbidden", tc.name, tc.err)
		}
		if ce.StatusCode != tc.status || tc.id != "" && ce.ID != tc.id {
			t.Errorf("%s: status %d id %q, want %d %q", tc.name, ce.StatusCode, ce.ID, tc.status, tc.id)
		}
		if msg := tc.err.Error(); strings.ContainsAny(msg, "\n\t") || ce.RequestID == "" || !strings.Contains(msg, ce.RequestID) {
			t.Errorf("%s: Error() = %q, want one line with the request id", tc.name, msg)
		}
	}
	// A valid token denied by IAM is Forbidden, not Unauthenticated.
	if _, err := c.CreateUser(ctx, client.UserRequest{Login: "alice"}); err != nil {
		t.Fatal(err)
	}
	tok, err := c.CreateToken(ctx, "alice", client.TokenRequest{Name: "t"})
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := client.New(e.ts.URL, client.WithToken(tok.Token), client.WithDomain(e.srv.DefaultDomain()))
	for name, err := range map[string]error{
		"okms":  first(alice.GetSecret(ctx, "a", client.GetSecretOptions{})),
		"vault": second(alice.KV("").Get(ctx, "a", 0)),
		"ovh":   first(alice.ListUsers(ctx)),
	} {
		if !errors.Is(err, client.ErrForbidden) || errors.Is(err, client.ErrUnauthenticated) {
			t.Errorf("%s: denied error %v, want ErrForbidden only", name, err)
		}
	}
}

func first[T any](_ T, err error) error  { return err }
func second[T any](_ T, err error) error { return err }

func TestTransportError(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1 (tcpmux).
	addr := "127.0.0.1:1"
	c, _ := client.New("http://"+addr, client.WithToken(root), client.WithDomain("6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"))
	_, err := c.GetSecret(t.Context(), "a", client.GetSecretOptions{})
	var te *client.TransportError
	if !errors.As(err, &te) || !strings.Contains(err.Error(), "cannot reach http://"+addr) || strings.Contains(err.Error(), "\n") {
		t.Errorf("GetSecret on a closed port = %v, want a one-line *TransportError", err)
	}
}

// TestDefaultDomain: without WithDomain, the client addresses the server's
// default domain even when another domain exists.
func TestDefaultDomain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	c := e.client(t)
	ctx := t.Context()
	regions, err := c.Regions(ctx)
	if err != nil || len(regions) != 1 {
		t.Fatalf("Regions = %v, %v", regions, err)
	}
	d, err := c.ActivateDomain(ctx, regions[0].ID, "second")
	if err != nil {
		t.Fatalf("ActivateDomain: %v", err)
	}
	e.srv.Service().Wait()
	if got, _ := c.GetDomain(ctx, d.ID, false); got == nil || got.IAM.State != client.DomainStateReady {
		t.Fatalf("GetDomain(%s) = %+v, want ready", d.ID, got)
	}
	fresh := e.client(t)
	got, err := fresh.Domain(ctx)
	if err != nil || got != e.srv.DefaultDomain() {
		t.Errorf("Domain() = %q, %v; want the server's default %q (other domain %q)", got, err, e.srv.DefaultDomain(), d.ID)
	}
	if err := c.DeleteDomain(ctx, d.ID); err != nil {
		t.Errorf("DeleteDomain: %v", err)
	}
	// A token that sees no domain gets ErrNoDomain.
	if _, err := c.CreateUser(ctx, client.UserRequest{Login: "bob"}); err != nil {
		t.Fatal(err)
	}
	tok, _ := c.CreateToken(ctx, "bob", client.TokenRequest{Name: "t"})
	bob, _ := client.New(e.ts.URL, client.WithToken(tok.Token))
	if _, err := bob.Domain(ctx); !errors.Is(err, client.ErrNoDomain) {
		t.Errorf("Domain() for a user without rights = %v, want ErrNoDomain", err)
	}
}

// TestTLS: a custom CA, and an access certificate that authenticates on
// its own and names its domain.
func TestTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// The installation CA lands in the data directory, so not in dev mode.
	e := newEnv(t, func(c *server.Config) { c.Dev, c.TLSAuto, c.DataDir, c.RootToken = false, true, dir, root })
	ca := filepath.Join(dir, "ca.pem")
	ctx := t.Context()

	untrusting, _ := client.New(e.ts.URL, client.WithToken(root))
	_, err := untrusting.ListDomains(ctx)
	if !strings.Contains(fmt.Sprint(err), "certificate") || !strings.Contains(fmt.Sprint(err), "CA") {
		t.Errorf("ListDomains without the CA = %v, want a certificate error that mentions the CA", err)
	}
	c, err := client.New(e.ts.URL, client.WithToken(root), client.WithCAFile(ca))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateSecret(ctx, api.CreateSecretRequest{Path: "tls/a", Version: data(`{"x":"y"}`)}); err != nil {
		t.Fatalf("CreateSecret over TLS: %v", err)
	}
	cred, err := c.CreateCredential(ctx, client.CredentialRequest{Name: "ci", IdentityURNs: []string{"urn:v1:eu:identity:account:coffer"}})
	if err != nil || cred.PrivateKeyPEM == nil {
		t.Fatalf("CreateCredential = %+v, %v", cred, err)
	}
	pair, err := tls.X509KeyPair([]byte(cred.CertificatePEM), []byte(*cred.PrivateKeyPEM))
	if err != nil {
		t.Fatal(err)
	}
	mtls, err := client.New(e.ts.URL, client.WithCAFile(ca), client.WithClientCertificate(pair))
	if err != nil {
		t.Fatal(err)
	}
	if got := mtls.ExplicitDomain(); got != e.srv.DefaultDomain() {
		t.Errorf("domain of the certificate = %q, want %q", got, e.srv.DefaultDomain())
	}
	s, err := mtls.GetSecret(ctx, "tls/a", client.GetSecretOptions{IncludeData: true})
	if err != nil || string(s.Version.Data) != `{"x":"y"}` {
		t.Errorf("GetSecret with the certificate = %+v, %v", s, err)
	}
	if _, err := mtls.KV("").Get(ctx, "tls/a", 0); err != nil {
		t.Errorf("KV Get with the certificate: %v", err)
	}
	if _, err := c.RevokeCredential(ctx, cred.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := mtls.GetSecret(ctx, "tls/a", client.GetSecretOptions{}); !errors.Is(err, client.ErrUnauthenticated) {
		t.Errorf("GetSecret with a revoked certificate = %v, want ErrUnauthenticated", err)
	}
	if _, err := client.New(e.ts.URL, client.WithCAFile(filepath.Join(dir, "missing.pem"))); err == nil {
		t.Errorf("WithCAFile of a missing file succeeded")
	}
	if err := os.WriteFile(filepath.Join(dir, "junk.pem"), []byte("junk"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := client.New(e.ts.URL, client.WithCAFile(filepath.Join(dir, "junk.pem"))); err == nil {
		t.Errorf("WithCAFile of a file without PEM succeeded")
	}
}

func TestKV(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	ctx := t.Context()
	for _, explicit := range []bool{false, true} {
		var opts []client.Option
		key := "default/app"
		if explicit {
			opts = append(opts, client.WithDomain(e.srv.DefaultDomain()))
			key = "explicit/app"
		}
		kv := e.client(t, opts...).KV("")
		if _, err := kv.Put(ctx, key, json.RawMessage(`{"a":"1","b":"2"}`), nil); err != nil {
			t.Fatalf("Put: %v", err)
		}
		if _, err := kv.Patch(ctx, key, json.RawMessage(`{"b":null,"c":"3"}`), nil); err != nil {
			t.Fatalf("Patch: %v", err)
		}
		if err := kv.Delete(ctx, key, nil); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		s, err := kv.Get(ctx, key, 0)
		if !errors.Is(err, client.ErrNotFound) || s == nil || s.Metadata.Version != 2 || s.Metadata.DeletionTime == "" {
			t.Fatalf("Get of a deactivated version = %+v, %v; want its metadata and ErrNotFound", s, err)
		}
		if err := kv.Undelete(ctx, key, []int{2}); err != nil {
			t.Fatal(err)
		}
		if s, err = kv.Get(ctx, key, 0); err != nil || string(s.Data) != `{"a":"1","c":"3"}` {
			t.Fatalf("Get after undelete = %+v, %v", s, err)
		}
		if _, err := kv.Rollback(ctx, key, 1); err != nil {
			t.Fatalf("Rollback: %v", err)
		}
		if s, _ = kv.Get(ctx, key, 0); s.Metadata.Version != 3 || string(s.Data) != `{"a":"1","b":"2"}` {
			t.Errorf("after rollback: %+v", s)
		}
		if err := kv.Destroy(ctx, key, []int{1}); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Rollback(ctx, key, 1); err == nil {
			t.Errorf("Rollback to a destroyed version succeeded")
		}
		five, yes, cm := 5, true, "blue"
		if err := kv.PutMetadata(ctx, key, client.KVMetadataUpdate{MaxVersions: &five, CasRequired: &yes,
			CustomMetadata: map[string]*string{"team": &cm}}); err != nil {
			t.Fatal(err)
		}
		if err := kv.PatchMetadata(ctx, key, client.KVMetadataUpdate{CustomMetadata: map[string]*string{"team": nil, "x": &cm}}); err != nil {
			t.Fatal(err)
		}
		m, err := kv.Metadata(ctx, key)
		if err != nil || m.MaxVersions != 5 || !m.CasRequired || m.CustomMetadata["x"] != "blue" || len(m.CustomMetadata) != 1 ||
			len(m.Versions) != 3 || !m.Versions["1"].Destroyed {
			t.Errorf("Metadata = %+v, %v", m, err)
		}
		if _, err := kv.Put(ctx, key, json.RawMessage(`{}`), nil); err == nil {
			t.Errorf("Put without cas on a cas-required secret succeeded")
		}
		keys, err := kv.List(ctx, "")
		if err != nil || !slices.Contains(keys, strings.Split(key, "/")[0]+"/") {
			t.Errorf("List = %q, %v", keys, err)
		}
		if err := kv.DeleteMetadata(ctx, key); err != nil {
			t.Fatal(err)
		}
		if _, err := kv.Metadata(ctx, key); !errors.Is(err, client.ErrNotFound) {
			t.Errorf("Metadata after DeleteMetadata = %v", err)
		}
		if _, err := kv.List(ctx, "nothing"); !errors.Is(err, client.ErrNotFound) || !strings.Contains(err.Error(), "no value found") {
			t.Errorf("List of an empty folder = %v", err)
		}
	}
	info, err := e.client(t).LookupSelf(ctx)
	if err != nil || info.Type != "service" || !slices.Contains(info.Policies, "root") {
		t.Errorf("LookupSelf = %+v, %v", info, err)
	}
}

func TestIdentityAndAudit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(c *server.Config) { c.AuditFile = filepath.Join(t.TempDir(), "audit.log") })
	c := e.client(t)
	ctx := t.Context()
	admin := "ADMIN"
	if _, err := c.CreateGroup(ctx, client.GroupRequest{Name: "ops", Role: &admin}); err != nil {
		t.Fatal(err)
	}
	ops := "ops"
	if _, err := c.CreateUser(ctx, client.UserRequest{Login: "alice", Group: &ops}); err != nil {
		t.Fatal(err)
	}
	desc := "Alice"
	if u, err := c.UpdateUser(ctx, "alice", client.UserRequest{Description: &desc}); err != nil || u.Description != desc || u.Group != "ops" {
		t.Errorf("UpdateUser = %+v, %v", u, err)
	}
	tok, err := c.CreateToken(ctx, "alice", client.TokenRequest{Name: "ci", ExpiresAt: "2099-01-01T00:00:00Z"})
	if err != nil || !strings.HasPrefix(tok.Token, "cof_pat_") {
		t.Fatalf("CreateToken = %+v, %v", tok, err)
	}
	if g, err := c.GetToken(ctx, "alice", "ci"); err != nil || g.Token != "" || g.ExpiresAt == nil {
		t.Errorf("GetToken = %+v, %v", g, err)
	}
	doc := fmt.Sprintf(`{"name":"readers","identities":["urn:v1:eu:identity:user:coffer/alice"],
		"resources":[{"urn":"urn:v1:eu:resource:okms:%s"}],"permissions":{"allow":[{"action":"okms:apikms:secret/get"}]}}`, e.srv.DefaultDomain())
	p, err := c.CreatePolicy(ctx, json.RawMessage(doc))
	if err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	if _, err := c.CreatePolicy(ctx, json.RawMessage(`{"name":"x","bogus":1}`)); err == nil {
		t.Errorf("CreatePolicy with an unknown member succeeded")
	}
	ps, err := c.ListPolicies(ctx)
	if err != nil || len(ps) != 1 || ps[0].ID != p.ID {
		t.Errorf("ListPolicies = %+v, %v", ps, err)
	}
	// A read is one request+response event written once it has run, so
	// the tail ends with the policy listing, not with its own read.
	evs, err := c.AuditTail(ctx, 5)
	if err != nil || len(evs) != 5 || evs[4].Action != "coffer:iam/policy/list" || evs[4].Phase != "request+response" {
		t.Errorf("AuditTail(5) = %+v, %v", evs, err)
	}
	for _, del := range []error{c.DeletePolicy(ctx, p.ID), c.RevokeToken(ctx, "alice", "ci"), c.DeleteUser(ctx, "alice"), c.DeleteGroup(ctx, "ops")} {
		if del != nil {
			t.Errorf("delete: %v", del)
		}
	}
	if users, err := c.ListUsers(ctx); err != nil || len(users) != 0 {
		t.Errorf("ListUsers after delete = %v, %v", users, err)
	}
}
