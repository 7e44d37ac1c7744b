package server_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkHandler_KeyOps measures the server's CPU cost of one service
// key operation through the whole surface-B handler, without the network
// (the issue 15 scenarios of coffer bench: key-encrypt, key-sign-ec,
// key-sign-rsa, and issue 16's transit-encrypt), beside the same cryptography done by the standard
// library alone, on every core: "EC sign within 20% of what crypto/ecdsa
// alone allows on the same cores" compares sign-ec with ecdsa-alone.
func BenchmarkHandler_KeyOps(b *testing.B) {
	s := benchServer(b, "memory")
	h := s.Handler()
	base := "/api/" + s.DefaultDomain() + "/v1/servicekey"
	create := func(body string) string {
		r := httptest.NewRequest("POST", base, strings.NewReader(body))
		r.Header.Set("Authorization", "Bearer "+benchToken)
		r.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		var k struct{ ID string }
		if rec.Code != http.StatusCreated || json.Unmarshal(rec.Body.Bytes(), &k) != nil {
			b.Fatalf("create %s = %d %s", body, rec.Code, rec.Body)
		}
		return k.ID
	}
	oct := create(`{"name":"oct","type":"oct","size":256}`)
	ec := create(`{"name":"ec","type":"EC","curve":"P-256"}`)
	rs := create(`{"name":"rsa","type":"RSA","size":2048}`)
	plain := make([]byte, 1024)
	rand.Read(plain)
	digest := sha256.Sum256(plain)
	d64 := base64.StdEncoding.EncodeToString(digest[:])
	// The Vault Transit twin of encrypt-1KiB (issue 16): the same key,
	// by name, through the Transit surface.
	transit := "/api/" + s.DefaultDomain() + "/v1/transit/encrypt/oct"
	ops := []struct{ name, path, body string }{
		{"encrypt-1KiB", base + "/" + oct + "/encrypt", `{"plaintext":"` + base64.StdEncoding.EncodeToString(plain) + `"}`},
		{"transit-encrypt-1KiB", transit, `{"plaintext":"` + base64.StdEncoding.EncodeToString(plain) + `"}`},
		{"sign-ec", base + "/" + ec + "/sign", `{"message":"` + d64 + `","alg":"ES256","isdigest":true}`},
		{"sign-rsa", base + "/" + rs + "/sign", `{"message":"` + d64 + `","alg":"RS256","isdigest":true}`},
	}
	for _, op := range ops {
		b.Run(op.name, func(b *testing.B) {
			b.ReportAllocs()
			defer reportCPU(b)()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					r := httptest.NewRequest("POST", op.path, strings.NewReader(op.body))
					r.Header.Set("Authorization", "Bearer "+benchToken)
					r.Header.Set("Content-Type", "application/json")
					w := &discardWriter{h: http.Header{}}
					h.ServeHTTP(w, r)
					if w.code != http.StatusOK {
						b.Errorf("POST %s = %d", op.path, w.code)
						return
					}
				}
			})
		})
	}
	ek, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	alone := []struct {
		name string
		fn   func() error
	}{
		{"ecdsa-alone", func() error { _, err := ecdsa.SignASN1(rand.Reader, ek, digest[:]); return err }},
		{"rsa-alone", func() error { _, err := rsa.SignPKCS1v15(rand.Reader, rk, crypto.SHA256, digest[:]); return err }},
	}
	for _, a := range alone {
		b.Run(a.name, func(b *testing.B) {
			defer reportCPU(b)()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if err := a.fn(); err != nil {
						b.Error(err)
						return
					}
				}
			})
		})
	}
}
