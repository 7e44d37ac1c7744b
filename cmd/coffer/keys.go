package main

import (
	"strconv"
	"strings"

	"github.com/spf13/cobra"
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
before they restart: copy it to them. Account root or ADMIN only.`,
		Example: `  coffer operator rotate-master-key --addr https://coffer.example.com:8200`,
		Args:    exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := x.json()
			if err != nil {
				return err
			}
			c, err := x.client()
			if err != nil {
				return err
			}
			res, err := c.RotateMasterKey(cmd.Context())
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(x.e.stdout, res)
			}
			file := res.KeyFile
			if file == "" {
				file = "(in memory: dev mode)"
			}
			return pairs(x.e.stdout, [2]string{"key_file", file}, [2]string{"regions", strings.Join(res.Regions, ", ")})
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
			asJSON, err := x.json()
			if err != nil {
				return err
			}
			c, err := x.client()
			if err != nil {
				return err
			}
			id := ""
			if len(args) == 1 {
				id = args[0]
			} else if id, err = c.Domain(cmd.Context()); err != nil {
				return err
			}
			res, err := c.RotateDomainKey(cmd.Context(), id)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(x.e.stdout, res)
			}
			return pairs(x.e.stdout, [2]string{"id", res.OkmsID}, [2]string{"key_term", strconv.FormatUint(uint64(res.KeyTerm), 10)})
		},
	}
}
