package keyops

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"

	"github.com/seed-3e8d63de/coffer/internal/servicekey"
)

// Ops performs the operations on service keys. Its zero value is not
// usable; make one with [New]. It is safe for concurrent use.
type Ops struct {
	rand  io.Reader
	cache keyCache
}

// New returns an Ops drawing AES keys, nonces and data keys from random
// (crypto/rand.Reader when nil). RSA and ECDSA always use the standard
// library's secure source (Go 1.26).
func New(random io.Reader) *Ops {
	if random == nil {
		random = rand.Reader
	}
	return &Ops{rand: random}
}

// Forget drops the parsed keys it keeps (the service calls it when it
// seals). Operations in flight keep the keys they hold; the memory goes to
// the garbage collector, as the standard library's key state cannot be
// wiped.
func (o *Ops) Forget() { o.cache.clear() }

func (o *Ops) read(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(o.rand, b); err != nil {
		return nil, fmt.Errorf("keyops: reading random bytes: %w", err)
	}
	return b, nil
}

// Generate returns fresh material for a key of spec, which
// servicekey.ParseSpec has accepted.
func (o *Ops) Generate(spec servicekey.Spec) (servicekey.Material, error) {
	var v any
	switch spec.Type {
	case servicekey.Oct:
		if spec.Size != 128 && spec.Size != 192 && spec.Size != 256 {
			return servicekey.Material{}, servicekey.ErrIncompatible
		}
		b, err := o.read(spec.Size / 8)
		if err != nil {
			return servicekey.Material{}, err
		}
		v = b
	case servicekey.RSA:
		if spec.Size != 2048 && spec.Size != 3072 && spec.Size != 4096 {
			return servicekey.Material{}, servicekey.ErrIncompatible
		}
		k, err := rsa.GenerateKey(rand.Reader, spec.Size)
		if err != nil {
			return servicekey.Material{}, fmt.Errorf("keyops: generate RSA key: %w", err)
		}
		v = k
	case servicekey.EC:
		c := curveOf(spec.Curve)
		if c == nil {
			return servicekey.Material{}, servicekey.ErrIncompatible
		}
		k, err := ecdsa.GenerateKey(c, rand.Reader)
		if err != nil {
			return servicekey.Material{}, fmt.Errorf("keyops: generate EC key: %w", err)
		}
		v = k
	default:
		return servicekey.Material{}, servicekey.ErrIncompatible
	}
	k, err := newKey(v)
	if err != nil {
		return servicekey.Material{}, err
	}
	return encodeKey(k)
}

// Describe returns the spec and class of stored material.
func (o *Ops) Describe(m servicekey.Material) (servicekey.Spec, servicekey.Class, error) {
	k, err := o.parse(m)
	if err != nil {
		return servicekey.Spec{}, "", err
	}
	return k.spec(), k.class(), nil
}

// Public returns the public part of material, with the PEM of its
// SubjectPublicKeyInfo. Symmetric material has none: only Kty is set.
func (o *Ops) Public(m servicekey.Material) (servicekey.Public, error) {
	k, err := o.parse(m)
	if err != nil {
		return servicekey.Public{}, err
	}
	var pub any
	out := servicekey.Public{}
	switch {
	case k.oct != nil:
		return servicekey.Public{Kty: servicekey.Oct}, nil
	case k.rpub != nil:
		out.Kty, out.N, out.E = servicekey.RSA, k.rpub.N.Bytes(), bigEndian(k.rpub.E)
		pub = k.rpub
	default:
		size := curveName(k.epub.Curve).Bytes()
		b, err := k.epub.Bytes() // 0x04 || x || y, each padded to the curve size
		if err != nil {
			return servicekey.Public{}, fmt.Errorf("keyops: EC public key: %w", err)
		}
		out.Kty, out.Crv, out.X, out.Y = servicekey.EC, curveName(k.epub.Curve), b[1:1+size], b[1+size:]
		pub = k.epub
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return servicekey.Public{}, fmt.Errorf("keyops: encode public key: %w", err)
	}
	out.PEM = string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
	return out, nil
}

// bigEndian returns e's minimal big-endian bytes (RFC 7518 6.3.1.2:
// AQAB for 65537).
func bigEndian(e int) []byte {
	var b []byte
	for ; e > 0; e >>= 8 {
		b = append([]byte{byte(e)}, b...)
	}
	return b
}

// DataKey returns a fresh data key of bits bits, a multiple of 8 between
// 64 and 4096 (ServiceKeyDataKeySizeInvalid otherwise).
func (o *Ops) DataKey(bits int) (servicekey.Material, error) {
	if bits < 64 || bits > 4096 || bits%8 != 0 {
		return servicekey.Material{}, servicekey.Invalid(servicekey.FieldDataKeySize, "size must be a multiple of 8 between 64 and 4096 bits")
	}
	b, err := o.read(bits / 8)
	if err != nil {
		return servicekey.Material{}, err
	}
	return servicekey.MaterialOf(b), nil
}
