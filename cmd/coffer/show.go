package main

import (
	"context"
	"fmt"
	"io"
	"iter"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/client"
)

// The shape most client commands share: build the client, make one call,
// print what it returns. A command parses and checks its arguments and
// flags before, so that a usage error never reaches the server.

// show builds the client of the settings in effect, calls call with it and
// prints the result: as JSON with --format json, with table otherwise.
func show[T any](cmd *cobra.Command, x *cli, call func(context.Context, *client.Client) (T, error), table func(io.Writer, T) error) error {
	asJSON, err := x.json()
	if err != nil {
		return err
	}
	v, err := fetch(cmd, x, call)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(x.e.stdout, v)
	}
	return table(x.e.stdout, v)
}

// fetch builds the client of the settings in effect and returns what call
// returns with it, for the commands whose output is not show's.
func fetch[T any](cmd *cobra.Command, x *cli, call func(context.Context, *client.Client) (T, error)) (T, error) {
	c, err := x.client()
	if err != nil {
		var zero T
		return zero, err
	}
	return call(cmd.Context(), c)
}

// act is show for a call that returns nothing: once it succeeded, v is
// printed as JSON with --format json, msg on a line otherwise.
func act(cmd *cobra.Command, x *cli, call func(context.Context, *client.Client) error, v any, msg string) error {
	return show(cmd, x, func(ctx context.Context, c *client.Client) (any, error) { return v, call(ctx, c) },
		func(w io.Writer, _ any) error {
			fmt.Fprintln(w, msg)
			return nil
		})
}

// printLine is a table for show that prints one value of the result on
// a line: a ciphertext, a signature, a key.
func printLine[T any](text func(T) string) func(io.Writer, T) error {
	return func(w io.Writer, v T) error {
		_, err := fmt.Fprintln(w, text(v))
		return err
	}
}

// collect reads a listing to its end; the slice is empty, not nil, when
// there is nothing.
func collect[T any](seq iter.Seq2[T, error]) ([]T, error) {
	out := []T{}
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}
