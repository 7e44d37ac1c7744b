package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestUnreachable: the errors that say the database cannot be reached,
// and those that say it refused the transaction.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	pg := func(code string) error { return fmt.Errorf("pgstore: get: %w", &pgconn.PgError{Code: code}) }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"admin shutdown", pg("57P01"), true},
		{"crash shutdown", pg("57P02"), true},
		{"cannot connect now", pg("57P03"), true},
		{"too many connections", pg("53300"), true},
		{"read-only standby", pg("25006"), true},
		{"connection failure", pg("08006"), true},
		{"connection does not exist", pg("08003"), true},
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}, true},
		{"reset", fmt.Errorf("read: %w", syscall.ECONNRESET), true},
		{"broken pipe", fmt.Errorf("write: %w", syscall.EPIPE), true},
		{"closed by the server", fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), true},
		{"connect error", &pgconn.ConnectError{}, true},
		{"serialization failure", pg("40001"), false},
		{"unique violation", pg("23505"), false},
		{"undefined table", pg("42P01"), false},
		{"disk full", pg("53100"), false},
		{"canceled", context.Canceled, false},
		{"deadline", fmt.Errorf("acquire: %w", context.DeadlineExceeded), false},
		{"i/o timeout", &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, true},
		{"other", errors.New("boom"), false},
	}
	for _, tc := range tests {
		if got := unreachable(tc.err); got != tc.want {
			t.Errorf("unreachable(%s) = %v, want %v", tc.name, got, tc.want)
		}
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }
