package transitseal_test

import (
	"crypto/rand"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	vault "github.com/hashicorp/vault/api"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/seal"
	"github.com/seed-3e8d63de/coffer/internal/seal/transitseal"
	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

const token = "hvs.canary-transitseal"

func TestCheck(t *testing.T) {
	ok := transitseal.Seal{Address: "https://vault.example.com:8200", Token: token, KeyName: "coffer-seal"}
	tests := []struct {
		name string
		mod  func(*transitseal.Seal)
		want error
	}{
		{"complete", func(*transitseal.Seal) {}, nil},
		{"no address", func(s *transitseal.Seal) { s.Address = "" }, seal.ErrParameters},
		{"no key", func(s *transitseal.Seal) { s.KeyName = "" }, seal.ErrParameters},
		{"no token", func(s *transitseal.Seal) { s.Token = "" }, seal.ErrParameters},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.mod(&s)
			err := s.Check()
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("Check() = %v, want %v", err, tc.want)
			}
		})
	}
	if p := fmt.Sprintf("%v %+v", ok, ok); strings.Contains(p, token) || !strings.Contains(p, "transit/") {
		t.Fatalf("printing the seal: %s", p)
	}
}

// kms starts a coffer (a dev server over HTTP on 127.0.0.1) whose Transit
// API holds the key coffer-seal, and returns its address and root token.
func kms(t *testing.T) (*httptest.Server, string) {
	t.Helper()
	const root = "cof_root_transitseal_test"
	ts := testenv.Start(t, testenv.Configure(func(c *server.Config) { c.DevRootToken = root })).HTTP
	vc, err := vault.NewClient(&vault.Config{Address: ts.URL, MaxRetries: 0})
	if err != nil {
		t.Fatal(err)
	}
	vc.SetToken(root)
	if _, err := vc.Logical().Write("transit/keys/coffer-seal", map[string]any{"type": "aes256-gcm96"}); err != nil {
		t.Fatalf("create the Transit key: %v", err)
	}
	return ts, root
}

// TestWrapper: the root key round-trips through go-kms-wrapping's transit
// wrapper and a coffer's Transit API; the record names the key and holds
// no token; an altered blob, another token and a server that is down are
// refused, the last two with seal.ErrKMS (the server retries those).
func TestWrapper(t *testing.T) {
	ctx := t.Context()
	ts, token := kms(t)
	s := transitseal.Seal{Address: ts.URL, Token: token, KeyName: "coffer-seal", DisableRenewal: true}
	rec, w, keys, err := s.Create(ctx, seal.CreateOptions{})
	if err != nil || keys != nil {
		t.Fatalf("Create: %v", err)
	}
	defer w.Wipe()
	if rec.KMS["key_name"] != "coffer-seal" || rec.KMS["mount_path"] != "transit/" || rec.KMS["address"] != ts.URL {
		t.Fatalf("record: %+v", rec.KMS)
	}
	root, _ := crypto.NewKey(rand.Reader)
	blob, err := w.Wrap(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	rec.Root = blob
	b, _ := rec.Marshal()
	if strings.Contains(string(b), token) {
		t.Fatal("the record holds the token")
	}
	w2, err := transitseal.Seal{Token: token, DisableRenewal: true}.Unlock(ctx, rec, nil) // the address from the record
	if err != nil {
		t.Fatal(err)
	}
	defer w2.Wipe()
	got, err := w2.Unwrap(ctx, blob)
	if err != nil || !got.Equal(root) {
		t.Fatalf("Unwrap = %v, want the root key", err)
	}
	altered := []byte(strings.Replace(string(blob), "vault:v1:", "vault:v1:AAAA", 1))
	if _, err := w2.Unwrap(ctx, altered); err == nil {
		t.Fatal("an altered blob unwrapped")
	}
	if _, err := w2.Unwrap(ctx, []byte("not a blob")); !errors.Is(err, seal.ErrRecord) {
		t.Fatalf("Unwrap(garbage) = %v, want ErrRecord", err)
	}
	if _, err := (transitseal.Seal{Token: "hvs.wrong", DisableRenewal: true}).Unlock(ctx, rec, nil); !errors.Is(err, seal.ErrKMS) || strings.Contains(err.Error(), "hvs.wrong") {
		t.Fatalf("Unlock with another token = %v, want ErrKMS without the token", err)
	}
	ts.Close()
	if _, err := (transitseal.Seal{Token: token, DisableRenewal: true}).Unlock(ctx, rec, nil); !errors.Is(err, seal.ErrKMS) {
		t.Fatalf("Unlock with the server down = %v, want ErrKMS", err)
	}
	if _, err := (transitseal.Seal{Token: token}).Unlock(ctx, &seal.Record{Type: seal.TypeTransit}, nil); !errors.Is(err, seal.ErrRecord) {
		t.Fatalf("Unlock of a record naming no key = %v, want ErrRecord", err)
	}
}
