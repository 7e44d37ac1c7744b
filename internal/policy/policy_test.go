package policy

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// validPolicy returns a policy that passes validation; tests change one
// thing at a time.
func validPolicy() Policy {
	return Policy{
		Name:       "eso-reader-prod",
		Identities: []string{ServiceAccountURN("eu", "coffer", testClient)},
		Resources:  []string{SecretURN("eu", testDomain, "prod%2F*")},
		Allow:      []string{NamespaceKMS + SecretGet, NamespaceKMS + SecretVersionGetData},
	}
}

func TestPolicy_Validate(t *testing.T) {
	t.Parallel()
	dom := DomainURN("eu", testDomain)
	type want struct {
		field Field
		index int
		rule  Rule
	}
	tests := []struct {
		name   string
		modify func(p *Policy)
		want   []want // nil: valid
	}{
		{"valid", func(*Policy) {}, nil},
		{"valid/all identity kinds", func(p *Policy) {
			p.Identities = []string{AccountURN("eu", "coffer"), UserURN("eu", "coffer", "alice"), GroupURN("eu", "coffer", "ops"), ServiceAccountURN("eu", "coffer", testClient)}
		}, nil},
		{"valid/name charset", func(p *Policy) { p.Name = "A-z_0.9" }, nil},
		{"valid/name 64", func(p *Policy) { p.Name = strings.Repeat("n", 64) }, nil},
		{"valid/deny only", func(p *Policy) { p.Allow, p.Deny = nil, []string{"okms:apikms:secret/delete"} }, nil},
		{"valid/expired", func(p *Policy) { t := time.Unix(0, 0); p.ExpiredAt = &t }, nil},
		{"valid/resource star", func(p *Policy) { p.Resources = []string{"*"} }, nil},
		{"valid/resource domain", func(p *Policy) { p.Resources = []string{dom} }, nil},
		{"valid/resource domain star", func(p *Policy) { p.Resources = []string{dom + "*"} }, nil},
		{"valid/resource all domains", func(p *Policy) { p.Resources = []string{"urn:v1:eu:resource:okms:*"} }, nil},
		{"valid/resource urn prefix", func(p *Policy) { p.Resources = []string{"urn:v1:*"} }, nil},
		{"valid/resource uuid prefix", func(p *Policy) { p.Resources = []string{"urn:v1:eu:resource:okms:6a0f*"} }, nil},
		{"valid/resource all secrets", func(p *Policy) { p.Resources = []string{dom + "/secret/*"} }, nil},
		{"valid/resource raw slashes", func(p *Policy) { p.Resources = []string{dom + "/secret/prod/db/*"} }, nil},
		{"valid/resource prod*", func(p *Policy) { p.Resources = []string{dom + "/secret/prod*"} }, nil},
		{"valid/resource exact secret", func(p *Policy) { p.Resources = []string{dom + "/secret/prod%2Fdb"} }, nil},
		{"valid/resource service keys", func(p *Policy) { p.Resources = []string{dom + "/serviceKey/*"} }, nil},
		{"valid/resource leading wildcard", func(p *Policy) { p.Resources = []string{"*/secret/prod%2Fdb"} }, nil},
		{"valid/resource both wildcards", func(p *Policy) { p.Resources = []string{"*prod%2F*"} }, nil},
		{"valid/action star", func(p *Policy) { p.Allow = []string{"*"} }, nil},
		{"valid/action namespace", func(p *Policy) { p.Allow = []string{"okms:apikms:*"} }, nil},
		{"valid/action version family", func(p *Policy) { p.Allow = []string{"okms:apikms:secret/version/*"} }, nil},
		{"valid/action suffix", func(p *Policy) { p.Allow = []string{"*/getData"} }, nil},
		{"valid/action both", func(p *Policy) { p.Allow = []string{"*secret/version*"} }, nil},
		{"valid/action unused", func(p *Policy) { p.Allow = []string{"okms:apikms:serviceKey/encrypt", "okms:apiovh:log/url/create"} }, nil},
		{"valid/except and deny", func(p *Policy) {
			p.Allow = []string{"okms:apikms:*"}
			p.Except = []string{"okms:apikms:secret/delete"}
			p.Deny = []string{"okms:apikms:secretConfig/*"}
		}, nil},

		{"name/empty", func(p *Policy) { p.Name = "" }, []want{{FieldName, -1, RuleRequired}}},
		{"name/space", func(p *Policy) { p.Name = "a b" }, []want{{FieldName, -1, RuleInvalid}}},
		{"name/at sign", func(p *Policy) { p.Name = "a@b" }, []want{{FieldName, -1, RuleInvalid}}},
		{"name/65", func(p *Policy) { p.Name = strings.Repeat("n", 65) }, []want{{FieldName, -1, RuleInvalid}}},

		{"identities/none", func(p *Policy) { p.Identities = nil }, []want{{FieldIdentities, -1, RuleRequired}}},
		{"identities/wildcard", func(p *Policy) { p.Identities = []string{"urn:v1:eu:identity:user:coffer/*"} }, []want{{FieldIdentities, 0, RuleWildcard}}},
		{"identities/star", func(p *Policy) { p.Identities = []string{"*"} }, []want{{FieldIdentities, 0, RuleWildcard}}},
		{"identities/malformed", func(p *Policy) {
			p.Identities = []string{UserURN("eu", "coffer", "alice"), "urn:v1:eu:identity:user:alice"}
		}, []want{{FieldIdentities, 1, RuleInvalid}}},
		{"identities/resource urn", func(p *Policy) { p.Identities = []string{dom} }, []want{{FieldIdentities, 0, RuleInvalid}}},
		{"identities/empty string", func(p *Policy) { p.Identities = []string{""} }, []want{{FieldIdentities, 0, RuleInvalid}}},

		{"resources/none", func(p *Policy) { p.Resources = nil }, []want{{FieldResources, -1, RuleRequired}}},
		{"resources/empty string", func(p *Policy) { p.Resources = []string{""} }, []want{{FieldResources, 0, RuleInvalid}}},
		{"resources/inner wildcard", func(p *Policy) { p.Resources = []string{"urn:v1:eu:resource:okms:*/secret/x"} }, []want{{FieldResources, 0, RuleWildcard}}},
		{"resources/inner wildcard in path", func(p *Policy) { p.Resources = []string{dom + "/secret/prod/*/db"} }, []want{{FieldResources, 0, RuleWildcard}}},
		{"resources/triple star", func(p *Policy) { p.Resources = []string{"***"} }, []want{{FieldResources, 0, RuleWildcard}}},
		{"resources/identity urn", func(p *Policy) { p.Resources = []string{UserURN("eu", "coffer", "a")} }, []want{{FieldResources, 0, RuleInvalid}}},
		{"resources/identity prefix", func(p *Policy) { p.Resources = []string{"urn:v1:eu:identity:*"} }, []want{{FieldResources, 0, RuleInvalid}}},
		{"resources/bad zone prefix", func(p *Policy) { p.Resources = []string{"urn:v1:fr:*"} }, []want{{FieldResources, 0, RuleInvalid}}},
		{"resources/other type", func(p *Policy) { p.Resources = []string{"urn:v1:eu:resource:vps:vps-1"} }, []want{{FieldResources, 0, RuleInvalid}}},
		{"resources/other type prefix", func(p *Policy) { p.Resources = []string{"urn:v1:eu:resource:vps:*"} }, []want{{FieldResources, 0, RuleInvalid}}},
		{"resources/bad okms id", func(p *Policy) { p.Resources = []string{"urn:v1:eu:resource:okms:my-domain"} }, []want{{FieldResources, 0, RuleInvalid}}},
		{"resources/bad okms id prefix", func(p *Policy) { p.Resources = []string{"urn:v1:eu:resource:okms:zz*"} }, []want{{FieldResources, 0, RuleInvalid}}},
		{"resources/bad path prefix", func(p *Policy) { p.Resources = []string{dom + "/secret/../*"} }, []want{{FieldResources, 0, RuleInvalid}}},
		{"resources/bad sub-resource prefix", func(p *Policy) { p.Resources = []string{dom + "/keys/*"} }, []want{{FieldResources, 0, RuleInvalid}}},
		{"resources/bad percent", func(p *Policy) { p.Resources = []string{dom + "/secret/a%zz"} }, []want{{FieldResources, 0, RuleInvalid}}},
		{"resources/bad path char", func(p *Policy) { p.Resources = []string{dom + "/secret/a b"} }, []want{{FieldResources, 0, RuleInvalid}}},
		{"resources/bad char with leading wildcard", func(p *Policy) { p.Resources = []string{"*a b"} }, []want{{FieldResources, 0, RuleInvalid}}},
		{"resources/resource group", func(p *Policy) {
			p.Resources = []string{"urn:v1:eu:resourceGroup:aa0713ab-ed13-4f1a-89a5-32aa0cb936d8"}
		}, []want{{FieldResources, 0, RuleUnsupported}}},

		{"permissions/none", func(p *Policy) { p.Allow = nil }, []want{{FieldPermissions, -1, RuleRequired}}},
		{"permissions/except only", func(p *Policy) { p.Allow, p.Except = nil, []string{"okms:apikms:secret/get"} }, []want{{FieldPermissions, -1, RuleRequired}}},
		{"actions/unknown", func(p *Policy) { p.Allow = []string{"okms:apikms:secret/update"} }, []want{{FieldAllow, 0, RuleUnknownAction}}},
		{"actions/wrong namespace", func(p *Policy) { p.Allow = []string{"okms:apikms:secret/edit"} }, []want{{FieldAllow, 0, RuleUnknownAction}}},
		{"actions/case", func(p *Policy) { p.Allow = []string{"okms:apikms:secret/getdata"} }, []want{{FieldAllow, 0, RuleUnknownAction}}},
		{"actions/inner wildcard", func(p *Policy) { p.Allow = []string{"okms:*:secret/get"} }, []want{{FieldAllow, 0, RuleWildcard}}},
		{"actions/wildcard matching nothing", func(p *Policy) { p.Allow = []string{"vps:apiovh:*"} }, []want{{FieldAllow, 0, RuleUnknownAction}}},
		{"actions/bad char", func(p *Policy) { p.Allow = []string{"okms:apikms:secret/get "} }, []want{{FieldAllow, 0, RuleInvalid}}},
		{"actions/empty", func(p *Policy) { p.Allow = []string{""} }, []want{{FieldAllow, 0, RuleInvalid}}},
		{"actions/except unknown", func(p *Policy) { p.Except = []string{"okms:apikms:secret/get", "okms:apikms:secret/update"} }, []want{{FieldExcept, 1, RuleUnknownAction}}},
		{"actions/deny inner wildcard", func(p *Policy) { p.Deny = []string{"okms:apikms:secret/*/get"} }, []want{{FieldDeny, 0, RuleWildcard}}},

		{"permissionsGroups", func(p *Policy) { p.PermissionsGroups = []string{"urn:v1:eu:permissionsGroup:ovh:controlPanelAccess"} }, []want{{FieldPermissionsGroups, -1, RuleUnsupported}}},
		{"conditions", func(p *Policy) { p.HasConditions = true }, []want{{FieldConditions, -1, RuleUnsupported}}},

		{"every problem at once", func(p *Policy) {
			*p = Policy{
				Name:          "bad name",
				Identities:    []string{"urn:v1:eu:identity:user:coffer/*"},
				Resources:     []string{"okms:*:x"},
				Except:        []string{"okms:apikms:secret/update"},
				HasConditions: true,
			}
		}, []want{
			{FieldName, -1, RuleInvalid},
			{FieldIdentities, 0, RuleWildcard},
			{FieldResources, 0, RuleWildcard},
			{FieldPermissions, -1, RuleRequired},
			{FieldExcept, 0, RuleUnknownAction},
			{FieldConditions, -1, RuleUnsupported},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := validPolicy()
			tc.modify(&p)
			err := p.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate(%+v) = %v, want nil", p, err)
				}
				return
			}
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("Validate(%+v) = %v, want ErrInvalidPolicy", p, err)
			}
			ps, ok := errors.AsType[Problems](err)
			if !ok {
				t.Fatalf("Validate error %T is not Problems", err)
			}
			var got []want
			for _, pr := range ps {
				got = append(got, want{pr.Field, pr.Index, pr.Rule})
				if pr.Index >= 0 && pr.Value == "" && pr.Rule != RuleInvalid {
					t.Errorf("problem %+v has no value", pr)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("Validate problems = %v\nwant %v\n(%v)", got, tc.want, err)
			}
		})
	}
}

