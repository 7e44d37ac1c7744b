package main

import (
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/client"
)

// coffer key: the service keys of a domain (the Key Management Service
// half of OKMS) through surface B's /v1/servicekey routes, the same
// operations as OVHcloud's `okms keys`. Root and domain key rotation are
// `coffer operator` commands (keys.go).

func newKeyCmd(x *cli) *cobra.Command {
	cmd := group("key", "Manage the service keys of a domain (KMS)",
		`Manage the service keys of an OKMS domain through its regional REST API
(/api/{okmsId}/v1/servicekey), the API of OVHcloud's okms keys commands:
symmetric keys (oct: AES 128, 192, 256) that encrypt, decrypt and make data
keys, and key pairs (RSA 2048, 3072, 4096; EC P-256, P-384, P-521) that sign
and verify, and for RSA encrypt. Key material never leaves the server in
clear: only public keys, and wrapped exports of extractable keys.

KEY-ID is a key's id (a UUID), as key new and key list print it. DATA is
literal text, @FILE for a file's bytes, or - for standard input.

The domain is --okms-id (COFFER_OKMS_ID), else the server's default domain.`,
		`  ID=$(coffer key new app --type oct --size 256 --format json | jq -r .id)
  CT=$(coffer key encrypt $ID s3cr3t --context app)
  coffer key decrypt $ID $CT --context app
  coffer key new signer --type EC --curve P-256
  coffer key list`,
		newKeyNewCmd(x), newKeyListCmd(x), newKeyGetCmd(x), newKeyUpdateCmd(x),
		newKeyActivateCmd(x), newKeyDeactivateCmd(x), newKeyDeleteCmd(x),
		newKeyEncryptCmd(x), newKeyDecryptCmd(x), newKeySignCmd(x), newKeyVerifyCmd(x),
		newKeyExportCmd(x), newKeyImportCmd(x), newDataKeyCmd(x))
	x.connFlags(cmd, true)
	return cmd
}

// keyInput reads a DATA argument: - is standard input (once per
// command), @FILE a file's content, anything else the argument's bytes.
// Problems are usage errors: nothing is sent.
type keyInput struct {
	stdin io.Reader
	used  bool
}

// maxKeyInput bounds what a DATA argument reads: messages to sign are
// hashed here, so they may be large, but not unbounded in memory.
const maxKeyInput = 1 << 30

func (in *keyInput) read(name, arg string) ([]byte, error) {
	switch {
	case arg == "-":
		if in.used {
			return nil, usagef("%s: standard input was already read by another argument", name)
		}
		in.used = true
		b, err := io.ReadAll(io.LimitReader(in.stdin, maxKeyInput))
		if err != nil {
			return nil, usagef("%s: read standard input: %v", name, err)
		}
		return b, nil
	case strings.HasPrefix(arg, "@"):
		b, err := os.ReadFile(arg[1:])
		if err != nil {
			return nil, usagef("%s %q: %v", name, arg, err)
		}
		return b, nil
	}
	return []byte(arg), nil
}

// text reads a DATA argument that holds text (a ciphertext, a signature,
// a wrapped key): surrounding white space, such as the newline a file or
// echo ends with, is dropped.
func (in *keyInput) text(name, arg string) (string, error) {
	b, err := in.read(name, arg)
	return strings.TrimSpace(string(b)), err
}

// Key types as surface B spells them; the flags take any case.
var keyTypes = map[string]string{"oct": "oct", "rsa": "RSA", "ec": "EC"}

func keyTypeArg(s string) (string, error) {
	t, ok := keyTypes[strings.ToLower(s)]
	if !ok {
		return "", usagef("--type %q: expected oct, RSA or EC", s)
	}
	return t, nil
}

// usages splits repeated or comma-separated --usage values.
func usages(vals []string) []string {
	var out []string
	for _, v := range vals {
		for u := range strings.SplitSeq(v, ",") {
			if u = strings.TrimSpace(u); u != "" {
				out = append(out, u)
			}
		}
	}
	return out
}

// keyAttrs are the flags of new and import that the two share.
type keyAttrs struct {
	usage       []string
	context     string
	id          string
	extractable bool
}

