package main

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/crypto/ssh"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/client"
)

// coffer key export and import: public keys out in the forms OVHcloud's
// okms CLI writes (PKIX and PKCS #1 PEM, OpenSSH, JWK), and keys in from
// PEM (PKCS #1, PKCS #8, SEC 1, OpenSSH, PKIX), raw AES keys or wrapped
// material. The conversions to and from JWK are done here, as the okms
// CLI does them: the server only speaks JWK.

// exportFormats are the forms of key export --key-format.
var exportFormats = []string{"pkix", "pkcs1", "openssh", "jwk"}

func newKeyExportCmd(x *cli) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "export KEY-ID",
		Short: "Export the public key of a key pair",
		Long: `Print the public key of an RSA or EC key: --key-format pkix (PEM "PUBLIC
KEY", the default, which openssl reads), pkcs1 (PEM "RSA PUBLIC KEY", RSA
only), openssh (an authorized_keys line) or jwk. With --format json, the key
as the server returns it, with its JWK.`,
		Example: `  coffer key export $ID > signer.pem
  openssl dgst -sha256 -verify signer.pem -signature release.der release.tar.gz
  coffer key export $ID --key-format openssh >> ~/.ssh/authorized_keys`,
		Args: exactArgs(1, "KEY-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			format = strings.ToLower(format)
			if !slices.Contains(exportFormats, format) {
				return usagef("--key-format %q: expected pkix, pkcs1, openssh or jwk", format)
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.ServiceKey, error) {
				k, err := c.GetServiceKey(ctx, args[0], client.ServiceKeyGetOptions{Format: "jwk"})
				if err == nil && (len(k.Keys) == 0 || k.Keys[0].Kty == "oct") {
					err = fmt.Errorf("key %s has no public key (a %s key)", args[0], k.Type)
				}
				return k, err
			}, func(w io.Writer, k *api.ServiceKey) error { return writePublicKey(w, k, format) })
		},
	}
	cmd.Flags().StringVar(&format, "key-format", "pkix", "pkix, pkcs1, openssh or jwk")
	return cmd
}

// writePublicKey writes the public key of k, which carries its JWK, in
// format.
func writePublicKey(w io.Writer, k *api.ServiceKey, format string) error {
	j := k.Keys[0]
	if format == "jwk" {
		return printJSON(w, j)
	}
	pub, err := publicFromJWK(j)
	if err != nil {
		return fmt.Errorf("the server's JWK: %w", err)
	}
	switch format {
	case "pkcs1":
		rk, ok := pub.(*rsa.PublicKey)
		if !ok {
			return usagef("--key-format pkcs1 is for RSA keys; this one is %s", k.Type)
		}
		return pem.Encode(w, &pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(rk)})
	case "openssh":
		sk, err := ssh.NewPublicKey(pub)
		if err != nil {
			return err
		}
		line := bytes.TrimSpace(ssh.MarshalAuthorizedKey(sk))
		_, err = fmt.Fprintf(w, "%s %s\n", line, k.Name)
		return err
	}
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return err
	}
	return pem.Encode(w, &pem.Block{Type: "PUBLIC KEY", Bytes: der})
}

var b64u = base64.RawURLEncoding

// curves maps JWK curve names to the standard library's curves.
var curves = map[string]elliptic.Curve{"P-256": elliptic.P256(), "P-384": elliptic.P384(), "P-521": elliptic.P521()}

// publicFromJWK returns the public key of an RSA or EC JWK.
func publicFromJWK(j api.JSONWebKey) (any, error) {
	switch j.Kty {
	case "RSA":
		n, err1 := b64u.DecodeString(j.N)
		e, err2 := b64u.DecodeString(j.E)
		if err1 != nil || err2 != nil || len(e) == 0 || len(e) > 4 {
			return nil, fmt.Errorf("bad RSA members n, e")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
	case "EC":
		c, ok := curves[j.Crv]
		if !ok {
			return nil, fmt.Errorf("unknown curve %q", j.Crv)
		}
		xb, err1 := b64u.DecodeString(j.X)
		yb, err2 := b64u.DecodeString(j.Y)
		size := (c.Params().BitSize + 7) / 8
		if err1 != nil || err2 != nil || len(xb) != size || len(yb) != size {
			return nil, fmt.Errorf("bad EC members x, y")
		}
		point := append(append([]byte{4}, xb...), yb...)
		return ecdsa.ParseUncompressedPublicKey(c, point)
	}
	return nil, fmt.Errorf("no public key in a %q JWK", j.Kty)
}

// jwkFromPEM converts the first PEM block of b, a private or public RSA or
// EC key, into a JWK.
func jwkFromPEM(b []byte) (api.JSONWebKey, error) {
	block, _ := pem.Decode(b)
	if block == nil {
		return api.JSONWebKey{}, usagef("KEY: no PEM block (give --symmetric for a raw AES key in base64)")
	}
	var (
		k   any
		err error
	)
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
	case "OPENSSH PRIVATE KEY":
		k, err = ssh.ParseRawPrivateKey(b)
	case "PUBLIC KEY":
		k, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		k, err = x509.ParsePKCS1PublicKey(block.Bytes)
	default:
		return api.JSONWebKey{}, usagef("KEY: PEM block %q is not a key coffer imports", block.Type)
	}
	if err != nil {
		return api.JSONWebKey{}, usagef("KEY: %s: %v", block.Type, err)
	}
	return jwkOf(k)
}