func TestProblems_Error(t *testing.T) {
	t.Parallel()
	p := validPolicy()
	p.Allow = []string{"okms:apikms:secret/update"}
	err := p.Validate()
	const want = `policy: invalid policy: permissions.allow[0] "okms:apikms:secret/update": unknownAction: not an action of the catalogue`
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %v, want %s", err, want)
	}
}

func TestPolicy_Canonical(t *testing.T) {
	t.Parallel()
	dom := DomainURN("eu", testDomain)
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	p := validPolicy()
	p.Resources = []string{dom + "/secret/prod/*", dom + "/secret/a%2fb", dom, dom + "/secret/bad%zz"}
	p.ExpiredAt = &exp
	c := p.Canonical()
	want := []string{dom + "/secret/prod%2F*", dom + "/secret/a%2Fb", dom, dom + "/secret/bad%zz"}
	if !slices.Equal(c.Resources, want) {
		t.Errorf("Canonical().Resources = %q, want %q", c.Resources, want)
	}
	if p.Resources[0] != dom+"/secret/prod/*" {
		t.Error("Canonical modified its receiver")
	}
	c.Allow[0], c.Identities[0] = "x", "y"
	*c.ExpiredAt = time.Time{}
	if p.Allow[0] == "x" || p.Identities[0] == "y" || !p.ExpiredAt.Equal(exp) {
		t.Error("Canonical shares storage with its receiver")
	}
	if cc := c.Canonical(); !slices.Equal(cc.Resources, c.Resources) {
		t.Errorf("Canonical not idempotent: %q then %q", c.Resources, cc.Resources)
	}
	if (Policy{}).Canonical().Resources != nil {
		t.Error("Canonical of nil resources is not nil")
	}
}

func TestPolicy_ActiveAt(t *testing.T) {
	t.Parallel()
	exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	p := validPolicy()
	if !p.ActiveAt(exp) {
		t.Error("policy without expiry is not active")
	}
	p.ExpiredAt = &exp
	for _, tc := range []struct {
		now  time.Time
		want bool
	}{
		{exp.Add(-time.Nanosecond), true},
		{exp, false}, // at expiredAt exactly: expired
		{exp.Add(time.Nanosecond), false},
	} {
		if got := p.ActiveAt(tc.now); got != tc.want {
			t.Errorf("ActiveAt(%v) = %v, want %v", tc.now, got, tc.want)
		}
	}
}
