package service_test

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

// TestService_CursorsBound checks the binding of cursors (issue 13): a
// cursor opens only for the list (kind, domain, what it is within) and the
// caller it was made for, and never shows its position.
func TestService_CursorsBound(t *testing.T) {
	f := newFixture(t, memstore.New())
	bob := f.asUser(t, "bob", "")
	ann := f.asUser(t, "ann", "")
	l := service.Listing{Kind: service.ListSecrets, Domain: f.domain, Of: "prod/"}
	c, err := f.svc.Cursor(bob, l, "prod/hidden-0999")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || strings.Contains(string(raw), "hidden") || strings.Contains(c, "hidden") {
		t.Fatalf("cursor %q (%q, %v) shows its position", c, raw, err)
	}
	if pos, err := f.svc.Position(bob, l, c); err != nil || pos != "prod/hidden-0999" {
		t.Fatalf("Position = %q, %v", pos, err)
	}
	if pos, err := f.svc.Position(bob, l, ""); err != nil || pos != "" {
		t.Errorf("Position(\"\") = %q, %v; want the first page", pos, err)
	}
	if c, err := f.svc.Cursor(bob, l, ""); err != nil || c != "" {
		t.Errorf("Cursor(\"\") = %q, %v; want none", c, err)
	}
	other := f.root
	other.Dialect = service.Central // surfaces A and B list the same objects
	for name, tc := range map[string]struct {
		c      service.Caller
		l      service.Listing
		cursor string
	}{
		"another caller":       {ann, l, c},
		"the root":             {f.root, l, c},
		"another kind":         {bob, service.Listing{Kind: service.ListChildren, Domain: f.domain, Of: "prod/"}, c},
		"another prefix":       {bob, service.Listing{Kind: service.ListSecrets, Domain: f.domain, Of: "pro"}, c},
		"another domain":       {bob, service.Listing{Kind: service.ListSecrets, Domain: "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f", Of: "prod/"}, c},
		"former plain format":  {bob, l, base64.RawURLEncoding.EncodeToString([]byte(`{"d":"` + f.domain + `","k":"secrets","a":"prod/x"}`))},
		"altered":              {bob, l, c[:len(c)-3] + "AAA"},
		"not base64":           {bob, l, "%%%"},
		"too long":             {bob, l, strings.Repeat("A", 4096)},
		"sealed without value": {bob, l, base64.RawURLEncoding.EncodeToString(make([]byte, 28))},
	} {
		if _, err := f.svc.Position(tc.c, tc.l, tc.cursor); !errors.Is(err, service.ErrCursorInvalid) {
			t.Errorf("%s: Position err = %v, want ErrCursorInvalid", name, err)
		}
	}
	rc, _ := f.svc.Cursor(f.root, l, "x")
	if pos, err := f.svc.Position(other, l, rc); err != nil || pos != "x" {
		t.Errorf("a cursor of surface B on surface A: %q, %v", pos, err)
	}
	// Another installation (another pepper) does not open it.
	g := newFixture(t, memstore.New())
	if _, err := g.svc.Position(g.root, l, rc); !errors.Is(err, service.ErrCursorInvalid) {
		t.Errorf("another installation's cursor: %v, want ErrCursorInvalid", err)
	}
}

