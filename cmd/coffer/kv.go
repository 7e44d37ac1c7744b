package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/client"
)

// coffer kv: surface C, the Vault KV v2 API (vault-kv2.md), with the
// commands, flags and output of `vault kv`. Flags are also accepted with
// one dash, as vault spells them (-field=password, -format=json).

// kvOpts are the flags every kv command shares.
type kvOpts struct {
	mount string
}

// key returns the key inside the mount: KEY as given, without a leading
// "<mount>/" when --mount was not given, since `vault kv get secret/app`
// names the key app of the mount secret.
func (o *kvOpts) key(cmd *cobra.Command, arg string) string {
	if !cmd.Flags().Changed("mount") {
		if k, ok := strings.CutPrefix(arg, o.mount+"/"); ok {
			return k
		}
		if arg == o.mount {
			return ""
		}
	}
	return arg
}

func newKVCmd(x *cli) *cobra.Command {
	o := &kvOpts{}
	cmd := group("kv", "Use secrets through the Vault KV v2 API, as vault kv does",
		`Read and write secrets through coffer's Vault KV version 2 API (/v1/secret/...),
with the subcommands and flags of vault kv. KEY is a path inside the mount
"secret", written with or without the mount: secret/app/db and app/db are the
same key (with --mount given, KEY is taken as it is).

Without --okms-id the requests go to /v1/, the server's default domain; with
it, to /api/{okmsId}/v1/. Flags take one dash or two: -field=password and
--field=password are the same.`,
		`  coffer kv put secret/app/db login=admin password=s3cr3t
  coffer kv get -field=password secret/app/db
  coffer kv patch secret/app/db password=n3w
  coffer kv list secret/app
  coffer kv get -format=json secret/app/db`,
		newKVGetCmd(x, o), newKVPutCmd(x, o, false), newKVPutCmd(x, o, true), newKVListCmd(x, o),
		newKVDeleteCmd(x, o), newKVVersionsCmd(x, o, "undelete"), newKVVersionsCmd(x, o, "destroy"),
		newKVRollbackCmd(x, o), newKVMetadataCmd(x, o))
	x.connFlags(cmd, true)
	cmd.PersistentFlags().StringVar(&o.mount, "mount", "secret", "the KV mount (coffer has one: secret)")
	return cmd
}

// versionMetadataPairs renders a data read's or write's metadata as vault
// kv does.
func versionMetadataPairs(m client.KVVersionMetadata) [][2]string {
	cm := "<nil>"
	if len(m.CustomMetadata) > 0 {
		cm = "map[" + strings.ReplaceAll(mapText(m.CustomMetadata), ",", " ") + "]"
		cm = strings.ReplaceAll(cm, "=", ":")
	}
	return [][2]string{
		{"created_time", m.CreatedTime},
		{"custom_metadata", cm},
		{"deletion_time", dash(m.DeletionTime)},
		{"destroyed", strconv.FormatBool(m.Destroyed)},
		{"version", strconv.Itoa(m.Version)},
	}
}

