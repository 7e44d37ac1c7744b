package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/client"
)

// coffer user: the users of the installation (iam.md 7.4).

func newUserCmd(x *cli) *cobra.Command {
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the users",
		Example: "  coffer user list",
		Args:    exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) ([]*client.User, error) {
				return readAll(ctx, c.ListUsers, c.GetUser)
			}, func(w io.Writer, users []*client.User) error {
				t := newTable(w, "LOGIN", "GROUP", "EMAIL", "DESCRIPTION")
				for _, u := range users {
					t.row(u.Login, dash(u.Group), dash(u.Email), dash(u.Description))
				}
				return t.flush()
			})
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
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.User, error) {
				return c.CreateUser(ctx, r)
			}, printUser)
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
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.User, error) {
				return c.UpdateUser(ctx, args[0], r)
			}, printUser)
		},
	}
	userFlags(update)
	get := &cobra.Command{
		Use:     "get LOGIN",
		Short:   "Show a user",
		Example: "  coffer user get alice",
		Args:    exactArgs(1, "LOGIN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.User, error) {
				return c.GetUser(ctx, args[0])
			}, printUser)
		},
	}
	del := &cobra.Command{
		Use:     "delete LOGIN",
		Short:   "Delete a user and revoke its tokens",
		Example: "  coffer user delete alice",
		Args:    exactArgs(1, "LOGIN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return deleted(cmd, x, "user", args[0], func(ctx context.Context, c *client.Client) error {
				return c.DeleteUser(ctx, args[0])
			})
		},
	}
	cmd := group("user", "Manage users", "Users authenticate with personal access tokens (coffer token) or access\ncertificates (coffer credential)."+identityLong,
		"  coffer user create alice --group ops\n  coffer user list", list, create, get, update, del)
	x.connFlags(cmd, true)
	return cmd
}

func printUser(w io.Writer, u *client.User) error {
	return pairs(w, [2]string{"login", u.Login}, [2]string{"group", dash(u.Group)}, [2]string{"email", dash(u.Email)},
		[2]string{"description", dash(u.Description)}, [2]string{"urn", u.URN}, [2]string{"created", u.Creation},
		[2]string{"updated", u.LastUpdate}, [2]string{"status", u.Status})
}
