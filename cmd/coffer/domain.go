package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/client"
)

// coffer domain: OKMS domains through surface A (okms-rest.md 5.3).

func newDomainCmd(x *cli) *cobra.Command {
	cmd := group("domain", "Manage OKMS domains",
		`An OKMS domain is a tenant of the server: its secrets, settings, access CA
and credentials are its own. Listing needs okms:apiovh:resource/get;
activating, renaming and deleting are for the account root and ADMIN users.`,
		`  coffer domain list
  coffer domain activate --name staging
  coffer domain delete 6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f`,
		newDomainListCmd(x), newDomainGetCmd(x), newDomainActivateCmd(x), newDomainRenameCmd(x), newDomainDeleteCmd(x),
		newDomainRotateKeyCmd(x))
	x.connFlags(cmd, true)
	return cmd
}

func newDomainListCmd(x *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "list",
		Short:   "List the OKMS domains you may see",
		Example: "  coffer domain list\n  coffer domain list --format json",
		Args:    exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) ([]client.Domain, error) {
				ds, err := c.ListDomains(ctx)
				if ds == nil && err == nil {
					ds = []client.Domain{}
				}
				return ds, err
			}, func(w io.Writer, ds []client.Domain) error {
				t := newTable(w, "ID", "NAME", "REGION", "STATE", "SECRETS", "VERSIONS")
				for _, d := range ds {
					t.row(d.ID, dash(d.IAM.DisplayName), d.Region, d.IAM.State, strconv.Itoa(d.SecretCount), strconv.Itoa(d.SecretVersionCount))
				}
				return t.flush()
			})
		},
	}
}

// domainArg returns the domain named by the optional argument of args,
// else the domain in use.
func domainArg(ctx context.Context, c *client.Client, args []string) (string, error) {
	if len(args) == 1 {
		return args[0], nil
	}
	return c.Domain(ctx)
}

func printDomain(w io.Writer, d *client.Domain) error { return pairs(w, domainPairs(d)...) }

func domainPairs(d *client.Domain) [][2]string {
	return [][2]string{
		{"id", d.ID},
		{"name", dash(d.IAM.DisplayName)},
		{"region", d.Region},
		{"state", d.IAM.State},
		{"urn", d.IAM.URN},
		{"rest_endpoint", d.RestEndpoint},
		{"secrets", strconv.Itoa(d.SecretCount)},
		{"versions", strconv.Itoa(d.SecretVersionCount)},
	}
}

func newDomainGetCmd(x *cli) *cobra.Command {
	var withCA bool
	cmd := &cobra.Command{
		Use:   "get [OKMS_ID]",
		Short: "Show a domain (default: the domain in use)",
		Example: `  coffer domain get
  coffer domain get 6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f --public-ca`,
		Args: rangeArgs(0, 1, "an optional OKMS_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.Domain, error) {
				id, err := domainArg(ctx, c, args)
				if err != nil {
					return nil, err
				}
				return c.GetDomain(ctx, id, withCA)
			}, func(w io.Writer, d *client.Domain) error {
				if err := printDomain(w, d); err != nil || !withCA {
					return err
				}
				fmt.Fprintln(w)
				heading(w, "Public CA")
				if d.PublicCA == nil {
					fmt.Fprintln(w, "(none: the server's certificate is publicly trusted, or it serves plain HTTP)")
				} else {
					fmt.Fprint(w, *d.PublicCA)
				}
				return nil
			})
		},
	}
	cmd.Flags().BoolVar(&withCA, "public-ca", false, "also print the CA certificate (PEM) clients must trust for the server's TLS certificate")
	return cmd
}

func newDomainActivateCmd(x *cli) *cobra.Command {
	var (
		region, name string
		noWait       bool
		timeout      time.Duration
	)
	cmd := &cobra.Command{
		Use:   "activate",
		Short: "Activate a new OKMS domain and wait until it is ready",
		Long: `Activate a new OKMS domain in a region (default: the server's only region),
then wait, showing progress on stderr, until its keys and access CA exist and
it is ready. --no-wait returns at once.`,
		Example: `  coffer domain activate --name staging
  coffer domain activate --region eu-west-par --name prod --format json`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.Domain, error) {
				r, err := regionOrOnly(ctx, c, region)
				if err != nil {
					return nil, err
				}
				d, err := c.ActivateDomain(ctx, r, name)
				if err != nil || noWait {
					return d, err
				}
				return waitReady(ctx, c, d.ID, timeout, x.e.stderr)
			}, printDomain)
		},
	}
	f := cmd.Flags()
	f.StringVar(&region, "region", "", "region of the domain (default: the server's only region)")
	f.StringVar(&name, "name", "", "display name of the domain")
	f.BoolVar(&noWait, "no-wait", false, "return as soon as the activation has started")
	f.DurationVar(&timeout, "timeout", 5*time.Minute, "how long to wait for the domain to be ready")
	return cmd
}