func newKVGetCmd(x *cli, o *kvOpts) *cobra.Command {
	var (
		version int
		field   string
	)
	cmd := &cobra.Command{
		Use:   "get [flags] KEY",
		Short: "Read a secret's data (vault kv get)",
		Long: `Read the data of the current version of KEY, or of -version N, with its
metadata. -field K prints only the value of key K, raw. A deactivated or
destroyed version shows its metadata and no data, and the command exits
with 1.`,
		Example: `  coffer kv get secret/app/db
  coffer kv get -version=1 secret/app/db
  coffer kv get -field=password secret/app/db
  coffer kv get -format=json secret/app/db`,
		Args: exactArgs(1, "KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := x.json()
			if err != nil {
				return err
			}
			key := o.key(cmd, args[0])
			// Not show: a deactivated version comes with an error and is
			// printed all the same, as vault kv get does.
			s, err := fetch(cmd, x, func(ctx context.Context, c *client.Client) (*client.KVSecret, error) {
				return c.KV(o.mount).Get(ctx, key, version)
			})
			if s == nil || field != "" && err != nil {
				return err
			}
			if field != "" {
				return x.printKVField(key, s.Data, field)
			}
			if asJSON {
				if perr := printJSON(x.e.stdout, vaultSecret[*client.KVSecret]{Data: s}); perr != nil {
					return perr
				}
				return err
			}
			heading(x.e.stdout, "Secret Path")
			fmt.Fprintln(x.e.stdout, o.mount+"/data/"+key)
			fmt.Fprintln(x.e.stdout)
			heading(x.e.stdout, "Metadata")
			if perr := pairs(x.e.stdout, versionMetadataPairs(s.Metadata)...); perr != nil {
				return perr
			}
			if err != nil {
				// vault kv get: a deactivated version shows its metadata.
				return err
			}
			fmt.Fprintln(x.e.stdout)
			heading(x.e.stdout, "Data")
			return printData(x.e.stdout, s.Data)
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "version to read (default: the current one)")
	cmd.Flags().StringVar(&field, "field", "", "print only the value of this key, raw")
	return cmd
}

// printKVField prints the raw value of one key of a data read.
func (x *cli) printKVField(key string, data json.RawMessage, field string) error {
	o, err := parseObject(data)
	if err != nil {
		return err
	}
	v, ok := o.vals[field]
	if !ok {
		return fmt.Errorf("field %q not present in secret %s", field, key)
	}
	fmt.Fprint(x.e.stdout, valueText(v))
	if isTerminal(x.e.stdout) {
		fmt.Fprintln(x.e.stdout)
	}
	return nil
}

func newKVPutCmd(x *cli, o *kvOpts, patch bool) *cobra.Command {
	cas := -1
	use, short, long, example := "put", "Write a new version of a secret (vault kv put)",
		"Write DATA as a new version of KEY, creating the secret if needed. The\nversion holds exactly DATA. -cas N writes only if the current version is N\n(0: only if the secret has no version).\n\n"+dataHelp,
		`  coffer kv put secret/app/db login=admin password=s3cr3t
  coffer kv put -cas=1 secret/app/db @db.json`
	if patch {
		use, short, long, example = "patch", "Change some keys of a secret (vault kv patch)",
			"Merge DATA into the current version of KEY and store the result as a new\nversion (a JSON merge patch: a key set to null in a JSON DATA is removed).\n\n"+dataHelp,
			`  coffer kv patch secret/app/db password=n3w
  echo '{"obsolete":null}' | coffer kv patch secret/app/db -`
	}
	cmd := &cobra.Command{
		Use:     use + " [flags] KEY DATA...",
		Short:   short,
		Long:    long,
		Example: example,
		Args:    minArgs(1, "KEY and DATA"),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := dataArgs(args[1:], x.e.stdin)
			if err != nil {
				return err
			}
			var casp *int
			if cas >= 0 {
				casp = &cas
			} else if cmd.Flags().Changed("cas") {
				return usagef("-cas must be 0 or more")
			}
			key := o.key(cmd, args[0])
			return showVault(cmd, x, func(ctx context.Context, c *client.Client) (*client.KVVersionMetadata, error) {
				if patch {
					return c.KV(o.mount).Patch(ctx, key, data, casp)
				}
				return c.KV(o.mount).Put(ctx, key, data, casp)
			}, func(w io.Writer, m *client.KVVersionMetadata) error {
				heading(w, "Secret Path")
				fmt.Fprintln(w, o.mount+"/data/"+key)
				fmt.Fprintln(w)
				heading(w, "Metadata")
				return pairs(w, versionMetadataPairs(*m)...)
			})
		},
	}
	cmd.Flags().IntVar(&cas, "cas", -1, "write only if the current version is this one (0: only if there is none)")
	return cmd
}

func newKVListCmd(x *cli, o *kvOpts) *cobra.Command {
	return &cobra.Command{
		Use:   "list [flags] [PATH]",
		Short: "List the keys under a path (vault kv list)",
		Long: `List the keys directly under PATH (default: the mount's root): secrets as
"name", folders as "name/". An empty folder is an error, as in vault.`,
		Example: `  coffer kv list secret/
  coffer kv list secret/app`,
		Args: rangeArgs(0, 1, "an optional PATH"),
		RunE: func(cmd *cobra.Command, args []string) error {
			prefix := ""
			if len(args) == 1 {
				prefix = strings.TrimSuffix(o.key(cmd, args[0]), "/")
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) ([]string, error) {
				return c.KV(o.mount).List(ctx, prefix)
			}, func(w io.Writer, keys []string) error {
				t := newTable(w, "Keys")
				t.row("----")
				for _, k := range keys {
					t.row(k)
				}
				return t.flush()
			})
		},
	}
}

