package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/client"
)

// coffer user | group | token | policy: identity management (iam.md 7.4),
// for the account root and ADMIN users.

const identityLong = `
Identity management is for the account root and the users of an ADMIN group.`

func newUserCmd(x *cli) *cobra.Command {
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the users",
		Example: "  coffer user list",
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
			logins, err := c.ListUsers(cmd.Context())
			if err != nil {
				return err
			}
			users := []*client.User{}
			for _, l := range logins {
				u, err := c.GetUser(cmd.Context(), l)
				if err != nil {
					return err
				}
				users = append(users, u)
			}
			if asJSON {
				return printJSON(x.e.stdout, users)
			}
			t := newTable(x.e.stdout, "LOGIN", "GROUP", "EMAIL", "DESCRIPTION")
			for _, u := range users {
				t.row(u.Login, dash(u.Group), dash(u.Email), dash(u.Description))
			}
			return t.flush()
		},
	}
	var (
		desc, email, grp string
		passwordStdin    bool
	)
	userFlags := func(cmd *cobra.Command) {
		f := cmd.Flags()
		f.StringVar(&desc, "description", "", "description")
		f.StringVar(&email, "email", "", "e-mail address")
		f.StringVar(&grp, "group", "", "group (one per user)")
		f.BoolVar(&passwordStdin, "password-stdin", false, "read a password (for the web panel) from the first line of standard input")
	}
	request := func(cmd *cobra.Command) (client.UserRequest, error) {
		var r client.UserRequest
		if cmd.Flags().Changed("description") {
			r.Description = &desc
		}
		if cmd.Flags().Changed("email") {
			r.Email = &email
		}
		if cmd.Flags().Changed("group") {
			r.Group = &grp
		}
		if passwordStdin {
			pw, err := x.readToken()
			if err != nil {
				return r, err
			}
			if pw == "" {
				return r, usagef("--password-stdin: standard input is empty")
			}
			r.Password = &pw
		}
		return r, nil
	}
	create := &cobra.Command{
		Use:   "create LOGIN",
		Short: "Create a user",
		Example: `  coffer user create alice --group ops --email alice@example.com
  coffer token create alice ci    # then give alice a token`,
		Args: exactArgs(1, "LOGIN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := request(cmd)
			if err != nil {
				return err
			}
			r.Login = args[0]
			return x.userCall(func(c *client.Client) (*client.User, error) { return c.CreateUser(cmd.Context(), r) })
		},
	}
	userFlags(create)
	update := &cobra.Command{
		Use:     "update LOGIN",
		Short:   "Change a user (the flags given)",
		Example: "  coffer user update alice --group admins --description \"Alice, on call\"",
		Args:    exactArgs(1, "LOGIN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := request(cmd)
			if err != nil {
				return err
			}
			if r == (client.UserRequest{}) {
				return usagef("nothing to update: give --description, --email, --group or --password-stdin")
			}
			return x.userCall(func(c *client.Client) (*client.User, error) { return c.UpdateUser(cmd.Context(), args[0], r) })
		},
	}
	userFlags(update)
	get := &cobra.Command{
		Use:     "get LOGIN",
		Short:   "Show a user",
		Example: "  coffer user get alice",
		Args:    exactArgs(1, "LOGIN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return x.userCall(func(c *client.Client) (*client.User, error) { return c.GetUser(cmd.Context(), args[0]) })
		},
	}
	del := &cobra.Command{
		Use:     "delete LOGIN",
		Short:   "Delete a user and revoke its tokens",
		Example: "  coffer user delete alice",
		Args:    exactArgs(1, "LOGIN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return x.deleted("user", args[0], func(c *client.Client) error { return c.DeleteUser(cmd.Context(), args[0]) })
		},
	}
	cmd := group("user", "Manage users", "Users authenticate with personal access tokens (coffer token) or access\ncertificates (coffer credential)."+identityLong,
		"  coffer user create alice --group ops\n  coffer user list", list, create, get, update, del)
	x.connFlags(cmd, true)
	return cmd
}

// userCall runs a call that returns a user and prints it.
func (x *cli) userCall(call func(*client.Client) (*client.User, error)) error {
	asJSON, err := x.json()
	if err != nil {
		return err
	}
	c, err := x.client()
	if err != nil {
		return err
	}
	u, err := call(c)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(x.e.stdout, u)
	}
	return pairs(x.e.stdout, [2]string{"login", u.Login}, [2]string{"group", dash(u.Group)}, [2]string{"email", dash(u.Email)},
		[2]string{"description", dash(u.Description)}, [2]string{"urn", u.URN}, [2]string{"created", u.Creation},
		[2]string{"updated", u.LastUpdate}, [2]string{"status", u.Status})
}

