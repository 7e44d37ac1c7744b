package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/client"
)

// coffer policy: IAM policies, OVHcloud's shape (iam.md 4.1, 7.4).

func newPolicyCmd(x *cli) *cobra.Command {
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the policies",
		Example: "  coffer policy list",
		Args:    exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) ([]client.Policy, error) {
				ps, err := c.ListPolicies(ctx)
				if ps == nil && err == nil {
					ps = []client.Policy{}
				}
				return ps, err
			}, func(w io.Writer, ps []client.Policy) error {
				t := newTable(w, "NAME", "ID", "IDENTITIES", "RESOURCES", "EXPIRES")
				for _, p := range ps {
					t.row(p.Name, p.ID, fmt.Sprint(len(p.Identities)), fmt.Sprint(len(p.Resources)), optText(p.ExpiredAt))
				}
				return t.flush()
			})
		},
	}
	create := &cobra.Command{
		Use:   "create FILE",
		Short: "Create a policy from a JSON document (- for standard input)",
		Long: `Create a policy from a JSON document in OVHcloud's shape (iam.md 4.1):
{"name", "description", "identities": [URN...], "resources": [{"urn"}...],
"permissions": {"allow": [{"action"}...], "except": [...], "deny": [...]},
"expiredAt"}. Unknown members are refused; every problem is reported.`,
		Example: `  coffer policy create readers.json
  cat <<'EOF' | coffer policy create -
  {"name": "app-readers",
   "identities": ["urn:v1:eu:identity:user:coffer/alice"],
   "resources": [{"urn": "urn:v1:eu:resource:okms:6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f/secret/app%2F*"}],
   "permissions": {"allow": [{"action": "okms:apikms:secret/get"}, {"action": "okms:apikms:secret/version/getData"}]}}
  EOF`,
		Args: exactArgs(1, "FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := x.readDocument(args[0])
			if err != nil {
				return err
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.Policy, error) {
				return c.CreatePolicy(ctx, doc)
			}, printPolicy)
		},
	}
	get := &cobra.Command{
		Use:     "get ID|NAME",
		Short:   "Show a policy",
		Example: "  coffer policy get app-readers\n  coffer policy get app-readers --format json > app-readers.json",
		Args:    exactArgs(1, "ID or NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.Policy, error) {
				id, err := policyID(ctx, c, args[0])
				if err != nil {
					return nil, err
				}
				return c.GetPolicy(ctx, id)
			}, printPolicy)
		},
	}
	update := &cobra.Command{
		Use:     "update ID|NAME FILE",
		Short:   "Replace a policy with a JSON document (- for standard input)",
		Example: "  coffer policy update app-readers readers.json",
		Args:    exactArgs(2, "ID or NAME, and FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			doc, err := x.readDocument(args[1])
			if err != nil {
				return err
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.Policy, error) {
				id, err := policyID(ctx, c, args[0])
				if err != nil {
					return nil, err
				}
				return c.UpdatePolicy(ctx, id, doc)
			}, printPolicy)
		},
	}
	del := &cobra.Command{
		Use:     "delete ID|NAME",
		Short:   "Delete a policy",
		Example: "  coffer policy delete app-readers",
		Args:    exactArgs(1, "ID or NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return deleted(cmd, x, "policy", args[0], func(ctx context.Context, c *client.Client) error {
				id, err := policyID(ctx, c, args[0])
				if err != nil {
					return err
				}
				return c.DeletePolicy(ctx, id)
			})
		},
	}
	cmd := group("policy", "Manage IAM policies",
		"Policies allow, except and deny actions (okms:apikms:secret/get...) on resource\nURNs to identity URNs, as OVHcloud IAM does."+identityLong,
		"  coffer policy create readers.json\n  coffer policy list\n  coffer policy get app-readers", list, create, get, update, del)
	x.connFlags(cmd, true)
	return cmd
}

func printPolicy(w io.Writer, p *client.Policy) error {
	acts := func(as []client.PolicyAction) string {
		s := make([]string, len(as))
		for i, a := range as {
			s[i] = a.Action
		}
		return dash(strings.Join(s, ","))
	}
	res := make([]string, len(p.Resources))
	for i, r := range p.Resources {
		res[i] = r.URN
	}
	return pairs(w, [2]string{"name", p.Name}, [2]string{"id", p.ID}, [2]string{"description", dash(p.Description)},
		[2]string{"identities", dash(strings.Join(p.Identities, ","))}, [2]string{"resources", dash(strings.Join(res, ","))},
		[2]string{"allow", acts(p.Permissions.Allow)}, [2]string{"except", acts(p.Permissions.Except)},
		[2]string{"deny", acts(p.Permissions.Deny)}, [2]string{"expires", optText(p.ExpiredAt)},
		[2]string{"created", p.CreatedAt}, [2]string{"updated", p.UpdatedAt})
}

// readDocument reads a JSON document from a file, or standard input for
// "-".
func (x *cli) readDocument(name string) (json.RawMessage, error) {
	var (
		b   []byte
		err error
	)
	if name == "-" {
		b, err = io.ReadAll(x.e.stdin)
	} else {
		b, err = os.ReadFile(name)
	}
	if err != nil {
		return nil, usagef("read the policy: %v", err)
	}
	if !json.Valid(b) {
		return nil, usagef("%s is not JSON", name)
	}
	return b, nil
}

// policyID returns the id of a policy named by its id or its name.
func policyID(ctx context.Context, c *client.Client, ref string) (string, error) {
	if len(ref) == 36 && strings.Count(ref, "-") == 4 {
		return ref, nil
	}
	ps, err := c.ListPolicies(ctx)
	if err != nil {
		return "", err
	}
	for _, p := range ps {
		if p.Name == ref {
			return p.ID, nil
		}
	}
	return "", fmt.Errorf("no policy is named %q", ref)
}