// versionsFlag parses -versions=1,2,3.
func versionsFlag(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return nil, usagef("-versions %q: expected version numbers separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

func newKVDeleteCmd(x *cli, o *kvOpts) *cobra.Command {
	var versions string
	cmd := &cobra.Command{
		Use:   "delete [flags] KEY",
		Short: "Deactivate versions of a secret (vault kv delete)",
		Long: `Deactivate the current version of KEY, or the versions of -versions: their
data is kept, unreadable, until kv undelete. To delete for good use kv
destroy, or kv metadata delete for the whole secret.`,
		Example: `  coffer kv delete secret/app/db
  coffer kv delete -versions=1,2 secret/app/db`,
		Args: exactArgs(1, "KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			vs, err := versionsFlag(versions)
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("versions") && len(vs) == 0 {
				return usagef("-versions is empty")
			}
			key := o.key(cmd, args[0])
			return kvAct(cmd, x, func(ctx context.Context, c *client.Client) error {
				return c.KV(o.mount).Delete(ctx, key, vs)
			}, fmt.Sprintf("Success! Data deleted (if it existed) at: %s/data/%s", o.mount, key))
		},
	}
	cmd.Flags().StringVar(&versions, "versions", "", "versions to deactivate, e.g. 1,2 (default: the current one)")
	return cmd
}

// kvAct is act for the kv commands that return nothing: they confirm
// with vault's message, as {"result": msg} in JSON.
func kvAct(cmd *cobra.Command, x *cli, call func(context.Context, *client.Client) error, msg string) error {
	return act(cmd, x, call, map[string]string{"result": msg}, msg)
}

func newKVVersionsCmd(x *cli, o *kvOpts, op string) *cobra.Command {
	var versions string
	short, long := "Reactivate deactivated versions (vault kv undelete)",
		"Reactivate the deactivated versions listed: their data can be read again."
	if op == "destroy" {
		short, long = "Delete versions for good (vault kv destroy)",
			"Delete the versions listed for good: their data is destroyed and cannot be restored."
	}
	cmd := &cobra.Command{
		Use:     op + " -versions=N[,N...] KEY",
		Short:   short,
		Long:    long,
		Example: fmt.Sprintf("  coffer kv %s -versions=1,2 secret/app/db", op),
		Args:    exactArgs(1, "KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			vs, err := versionsFlag(versions)
			if err != nil {
				return err
			}
			if len(vs) == 0 {
				return usagef("-versions is required (e.g. -versions=1,2)")
			}
			key := o.key(cmd, args[0])
			what := "undeleted"
			if op == "destroy" {
				what = "destroyed"
			}
			return kvAct(cmd, x, func(ctx context.Context, c *client.Client) error {
				if op == "destroy" {
					return c.KV(o.mount).Destroy(ctx, key, vs)
				}
				return c.KV(o.mount).Undelete(ctx, key, vs)
			}, fmt.Sprintf("Success! Data written to: %s/%s/%s (versions %s %s)", o.mount, op, key, versions, what))
		},
	}
	cmd.Flags().StringVar(&versions, "versions", "", "versions, e.g. 1,2")
	return cmd
}

func newKVRollbackCmd(x *cli, o *kvOpts) *cobra.Command {
	var version int
	cmd := &cobra.Command{
		Use:   "rollback -version=N KEY",
		Short: "Write an older version's data as a new version (vault kv rollback)",
		Long: `Write the data of version N as a new version of KEY, with check-and-set on
the current version. A deactivated, scheduled or destroyed version cannot be
rolled back to.`,
		Example: "  coffer kv rollback -version=1 secret/app/db",
		Args:    exactArgs(1, "KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if version < 1 {
				return usagef("-version is required (the version to roll back to)")
			}
			key := o.key(cmd, args[0])
			return showVault(cmd, x, func(ctx context.Context, c *client.Client) (*client.KVVersionMetadata, error) {
				return c.KV(o.mount).Rollback(ctx, key, version)
			}, func(w io.Writer, m *client.KVVersionMetadata) error {
				return pairs(w, versionMetadataPairs(*m)...)
			})
		},
	}
	cmd.Flags().IntVar(&version, "version", 0, "version to roll back to")
	return cmd
}

// kvMetadataFlags are the flags of kv metadata put and patch.
type kvMetadataFlags struct {
	maxVersions int
	casRequired bool
	after       string
	custom      []string
	remove      []string
}

func (f *kvMetadataFlags) add(cmd *cobra.Command, patch bool) {
	fs := cmd.Flags()
	fs.IntVar(&f.maxVersions, "max-versions", 0, "versions kept (0: the domain's setting)")
	fs.BoolVar(&f.casRequired, "cas-required", false, "require check-and-set on writes")
	fs.StringVar(&f.after, "delete-version-after", "", `deactivate versions this long after their creation, e.g. 3h25m19s ("0s": never)`)
	fs.StringArrayVar(&f.custom, "custom-metadata", nil, "custom metadata k=v (repeatable)")
	if patch {
		fs.StringArrayVar(&f.remove, "remove-custom-metadata", nil, "custom metadata key to remove (repeatable)")
	}
}

func (f *kvMetadataFlags) update(cmd *cobra.Command) (client.KVMetadataUpdate, error) {
	var u client.KVMetadataUpdate
	if cmd.Flags().Changed("max-versions") {
		u.MaxVersions = &f.maxVersions
	}
	if cmd.Flags().Changed("cas-required") {
		u.CasRequired = &f.casRequired
	}
	if cmd.Flags().Changed("delete-version-after") {
		u.DeleteVersionAfter = &f.after
	}
	cm, err := keyValues("custom-metadata", f.custom)
	if err != nil {
		return u, err
	}
	if cm != nil || len(f.remove) > 0 {
		u.CustomMetadata = map[string]*string{}
		for k, v := range cm {
			u.CustomMetadata[k] = &v
		}
		for _, k := range f.remove {
			u.CustomMetadata[k] = nil
		}
	}
	return u, nil
}

func newKVMetadataCmd(x *cli, o *kvOpts) *cobra.Command {
	get := &cobra.Command{
		Use:     "get [flags] KEY",
		Short:   "Show a secret's settings and versions (vault kv metadata get)",
		Example: "  coffer kv metadata get secret/app/db",
		Args:    exactArgs(1, "KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			key := o.key(cmd, args[0])
			return showVault(cmd, x, func(ctx context.Context, c *client.Client) (*client.KVMetadata, error) {
				return c.KV(o.mount).Metadata(ctx, key)
			}, func(w io.Writer, m *client.KVMetadata) error { return printKVMetadata(w, o.mount, key, m) })
		},
	}
	var putFlags, patchFlags kvMetadataFlags
	write := func(use string, f *kvMetadataFlags, patch bool, short, long, example string) *cobra.Command {
		cmd := &cobra.Command{
			Use: use + " [flags] KEY", Short: short, Long: long, Example: example,
			Args: exactArgs(1, "KEY"),
			RunE: func(cmd *cobra.Command, args []string) error {
				u, err := f.update(cmd)
				if err != nil {
					return err
				}
				if u.MaxVersions == nil && u.CasRequired == nil && u.DeleteVersionAfter == nil && u.CustomMetadata == nil {
					return usagef("nothing to write: give -max-versions, -cas-required, -delete-version-after or -custom-metadata (see --help)")
				}
				key := o.key(cmd, args[0])
				return kvAct(cmd, x, func(ctx context.Context, c *client.Client) error {
					if patch {
						return c.KV(o.mount).PatchMetadata(ctx, key, u)
					}
					return c.KV(o.mount).PutMetadata(ctx, key, u)
				}, fmt.Sprintf("Success! Data written to: %s/metadata/%s", o.mount, key))
			},
		}
		f.add(cmd, patch)
		return cmd
	}
	put := write("put", &putFlags, false, "Write a secret's settings (vault kv metadata put)",
		"Write the settings given; the others stay. -custom-metadata replaces the whole\nmap. Creates the secret, without a version, if it does not exist.",
		`  coffer kv metadata put -max-versions=5 -custom-metadata=team=dba secret/app/db
  coffer kv metadata put -delete-version-after=720h secret/app/db`)
	patch := write("patch", &patchFlags, true, "Change some settings of an existing secret (vault kv metadata patch)",
		"Change the settings given of an existing secret; -custom-metadata keys are\nmerged into the map and -remove-custom-metadata keys removed from it.",
		`  coffer kv metadata patch -custom-metadata=tier=1 -remove-custom-metadata=team secret/app/db`)
	del := &cobra.Command{
		Use:     "delete [flags] KEY",
		Short:   "Delete a secret and all its versions (vault kv metadata delete)",
		Example: "  coffer kv metadata delete secret/app/db",
		Args:    exactArgs(1, "KEY"),
		RunE: func(cmd *cobra.Command, args []string) error {
			key := o.key(cmd, args[0])
			return kvAct(cmd, x, func(ctx context.Context, c *client.Client) error {
				return c.KV(o.mount).DeleteMetadata(ctx, key)
			}, fmt.Sprintf("Success! Data deleted (if it existed) at: %s/metadata/%s", o.mount, key))
		},
	}
	return group("metadata", "Manage a secret's settings and versions (vault kv metadata)", "",
		`  coffer kv metadata get secret/app/db
  coffer kv metadata put -max-versions=5 secret/app/db
  coffer kv metadata delete secret/app/db`, get, put, patch, del)
}

func printKVMetadata(w io.Writer, mount, key string, m *client.KVMetadata) error {
	heading(w, "Metadata Path")
	fmt.Fprintln(w, mount+"/metadata/"+key)
	fmt.Fprintln(w)
	heading(w, "Metadata")
	cm := "<nil>"
	if len(m.CustomMetadata) > 0 {
		cm = "map[" + strings.ReplaceAll(strings.ReplaceAll(mapText(m.CustomMetadata), ",", " "), "=", ":") + "]"
	}
	if err := pairs(w,
		[2]string{"cas_required", strconv.FormatBool(m.CasRequired)},
		[2]string{"created_time", m.CreatedTime},
		[2]string{"current_version", strconv.Itoa(m.CurrentVersion)},
		[2]string{"custom_metadata", cm},
		[2]string{"delete_version_after", m.DeleteVersionAfter},
		[2]string{"max_versions", strconv.Itoa(m.MaxVersions)},
		[2]string{"oldest_version", strconv.Itoa(m.OldestVersion)},
		[2]string{"updated_time", m.UpdatedTime},
		[2]string{"urn", m.URN},
	); err != nil {
		return err
	}
	ids := make([]int, 0, len(m.Versions))
	for k := range m.Versions {
		if n, err := strconv.Atoi(k); err == nil {
			ids = append(ids, n)
		}
	}
	sort.Ints(ids)
	for _, id := range ids {
		v := m.Versions[strconv.Itoa(id)]
		fmt.Fprintln(w)
		heading(w, fmt.Sprintf("Version %d", id))
		if err := pairs(w,
			[2]string{"created_time", v.CreatedTime},
			[2]string{"deletion_time", dash(v.DeletionTime)},
			[2]string{"destroyed", strconv.FormatBool(v.Destroyed)},
		); err != nil {
			return err
		}
	}
	return nil
}

// vaultSecret is what vault kv prints with -format=json: the whole
// response, as the Go client's api.Secret marshals it, with the answer
// under data, so that a script written for vault (jq .data.data.password,
// .data.version) reads coffer's output the same way. coffer's client does
// not keep the request id.
type vaultSecret[T any] struct {
	RequestID     string   `json:"request_id"`
	LeaseID       string   `json:"lease_id"`
	LeaseDuration int      `json:"lease_duration"`
	Renewable     bool     `json:"renewable"`
	Data          T        `json:"data"`
	Warnings      []string `json:"warnings"`
}

// showVault is show for the kv commands whose JSON output vault prints as
// a whole response (vaultSecret).
func showVault[T any](cmd *cobra.Command, x *cli, call func(context.Context, *client.Client) (T, error), table func(io.Writer, T) error) error {
	return show(cmd, x, func(ctx context.Context, c *client.Client) (vaultSecret[T], error) {
		v, err := call(ctx, c)
		return vaultSecret[T]{Data: v}, err
	}, func(w io.Writer, s vaultSecret[T]) error { return table(w, s.Data) })
}