// jwkOf converts an RSA or EC key, private or public, into a JWK.
func jwkOf(k any) (api.JSONWebKey, error) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		k.Precompute()
		j := rsaJWK(&k.PublicKey)
		if len(k.Primes) != 2 {
			return api.JSONWebKey{}, usagef("KEY: a multi-prime RSA key cannot be imported")
		}
		j.D, j.P, j.Q = b64u.EncodeToString(k.D.Bytes()), b64u.EncodeToString(k.Primes[0].Bytes()), b64u.EncodeToString(k.Primes[1].Bytes())
		j.DP, j.DQ, j.QI = b64u.EncodeToString(k.Precomputed.Dp.Bytes()), b64u.EncodeToString(k.Precomputed.Dq.Bytes()), b64u.EncodeToString(k.Precomputed.Qinv.Bytes())
		return j, nil
	case *rsa.PublicKey:
		return rsaJWK(k), nil
	case *ecdsa.PrivateKey:
		j, err := ecJWK(&k.PublicKey)
		if err != nil {
			return j, err
		}
		d, err := k.Bytes()
		if err != nil {
			return j, usagef("KEY: %v", err)
		}
		j.D = b64u.EncodeToString(d)
		return j, nil
	case *ecdsa.PublicKey:
		return ecJWK(k)
	}
	return api.JSONWebKey{}, usagef("KEY: a %T cannot be imported: coffer keeps RSA and EC (P-256, P-384, P-521) keys", k)
}

func rsaJWK(k *rsa.PublicKey) api.JSONWebKey {
	return api.JSONWebKey{Kty: "RSA", N: b64u.EncodeToString(k.N.Bytes()), E: b64u.EncodeToString(big.NewInt(int64(k.E)).Bytes())}
}

func ecJWK(k *ecdsa.PublicKey) (api.JSONWebKey, error) {
	name := k.Curve.Params().Name
	if _, ok := curves[name]; !ok {
		return api.JSONWebKey{}, usagef("KEY: curve %s: coffer keeps P-256, P-384 and P-521 keys", name)
	}
	point, err := k.Bytes() // 0x04 || x || y, each of the curve's size
	if err != nil {
		return api.JSONWebKey{}, usagef("KEY: %v", err)
	}
	size := (len(point) - 1) / 2
	return api.JSONWebKey{Kty: "EC", Crv: name, X: b64u.EncodeToString(point[1 : 1+size]), Y: b64u.EncodeToString(point[1+size:])}, nil
}

func newKeyImportCmd(x *cli) *cobra.Command {
	var (
		a          keyAttrs
		symmetric  bool
		wrappingID string
		wrappedFmt string
	)
	cmd := &cobra.Command{
		Use:   "import NAME KEY",
		Short: "Import a key: PEM, a raw AES key, or wrapped material",
		Long: `Import a key named NAME. KEY is literal, @FILE or - for standard input:
  - a PEM private key (PKCS #1, PKCS #8, SEC 1 or OpenSSH; RSA or EC), or a
    PEM public key (PKIX or PKCS #1), which only verifies or encrypts;
  - with --symmetric, an AES key of 16, 24 or 32 bytes, in base64;
  - with --wrapping-key-id, key material wrapped (a JWE) under that transport
    key of the domain, its plaintext in --wrapped-key-format (JWK, RAW,
    PKCS1, PKCS8), such as key get --wrapping-key-id prints.
The key is converted to a JWK here; only its JWK travels, over TLS.`,
		Example: `  coffer key import signer @private.pem --usage sign,verify
  coffer key import app-aes "$(head -c 32 /dev/urandom | base64)" --symmetric
  coffer key import moved @key.jwe --wrapping-key-id $TRANSPORT --wrapped-key-format PKCS8`,
		Args: exactArgs(2, "NAME and KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if symmetric && wrappingID != "" {
				return usagef("--symmetric and --wrapping-key-id cannot be combined")
			}
			if wrappingID == "" && cmd.Flags().Changed("wrapped-key-format") {
				return usagef("--wrapped-key-format needs --wrapping-key-id")
			}
			in := &keyInput{stdin: x.e.stdin}
			raw, err := in.read("KEY", args[1])
			if err != nil {
				return err
			}
			req := a.request(cmd, args[0])
			switch {
			case wrappingID != "":
				req.WrappedKeys = []api.WrappedKey{{KeyFormatType: strings.ToUpper(wrappedFmt), WrappingKeyID: wrappingID,
					Ciphertext: strings.TrimSpace(string(raw))}}
			case symmetric:
				k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(raw)))
				if err != nil {
					return usagef("KEY: with --symmetric, expected the AES key in base64")
				}
				req.Keys = []api.JSONWebKey{{Kty: "oct", K: b64u.EncodeToString(k)}}
			default:
				j, err := jwkFromPEM(raw)
				if err != nil {
					return err
				}
				req.Keys = []api.JSONWebKey{j}
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.ServiceKey, error) {
				return c.CreateServiceKey(ctx, req)
			}, printServiceKey)
		},
	}
	a.add(cmd)
	f := cmd.Flags()
	f.BoolVar(&symmetric, "symmetric", false, "KEY is a raw AES key, in base64")
	f.StringVar(&wrappingID, "wrapping-key-id", "", "KEY is wrapped under this transport key")
	f.StringVar(&wrappedFmt, "wrapped-key-format", "JWK", "format of the wrapped plaintext: JWK, RAW, PKCS1, PKCS8")
	return cmd
}
