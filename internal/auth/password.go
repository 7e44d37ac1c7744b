package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters: RFC 9106's second recommended option (t = 3,
// p = 4, m = 64 MiB), as reliability-security.md section 4 requires.
const (
	argonTime    = 3
	argonMemory  = 64 * 1024 // KiB
	argonThreads = 4
	argonKeyLen  = 32
	saltLen      = 16
)

// MinPasswordLength is the shortest password coffer accepts.
const MinPasswordLength = 12

// ErrPasswordMismatch: the password does not match the hash.
var ErrPasswordMismatch = errors.New("auth: password mismatch")

// HashPassword returns an Argon2id hash of password in the PHC string
// format ($argon2id$v=19$m=…,t=…,p=…$salt$hash).
func HashPassword(password string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// dummyHash is checked against when a login does not exist, so that a
// failed login takes the same time whether or not the user exists
// (reliability-security.md 5).
var dummyHashOnce = sync.OnceValue(func() string {
	h, _ := HashPassword("coffer-dummy-password-never-matches")
	return h
})

// CheckPassword compares password with an Argon2id hash in constant time.
// An empty hash (unknown user, or a user without password) still costs one
// Argon2id computation and fails.
func CheckPassword(hash, password string) error {
	h := hash
	if h == "" {
		h = dummyHashOnce()
	}
	parts := strings.Split(h, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return errors.New("auth: stored password hash has an unknown format")
	}
	var (
		version int
		m, t    uint32
		p       uint8
	)
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil {
		return errors.New("auth: stored password hash has an unknown format")
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return errors.New("auth: stored password hash has an unknown format")
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return errors.New("auth: stored password hash has an unknown format")
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	if subtle.ConstantTimeCompare(got, want) != 1 || hash == "" {
		return ErrPasswordMismatch
	}
	return nil
}