func (a *keyAttrs) add(c *cobra.Command) {
	f := c.Flags()
	f.StringSliceVar(&a.usage, "usage", nil, "operations the key allows, comma-separated or repeated: encrypt, decrypt, sign, verify, wrapKey, unwrapKey (default: all that fit its type)")
	f.StringVar(&a.context, "context", "", "context of the key (free text kept with it)")
	f.StringVar(&a.id, "id", "", "id (UUID) of the key (default: a new one)")
	f.BoolVar(&a.extractable, "extractable", false, "the key may be exported, wrapped under a transport key")
}

func (a *keyAttrs) request(c *cobra.Command, name string) api.CreateServiceKeyRequest {
	req := api.CreateServiceKeyRequest{Name: name, Operations: usages(a.usage)}
	if a.context != "" {
		req.Context = &a.context
	}
	if a.id != "" {
		req.ID = &a.id
	}
	if c.Flags().Changed("extractable") {
		req.Extractable = &a.extractable
	}
	return req
}

func newKeyNewCmd(x *cli) *cobra.Command {
	var (
		a     keyAttrs
		typ   string
		size  int
		curve string
	)
	cmd := &cobra.Command{
		Use:   "new NAME",
		Short: "Generate a service key",
		Long: `Generate a service key named NAME: --type oct (AES, --size 128, 192 or 256),
RSA (--size 2048, 3072 or 4096) or EC (--curve P-256, P-384 or P-521), with
the operations of --usage (by default every one its type allows: encrypt,
decrypt, wrapKey, unwrapKey for oct; sign and verify for RSA and EC).`,
		Example: `  coffer key new app --type oct --size 256
  coffer key new signer --type EC --curve P-384 --usage sign,verify
  coffer key new transport --type RSA --size 3072 --usage wrapKey,unwrapKey --format json`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := keyTypeArg(typ)
			if err != nil {
				return err
			}
			req := a.request(cmd, args[0])
			req.Type = &t
			switch {
			case t == "EC" && cmd.Flags().Changed("size"):
				return usagef("an EC key has a --curve, not a --size")
			case t == "EC":
				req.Curve = &curve
			case cmd.Flags().Changed("curve"):
				return usagef("--curve is for EC keys; an %s key has a --size", t)
			default:
				if !cmd.Flags().Changed("size") && t == "RSA" {
					size = 2048
				}
				req.Size = &size
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.ServiceKey, error) {
				return c.CreateServiceKey(ctx, req)
			}, printServiceKey)
		},
	}
	a.add(cmd)
	f := cmd.Flags()
	f.StringVar(&typ, "type", "oct", "key type: oct, RSA or EC")
	f.IntVar(&size, "size", 256, "size in bits: 128, 192, 256 (oct; default 256), 2048, 3072, 4096 (RSA; default 2048)")
	f.StringVar(&curve, "curve", "P-256", "curve of an EC key: P-256, P-384 or P-521")
	return cmd
}

// keyPairs are the rows of a key's table.
func keyPairs(k *api.ServiceKey) [][2]string {
	at := k.Attributes
	kv := [][2]string{
		{"id", k.ID},
		{"name", k.Name},
		{"type", k.Type},
		{"class", k.Class},
		{"size", sizeText(k)},
		{"usage", strings.Join(k.Operations, ",")},
		{"state", at.State},
		{"protection_level", k.ProtectionLevel},
		{"extractable", strconv.FormatBool(at.Extractable)},
		{"context", dash(at.Context)},
		{"created_at", at.OriginalCreationDate},
	}
	for _, p := range []struct {
		name string
		v    *string
	}{{"activated_at", at.ActivationDate}, {"deactivated_at", at.DeactivationDate},
		{"compromised_at", at.CompromiseDate}, {"destroyed_at", at.DestructionDate}} {
		if p.v != nil {
			kv = append(kv, [2]string{p.name, *p.v})
		}
	}
	if at.RevocationReason != "" {
		kv = append(kv, [2]string{"revocation_reason", at.RevocationReason})
	}
	return kv
}

// sizeText is a key's size in bits, or its curve.
func sizeText(k *api.ServiceKey) string {
	if k.Curve != "" {
		return k.Curve
	}
	if k.Size == 0 {
		return "-"
	}
	return strconv.Itoa(k.Size)
}

func printServiceKey(w io.Writer, k *api.ServiceKey) error { return pairs(w, keyPairs(k)...) }

