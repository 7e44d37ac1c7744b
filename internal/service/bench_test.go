package service_test

import (
	"crypto/rand"
	"fmt"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/boltstore"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
	"github.com/seed-3e8d63de/coffer/internal/storage/sealed"
)

// benchStores are the stacks the service benchmarks run on, as the server
// builds them: a backend under the encryption layer.
var benchStores = []struct {
	name string
	open func(b *testing.B) storage.Backend
}{
	{"bolt", func(b *testing.B) storage.Backend {
		st, err := boltstore.Open(filepath.Join(b.TempDir(), "coffer.db"), boltstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		return st
	}},
	{"memory", func(*testing.B) storage.Backend { return memstore.New() }},
}

func sealedStore(b *testing.B, raw storage.Backend) storage.Backend {
	b.Helper()
	root, err := crypto.NewKey(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	st, err := sealed.Open(b.Context(), raw, root, func(k string) crypto.KeyID { return crypto.KeyID(service.KeyFamily(k)) })
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

func benchService(b *testing.B, raw storage.Backend) (*service.Service, service.Caller, string) {
	b.Helper()
	svc := service.New(service.Options{Store: sealedStore(b, raw)})
	res, err := svc.Init(b.Context(), service.InitOptions{RootToken: "root-token"})
	if err != nil {
		b.Fatal(err)
	}
	p, err := svc.Authenticate(b.Context(), "root-token")
	if err != nil {
		b.Fatal(err)
	}
	return svc, service.Caller{Principal: p}, res.DefaultDomain
}

// value1KiB is a secret value of about 1 KiB of compact JSON.
func value1KiB(b *testing.B) secret.Data {
	d, err := secret.ParseData([]byte(`{"password":"` + strings.Repeat("x", 1000) + `"}`))
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// BenchmarkService_Read1KiB reads a 1 KiB value (GetSecret with data)
// through the service, the encryption layer and the backend.
func BenchmarkService_Read1KiB(b *testing.B) {
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			svc, c, domain := benchService(b, st.open(b))
			p := secret.MustParsePath("bench/read")
			if _, err := svc.CreateSecret(b.Context(), c, domain, p, value1KiB(b), secret.MetadataUpdate{}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			start := cpuTime()
			for b.Loop() {
				v, err := svc.GetSecret(b.Context(), c, domain, p, service.GetOptions{IncludeData: true})
				if err != nil || v.Data == nil {
					b.Fatal(err)
				}
			}
			// This process's CPU time: the service's own, not the database
			// server's, and hardly disturbed by other processes.
			b.ReportMetric(float64((cpuTime()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// BenchmarkService_Write1KiB adds 1 KiB versions to one secret, one writer
// at a time: each write is durable (fsync) before it returns on bolt.
func BenchmarkService_Write1KiB(b *testing.B) {
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			svc, c, domain := benchService(b, st.open(b))
			d := value1KiB(b)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				// A secret holds at most 24000 versions: move on before.
				p := secret.MustParsePath(fmt.Sprintf("bench/write/%d", i/20000))
				if _, _, err := svc.PutVersion(b.Context(), c, domain, p, d, service.PutOptions{CreateIfMissing: true}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkService_Write1KiBParallel writes 1 KiB versions to distinct
// secrets from many goroutines, so that group commit can share fsyncs.
func BenchmarkService_Write1KiBParallel(b *testing.B) {
	for _, st := range benchStores {
		b.Run(st.name, func(b *testing.B) {
			svc, c, domain := benchService(b, st.open(b))
			d := value1KiB(b)
			var n atomic.Int64
			b.SetParallelism(16)
			b.ReportAllocs()
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				p := secret.MustParsePath(fmt.Sprintf("bench/par/%d", n.Add(1)))
				for pb.Next() {
					if _, _, err := svc.PutVersion(b.Context(), c, domain, p, d, service.PutOptions{CreateIfMissing: true}); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
