package policy

import (
	"errors"
	"testing"
)

func TestMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*", "", true},
		{"*", "okms:apikms:secret/get", true},
		{"**", "anything", true},
		{"okms:apikms:secret/get", "okms:apikms:secret/get", true},
		{"okms:apikms:secret/get", "okms:apikms:secret/getX", false},
		{"okms:apikms:secret/get", "okms:apikms:Secret/get", false}, // case-sensitive
		{"okms:apikms:*", "okms:apikms:secret/version/getData", true},
		{"okms:apikms:*", "okms:apiovh:secret/get", false}, // namespaces independent
		{"okms:apiovh:*", "okms:apikms:secret/get", false},
		{"okms:apikms:secret/version/*", "okms:apikms:secret/version/delete", true},
		{"okms:apikms:secret/version/*", "okms:apikms:secret/get", false},
		{"*/getData", "okms:apikms:secret/version/getData", true},
		{"*/getData", "okms:apiovh:secret/version/getData", true},
		{"*/getData", "okms:apikms:secret/get", false},
		{"*secret/version*", "okms:apikms:secret/version/create", true},
		{"*secret/version*", "okms:apikms:secret/get", false},
		{"*:secret/get", "okms:apikms:secret/get", true},
		{"okms:*:secret/get", "okms:apikms:secret/get", false}, // inner "*" is literal
		{"okms:*:secret/get", "okms:*:secret/get", true},
		{"", "", true},
		{"", "x", false},
	}
	for _, tc := range tests {
		if got := Match(tc.pattern, tc.s); got != tc.want {
			t.Errorf("Match(%q, %q) = %v, want %v", tc.pattern, tc.s, got, tc.want)
		}
	}
}

func TestCovers(t *testing.T) {
	t.Parallel()
	dom := DomainURN("eu", testDomain)
	sec := func(esc string) string { return SecretURN("eu", testDomain, esc) }
	tests := []struct {
		name              string
		pattern, resource string
		want              bool
	}{
		{"domain covers itself", dom, dom, true},
		{"domain covers its secret", dom, sec("prod%2Fdb"), true},
		{"domain covers its service key", dom, dom + "/serviceKey/" + testKey, true},
		{"domain does not cover another domain's secret", dom, SecretURN("eu", otherDomain, "a"), false},
		{"secret/* covers a secret", dom + "/secret/*", sec("a%2Fb"), true},
		{"secret/* does not cover the domain", dom + "/secret/*", dom, false},
		{"exact secret", sec("prod%2Fdb"), sec("prod%2Fdb"), true},
		{"exact secret not sibling prefix", sec("prod%2Fdb"), sec("prod%2Fdb2"), false},
		{"exact secret not child", sec("prod%2Fdb"), sec("prod%2Fdb%2Fx"), false},
		{"exact secret not the domain", sec("prod%2Fdb"), dom, false},
		{"folder covers child", sec("prod%2F*"), sec("prod%2Fdb"), true},
		{"folder covers grandchild", sec("prod%2F*"), sec("prod%2Fa%2Fb"), true},
		{"folder not the folder name itself", sec("prod%2F*"), sec("prod"), false},
		{"folder not production", sec("prod%2F*"), sec("production%2Fdb"), false},
		{"prod* covers production", sec("prod*"), sec("production%2Fdb"), true},
		{"prod* covers prod itself", sec("prod*"), sec("prod"), true},
		{"prod* covers prod children", sec("prod*"), sec("prod%2Fdb"), true},
		{"all domains", "urn:v1:eu:resource:okms:*", sec("x"), true},
		{"leading wildcard on path", "*%2Fdb", sec("prod%2Fdb"), true},
		{"leading wildcard on path, other leaf", "*%2Fdb", sec("prod%2Fdb2"), false},
		{"star", "*", dom, true},
		{"other zone", DomainURN("ca", testDomain), sec("x"), false},
	}
	for _, tc := range tests {
		if got := Covers(tc.pattern, tc.resource); got != tc.want {
			t.Errorf("%s: Covers(%q, %q) = %v, want %v", tc.name, tc.pattern, tc.resource, got, tc.want)
		}
	}
}

func TestCanonicalResource(t *testing.T) {
	t.Parallel()
	dom := DomainURN("eu", testDomain)
	tests := []struct {
		name, in, want string
		err            bool
	}{
		{"raw slashes", dom + "/secret/prod/*", dom + "/secret/prod%2F*", false},
		{"raw slashes exact", dom + "/secret/prod/db/mysql", dom + "/secret/prod%2Fdb%2Fmysql", false},
		{"lowercase escape", dom + "/secret/prod%2f*", dom + "/secret/prod%2F*", false},
		{"already canonical", dom + "/secret/prod%2F*", dom + "/secret/prod%2F*", false},
		{"mixed", dom + "/secret/a/b%2Fc%2fd", dom + "/secret/a%2Fb%2Fc%2Fd", false},
		{"needless escape decoded", dom + "/secret/%61pp", dom + "/secret/app", false},
		{"only the first /secret/ separates", dom + "/secret/a/secret/b", dom + "/secret/a%2Fsecret%2Fb", false},
		{"leading wildcard", "*/secret/prod/db", "*/secret/prod%2Fdb", false},
		{"no secret part", dom, dom, false},
		{"domain wildcard", dom + "*", dom + "*", false},
		{"star", "*", "*", false},
		{"empty secret part", dom + "/secret/", dom + "/secret/", false},
		{"bad escape", dom + "/secret/a%zz", dom + "/secret/a%zz", true},
		{"truncated escape", dom + "/secret/a%2", dom + "/secret/a%2", true},
		{"space", dom + "/secret/a%20b", dom + "/secret/a%20b", true},
		{"percent literal", dom + "/secret/a%25b", dom + "/secret/a%25b", true},
		{"raw bad char", dom + "/secret/a?b", dom + "/secret/a?b", true},
	}
	for _, tc := range tests {
		got, err := CanonicalResource(tc.in)
		if got != tc.want || (err != nil) != tc.err {
			t.Errorf("%s: CanonicalResource(%q) = %q, %v; want %q, error %v", tc.name, tc.in, got, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, ErrPattern) {
			t.Errorf("%s: error %v is not ErrPattern", tc.name, err)
		}
		if err == nil {
			if again, err := CanonicalResource(got); again != got || err != nil {
				t.Errorf("%s: not idempotent: %q → %q, %v", tc.name, got, again, err)
			}
		}
	}
}
