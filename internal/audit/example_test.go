package audit_test

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/logio"
)

// The audit file holds one JSON line per event: who, which action on which
// resource, and the outcome, never a value or a token.
func ExampleFileSink() {
	dir, _ := os.MkdirTemp("", "audit")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "audit.log")
	sink, _ := audit.OpenFile(path)
	_ = sink.Record(context.Background(), audit.Event{
		Time: time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC), Phase: audit.PhaseRequest,
		RequestID: "5a6b0c1d-0000-4000-8000-000000000000", Surface: "B",
		Principal:  []string{"urn:v1:eu:identity:user:coffer/alice"},
		Credential: "pat:acc_3f2a9c0d1b4e5f60",
		Action:     "okms:apikms:secret/version/getData",
		Resource:   "urn:v1:eu:resource:okms:6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f/secret/prod%2Fdb",
		Outcome:    audit.Allowed, Reason: "allow: policy readers allows", RemoteAddr: "127.0.0.1:50000",
		Durable: true,
	})
	sink.Close()
	b, _ := os.ReadFile(path)
	fmt.Print(string(b))
	// Output:
	// {"time":"2026-01-10T09:00:00Z","phase":"request","request_id":"5a6b0c1d-0000-4000-8000-000000000000","surface":"B","principal":["urn:v1:eu:identity:user:coffer/alice"],"credential":"pat:acc_3f2a9c0d1b4e5f60","action":"okms:apikms:secret/version/getData","resource":"urn:v1:eu:resource:okms:6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f/secret/prod%2Fdb","outcome":"allowed","reason":"allow: policy readers allows","remote_addr":"127.0.0.1:50000"}
}

// Without an audit file, the server writes events to its log: one JSON
// line per event, stamped with the event's time.
func ExampleSlogSink() {
	log := slog.New(logio.NewJSONHandler(os.Stdout, nil))
	_ = audit.SlogSink{Logger: log}.Record(context.Background(), audit.Event{
		Time: time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC), Phase: audit.PhaseResponse,
		RequestID: "5a6b0c1d-0000-4000-8000-000000000000", Surface: "C",
		Principal:  []string{"urn:v1:eu:identity:account:coffer"},
		Credential: "root-token:root",
		Action:     "okms:apikms:secret/version/getData",
		Resource:   "urn:v1:eu:resource:okms:6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f/secret/prod%2Fdb",
		Outcome:    audit.Allowed,
	})
	// Output:
	// {"time":"2026-01-10T09:00:00Z","level":"INFO","msg":"audit","phase":"response","request_id":"5a6b0c1d-0000-4000-8000-000000000000","surface":"C","principal":["urn:v1:eu:identity:account:coffer"],"credential":"root-token:root","action":"okms:apikms:secret/version/getData","resource":"urn:v1:eu:resource:okms:6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f/secret/prod%2Fdb","outcome":"allowed","reason":""}
}
