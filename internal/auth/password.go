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

// Argon2id parameters of new hashes: OWASP's first option (m = 19 MiB,
// t = 2, p = 1), which keeps one check near 30 ms and 19 MiB on a small
// server, so that a few concurrent sign-ins cannot exhaust it (issue 13).
// The former parameters (RFC 9106's second option, m = 64 MiB, t = 3,
// p = 4: about 380 ms and 64 MiB each) still verify; [NeedsRehash]
// tells the caller to re-hash at the next successful sign-in.
const (
	argonTime    = 2
	argonMemory  = 19 * 1024 // KiB
	argonThreads = 1
	argonKeyLen  = 32
	saltLen      = 16
)

// Bounds of the parameters a stored hash may ask for: anything beyond is
// not a hash coffer wrote, and checking it could exhaust the server.
const (
	maxArgonTime    = 16
	maxArgonMemory  = 256 * 1024 // KiB
	maxArgonThreads = 16
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

// errHashFormat: a stored hash coffer cannot check.
var errHashFormat = errors.New("auth: stored password hash has an unknown format")

// phc is a parsed Argon2id hash.
type phc struct {
	m, t       uint32
	p          uint8
	salt, want []byte
}

func parseHash(h string) (phc, error) {
	parts := strings.Split(h, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return phc{}, errHashFormat
	}
	var (
		version int
		x       phc
	)
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return phc{}, errHashFormat
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &x.m, &x.t, &x.p); err != nil {
		return phc{}, errHashFormat
	}
	if x.t < 1 || x.t > maxArgonTime || x.m < 8 || x.m > maxArgonMemory || x.p < 1 || x.p > maxArgonThreads {
		return phc{}, errHashFormat
	}
	var err1, err2 error
	x.salt, err1 = base64.RawStdEncoding.DecodeString(parts[4])
	x.want, err2 = base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(x.want) < 16 || len(x.want) > 64 {
		return phc{}, errHashFormat
	}
	return x, nil
}

// CheckPassword compares password with an Argon2id hash in constant time.
// An empty hash (unknown user, or a user without password) still costs one
// Argon2id computation and fails.
func CheckPassword(hash, password string) error {
	h := hash
	if h == "" {
		h = dummyHashOnce()
	}
	x, err := parseHash(h)
	if err != nil {
		return err
	}
	got := argon2.IDKey([]byte(password), x.salt, x.t, x.m, x.p, uint32(len(x.want)))
	if subtle.ConstantTimeCompare(got, x.want) != 1 || hash == "" {
		return ErrPasswordMismatch
	}
	return nil
}

// NeedsRehash reports whether hash was made with other parameters than
// [HashPassword] uses now: the caller re-hashes the password it has just
// checked, so that old hashes move to the current parameters.
func NeedsRehash(hash string) bool {
	x, err := parseHash(hash)
	return err != nil || x.m != argonMemory || x.t != argonTime || x.p != argonThreads || len(x.want) != argonKeyLen
}
