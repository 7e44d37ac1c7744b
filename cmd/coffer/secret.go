package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/client"
)

// coffer secret: surface B (okms-rest.md section 4), the same operations
// as OVHcloud's `okms secret`.

// settingsFlags are the secret-level settings of create and update, and
// the domain-level ones of config update.
type settingsFlags struct {
	casRequired bool
	maxVersions int64
	after       string
	custom      []string
}

func (s *settingsFlags) add(c *cobra.Command, custom bool) {
	f := c.Flags()
	f.BoolVar(&s.casRequired, "cas-required", false, "require check-and-set (--cas) on every new version; --cas-required=false turns it off")
	f.Int64Var(&s.maxVersions, "max-versions", 0, "versions kept before the oldest are pruned, 0..24000 (0: the domain's setting)")
	f.StringVar(&s.after, "deactivate-version-after", "", `deactivate each version this long after its creation, e.g. 30d, 12h, 1d12h ("0s": the domain's setting)`)
	if custom {
		f.StringArrayVar(&s.custom, "custom-metadata", nil, "custom metadata k=v (repeatable); replaces the whole map")
	}
}

// metadata returns the settings given on the command line, nil if none.
func (s *settingsFlags) metadata(c *cobra.Command) (*api.MetadataInput, error) {
	var m api.MetadataInput
	set := false
	if c.Flags().Changed("cas-required") {
		m.CasRequired, set = &s.casRequired, true
	}
	if c.Flags().Changed("max-versions") {
		m.MaxVersions, set = &s.maxVersions, true
	}
	if c.Flags().Changed("deactivate-version-after") {
		m.DeactivateVersionAfter, set = &s.after, true
	}
	cm, err := keyValues("custom-metadata", s.custom)
	if err != nil {
		return nil, err
	}
	if cm != nil {
		m.CustomMetadata, set = cm, true
	}
	if !set {
		return nil, nil
	}
	return &m, nil
}

func newSecretCmd(x *cli) *cobra.Command {
	cmd := group("secret", "Manage secrets through the OKMS REST API",
		`Manage the secrets of an OKMS domain through its regional REST API
(/api/{okmsId}/v2/secret), the API of OVHcloud's okms CLI. A secret is a JSON
object of key-value pairs at a path such as prod/database/MySQL; every write
of its data creates a version.

The domain is --okms-id (COFFER_OKMS_ID), else the server's default domain.`,
		`  coffer secret create prod/db login=admin password=s3cr3t --custom-metadata team=dba
  coffer secret get prod/db --include-data
  coffer secret update prod/db password=n3w --cas 1
  coffer secret version list prod/db
  coffer secret list --format json`,
		newSecretListCmd(x), newSecretCreateCmd(x), newSecretGetCmd(x), newSecretUpdateCmd(x),
		newSecretDeleteCmd(x), newVersionCmd(x), newSecretConfigCmd(x))
	x.connFlags(cmd, true)
	return cmd
}

func newSecretListCmd(x *cli) *cobra.Command {
	var (
		prefix   string
		pageSize int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the secrets you may see",
		Long: `List the secrets of the domain that you may see (okms:apikms:secret/get),
sorted by path, following the pagination to the end.`,
		Example: `  coffer secret list
  coffer secret list --prefix prod/ --format json`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) ([]api.GetSecretResponse, error) {
				all, err := collect(c.Secrets(ctx, pageSize))
				return slices.DeleteFunc(all, func(s api.GetSecretResponse) bool { return !strings.HasPrefix(s.Path, prefix) }), err
			}, func(w io.Writer, out []api.GetSecretResponse) error {
				t := newTable(w, "PATH", "VERSION", "STATE", "UPDATED")
				for _, s := range out {
					state := "-"
					if s.Version != nil {
						state = s.Version.State
					}
					t.row(s.Path, strconv.FormatUint(uint64(s.Metadata.CurrentVersion), 10), state, s.Metadata.UpdatedAt)
				}
				return t.flush()
			})
		},
	}
	cmd.Flags().StringVar(&prefix, "prefix", "", "only the secrets whose path starts with this")
	cmd.Flags().IntVar(&pageSize, "page-size", 100, "secrets asked per request, 10..100")
	return cmd
}

