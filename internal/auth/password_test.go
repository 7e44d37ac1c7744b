package auth

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

// legacyHash is a hash with the parameters coffer used before issue 13
// (m = 64 MiB, t = 3, p = 4).
func legacyHash(t testing.TB, password string) string {
	t.Helper()
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, 3, 64*1024, 4, 32)
	return fmt.Sprintf("$argon2id$v=19$m=65536,t=3,p=4$%s$%s",
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

func TestPasswordHashes(t *testing.T) {
	h, err := HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("HashPassword = %q, want OWASP's m=19456,t=2,p=1", h)
	}
	if err := CheckPassword(h, "correct horse battery"); err != nil {
		t.Errorf("CheckPassword(right) = %v", err)
	}
	if err := CheckPassword(h, "wrong"); !errors.Is(err, ErrPasswordMismatch) {
		t.Errorf("CheckPassword(wrong) = %v", err)
	}
	if NeedsRehash(h) {
		t.Error("a current hash needs a rehash")
	}
	old := legacyHash(t, "correct horse battery")
	if err := CheckPassword(old, "correct horse battery"); err != nil {
		t.Errorf("a legacy hash no longer verifies: %v", err)
	}
	if !NeedsRehash(old) {
		t.Error("a legacy hash does not ask for a rehash")
	}
	if err := CheckPassword("", "anything"); !errors.Is(err, ErrPasswordMismatch) {
		t.Errorf("CheckPassword with no hash = %v", err)
	}
	// Parameters no coffer hash has, which could exhaust the server.
	for _, bad := range []string{
		"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHRzYWx0$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=19456,t=1000,p=1$c2FsdHNhbHRzYWx0$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=19456,t=2,p=255$c2FsdHNhbHRzYWx0$" + strings.Repeat("A", 43),
		"$argon2id$v=16$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$" + strings.Repeat("A", 43),
		"$argon2i$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$",
	} {
		if err := CheckPassword(bad, "x"); err == nil || errors.Is(err, ErrPasswordMismatch) {
			t.Errorf("CheckPassword(%q) = %v, want a format error", bad, err)
		}
		if !NeedsRehash(bad) {
			t.Errorf("NeedsRehash(%q) = false", bad)
		}
	}
}

// BenchmarkCheckPassword measures one verification with the current and
// the former parameters (-benchmem shows the memory each takes).
func BenchmarkCheckPassword(b *testing.B) {
	cur, err := HashPassword("correct horse battery")
	if err != nil {
		b.Fatal(err)
	}
	for name, h := range map[string]string{"m=19MiB,t=2,p=1": cur, "legacy m=64MiB,t=3,p=4": legacyHash(b, "correct horse battery")} {
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				if err := CheckPassword(h, "a wrong guess"); !errors.Is(err, ErrPasswordMismatch) {
					b.Fatal(err)
				}
			}
		})
	}
}
