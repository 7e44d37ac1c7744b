package wiretest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
)

// Request is one HTTP request.
type Request struct {
	Method string
	URL    string // absolute; a [Client] builds it from Target
	// Target, Domain and Token are for a [Client]'s Resolve: the target
	// relative to the surface, the domain (okmsId) to address ("" the
	// server's) and the credential ("" the default one, [NoToken] none).
	Target string
	Domain string
	Token  string
	// Default and Header are the request headers, Header applied after
	// Default: a header whose value is "" is not sent, so Header removes
	// a default with an empty value.
	Default map[string]string
	Header  map[string]string
	Body    string
	Chunked bool // send the body without Content-Length
	// FollowRedirects follows redirects as a browser would; by default a
	// redirect is an answer of its own.
	FollowRedirects bool
}

// NoToken as Request.Token sends no credential.
const NoToken = "-"

// Response is what came back, the body read in full.
type Response struct {
	Status int
	Header http.Header
	Body   []byte

	expect func(t *testing.T, r *Response, status int, err string) // the Client's
}

// Expect checks the answer with the Expect of the [Client] that received
// it: its status and the surface's contract, its error envelope naming
// err when status is 400 or more.
func (r *Response) Expect(t *testing.T, status int, err string) {
	t.Helper()
	if r.expect == nil {
		t.Fatal("test bug: Expect on an answer no Client with an Expect received")
	}
	r.expect(t, r, status, err)
}

// Do sends rq with client (a copy of it: the client is not changed) and
// reads the answer in full. Its errors name the request.
func Do(ctx context.Context, client *http.Client, rq Request) (*Response, error) {
	var body io.Reader
	if rq.Body != "" {
		body = strings.NewReader(rq.Body)
		if rq.Chunked {
			body = io.MultiReader(body) // hides the length: chunked encoding
		}
	}
	req, err := http.NewRequestWithContext(ctx, rq.Method, rq.URL, body)
	if err != nil {
		return nil, fmt.Errorf("new request %s %s: %w", rq.Method, rq.URL, err)
	}
	for _, h := range []map[string]string{rq.Default, rq.Header} {
		for k, v := range h {
			if v == "" {
				req.Header.Del(k)
			} else {
				req.Header.Set(k, v)
			}
		}
	}
	c := *client
	if !rq.FollowRedirects {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	res, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", rq.Method, rq.URL, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, fmt.Errorf("%s %s: read body: %w", rq.Method, rq.URL, err)
	}
	return &Response{Status: res.StatusCode, Header: res.Header, Body: b}, nil
}

// Must is [Do] for the test's own goroutine: it stops the test on error.
func Must(t testing.TB, client *http.Client, rq Request) *Response {
	t.Helper()
	r, err := Do(t.Context(), client, rq)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// Decode decodes a JSON body into a T; it stops the test if it cannot.
func Decode[T any](t testing.TB, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, body, err)
	}
	return v
}

// NoMember fails if the JSON object body has member name at top level.
func NoMember(t testing.TB, body []byte, name string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not an object: %s", body)
	}
	if _, ok := m[name]; ok {
		t.Errorf("body has a %q member, want none: %s", name, body)
	}
}

// Get walks a decoded JSON value along keys ("data", "metadata", ...); it
// returns nil where a key is missing or a value is not an object.
func Get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