func newSecretCreateCmd(x *cli) *cobra.Command {
	var s settingsFlags
	cmd := &cobra.Command{
		Use:   "create PATH DATA...",
		Short: "Create a secret and its version 1",
		Long:  "Create a secret at PATH with its version 1, and optional settings.\n\n" + dataHelp,
		Example: `  coffer secret create prod/db login=admin password=s3cr3t
  coffer secret create prod/tls cert=@tls.crt key=@tls.key --max-versions 5 --deactivate-version-after 90d
  coffer secret create prod/app @app.json --custom-metadata team=web --cas-required
  echo '{"token":"abc"}' | coffer secret create ci/token -`,
		Args: minArgs(1, "PATH and DATA"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := dataArgs(args[1:], x.e.stdin)
			if err != nil {
				return err
			}
			meta, err := s.metadata(cmd)
			if err != nil {
				return err
			}
			req := api.CreateSecretRequest{Path: args[0], Metadata: meta, Version: &api.VersionInput{Data: data}}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.SecretResponse, error) {
				return c.CreateSecret(ctx, req)
			}, x.printSecretResponse)
		},
	}
	s.add(cmd, true)
	return cmd
}

// printSecretResponse prints the answer to a create or an update, its
// warnings on stderr.
func (x *cli) printSecretResponse(w io.Writer, res *api.SecretResponse) error {
	if err := pairs(w, metadataPairs(res.Path, res.Metadata)...); err != nil {
		return err
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(x.e.stderr, "coffer: warning:", w)
	}
	return nil
}

func metadataPairs(path string, m api.SecretMetadata) [][2]string {
	return [][2]string{
		{"path", path},
		{"current_version", strconv.FormatUint(uint64(m.CurrentVersion), 10)},
		{"oldest_version", strconv.FormatUint(uint64(m.OldestVersion), 10)},
		{"created_at", m.CreatedAt},
		{"updated_at", m.UpdatedAt},
		{"cas_required", strconv.FormatBool(m.CasRequired)},
		{"max_versions", strconv.FormatUint(uint64(m.MaxVersions), 10)},
		{"deactivate_version_after", m.DeactivateVersionAfter},
		{"custom_metadata", mapText(m.CustomMetadata)},
		{"urn", m.URN},
	}
}

func versionPairs(v api.SecretVersion) [][2]string {
	return [][2]string{
		{"version", strconv.FormatUint(uint64(v.ID), 10)},
		{"state", v.State},
		{"created_at", v.CreatedAt},
		{"deactivated_at", optText(v.DeactivatedAt)},
	}
}

// printVersion prints a version and, with data, its value.
func printVersion(w io.Writer, v *api.SecretVersion, data bool) error {
	if err := pairs(w, versionPairs(*v)...); err != nil {
		return err
	}
	if !data {
		return nil
	}
	fmt.Fprintln(w)
	heading(w, "Data")
	if len(v.Data) == 0 {
		fmt.Fprintf(w, "(none: the version is %s)\n", v.State)
		return nil
	}
	return printData(w, v.Data)
}

// printData prints a version's value as a key/value table, in its order.
func printData(w io.Writer, raw json.RawMessage) error {
	o, err := parseObject(raw)
	if err != nil {
		return fmt.Errorf("the server returned data that is not a JSON object: %w", err)
	}
	var kv [][2]string
	for _, k := range o.keys {
		kv = append(kv, [2]string{k, valueText(o.vals[k])})
	}
	return pairs(w, kv...)
}

func newSecretGetCmd(x *cli) *cobra.Command {
	var (
		version     uint32
		includeData bool
		field       string
	)
	cmd := &cobra.Command{
		Use:   "get PATH",
		Short: "Show a secret, one of its versions and optionally its value",
		Long: `Show a secret's metadata and one version: the current one, or --version N.
--include-data adds the value (okms:apikms:secret/version/getData); a
deactivated or deleted version has none. --field K prints only the value of
key K, raw, for scripts.`,
		Example: `  coffer secret get prod/db
  coffer secret get prod/db --include-data --version 2
  PASSWORD=$(coffer secret get prod/db --field password)`,
		Args: exactArgs(1, "PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			get := func(ctx context.Context, c *client.Client) (*api.GetSecretResponse, error) {
				return c.GetSecret(ctx, args[0], client.GetSecretOptions{Version: version, IncludeData: includeData || field != ""})
			}
			if field != "" {
				s, err := fetch(cmd, x, get)
				if err != nil {
					return err
				}
				return x.printField(s, field)
			}
			return show(cmd, x, get, func(w io.Writer, s *api.GetSecretResponse) error {
				heading(w, "Secret")
				if err := pairs(w, metadataPairs(s.Path, s.Metadata)...); err != nil {
					return err
				}
				if s.Version == nil {
					return nil
				}
				fmt.Fprintln(w)
				heading(w, "Version")
				return printVersion(w, s.Version, includeData)
			})
		},
	}
	f := cmd.Flags()
	f.Uint32Var(&version, "version", 0, "version to show (default: the current one)")
	f.BoolVar(&includeData, "include-data", false, "show the value")
	f.StringVar(&field, "field", "", "print only the value of this key, raw")
	return cmd
}

