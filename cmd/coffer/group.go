package main

import (
	"context"
	"io"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/client"
)

// coffer group: the groups users belong to (iam.md 7.4).

func newGroupCmd(x *cli) *cobra.Command {
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the groups",
		Example: "  coffer group list",
		Args:    exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) ([]*client.Group, error) {
				return readAll(ctx, c.ListGroups, c.GetGroup)
			}, func(w io.Writer, groups []*client.Group) error {
				t := newTable(w, "NAME", "ROLE", "DESCRIPTION")
				for _, g := range groups {
					t.row(g.Name, g.Role, dash(g.Description))
				}
				return t.flush()
			})
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
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.Group, error) {
				return c.CreateGroup(ctx, r)
			}, printGroup)
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
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.Group, error) {
				return c.UpdateGroup(ctx, args[0], r)
			}, printGroup)
		},
	}
	flags(update)
	get := &cobra.Command{
		Use:     "get NAME",
		Short:   "Show a group",
		Example: "  coffer group get ops",
		Args:    exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.Group, error) {
				return c.GetGroup(ctx, args[0])
			}, printGroup)
		},
	}
	del := &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a group without members",
		Example: "  coffer group delete ops",
		Args:    exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return deleted(cmd, x, "group", args[0], func(ctx context.Context, c *client.Client) error {
				return c.DeleteGroup(ctx, args[0])
			})
		},
	}
	cmd := group("group", "Manage groups", "A user belongs to at most one group and acts with its identity too; members\nof an ADMIN group pass every IAM check."+identityLong,
		"  coffer group create ops --role ADMIN\n  coffer user update alice --group ops", list, create, get, update, del)
	x.connFlags(cmd, true)
	return cmd
}

func printGroup(w io.Writer, g *client.Group) error {
	return pairs(w, [2]string{"name", g.Name}, [2]string{"role", g.Role}, [2]string{"description", dash(g.Description)},
		[2]string{"urn", g.URN}, [2]string{"created", g.Creation}, [2]string{"updated", g.LastUpdate})
}
