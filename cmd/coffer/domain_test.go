package main

import (
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/client"
)

func TestDomain(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	h.ok("secret", "create", "app/db", "k=v")
	h.check("domain_list", 0, "domain", "list")
	h.check("domain_list_json", 0, "domain", "list", "--format", "json")
	h.check("domain_get", 0, "domain", "get")
	h.check("domain_get_missing", 1, "domain", "get", "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f")

	// Activation waits until the domain is ready, with progress on stderr.
	r := h.check("domain_activate", 0, "domain", "activate", "--name", "staging")
	if !strings.Contains(r.stderr, ": ready") {
		t.Errorf("domain activate stderr = %q, want progress ending in ready", r.stderr)
	}
	h.check("domain_activate_bad_region", 1, "domain", "activate", "--region", "mars")
	ds := jsonOut[[]client.Domain](t, h.ok("domain", "list", "--format", "json"))
	if len(ds) != 2 {
		t.Fatalf("domain list after activate = %d domains", len(ds))
	}
	var second string
	for _, d := range ds {
		if d.ID != h.domain {
			second = d.ID
		}
	}
	// Secret commands still address the default domain.
	if out := h.ok("secret", "get", "app/db", "--field", "k"); out != "v" {
		t.Errorf("with two domains, secret get reads %q", out)
	}
	h.fails(1, "SecretNotFound", "secret", "get", "app/db", "--okms-id", second)
	h.ok("secret", "create", "other/db", "k=2", "--okms-id", second)

	renamed := jsonOut[client.Domain](t, h.ok("domain", "rename", second, "staging-2", "--format", "json"))
	if renamed.IAM.DisplayName != "staging-2" {
		t.Errorf("rename: %+v", renamed)
	}
	h.fails(1, "HTTP 404", "domain", "rename", "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f", "x")

	// Deletion needs a confirmation.
	r = h.runIn("", "domain", "delete", second)
	r.expectFailure(t, 2, "pass --confirm")
	h.golden("domain_delete_unconfirmed", r)
	r = h.runIn("not-the-id\n", "domain", "delete", second)
	r.expectFailure(t, 1, "does not match: nothing deleted")
	if len(jsonOut[[]client.Domain](t, h.ok("domain", "list", "--format", "json"))) != 2 {
		t.Fatalf("a refused confirmation deleted the domain")
	}
	r = h.runIn(second+"\n", "domain", "delete", second)
	if r.code != 0 || !strings.Contains(r.stderr, "holds 1 secrets") {
		t.Errorf("domain delete with the id typed: %+v", r)
	}
	h.golden("domain_delete_typed", r)
	h.fails(1, "HTTP 404", "domain", "delete", second, "--confirm")
	h.fails(1, "HTTP 404", "domain", "get", second)

	// --no-wait, then --confirm.
	d := jsonOut[client.Domain](t, h.ok("domain", "activate", "--no-wait", "--format", "json"))
	h.srv.Service().Wait()
	h.check("domain_delete_confirm_json", 0, "domain", "delete", d.ID, "--confirm", "--format", "json")
}

// TestDomain_ProgressOnTerminal: on a terminal the wait draws a spinner on
// one line.
func TestDomain_ProgressOnTerminal(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{})
	var out, errb terminal
	code := run(t.Context(), []string{"domain", "activate"}, func(k string) string { return h.env[k] }, strings.NewReader(""), &out, &errb)
	if code != 0 || !strings.HasPrefix(errb.String(), "\ractivating domain ") || !strings.HasSuffix(errb.String(), ": ready\n") {
		t.Errorf("domain activate on a terminal: exit %d, stderr %q", code, errb.String())
	}
}
