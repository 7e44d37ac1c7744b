package seal

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/crypto/shamir"
)

// File is the file seal: the root key in a file (mode 0600), read at
// start. It is coffer's first behaviour and the default for --dev and for
// installations made before seals existed.
type File struct {
	Path string // the root key file
}

func (File) Type() Type { return TypeFile }
func (File) Auto() bool { return true }

func (f File) Create(context.Context, CreateOptions) (*Record, Wrapper, [][]byte, error) {
	return &Record{Type: TypeFile}, fileWrapper(f), nil, nil
}

func (f File) Unlock(context.Context, *Record, [][]byte) (Wrapper, error) { return fileWrapper(f), nil }

// fileWrapper "wraps" the root key by writing it to the key file.
type fileWrapper File

// Wrap writes root to the key file, which must not exist unless it holds
// root already (a migration to the file seal run again after a crash).
func (f fileWrapper) Wrap(_ context.Context, root crypto.Key) ([]byte, error) {
	err := crypto.SaveRootKeyFile(f.Path, root)
	if errors.Is(err, fs.ErrExist) {
		k, lerr := crypto.LoadRootKeyFile(f.Path)
		if lerr == nil && k.Equal(root) {
			return nil, nil
		}
		return nil, fmt.Errorf("seal: %s exists and holds another key; move it away first: %w", f.Path, fs.ErrExist)
	}
	return nil, err
}

func (f fileWrapper) Unwrap(context.Context, []byte) (crypto.Key, error) {
	return crypto.LoadRootKeyFile(f.Path)
}

func (fileWrapper) Wipe() {}

// Shamir is the shamir seal: a random key-encryption key wraps the root
// key and is split into shares, any threshold of which unseal.
type Shamir struct {
	Rand io.Reader // crypto/rand.Reader outside tests
}

func (Shamir) Type() Type { return TypeShamir }
func (Shamir) Auto() bool { return false }

// Create generates the key-encryption key and splits it into opts.Shares
// shares, opts.Threshold of which unseal. As in Vault, a threshold of 1 is
// allowed only with a single share, and at most 255 shares.
func (s Shamir) Create(_ context.Context, opts CreateOptions) (*Record, Wrapper, [][]byte, error) {
	n, t := opts.Shares, opts.Threshold
	switch {
	case n < 1 || n > shamir.MaxShares:
		return nil, nil, nil, fmt.Errorf("%w: secret_shares must be between 1 and %d", ErrParameters, shamir.MaxShares)
	case t < 1 || t > n:
		return nil, nil, nil, fmt.Errorf("%w: secret_threshold must be between 1 and secret_shares (%d)", ErrParameters, n)
	case t == 1 && n > 1:
		return nil, nil, nil, fmt.Errorf("%w: secret_threshold must be greater than one for multiple shares", ErrParameters)
	}
	kek, err := crypto.NewKey(s.Rand)
	if err != nil {
		return nil, nil, nil, err
	}
	var shares [][]byte
	err = crypto.ExportKey(kek, func(b []byte) error {
		var err error
		shares, err = shamir.Split(b, n, t, s.Rand)
		return err
	})
	if err != nil {
		crypto.Wipe(kek)
		return nil, nil, nil, err
	}
	rec := &Record{Type: TypeShamir, Shares: n, Threshold: t, Verifier: crypto.Verifier(kek, verifierLabel)}
	return rec, &aesWrapper{kek: kek}, shares, nil
}

// Unlock combines the shares into the key-encryption key and checks it
// against the record's verifier.
func (Shamir) Unlock(_ context.Context, rec *Record, keys [][]byte) (Wrapper, error) {
	if len(keys) < rec.Threshold {
		return nil, fmt.Errorf("%w: %d of %d keys", ErrInvalidKeys, len(keys), rec.Threshold)
	}
	b, err := shamir.Combine(keys)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidKeys, err)
	}
	defer clear(b)
	kek, err := crypto.KeyFromBytes(b)
	if err != nil {
		return nil, fmt.Errorf("%w: shares of %d bytes", ErrInvalidKeys, len(b))
	}
	return unlockKEK(rec, kek)
}

// Passphrase is the passphrase seal: the key-encryption key is derived
// from one passphrase with Argon2id (RFC 9106's second recommended
// option: t = 3, m = 64 MiB, p = 4, a 16-byte random salt).
type Passphrase struct {
	Rand io.Reader // crypto/rand.Reader outside tests
	// Time, Memory (KiB) and Threads set the cost of a new seal; zero
	// means RFC 9106's. Tests lower them.
	Time, Memory uint32
	Threads      uint8
}

// MinPassphrase is the shortest passphrase accepted, in characters.
const MinPassphrase = 12

// Bounds on the Argon2id parameters a stored record may ask for, so that
// an altered record cannot make an unseal exhaust the machine.
const (
	maxKDFTime    = 64
	maxKDFMemory  = 4 << 20 // 4 GiB in KiB
	maxKDFThreads = 64
)

func (Passphrase) Type() Type { return TypePassphrase }
func (Passphrase) Auto() bool { return false }

func (p Passphrase) Create(_ context.Context, opts CreateOptions) (*Record, Wrapper, [][]byte, error) {
	if n := utf8.RuneCount(opts.Passphrase); n < MinPassphrase {
		return nil, nil, nil, fmt.Errorf("%w: the passphrase must be at least %d characters", ErrParameters, MinPassphrase)
	}
	kdf := &KDF{Salt: make([]byte, 16), Time: p.Time, Memory: p.Memory, Threads: p.Threads}
	if kdf.Time == 0 {
		kdf.Time = 3
	}
	if kdf.Memory == 0 {
		kdf.Memory = 64 << 10
	}
	if kdf.Threads == 0 {
		kdf.Threads = 4
	}
	if _, err := io.ReadFull(p.Rand, kdf.Salt); err != nil {
		return nil, nil, nil, fmt.Errorf("seal: salt: %w", err)
	}
	kek, err := derive(opts.Passphrase, kdf)
	if err != nil {
		return nil, nil, nil, err
	}
	rec := &Record{Type: TypePassphrase, KDF: kdf, Verifier: crypto.Verifier(kek, verifierLabel)}
	return rec, &aesWrapper{kek: kek}, nil, nil
}

func (Passphrase) Unlock(_ context.Context, rec *Record, keys [][]byte) (Wrapper, error) {
	if len(keys) != 1 || rec.KDF == nil {
		return nil, ErrInvalidKeys
	}
	kek, err := derive(keys[0], rec.KDF)
	if err != nil {
		return nil, err
	}
	return unlockKEK(rec, kek)
}

// derive runs Argon2id with kdf's parameters.
func derive(pass []byte, kdf *KDF) (crypto.Key, error) {
	if kdf.Time < 1 || kdf.Time > maxKDFTime || kdf.Memory < 8 || kdf.Memory > maxKDFMemory ||
		kdf.Threads < 1 || kdf.Threads > maxKDFThreads || len(kdf.Salt) < 16 {
		return crypto.Key{}, fmt.Errorf("%w: Argon2id parameters out of bounds", ErrRecord)
	}
	b := argon2.IDKey(pass, kdf.Salt, kdf.Time, kdf.Memory, kdf.Threads, crypto.KeySize)
	defer clear(b)
	return crypto.KeyFromBytes(b)
}
