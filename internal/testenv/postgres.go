package testenv

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PGEnv names the variable that gives tests a PostgreSQL database.
const PGEnv = "COFFER_TEST_PGURL"

// PGURL returns $COFFER_TEST_PGURL, or skips the test when it is not set.
func PGURL(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(PGEnv)
	if base == "" {
		tb.Skip("needs PostgreSQL: " + PGEnv + "=postgres://postgres@127.0.0.1:5432/test?sslmode=disable")
	}
	return base
}

// PGSchema creates a schema of the test's own in $COFFER_TEST_PGURL's
// database, dropped with everything in it when the test ends, and returns
// a URL that selects it (search_path). It skips the test without
// COFFER_TEST_PGURL and stops it if the database cannot be reached.
func PGSchema(tb testing.TB) string {
	tb.Helper()
	base := PGURL(tb)
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("%s must be a URL: %v", PGEnv, err)
	}
	schema := "coffer_test_" + strings.ToLower(rand.Text()[:16])
	ident := pgx.Identifier{schema}.Sanitize()
	PGExec(tb, base, "CREATE SCHEMA "+ident)
	tb.Cleanup(func() { PGExec(tb, base, "DROP SCHEMA "+ident+" CASCADE") })
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// PGExec runs one SQL statement on the database of pgURL, on a connection
// of its own; it stops the test if the statement fails.
func PGExec(tb testing.TB, pgURL, sql string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, pgURL)
	if err != nil {
		tb.Fatalf("connect to %s: %v", PGEnv, err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}