func newKeyListCmd(x *cli) *cobra.Command {
	var (
		state string
		max   int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the service keys you may see",
		Long: `List the service keys of the domain that you may see
(okms:apikms:serviceKey/get), in id order, following the pages to the end.`,
		Example: `  coffer key list
  coffer key list --state deactivated --format json`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) ([]api.ServiceKey, error) {
				return collect(c.ServiceKeys(ctx, state, max))
			}, func(w io.Writer, out []api.ServiceKey) error {
				t := newTable(w, "ID", "NAME", "TYPE", "SIZE", "USAGE", "STATE", "CREATED")
				for _, k := range out {
					t.row(k.ID, k.Name, k.Type, sizeText(&k), strings.Join(k.Operations, ","), k.Attributes.State, k.Attributes.OriginalCreationDate)
				}
				return t.flush()
			})
		},
	}
	cmd.Flags().StringVar(&state, "state", "all", "only the keys in this state: active, deactivated, compromised, destroyed, destroyed_compromised or all")
	cmd.Flags().IntVar(&max, "page-size", 100, "keys asked per request, 10..100")
	return cmd
}

func newKeyGetCmd(x *cli) *cobra.Command {
	var wrap client.ServiceKeyGetOptions
	cmd := &cobra.Command{
		Use:   "get KEY-ID",
		Short: "Show a service key, or export it wrapped",
		Long: `Show a service key's metadata. With --wrapping-key-id, export the key's
material wrapped (encrypted) under that transport key of the domain, an RSA
key with the wrapKey usage: only an extractable key can be. The wrapped key
(a JWE) is printed; key import --wrapping-key-id takes it back.`,
		Example: `  coffer key get 0b7c3a1e-9a51-4d1e-8f3a-4c2d8e1f6a70
  coffer key get $ID --wrapping-key-id $TRANSPORT --wrapped-key-format PKCS8 > key.jwe`,
		Args: exactArgs(1, "KEY-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if wrap.WrappingKeyID == "" {
				if cmd.Flags().Changed("wrapped-key-format") || cmd.Flags().Changed("wrapping-algorithm") {
					return usagef("--wrapped-key-format and --wrapping-algorithm need --wrapping-key-id")
				}
				return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.ServiceKey, error) {
					return c.GetServiceKey(ctx, args[0], client.ServiceKeyGetOptions{})
				}, printServiceKey)
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.ServiceKey, error) {
				return c.GetServiceKey(ctx, args[0], wrap)
			}, func(w io.Writer, k *api.ServiceKey) error {
				for _, wk := range k.WrappedKeys {
					fmt.Fprintln(w, wk.Ciphertext)
				}
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&wrap.WrappingKeyID, "wrapping-key-id", "", "export the key wrapped under this transport key")
	f.StringVar(&wrap.WrappedKeyFormat, "wrapped-key-format", "JWK", "format of the material before wrapping: JWK, RAW (oct), PKCS1 (RSA), PKCS8")
	f.StringVar(&wrap.WrappingAlgorithm, "wrapping-algorithm", "RSA-OAEP-256", "wrapping algorithm: RSA-OAEP or RSA-OAEP-256")
	return cmd
}

func newKeyUpdateCmd(x *cli) *cobra.Command {
	var (
		name        string
		extractable bool
	)
	cmd := &cobra.Command{
		Use:   "update KEY-ID",
		Short: "Rename a service key or change whether it is extractable",
		Example: `  coffer key update $ID --name app-2026
  coffer key update $ID --extractable=false`,
		Args: exactArgs(1, "KEY-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var req api.UpdateServiceKeyRequest
			if cmd.Flags().Changed("name") {
				req.Name = &name
			}
			if cmd.Flags().Changed("extractable") {
				req.Extractable = &extractable
			}
			if req.Name == nil && req.Extractable == nil {
				return usagef("nothing to update: give --name or --extractable")
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.ServiceKey, error) {
				return c.UpdateServiceKey(ctx, args[0], req)
			}, printServiceKey)
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "new name")
	cmd.Flags().BoolVar(&extractable, "extractable", false, "whether the key may be exported wrapped")
	return cmd
}

func newKeyActivateCmd(x *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "activate KEY-ID",
		Short: "Reactivate a deactivated or compromised service key",
		Long: `Return a deactivated or compromised key to active: it encrypts and signs
again, and a compromise date is cleared. A destroyed key stays destroyed.`,
		Example: "  coffer key activate $ID",
		Args:    exactArgs(1, "KEY-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return act(cmd, x, func(ctx context.Context, c *client.Client) error { return c.ActivateServiceKey(ctx, args[0]) },
				map[string]any{"id": args[0], "state": api.KeyStateActive}, fmt.Sprintf("Activated key %s.", args[0]))
		},
	}
}

