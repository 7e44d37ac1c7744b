package policy

import (
	"errors"
	"strings"
	"testing"
)

const (
	testDomain  = "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"
	otherDomain = "11111111-2222-3333-4444-555555555555"
	testKey     = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
	testClient  = "3f2a9c0d1b4e5f60"
)

func TestParseURN(t *testing.T) {
	t.Parallel()
	dom := DomainURN("eu", testDomain)
	tests := []struct {
		name string
		in   string
		want URN // compared when the parse succeeds
		err  bool
	}{
		{name: "account", in: "urn:v1:eu:identity:account:xx1111-ovh",
			want: URN{Zone: "eu", Kind: KindIdentity, Type: TypeAccount, ID: "xx1111-ovh", Account: "xx1111-ovh"}},
		{name: "user", in: "urn:v1:ca:identity:user:coffer/alice.b@x_y-z",
			want: URN{Zone: "ca", Kind: KindIdentity, Type: TypeUser, ID: "coffer/alice.b@x_y-z", Account: "coffer", Name: "alice.b@x_y-z"}},
		{name: "group", in: "urn:v1:us:identity:group:coffer/ops",
			want: URN{Zone: "us", Kind: KindIdentity, Type: TypeGroup, ID: "coffer/ops", Account: "coffer", Name: "ops"}},
		{name: "service account", in: "urn:v1:eu:identity:credential:coffer/oauth2-" + testClient,
			want: URN{Zone: "eu", Kind: KindIdentity, Type: TypeCredential, ID: "coffer/oauth2-" + testClient, Account: "coffer", Name: testClient}},
		{name: "domain", in: dom,
			want: URN{Zone: "eu", Kind: KindResource, Type: TypeOKMS, ID: testDomain, OKMSID: testDomain}},
		{name: "domain uppercase uuid", in: "urn:v1:eu:resource:okms:6A0F0B6E-3C1D-4A53-9A7E-1F2B3C4D5E6F",
			want: URN{Zone: "eu", Kind: KindResource, Type: TypeOKMS, ID: "6A0F0B6E-3C1D-4A53-9A7E-1F2B3C4D5E6F", OKMSID: "6A0F0B6E-3C1D-4A53-9A7E-1F2B3C4D5E6F"}},
		{name: "secret", in: dom + "/secret/app%2Fdb",
			want: URN{Zone: "eu", Kind: KindResource, Type: TypeOKMS, ID: testDomain + "/secret/app%2Fdb", OKMSID: testDomain}},
		{name: "secret with path punctuation", in: dom + "/secret/a:b=c@d_e.f-g"},
		{name: "service key", in: dom + "/serviceKey/" + testKey,
			want: URN{Zone: "eu", Kind: KindResource, Type: TypeOKMS, ID: testDomain + "/serviceKey/" + testKey, OKMSID: testDomain, ServiceKey: testKey}},
		{name: "resource group without subtype", in: "urn:v1:eu:resourceGroup:aa0713ab-ed13-4f1a-89a5-32aa0cb936d8",
			want: URN{Zone: "eu", Kind: KindResourceGroup, ID: "aa0713ab-ed13-4f1a-89a5-32aa0cb936d8"}},
		{name: "permissions group", in: "urn:v1:eu:permissionsGroup:ovh:controlPanelAccess",
			want: URN{Zone: "eu", Kind: KindPermissionsGroup, Type: "ovh", ID: "controlPanelAccess"}},
		{name: "64-character login", in: "urn:v1:eu:identity:user:coffer/" + strings.Repeat("a", 64)},

		{name: "empty", in: "", err: true},
		{name: "urn v2", in: "urn:v2:eu:identity:account:coffer", err: true},
		{name: "uppercase prefix", in: "URN:v1:eu:identity:account:coffer", err: true},
		{name: "unknown zone", in: "urn:v1:fr:identity:account:coffer", err: true},
		{name: "uppercase zone", in: "urn:v1:EU:identity:account:coffer", err: true},
		{name: "unknown kind", in: "urn:v1:eu:thing:account:coffer", err: true},
		{name: "kind case", in: "urn:v1:eu:Identity:account:coffer", err: true},
		{name: "missing kind", in: "urn:v1:eu", err: true},
		{name: "missing type", in: "urn:v1:eu:identity", err: true},
		{name: "unknown identity type", in: "urn:v1:eu:identity:robot:coffer/x", err: true},
		{name: "empty account", in: "urn:v1:eu:identity:account:", err: true},
		{name: "account with slash", in: "urn:v1:eu:identity:account:a/b", err: true},
		{name: "account too long", in: "urn:v1:eu:identity:account:" + strings.Repeat("a", 65), err: true},
		{name: "user without account", in: "urn:v1:eu:identity:user:alice", err: true},
		{name: "user empty login", in: "urn:v1:eu:identity:user:coffer/", err: true},
		{name: "user login with space", in: "urn:v1:eu:identity:user:coffer/al ice", err: true},
		{name: "user login with slash", in: "urn:v1:eu:identity:user:coffer/a/b", err: true},
		{name: "user login too long", in: "urn:v1:eu:identity:user:coffer/" + strings.Repeat("a", 65), err: true},
		{name: "group with colon", in: "urn:v1:eu:identity:group:coffer/a:b", err: true},
		{name: "credential without oauth2", in: "urn:v1:eu:identity:credential:coffer/" + testClient, err: true},
		{name: "credential uppercase hex", in: "urn:v1:eu:identity:credential:coffer/oauth2-3F2A9C0D1B4E5F60", err: true},
		{name: "credential short id", in: "urn:v1:eu:identity:credential:coffer/oauth2-3f2a", err: true},
		{name: "identity wildcard", in: "urn:v1:eu:identity:user:coffer/*", err: true},
		{name: "other resource type", in: "urn:v1:eu:resource:vps:vps-1.ovh.net", err: true},
		{name: "okms id not a uuid", in: "urn:v1:eu:resource:okms:abc", err: true},
		{name: "okms id trailing slash", in: dom + "/", err: true},
		{name: "secret empty path", in: dom + "/secret/", err: true},
		{name: "secret raw slash", in: dom + "/secret/app/db", err: true},
		{name: "secret lowercase escape", in: dom + "/secret/app%2fdb", err: true},
		{name: "secret needless escape", in: dom + "/secret/%61pp", err: true},
		{name: "secret bad escape", in: dom + "/secret/app%zz", err: true},
		{name: "secret dot segment", in: dom + "/secret/a%2F..%2Fb", err: true},
		{name: "secret leading slash", in: dom + "/secret/%2Fa", err: true},
		{name: "secret wildcard", in: dom + "/secret/*", err: true},
		{name: "secret bad char", in: dom + "/secret/a%20b", err: true},
		{name: "unknown sub-resource", in: dom + "/key/x", err: true},
		{name: "service key not uuid", in: dom + "/serviceKey/k1", err: true},
		{name: "too long", in: dom + "/secret/" + strings.Repeat("a", MaxURNLength), err: true},
		{name: "resource group empty", in: "urn:v1:eu:resourceGroup:", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseURN(tc.in)
			if tc.err {
				if err == nil {
					t.Fatalf("ParseURN(%q) = %+v, want error", tc.in, got)
				}
				if !errors.Is(err, ErrInvalidURN) {
					t.Errorf("ParseURN(%q) error %v does not match ErrInvalidURN", tc.in, err)
				}
				if ue, ok := errors.AsType[*URNError](err); !ok || ue.URN != tc.in || ue.Reason == "" {
					t.Errorf("ParseURN(%q) error = %#v, want *URNError with input and reason", tc.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseURN(%q): %v", tc.in, err)
			}
			if got.String() != tc.in {
				t.Errorf("ParseURN(%q).String() = %q", tc.in, got.String())
			}
			if tc.want.Zone == "" {
				return
			}
			got.Path = tc.want.Path // compared separately
			if got != tc.want {
				t.Errorf("ParseURN(%q) = %+v, want %+v", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseURN_secretPath(t *testing.T) {
	t.Parallel()
	u, err := ParseURN(SecretURN("eu", testDomain, "prod%2Fdatabase%2FMySQL"))
	if err != nil {
		t.Fatal(err)
	}
	if !u.IsSecret() || u.IsDomain() || u.Path.String() != "prod/database/MySQL" {
		t.Errorf("secret URN parsed as %+v (path %q)", u, u.Path)
	}
	if got, want := u.Domain(), DomainURN("eu", testDomain); got != want {
		t.Errorf("Domain() = %q, want %q", got, want)
	}
	d, _ := ParseURN(DomainURN("eu", testDomain))
	if !d.IsDomain() || d.IsSecret() || d.Domain() != DomainURN("eu", testDomain) {
		t.Errorf("domain URN parsed as %+v", d)
	}
	id, _ := ParseURN(AccountURN("eu", "coffer"))
	if id.Domain() != "" || id.IsDomain() {
		t.Errorf("account URN: Domain() = %q, IsDomain() = %v", id.Domain(), id.IsDomain())
	}
}

func TestBuilders(t *testing.T) {
	t.Parallel()
	tests := []struct {
		got, want string
		typ       string
	}{
		{AccountURN("eu", "coffer"), "urn:v1:eu:identity:account:coffer", TypeAccount},
		{UserURN("eu", "coffer", "alice"), "urn:v1:eu:identity:user:coffer/alice", TypeUser},
		{GroupURN("ca", "coffer", "ops"), "urn:v1:ca:identity:group:coffer/ops", TypeGroup},
		{ServiceAccountURN("us", "coffer", testClient), "urn:v1:us:identity:credential:coffer/oauth2-" + testClient, TypeCredential},
		{DomainURN("eu", testDomain), "urn:v1:eu:resource:okms:" + testDomain, TypeOKMS},
		{SecretURN("eu", testDomain, "a%2Fb"), "urn:v1:eu:resource:okms:" + testDomain + "/secret/a%2Fb", TypeOKMS},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("built %q, want %q", tc.got, tc.want)
		}
		u, err := ParseURN(tc.got)
		if err != nil || u.Type != tc.typ {
			t.Errorf("ParseURN(%q) = %+v, %v; want type %s", tc.got, u, err, tc.typ)
		}
	}
}

func TestDomainOf(t *testing.T) {
	t.Parallel()
	dom := DomainURN("eu", testDomain)
	tests := []struct {
		in, want string
		ok       bool
	}{
		{dom + "/secret/a%2Fb", dom, true},
		{dom + "/secret/a%2Fsecret%2Fb", dom, true},
		{dom + "/serviceKey/" + testKey, dom, true},
		{DomainURN("ca", otherDomain) + "/secret/x", DomainURN("ca", otherDomain), true},
		{dom, "", false},
		{AccountURN("eu", "coffer"), "", false},
		{UserURN("eu", "coffer", "a"), "", false},
		{"urn:v1:eu:resource:okms:/secret/x", "", false},
		{"okms:" + testDomain + "/secret/x", "", false},
		{"", "", false},
	}
	for _, tc := range tests {
		got, ok := DomainOf(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("DomainOf(%q) = %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}
