package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/internal/buildinfo"
)

// newBuildVersionCmd is `coffer version`: what `coffer --version` prints too,
// read from the build information of the binary.
func newBuildVersionCmd(x *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, revision and Go version of this binary",
		Long: `Print what this binary is: the module version (a release tag, a
pseudo-version naming the commit, or "devel"), the VCS revision and its
time, whether the work tree had uncommitted changes, and the Go version
that built it. coffer --version prints the same.`,
		Example: `  coffer version
  coffer version --format json`,
		Args: exactArgs(0, "no argument"),
		RunE: func(*cobra.Command, []string) error {
			info := buildinfo.Read()
			if asJSON, _ := x.json(); asJSON {
				return printJSON(x.e.stdout, info)
			}
			_, err := fmt.Fprint(x.e.stdout, info.Text())
			return err
		},
	}
	cmd.Flags().StringVar(&x.format, "format", "table", "output format: table or json")
	return cmd
}