// revocationReasons are the reasons of a deactivation (the swagger's
// RevocationReasons).
var revocationReasons = []string{"unspecified", "key_compromise", "ca_compromise", "affiliation_changed",
	"superseded", "cessation_of_operation", "privilege_withdrawn"}

func newKeyDeactivateCmd(x *cli) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   "deactivate KEY-ID",
		Short: "Deactivate a service key, with a reason",
		Long: `Deactivate a key: it no longer encrypts, signs or makes data keys, but
still decrypts and verifies. --reason is one of ` + strings.Join(revocationReasons, ", ") + `;
key_compromise and ca_compromise mark the key compromised.`,
		Example: `  coffer key deactivate $ID --reason superseded
  coffer key deactivate $ID --reason key_compromise`,
		Args: exactArgs(1, "KEY-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !slices.Contains(revocationReasons, reason) {
				return usagef("--reason %q: expected one of %s", reason, strings.Join(revocationReasons, ", "))
			}
			return act(cmd, x, func(ctx context.Context, c *client.Client) error {
				return c.DeactivateServiceKey(ctx, args[0], reason)
			}, map[string]any{"id": args[0], "reason": reason}, fmt.Sprintf("Deactivated key %s (%s).", args[0], reason))
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "unspecified", "revocation reason")
	return cmd
}

func newKeyDeleteCmd(x *cli) *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "delete KEY-ID",
		Short: "Delete a deactivated service key (its material is destroyed)",
		Long: `Delete a service key for good: its material is destroyed, and what it
encrypted can never be decrypted again. An active key is refused: deactivate
it first, or give --force to deactivate it (reason unspecified) and delete it.`,
		Example: `  coffer key delete $ID
  coffer key delete $ID --force`,
		Args: exactArgs(1, "KEY-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return act(cmd, x, func(ctx context.Context, c *client.Client) error {
				if force {
					k, err := c.GetServiceKey(ctx, args[0], client.ServiceKeyGetOptions{})
					if err != nil {
						return err
					}
					if k.Attributes.State == api.KeyStateActive {
						if err := c.DeactivateServiceKey(ctx, args[0], "unspecified"); err != nil {
							return err
						}
					}
				}
				return c.DeleteServiceKey(ctx, args[0])
			}, map[string]any{"id": args[0], "deleted": true}, fmt.Sprintf("Deleted key %s.", args[0]))
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "deactivate an active key first")
	return cmd
}

func newKeyEncryptCmd(x *cli) *cobra.Command {
	var keyCtx string
	cmd := &cobra.Command{
		Use:   "encrypt KEY-ID DATA",
		Short: "Encrypt up to 4 KiB with a service key",
		Long: `Encrypt DATA (up to 4096 bytes: literal text, @FILE or - for standard
input) with a symmetric or RSA key that has the encrypt usage, and print the
ciphertext (a JWE). With --context, decrypt needs the same context.
For larger data, make a data key (key datakey new) and encrypt locally.`,
		Example: `  coffer key encrypt $ID s3cr3t --context app
  coffer key encrypt $ID @token.bin > token.jwe
  echo -n s3cr3t | coffer key encrypt $ID -`,
		Args: exactArgs(2, "KEY-ID and DATA"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := &keyInput{stdin: x.e.stdin}
			data, err := in.read("DATA", args[1])
			if err != nil {
				return err
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.EncryptResponse, error) {
				ct, err := c.Encrypt(ctx, args[0], data, keyCtx)
				return &api.EncryptResponse{Ciphertext: ct}, err
			}, printLine(func(r *api.EncryptResponse) string { return r.Ciphertext }))
		},
	}
	cmd.Flags().StringVar(&keyCtx, "context", "", "context bound to the ciphertext (additional authenticated data)")
	return cmd
}

