package e2e

import (
	"bytes"
	"context"
	"errors"
	mrand "math/rand/v2"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/client"
	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

func putSecret(ctx context.Context, c *client.Client, path, data string) error {
	_, err := c.CreateSecret(ctx, api.CreateSecretRequest{Path: path, Version: &api.VersionInput{Data: []byte(data)}})
	return err
}

func readSecret(ctx context.Context, c *client.Client, path string) (string, error) {
	v, err := c.GetSecret(ctx, path, client.GetSecretOptions{IncludeData: true})
	if err != nil {
		return "", err
	}
	if v.Version == nil {
		return "", errors.New("no version")
	}
	return string(v.Version.Data), nil
}

// Seals through the real binary (issue 19): several nodes on PostgreSQL
// unsealing on their own with no key file, and rekey, seal migration and
// root key rotation interrupted by kill -9 at random moments, after which
// the store must open with the old protection or the new one, never
// neither.

func sealClient(t *testing.T, p *proc, token string) *client.Client {
	t.Helper()
	opts := []client.Option{}
	if token != "" {
		opts = append(opts, client.WithToken(token))
	}
	c, err := client.New("http://"+p.addr, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// unsealAll submits keys until unsealed; it returns the final status.
func unsealAll(ctx context.Context, c *client.Client, keys []string) (*client.SealStatus, error) {
	st, err := c.SealStatus(ctx)
	for _, k := range keys {
		if err != nil || !st.Sealed {
			break
		}
		st, err = c.Unseal(ctx, k, false)
	}
	return st, err
}

// TestSealSeveralNodes: two nodes on one PostgreSQL schema with the shamir
// seal and no key file anywhere. One initialises; each unseals on its own;
// sealing one leaves the other serving; a third node started later needs
// nothing but the keys.
func TestSealSeveralNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs server processes")
	}
	pg := testenv.PGSchema(t)
	args := func() []string {
		return []string{"--storage", "postgres", "--pg-url", pg, "--data-dir", t.TempDir(), "--seal", "shamir"}
	}
	a, b := start(t, nil, args()...), start(t, nil, args()...)
	ctx := t.Context()
	ca, cb := sealClient(t, a, ""), sealClient(t, b, "")
	init, err := ca.Init(ctx, client.InitRequest{Shares: 3, Threshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	if st, err := cb.SealStatus(ctx); err != nil || !st.Initialized || !st.Sealed || st.T != 2 {
		t.Fatalf("node B after A's init: %+v %v", st, err)
	}
	if st, err := unsealAll(ctx, ca, init.Keys[:2]); err != nil || st.Sealed {
		t.Fatalf("unseal A: %+v %v", st, err)
	}
	if st, _ := cb.SealStatus(ctx); !st.Sealed {
		t.Fatal("unsealing A unsealed B")
	}
	ra := sealClient(t, a, init.RootToken)
	if err := putSecret(ctx, ra, "nodes/shared", `{"k":"written on A"}`); err != nil {
		t.Fatalf("write on A: %v", err)
	}
	if st, err := unsealAll(ctx, cb, init.KeysBase64[1:]); err != nil || st.Sealed {
		t.Fatalf("unseal B: %+v %v", st, err)
	}
	rb := sealClient(t, b, init.RootToken)
	if v, err := readSecret(ctx, rb, "nodes/shared"); err != nil || !strings.Contains(v, "written on A") {
		t.Fatalf("read on B: %q %v", v, err)
	}
	if err := ra.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := readSecret(ctx, rb, "nodes/shared"); err != nil {
		t.Fatalf("B after A sealed: %v", err)
	}
	if _, err := readSecret(ctx, ra, "nodes/shared"); err == nil {
		t.Fatal("A answers while sealed")
	}
	c := start(t, nil, args()...)
	cc := sealClient(t, c, "")
	if st, err := unsealAll(ctx, cc, []string{init.Keys[2], init.Keys[0]}); err != nil || st.Sealed {
		t.Fatalf("a new node with no key file: %+v %v", st, err)
	}
	if m, _ := filepath.Glob(filepath.Join(t.TempDir(), "..", "*", "root.key*")); len(m) > 0 {
		t.Fatalf("root key files: %v", m)
	}
	t.Logf("3 nodes on one PostgreSQL schema, shamir 2 of 3, no key file: each unsealed on its own; sealing one left the others serving")
}

// sealCrashState is what the test knows of the protection while the
// server may be killed: the keys of the current seal, and of a change
// started (whose commit may or may not have happened).
type sealCrashState struct {
	typ     string   // current seal type
	keys    []string // current keys (shares; the passphrase)
	pending []string // keys of a started change, nil if none
	pendTyp string
}

// TestSealCrash: kill -9 at a random moment while the server runs rekeys,
// seal migrations (shamir ↔ passphrase ↔ file) and root key rotations in
// a loop; after each kill the restarted server must unseal with the old
// keys or the new ones, and serve what was written.
//
//	go test ./e2e -run TestSealCrash -v                              # 10 cycles
//	COFFER_SEAL_CRASH_CYCLES=50 go test ./e2e -run TestSealCrash -v  # more
func TestSealCrash(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	cycles := envCount(t, "COFFER_SEAL_CRASH_CYCLES", 10)
	dir := t.TempDir()
	pass := "correct horse battery staple"
	p := start(t, nil, "--data-dir", dir, "--seal", "shamir")
	outcomes, ops := sealCrash{
		path: "crash/seal", maxDelay: 2500 * time.Millisecond,
		op: func(ctx context.Context, c *client.Client, s *sealCrashState, i int) error {
			return sealOp(ctx, c, s, pass, i)
		},
		restart: func() *proc { return start(t, nil, "--data-dir", dir) },
	}.run(t, p, cycles)
	t.Logf("T16/issue 19 seal crash: %d kill -9 during %d rekeys, seal migrations and root key rotations; reopened with %v; 0 stores that open with neither", cycles, ops, outcomes)
}

// sealCrash is a kill -9 loop: a server initialized with shamir 2 of 2
// that has path written runs op (the i-th operation) in a loop until it
// is killed at a random moment, at most maxDelay in; restarted, it must
// open with the old protection or the new one and serve path.
type sealCrash struct {
	path     string
	maxDelay time.Duration
	op       func(ctx context.Context, c *client.Client, s *sealCrashState, i int) error
	restart  func() *proc
	// selfUnseal: a server that restarts unsealed did it by itself
	// (a KMS seal), which the outcome says.
	selfUnseal bool
}

// run initializes p and runs cycles kills; it returns how the server
// reopened each time and how many operations succeeded.
func (sc sealCrash) run(t *testing.T, p *proc, cycles int) (map[string]int, int64) {
	ctx := t.Context()
	init, err := sealClient(t, p, "").Init(ctx, client.InitRequest{Shares: 2, Threshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	token := init.RootToken
	state := &sealCrashState{typ: "shamir", keys: init.Keys}
	if _, err := unsealAll(ctx, sealClient(t, p, ""), init.Keys); err != nil {
		t.Fatal(err)
	}
	if err := putSecret(ctx, sealClient(t, p, token), sc.path, `{"k":"before"}`); err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	var ops atomic.Int64
	var lastErr atomic.Value
	for cycle := range cycles {
		c := sealClient(t, p, token)
		done := make(chan struct{})
		stop := make(chan struct{})
		go func() {
			defer close(done)
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if err := sc.op(ctx, c, state, i); err != nil {
					if !errors.As(err, new(*client.TransportError)) {
						lastErr.Store(err.Error())
					}
					return // the server is gone
				}
				ops.Add(1)
			}
		}()
		time.Sleep(time.Duration(mrand.Int64N(int64(sc.maxDelay))))
		p.kill9(t)
		close(stop)
		<-done
		if e := lastErr.Load(); e != nil {
			t.Fatalf("cycle %d: an operation failed before the kill: %v", cycle, e)
		}

		p = sc.restart()
		c = sealClient(t, p, "")
		st, err := c.SealStatus(ctx)
		if err != nil {
			t.Fatalf("cycle %d: seal status: %v", cycle, err)
		}
		how, err := reopen(ctx, c, st, state)
		if err != nil {
			t.Fatalf("cycle %d: the store opens with neither the old nor the new protection (seal %s, state %+v): %v\n%s",
				cycle, st.Type, state, err, p.logs.String())
		}
		if sc.selfUnseal && !st.Sealed {
			how = st.Type + ", unsealed by itself at start"
		}
		outcomes[how]++
		if v, err := readSecret(ctx, sealClient(t, p, token), sc.path); err != nil || !strings.Contains(v, "before") {
			t.Fatalf("cycle %d: read after restart: %q %v", cycle, v, err)
		}
	}
	return outcomes, ops.Load()
}

// sealOp runs the i-th operation of the loop against the server, keeping
// state up to date with what the server answered.
func sealOp(ctx context.Context, c *client.Client, s *sealCrashState, pass string, i int) error {
	if i%3 == 2 {
		_, err := c.RotateMasterKey(ctx)
		return err
	}
	req := client.SealChangeRequest{Keys: s.keys}
	switch {
	case s.typ == "file":
		req.To, req.Shares, req.Threshold = "shamir", 2, 2
		req.Keys = nil
	case s.typ == "shamir" && i%2 == 0:
		req.Shares, req.Threshold = 2, 2 // rekey
	case s.typ == "shamir":
		req.To, req.Passphrase = "passphrase", pass
	default: // passphrase
		req.To = "file"
	}
	return changeSeal(ctx, c, s, req)
}

// changeSeal starts the change req and commits it, keeping s up to date:
// the change is pending between the two, current after the commit.
func changeSeal(ctx context.Context, c *client.Client, s *sealCrashState, req client.SealChangeRequest) error {
	ch, err := c.StartSealChange(ctx, req)
	if err != nil {
		return err
	}
	s.pendTyp, s.pending = ch.Type, ch.Keys
	if ch.Type == "passphrase" {
		s.pending = []string{req.Passphrase}
	}
	commit := client.SealCommitRequest{Nonce: ch.Nonce}
	if ch.T > 0 {
		commit.Keys = s.pending[:ch.T]
	}
	if _, err := c.CommitSealChange(ctx, commit); err != nil {
		return err
	}
	s.typ, s.keys, s.pending, s.pendTyp = s.pendTyp, s.pending, nil, ""
	return nil
}

// reopen unseals the restarted server with the keys of the protection its
// record names: the current ones, or those of the change in flight when it
// was killed. It says which.
func reopen(ctx context.Context, c *client.Client, st *client.SealStatus, s *sealCrashState) (string, error) {
	if !st.Sealed {
		// The file seal unsealed at start.
		if st.Type != s.typ && st.Type != s.pendTyp {
			return "", errors.New("unsealed under a seal nobody asked for: " + st.Type)
		}
		return adopt(s, st.Type, "file seal at start"), nil
	}
	for _, cand := range []struct {
		typ  string
		keys []string
		name string
	}{{s.typ, s.keys, "old"}, {s.pendTyp, s.pending, "new"}} {
		if cand.typ != st.Type || len(cand.keys) == 0 {
			continue
		}
		c.Unseal(ctx, "", true)
		if got, err := unsealAll(ctx, c, cand.keys); err == nil && !got.Sealed {
			return adopt(s, cand.typ, cand.name+" "+cand.typ+" keys"), nil
		}
	}
	return "", errors.New("no known keys unseal it")
}

// adopt makes the protection found current.
func adopt(s *sealCrashState, typ, how string) string {
	if typ == s.pendTyp && typ != s.typ || strings.HasPrefix(how, "new") {
		s.typ, s.keys = s.pendTyp, s.pending
	}
	s.pending, s.pendTyp = nil, ""
	return how
}

// TestSealedRoutes, T16's first part: while sealed, every route of every
// surface (the route templates of the hostile-request test, with each
// method) answers 503, except those that say how the server is: /healthz,
// Vault's sys/health, sys/seal-status, sys/leader and sys/init, /metrics
// and the documentation. The panel answers its unseal page (503).
func TestSealedRoutes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server")
	}
	l := startLive(t, liveOptions{config: func(c *server.Config) { c.Seal = "shamir" }})
	c := sealClient(t, &proc{addr: l.addr}, "")
	init, err := c.Init(t.Context(), client.InitRequest{Shares: 1, Threshold: 1})
	if err != nil {
		t.Fatal(err)
	}
	fill := strings.NewReplacer("{d}", "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f", "{p}", "app%2Fdb", "{n}", "1", "{u}", "alice",
		"{t}", "ci", "{g}", "ops", "{id}", "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f", "{c}", "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f",
		"{s}", "0123456789abcdef", "{k}", "0b7e2f3a-6c1d-4e53-8a7e-2f3b4c5d6e7f")
	open := map[string]bool{"/healthz": true, "/readyz": true, "/metrics": true, "/docs": true, "/docs/openapi.json": true,
		"/v1/sys/health": true, "/v1/sys/seal-status": true, "/v1/sys/leader": true}
	checked, outside := 0, 0
	for _, rt := range hostileRoutes {
		path := fill.Replace(rt.path)
		for _, method := range []string{"GET", "POST", "PUT", "DELETE", "LIST"} {
			for _, token := range []string{"", init.RootToken} {
				st, _, body := l.doToken(t, token, method, path, "")
				switch {
				case open[path] || path == "/" || path == "/app%2Fdb":
					outside++
				case st != 503 || !sealedBody(rt.surface, body):
					t.Errorf("sealed: %s %s (token %v) = %d %.120s, want 503 in the %s envelope", method, path, token != "", st, body, rt.surface)
				default:
					checked++
				}
			}
		}
	}
	if checked < 400 {
		t.Fatalf("only %d requests checked", checked)
	}
	t.Logf("T16 sealed: %d requests on %d routes × 5 methods × with and without a token answered 503 in their surface's envelope; %d on the status routes answered as they do unsealed",
		checked, len(hostileRoutes), outside)
}

// sealedBody reports whether body is a surface's "sealed" error.
func sealedBody(surface string, body []byte) bool {
	switch surface {
	case "C", "T": // the Vault surfaces: KV and Transit
		return bytes.Contains(body, []byte(`"errors":["Vault is sealed"]`))
	case "B":
		return bytes.Contains(body, []byte(`"error_id":"ServiceUnavailable"`))
	case "A", "iam":
		return bytes.Contains(body, []byte(`"class":"Server::ServiceUnavailable"`))
	case "oauth2":
		return bytes.Contains(body, []byte(`"error":"temporarily_unavailable"`))
	}
	return bytes.Contains(body, []byte("coffer is sealed"))
}
