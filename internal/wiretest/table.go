package wiretest

import (
	"cmp"
	"fmt"
	"maps"
	"net/http"
	"strings"
	"testing"
)

// Case is one request of an endpoint table and what must come back.
type Case[E any] struct {
	// Name starts with the expected status: "400/cas mismatch".
	Name string
	// Setup prepares the server's state before the request; nil shares
	// the table's shared server, if it has one. Every call must succeed.
	Setup func(e E)

	// The request, as [Request] has it; Method and Target default to the
	// table's.
	Method  string
	Target  string
	Domain  string
	Token   string
	Header  map[string]string
	Body    string
	Chunked bool
	// TargetFn and HeaderFn give a target and headers known only once
	// Setup has run (an id, a cursor).
	TargetFn func(e E) string
	HeaderFn func(e E) map[string]string
	// Request, if not nil, builds the whole request instead.
	Request func(e E) Request

	Status int
	Err    string // the error the envelope must name when Status >= 400
	Golden string // testdata/<Golden>.golden pins the answer
	Check  func(t *testing.T, e E, r *Response)
}

// Table runs cases against one surface; E is the surface's test server.
// E sends with its method Send(Request) *Response (an embedded [Client]
// has it) unless Send is set; it pins golden files with its method
// Golden(t *testing.T, name string, r *Response); and if it has a method
// Snapshot() string rendering everything a client can read, a refused
// write must leave that unchanged.
type Table[E any] struct {
	Method string // the cases' default method
	Target string // the cases' default target
	// New starts a server of the case's own.
	New func(t *testing.T) E
	// Shared, if not nil, returns the server the cases without a setup
	// share, bound to t; those cases must be GETs.
	Shared func(t *testing.T) E
	// Sequential runs the cases one after the other, in order, all on the
	// Shared server, which they may change (a case's Setup included).
	Sequential bool
	// Send, if not nil, sends instead of E's Send method.
	Send func(t *testing.T, e E, rq Request) *Response
	// Expect checks the status and the surface's contract and envelope,
	// usually [Contract.Expect].
	Expect func(t *testing.T, r *Response, status int, err string)
}

type (
	sender    interface{ Send(Request) *Response }
	goldenPin interface {
		Golden(*testing.T, string, *Response)
	}
	snapshotter interface{ Snapshot() string }
)

// Run runs the cases in parallel, each as a subtest named after it, on a
// server of its own unless it shares the table's (or one after the other
// on the shared server, if Sequential). After a refused write (any method
// but GET answered with 400 or more), everything readable must be as it
// was before the request.
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
		tc.Method = cmp.Or(tc.Method, tb.Method)
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
			tb.run(t, e, tc)
		})
	}
}

// run sends a case's request on e and checks the answer.
func (tb Table[E]) run(t *testing.T, e E, tc Case[E]) {
	t.Helper()
	rq := tb.request(e, tc)
	snap, _ := any(e).(snapshotter)
	refusedWrite := snap != nil && rq.Method != http.MethodGet && tc.Status >= 400
	var before string
	if refusedWrite {
		before = snap.Snapshot()
	}
	var r *Response
	if tb.Send != nil {
		r = tb.Send(t, e, rq)
	} else {
		r = any(e).(sender).Send(rq)
	}
	tb.Expect(t, r, tc.Status, tc.Err)
	if tc.Golden != "" {
		any(e).(goldenPin).Golden(t, tc.Golden, r)
	}
	if refusedWrite {
		if after := snap.Snapshot(); after != before {
			t.Errorf("the refused request changed the stored state\nbefore: %s\nafter:  %s", before, after)
		}
	}
	if tc.Check != nil {
		tc.Check(t, e, r)
	}
}

// request builds a case's request once its setup has run.
func (tb Table[E]) request(e E, tc Case[E]) Request {
	var rq Request
	if tc.Request != nil {
		rq = tc.Request(e)
	} else {
		rq = Request{Target: cmp.Or(tc.Target, tb.Target), Domain: tc.Domain, Token: tc.Token,
			Header: maps.Clone(tc.Header), Body: tc.Body, Chunked: tc.Chunked}
		if tc.TargetFn != nil {
			rq.Target = tc.TargetFn(e)
		}
		if tc.HeaderFn != nil {
			if rq.Header == nil {
				rq.Header = map[string]string{}
			}
			maps.Copy(rq.Header, tc.HeaderFn(e))
		}
	}
	rq.Method = tc.Method
	return rq
}

// GoldenIf returns the golden name it is given when pin is true, "" when
// not: shared case lists pin their answers in one table only.
func GoldenIf(pin bool) func(name string) string {
	return func(name string) string {
		if pin {
			return name
		}
		return ""
	}
}