func newKeyDecryptCmd(x *cli) *cobra.Command {
	var keyCtx string
	cmd := &cobra.Command{
		Use:   "decrypt KEY-ID CIPHERTEXT",
		Short: "Decrypt a ciphertext of key encrypt",
		Long: `Decrypt CIPHERTEXT (the JWE key encrypt printed: literal, @FILE or - for
standard input) with the context it was made with, and write the plaintext
as it is, raw bytes, to standard output; with --format json, base64 in
{"plaintext": ...}.`,
		Example: `  coffer key decrypt $ID $CT --context app
  coffer key decrypt $ID @token.jwe > token.bin`,
		Args: exactArgs(2, "KEY-ID and CIPHERTEXT"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := &keyInput{stdin: x.e.stdin}
			ct, err := in.text("CIPHERTEXT", args[1])
			if err != nil {
				return err
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.DecryptResponse, error) {
				p, err := c.Decrypt(ctx, args[0], ct, keyCtx)
				return &api.DecryptResponse{Plaintext: base64.StdEncoding.EncodeToString(p)}, err
			}, func(w io.Writer, r *api.DecryptResponse) error {
				p, _ := base64.StdEncoding.DecodeString(r.Plaintext)
				return x.writeRaw(w, p)
			})
		},
	}
	cmd.Flags().StringVar(&keyCtx, "context", "", "context the ciphertext was made with")
	return cmd
}

// writeRaw writes bytes as they are, with a newline after them only on a
// terminal (as secret get --field does).
func (x *cli) writeRaw(w io.Writer, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return err
	}
	if isTerminal(w) {
		fmt.Fprintln(w)
	}
	return nil
}

// signAlgs maps the signature algorithms to their hash.
var signAlgs = map[string]crypto.Hash{
	"RS256": crypto.SHA256, "RS384": crypto.SHA384, "RS512": crypto.SHA512,
	"PS256": crypto.SHA256, "PS384": crypto.SHA384, "PS512": crypto.SHA512,
	"ES256": crypto.SHA256, "ES384": crypto.SHA384, "ES512": crypto.SHA512,
}

// signFlags are the flags of sign and verify.
type signFlags struct {
	alg    string
	digest bool
}

func (s *signFlags) add(c *cobra.Command) {
	c.Flags().StringVar(&s.alg, "alg", "", "signature algorithm: RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 (required)")
	c.Flags().BoolVar(&s.digest, "digest", false, "DATA is already the digest of the message, in base64")
}

// digestOf returns what is sent to sign or verify DATA: its digest under
// the algorithm's hash, computed here so that a large file never travels.
func (s *signFlags) digestOf(in *keyInput, arg string) ([]byte, error) {
	h, ok := signAlgs[strings.ToUpper(s.alg)]
	if !ok {
		return nil, usagef("--alg %q: expected RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or ES512", s.alg)
	}
	s.alg = strings.ToUpper(s.alg)
	if s.digest {
		t, err := in.text("DATA", arg)
		if err != nil {
			return nil, err
		}
		d, err := base64.StdEncoding.DecodeString(t)
		if err != nil || len(d) != h.Size() {
			return nil, usagef("DATA: with --digest, expected the base64 of a %d-byte %s digest", h.Size(), h)
		}
		return d, nil
	}
	b, err := in.read("DATA", arg)
	if err != nil {
		return nil, err
	}
	hh := h.New()
	hh.Write(b)
	return hh.Sum(nil), nil
}

func newKeySignCmd(x *cli) *cobra.Command {
	var s signFlags
	cmd := &cobra.Command{
		Use:   "sign KEY-ID DATA",
		Short: "Sign a message with a service key",
		Long: `Sign DATA (literal text, @FILE or - for standard input; hashed here with
--alg's hash, so that only the digest is sent) with an RSA or EC key that
has the sign usage, and print the signature in base64: PKCS #1 v1.5 (RS*) or
PSS (PS*) for RSA, r||s (IEEE P1363) for EC. With --digest, DATA is the
digest, in base64.`,
		Example: `  coffer key sign $ID @release.tar.gz --alg ES256 > release.sig
  coffer key sign $ID hello --alg PS256`,
		Args: exactArgs(2, "KEY-ID and DATA"),
		RunE: func(cmd *cobra.Command, args []string) error {
			d, err := s.digestOf(&keyInput{stdin: x.e.stdin}, args[1])
			if err != nil {
				return err
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.SignResponse, error) {
				sig, err := c.Sign(ctx, args[0], s.alg, d, true)
				return &api.SignResponse{Signature: base64.StdEncoding.EncodeToString(sig)}, err
			}, printLine(func(r *api.SignResponse) string { return r.Signature }))
		},
	}
	s.add(cmd)
	return cmd
}

