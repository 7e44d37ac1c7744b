package wiretest

import (
	"cmp"
	"encoding/json"
	"net/http"
	"testing"
)

// Client sends the requests of one test to one surface of a server.
type Client struct {
	T          testing.TB
	HTTPClient *http.Client
	// Resolve completes a request before it goes out: its URL from its
	// Target and Domain, the surface's default headers from its Token and
	// Body.
	Resolve func(rq *Request)
	// Expect checks an answer against the surface's contract (usually
	// [Contract.Expect]); [Response.Expect] calls it.
	Expect func(t *testing.T, r *Response, status int, err string)
}

// Bind returns a copy of c that belongs to test t.
func (c *Client) Bind(t testing.TB) *Client {
	own := *c
	own.T = t
	return &own
}

// Try is [Client.Send] for goroutines other than the test's: it returns
// its error.
func (c *Client) Try(rq Request) (*Response, error) {
	c.Resolve(&rq)
	r, err := Do(c.T.Context(), c.HTTPClient, rq)
	if err != nil {
		return nil, err
	}
	r.expect = c.Expect
	return r, nil
}

// Send sends rq once resolved; it stops the test if that fails.
func (c *Client) Send(rq Request) *Response {
	c.T.Helper()
	r, err := c.Try(rq)
	if err != nil {
		c.T.Fatal(err)
	}
	return r
}

// Call sends a request with the default headers.
func (c *Client) Call(method, target, body string) *Response {
	c.T.Helper()
	return c.Send(Request{Method: method, Target: target, Body: body})
}

// Must sends a request with the default headers that has to succeed with
// a 2xx status; it stops the test otherwise.
func (c *Client) Must(method, target, body string) *Response {
	c.T.Helper()
	r := c.Call(method, target, body)
	if r.Status/100 != 2 {
		c.T.Fatalf("%s %s = %d %s, want a success", method, target, r.Status, r.Body)
	}
	return r
}

// DecodeBody decodes the JSON body of r into a T; it stops the test if it
// cannot.
func DecodeBody[T any](t testing.TB, r *Response) T {
	t.Helper()
	return Decode[T](t, r.Body)
}

// Bearer is a Resolve's usual default headers: Authorization: Bearer
// with rq.Token, or token if that is "" (none if it is [NoToken]), and
// Content-Type: application/json with a body.
func Bearer(rq *Request, token string) {
	rq.Default = map[string]string{}
	if tok := cmp.Or(rq.Token, token); tok != NoToken {
		rq.Default["Authorization"] = "Bearer " + tok
	}
	if rq.Body != "" {
		rq.Default["Content-Type"] = "application/json"
	}
}

// ListAll follows the pagination cursor of a listing to its end (cursor
// is the request header that carries it, next the answer's) and returns
// every item.
func (c *Client) ListAll(target, cursor, next string) []json.RawMessage {
	c.T.Helper()
	var all []json.RawMessage
	cur := ""
	for range 1000 {
		r := c.Send(Request{Method: http.MethodGet, Target: target, Header: map[string]string{cursor: cur}})
		if r.Status != http.StatusOK {
			c.T.Fatalf("GET %s (cursor %q) = %d %s", target, cur, r.Status, r.Body)
		}
		all = append(all, Decode[[]json.RawMessage](c.T, r.Body)...)
		if cur = r.Header.Get(next); cur == "" {
			return all
		}
	}
	c.T.Fatalf("GET %s: the cursor never ends", target)
	return nil
}

// ExpectStatus stops the test unless r has status; what names the request
// in the message, which shows the body.
func ExpectStatus(t testing.TB, what string, r *Response, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.Status, status, r.Body)
	}
}