// deleted runs a deletion and confirms it.
func (x *cli) deleted(kind, name string, call func(*client.Client) error) error {
	asJSON, err := x.json()
	if err != nil {
		return err
	}
	c, err := x.client()
	if err != nil {
		return err
	}
	if err := call(c); err != nil {
		return err
	}
	if asJSON {
		return printJSON(x.e.stdout, map[string]any{kind: name, "deleted": true})
	}
	fmt.Fprintf(x.e.stdout, "Deleted %s %s.\n", kind, name)
	return nil
}

func newGroupCmd(x *cli) *cobra.Command {
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the groups",
		Example: "  coffer group list",
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
			names, err := c.ListGroups(cmd.Context())
			if err != nil {
				return err
			}
			groups := []*client.Group{}
			for _, n := range names {
				g, err := c.GetGroup(cmd.Context(), n)
				if err != nil {
					return err
				}
				groups = append(groups, g)
			}
			if asJSON {
				return printJSON(x.e.stdout, groups)
			}
			t := newTable(x.e.stdout, "NAME", "ROLE", "DESCRIPTION")
			for _, g := range groups {
				t.row(g.Name, g.Role, dash(g.Description))
			}
			return t.flush()
		},
	}
	var desc, role string
	request := func(cmd *cobra.Command) client.GroupRequest {
		var r client.GroupRequest
		if cmd.Flags().Changed("description") {
			r.Description = &desc
		}
		if cmd.Flags().Changed("role") {
			r.Role = &role
		}
		return r
	}
	flags := func(cmd *cobra.Command) {
		cmd.Flags().StringVar(&desc, "description", "", "description")
		cmd.Flags().StringVar(&role, "role", "", "role: ADMIN (passes every IAM check), REGULAR, UNPRIVILEGED or NONE")
	}
	create := &cobra.Command{
		Use:     "create NAME",
		Short:   "Create a group",
		Example: "  coffer group create ops --role ADMIN --description \"Operators\"",
		Args:    exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := request(cmd)
			r.Name = args[0]
			return x.groupCall(func(c *client.Client) (*client.Group, error) { return c.CreateGroup(cmd.Context(), r) })
		},
	}
	flags(create)
	update := &cobra.Command{
		Use:     "update NAME",
		Short:   "Change a group (the flags given)",
		Example: "  coffer group update ops --role REGULAR",
		Args:    exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			r := request(cmd)
			if r == (client.GroupRequest{}) {
				return usagef("nothing to update: give --description or --role")
			}
			return x.groupCall(func(c *client.Client) (*client.Group, error) { return c.UpdateGroup(cmd.Context(), args[0], r) })
		},
	}
	flags(update)
	get := &cobra.Command{
		Use:     "get NAME",
		Short:   "Show a group",
		Example: "  coffer group get ops",
		Args:    exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return x.groupCall(func(c *client.Client) (*client.Group, error) { return c.GetGroup(cmd.Context(), args[0]) })
		},
	}
	del := &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a group without members",
		Example: "  coffer group delete ops",
		Args:    exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return x.deleted("group", args[0], func(c *client.Client) error { return c.DeleteGroup(cmd.Context(), args[0]) })
		},
	}
	cmd := group("group", "Manage groups", "A user belongs to at most one group and acts with its identity too; members\nof an ADMIN group pass every IAM check."+identityLong,
		"  coffer group create ops --role ADMIN\n  coffer user update alice --group ops", list, create, get, update, del)
	x.connFlags(cmd, true)
	return cmd
}

func (x *cli) groupCall(call func(*client.Client) (*client.Group, error)) error {
	asJSON, err := x.json()
	if err != nil {
		return err
	}
	c, err := x.client()
	if err != nil {
		return err
	}
	g, err := call(c)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(x.e.stdout, g)
	}
	return pairs(x.e.stdout, [2]string{"name", g.Name}, [2]string{"role", g.Role}, [2]string{"description", dash(g.Description)},
		[2]string{"urn", g.URN}, [2]string{"created", g.Creation}, [2]string{"updated", g.LastUpdate})
}

