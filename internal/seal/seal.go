// Package seal defines how coffer obtains its root key
// (reliability-security.md section 4, issue 19): the seal types behind one
// interface, and the seal record that describes an installation's seal.
//
// A [Seal] turns what the operators give at unseal (Shamir shares, a
// passphrase, or nothing for an automatic seal) into a [Wrapper], which
// wraps and unwraps the root key. The root key itself is stored only
// wrapped, in the seal [Record], which lives in clear in the default
// region's store (it holds no secret) under [RecordKey], so that every node
// of a PostgreSQL installation finds it there:
//
//	root key ── wrapped by the Wrapper ──> Record.Root
//	Wrapper  ── file:       the root key file itself (no wrapping; Record.Root empty)
//	            shamir:     AES-256-GCM under a key-encryption key split into shares
//	            passphrase: AES-256-GCM under a key derived with Argon2id
//	            okms:       a service key of an OKMS domain (package okmsseal)
//	            transit:    a Vault Transit key (package transitseal)
//
// The key-encryption key of shamir and passphrase is never stored: the
// record keeps only a verifier of it (HMAC-SHA256 of a fixed label), so a
// wrong share or passphrase is told apart before anything is unwrapped.
//
// Adding a seal type is one file: a type implementing [Seal] (and its
// [Wrapper]), a [Type] constant, and a case in the server's switch. The
// seals that reach a KMS over the network live in packages of their own
// (okmsseal, transitseal), so that this package, which the others share,
// does not depend on their clients.
package seal

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
)

// Type names a seal type: the --seal flag and COFFER_SEAL.
type Type string

// Seal types.
const (
	TypeFile       Type = "file"
	TypeShamir     Type = "shamir"
	TypePassphrase Type = "passphrase"
	TypeOKMS       Type = "okms"
	TypeTransit    Type = "transit"
)

// Types lists the seal types coffer knows, implemented or not.
var Types = []Type{TypeFile, TypeShamir, TypePassphrase, TypeOKMS, TypeTransit}

// ParseType returns the Type named s.
func ParseType(s string) (Type, error) {
	for _, t := range Types {
		if string(t) == s {
			return t, nil
		}
	}
	return "", fmt.Errorf("seal %q is not one of file, shamir, passphrase, okms, transit", s)
}

// KMS reports whether t is a seal whose key lives in a KMS reached over the
// network (okms, transit): automatic, and unavailable while the KMS is.
func (t Type) KMS() bool { return t == TypeOKMS || t == TypeTransit }

// RecordKey is where the seal record lives in the default region's store,
// outside the encryption layer.
const RecordKey = "sys/seal"

// rootLabel binds a wrapped root key to its use (associated data).
const rootLabel = RecordKey + "/root"

// verifierLabel is what a key-encryption key's verifier authenticates.
const verifierLabel = "coffer seal verifier v1"

// Errors of the seals. None carries key material.
var (
	// ErrInvalidKeys: the shares or the passphrase given do not open the
	// seal (a wrong or corrupted share, a wrong passphrase).
	ErrInvalidKeys = errors.New("seal: the unseal keys do not match this seal")
	// ErrParameters: a seal cannot be created with the options given.
	ErrParameters = errors.New("seal: invalid parameters")
	// ErrRecord: the seal record is malformed.
	ErrRecord = errors.New("seal: malformed seal record")
	// ErrKMS: the KMS of an okms or transit seal did not wrap or unwrap
	// the root key (unreachable, failing, or refusing the credentials):
	// the server stays sealed and tries again.
	ErrKMS = errors.New("seal: the KMS did not answer")
)

// Seal protects an installation's root key.
type Seal interface {
	// Type names the seal.
	Type() Type
	// Auto reports whether the seal unseals without operator input (file,
	// okms, transit): the server then unseals at start.
	Auto() bool
	// Create makes a new protection: the record to store (without the
	// wrapped root key, which the caller adds with the Wrapper), the
	// Wrapper, and the keys to hand to the operators once (shamir shares;
	// none for the other types).
	Create(ctx context.Context, opts CreateOptions) (*Record, Wrapper, [][]byte, error)
	// Unlock returns the Wrapper of rec, from the keys the operators
	// submitted (shares, or the passphrase as keys[0]; none for an
	// automatic seal). Wrong keys give an error wrapping ErrInvalidKeys.
	Unlock(ctx context.Context, rec *Record, keys [][]byte) (Wrapper, error)
}

// Wrapper wraps and unwraps root keys with one protection.
type Wrapper interface {
	// Wrap returns root wrapped for Record.Root (nil for the file seal,
	// which writes the key file instead).
	Wrap(ctx context.Context, root crypto.Key) ([]byte, error)
	// Unwrap returns the root key wrapped in blob (Record.Root or
	// Record.NextRoot). A blob that does not open gives an error wrapping
	// crypto.ErrIntegrity.
	Unwrap(ctx context.Context, blob []byte) (crypto.Key, error)
	// Wipe forgets the Wrapper's key material as far as Go allows; the
	// Wrapper must not be used afterwards.
	Wipe()
}

