package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/client"
)

// Key management through the server (reliability-security.md 2): the
// root key, and the key of one OKMS domain.

func newRotateMasterKeyCmd(x *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rotate-master-key",
		Short: "Re-seal every domain key under a new root key, on a running server",
		Long: `Have the server generate a new root key, re-seal the keyring (every domain's
key terms) of each region under it, and save it in place of its root key file
(<data-dir>/root.key or --root-key-file), while it keeps serving. Secrets are
not re-encrypted: they are sealed under the domain keys, which do not change.

The old root key opens nothing afterwards. Servers sharing a PostgreSQL
store keep working with the keyring they hold, but need the new key file
before they restart: copy it to them. Under the shamir and passphrase
seals there is no key file: the seal wraps the new key in the store, and
the unseal keys stay the same. Account root or ADMIN only.`,
		Example: `  coffer operator rotate-master-key --addr https://coffer.example.com:8200`,
		Args:    exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			sealType := ""
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.MasterKeyRotation, error) {
				if st, err := c.SealStatus(ctx); err == nil {
					sealType = st.Type
				}
				return c.RotateMasterKey(ctx)
			}, func(w io.Writer, res *client.MasterKeyRotation) error {
				file := res.KeyFile
				switch {
				case file != "":
				case sealType != "" && sealType != "file":
					file = "(none: the " + sealType + " seal wraps the new key in the store)"
				default:
					file = "(in memory: dev mode)"
				}
				return pairs(w, [2]string{"key_file", file}, [2]string{"regions", strings.Join(res.Regions, ", ")})
			})
		},
	}
	x.connFlags(cmd, true)
	return cmd
}

func newDomainRotateKeyCmd(x *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-key [OKMS_ID]",
		Short: "Give a domain a new key term (default: the domain in use)",
		Long: `Add a new term to the domain's key: new versions are sealed under it at once,
and versions written before still open under the term they were sealed
with. Account root or ADMIN only.`,
		Example: `  coffer domain rotate-key
  coffer domain rotate-key 6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f`,
		Args: rangeArgs(0, 1, "an optional OKMS_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.DomainKeyRotation, error) {
				id, err := domainArg(ctx, c, args)
				if err != nil {
					return nil, err
				}
				return c.RotateDomainKey(ctx, id)
			}, func(w io.Writer, res *client.DomainKeyRotation) error {
				return pairs(w, [2]string{"id", res.OkmsID}, [2]string{"key_term", strconv.FormatUint(uint64(res.KeyTerm), 10)})
			})
		},
	}
}

// passphrase reads the backup passphrase: the first line of file, or
// COFFER_BACKUP_PASSPHRASE. Never a flag value: command lines are visible
// to other users of the machine.
func (x *cli) passphrase(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", usageError{fmt.Errorf("--passphrase-file: %w", err)}
		}
		line, _, _ := strings.Cut(string(b), "\n")
		return strings.TrimRight(line, "\r"), nil
	}
	if p := x.e.getenv("COFFER_BACKUP_PASSPHRASE"); p != "" {
		return p, nil
	}
	return "", usageError{errors.New("give the backup passphrase with --passphrase-file or COFFER_BACKUP_PASSPHRASE")}
}

func newBackupCmd(x *cli) *cobra.Command {
	var out, passFile string
	cmd := &cobra.Command{
		Use:   "backup --out FILE",
		Short: "Save a consistent snapshot of a running server, encrypted under a passphrase",
		Long: `Have the server take a consistent snapshot of its installation (each region
in one read-only transaction, while it keeps serving) and save it to FILE,
encrypted with AES-256-GCM under a key derived from the passphrase with
Argon2id. The snapshot holds every record in clear inside the encryption, so
that it restores into an installation with another root key: keep the
passphrase as safe as the root key. The passphrase comes from the first line
of --passphrase-file, or COFFER_BACKUP_PASSPHRASE; 12 characters at least.
FILE is written with mode 0600, and only once complete. Account root or
ADMIN only.`,
		Example: `  coffer operator backup --out coffer-2026-01-10.backup --passphrase-file ~/.coffer-backup-pass`,
		Args:    exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return usageError{errors.New("--out is required: the file to write")}
			}
			pass, err := x.passphrase(passFile)
			if err != nil {
				return err
			}
			c, err := x.client()
			if err != nil {
				return err
			}
			tmp, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".*")
			if err != nil {
				return err
			}
			defer os.Remove(tmp.Name())
			n, err := c.Backup(cmd.Context(), pass, tmp)
			if err == nil {
				err = tmp.Sync()
			}
			if cerr := tmp.Close(); err == nil {
				err = cerr
			}
			if err == nil {
				err = os.Rename(tmp.Name(), out)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(x.e.stderr, "backup of %d bytes written to %s\n", n, out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the backup to")
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "file whose first line is the passphrase (COFFER_BACKUP_PASSPHRASE)")
	x.connFlags(cmd, false)
	return cmd
}

func newRestoreCmd(x *cli) *cobra.Command {
	var in, passFile string
	cmd := &cobra.Command{
		Use:   "restore --in FILE",
		Short: "Restore a backup into a running, empty installation",
		Long: `Send a backup written by coffer operator backup to a running server whose
installation is empty (no secret, user, group or policy; a fresh one). The
server replaces its records with the backup's, re-encrypted under its own
root key, which may differ from the backup's: domain ids, paths, versions,
states, settings, identities, policies, tokens and credentials come back as
they were. The server's own root token is gone afterwards; the backup's
tokens are valid. Servers sharing its PostgreSQL store must restart.
Account root or ADMIN only.`,
		Example: `  coffer operator restore --in coffer-2026-01-10.backup --passphrase-file ~/.coffer-backup-pass \
    --addr https://new-coffer:8200 --token "$NEW_ROOT_TOKEN"`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if in == "" {
				return usageError{errors.New("--in is required: the backup file")}
			}
			pass, err := x.passphrase(passFile)
			if err != nil {
				return err
			}
			f, err := os.Open(in)
			if err != nil {
				return err
			}
			defer f.Close()
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.RestoreResult, error) {
				return c.Restore(ctx, pass, f)
			}, func(w io.Writer, res *client.RestoreResult) error {
				return pairs(w, [2]string{"records", strconv.Itoa(res.Records)},
					[2]string{"regions", strings.Join(res.Regions, ", ")}, [2]string{"taken", res.Created})
			})
		},
	}
	cmd.Flags().StringVar(&in, "in", "", "backup file to restore")
	cmd.Flags().StringVar(&passFile, "passphrase-file", "", "file whose first line is the passphrase (COFFER_BACKUP_PASSPHRASE)")
	x.connFlags(cmd, true)
	return cmd
}