// errInvalidSignature is verify's failure when the server answers false.
var errInvalidSignature = errors.New("the signature is not valid")

func newKeyVerifyCmd(x *cli) *cobra.Command {
	var s signFlags
	cmd := &cobra.Command{
		Use:   "verify KEY-ID DATA SIGNATURE",
		Short: "Verify a signature of key sign",
		Long: `Verify that SIGNATURE (base64, as key sign prints it: literal, @FILE or -)
is a signature of DATA (literal, @FILE or -, hashed here as for sign) by the
key under --alg. Exit code 0 when it is valid, 1 when it is not.`,
		Example: `  coffer key verify $ID @release.tar.gz @release.sig --alg ES256
  coffer key verify $ID hello $SIG --alg PS256 --format json`,
		Args: exactArgs(3, "KEY-ID, DATA and SIGNATURE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := &keyInput{stdin: x.e.stdin}
			d, err := s.digestOf(in, args[1])
			if err != nil {
				return err
			}
			st, err := in.text("SIGNATURE", args[2])
			if err != nil {
				return err
			}
			sig, err := base64.StdEncoding.DecodeString(st)
			if err != nil {
				return usagef("SIGNATURE: expected base64, as key sign prints it")
			}
			asJSON, err := x.json()
			if err != nil {
				return err
			}
			ok, err := fetch(cmd, x, func(ctx context.Context, c *client.Client) (bool, error) {
				return c.Verify(ctx, args[0], s.alg, d, sig, true)
			})
			if err != nil {
				return err
			}
			if asJSON {
				if err := printJSON(x.e.stdout, api.VerifyResponse{Result: ok}); err != nil {
					return err
				}
			} else if ok {
				fmt.Fprintln(x.e.stdout, "The signature is valid.")
			}
			if !ok {
				return errInvalidSignature
			}
			return nil
		},
	}
	s.add(cmd)
	return cmd
}

func newDataKeyCmd(x *cli) *cobra.Command {
	var (
		size int
		name string
	)
	gen := &cobra.Command{
		Use:   "new KEY-ID",
		Short: "Make a data key wrapped under a service key",
		Long: `Make a fresh data key of --size bits for encrypting data locally: printed in
plaintext (base64; use it, then forget it) and wrapped under the service key
(a JWE to store beside the data; key datakey decrypt unwraps it).`,
		Example: `  coffer key datakey new $ID --size 256
  coffer key datakey new $ID --format json | jq -r .key > data.key.jwe`,
		Args: exactArgs(1, "KEY-ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.GenerateDataKeyResponse, error) {
				dk, err := c.GenerateDataKey(ctx, args[0], size, name)
				if err != nil {
					return nil, err
				}
				return &api.GenerateDataKeyResponse{Key: dk.Wrapped, Plaintext: base64.StdEncoding.EncodeToString(dk.Plaintext)}, nil
			}, func(w io.Writer, r *api.GenerateDataKeyResponse) error {
				return pairs(w, [2]string{"plaintext", r.Plaintext}, [2]string{"key", r.Key})
			})
		},
	}
	gen.Flags().IntVar(&size, "size", 256, "size of the data key in bits: 128, 192 or 256")
	gen.Flags().StringVar(&name, "name", "", "a label for the data key")
	dec := &cobra.Command{
		Use:   "decrypt KEY-ID KEY",
		Short: "Unwrap a data key of key datakey new",
		Long: `Unwrap KEY (the wrapped data key: literal, @FILE or - for standard input)
with the service key and print the data key in base64.`,
		Example: `  coffer key datakey decrypt $ID @data.key.jwe`,
		Args:    exactArgs(2, "KEY-ID and KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			in := &keyInput{stdin: x.e.stdin}
			wrapped, err := in.text("KEY", args[1])
			if err != nil {
				return err
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.DecryptDataKeyResponse, error) {
				p, err := c.DecryptDataKey(ctx, args[0], wrapped)
				return &api.DecryptDataKeyResponse{Plaintext: base64.StdEncoding.EncodeToString(p)}, err
			}, printLine(func(r *api.DecryptDataKeyResponse) string { return r.Plaintext }))
		},
	}
	return group("datakey", "Make and unwrap data keys",
		`Data keys are AES keys for encrypting large data locally (envelope
encryption): the service key only wraps and unwraps them.`,
		`  coffer key datakey new $ID
  coffer key datakey decrypt $ID @data.key.jwe`, gen, dec)
}
