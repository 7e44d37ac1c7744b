package sys_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/server"
)

// The tests of this package drive the operator routes through a real
// server over HTTP: the service, the encryption layer and the stores are
// the real ones.

const rootToken = "sys-test-root-token"

// env is a running server and the tokens of its callers.
type env struct {
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
	cfg := server.Config{Dev: true, DevRootToken: rootToken, RootToken: rootToken,
		Logger: slog.New(slog.DiscardHandler), Out: io.Discard}
	if configure != nil {
		configure(&cfg)
	}
	srv, err := server.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(func() {
		ts.Close()
		srv.Service().Wait()
		if err := srv.Close(); err != nil {
			t.Errorf("server.Close: %v", err)
		}
	})
	e := &env{srv: srv, url: ts.URL}
	if !cfg.Dev {
		e.dir = cfg.DataDir
	}
	return e
}

// newKeyFileEnv starts a server whose root key is a file in a data
// directory of its own (the store is in memory).
func newKeyFileEnv(t *testing.T, configure func(*server.Config)) *env {
	t.Helper()
	return newEnv(t, func(c *server.Config) {
		c.Dev, c.Storage, c.DataDir = false, "memory", t.TempDir()
		if configure != nil {
			configure(c)
		}
	})
}

// withUsers creates an ADMIN user and a user of no group, with a token
// each.
func (e *env) withUsers(t *testing.T) *env {
	t.Helper()
	e.mustJSON(t, "POST", "/1.0/me/identity/group", `{"name":"ops","role":"ADMIN"}`)
	e.mustJSON(t, "POST", "/1.0/me/identity/user", `{"login":"ada","group":"ops"}`)
	e.mustJSON(t, "POST", "/1.0/me/identity/user", `{"login":"bob"}`)
	token := func(login string) string {
		var tok struct{ Token string }
		json.Unmarshal(e.mustJSON(t, "POST", "/1.0/me/identity/user/"+login+"/token", `{"name":"t"}`), &tok)
		return tok.Token
	}
	e.admin, e.user = token("ada"), token("bob")
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
	req, err := http.NewRequestWithContext(t.Context(), method, e.url+target, body)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read the answer: %v", method, target, err)
	}
	return reply{res.StatusCode, res.Header, b}
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

// run runs the cases in order (they may depend on one another).
func (e *env) run(t *testing.T, cases []apiCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = "POST"
			}
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
			}
			r := e.do(t, tc.token, method, tc.target, body, tc.header...)
			if r.status != tc.status {
				t.Fatalf("%s %s = %d %s, want %d", method, tc.target, r.status, r.body, tc.status)
			}
			if tc.status < 400 {
				return
			}
			checkError(t, r, tc.msg)
		})
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
