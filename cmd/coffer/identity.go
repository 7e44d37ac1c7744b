package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/client"
)

// coffer user | group | token | policy: identity management (iam.md 7.4),
// for the account root and ADMIN users. Each group has its file; this one
// holds what they share.

const identityLong = `
Identity management is for the account root and the users of an ADMIN group.`

// deleted runs the deletion of the kind object name and confirms it.
func deleted(cmd *cobra.Command, x *cli, kind, name string, call func(context.Context, *client.Client) error) error {
	return act(cmd, x, call, map[string]any{kind: name, "deleted": true}, fmt.Sprintf("Deleted %s %s.", kind, name))
}

// readAll reads in full each object that list names, in its order; it
// returns an empty slice, not nil, when there is none.
func readAll[T any](ctx context.Context, list func(context.Context) ([]string, error), get func(context.Context, string) (T, error)) ([]T, error) {
	names, err := list(ctx)
	if err != nil {
		return nil, err
	}
	out := []T{}
	for _, n := range names {
		v, err := get(ctx, n)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
