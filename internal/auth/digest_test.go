package auth_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/auth"
)

// TestDigest checks the pooled Digest against HMAC-SHA256 computed from
// scratch, with peppers alternating (a pooled state of one pepper must
// never serve another) and from concurrent goroutines.
func TestDigest(t *testing.T) {
	ref := func(pepper []byte, token string) string {
		m := hmac.New(sha256.New, pepper)
		m.Write([]byte(token))
		return hex.EncodeToString(m.Sum(nil))
	}
	peppers := [][]byte{[]byte("pepper-one-32-bytes-long-0000000"), []byte("pepper-two"), {}}
	tokens := []string{"", "cof_root_abc", "cof_pat_" + string(make([]byte, 200)), "é"}
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for i := range 300 {
				p, tok := peppers[(i+g)%len(peppers)], tokens[i%len(tokens)]
				if got, want := auth.Digest(p, tok), ref(p, tok); got != want {
					t.Errorf("Digest(%q, %q) = %s, want %s", p, tok, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func BenchmarkDigest(b *testing.B) {
	pepper := []byte("pepper-one-32-bytes-long-0000000")
	b.ReportAllocs()
	for b.Loop() {
		auth.Digest(pepper, "cof_root_0123456789abcdefghijklmnopqrstuvwxyz")
	}
}