// printField prints the raw value of one key of a secret's version.
func (x *cli) printField(s *api.GetSecretResponse, field string) error {
	if s.Version == nil || len(s.Version.Data) == 0 {
		state := "missing"
		if s.Version != nil {
			state = s.Version.State
		}
		return fmt.Errorf("%s has no readable value (version %s)", s.Path, state)
	}
	o, err := parseObject(s.Version.Data)
	if err != nil {
		return err
	}
	v, ok := o.vals[field]
	if !ok {
		return fmt.Errorf("%s has no key %q", s.Path, field)
	}
	fmt.Fprint(x.e.stdout, valueText(v))
	if isTerminal(x.e.stdout) {
		fmt.Fprintln(x.e.stdout)
	}
	return nil
}

func newSecretUpdateCmd(x *cli) *cobra.Command {
	var (
		s   settingsFlags
		cas uint32
	)
	cmd := &cobra.Command{
		Use:   "update PATH [DATA...]",
		Short: "Change a secret's settings and/or add a version",
		Long: `Change a secret's settings (the flags given) and, with DATA, add a version
holding exactly DATA (not merged with the previous version). With --cas N the
version is added only if the current version is N. Settings and data change
together or not at all.

` + dataHelp,
		Example: `  coffer secret update prod/db login=admin password=n3w --cas 1
  coffer secret update prod/db --max-versions 20 --custom-metadata team=dba --custom-metadata tier=1
  coffer secret update prod/db --cas-required=false`,
		Args: minArgs(1, "PATH and optional DATA"),
		RunE: func(cmd *cobra.Command, args []string) error {
			var (
				req api.UpdateSecretRequest
				err error
			)
			if len(args) > 1 {
				data, err := dataArgs(args[1:], x.e.stdin)
				if err != nil {
					return err
				}
				req.Version = &api.VersionInput{Data: data}
			}
			if req.Metadata, err = s.metadata(cmd); err != nil {
				return err
			}
			if req.Version == nil && req.Metadata == nil {
				return usagef("nothing to update: give DATA or a setting flag (see --help)")
			}
			var casp *uint32
			if cmd.Flags().Changed("cas") {
				casp = &cas
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.SecretResponse, error) {
				return c.UpdateSecret(ctx, args[0], req, casp)
			}, x.printSecretResponse)
		},
	}
	s.add(cmd, true)
	cmd.Flags().Uint32Var(&cas, "cas", 0, "add the version only if the current version is this one (0: only if there is none)")
	return cmd
}

func newSecretDeleteCmd(x *cli) *cobra.Command {
	return &cobra.Command{
		Use:   "delete PATH",
		Short: "Delete a secret and all its versions",
		Long: `Delete a secret and all its versions, for good: their values are destroyed.
The path can then be used for a new secret.`,
		Example: "  coffer secret delete prod/db",
		Args:    exactArgs(1, "PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return act(cmd, x, func(ctx context.Context, c *client.Client) error { return c.DeleteSecret(ctx, args[0]) },
				map[string]any{"path": args[0], "deleted": true}, fmt.Sprintf("Deleted secret %s.", args[0]))
		},
	}
}

// versionArg parses a version id argument, 1..24000.
func versionArg(s string) (uint32, error) {
	n, err := strconv.ParseUint(s, 10, 32)
	if err != nil || n < 1 || n > 24000 {
		return 0, usagef("version %q: expected a number between 1 and 24000", s)
	}
	return uint32(n), nil
}

