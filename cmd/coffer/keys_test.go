package main

import (
	"strings"
	"testing"
)

// TestKeyRotation rotates a domain key and the root key of a running
// server through the CLI; the secrets stay readable.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	h.ok("secret", "create", "app/db", "k=v1")

	out := h.ok("domain", "rotate-key")
	if !strings.Contains(out, h.domain) || !strings.Contains(out, "key_term") || !strings.Contains(out, "2") {
		t.Errorf("domain rotate-key = %q, want the domain and key term 2", out)
	}
	h.ok("secret", "update", "app/db", "k=v2")
	if got := h.ok("secret", "get", "app/db", "--field", "k", "--version", "1"); got != "v1" {
		t.Errorf("version 1 after the rotation = %q, want v1", got)
	}
	if got := h.ok("secret", "get", "app/db", "--field", "k"); got != "v2" {
		t.Errorf("version 2, written under the new term = %q, want v2", got)
	}
	h.fails(1, "HTTP 404", "domain", "rotate-key", "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f")

	out = h.ok("operator", "rotate-master-key", "--format", "json")
	if !strings.Contains(out, `"local"`) {
		t.Errorf("operator rotate-master-key = %q, want the region re-sealed", out)
	}
	if got := h.ok("secret", "get", "app/db", "--field", "k"); got != "v2" {
		t.Errorf("after the root key rotation = %q, want v2", got)
	}
	h.fails(1, "HTTP 401", "operator", "rotate-master-key", "--token", "cof_root_wrong")
}
