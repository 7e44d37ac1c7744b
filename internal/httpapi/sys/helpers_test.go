package sys_test

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// The tests of this package drive the operator routes through a real
// server over HTTP: the service, the encryption layer and the stores are
// the real ones.

const rootToken = "sys-test-root-token"

// env is a running server and the tokens of its callers.
type env struct {
	te    *testenv.Env
	srv   *server.Server
	url   string
	dir   string // the data directory, "" in dev mode
	admin string // token of a user of an ADMIN group
	user  string // token of a user of no group
}

// newEnv starts a dev server (memory store, key in memory), changed by
// configure if not nil.
func newEnv(t *testing.T, configure func(*server.Config)) *env {
	t.Helper()
	opts := []testenv.Option{testenv.Configure(func(c *server.Config) { c.DevRootToken, c.RootToken = rootToken, rootToken })}
	if configure != nil {
		opts = append(opts, testenv.Configure(configure))
	}
	te := testenv.Start(t, opts...)
	return &env{te: te, srv: te.Server, url: te.URL}
}

// newKeyFileEnv starts a server whose root key is a file in a data
// directory of its own (the store is in memory).
func newKeyFileEnv(t *testing.T, configure func(*server.Config)) *env {
	t.Helper()
	dir := t.TempDir()
	e := newEnv(t, func(c *server.Config) {
		c.Dev, c.Storage, c.DataDir = false, "memory", dir
		if configure != nil {
			configure(c)
		}
	})
	e.dir = dir
	return e
}

// withUsers creates an ADMIN user and a user of no group, with a token
// each.
func (e *env) withUsers(t *testing.T) *env {
	t.Helper()
	e.te.Group(t, "ops", "ADMIN")
	e.admin, e.user = e.te.UserToken(t, "ada", "ops"), e.te.UserToken(t, "bob", "")
	return e
}

// reply is an answer.
type reply struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with token ("" for none); header holds name, value
// pairs.
func (e *env) do(t *testing.T, token, method, target string, body io.Reader, header ...string) reply {
	t.Helper()
	r := wiretest.Must(t, http.DefaultClient, e.request(t, token, method, target, body, header))
	return reply{r.Status, r.Header, r.Body}
}

// request is what do sends; it follows redirects, as http.DefaultClient
// does.
func (e *env) request(t *testing.T, token, method, target string, body io.Reader, header []string) wiretest.Request {
	t.Helper()
	rq := wiretest.Request{Method: method, URL: e.url + target, Header: map[string]string{}, FollowRedirects: true}
	if token != "" {
		rq.Header["Authorization"] = "Bearer " + token
	}
	for i := 0; i+1 < len(header); i += 2 {
		rq.Header[header[i]] = header[i+1]
	}
	if body != nil {
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		rq.Body = string(b)
	}
	return rq
}

// mustJSON sends a JSON body with the root token and wants a 200.
func (e *env) mustJSON(t *testing.T, method, target, body string) []byte {
	t.Helper()
	r := e.do(t, rootToken, method, target, strings.NewReader(body), "Content-Type", "application/json")
	if r.status != http.StatusOK {
		t.Fatalf("%s %s = %d %s", method, target, r.status, r.body)
	}
	return r.body
}

// apiCase is one request and the answer it must get: a status and, for
// an error, a message containing msg in the {"errors": [...]} envelope.
type apiCase struct {
	name   string
	token  string // "" for none
	method string
	target string
	body   string
	header []string
	status int
	msg    string
}

// run runs the cases in order on e (they may depend on one another).
func (e *env) run(t *testing.T, cases []apiCase) {
	t.Helper()
	table := wiretest.Table[*env]{
		Shared:     func(*testing.T) *env { return e },
		Sequential: true,
		Send: func(t *testing.T, e *env, rq wiretest.Request) *wiretest.Response {
			return wiretest.Must(t, http.DefaultClient, rq)
		},
		Expect: expect,
	}
	wc := make([]wiretest.Case[*env], len(cases))
	for i, tc := range cases {
		wc[i] = wiretest.Case[*env]{Name: tc.name, Method: cmp.Or(tc.method, "POST"), Status: tc.status, Err: tc.msg,
			Request: func(e *env) wiretest.Request {
				var body io.Reader
				if tc.body != "" {
					body = strings.NewReader(tc.body)
				}
				return e.request(t, tc.token, "", tc.target, body, tc.header)
			}}
	}
	table.Run(t, wc)
}

// expect checks an answer's status and, for an error, its envelope with
// a message containing msg.
func expect(t *testing.T, r *wiretest.Response, status int, msg string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d %s, want %d", r.Status, r.Body, status)
	}
	if status >= 400 {
		checkError(t, reply{r.Status, r.Header, r.Body}, msg)
	}
}

// checkError checks an error answer: JSON, the envelope with one message,
// which contains msg.
func checkError(t *testing.T, r reply, msg string) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
	var env struct {
		Errors []string `json:"errors"`
	}
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil || len(env.Errors) != 1 {
		t.Fatalf("body %s is not {\"errors\": [message]}: %v", r.body, err)
	}
	if !strings.Contains(env.Errors[0], msg) {
		t.Errorf("message %q, want it to contain %q", env.Errors[0], msg)
	}
}