func newTokenCmd(x *cli) *cobra.Command {
	list := &cobra.Command{
		Use:     "list LOGIN",
		Short:   "List a user's personal access tokens (never their values)",
		Example: "  coffer token list alice",
		Args:    exactArgs(1, "LOGIN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := x.json()
			if err != nil {
				return err
			}
			c, err := x.client()
			if err != nil {
				return err
			}
			names, err := c.ListTokens(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			toks := []*client.Token{}
			for _, n := range names {
				t, err := c.GetToken(cmd.Context(), args[0], n)
				if err != nil {
					return err
				}
				toks = append(toks, t)
			}
			if asJSON {
				return printJSON(x.e.stdout, toks)
			}
			t := newTable(x.e.stdout, "NAME", "CREATED", "EXPIRES", "LAST USED", "DESCRIPTION")
			for _, k := range toks {
				t.row(k.Name, k.Creation, optText(k.ExpiresAt), optText(k.LastUsed), dash(k.Description))
			}
			return t.flush()
		},
	}
	var (
		desc, expiresAt string
		expiresIn       time.Duration
	)
	create := &cobra.Command{
		Use:   "create LOGIN NAME",
		Short: "Create a personal access token for a user; its value is shown once",
		Long: `Create a personal access token for a user. Its value is printed once: the
server keeps only a digest. With --format json it is the "token" member.`,
		Example: `  coffer token create alice ci --expires-in 720h
  TOKEN=$(coffer token create alice deploy --format json | jq -r .token)`,
		Args: exactArgs(2, "LOGIN and NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := x.json()
			if err != nil {
				return err
			}
			req := client.TokenRequest{Name: args[1], Description: desc, ExpiresAt: expiresAt}
			if cmd.Flags().Changed("expires-in") {
				if expiresAt != "" {
					return usagef("--expires-at and --expires-in exclude each other")
				}
				if expiresIn <= 0 {
					return usagef("--expires-in must be positive")
				}
				req.ExpiresAt = time.Now().Add(expiresIn).UTC().Format(time.RFC3339)
			}
			c, err := x.client()
			if err != nil {
				return err
			}
			t, err := c.CreateToken(cmd.Context(), args[0], req)
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(x.e.stdout, t)
			}
			if err := tokenPairs(x.e.stdout, t); err != nil {
				return err
			}
			fmt.Fprintln(x.e.stdout)
			fmt.Fprintln(x.e.stdout, "The token is shown once; keep it safe:")
			fmt.Fprintln(x.e.stdout)
			fmt.Fprintln(x.e.stdout, "    "+t.Token)
			return nil
		},
	}
	create.Flags().StringVar(&desc, "description", "", "description")
	create.Flags().StringVar(&expiresAt, "expires-at", "", "expiry, RFC 3339 (e.g. 2030-01-01T00:00:00Z); default: never")
	create.Flags().DurationVar(&expiresIn, "expires-in", 0, "expiry from now, e.g. 720h")
	get := &cobra.Command{
		Use:     "get LOGIN NAME",
		Short:   "Show a token (never its value)",
		Example: "  coffer token get alice ci",
		Args:    exactArgs(2, "LOGIN and NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := x.json()
			if err != nil {
				return err
			}
			c, err := x.client()
			if err != nil {
				return err
			}
			t, err := c.GetToken(cmd.Context(), args[0], args[1])
			if err != nil {
				return err
			}
			if asJSON {
				return printJSON(x.e.stdout, t)
			}
			return tokenPairs(x.e.stdout, t)
		},
	}
	revoke := &cobra.Command{
		Use:     "revoke LOGIN NAME",
		Short:   "Revoke a token and the child tokens made with it",
		Example: "  coffer token revoke alice ci",
		Args:    exactArgs(2, "LOGIN and NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return x.deleted("token", args[0]+"/"+args[1], func(c *client.Client) error {
				return c.RevokeToken(cmd.Context(), args[0], args[1])
			})
		},
	}
	cmd := group("token", "Manage users' personal access tokens", "Personal access tokens authenticate a user on every API (Authorization: Bearer,\nX-Vault-Token)."+identityLong,
		"  coffer token create alice ci\n  coffer token list alice\n  coffer token revoke alice ci", list, create, get, revoke)
	x.connFlags(cmd, true)
	return cmd
}

