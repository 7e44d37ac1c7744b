package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/client"
)

// coffer credential: access certificates of a domain (okms-rest.md 5.4,
// iam.md 7.3). Private keys go to files of mode 0600, never to stdout.

func newCredentialCmd(x *cli) *cobra.Command {
	cmd := group("credential", "Manage the access certificates (mTLS) of a domain",
		`Access certificates authenticate clients of one OKMS domain by mutual TLS
(--client-cert, --client-key), as the identities bound to them.`,
		`  coffer credential create --name ci --identity urn:v1:eu:identity:user:coffer/alice
  coffer secret list --client-cert ci.crt --client-key ci.key --ca ca.pem --addr https://coffer.example.com:8200
  coffer credential revoke 1a2b3c4d-...`,
		newCredentialCreateCmd(x), newCredentialGetCmd(x), newCredentialListCmd(x), newCredentialRevokeCmd(x))
	x.connFlags(cmd, true)
	return cmd
}

// safeFileName turns a credential name into a file name.
func safeFileName(name string) string {
	b := []byte(name)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	s := strings.Trim(string(b), ".")
	if s == "" {
		return "credential"
	}
	return s
}

// createFile creates path with mode 0600; it refuses to overwrite a file
// unless force.
func createFile(path string, force bool) (*os.File, error) {
	flags := os.O_WRONLY | os.O_CREATE | os.O_EXCL
	if force {
		flags = os.O_WRONLY | os.O_CREATE | os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil, usagef("%s exists; choose another file or pass --force", path)
	}
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func credentialPairs(cr *client.Credential) [][2]string {
	return [][2]string{
		{"id", cr.ID}, {"name", cr.Name}, {"description", dash(cr.Description)},
		{"status", cr.Status}, {"identities", strings.Join(cr.IdentityURNs, ",")},
		{"certificate_type", cr.CertificateType}, {"from_csr", fmt.Sprint(cr.FromCSR)},
		{"created", cr.CreatedAt}, {"expires", cr.ExpiredAt},
	}
}

func newCredentialCreateCmd(x *cli) *cobra.Command {
	var (
		req                        client.CredentialRequest
		csrFile, certFile, keyFile string
		force                      bool
	)
	cmd := &cobra.Command{
		Use:   "create --name NAME --identity URN...",
		Short: "Issue an access certificate and write it and its key to files (mode 0600)",
		Long: `Issue an access certificate of the domain for the identities given, and write
the certificate to --cert-file (default NAME.crt) and the private key the
server generated to --key-file (default NAME.key), both with mode 0600. The
key is never printed and the server does not keep it. With --csr the key
stays yours and only the certificate is written.

The files are created before the server is asked, so that an existing file
fails the command with nothing issued.`,
		Example: `  coffer credential create --name ci --identity urn:v1:eu:identity:user:coffer/alice
  coffer credential create --name ops --identity urn:v1:eu:identity:group:coffer/ops --validity 30 --type RSA
  coffer credential create --name edge --identity urn:v1:eu:identity:user:coffer/bob --csr edge.csr --cert-file edge.crt`,
		Args: exactArgs(0, "no argument (flags only)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if req.Name == "" {
				return usagef("--name is required")
			}
			if len(req.IdentityURNs) == 0 {
				return usagef("--identity is required (an identity URN, e.g. urn:v1:eu:identity:user:coffer/alice)")
			}
			if csrFile != "" {
				b, err := os.ReadFile(csrFile)
				if err != nil {
					return usagef("--csr: %v", err)
				}
				req.CSR = string(b)
			}
			if certFile == "" {
				certFile = safeFileName(req.Name) + ".crt"
			}
			if keyFile == "" && csrFile == "" {
				keyFile = safeFileName(req.Name) + ".key"
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*issuedCredential, error) {
				return issueCredential(ctx, c, req, certFile, keyFile, force)
			}, func(w io.Writer, ic *issuedCredential) error {
				kv := credentialPairs(ic.Credential)
				kv = append(kv, [2]string{"certificate_file", ic.CertificateFile}, [2]string{"key_file", dash(ic.KeyFile)})
				return pairs(w, kv...)
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Name, "name", "", "name of the credential (required)")
	f.StringArrayVar(&req.IdentityURNs, "identity", nil, "identity URN the certificate acts as (repeatable, required)")
	f.StringVar(&req.Description, "description", "", "description")
	f.IntVar(&req.Validity, "validity", 0, "validity in days, 1..365 (default 365)")
	f.StringVar(&req.CertificateType, "type", "", "key type the server generates: ECDSA (default) or RSA")
	f.StringVar(&csrFile, "csr", "", "certificate signing request (PEM) to sign instead of generating a key")
	f.StringVar(&certFile, "cert-file", "", "file to write the certificate to (default NAME.crt)")
	f.StringVar(&keyFile, "key-file", "", "file to write the private key to (default NAME.key)")
	f.BoolVar(&force, "force", false, "overwrite existing files")
	return cmd
}

// issuedCredential is a credential just issued, without its private key,
// and the files written.
type issuedCredential struct {
	*client.Credential
	CertificateFile string `json:"certificateFile"`
	KeyFile         string `json:"keyFile,omitempty"`
}

// issueCredential issues a credential and writes its certificate to
// certFile and the private key the server generated to keyFile (none if
// ""). The files are created before the server is asked, so that an
// existing file fails with nothing issued.
func issueCredential(ctx context.Context, c *client.Client, req client.CredentialRequest, certFile, keyFile string, force bool) (*issuedCredential, error) {
	cf, err := createFile(certFile, force)
	if err != nil {
		return nil, err
	}
	files := []string{certFile}
	var kf *os.File
	if keyFile != "" {
		if kf, err = createFile(keyFile, force); err != nil {
			cf.Close()
			os.Remove(certFile)
			return nil, err
		}
		files = append(files, keyFile)
	}
	cleanup := func() {
		cf.Close()
		if kf != nil {
			kf.Close()
		}
		for _, f := range files {
			os.Remove(f)
		}
	}
	cr, err := c.CreateCredential(ctx, req)
	if err != nil {
		cleanup()
		return nil, err
	}
	if _, err := cf.WriteString(cr.CertificatePEM); err != nil {
		cleanup()
		return nil, fmt.Errorf("write %s: %w (credential %s was issued; revoke it)", certFile, err, cr.ID)
	}
	if err := cf.Close(); err != nil {
		return nil, err
	}
	if kf != nil {
		if cr.PrivateKeyPEM == nil {
			kf.Close()
			os.Remove(keyFile)
			keyFile = ""
		} else {
			if _, err := kf.WriteString(*cr.PrivateKeyPEM); err != nil {
				return nil, fmt.Errorf("write %s: %w (credential %s was issued; revoke it)", keyFile, err, cr.ID)
			}
			if err := kf.Close(); err != nil {
				return nil, err
			}
		}
	}
	cr.PrivateKeyPEM = nil
	return &issuedCredential{cr, certFile, keyFile}, nil
}

func newCredentialGetCmd(x *cli) *cobra.Command {
	var (
		certFile string
		force    bool
	)
	cmd := &cobra.Command{
		Use:   "get ID",
		Short: "Show a credential, and optionally write its certificate to a file",
		Example: `  coffer credential get 1a2b3c4d-5e6f-4a5b-8c9d-0e1f2a3b4c5d
  coffer credential get 1a2b3c4d-5e6f-4a5b-8c9d-0e1f2a3b4c5d --cert-file ci.crt`,
		Args: exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.Credential, error) {
				cr, err := c.GetCredential(ctx, args[0])
				if err != nil || certFile == "" {
					return cr, err
				}
				return cr, writeCertificate(certFile, cr.CertificatePEM, force)
			}, func(w io.Writer, cr *client.Credential) error {
				kv := credentialPairs(cr)
				if certFile != "" {
					kv = append(kv, [2]string{"certificate_file", certFile})
				}
				return pairs(w, kv...)
			})
		},
	}
	cmd.Flags().StringVar(&certFile, "cert-file", "", "write the certificate (PEM) to this file, mode 0600")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}

