package iamapi_test

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

const auditPath = "/v2/iam/audit"

// withAuditFile is a server that audits to a file, which it can read back.
func withAuditFile(t *testing.T) *env {
	t.Helper()
	file := filepath.Join(t.TempDir(), "audit.log")
	return newEnvWith(t, func(c *server.Config) { c.AuditFile = file })
}

type auditLine struct {
	Time, Phase, RequestID, Surface, Action, Resource, Outcome string
	Principal                                                  []string
}

// TestAudit_Tail: the last events of the audit file, oldest first, with
// limit; the read itself is audited.
func TestAudit_Tail(t *testing.T) {
	t.Parallel()
	e := withAuditFile(t)
	e.createUser("alice", "")
	r := e.Call("GET", auditPath, "")
	r.Expect(t, 200, "")
	evs := wiretest.DecodeBody[[]auditLine](t, r)
	if len(evs) < 2 {
		t.Fatalf("GET %s = %d events, want at least the pair of the user creation: %s", auditPath, len(evs), r.Body)
	}
	var sawCreate bool
	for _, ev := range evs {
		if strings.Contains(ev.Resource, "alice") && ev.Outcome == "allowed" {
			sawCreate = true
		}
		if ev.Time == "" || ev.Phase == "" || ev.Action == "" || ev.RequestID == "" {
			t.Errorf("event %+v lacks a member", ev)
		}
	}
	if !sawCreate {
		t.Errorf("no allowed event about alice in %s", r.Body)
	}
	previous := r.Header.Get("X-Request-Id")
	r = e.Call("GET", auditPath+"?limit=1", "")
	r.Expect(t, 200, "")
	last := wiretest.DecodeBody[[]auditLine](t, r)
	if len(last) != 1 {
		t.Fatalf("limit=1 gave %d events: %s", len(last), r.Body)
	}
	// A read changes nothing: its one event is written once it has read
	// the file, before it answers, so the last event is the previous read's.
	if last[0].Action != "coffer:iam/audit/list" || last[0].Phase != "request+response" || last[0].RequestID != previous ||
		!slices.Contains(last[0].Principal, "urn:v1:eu:identity:account:coffer") {
		t.Errorf("last event = %+v, want the event of the previous read, by the account", last[0])
	}
}

func TestAudit_Refusals(t *testing.T) {
	t.Parallel()
	t.Run("400/limit not a number", func(t *testing.T) {
		t.Parallel()
		withAuditFile(t).Call("GET", auditPath+"?limit=ten", "").Expect(t, 400, "Client::BadRequest::InvalidAudit")
	})
	t.Run("400/limit out of range", func(t *testing.T) {
		t.Parallel()
		e := withAuditFile(t)
		e.Call("GET", auditPath+"?limit=0", "").Expect(t, 400, "Client::BadRequest::InvalidAudit")
		e.Call("GET", auditPath+"?limit=10001", "").Expect(t, 400, "Client::BadRequest::InvalidAudit")
	})
	t.Run("401/no token", func(t *testing.T) {
		t.Parallel()
		withAuditFile(t).Send(request{Method: "GET", Target: auditPath, Token: noToken}).Expect(t, 401, "Client::Unauthorized")
	})
	t.Run("403/a user outside the ADMIN group", func(t *testing.T) {
		t.Parallel()
		e := withAuditFile(t)
		e.createUser("alice", "")
		tok := e.createToken("alice", "ci", "")
		e.as(tok, "GET", auditPath, "").Expect(t, 403, "Client::Forbidden")
	})
	t.Run("200/a user of an ADMIN group", func(t *testing.T) {
		t.Parallel()
		e := withAuditFile(t)
		e.createGroup("ops", "ADMIN")
		e.createUser("alice", "ops")
		tok := e.createToken("alice", "ci", "")
		e.as(tok, "GET", auditPath, "").Expect(t, 200, "")
	})
	t.Run("405/POST", func(t *testing.T) {
		t.Parallel()
		withAuditFile(t).Call("POST", auditPath, `{}`).Expect(t, 405, "Client::MethodNotAllowed")
	})
	t.Run("501/audit to the server log", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t)
		r := e.Call("GET", auditPath, "")
		r.Expect(t, 501, "Server::NotImplemented::AuditNotReadable")
		e.Golden(t, "error_AuditNotReadable", r)
	})
}
