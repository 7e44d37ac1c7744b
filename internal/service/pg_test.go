package service_test

import (
	"context"
	"os"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/pgstore"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// With COFFER_TEST_PGURL set, every service behaviour and benchmark also
// runs on PostgreSQL, each test on a schema of its own.
func init() {
	if os.Getenv(testenv.PGEnv) == "" {
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
	st, err := pgstore.Open(context.Background(), testenv.PGSchema(tb), pgstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}
