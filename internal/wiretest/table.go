package wiretest

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// Case is one request of an endpoint table and what must come back.
type Case[E any] struct {
	// Name starts with the expected status: "400/cas mismatch".
	Name   string
	Method string
	// Setup prepares the server's state before the request; nil shares
	// the table's shared server, if it has one.
	Setup func(e E)
	// Request builds the request once Setup has run; its Method is the
	// case's.
	Request func(e E) Request
	Status  int
	Err     string // the error the envelope must name when Status >= 400
	Golden  string // testdata/<Golden>.golden pins the answer
	Check   func(t *testing.T, e E, r *Response)
}

// Table runs cases against one surface; E is the surface's test server.
type Table[E any] struct {
	// New starts a server of the case's own.
	New func(t *testing.T) E
	// Shared, if not nil, returns the server the cases without a setup
	// share, bound to t; those cases must be GETs.
	Shared func(t *testing.T) E
	// Sequential runs the cases one after the other, in order, all on the
	// Shared server, which they may change (a case's Setup included).
	Sequential bool
	// Send sends a request built by a case's Request.
	Send func(t *testing.T, e E, rq Request) *Response
	// Expect checks the status and the surface's contract and envelope,
	// usually [Contract.Expect].
	Expect func(t *testing.T, r *Response, status int, err string)
	// Golden pins an answer in testdata/<name>.golden, normalised as the
	// surface needs.
	Golden func(t *testing.T, e E, name string, r *Response)
	// Snapshot renders everything a client can read; a refused write must
	// leave it unchanged. nil skips that check.
	Snapshot func(e E) string
}

// Run runs the cases in parallel, each as a subtest named after it, on a
// server of its own unless it shares the table's (or one after the other
// on the shared server, if Sequential). After a refused write
// (any method but GET answered with 400 or more), everything readable
// must be as it was before the request.
func (tb Table[E]) Run(t *testing.T, cases []Case[E]) {
	t.Helper()
	names := map[string]bool{}
	for _, tc := range cases {
		if names[tc.Name] {
			t.Fatalf("test bug: two cases are named %q", tc.Name)
		}
		names[tc.Name] = true
		if !strings.HasPrefix(tc.Name, fmt.Sprintf("%d/", tc.Status)) {
			t.Fatalf("test bug: case %q must start with its status %d", tc.Name, tc.Status)
		}
		shared := tb.Shared != nil && (tc.Setup == nil || tb.Sequential)
		if shared && !tb.Sequential && tc.Method != http.MethodGet {
			t.Fatalf("test bug: case %q would change the shared server", tc.Name)
		}
		t.Run(tc.Name, func(t *testing.T) {
			if !tb.Sequential {
				t.Parallel()
			}
			var e E
			if shared {
				e = tb.Shared(t)
			} else {
				e = tb.New(t)
			}
			if tc.Setup != nil {
				tc.Setup(e)
			}
			rq := tc.Request(e)
			rq.Method = tc.Method
			refusedWrite := tb.Snapshot != nil && rq.Method != http.MethodGet && tc.Status >= 400
			var before string
			if refusedWrite {
				before = tb.Snapshot(e)
			}
			r := tb.Send(t, e, rq)
			tb.Expect(t, r, tc.Status, tc.Err)
			if tc.Golden != "" {
				tb.Golden(t, e, tc.Golden, r)
			}
			if refusedWrite {
				if after := tb.Snapshot(e); after != before {
					t.Errorf("the refused request changed the stored state\nbefore: %s\nafter:  %s", before, after)
				}
			}
			if tc.Check != nil {
				tc.Check(t, e, r)
			}
		})
	}
}
