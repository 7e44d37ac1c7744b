package main

import (
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/client"
)

func TestAudit(t *testing.T) {
	t.Parallel()
	h := newHarness(t, options{auditFile: true})
	h.ok("secret", "create", "app/db", "password=s3cr3t")
	h.ok("user", "create", "alice")
	h.check("audit_tail", 0, "audit", "tail", "-n", "4")
	evs := jsonOut[[]client.AuditEvent](t, h.ok("audit", "tail", "--lines", "50", "--format", "json"))
	var sawCreate bool
	for _, e := range evs {
		if e.Action == "okms:apikms:secret/create" && strings.Contains(e.Resource, "app%2Fdb") && e.Outcome == "allowed" {
			sawCreate = true
		}
	}
	if !sawCreate {
		t.Errorf("the audit tail has no allowed secret/create of app/db: %+v", evs)
	}
	tok := jsonOut[client.Token](t, h.ok("token", "create", "alice", "t", "--format", "json")).Token
	h.env["COFFER_TOKEN"] = tok
	h.check("audit_tail_forbidden", 1, "audit", "tail")
	h.env["COFFER_TOKEN"] = rootToken
	raw := h.ok("audit", "tail", "-n", "100", "--format", "json")
	if strings.Contains(raw, "s3cr3t") || strings.Contains(raw, tok) || !strings.Contains(raw, `"outcome": "denied"`) {
		t.Errorf("the audit tail shows a value or a token, or misses the denial: %s", raw)
	}

	plain := newHarness(t, options{})
	plain.check("audit_tail_not_readable", 1, "audit", "tail")
}
