package okmsseal

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/seal"
)

const (
	domain = "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"
	key    = "0b7e2f3a-6c1d-4e53-8a7e-2f3b4c5d6e7f"
	token  = "cof_pat_canary_okmsseal"
)

func TestCheck(t *testing.T) {
	ok := Seal{Endpoint: "https://kms.example.com", Domain: domain, KeyID: key, Token: token}
	tests := []struct {
		name string
		mod  func(*Seal)
		want error
	}{
		{"token", func(*Seal) {}, nil},
		{"certificate", func(s *Seal) { s.Token, s.CertFile, s.KeyFile = "", "a.crt", "a.key" }, nil},
		{"no endpoint", func(s *Seal) { s.Endpoint = "" }, seal.ErrParameters},
		{"no domain", func(s *Seal) { s.Domain = "" }, seal.ErrParameters},
		{"domain not a uuid", func(s *Seal) { s.Domain = "prod" }, seal.ErrParameters},
		{"key not a uuid", func(s *Seal) { s.KeyID = "seal" }, seal.ErrParameters},
		{"no credential", func(s *Seal) { s.Token = "" }, seal.ErrParameters},
		{"token and certificate", func(s *Seal) { s.CertFile, s.KeyFile = "a.crt", "a.key" }, seal.ErrParameters},
		{"certificate without key", func(s *Seal) { s.Token, s.CertFile = "", "a.crt" }, seal.ErrParameters},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.mod(&s)
			err := s.Check()
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Check() = %v, want %v", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), token) {
				t.Fatalf("Check() names the token: %v", err)
			}
		})
	}
}

func TestUnlockRecord(t *testing.T) {
	s := Seal{Token: token}
	for _, rec := range []*seal.Record{
		{Type: seal.TypeTransit, KMS: map[string]string{recDomain: domain, recKey: key}},
		{Type: seal.TypeOKMS},
		{Type: seal.TypeOKMS, KMS: map[string]string{recDomain: domain}},
	} {
		if _, err := s.Unlock(t.Context(), rec, nil); !errors.Is(err, seal.ErrRecord) {
			t.Errorf("Unlock(%+v) = %v, want ErrRecord", rec, err)
		}
	}
	rec := &seal.Record{Type: seal.TypeOKMS, KMS: map[string]string{recEndpoint: "ftp://kms", recDomain: domain, recKey: key}}
	if _, err := s.Unlock(t.Context(), rec, nil); !errors.Is(err, seal.ErrParameters) {
		t.Errorf("Unlock with an ftp endpoint = %v, want ErrParameters", err)
	}
	if _, err := (Seal{}).Unlock(t.Context(), &seal.Record{Type: seal.TypeOKMS, KMS: map[string]string{recEndpoint: "https://kms", recDomain: domain, recKey: key}}, nil); !errors.Is(err, seal.ErrParameters) {
		t.Errorf("Unlock without a credential = %v, want ErrParameters", err)
	}
}

// TestKMSDown: a KMS that refuses connections gives errors wrapping
// seal.ErrKMS (the server stays sealed and retries), naming the key and
// not the token; nothing is printed with the token either.
func TestKMSDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	s := Seal{Endpoint: "http://" + addr, Domain: domain, KeyID: key, Token: token}
	rec, w, keys, err := s.Create(t.Context(), seal.CreateOptions{})
	if err != nil || keys != nil || rec.Type != seal.TypeOKMS || rec.KMS[recKey] != key {
		t.Fatalf("Create = %+v, %v, %v", rec, keys, err)
	}
	root, _ := crypto.NewKey(rand.Reader)
	if _, err := w.Wrap(t.Context(), root); !errors.Is(err, seal.ErrKMS) || strings.Contains(err.Error(), token) || !strings.Contains(err.Error(), key) {
		t.Fatalf("Wrap with the KMS down = %v, want ErrKMS naming the key", err)
	}
	if _, err := w.Unwrap(t.Context(), []byte("eyJhbGciOiJkaXIifQ..x.y.z")); !errors.Is(err, seal.ErrKMS) {
		t.Fatalf("Unwrap with the KMS down = %v, want ErrKMS", err)
	}
	for _, v := range []any{s, w} {
		if p := fmt.Sprintf("%v %+v %s", v, v, v); strings.Contains(p, token) {
			t.Fatalf("printing %T shows the token: %s", v, p)
		}
	}
	w.Wipe()
}
