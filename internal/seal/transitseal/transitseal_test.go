package transitseal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/seal"
)

const token = "hvs.canary-transitseal"

func TestCheck(t *testing.T) {
	ok := Seal{Address: "https://vault.example.com:8200", Token: token, KeyName: "coffer-seal"}
	tests := []struct {
		name string
		mod  func(*Seal)
		want error
	}{
		{"complete", func(*Seal) {}, nil},
		{"no address", func(s *Seal) { s.Address = "" }, seal.ErrParameters},
		{"no key", func(s *Seal) { s.KeyName = "" }, seal.ErrParameters},
		{"no token", func(s *Seal) { s.Token = "" }, seal.ErrParameters},
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

// stub is a stand-in for Vault's transit encrypt and decrypt of one key
// (AES-256-GCM), until coffer's own Transit API is on main; it refuses
// other tokens.
func stub(t *testing.T) *httptest.Server {
	t.Helper()
	k := make([]byte, 32)
	rand.Read(k)
	b, _ := aes.NewCipher(k)
	aead, _ := cipher.NewGCM(b)
	mux := http.NewServeMux()
	answer := func(w http.ResponseWriter, data map[string]any) {
		json.NewEncoder(w).Encode(map[string]any{"data": data})
	}
	mux.HandleFunc("PUT /v1/transit/encrypt/coffer-seal", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Plaintext string }
		json.NewDecoder(r.Body).Decode(&in)
		pt, _ := base64.StdEncoding.DecodeString(in.Plaintext)
		nonce := make([]byte, aead.NonceSize())
		rand.Read(nonce)
		answer(w, map[string]any{"ciphertext": "vault:v1:" + base64.StdEncoding.EncodeToString(aead.Seal(nonce, nonce, pt, nil))})
	})
	mux.HandleFunc("PUT /v1/transit/decrypt/coffer-seal", func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Ciphertext string }
		json.NewDecoder(r.Body).Decode(&in)
		raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(in.Ciphertext, "vault:v1:"))
		if len(raw) < aead.NonceSize() {
			http.Error(w, `{"errors":["invalid ciphertext"]}`, http.StatusBadRequest)
			return
		}
		pt, err := aead.Open(nil, raw[:aead.NonceSize()], raw[aead.NonceSize():], nil)
		if err != nil {
			http.Error(w, `{"errors":["cipher: message authentication failed"]}`, http.StatusBadRequest)
			return
		}
		answer(w, map[string]any{"plaintext": base64.StdEncoding.EncodeToString(pt)})
	})
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Vault-Token") != token {
			http.Error(w, `{"errors":["permission denied"]}`, http.StatusForbidden)
			return
		}
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// TestWrapper: the root key round-trips through go-kms-wrapping's transit
// wrapper; the record names the key and holds no token; an altered blob,
// another token and a server that is down are refused, the last two with
// seal.ErrKMS (the server retries those).
func TestWrapper(t *testing.T) {
	ctx := t.Context()
	ts := stub(t)
	s := Seal{Address: ts.URL, Token: token, KeyName: "coffer-seal", DisableRenewal: true}
	rec, w, keys, err := s.Create(ctx, seal.CreateOptions{})
	if err != nil || keys != nil {
		t.Fatalf("Create: %v", err)
	}
	defer w.Wipe()
	if rec.KMS[recKey] != "coffer-seal" || rec.KMS[recMount] != "transit/" || rec.KMS[recAddress] != ts.URL {
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
	w2, err := Seal{Token: token, DisableRenewal: true}.Unlock(ctx, rec, nil) // the address from the record
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
	if _, err := (Seal{Token: "hvs.wrong", DisableRenewal: true}).Unlock(ctx, rec, nil); !errors.Is(err, seal.ErrKMS) || strings.Contains(err.Error(), "hvs.wrong") {
		t.Fatalf("Unlock with another token = %v, want ErrKMS without the token", err)
	}
	ts.Close()
	if _, err := (Seal{Token: token, DisableRenewal: true}).Unlock(ctx, rec, nil); !errors.Is(err, seal.ErrKMS) {
		t.Fatalf("Unlock with the server down = %v, want ErrKMS", err)
	}
	if _, err := (Seal{Token: token}).Unlock(ctx, &seal.Record{Type: seal.TypeTransit}, nil); !errors.Is(err, seal.ErrRecord) {
		t.Fatalf("Unlock of a record naming no key = %v, want ErrRecord", err)
	}
}
