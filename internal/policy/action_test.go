package policy

import (
	"strings"
	"testing"
)

func TestKnownAction(t *testing.T) {
	t.Parallel()
	tests := []struct {
		action string
		want   bool
	}{
		{"okms:apikms:secret/get", true},
		{"okms:apikms:secret/version/getData", true},
		{"okms:apikms:secret/subKeys/get", true},
		{"okms:apikms:secretConfig/update", true},
		{"okms:apikms:serviceKey/dataKey/decrypt", true},
		{"okms:apikms:random/get", true},
		{"okms:apiovh:secret/edit", true},
		{"okms:apiovh:secret/version/edit", true},
		{"okms:apiovh:resource/get", true},
		{"okms:apiovh:credential/create", true},
		{"okms:apiovh:log/url/create", true},
		{"okms:apiovh:serviceKey/import", true},

		{"okms:apikms:secret/update", false}, // third-party documentation typo (iam.md 4.1)
		{"okms:apikms:secret/edit", false},   // central only
		{"okms:apikms:resource/get", false},  // central only
		{"okms:apikms:credential/get", false},
		{"okms:apikms:log/kind/get", false},
		{"okms:apiovh:secret/subKeys/get", false}, // data plane only
		{"okms:apiovh:random/get", false},
		{"okms:apiovh:serviceKey/encrypt", false},
		{"okms:apikms:Secret/get", false}, // case-sensitive
		{"okms:apikms:*", false},          // a pattern, not an action
		{"secret/get", false},
		{"", false},
	}
	for _, tc := range tests {
		if got := KnownAction(tc.action); got != tc.want {
			t.Errorf("KnownAction(%q) = %v, want %v", tc.action, got, tc.want)
		}
	}
}

func TestCatalogue(t *testing.T) {
	t.Parallel()
	c := Catalogue()
	// iam.md 5.1: 12 secret actions + 16 of service keys (the swagger's,
	// with wrapKey, unwrapKey and random/get), all used; 5.2: 17 + 7 of
	// service keys used, 5 of logs unused.
	counts := map[string][2]int{}
	seen := map[string]bool{}
	for _, a := range c {
		if seen[a.Name] {
			t.Errorf("duplicate action %q", a.Name)
		}
		seen[a.Name] = true
		ns := a.Name[:strings.LastIndex(a.Name, ":")+1]
		n := counts[ns]
		if a.Used {
			n[0]++
		} else {
			n[1]++
		}
		counts[ns] = n
		if !KnownAction(a.Name) {
			t.Errorf("catalogue action %q is not known", a.Name)
		}
	}
	want := map[string][2]int{NamespaceKMS: {28, 0}, NamespaceCentral: {24, 5}}
	for ns, w := range want {
		if counts[ns] != w {
			t.Errorf("%s: %d used and %d unused actions, want %v", ns, counts[ns][0], counts[ns][1], w)
		}
	}
	if len(counts) != 2 {
		t.Errorf("namespaces %v, want exactly %s and %s", counts, NamespaceKMS, NamespaceCentral)
	}
	if len(c) > 64 {
		t.Errorf("%d actions: the precomputed action bits of Index cover 64; beyond, evaluation falls back to matching patterns", len(c))
	}
	c[0].Name = "mutated"
	if Catalogue()[0].Name == "mutated" {
		t.Error("Catalogue returned shared storage")
	}
}
