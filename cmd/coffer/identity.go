package main

import (
	"fmt"

	"github.com/seed-3e8d63de/coffer/client"
)

// coffer user | group | token | policy: identity management (iam.md 7.4),
// for the account root and ADMIN users. Each group has its file; this one
// holds what they share.

const identityLong = `
Identity management is for the account root and the users of an ADMIN group.`

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
