package server_test

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/loadgen"
	"github.com/seed-3e8d63de/coffer/internal/logio"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

const benchToken = "cof_root_bench-token"

// benchServer builds a server as `coffer server` does, on the in-memory
// store or on bolt in a temporary directory, logging (access log and audit
// events) as JSON lines to a file through a logio.Writer, as
// `coffer server 2>file` does.
func benchServer(b *testing.B, storage string) *server.Server {
	b.Helper()
	cfg := server.Defaults()
	logFile, err := os.Create(filepath.Join(b.TempDir(), "server.log"))
	if err != nil {
		b.Fatal(err)
	}
	lw := logio.NewWriter(logFile)
	b.Cleanup(func() {
		lw.Close()
		logFile.Close()
	})
	cfg.Logger = slog.New(logio.NewJSONHandler(lw, nil))
	cfg.LogFlush = lw.Flush
	cfg.Out = io.Discard
	cfg.RootToken, cfg.DevRootToken = benchToken, benchToken
	storage, withAudit := strings.CutSuffix(storage, "+audit")
	if withAudit { // as production runs: events to a file of their own
		cfg.AuditFile = filepath.Join(b.TempDir(), "audit.log")
	}
	if storage == "memory" {
		cfg.Dev = true
	} else {
		cfg.DataDir = b.TempDir()
	}
	s, err := server.New(b.Context(), cfg)
	if err != nil {
		b.Fatalf("server.New(%s) = %v", storage, err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkHandler_Read measures the server's CPU cost of one read of a
// small secret with its data, without the network: middleware,
// authentication, authorization, audit, storage, decryption and encoding,
// through the whole handler of each surface.
func BenchmarkHandler_Read(b *testing.B) {
	for _, storage := range []string{"memory", "bolt", "memory+audit"} {
		s := benchServer(b, storage)
		h := s.Handler()
		put := httptest.NewRequest("POST", "/v1/secret/data/bench/read", strings.NewReader(`{"data":{"password":"0123456789abcdef0123456789abcdef"}}`))
		put.Header.Set("X-Vault-Token", benchToken)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, put)
		if rec.Code != http.StatusOK {
			b.Fatalf("write = %d %s", rec.Code, rec.Body)
		}
		surfaces := []struct {
			name, path, header, value string
		}{
			{"kv2", "/v1/secret/data/bench/read", "X-Vault-Token", benchToken},
			{"rest", "/api/" + s.DefaultDomain() + "/v2/secret/bench%2Fread?includeData=true", "Authorization", "Bearer " + benchToken},
		}
		for _, sf := range surfaces {
			b.Run(storage+"/"+sf.name, func(b *testing.B) {
				b.ReportAllocs()
				defer reportCPU(b)()
				b.RunParallel(func(pb *testing.PB) {
					r := httptest.NewRequest("GET", sf.path, nil)
					r.Header.Set(sf.header, sf.value)
					for pb.Next() {
						w := &discardWriter{h: http.Header{}}
						h.ServeHTTP(w, r)
						if w.code != http.StatusOK {
							b.Errorf("GET %s = %d", sf.path, w.code)
							return
						}
					}
				})
			})
		}
	}
}

// reportCPU reports the process's CPU time (user and system, garbage
// collection included) per operation, from the call to the call of the
// function it returns: unlike ns/op, it hardly moves when other processes
// compete for the CPUs.
func reportCPU(b *testing.B) func() {
	start := cpuTime()
	return func() {
		b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// discardWriter is an http.ResponseWriter that keeps only the status.
type discardWriter struct {
	h    http.Header
	code int
}

func (w *discardWriter) Header() http.Header { return w.h }
func (w *discardWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return len(b), nil
}
func (w *discardWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

// BenchmarkHTTP drives a real server over loopback with the load generator
// of `coffer bench` (32 connections), b.N requests per run: it reports the
// rate and the 99th percentile latency. Run it with -cpuprofile to see
// where a request's time goes, the load tool's share included (package
// loadgen in the profile).
func BenchmarkHTTP(b *testing.B) {
	for _, storage := range []string{"memory", "bolt", "memory+audit"} {
		for _, sc := range []string{"kv2-read", "rest-read", "kv2-write", "rest-write", "list"} {
			b.Run(storage+"/"+sc, func(b *testing.B) {
				s := benchServer(b, storage)
				ts := httptest.NewServer(s.Handler())
				defer ts.Close()
				res, err := loadgen.Run(b.Context(), loadgen.Config{
					Addr: ts.URL, Token: benchToken, OkmsID: s.DefaultDomain(), Scenario: sc,
					Connections: 32, Requests: int64(b.N), Secrets: 200,
				})
				if err != nil {
					b.Fatal(err)
				}
				if res.Errors > 0 {
					b.Fatalf("%d errors, first: %s", res.Errors, res.FirstError)
				}
				b.ReportMetric(res.Rate, "req/s")
				if res.LoadToolCPUMicros > 0 {
					// One process: the server and the load tool.
					b.ReportMetric(res.LoadToolCPUMicros, "cpu-µs/req")
				}
				b.ReportMetric(res.Latency.P99, "p99-ms")
			})
		}
	}
}

// BenchmarkHandler_ReadPolicies measures what authorization costs a read:
// the same KV2 read as BenchmarkHandler_Read, by a user whose access comes
// from one policy among n in force (the others grant other users other
// secrets), against the root token, which no policy is evaluated for.
func BenchmarkHandler_ReadPolicies(b *testing.B) {
	s := benchServer(b, "memory")
	h := s.Handler()
	svc := s.Service()
	ctx := b.Context()
	rootP, err := svc.Authenticate(ctx, benchToken)
	if err != nil {
		b.Fatal(err)
	}
	root := service.Caller{Principal: rootP}
	put := httptest.NewRequest("POST", "/v1/secret/data/app0/db", strings.NewReader(`{"data":{"password":"0123456789abcdef"}}`))
	put.Header.Set("X-Vault-Token", benchToken)
	h.ServeHTTP(httptest.NewRecorder(), put)
	pw := "correct horse battery staple"
	if _, err := svc.CreateUser(ctx, root, service.UserInput{Login: "reader", Password: &pw}); err != nil {
		b.Fatal(err)
	}
	pat, _, err := svc.CreatePAT(ctx, root, "reader", "bench", "", time.Time{})
	if err != nil {
		b.Fatal(err)
	}
	zone, domain := svc.Zone(), s.DefaultDomain()
	grant := func(i int, login, app string) policy.Policy {
		return policy.Policy{
			Name:       fmt.Sprintf("p%04d", i),
			Identities: []string{policy.UserURN(zone, "coffer", login)},
			Resources:  []string{policy.SecretURN(zone, domain, app+"%2F*")},
			Allow:      []string{policy.NamespaceKMS + policy.SecretGet, policy.NamespaceKMS + policy.SecretVersionGetData},
		}
	}
	read := func(b *testing.B, token string) {
		b.ReportAllocs()
		defer reportCPU(b)()
		b.RunParallel(func(pb *testing.PB) {
			r := httptest.NewRequest("GET", "/v1/secret/data/app0/db", nil)
			r.Header.Set("X-Vault-Token", token)
			for pb.Next() {
				w := &discardWriter{h: http.Header{}}
				h.ServeHTTP(w, r)
				if w.code != http.StatusOK {
					b.Errorf("GET = %d", w.code)
					return
				}
			}
		})
	}
	b.Run("root", func(b *testing.B) { read(b, benchToken) })
	if _, err := svc.CreatePolicy(ctx, root, grant(0, "reader", "app0")); err != nil {
		b.Fatal(err)
	}
	b.Run("policies=1", func(b *testing.B) { read(b, pat) })
	for i := 1; i < 1000; i++ {
		if _, err := svc.CreatePolicy(ctx, root, grant(i, fmt.Sprintf("user%d", i%100), fmt.Sprintf("app%d", i))); err != nil {
			b.Fatal(err)
		}
	}
	b.Run("policies=1000", func(b *testing.B) { read(b, pat) })
}
