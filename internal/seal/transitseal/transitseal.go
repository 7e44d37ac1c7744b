// Package transitseal is the transit seal (issue 19): the root key wrapped
// by a Transit key of Vault, OpenBao or another coffer (its /v1/transit/
// surface), through github.com/hashicorp/go-kms-wrapping/wrappers/transit/v2,
// the wrapper Vault's and OpenBao's own transit seals use.
//
// The seal record keeps what finds the key (address, mount path, key name)
// and the wrapper's BlobInfo, serialised; never the token, which comes from
// the server's configuration at each start.
//
// Only internal/server imports this package.
package transitseal

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	wrapping "github.com/hashicorp/go-kms-wrapping/v2"
	transit "github.com/hashicorp/go-kms-wrapping/wrappers/transit/v2"
	"google.golang.org/protobuf/proto"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/seal"
)

// Keys of [seal.Record.KMS].
const (
	recAddress = "address"
	recMount   = "mount_path"
	recKey     = "key_name"
)

// DefaultMountPath is where Vault mounts Transit unless told otherwise.
const DefaultMountPath = "transit/"

// Seal is the transit seal. Address, MountPath and KeyName say which key
// wraps a new protection; an existing one is unwrapped with the key its
// record names, at Address if set (the server moved), else at the
// record's. Token authenticates; CACert verifies the server's certificate.
type Seal struct {
	Address   string // e.g. https://vault.example.com:8200
	Token     string
	KeyName   string
	MountPath string // default "transit/"
	CACert    string // PEM file
	// DisableRenewal stops the wrapper from renewing Token (Vault's
	// disable_renewal); by default a renewable token is kept alive.
	DisableRenewal bool
}

var _ seal.Seal = Seal{}

func (Seal) Type() seal.Type { return seal.TypeTransit }
func (Seal) Auto() bool      { return true }

// String keeps the token out of prints.
func (s Seal) String() string {
	return fmt.Sprintf("transitseal.Seal{%s %s key %s}", s.Address, s.mount(), s.KeyName)
}

func (s Seal) mount() string {
	if s.MountPath == "" {
		return DefaultMountPath
	}
	return s.MountPath
}

// Check reports what the configuration lacks to create a protection. Its
// errors wrap [seal.ErrParameters] and name the settings, never their
// values.
func (s Seal) Check() error {
	var missing []string
	for _, f := range []struct{ v, name string }{{s.Address, "address (--seal-transit-address)"}, {s.KeyName, "key name (--seal-transit-key-name)"}, {s.Token, "token (--seal-transit-token)"}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: the transit seal needs its %s", seal.ErrParameters, strings.Join(missing, ", "))
	}
	return nil
}

// Create checks the configuration and returns a Wrapper on the configured
// key. The wrapper sends one test encryption to the server (as Vault's
// does), so an unreachable server gives an error wrapping [seal.ErrKMS].
func (s Seal) Create(ctx context.Context, _ seal.CreateOptions) (*seal.Record, seal.Wrapper, [][]byte, error) {
	if err := s.Check(); err != nil {
		return nil, nil, nil, err
	}
	w, err := s.wrapper(ctx, s.Address, s.mount(), s.KeyName)
	if err != nil {
		return nil, nil, nil, err
	}
	rec := &seal.Record{Type: seal.TypeTransit, KMS: map[string]string{recAddress: s.Address, recMount: s.mount(), recKey: s.KeyName}}
	return rec, w, nil, nil
}

// Unlock returns the Wrapper of the key rec names. It takes no keys.
func (s Seal) Unlock(ctx context.Context, rec *seal.Record, _ [][]byte) (seal.Wrapper, error) {
	if rec.Type != seal.TypeTransit || rec.KMS[recKey] == "" || rec.KMS[recMount] == "" {
		return nil, fmt.Errorf("%w: the transit seal record names no key", seal.ErrRecord)
	}
	addr := s.Address
	if addr == "" {
		addr = rec.KMS[recAddress]
	}
	if s.Token == "" {
		return nil, fmt.Errorf("%w: the transit seal needs its token (--seal-transit-token)", seal.ErrParameters)
	}
	return s.wrapper(ctx, addr, rec.KMS[recMount], rec.KMS[recKey])
}

func (s Seal) wrapper(ctx context.Context, addr, mount, key string) (*wrapper, error) {
	u, err := url.Parse(addr)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: the transit seal's address must be an http(s) URL", seal.ErrParameters)
	}
	w := transit.NewWrapper()
	opts := []wrapping.Option{
		// coffer's configuration is the only source: no TRANSIT_* or
		// VAULT_NAMESPACE variable changes the key.
		wrapping.WithDisallowEnvVars(true),
		transit.WithAddress(addr), transit.WithToken(s.Token),
		transit.WithMountPath(mount), transit.WithKeyName(key),
	}
	if s.CACert != "" {
		opts = append(opts, transit.WithTlsCaCert(s.CACert))
	}
	if s.DisableRenewal {
		opts = append(opts, transit.WithDisableRenewal("true"))
	}
	if _, err := w.SetConfig(ctx, opts...); err != nil {
		return nil, kmsError("configure (test encryption)", addr, mount, key, err)
	}
	return &wrapper{w: w, addr: addr, mount: mount, key: key}, nil
}

// wrapper wraps root keys with one Transit key.
type wrapper struct {
	w                *transit.Wrapper
	addr, mount, key string
}

// Wrap encrypts root with the Transit key; the blob is the wrapper's
// BlobInfo in its protobuf form.
func (w *wrapper) Wrap(ctx context.Context, root crypto.Key) ([]byte, error) {
	var blob *wrapping.BlobInfo
	err := crypto.ExportKey(root, func(b []byte) error {
		var err error
		blob, err = w.w.Encrypt(ctx, b)
		return err
	})
	if err != nil {
		return nil, kmsError("encrypt", w.addr, w.mount, w.key, err)
	}
	return proto.Marshal(blob)
}

// Unwrap decrypts blob with the Transit key.
func (w *wrapper) Unwrap(ctx context.Context, blob []byte) (crypto.Key, error) {
	var bi wrapping.BlobInfo
	if err := proto.Unmarshal(blob, &bi); err != nil || len(bi.Ciphertext) == 0 {
		return crypto.Key{}, fmt.Errorf("%w: the wrapped root key is not a transit blob", seal.ErrRecord)
	}
	pt, err := w.w.Decrypt(ctx, &bi)
	if err != nil {
		return crypto.Key{}, kmsError("decrypt", w.addr, w.mount, w.key, err)
	}
	defer clear(pt)
	k, err := crypto.KeyFromBytes(pt)
	if err != nil {
		return crypto.Key{}, fmt.Errorf("transit seal: the server decrypted %d bytes, not a root key: %w", len(pt), crypto.ErrIntegrity)
	}
	return k, nil
}

// Wipe stops the token renewal. There is no key material here.
func (w *wrapper) Wipe() { _ = w.w.Finalize(context.Background()) }

func (w *wrapper) String() string {
	return fmt.Sprintf("transitseal.wrapper{%s %s key %s}", w.addr, w.mount, w.key)
}

// kmsError wraps seal.ErrKMS around a failed call. The Vault client's
// errors name the URL, the status and the server's error strings; none
// carries the token or the plaintext.
func kmsError(op, addr, mount, key string, err error) error {
	if errors.Is(err, context.Canceled) {
		return err
	}
	msg := strings.Join(strings.Fields(err.Error()), " ")
	return fmt.Errorf("%w: transit %s with key %s at %s (mount %s): %s", seal.ErrKMS, op, key, addr, mount, msg)
}