// CreateOptions configure [Seal.Create].
type CreateOptions struct {
	Shares, Threshold int    // shamir
	Passphrase        []byte // passphrase; the caller clears it afterwards
}

// recordFormat is the version of the record's layout.
const recordFormat = 1

// Record is an installation's seal: stored in clear under RecordKey. It
// holds no secret: the root key only wrapped, a key-encryption key only as
// its verifier.
type Record struct {
	Format    int    `json:"f"`
	Type      Type   `json:"type"`
	Shares    int    `json:"shares,omitempty"`
	Threshold int    `json:"threshold,omitempty"`
	KDF       *KDF   `json:"kdf,omitempty"`      // passphrase
	Verifier  []byte `json:"verifier,omitempty"` // of the key-encryption key
	// KMS holds what an okms or transit seal needs to find its key (an
	// endpoint, a key id), never a credential.
	KMS map[string]string `json:"kms,omitempty"`
	// Root is the root key as the Wrapper wrapped it (empty for file).
	Root []byte `json:"root,omitempty"`
	// NextRoot is the root key of a root key rotation in progress, wrapped
	// the same way: regions whose keyring does not open under Root open
	// under it, and it replaces Root once every keyring is re-sealed.
	NextRoot []byte `json:"nextRoot,omitempty"`
	// Initialized is false while `init` is under way: a record left so by
	// a crash belongs to an installation nobody holds the keys of.
	Initialized bool `json:"initialized"`
	// Pending is a new protection being put in place by a rekey or a seal
	// migration, with the root key wrapped under it: until it is committed
	// the store opens with this record's own protection, afterwards with
	// Pending's (which then replaces the record).
	Pending *Record `json:"pending,omitempty"`
	// Nonce identifies the pending change; the commit must name it.
	Nonce string `json:"nonce,omitempty"`
}

// KDF are the Argon2id parameters of a passphrase seal.
type KDF struct {
	Salt    []byte `json:"salt"`
	Time    uint32 `json:"t"`
	Memory  uint32 `json:"m"` // KiB
	Threads uint8  `json:"p"`
}

// Marshal returns the record's stored form.
func (r *Record) Marshal() ([]byte, error) {
	rr := *r
	rr.Format = recordFormat
	return json.Marshal(rr)
}

// ParseRecord parses a stored record.
func ParseRecord(b []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRecord, err)
	}
	if r.Format != recordFormat {
		return nil, fmt.Errorf("%w: format %d, want %d", ErrRecord, r.Format, recordFormat)
	}
	if _, err := ParseType(string(r.Type)); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRecord, err)
	}
	return &r, nil
}

// T is the number of keys an unseal needs: the threshold of shamir, 1 for
// passphrase, 0 for automatic seals.
func (r *Record) T() int {
	switch r.Type {
	case TypeShamir:
		return r.Threshold
	case TypePassphrase:
		return 1
	}
	return 0
}

// N is the number of keys handed out: the shares of shamir, 1 for
// passphrase, 0 for automatic seals.
func (r *Record) N() int {
	switch r.Type {
	case TypeShamir:
		return r.Shares
	case TypePassphrase:
		return 1
	}
	return 0
}

// DecodeKey decodes an unseal key as Vault's unseal endpoint does: hex,
// else standard base64. For a passphrase seal the key is the passphrase
// itself, taken as given.
func DecodeKey(t Type, key string) ([]byte, error) {
	if t == TypePassphrase {
		if key == "" {
			return nil, fmt.Errorf("%w: empty passphrase", ErrInvalidKeys)
		}
		return []byte(key), nil
	}
	key = strings.TrimSpace(key)
	if b, err := hex.DecodeString(key); err == nil && len(b) > 0 {
		return b, nil
	}
	if b, err := base64.StdEncoding.DecodeString(key); err == nil && len(b) > 0 {
		return b, nil
	}
	return nil, errors.New("'key' must be a valid hex or base64 string")
}

// aesWrapper wraps root keys with AES-256-GCM under a key-encryption key:
// the Wrapper of the shamir and passphrase seals.
type aesWrapper struct{ kek crypto.Key }

func (w *aesWrapper) Wrap(_ context.Context, root crypto.Key) ([]byte, error) {
	return crypto.WrapKey(w.kek, rootLabel, root)
}

func (w *aesWrapper) Unwrap(_ context.Context, blob []byte) (crypto.Key, error) {
	return crypto.UnwrapKey(w.kek, rootLabel, blob)
}

func (w *aesWrapper) Wipe() {
	crypto.Wipe(w.kek)
	w.kek = crypto.Key{}
}

// String keeps a Wrapper's key out of prints.
func (w *aesWrapper) String() string { return "seal.Wrapper(REDACTED)" }

// unlockKEK checks a candidate key-encryption key against rec's verifier.
func unlockKEK(rec *Record, kek crypto.Key) (Wrapper, error) {
	if !crypto.CheckVerifier(kek, verifierLabel, rec.Verifier) {
		crypto.Wipe(kek)
		return nil, ErrInvalidKeys
	}
	return &aesWrapper{kek: kek}, nil
}
