package policy

import (
	"errors"
	"strings"
	"testing"
)

func FuzzParseURN(f *testing.F) {
	for _, s := range []string{
		AccountURN("eu", "xx1111-ovh"),
		UserURN("eu", "coffer", "alice"),
		GroupURN("ca", "coffer", "ops"),
		ServiceAccountURN("us", "coffer", testClient),
		DomainURN("eu", testDomain),
		SecretURN("eu", testDomain, "prod%2Fdb%2FMySQL"),
		DomainURN("eu", testDomain) + "/serviceKey/" + testKey,
		"urn:v1:eu:resourceGroup:aa0713ab-ed13-4f1a-89a5-32aa0cb936d8",
		"urn:v1:eu:permissionsGroup:ovh:controlPanelAccess",
		"urn:v1:eu:resource:okms:*",
		DomainURN("eu", testDomain) + "/secret/a%2f..%2Fb",
		"urn:v1::::", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURN(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidURN) {
				t.Fatalf("ParseURN(%q) error %v is not ErrInvalidURN", s, err)
			}
			return
		}
		if u.String() != s {
			t.Fatalf("ParseURN(%q).String() = %q", s, u.String())
		}
		if strings.Contains(s, "*") {
			t.Fatalf("ParseURN accepted a wildcard: %q", s)
		}
		if u.Kind == KindResource {
			// A parsed resource is its own canonical pattern and covers
			// itself, and a valid resource passes as a policy resource.
			if c, err := CanonicalResource(s); err != nil || c != s {
				t.Fatalf("CanonicalResource(%q) = %q, %v; want it unchanged", s, c, err)
			}
			if !Covers(s, s) || !resourcePrefixOK(s) {
				t.Fatalf("resource %q does not cover itself or fails the prefix check", s)
			}
			if d, ok := DomainOf(s); ok != (u.IsSecret() || u.ServiceKey != "") || ok && d != u.Domain() {
				t.Fatalf("DomainOf(%q) = %q, %v; parsed %+v", s, d, ok, u)
			}
		}
	})
}

func FuzzMatch(f *testing.F) {
	for _, s := range [][2]string{
		{"*", "okms:apikms:secret/get"},
		{"okms:apikms:*", "okms:apikms:secret/get"},
		{"*/getData", "okms:apiovh:secret/version/getData"},
		{"okms:*:secret/get", "okms:apikms:secret/get"},
		{SecretURN("eu", testDomain, "prod%2F*"), SecretURN("eu", testDomain, "prod%2Fdb")},
		{DomainURN("eu", testDomain) + "/secret/prod/*", SecretURN("eu", testDomain, "prod%2Fdb")},
		{DomainURN("eu", testDomain), SecretURN("eu", testDomain, "x")},
		{"**", ""}, {"", ""}, {"*a*", "a"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		m := Match(pattern, s)
		if m && !Covers(pattern, s) {
			t.Fatalf("Match(%q, %q) but not Covers", pattern, s)
		}
		if !Match(pattern, pattern) {
			t.Fatalf("Match(%q, itself) = false", pattern)
		}
		if !Match("*", s) {
			t.Fatalf("Match(*, %q) = false", s)
		}
		if !strings.Contains(pattern, "*") && m != (pattern == s) {
			t.Fatalf("Match(%q, %q) = %v without wildcard", pattern, s, m)
		}
		// A pattern with a "*" only at its ends matches its own fixed part.
		if wildcardPlacementOK(pattern) && !Match(pattern, strings.Trim(pattern, "*")) {
			t.Fatalf("Match(%q, its fixed part) = false", pattern)
		}
		c, err := CanonicalResource(pattern)
		if err != nil {
			return
		}
		if again, err := CanonicalResource(c); err != nil || again != c {
			t.Fatalf("CanonicalResource not idempotent: %q → %q → %q, %v", pattern, c, again, err)
		}
	})
}

func FuzzValidatePolicy(f *testing.F) {
	dom := DomainURN("eu", testDomain)
	f.Add("reader", UserURN("eu", "coffer", "alice"), dom+"/secret/prod/*", "okms:apikms:secret/get", "", "")
	f.Add("x", "urn:v1:eu:identity:user:coffer/*", "okms:*:x", "okms:apikms:secret/update", "*", "okms:*:secret/get")
	f.Add("a.b-c_d", ServiceAccountURN("eu", "coffer", testClient), dom, "*/getData", "okms:apikms:secret/version/*", "okms:apiovh:*")
	f.Add("n", GroupURN("eu", "coffer", "ops"), "*%2Fdb", "*", "", "okms:apikms:secret/delete")
	f.Add("", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, name, identity, resource, allow, except, deny string) {
		p := Policy{ID: "id", Name: name, Identities: []string{identity}, Resources: []string{resource}, Allow: []string{allow}}
		if except != "" {
			p.Except = []string{except}
		}
		if deny != "" {
			p.Deny = []string{deny}
		}
		err := p.Validate()
		if err != nil {
			ps, ok := errors.AsType[Problems](err)
			if !ok || len(ps) == 0 || !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("Validate error %#v is not a non-empty Problems", err)
			}
			_ = err.Error()
		}
		c := p.Canonical()
		if (c.Validate() == nil) != (err == nil) {
			t.Fatalf("Validate disagrees on the canonical form: %v vs %v", err, c.Validate())
		}
		if cc := c.Canonical(); cc.Resources[0] != c.Resources[0] {
			t.Fatalf("Canonical not idempotent: %q → %q", c.Resources[0], cc.Resources[0])
		}
		// Evaluating never panics, valid or not, and an index built from the
		// raw policy decides like one built from its canonical form.
		s := Subject{Identities: []string{identity}}
		target := SecretURN("eu", testDomain, "prod%2Fdb")
		raw, canon := NewIndex([]Policy{p}), NewIndex([]Policy{c})
		for _, a := range []string{allow, NamespaceKMS + SecretGet} {
			d1 := raw.Evaluate(s, a, target, t0)
			d2 := canon.Evaluate(s, a, target, t0)
			if d1 != d2 {
				t.Fatalf("raw policy decides %+v, canonical %+v", d1, d2)
			}
		}
	})
}
