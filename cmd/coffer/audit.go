package main

import (
	"context"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/client"
)

// coffer audit: the audit log (GET /v2/iam/audit), for the account root and
// ADMIN users.

func newAuditCmd(x *cli) *cobra.Command {
	var n int
	tail := &cobra.Command{
		Use:   "tail",
		Short: "Show the last events of the audit log",
		Long: `Show the last events of the audit log, oldest first: who (principal) did what
(action) on what (resource), and whether it was allowed. Events never hold
secret values or tokens. The server must write its audit log to a file
(coffer server --audit-file) to read it back.`,
		Example: `  coffer audit tail
  coffer audit tail -n 500 --format json`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if n < 1 || n > 10000 {
				return usagef("-n must be between 1 and 10000")
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) ([]client.AuditEvent, error) {
				evs, err := c.AuditTail(ctx, n)
				if evs == nil && err == nil {
					evs = []client.AuditEvent{}
				}
				return evs, err
			}, func(w io.Writer, evs []client.AuditEvent) error {
				t := newTable(w, "TIME", "PHASE", "OUTCOME", "ACTION", "RESOURCE", "PRINCIPAL", "REQUEST")
				for _, e := range evs {
					t.row(e.Time, e.Phase, e.Outcome, e.Action, e.Resource, strings.Join(e.Principal, ","), e.RequestID)
				}
				return t.flush()
			})
		},
	}
	tail.Flags().IntVarP(&n, "lines", "n", 20, "number of events, 1..10000")
	cmd := group("audit", "Read the audit log",
		"Read the server's audit log. For the account root and ADMIN users.",
		"  coffer audit tail -n 50", tail)
	x.connFlags(cmd, true)
	return cmd
}