func tokenPairs(w io.Writer, t *client.Token) error {
	return pairs(w, [2]string{"name", t.Name}, [2]string{"description", dash(t.Description)}, [2]string{"created", t.Creation},
		[2]string{"expires", optText(t.ExpiresAt)}, [2]string{"last_used", optText(t.LastUsed)})
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
func policyID(cmd *cobra.Command, c *client.Client, ref string) (string, error) {
	if len(ref) == 36 && strings.Count(ref, "-") == 4 {
		return ref, nil
	}
	ps, err := c.ListPolicies(cmd.Context())
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

func newPolicyCmd(x *cli) *cobra.Command {
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the policies",
		Example: "  coffer policy list",
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
			ps, err := c.ListPolicies(cmd.Context())
			if err != nil {
				return err
			}
			if ps == nil {
				ps = []client.Policy{}
			}
			if asJSON {
				return printJSON(x.e.stdout, ps)
			}
			t := newTable(x.e.stdout, "NAME", "ID", "IDENTITIES", "RESOURCES", "EXPIRES")
			for _, p := range ps {
				t.row(p.Name, p.ID, fmt.Sprint(len(p.Identities)), fmt.Sprint(len(p.Resources)), optText(p.ExpiredAt))
			}
			return t.flush()
		},
	}
	show := func(p *client.Policy) error {
		asJSON, err := x.json()
		if err != nil {
			return err
		}
		if asJSON {
			return printJSON(x.e.stdout, p)
		}
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
		return pairs(x.e.stdout, [2]string{"name", p.Name}, [2]string{"id", p.ID}, [2]string{"description", dash(p.Description)},
			[2]string{"identities", dash(strings.Join(p.Identities, ","))}, [2]string{"resources", dash(strings.Join(res, ","))},
			[2]string{"allow", acts(p.Permissions.Allow)}, [2]string{"except", acts(p.Permissions.Except)},
			[2]string{"deny", acts(p.Permissions.Deny)}, [2]string{"expires", optText(p.ExpiredAt)},
			[2]string{"created", p.CreatedAt}, [2]string{"updated", p.UpdatedAt})
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
			if _, err := x.json(); err != nil {
				return err
			}
			doc, err := x.readDocument(args[0])
			if err != nil {
				return err
			}
			c, err := x.client()
			if err != nil {
				return err
			}
			p, err := c.CreatePolicy(cmd.Context(), doc)
			if err != nil {
				return err
			}
			return show(p)
		},
	}
	get := &cobra.Command{
		Use:     "get ID|NAME",
		Short:   "Show a policy",
		Example: "  coffer policy get app-readers\n  coffer policy get app-readers --format json > app-readers.json",
		Args:    exactArgs(1, "ID or NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := x.json(); err != nil {
				return err
			}
			c, err := x.client()
			if err != nil {
				return err
			}
			id, err := policyID(cmd, c, args[0])
			if err != nil {
				return err
			}
			p, err := c.GetPolicy(cmd.Context(), id)
			if err != nil {
				return err
			}
			return show(p)
		},
	}
	update := &cobra.Command{
		Use:     "update ID|NAME FILE",
		Short:   "Replace a policy with a JSON document (- for standard input)",
		Example: "  coffer policy update app-readers readers.json",
		Args:    exactArgs(2, "ID or NAME, and FILE"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if _, err := x.json(); err != nil {
				return err
			}
			doc, err := x.readDocument(args[1])
			if err != nil {
				return err
			}
			c, err := x.client()
			if err != nil {
				return err
			}
			id, err := policyID(cmd, c, args[0])
			if err != nil {
				return err
			}
			p, err := c.UpdatePolicy(cmd.Context(), id, doc)
			if err != nil {
				return err
			}
			return show(p)
		},
	}
	del := &cobra.Command{
		Use:     "delete ID|NAME",
		Short:   "Delete a policy",
		Example: "  coffer policy delete app-readers",
		Args:    exactArgs(1, "ID or NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return x.deleted("policy", args[0], func(c *client.Client) error {
				id, err := policyID(cmd, c, args[0])
				if err != nil {
					return err
				}
				return c.DeletePolicy(cmd.Context(), id)
			})
		},
	}
	cmd := group("policy", "Manage IAM policies",
		"Policies allow, except and deny actions (okms:apikms:secret/get...) on resource\nURNs to identity URNs, as OVHcloud IAM does."+identityLong,
		"  coffer policy create readers.json\n  coffer policy list\n  coffer policy get app-readers", list, create, get, update, del)
	x.connFlags(cmd, true)
	return cmd
}
