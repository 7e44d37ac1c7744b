package sys

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
)

// TestRouteTable pins the routing table: method, pattern and body limit
// of every route, in order, and Routes as the same list.
func TestRouteTable(t *testing.T) {
	t.Parallel()
	a := New(nil, nil, slog.New(slog.DiscardHandler))
	want := []struct {
		pattern string
		limit   int64
	}{
		{"POST /sys/master-key/rotate", httpapi.MaxBody},
		{"POST /sys/domains/{okmsId}/key/rotate", httpapi.MaxBody},
		{"POST /sys/backup", httpapi.MaxBody},
		{"POST /sys/restore", 1 << 30},
		{"POST /sys/seal/change", httpapi.MaxBody},
		{"POST /sys/seal/commit", httpapi.MaxBody},
	}
	table := a.table()
	if len(table) != len(want) {
		t.Fatalf("%d routes, want %d", len(table), len(want))
	}
	var patterns []string
	for i, rt := range table {
		if rt.pattern != want[i].pattern || rt.limit != want[i].limit || rt.handler == nil {
			t.Errorf("route %d = %s (limit %d), want %s (limit %d)", i, rt.pattern, rt.limit, want[i].pattern, want[i].limit)
		}
		patterns = append(patterns, want[i].pattern)
	}
	if got := a.Routes(); !slices.Equal(got, patterns) {
		t.Errorf("Routes() = %v, want %v", got, patterns)
	}
}

// TestDescribe: every row of the error table is reachable through
// wrapping, and unknown errors are a 500 without a message.
func TestDescribe(t *testing.T) {
	t.Parallel()
	for _, row := range table {
		status, msg := describe(fmt.Errorf("op: %w", row.err))
		if status != row.status || msg == "" {
			t.Errorf("describe(%v) = %d %q, want %d", row.err, status, msg, row.status)
		}
	}
	if status, msg := describe(errors.New("disk on fire")); status != 500 || msg != "" {
		t.Errorf("describe(unknown) = %d %q, want 500 and no message", status, msg)
	}
}
