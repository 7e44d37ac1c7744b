package server_test

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// TestGenerateLargeStore fills an embedded store with many secrets, for
// the large-store measurements of docs/performance.md. It runs only when
// COFFER_LARGE_STORE is set to a data directory (created as by `coffer
// server --data-dir`, root token cof_root_large-store); COFFER_LARGE_N
// secrets (default 100000) named large/r/<n>, with a 64-byte value each,
// are added to the default domain, through the service as any client
// would (256 at a time, so that group commit batches them). `coffer bench
// --prefix large --no-setup --secrets N` reads them.
func TestGenerateLargeStore(t *testing.T) {
	dir := os.Getenv("COFFER_LARGE_STORE")
	if dir == "" {
		t.Skip("set COFFER_LARGE_STORE to a data directory (and COFFER_LARGE_N) to generate a large store")
	}
	n := 100000
	if v := os.Getenv("COFFER_LARGE_N"); v != "" {
		var err error
		if n, err = strconv.Atoi(v); err != nil {
			t.Fatalf("COFFER_LARGE_N: %v", err)
		}
	}
	cfg := server.Defaults()
	cfg.DataDir, cfg.RootToken = dir, "cof_root_large-store"
	cfg.Logger, cfg.Out = slog.New(slog.DiscardHandler), io.Discard
	s, err := server.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	svc := s.Service()
	p, err := svc.Authenticate(t.Context(), cfg.RootToken)
	if err != nil {
		t.Fatal(err)
	}
	c := service.Caller{Principal: p}
	value, err := secret.ParseData([]byte(`{"password":"0123456789abcdef0123456789abcdef0123456789a"}`))
	if err != nil {
		t.Fatal(err)
	}
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	start := time.Now()
	for range 256 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) || t.Failed() {
					return
				}
				path := secret.MustParsePath(fmt.Sprintf("large/r/%d", i))
				if _, err := svc.CreateSecret(t.Context(), c, s.DefaultDomain(), path, value, secret.MetadataUpdate{}); err != nil {
					t.Errorf("CreateSecret(%s): %v", path, err)
					return
				}
				if i > 0 && i%100000 == 0 {
					t.Logf("%d secrets in %v", i, time.Since(start).Round(time.Second))
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("%d secrets in %v (%.0f/s)", n, time.Since(start).Round(time.Second), float64(n)/time.Since(start).Seconds())
}
