package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/client"
)

// coffer token: users' personal access tokens (iam.md 7.4).

func newTokenCmd(x *cli) *cobra.Command {
	list := &cobra.Command{
		Use:     "list LOGIN",
		Short:   "List a user's personal access tokens (never their values)",
		Example: "  coffer token list alice",
		Args:    exactArgs(1, "LOGIN"),
		RunE: func(cmd *cobra.Command, args []string) error {
			login := args[0]
			return show(cmd, x, func(ctx context.Context, c *client.Client) ([]*client.Token, error) {
				return readAll(ctx,
					func(ctx context.Context) ([]string, error) { return c.ListTokens(ctx, login) },
					func(ctx context.Context, name string) (*client.Token, error) { return c.GetToken(ctx, login, name) })
			}, func(w io.Writer, toks []*client.Token) error {
				t := newTable(w, "NAME", "CREATED", "EXPIRES", "LAST USED", "DESCRIPTION")
				for _, k := range toks {
					t.row(k.Name, k.Creation, optText(k.ExpiresAt), optText(k.LastUsed), dash(k.Description))
				}
				return t.flush()
			})
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
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.Token, error) {
				return c.CreateToken(ctx, args[0], req)
			}, func(w io.Writer, t *client.Token) error {
				if err := printToken(w, t); err != nil {
					return err
				}
				fmt.Fprintln(w)
				fmt.Fprintln(w, "The token is shown once; keep it safe:")
				fmt.Fprintln(w)
				fmt.Fprintln(w, "    "+t.Token)
				return nil
			})
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
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.Token, error) {
				return c.GetToken(ctx, args[0], args[1])
			}, printToken)
		},
	}
	revoke := &cobra.Command{
		Use:     "revoke LOGIN NAME",
		Short:   "Revoke a token and the child tokens made with it",
		Example: "  coffer token revoke alice ci",
		Args:    exactArgs(2, "LOGIN and NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return deleted(cmd, x, "token", args[0]+"/"+args[1], func(ctx context.Context, c *client.Client) error {
				return c.RevokeToken(ctx, args[0], args[1])
			})
		},
	}
	cmd := group("token", "Manage users' personal access tokens", "Personal access tokens authenticate a user on every API (Authorization: Bearer,\nX-Vault-Token)."+identityLong,
		"  coffer token create alice ci\n  coffer token list alice\n  coffer token revoke alice ci", list, create, get, revoke)
	x.connFlags(cmd, true)
	return cmd
}

// printToken prints a token's metadata, never its value.
func printToken(w io.Writer, t *client.Token) error {
	return pairs(w, [2]string{"name", t.Name}, [2]string{"description", dash(t.Description)}, [2]string{"created", t.Creation},
		[2]string{"expires", optText(t.ExpiresAt)}, [2]string{"last_used", optText(t.LastUsed)})
}