// writeCertificate writes a PEM certificate to a new file of mode 0600,
// or over an existing one with force.
func writeCertificate(path, pem string, force bool) error {
	f, err := createFile(path, force)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(pem); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func newCredentialListCmd(x *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the domain's credentials",
		Example: "  coffer credential list",
		Args:    exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) ([]client.Credential, error) {
				return collect(c.Credentials(ctx, 100))
			}, func(w io.Writer, out []client.Credential) error {
				t := newTable(w, "ID", "NAME", "STATUS", "EXPIRES", "IDENTITIES", "ISSUER")
				for _, cr := range out {
					t.row(cr.ID, cr.Name, cr.Status, cr.ExpiredAt, strings.Join(cr.IdentityURNs, ","), cr.Issuer)
				}
				return t.flush()
			})
		},
	}
}

func newCredentialRevokeCmd(x *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "revoke ID",
		Short:   "Revoke a credential at once",
		Example: "  coffer credential revoke 1a2b3c4d-5e6f-4a5b-8c9d-0e1f2a3b4c5d",
		Args:    exactArgs(1, "ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.Credential, error) {
				return c.RevokeCredential(ctx, args[0])
			}, func(w io.Writer, cr *client.Credential) error { return pairs(w, credentialPairs(cr)...) })
		},
	}
}