// regionOrOnly returns region, or when it is empty the server's only
// region; a server with several asks for --region.
func regionOrOnly(ctx context.Context, c *client.Client, region string) (string, error) {
	if region != "" {
		return region, nil
	}
	rs, err := c.Regions(ctx)
	if err != nil {
		return "", err
	}
	if len(rs) != 1 {
		ids := make([]string, len(rs))
		for i, r := range rs {
			ids[i] = r.ID
		}
		return "", usagef("the server has %d regions (%s): choose one with --region", len(rs), strings.Join(ids, ", "))
	}
	return rs[0].ID, nil
}

// waitReady polls a domain until it is ready, with a progress indicator.
func waitReady(ctx context.Context, c *client.Client, id string, timeout time.Duration, stderr io.Writer) (*client.Domain, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	p := startProgress(stderr, "activating domain "+id, 0)
	delay := 100 * time.Millisecond
	for {
		d, err := c.GetDomain(ctx, id, false)
		if err != nil && !errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		if d != nil && d.IAM.State == client.DomainStateReady {
			p.done("ready")
			return d, nil
		}
		select {
		case <-ctx.Done():
			p.done("still not ready")
			return nil, fmt.Errorf("domain %s is not ready after %s; check later with coffer domain get %s", id, timeout, id)
		case <-time.After(delay):
		}
		p.step()
		delay = min(2*delay, 2*time.Second)
	}
}

func newDomainRenameCmd(x *cli) *cobra.Command {
	return &cobra.Command{
		Use:     "rename OKMS_ID NAME",
		Short:   "Change a domain's display name",
		Example: `  coffer domain rename 6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f "production"`,
		Args:    exactArgs(2, "OKMS_ID and NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.Domain, error) {
				return c.RenameDomain(ctx, args[0], args[1])
			}, printDomain)
		},
	}
}

func newDomainDeleteCmd(x *cli) *cobra.Command {
	var confirm bool
	cmd := &cobra.Command{
		Use:   "delete OKMS_ID",
		Short: "Delete a domain with all its secrets, for good",
		Long: `Delete a domain with its secrets, versions, settings, access CA and
credentials, for good. Without --confirm, the command asks you to type the
domain id again on standard input.`,
		Example: `  coffer domain delete 6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f
  coffer domain delete 6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f --confirm`,
		Args: exactArgs(1, "OKMS_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id := args[0]
			return act(cmd, x, func(ctx context.Context, c *client.Client) error {
				if !confirm {
					if err := x.confirmDelete(ctx, c, id); err != nil {
						return err
					}
				}
				return c.DeleteDomain(ctx, id)
			}, map[string]any{"id": id, "deleted": true}, fmt.Sprintf("Deleted domain %s.", id))
		},
	}
	cmd.Flags().BoolVar(&confirm, "confirm", false, "delete without asking for confirmation")
	return cmd
}

// confirmDelete asks on stderr to type the id of the domain again, which
// it reads on stdin; it fails unless the answer is the id.
func (x *cli) confirmDelete(ctx context.Context, c *client.Client, id string) error {
	d, err := c.GetDomain(ctx, id, false)
	if err != nil {
		return err
	}
	fmt.Fprintf(x.e.stderr, "Domain %s (%s) holds %d secrets; deleting it destroys them for good.\nType the domain id to confirm: ",
		d.ID, dash(d.IAM.DisplayName), d.SecretCount)
	line, err := bufio.NewReader(x.e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	if !isTerminal(x.e.stdin) {
		fmt.Fprintln(x.e.stderr) // the answer was not echoed
	}
	if strings.TrimSpace(line) == "" {
		return usagef("no confirmation on standard input: pass --confirm to delete without asking")
	}
	if !strings.EqualFold(strings.TrimSpace(line), id) {
		return errors.New("the id typed does not match: nothing deleted")
	}
	return nil
}
