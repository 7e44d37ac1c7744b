package service_test

import (
	"errors"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Operations that change nothing have one audit event, written after the
// operation and before the answer, carrying the decision and the outcome
// (reliability-security.md 7); when it cannot be written no value is handed
// out. Writes keep the pair, and are refused before they change anything
// when the request event cannot be written.
func TestService_AuditOneEventPerRead(t *testing.T) {
	eachBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		p := secret.MustParsePath("audit/one")
		urn := f.svc.SecretURN(f.domain, p)
		m := f.mark()
		if _, err := f.svc.CreateSecret(ctx, f.root, f.domain, p, data(t, `{"v":"CANARY"}`), secret.MetadataUpdate{}); err != nil {
			t.Fatal(err)
		}
		if evs := f.since(m); len(evs) != 2 || evs[0].Phase != audit.PhaseRequest || evs[1].Phase != audit.PhaseResponse || !evs[0].Durable {
			t.Errorf("a write's audit = %+v; want a durable request event and a response event", evs)
		}

		tests := []struct {
			name     string
			read     func() error
			action   string
			outcome  string
			decision string
		}{
			{"read with data", func() error {
				_, err := f.svc.GetSecret(ctx, f.root, f.domain, p, service.GetOptions{IncludeData: true})
				return err
			}, "okms:apikms:secret/get,okms:apikms:secret/version/getData", audit.Allowed, "allow: account root"},
			{"metadata read", func() error {
				_, err := f.svc.GetSecret(ctx, f.root, f.domain, p, service.GetOptions{})
				return err
			}, "okms:apikms:secret/get", audit.Allowed, "allow: account root"},
			{"missing version", func() error {
				_, err := f.svc.GetSecret(ctx, f.root, f.domain, p, service.GetOptions{Version: 9, IncludeData: true})
				return err
			}, "okms:apikms:secret/get,okms:apikms:secret/version/getData", audit.Failed, "allow: account root"},
		}
		for _, tc := range tests {
			m := f.mark()
			tc.read()
			evs := f.since(m)
			if len(evs) != 1 {
				t.Fatalf("%s: %d audit events %+v, want 1", tc.name, len(evs), evs)
			}
			e := evs[0]
			if e.Phase != audit.PhaseRequestResponse || e.Action != tc.action || e.Resource != urn ||
				e.Outcome != tc.outcome || e.Decision != tc.decision || e.Durable {
				t.Errorf("%s: audit event %+v; want phase %s, action %s, outcome %s, decision %q, not durable",
					tc.name, e, audit.PhaseRequestResponse, tc.action, tc.outcome, tc.decision)
			}
		}

		// A denied read: one event, denied, with the policy decision.
		bob := f.asUser(t, "bob", "")
		tc0 := policy.NamespaceKMS + policy.SecretGet + "," + policy.NamespaceKMS + policy.SecretVersionGetData
		m = f.mark()
		if _, err := f.svc.GetSecret(ctx, bob, f.domain, p, service.GetOptions{IncludeData: true}); !errors.Is(err, service.ErrDenied) {
			t.Fatalf("bob's read = %v, want ErrDenied", err)
		}
		if evs := f.since(m); len(evs) != 1 || evs[0].Outcome != audit.Denied || evs[0].Decision == "" || evs[0].Action != tc0 {
			t.Errorf("a denied read's audit = %+v; want one denied event naming the action and the decision", evs)
		}

		// Fail closed: the sink fails, so the read returns no value, and a
		// write changes nothing.
		f.audit.mu.Lock()
		f.audit.fail = true
		f.audit.mu.Unlock()
		view, err := f.svc.GetSecret(ctx, f.root, f.domain, p, service.GetOptions{IncludeData: true})
		_, _, werr := f.svc.PutVersion(ctx, f.root, f.domain, p, data(t, `{"v":2}`), service.PutOptions{})
		f.audit.mu.Lock()
		f.audit.fail = false
		f.audit.mu.Unlock()
		if !errors.Is(err, service.ErrAuditUnavailable) || view.Data != nil || view.Secret != nil {
			t.Errorf("read with a failing audit sink = %+v, %v; want nothing and ErrAuditUnavailable", view, err)
		}
		if !errors.Is(werr, service.ErrAuditUnavailable) {
			t.Errorf("write with a failing audit sink = %v, want ErrAuditUnavailable", werr)
		}
		got, err := f.svc.GetSecret(ctx, f.root, f.domain, p, service.GetOptions{})
		if err != nil || got.Secret.CurrentVersion != 1 {
			t.Errorf("after the refused write: %v, %+v; want version 1 still current", err, got.Secret)
		}
	})
}