// TestService_ListSecretsHiddenCursor is issue 13's reproduction at the
// service: 1,005 secrets a caller may not see before one it may. The first
// page is empty with a next cursor, which shows nothing, and the pages
// together hold exactly the visible secret. A list call with a cursor that
// is not its own fails, audited.
func TestService_ListSecretsHiddenCursor(t *testing.T) {
	f := newFixture(t, memstore.New())
	ctx := t.Context()
	for i := range 1005 {
		p := secret.MustParsePath(fmt.Sprintf("aaa/hidden-%04d", i))
		if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, p, data(t, `{}`), secret.MetadataUpdate{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, secret.MustParsePath("zzz/secret"), data(t, `{}`), secret.MetadataUpdate{}); err != nil {
		t.Fatal(err)
	}
	bob := f.asUser(t, "bob", "")
	if _, err := f.svc.CreatePolicy(ctx, f.root, policy.Policy{Name: "zzz", Identities: bob.Principal.Identities[:1],
		Allow: []string{"okms:apikms:secret/get"}, Resources: []string{"urn:v1:eu:resource:okms:" + f.domain + "/secret/zzz%2F*"}}); err != nil {
		t.Fatal(err)
	}
	var seen []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("paging does not end")
		}
		pg, err := f.svc.ListSecrets(ctx, bob, f.domain, service.ListOptions{Cursor: cursor, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		if pages == 0 && (len(pg.Items) != 0 || pg.Next == "") {
			t.Fatalf("first page: %d items, next %q; want an empty page with a cursor", len(pg.Items), pg.Next)
		}
		if strings.Contains(pg.Next, "hidden") {
			t.Fatalf("cursor %q names a hidden path", pg.Next)
		}
		for _, it := range pg.Items {
			seen = append(seen, it.Secret.Path.String())
		}
		if cursor = pg.Next; cursor == "" {
			break
		}
	}
	if fmt.Sprint(seen) != "[zzz/secret]" {
		t.Errorf("pages hold %v, want [zzz/secret]", seen)
	}
	first, err := f.svc.ListSecrets(ctx, f.root, f.domain, service.ListOptions{Limit: 10})
	if err != nil || first.Next == "" {
		t.Fatalf("root's first page: %v", err)
	}
	m := f.mark()
	if _, err := f.svc.ListSecrets(ctx, bob, f.domain, service.ListOptions{Cursor: first.Next, Limit: 10}); !errors.Is(err, service.ErrCursorInvalid) {
		t.Fatalf("the root's cursor used by bob: %v, want ErrCursorInvalid", err)
	}
	if evs := f.since(m); len(evs) != 1 || evs[0].Outcome != "failed" || evs[0].Phase != audit.PhaseRequestResponse {
		t.Errorf("audit of a refused cursor: %+v", evs)
	}
}

// TestService_ListChildren checks the folding of a folder's list into its
// immediate children (vault-kv2.md 4.7) at every page size: secrets as
// "name", folders as "name/" once, in byte order, and only folders holding
// a secret the caller may see.
func TestService_ListChildren(t *testing.T) {
	f := newFixture(t, memstore.New())
	ctx := t.Context()
	for _, p := range []string{"app/db", "app/db/replica", "app/db/x/y", "app/Z", "app/a-b", "app/a/b", "app/hidden/only",
		"app/mixed/hidden", "app/mixed/seen", "top", "dir/leaf"} {
		if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, secret.MustParsePath(p), data(t, `{}`), secret.MetadataUpdate{}); err != nil {
			t.Fatal(err)
		}
	}
	bob := f.asUser(t, "bob", "")
	if _, err := f.svc.CreatePolicy(ctx, f.root, policy.Policy{Name: "seen", Identities: bob.Principal.Identities[:1],
		Allow: []string{"okms:apikms:secret/get"}, Resources: []string{"urn:v1:eu:resource:okms:" + f.domain + "/secret/*"}}); err != nil {
		t.Fatal(err)
	}
	// Deny hides app/hidden/only and app/mixed/hidden from bob.
	if _, err := f.svc.CreatePolicy(ctx, f.root, policy.Policy{Name: "hide", Identities: bob.Principal.Identities[:1],
		Deny: []string{"okms:apikms:secret/get"}, Resources: []string{"urn:v1:eu:resource:okms:" + f.domain + "/secret/app%2Fhidden*",
			"urn:v1:eu:resource:okms:" + f.domain + "/secret/app%2Fmixed%2Fhidden"}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c      service.Caller
		prefix string
		want   string
	}{
		{f.root, "app/", "[Z a-b a/ db db/ hidden/ mixed/]"},
		{bob, "app/", "[Z a-b a/ db db/ mixed/]"},
		{f.root, "", "[app/ dir/ top]"},
		{f.root, "app/mixed/", "[hidden seen]"},
		{bob, "app/mixed/", "[seen]"},
		{bob, "app/hidden/", "[]"},
	} {
		for _, limit := range []int{1, 2, 3, 100} {
			var got []string
			cursor := ""
			for pages := 0; ; pages++ {
				if pages > 20 {
					t.Fatal("paging does not end")
				}
				pg, err := f.svc.ListChildren(ctx, tc.c, f.domain, service.ChildOptions{Prefix: tc.prefix, Cursor: cursor, Limit: limit})
				if err != nil {
					t.Fatal(err)
				}
				if len(pg.Items) > limit {
					t.Fatalf("page of %d, limit %d", len(pg.Items), limit)
				}
				for _, it := range pg.Items {
					if it.Folder != strings.HasSuffix(it.Name, "/") || (!it.Folder && it.Secret.Secret == nil) {
						t.Errorf("child %+v", it)
					}
					got = append(got, it.Name)
				}
				if cursor = pg.Next; cursor == "" {
					break
				}
			}
			if g := fmt.Sprint(got); g != tc.want {
				t.Errorf("%s, %q, limit %d: %v, want %s", tc.c.Principal.Name, tc.prefix, limit, g, tc.want)
			}
		}
	}
}

// FuzzPosition opens arbitrary cursors: it never panics, accepts only
// cursors the service made for the same list and caller, and every
// position round-trips.
func FuzzPosition(f *testing.F) {
	svc := service.New(service.Options{Store: memstore.New(), Cursors: crypto.NewTokenSealer("coffer list cursors")})
	if _, err := svc.Init(f.Context(), service.InitOptions{RootToken: "root-token"}); err != nil {
		f.Fatal(err)
	}
	p, err := svc.Authenticate(f.Context(), "root-token")
	if err != nil {
		f.Fatal(err)
	}
	c := service.Caller{Principal: p}
	l := service.Listing{Kind: service.ListVersions, Domain: "d", Of: "prod/db"}
	good, _ := svc.Cursor(c, l, "0000000012")
	for _, s := range []string{"", good, "!!", "eyJ9", "e30", good + "A", strings.Repeat("A", 60)} {
		f.Add(s, "prod/x")
	}
	f.Fuzz(func(t *testing.T, cursor, position string) {
		if pos, err := svc.Position(c, l, cursor); err == nil && cursor != "" && pos == "" {
			t.Fatalf("Position(%q) accepted a cursor without a position", cursor)
		} else if err != nil && !errors.Is(err, service.ErrCursorInvalid) {
			t.Fatalf("Position(%q) error %v", cursor, err)
		}
		if position == "" || len(position) > 1000 {
			return
		}
		made, err := svc.Cursor(c, l, position)
		if err != nil {
			t.Fatal(err)
		}
		if pos, err := svc.Position(c, l, made); err != nil || pos != position {
			t.Fatalf("the cursor of %q opens to %q, %v", position, pos, err)
		}
		if _, err := svc.Position(c, service.Listing{Kind: service.ListVersions, Domain: "d", Of: "prod/db2"}, made); !errors.Is(err, service.ErrCursorInvalid) {
			t.Fatalf("a cursor of %+v opened on another list: %v", l, err)
		}
	})
}
