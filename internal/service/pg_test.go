package service_test

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/pgstore"
)

// With COFFER_TEST_PGURL set, every service behaviour and benchmark also
// runs on PostgreSQL, each test on a schema of its own.
func init() {
	if os.Getenv("COFFER_TEST_PGURL") == "" {
		return
	}
	backends["pgstore"] = func(t *testing.T) storage.Backend { return openPG(t) }
	benchStores = append(benchStores, struct {
		name string
		open func(b *testing.B) storage.Backend
	}{"postgres", func(b *testing.B) storage.Backend { return openPG(b) }})
}

func openPG(tb testing.TB) storage.Backend {
	tb.Helper()
	base := os.Getenv("COFFER_TEST_PGURL")
	schema := strings.ToLower("coffer_svc_" + rand.Text()[:12])
	exec := func(sql string) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			tb.Fatalf("connect: %v", err)
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, sql); err != nil {
			tb.Fatalf("%s: %v", sql, err)
		}
	}
	ident := pgx.Identifier{schema}.Sanitize()
	exec("CREATE SCHEMA " + ident)
	tb.Cleanup(func() { exec("DROP SCHEMA " + ident + " CASCADE") })
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	st, err := pgstore.Open(context.Background(), u.String(), pgstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}
