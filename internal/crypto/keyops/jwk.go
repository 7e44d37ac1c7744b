package keyops

import (
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"

	"github.com/seed-3e8d63de/coffer/internal/servicekey"
)

// badKey reports unusable imported key material: a ServiceKeyKeysInvalid
// violation whose reason says what is wrong, never a value.
func badKey(format string, args ...any) error {
	return servicekey.Invalid(servicekey.FieldKeys, fmt.Sprintf(format, args...))
}

// ImportJWK turns a JWK into material (RFC 7518 6): an oct key of 16, 24
// or 32 bytes; an RSA key of 2048, 3072 or 4096 bits, public (n, e) or
// private (n, e, d, p, q; dp, dq and qi are checked when present); an EC
// key on P-256, P-384 or P-521, public (crv, x, y) or private (and d).
// Coordinates and d shorter than the curve's size are left-padded, as
// okms-sdk-go writes them without leading zeros. Anything else is a
// ServiceKeyKeysInvalid violation.
func (o *Ops) ImportJWK(j servicekey.JWK) (servicekey.Imported, error) {
	m := j.Members()
	var (
		v   any
		err error
	)
	switch servicekey.Type(m.Kty) {
	case servicekey.Oct:
		v, err = octKey(m.K)
	case servicekey.RSA:
		v, err = rsaKey(m)
	case servicekey.EC:
		v, err = ecKey(m)
	default:
		return servicekey.Imported{}, badKey(`JWK "kty" must be one of oct, RSA, EC`)
	}
	if err != nil {
		return servicekey.Imported{}, err
	}
	return o.imported(v, m.KeyOps)
}

func (o *Ops) imported(v any, usages []string) (servicekey.Imported, error) {
	k, err := newKey(v)
	if err != nil {
		return servicekey.Imported{}, badKey("unsupported key type")
	}
	mat, err := encodeKey(k)
	if err != nil {
		return servicekey.Imported{}, err
	}
	return servicekey.Imported{Spec: k.spec(), Class: k.class(), Material: mat, Usages: usages}, nil
}

func octKey(k []byte) ([]byte, error) {
	switch len(k) {
	case 16, 24, 32:
		return append([]byte(nil), k...), nil
	case 0:
		return nil, badKey(`an oct JWK needs "k"`)
	}
	return nil, badKey("an oct key must be 128, 192 or 256 bits long, not %d", 8*len(k))
}

func rsaKey(m *servicekey.JWKMembers) (any, error) {
	if m.N == nil || m.E == nil {
		return nil, badKey(`an RSA JWK needs "n" and "e"`)
	}
	if len(m.E) > 4 {
		return nil, badKey(`RSA public exponent "e" is too large`)
	}
	e := int(new(big.Int).SetBytes(m.E).Int64())
	pub := rsa.PublicKey{N: new(big.Int).SetBytes(m.N), E: e}
	if err := checkRSASize(pub.N.BitLen()); err != nil {
		return nil, err
	}
	if e < 3 || e%2 == 0 {
		return nil, badKey(`RSA public exponent "e" must be odd and at least 3`)
	}
	if m.D == nil {
		if m.P != nil || m.Q != nil || m.DP != nil || m.DQ != nil || m.QI != nil {
			return nil, badKey(`an RSA JWK with CRT members needs "d"`)
		}
		return &pub, nil
	}
	if m.P == nil || m.Q == nil {
		return nil, badKey(`an RSA private JWK needs "p" and "q" as well as "d"`)
	}
	k := &rsa.PrivateKey{PublicKey: pub, D: new(big.Int).SetBytes(m.D),
		Primes: []*big.Int{new(big.Int).SetBytes(m.P), new(big.Int).SetBytes(m.Q)}}
	if err := k.Validate(); err != nil {
		return nil, badKey("the RSA private key is inconsistent")
	}
	k.Precompute()
	for _, c := range []struct {
		name string
		got  []byte
		want *big.Int
	}{{"dp", m.DP, k.Precomputed.Dp}, {"dq", m.DQ, k.Precomputed.Dq}, {"qi", m.QI, k.Precomputed.Qinv}} {
		if c.got != nil && new(big.Int).SetBytes(c.got).Cmp(c.want) != 0 {
			return nil, badKey("the RSA private key's %q does not match its primes", c.name)
		}
	}
	return k, nil
}

