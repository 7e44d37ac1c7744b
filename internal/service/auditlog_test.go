package service_test

import (
	"crypto/rand"
	"errors"
	"path/filepath"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

func TestService_AuditTail(t *testing.T) {
	// The fixture's recorder cannot be read back.
	f := newFixture(t, memstore.New())
	if _, err := f.svc.AuditTail(t.Context(), f.root, 10); !errors.Is(err, service.ErrAuditNotReadable) {
		t.Errorf("AuditTail on a write-only sink = %v, want ErrAuditNotReadable", err)
	}

	sink, err := audit.OpenFile(filepath.Join(t.TempDir(), "audit.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			store := open(t)
			t.Cleanup(func() { store.Close() })
			svc, _, p := startService(t, service.Options{Store: store, Audit: sink, Rand: rand.Reader}, "root-token")
			root := service.Caller{Principal: p, Surface: "B"}
			if _, err := svc.ListUsers(t.Context(), root); err != nil {
				t.Fatal(err)
			}
			// Both change nothing: each has one event, written once it is done.
			evs, err := svc.AuditTail(t.Context(), root, 1)
			if err != nil || len(evs) != 1 || evs[0].Action != "coffer:iam/user/list" || evs[0].Phase != audit.PhaseRequestResponse {
				t.Fatalf("AuditTail = %+v, %v; want the list's event", evs, err)
			}
			evs, err = svc.AuditTail(t.Context(), root, 2)
			if err != nil || len(evs) != 2 || evs[0].Action != "coffer:iam/user/list" || evs[1].Action != "coffer:iam/audit/list" || evs[1].Phase != audit.PhaseRequestResponse {
				t.Fatalf("AuditTail = %+v, %v; want the list's event and the previous tail's", evs, err)
			}
			bob := service.Caller{Principal: p, Surface: "B"}
			bob.Principal.Root, bob.Principal.Identities = false, []string{"urn:v1:eu:identity:user:coffer/bob"}
			if _, err := svc.AuditTail(t.Context(), bob, 2); !errors.Is(err, service.ErrDenied) {
				t.Errorf("AuditTail by a user = %v, want ErrDenied", err)
			}
		})
	}
}
