package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
	"sync"
)

// Kind is the kind of credential that authenticated a request.
type Kind string

// Credential kinds (iam.md 7.2, 7.3).
const (
	KindRootToken  Kind = "root-token"
	KindPAT        Kind = "pat"
	KindChildToken Kind = "child-token"
	KindOAuth2     Kind = "oauth2"
	// KindClientSecret is a service account's OAuth2 client secret, which
	// authenticates at the token endpoint only.
	KindClientSecret Kind = "client-secret"
	KindCertificate  Kind = "certificate"
	KindPassword     Kind = "password"
	KindSystem       Kind = "system"
)

// tokenPrefix gives the visible type prefix of each token kind.
var tokenPrefix = map[Kind]string{
	KindRootToken:  "cof_root_",
	KindPAT:        "cof_pat_",
	KindChildToken: "cof_ctk_",
	KindOAuth2:     "cof_oat_",
	// A client secret is not a token, but made the same way.
	KindClientSecret: "cof_ocs_",
}

// Principal is who a request acts as: one or more identity URNs, and the
// credential that proved it. It never holds the token itself.
type Principal struct {
	// Identities are the identity URNs the request acts as.
	Identities []string
	// Root is true for the account root, which bypasses IAM.
	Root bool
	// Admin is true for a user of a group whose role is ADMIN: like the
	// root, it passes without any policy (iam.md 3).
	Admin bool
	// Name is a display name (a login, "root").
	Name string
	// Kind and CredentialID name the credential (a token's accessor, a
	// certificate serial), for the audit log.
	Kind         Kind
	CredentialID string
	// UserID is the immutable id of the user the request acts for (a
	// password session, a personal access token and its child tokens, a
	// certificate a user issued), "" when no user is behind it (the root,
	// a certificate the root issued). A login may be deleted and taken
	// again; this id is not reused, so rights never pass to the new user.
	// User is that user's login.
	UserID, User string
}

// IsZero reports whether p is the zero Principal (unauthenticated).
func (p Principal) IsZero() bool { return len(p.Identities) == 0 && !p.Root }

// System is the principal of coffer's own operations (initialisation).
func System() Principal {
	return Principal{Name: "system", Kind: KindSystem, CredentialID: "system", Root: true}
}

// NewToken returns a fresh token of the given kind: its type prefix
// followed by 32 random bytes from r in unpadded base64url (iam.md 7.2).
func NewToken(kind Kind, r io.Reader) (string, error) {
	prefix, ok := tokenPrefix[kind]
	if !ok {
		return "", fmt.Errorf("auth: no token format for kind %q", kind)
	}
	var b [32]byte
	if r == nil {
		r = rand.Reader
	}
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", fmt.Errorf("auth: generate token: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// Digest returns the hex HMAC-SHA256 of token under the server pepper. Only
// digests are stored; a token is found by its digest, so checking one never
// compares secrets byte by byte.
//
// Every request with a token computes one, so the keyed HMAC states are
// pooled: hmac.New derives the pads and allocates two hash states, about
// half the cost of a digest.
func Digest(pepper []byte, token string) string {
	d, _ := digesters.Get().(*digester)
	if d == nil || !bytes.Equal(d.pepper, pepper) {
		d = &digester{pepper: bytes.Clone(pepper), mac: hmac.New(sha256.New, pepper)}
	} else {
		d.mac.Reset()
	}
	io.WriteString(d.mac, token)
	var sum [sha256.Size]byte
	var out [2 * sha256.Size]byte
	hex.Encode(out[:], d.mac.Sum(sum[:0]))
	digesters.Put(d)
	return string(out[:])
}

// digester is a pooled HMAC-SHA256 state for one pepper.
type digester struct {
	pepper []byte
	mac    hash.Hash
}

var digesters sync.Pool

// Accessor returns a stable, non-secret identifier for a token digest,
// suitable for audit lines and Vault's accessor field.
func Accessor(digest string) string {
	if len(digest) > 24 {
		digest = digest[:24]
	}
	return "acc_" + digest
}

// PlausibleToken reports whether s could be a coffer token; it lets callers
// skip a storage read for obvious garbage. It never rejects a valid token.
func PlausibleToken(s string) bool {
	if len(s) == 0 || len(s) > 256 {
		return false
	}
	return !strings.ContainsAny(s, " \t\r\n")
}
