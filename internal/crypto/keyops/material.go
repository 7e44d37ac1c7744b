package keyops

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"fmt"
	"sync"

	"github.com/seed-3e8d63de/coffer/internal/servicekey"
)

// Material encoding: format byte, kind byte, then the key.
const materialFormat = 1

// Kinds of material.
const (
	kindOct        = 'o' // raw AES key
	kindRSAPrivate = 'r' // PKCS #1 RSAPrivateKey DER
	kindRSAPublic  = 'R' // PKCS #1 RSAPublicKey DER
	kindECPrivate  = 'e' // SEC 1 ECPrivateKey DER (names its curve)
	kindECPublic   = 'E' // PKIX SubjectPublicKeyInfo DER
)

// errMaterial: stored material that does not parse. It never comes from a
// client: the record was written by coffer and opened by the sealed layer.
var errMaterial = errors.New("keyops: stored key material does not parse")

// key is parsed material.
type key struct {
	kind byte
	oct  []byte
	rsa  *rsa.PrivateKey
	rpub *rsa.PublicKey
	ec   *ecdsa.PrivateKey
	epub *ecdsa.PublicKey
}

func (k *key) spec() servicekey.Spec {
	switch {
	case k.oct != nil:
		return servicekey.Spec{Type: servicekey.Oct, Size: 8 * len(k.oct)}
	case k.rpub != nil:
		return servicekey.Spec{Type: servicekey.RSA, Size: k.rpub.N.BitLen()}
	}
	return servicekey.Spec{Type: servicekey.EC, Curve: curveName(k.epub.Curve)}
}

func (k *key) class() servicekey.Class {
	return servicekey.ClassOf(k.spec().Type, k.oct != nil || k.rsa != nil || k.ec != nil)
}

func encode(kind byte, der []byte) servicekey.Material {
	b := make([]byte, 0, 2+len(der))
	b = append(b, materialFormat, kind)
	return servicekey.MaterialOf(append(b, der...))
}

func encodeKey(k *key) (servicekey.Material, error) {
	switch k.kind {
	case kindOct:
		return encode(kindOct, k.oct), nil
	case kindRSAPrivate:
		return encode(kindRSAPrivate, x509.MarshalPKCS1PrivateKey(k.rsa)), nil
	case kindRSAPublic:
		return encode(kindRSAPublic, x509.MarshalPKCS1PublicKey(k.rpub)), nil
	case kindECPrivate:
		der, err := x509.MarshalECPrivateKey(k.ec)
		if err != nil {
			return servicekey.Material{}, fmt.Errorf("keyops: encode EC key: %w", err)
		}
		return encode(kindECPrivate, der), nil
	case kindECPublic:
		der, err := x509.MarshalPKIXPublicKey(k.epub)
		if err != nil {
			return servicekey.Material{}, fmt.Errorf("keyops: encode EC public key: %w", err)
		}
		return encode(kindECPublic, der), nil
	}
	return servicekey.Material{}, errMaterial
}

// newKey completes a parsed key: its public half and its kind.
func newKey(v any) (*key, error) {
	switch k := v.(type) {
	case []byte:
		return &key{kind: kindOct, oct: k}, nil
	case *rsa.PrivateKey:
		return &key{kind: kindRSAPrivate, rsa: k, rpub: &k.PublicKey}, nil
	case *rsa.PublicKey:
		return &key{kind: kindRSAPublic, rpub: k}, nil
	case *ecdsa.PrivateKey:
		return &key{kind: kindECPrivate, ec: k, epub: &k.PublicKey}, nil
	case *ecdsa.PublicKey:
		return &key{kind: kindECPublic, epub: k}, nil
	}
	return nil, fmt.Errorf("keyops: unsupported key type %T", v)
}

// parse decodes stored material, through the cache.
func (o *Ops) parse(m servicekey.Material) (*key, error) {
	b := m.Bytes()
	if len(b) < 3 || b[0] != materialFormat {
		return nil, errMaterial
	}
	sum := sha256.Sum256(b)
	if k, ok := o.cache.get(sum); ok {
		return k, nil
	}
	k, err := parseDER(b[1], b[2:])
	if err != nil {
		return nil, err
	}
	o.cache.put(sum, k)
	return k, nil
}

func parseDER(kind byte, der []byte) (*key, error) {
	var (
		v   any
		err error
	)
	switch kind {
	case kindOct:
		v = append([]byte(nil), der...)
	case kindRSAPrivate:
		v, err = x509.ParsePKCS1PrivateKey(der)
	case kindRSAPublic:
		v, err = x509.ParsePKCS1PublicKey(der)
	case kindECPrivate:
		v, err = x509.ParseECPrivateKey(der)
	case kindECPublic:
		v, err = x509.ParsePKIXPublicKey(der)
	default:
		return nil, errMaterial
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errMaterial, err)
	}
	if _, ok := v.(*ecdsa.PublicKey); !ok && kind == kindECPublic {
		return nil, errMaterial
	}
	return newKey(v)
}

func curveName(c elliptic.Curve) servicekey.Curve {
	switch c {
	case elliptic.P256():
		return servicekey.P256
	case elliptic.P384():
		return servicekey.P384
	case elliptic.P521():
		return servicekey.P521
	}
	return ""
}

func curveOf(c servicekey.Curve) elliptic.Curve {
	switch c {
	case servicekey.P256:
		return elliptic.P256()
	case servicekey.P384:
		return elliptic.P384()
	case servicekey.P521:
		return elliptic.P521()
	}
	return nil
}

// keyCache keeps parsed keys by a SHA-256 of their material, at most
// cacheSize of them; when full, one entry picked by map order goes.
type keyCache struct {
	mu sync.Mutex
	m  map[[32]byte]*key
}

const cacheSize = 1024

func (c *keyCache) get(sum [32]byte) (*key, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	k, ok := c.m[sum]
	return k, ok
}

// clear drops every parsed key.
func (c *keyCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m = nil
}

func (c *keyCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.m)
}

func (c *keyCache) put(sum [32]byte, k *key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = make(map[[32]byte]*key)
	}
	if len(c.m) >= cacheSize {
		for s := range c.m {
			delete(c.m, s)
			break
		}
	}
	c.m[sum] = k
}