func checkRSASize(bits int) error {
	switch bits {
	case 2048, 3072, 4096:
		return nil
	}
	return badKey("an RSA key must be 2048, 3072 or 4096 bits long, not %d", bits)
}

func ecKey(m *servicekey.JWKMembers) (any, error) {
	crv := servicekey.Curve(m.Crv)
	c := curveOf(crv)
	if c == nil {
		return nil, badKey(`an EC JWK needs "crv": P-256, P-384 or P-521`)
	}
	size := crv.Bytes()
	x, okx := leftPad(m.X, size)
	y, oky := leftPad(m.Y, size)
	if !okx || !oky {
		return nil, badKey(`an EC JWK needs "x" and "y" of at most %d bytes on %s`, size, crv)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(c, append(append([]byte{4}, x...), y...))
	if err != nil {
		return nil, badKey("the EC point is not on %s", crv)
	}
	if m.D == nil {
		return pub, nil
	}
	d, ok := leftPad(m.D, size)
	if !ok {
		return nil, badKey(`EC "d" is longer than %d bytes`, size)
	}
	k, err := ecdsa.ParseRawPrivateKey(c, d)
	if err != nil {
		return nil, badKey("the EC private key is invalid on %s", crv)
	}
	if !k.PublicKey.Equal(pub) {
		return nil, badKey(`the EC private key "d" does not match "x" and "y"`)
	}
	return k, nil
}

// leftPad pads b with leading zeros to size bytes; it reports false for an
// empty b or one longer than size.
func leftPad(b []byte, size int) ([]byte, bool) {
	if len(b) == 0 || len(b) > size {
		return nil, false
	}
	out := make([]byte, size)
	copy(out[size-len(b):], b)
	return out, true
}

// ImportKey parses the plaintext of a wrapped key in format: RAW (a
// symmetric key), JWK (any JWK ImportJWK accepts), PKCS1 (an RSA private
// key) or PKCS8 (an RSA or EC private key). Anything else is a
// ServiceKeyWrappedKeysInvalid violation.
func (o *Ops) ImportKey(format servicekey.KeyFormat, plain servicekey.Material) (servicekey.Imported, error) {
	b := plain.Bytes()
	bad := func(what string) error {
		return servicekey.Invalid(servicekey.FieldWrappedKeys, "the unwrapped key material is not "+what)
	}
	switch format {
	case servicekey.FormatRAW:
		k, err := octKey(b)
		if err != nil {
			return servicekey.Imported{}, bad("a 128, 192 or 256-bit key (RAW)")
		}
		return o.imported(k, nil)
	case servicekey.FormatJWK:
		var w jwkJSON
		if err := json.Unmarshal(b, &w); err != nil {
			return servicekey.Imported{}, bad("a JSON Web Key (JWK)")
		}
		j, err := servicekey.ParseJWK(w.Kty, w.Crv, w.KeyOps, w.members())
		if err != nil {
			return servicekey.Imported{}, err
		}
		return o.ImportJWK(j)
	case servicekey.FormatPKCS1:
		k, err := x509.ParsePKCS1PrivateKey(b)
		if err != nil {
			return servicekey.Imported{}, bad("a PKCS #1 RSA private key (PKCS1)")
		}
		if err := checkRSASize(k.N.BitLen()); err != nil {
			return servicekey.Imported{}, err
		}
		return o.imported(k, nil)
	case servicekey.FormatPKCS8:
		v, err := x509.ParsePKCS8PrivateKey(b)
		if err != nil {
			return servicekey.Imported{}, bad("a PKCS #8 private key (PKCS8)")
		}
		switch k := v.(type) {
		case *rsa.PrivateKey:
			if err := checkRSASize(k.N.BitLen()); err != nil {
				return servicekey.Imported{}, err
			}
		case *ecdsa.PrivateKey:
			if curveName(k.Curve) == "" {
				return servicekey.Imported{}, badKey("EC keys must be on P-256, P-384 or P-521")
			}
		default:
			return servicekey.Imported{}, bad("an RSA or EC private key (PKCS8)")
		}
		return o.imported(v, nil)
	}
	return servicekey.Imported{}, servicekey.ErrIncompatible
}

// ExportKey writes material in format, for a wrapped export: RAW for a
// symmetric key, PKCS1 for an RSA private key, PKCS8 for an RSA or EC
// private key, JWK for anything (private members included). A format that
// does not fit is servicekey.ErrIncompatible.
func (o *Ops) ExportKey(format servicekey.KeyFormat, m servicekey.Material) (servicekey.Material, error) {
	k, err := o.parse(m)
	if err != nil {
		return servicekey.Material{}, err
	}
	if err := format.Fits(k.spec(), k.class()); err != nil {
		return servicekey.Material{}, err
	}
	switch format {
	case servicekey.FormatRAW:
		return servicekey.NewMaterial(k.oct), nil
	case servicekey.FormatPKCS1:
		return servicekey.MaterialOf(x509.MarshalPKCS1PrivateKey(k.rsa)), nil
	case servicekey.FormatPKCS8:
		var priv any = k.rsa
		if k.ec != nil {
			priv = k.ec
		}
		der, err := x509.MarshalPKCS8PrivateKey(priv)
		if err != nil {
			return servicekey.Material{}, fmt.Errorf("keyops: encode PKCS #8: %w", err)
		}
		return servicekey.MaterialOf(der), nil
	}
	b, err := json.Marshal(privateJWK(k))
	if err != nil {
		return servicekey.Material{}, fmt.Errorf("keyops: encode JWK: %w", err)
	}
	return servicekey.MaterialOf(b), nil
}

// jwkJSON is a JWK on the wire: base64url members (RFC 7518 6).
type jwkJSON struct {
	Kty    string   `json:"kty"`
	Crv    string   `json:"crv,omitempty"`
	KeyOps []string `json:"key_ops,omitempty"`
	N      string   `json:"n,omitempty"`
	E      string   `json:"e,omitempty"`
	X      string   `json:"x,omitempty"`
	Y      string   `json:"y,omitempty"`
	D      string   `json:"d,omitempty"`
	P      string   `json:"p,omitempty"`
	Q      string   `json:"q,omitempty"`
	DP     string   `json:"dp,omitempty"`
	DQ     string   `json:"dq,omitempty"`
	QI     string   `json:"qi,omitempty"`
	K      string   `json:"k,omitempty"`
}

func (w *jwkJSON) members() map[string]string {
	out := map[string]string{}
	for name, v := range map[string]string{"n": w.N, "e": w.E, "x": w.X, "y": w.Y, "d": w.D, "p": w.P,
		"q": w.Q, "dp": w.DP, "dq": w.DQ, "qi": w.QI, "k": w.K} {
		if v != "" {
			out[name] = v
		}
	}
	return out
}

var b64url = base64.RawURLEncoding

func privateJWK(k *key) jwkJSON {
	enc := b64url.EncodeToString
	switch {
	case k.oct != nil:
		return jwkJSON{Kty: "oct", K: enc(k.oct)}
	case k.rpub != nil:
		w := jwkJSON{Kty: "RSA", N: enc(k.rpub.N.Bytes()), E: enc(bigEndian(k.rpub.E))}
		if k.rsa != nil {
			// Every key this package holds was precomputed when parsed,
			// generated or imported; Precompute would write to a key
			// other requests share.
			w.D, w.P, w.Q = enc(k.rsa.D.Bytes()), enc(k.rsa.Primes[0].Bytes()), enc(k.rsa.Primes[1].Bytes())
			w.DP, w.DQ, w.QI = enc(k.rsa.Precomputed.Dp.Bytes()), enc(k.rsa.Precomputed.Dq.Bytes()), enc(k.rsa.Precomputed.Qinv.Bytes())
		}
		return w
	}
	crv := curveName(k.epub.Curve)
	size := crv.Bytes()
	b, _ := k.epub.Bytes()
	w := jwkJSON{Kty: "EC", Crv: string(crv), X: enc(b[1 : 1+size]), Y: enc(b[1+size:])}
	if k.ec != nil {
		d, _ := k.ec.Bytes()
		w.D = enc(d)
	}
	return w
}
