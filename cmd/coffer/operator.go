package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/internal/server"
)

// newOperatorCmd groups the commands that operate an installation: its
// storage directly, with no server running on it (migrate), and its keys
// and backups through the running server (rotate-master-key, backup,
// restore).
func newOperatorCmd(x *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "operator",
		Short: "Operate an installation: sealing, storage migration, root key rotation, backup and restore",
		Example: `  coffer operator seal-status
  coffer operator unseal
  coffer operator backup --out coffer.backup --passphrase-file pass`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newMigrateCmd(x.e), newRotateMasterKeyCmd(x), newBackupCmd(x), newRestoreCmd(x))
	cmd.AddCommand(newSealCmds(x)...)
	return cmd
}

func newMigrateCmd(e *env) *cobra.Command {
	opts := server.MigrateOptions{}
	cmd := &cobra.Command{
		Use:   "migrate --from <data-dir> --to <postgres-url>",
		Short: "Copy an embedded installation into PostgreSQL",
		Long: `Copy an embedded installation (the bbolt store in --from) into a
PostgreSQL database, so that several coffer servers can share it.

Records are copied as they are stored: encrypted, keyring included. Nothing
is decrypted and the root key is not needed, nor copied: start the
PostgreSQL servers with the installation's root key (the same
<data-dir>/root.key on every node, or --root-key-file).

Stop the server of the embedded installation first; the store is opened
read-only. The target's tables are created if needed. A target that
already holds records is refused, unless --force, which deletes them first
(no server may be using the target). Records are written in transactions
of --batch-size, then verified: the target must hold as many records as
the source, each read back equal byte for byte. Progress goes to stderr,
the summary to stdout. An interrupted migration can be run again with
--force.`,
		Example: `  coffer operator migrate --from ./coffer-data \
    --to 'postgres://coffer@db.example.com/coffer?sslmode=verify-full'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch {
			case opts.From == "":
				return usageError{errors.New("--from is required: the data directory of the embedded installation")}
			case opts.To == "":
				return usageError{errors.New("--to is required: the PostgreSQL URL (or COFFER_PG_URL)")}
			}
			opts.Progress = e.stderr
			res, err := server.Migrate(cmd.Context(), opts)
			if err != nil {
				return err
			}
			if res.Deleted > 0 {
				fmt.Fprintf(e.stdout, "deleted %d records the target held (--force)\n", res.Deleted)
			}
			fmt.Fprintf(e.stdout, "migrated %d records (%s) from %s to PostgreSQL %s\n", res.Records, bytesString(res.Bytes), res.Source, res.Target)
			fmt.Fprintf(e.stdout, "verified: the target holds %d records, each read back equal to the source\n", res.Records)
			fmt.Fprintf(e.stdout, "next: start every server with --storage postgres and this installation's root key (%s, or --root-key-file)\n", filepath.Join(filepath.Dir(res.Source), "root.key"))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.From, "from", "", "data directory of the embedded installation (or its coffer.db)")
	opts.To = e.getenv("COFFER_PG_URL")
	f.StringVar(&opts.To, "to", opts.To, "PostgreSQL URL of the target (COFFER_PG_URL)")
	f.BoolVar(&opts.Force, "force", false, "delete the records the target holds instead of refusing")
	f.IntVar(&opts.BatchSize, "batch-size", server.DefaultMigrateBatch, "records per transaction")
	return cmd
}

// bytesString formats n bytes for people.
func bytesString(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}