func newVersionCmd(x *cli) *cobra.Command {
	list := &cobra.Command{
		Use:     "list PATH",
		Short:   "List a secret's versions",
		Example: "  coffer secret version list prod/db",
		Args:    exactArgs(1, "PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) ([]api.SecretVersion, error) {
				return collect(c.Versions(ctx, args[0], 100))
			}, func(w io.Writer, out []api.SecretVersion) error {
				t := newTable(w, "VERSION", "STATE", "CREATED", "DEACTIVATED")
				for _, v := range out {
					t.row(strconv.FormatUint(uint64(v.ID), 10), v.State, v.CreatedAt, optText(v.DeactivatedAt))
				}
				return t.flush()
			})
		},
	}
	var includeData bool
	get := &cobra.Command{
		Use:   "get PATH VERSION",
		Short: "Show one version, optionally with its value",
		Example: `  coffer secret version get prod/db 2
  coffer secret version get prod/db 2 --include-data --format json`,
		Args: exactArgs(2, "PATH and VERSION"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := versionArg(args[1])
			if err != nil {
				return err
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.SecretVersion, error) {
				return c.GetVersion(ctx, args[0], id, includeData)
			}, func(w io.Writer, v *api.SecretVersion) error { return printVersion(w, v, includeData) })
		},
	}
	get.Flags().BoolVar(&includeData, "include-data", false, "show the value")
	var cas uint32
	create := &cobra.Command{
		Use:   "create PATH DATA...",
		Short: "Add a version to a secret",
		Long:  "Add a version holding exactly DATA to an existing secret.\n\n" + dataHelp,
		Example: `  coffer secret version create prod/db login=admin password=n3w
  coffer secret version create prod/db @db.json --cas 3`,
		Args: minArgs(1, "PATH and DATA"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := dataArgs(args[1:], x.e.stdin)
			if err != nil {
				return err
			}
			var casp *uint32
			if cmd.Flags().Changed("cas") {
				casp = &cas
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.SecretVersion, error) {
				return c.AddVersion(ctx, args[0], data, casp)
			}, func(w io.Writer, v *api.SecretVersion) error { return printVersion(w, v, false) })
		},
	}
	create.Flags().Uint32Var(&cas, "cas", 0, "add the version only if the current version is this one")
	state := func(use, short, long, state string) *cobra.Command {
		return &cobra.Command{
			Use:     use + " PATH VERSION",
			Short:   short,
			Long:    long,
			Example: fmt.Sprintf("  coffer secret version %s prod/db 2", use),
			Args:    exactArgs(2, "PATH and VERSION"),
			RunE: func(cmd *cobra.Command, args []string) error {
				id, err := versionArg(args[1])
				if err != nil {
					return err
				}
				return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.SecretVersion, error) {
					return c.SetVersionState(ctx, args[0], id, state)
				}, func(w io.Writer, v *api.SecretVersion) error { return printVersion(w, v, false) })
			},
		}
	}
	cmd := group("version", "Manage the versions of a secret", "", `  coffer secret version list prod/db
  coffer secret version deactivate prod/db 1
  coffer secret version activate prod/db 1`,
		list, get, create,
		state("activate", "Reactivate a deactivated version",
			"Reactivate a deactivated version: its value can be read again.", api.StateActive),
		state("deactivate", "Deactivate a version (its value is kept but cannot be read)",
			"Deactivate a version: its value is kept but cannot be read until it is reactivated.", api.StateDeactivated),
		state("delete", "Delete a version for good (its value is destroyed)",
			"Delete a version for good: its value is destroyed and cannot be restored.", api.StateDeleted))
	return cmd
}

func newSecretConfigCmd(x *cli) *cobra.Command {
	get := &cobra.Command{
		Use:     "get",
		Short:   "Show the domain's secret configuration",
		Example: "  coffer secret config get",
		Args:    exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.SecretConfig, error) {
				return c.SecretConfig(ctx)
			}, func(w io.Writer, cfg *api.SecretConfig) error {
				return pairs(w, configPairs(cfg.CasRequired, cfg.MaxVersions, cfg.DeactivateVersionAfter)...)
			})
		},
	}
	var s settingsFlags
	update := &cobra.Command{
		Use:   "update",
		Short: "Change the domain's secret configuration",
		Long: `Change the domain-wide defaults of secrets (okms:apikms:secretConfig/update):
the flags given change, the others stay. They apply to versions created
afterwards; a secret's own settings win over them.`,
		Example: `  coffer secret config update --max-versions 20
  coffer secret config update --cas-required --deactivate-version-after 90d`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := s.metadata(cmd)
			if err != nil {
				return err
			}
			if m == nil {
				return usagef("nothing to update: give --cas-required, --max-versions or --deactivate-version-after")
			}
			req := api.UpdateSecretConfigRequest{CasRequired: m.CasRequired, MaxVersions: m.MaxVersions, DeactivateVersionAfter: m.DeactivateVersionAfter}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*api.SecretConfigResponse, error) {
				return c.UpdateSecretConfig(ctx, req)
			}, func(w io.Writer, cfg *api.SecretConfigResponse) error {
				return pairs(w, configPairs(cfg.CasRequired, cfg.MaxVersions, cfg.DeactivateVersionAfter)...)
			})
		},
	}
	s.add(update, false)
	return group("config", "Show or change the domain's secret configuration",
		`The domain's secretConfig: the defaults that apply to every secret of the
domain whose own settings do not say otherwise.`,
		`  coffer secret config get
  coffer secret config update --max-versions 20`, get, update)
}

func configPairs(cas bool, maxVersions uint32, after string) [][2]string {
	return [][2]string{
		{"cas_required", strconv.FormatBool(cas)},
		{"max_versions", strconv.FormatUint(uint64(maxVersions), 10)},
		{"deactivate_version_after", after},
	}
}
