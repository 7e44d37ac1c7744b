package storagetest

import (
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// The benchmarks every backend runs, on 1 KiB values, as its own Benchmark
// functions call them (so each backend can add what is its own, such as
// bbolt's updates per commit).

// BenchGoroutinesPerCPU stands in for the many concurrent HTTP requests of
// a busy server: group commit and row locks only show when writers overlap.
const BenchGoroutinesPerCPU = 16

// Populate writes value under bench/0 to bench/<keys-1> in one Update.
func Populate(b testing.TB, s storage.Backend, keys int, value []byte) {
	b.Helper()
	err := s.Update(b.Context(), func(tx storage.Tx) error {
		for i := range keys {
			if err := tx.Put("bench/"+strconv.Itoa(i), value); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatalf("Update(populate) = %v, want nil", err)
	}
}

// BenchView measures concurrent reads of a 1 KiB value among 1,000 keys.
func BenchView(b *testing.B, s storage.Backend) {
	const keys = 1000
	value := make([]byte, 1024)
	Populate(b, s, keys, value)
	b.SetBytes(int64(len(value)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			i++
			key := "bench/" + strconv.Itoa(i%keys)
			err := s.View(b.Context(), func(tx storage.Tx) error {
				_, err := tx.Get(key)
				return err
			})
			if err != nil {
				b.Errorf("View() = %v, want nil", err)
				return
			}
		}
	})
}

// BenchUpdate measures the latency of one writer alone, writing 1 KiB
// values under new keys.
func BenchUpdate(b *testing.B, s storage.Backend) {
	value := make([]byte, 1024)
	b.SetBytes(int64(len(value)))
	i := 0
	for b.Loop() {
		i++
		key := "bench/" + strconv.Itoa(i)
		if err := s.Update(b.Context(), func(tx storage.Tx) error { return tx.Put(key, value) }); err != nil {
			b.Fatalf("Update() = %v, want nil", err)
		}
	}
}

// BenchUpdateParallel measures concurrent writes of 1 KiB values under
// distinct keys, by BenchGoroutinesPerCPU writers per CPU.
func BenchUpdateParallel(b *testing.B, s storage.Backend) {
	value := make([]byte, 1024)
	var next atomic.Int64
	b.SetBytes(int64(len(value)))
	b.SetParallelism(BenchGoroutinesPerCPU)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := "bench/" + strconv.FormatInt(next.Add(1), 10)
			err := s.Update(b.Context(), func(tx storage.Tx) error { return tx.Put(key, value) })
			if err != nil {
				b.Errorf("Update() = %v, want nil", err)
				return
			}
		}
	})
}
