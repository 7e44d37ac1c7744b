package pgstore_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/pgstore"
	"github.com/seed-3e8d63de/coffer/internal/storage/storagetest"
)

// baseURL returns COFFER_TEST_PGURL, or skips the test without it.
func baseURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("COFFER_TEST_PGURL")
	if u == "" {
		tb.Skip("PostgreSQL tests need a database: COFFER_TEST_PGURL=postgres://postgres@127.0.0.1:5432/test?sslmode=disable go test ./internal/storage/pgstore")
	}
	return u
}

// withParam returns the connection string u with name=value added.
func withParam(tb testing.TB, u, name, value string) string {
	tb.Helper()
	if !strings.HasPrefix(u, "postgres://") && !strings.HasPrefix(u, "postgresql://") {
		return u + " " + name + "=" + value // key=value form
	}
	parsed, err := url.Parse(u)
	if err != nil {
		tb.Fatalf("COFFER_TEST_PGURL: %v", err)
	}
	q := parsed.Query()
	q.Set(name, value)
	parsed.RawQuery = q.Encode()
	return parsed.String()
}

// admin runs sql on the test database outside any store.
func admin(tb testing.TB, sql string, args ...any) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, baseURL(tb))
	if err != nil {
		tb.Fatalf("connect to COFFER_TEST_PGURL: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql, args...); err != nil {
		tb.Fatalf("%s: %v", sql, err)
	}
}

// schemaURL creates an empty schema of the test's own, dropped when the
// test ends, and returns a URL whose search_path selects it, so that tests
// run in parallel on one database.
func schemaURL(tb testing.TB) (u, schema string) {
	tb.Helper()
	base := baseURL(tb)
	schema = "coffer_test_" + rand.Text()[:16]
	schema = strings.ToLower(schema)
	ident := pgx.Identifier{schema}.Sanitize()
	admin(tb, "CREATE SCHEMA "+ident)
	tb.Cleanup(func() { admin(tb, "DROP SCHEMA "+ident+" CASCADE") })
	return withParam(tb, base, "search_path", schema), schema
}

// open opens a Store on a fresh schema and closes it when the test ends.
func open(tb testing.TB, opts pgstore.Options) *pgstore.Store {
	tb.Helper()
	u, _ := schemaURL(tb)
	return openURL(tb, u, opts)
}

func openURL(tb testing.TB, u string, opts pgstore.Options) *pgstore.Store {
	tb.Helper()
	s, err := pgstore.Open(context.Background(), u, opts)
	if err != nil {
		tb.Fatalf("Open() = %v, want nil", err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()
	baseURL(t)
	storagetest.Run(t, func(t *testing.T) storage.Backend {
		return open(t, pgstore.Options{})
	})
}

// Several stores on one schema stand in for several coffer nodes: the
// conformance suite's concurrency rules must hold across them too.
func TestStore_acrossPools(t *testing.T) {
	t.Parallel()
	u, _ := schemaURL(t)
	stores := []*pgstore.Store{
		openURL(t, u, pgstore.Options{MaxConns: 4}),
		openURL(t, u, pgstore.Options{MaxConns: 4}),
		openURL(t, u, pgstore.Options{MaxConns: 4}),
	}
	const workers, increments = 24, 10
	var wg sync.WaitGroup
	for i := range workers {
		s := stores[i%len(stores)]
		wg.Go(func() {
			for range increments {
				err := s.Update(t.Context(), func(tx storage.Tx) error {
					n := 0
					v, err := tx.Get("counter")
					switch {
					case err == nil:
						if n, err = strconv.Atoi(string(v)); err != nil {
							return err
						}
					case !errors.Is(err, storage.ErrNotFound):
						return err
					}
					return tx.Put("counter", []byte(strconv.Itoa(n+1)))
				})
				if err != nil {
					t.Errorf("Update(increment) = %v, want nil", err)
					return
				}
			}
		})
	}
	wg.Wait()
	for i, s := range stores {
		err := s.View(t.Context(), func(tx storage.Tx) error {
			v, err := tx.Get("counter")
			if err != nil || string(v) != strconv.Itoa(workers*increments) {
				t.Errorf("store %d: Get(counter) = %q, %v; want %d", i, v, err, workers*increments)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("View() = %v", err)
		}
	}
}

// schemaVersions returns the versions recorded in schema's schema_version.
func schemaVersions(t *testing.T, schema string) []int {
	t.Helper()
	ctx := t.Context()
	conn, err := pgx.Connect(ctx, baseURL(t))
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	rows, err := conn.Query(ctx, "SELECT version FROM "+pgx.Identifier{schema, "schema_version"}.Sanitize()+" ORDER BY version")
	if err != nil {
		t.Fatalf("read schema_version: %v", err)
	}
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int])
	if err != nil {
		t.Fatalf("read schema_version: %v", err)
	}
	return versions
}

func wantVersions(t *testing.T, schema string) {
	t.Helper()
	got := schemaVersions(t, schema)
	if len(got) != pgstore.SchemaVersion || got[len(got)-1] != pgstore.SchemaVersion {
		t.Errorf("schema_version holds %v, want 1..%d once each", got, pgstore.SchemaVersion)
	}
}

func TestOpen_migrationIdempotent(t *testing.T) {
	t.Parallel()
	u, schema := schemaURL(t)
	first := openURL(t, u, pgstore.Options{})
	err := first.Update(t.Context(), func(tx storage.Tx) error { return tx.Put("kept", []byte("v")) })
	if err != nil {
		t.Fatalf("Update() = %v", err)
	}
	first.Close()
	for range 2 {
		s := openURL(t, u, pgstore.Options{})
		err := s.View(t.Context(), func(tx storage.Tx) error {
			v, err := tx.Get("kept")
			if err != nil || string(v) != "v" {
				t.Errorf("Get(kept) after reopening = %q, %v; want v", v, err)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("View() = %v", err)
		}
		s.Close()
	}
	wantVersions(t, schema)
}

func TestOpen_concurrentMigration(t *testing.T) {
	t.Parallel()
	u, schema := schemaURL(t)
	const nodes = 5
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range nodes {
		wg.Go(func() {
			<-start
			s, err := pgstore.Open(t.Context(), u, pgstore.Options{MaxConns: 2})
			if err == nil {
				err = s.Update(t.Context(), func(tx storage.Tx) error { return tx.Put("node/"+strconv.Itoa(i), nil) })
				s.Close()
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Open/Update of node %d of %d starting at once = %v, want nil", i, nodes, err)
		}
	}
	wantVersions(t, schema)
}

func TestOpen_newerSchemaRefused(t *testing.T) {
	t.Parallel()
	u, schema := schemaURL(t)
	openURL(t, u, pgstore.Options{}).Close()
	newer := pgstore.SchemaVersion + 1
	admin(t, "INSERT INTO "+pgx.Identifier{schema, "schema_version"}.Sanitize()+" (version) VALUES ($1)", newer)

	s, err := pgstore.Open(t.Context(), u, pgstore.Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open() of a schema newer than the binary = nil error, want ErrSchemaTooNew")
	}
	if !errors.Is(err, pgstore.ErrSchemaTooNew) {
		t.Errorf("Open() = %v, want an error wrapping ErrSchemaTooNew", err)
	}
	for _, want := range []string{"version " + strconv.Itoa(newer), "up to " + strconv.Itoa(pgstore.SchemaVersion)} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Open() error %q does not say %q", err, want)
		}
	}
}

func TestOpen_missingSchema(t *testing.T) {
	t.Parallel()
	u := withParam(t, baseURL(t), "search_path", "coffer_no_such_schema")
	s, err := pgstore.Open(t.Context(), u, pgstore.Options{})
	if err == nil {
		s.Close()
		t.Fatal("Open() with a search_path naming no schema = nil error, want an error")
	}
	if !strings.Contains(err.Error(), "search_path") {
		t.Errorf("Open() error %q should point at the search_path", err)
	}
}

func TestOpen_badURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
	}{
		{"not a URL", "postgres://user:s3cret-pw@host:notaport/db"},
		{"unknown sslmode", "postgres://user:s3cret-pw@127.0.0.1:5432/db?sslmode=sometimes"},
		{"bad key=value", "host=127.0.0.1 port=notaport password=s3cret-pw"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			s, err := pgstore.Open(t.Context(), tc.url, pgstore.Options{})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) = nil error, want an error", tc.name)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("Open(%s) took %v, want an immediate error", tc.name, d)
			}
			msg := err.Error()
			if !strings.Contains(msg, "invalid PostgreSQL URL") {
				t.Errorf("Open(%s) error %q should say the URL is invalid", tc.name, msg)
			}
			if strings.Contains(msg, "s3cret-pw") {
				t.Errorf("Open(%s) error %q reveals the password", tc.name, msg)
			}
		})
	}
}

func TestOpen_unreachable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		url  string
	}{
		// Port 1 on loopback refuses at once.
		{"refused", "postgres://postgres:s3cret-pw@127.0.0.1:1/test?sslmode=disable"},
		// A TEST-NET-1 address (RFC 5737) drops packets: only the connect
		// timeout ends the wait.
		{"black hole", "postgres://postgres:s3cret-pw@192.0.2.1:5432/test?sslmode=disable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const timeout = 500 * time.Millisecond
			start := time.Now()
			s, err := pgstore.Open(t.Context(), tc.url, pgstore.Options{ConnectTimeout: timeout})
			if err == nil {
				s.Close()
				t.Fatalf("Open(%s) = nil error, want an error", tc.name)
			}
			if d := time.Since(start); d > 4*timeout {
				t.Errorf("Open(%s) took %v with ConnectTimeout %v, want it to fail fast", tc.name, d, timeout)
			}
			msg := err.Error()
			if !strings.Contains(msg, "cannot connect to PostgreSQL") {
				t.Errorf("Open(%s) error %q should say it cannot connect", tc.name, msg)
			}
			if strings.Contains(msg, "s3cret-pw") {
				t.Errorf("Open(%s) error %q reveals the password", tc.name, msg)
			}
		})
	}
}

// terminate ends the server side of every connection of the named
// application, as a database restart or a network cut would.
func terminate(t *testing.T, app string) (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, baseURL(t))
	if err != nil {
		return 0, err
	}
	defer conn.Close(ctx)
	var n int
	err = conn.QueryRow(ctx, "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n)
	return n, err
}

// A connection lost in the middle of an Update, before its COMMIT, keeps
// nothing of that attempt: the Update runs again on a new connection, and
// fails with a clear error if the connection keeps dying. The store works
// again once the database answers.
// GetMany changes nothing, so a statement lost with its pooled connection
// (the database restarted, the backend was terminated) is sent again on a
// new connection instead of failing the read.
func TestGetMany_lostConnection(t *testing.T) {
	t.Parallel()
	u, _ := schemaURL(t)
	app := "coffer-test-" + strings.ToLower(rand.Text()[:10])
	s := openURL(t, withParam(t, u, "application_name", app), pgstore.Options{MaxConns: 1})
	if err := s.Update(t.Context(), func(tx storage.Tx) error { return tx.Put("k", []byte("v")) }); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if n, err := terminate(t, app); err != nil || n == 0 {
			t.Fatalf("terminating the store's connection: %d terminated, %v", n, err)
		}
		vals, err := s.GetMany(t.Context(), []string{"k"})
		if err != nil || string(vals[0]) != "v" {
			t.Fatalf("GetMany() after the connection was terminated (%d) = %q, %v; want \"v\", nil", i, vals, err)
		}
	}
}

func TestUpdate_lostConnection(t *testing.T) {
	t.Parallel()
	u, _ := schemaURL(t)
	app := "coffer-test-" + strings.ToLower(rand.Text()[:10])
	s := openURL(t, withParam(t, u, "application_name", app), pgstore.Options{})

	// fn kills its own connection on the first `kills` runs.
	update := func(key string, kills int) (runs int, err error) {
		err = s.Update(t.Context(), func(tx storage.Tx) error {
			runs++
			if err := tx.Put(key+"/1", []byte("1")); err != nil {
				return err
			}
			// The Get sends the BEGIN and the queued Put: the transaction
			// is open on the server when its connection dies.
			if _, err := tx.Get(key + "/1"); err != nil {
				return err
			}
			if runs <= kills {
				if n, err := terminate(t, app); err != nil || n == 0 {
					return fmt.Errorf("terminating the store's connections: %d terminated, %w", n, err)
				}
			}
			return tx.Put(key+"/2", []byte("2"))
		})
		return runs, err
	}

	runs, err := update("once", 1)
	if err != nil || runs != 2 {
		t.Errorf("Update() losing its connection once = %v after %d runs of fn, want nil after 2", err, runs)
	}
	runs, err = update("always", 100)
	if err == nil {
		t.Fatalf("Update() losing its connection on every run = nil error after %d runs, want an error", runs)
	}
	if runs > 5 {
		t.Errorf("Update() losing its connection on every run ran fn %d times, want a few at most", runs)
	}
	t.Logf("Update() losing its connection on every run: %v", err)

	// The pool replaces the dead connections.
	if err := s.Update(t.Context(), func(tx storage.Tx) error { return tx.Put("after", []byte("3")) }); err != nil {
		t.Fatalf("Update() after lost connections = %v, want nil", err)
	}
	err = s.View(t.Context(), func(tx storage.Tx) error {
		keys, err := tx.List("", "", 0)
		if err != nil {
			return err
		}
		if want := "[after once/1 once/2]"; fmt.Sprint(keys) != want {
			t.Errorf("List() = %q, want %s: nothing of the failed Update", keys, want)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View() = %v", err)
	}
}

// cutProxy forwards TCP connections to PostgreSQL and, once armed, drops
// the next answer of the server and closes both sides: the server has done
// the work, the client never hears of it.
type cutProxy struct {
	ln     net.Listener
	target string
	armed  atomic.Bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln, target: target}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.handle(c)
		}
	}()
	return p
}

func (p *cutProxy) handle(client net.Conn) {
	defer client.Close()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	go func() {
		_, _ = io.Copy(server, client)
		server.Close()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := server.Read(buf)
		if n > 0 {
			if p.armed.CompareAndSwap(true, false) {
				return
			}
			if _, werr := client.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// When the connection breaks after the COMMIT was sent, the outcome is
// unknown: Update must report an error and must not run fn again, which
// would apply the transaction a second time.
func TestUpdate_lostCommitNotRetried(t *testing.T) {
	t.Parallel()
	u, _ := schemaURL(t)
	parsed, err := url.Parse(u)
	if err != nil {
		t.Skipf("COFFER_TEST_PGURL is not a URL (%v); the proxy needs host:port", err)
	}
	proxy := newCutProxy(t, parsed.Host)
	parsed.Host = proxy.ln.Addr().String()
	s := openURL(t, parsed.String(), pgstore.Options{MaxConns: 1})

	increment := func(arm bool) (runs int, err error) {
		err = s.Update(t.Context(), func(tx storage.Tx) error {
			runs++
			n := 0
			if v, err := tx.Get("counter"); err == nil {
				n, _ = strconv.Atoi(string(v))
			} else if !errors.Is(err, storage.ErrNotFound) {
				return err
			}
			if err := tx.Put("counter", []byte(strconv.Itoa(n+1))); err != nil {
				return err
			}
			// The Put and the COMMIT leave together when fn returns; the
			// proxy swallows the answer.
			proxy.armed.Store(arm)
			return nil
		})
		return runs, err
	}
	// Twice unarmed, so that the connection has prepared every statement
	// and the commit is a single round trip.
	for range 2 {
		if _, err := increment(false); err != nil {
			t.Fatalf("Update(increment) through the proxy = %v, want nil", err)
		}
	}
	runs, err := increment(true)
	if err == nil {
		t.Fatal("Update() whose COMMIT answer was lost = nil error, want an error")
	}
	if runs != 1 {
		t.Errorf("Update() whose COMMIT answer was lost ran fn %d times, want 1: the transaction may have committed", runs)
	}
	t.Logf("Update() whose COMMIT answer was lost: %v", err)

	// The server did commit; a new connection sees it, applied once.
	if _, err := increment(false); err != nil {
		t.Fatalf("Update() after the lost commit = %v, want nil", err)
	}
	err = s.View(t.Context(), func(tx storage.Tx) error {
		v, err := tx.Get("counter")
		if err != nil || string(v) != "4" {
			t.Errorf("counter after 4 increments, one with its COMMIT answer lost = %q, %v; want 4", v, err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("View() = %v", err)
	}
}

// Cancelling the context while fn runs fails the Update with
// context.Canceled and keeps nothing, even if fn ignores the error.
func TestUpdate_canceledMidway(t *testing.T) {
	t.Parallel()
	s := open(t, pgstore.Options{})
	for _, swallow := range []bool{false, true} {
		t.Run("swallow="+strconv.FormatBool(swallow), func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			err := s.Update(ctx, func(tx storage.Tx) error {
				if err := tx.Put("k", []byte("v")); err != nil {
					return err
				}
				if _, err := tx.Get("k"); err != nil {
					return err
				}
				cancel()
				_, err := tx.Get("other")
				if swallow {
					return nil
				}
				return err
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Update() cancelled midway = %v, want an error wrapping context.Canceled", err)
			}
			err = s.View(t.Context(), func(tx storage.Tx) error {
				_, err := tx.Get("k")
				if !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("Get(k) after a cancelled Update = %v, want ErrNotFound", err)
				}
				return nil
			})
			if err != nil {
				t.Fatalf("View() = %v", err)
			}
		})
	}
}

// With a single attempt, conflicting Updates fail with the conflict rather
// than losing an update.
func TestUpdate_maxAttempts(t *testing.T) {
	t.Parallel()
	s := open(t, pgstore.Options{MaxAttempts: 1})
	release := make(chan struct{})
	var wg, read sync.WaitGroup
	var ok, failed atomic.Int32
	read.Add(8)
	for range 8 {
		wg.Go(func() {
			err := s.Update(t.Context(), func(tx storage.Tx) error {
				_, err := tx.Get("k")
				read.Done()
				if err != nil && !errors.Is(err, storage.ErrNotFound) {
					return err
				}
				<-release
				return tx.Put("k", []byte("v"))
			})
			switch {
			case err == nil:
				ok.Add(1)
			case strings.Contains(err.Error(), "gave up after 1 attempts"):
				failed.Add(1)
			default:
				t.Errorf("Update() = %v, want nil or a conflict", err)
			}
		})
	}
	read.Wait() // every Update has seen "k" absent
	close(release)
	wg.Wait()
	if ok.Load() != 1 || failed.Load() != 7 {
		t.Errorf("8 create-if-absent Updates with MaxAttempts 1: %d committed, %d gave up; want 1 and 7", ok.Load(), failed.Load())
	}
}

// Keys PostgreSQL cannot hold are refused by Put and absent everywhere.
func TestTx_invalidKeys(t *testing.T) {
	t.Parallel()
	s := open(t, pgstore.Options{})
	for _, key := range []string{"nul\x00byte", "bad\xffutf8"} {
		err := s.Update(t.Context(), func(tx storage.Tx) error { return tx.Put(key, []byte("v")) })
		if !errors.Is(err, pgstore.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", key, err)
		}
		err = s.View(t.Context(), func(tx storage.Tx) error {
			if _, err := tx.Get(key); !errors.Is(err, storage.ErrNotFound) {
				t.Errorf("Get(%q) = %v, want ErrNotFound", key, err)
			}
			if keys, err := tx.List(key, "", 0); err != nil || len(keys) != 0 {
				t.Errorf("List(%q) = %q, %v; want nothing", key, keys, err)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("View() = %v", err)
		}
		if vals, err := s.GetMany(t.Context(), []string{key, "other"}); err != nil || vals[0] != nil || vals[1] != nil {
			t.Errorf("GetMany(%q) = %q, %v; want both absent", key, vals, err)
		}
	}
}

// List's prefix bound must hold at the edges of UTF-8: the last one-byte
// rune, the last rune before the surrogates, and U+10FFFF itself.
func TestTx_listPrefixEdges(t *testing.T) {
	t.Parallel()
	s := open(t, pgstore.Options{})
	keys := []string{
		"a", "a\u007f", "a\u007fz", "a\u0080",
		"b\ud7ff", "b\ud7ffz", "b\ue000",
		"c\U0010ffff", "c\U0010ffffz", "c\U0010ffff\U0010ffff", "d",
		"\U0010ffff", "\U0010ffffa",
	}
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		for _, k := range keys {
			if err := tx.Put(k, []byte(k)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update() = %v", err)
	}
	tests := []struct {
		prefix, after string
		want          []string
	}{
		{"a\u007f", "", []string{"a\u007f", "a\u007fz"}},
		{"b\ud7ff", "", []string{"b\ud7ff", "b\ud7ffz"}},
		{"c\U0010ffff", "", []string{"c\U0010ffff", "c\U0010ffffz", "c\U0010ffff\U0010ffff"}},
		{"c\U0010ffff", "c\U0010ffff", []string{"c\U0010ffffz", "c\U0010ffff\U0010ffff"}},
		{"\U0010ffff", "", []string{"\U0010ffff", "\U0010ffffa"}},
		{"a", "a\u007f\x00", []string{"a\u007fz", "a\u0080"}},
	}
	for _, tc := range tests {
		err := s.View(t.Context(), func(tx storage.Tx) error {
			got, err := tx.List(tc.prefix, tc.after, 0)
			if err != nil || fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tc.want) {
				t.Errorf("List(%q, %q, 0) = %q, %v; want %q", tc.prefix, tc.after, got, err, tc.want)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("View() = %v", err)
		}
	}
}

// BenchmarkView measures concurrent reads of a 1 KiB value among 1,000 keys.
func BenchmarkView(b *testing.B) { storagetest.BenchView(b, open(b, pgstore.Options{})) }

// BenchmarkUpdate measures the latency of one writer alone.
func BenchmarkUpdate(b *testing.B) { storagetest.BenchUpdate(b, open(b, pgstore.Options{})) }

// BenchmarkUpdateParallel measures concurrent writes of 1 KiB values under
// distinct keys.
func BenchmarkUpdateParallel(b *testing.B) {
	storagetest.BenchUpdateParallel(b, open(b, pgstore.Options{}))
}

// BenchmarkUpdateReadModifyWrite measures the service's usual Update shape,
// a locking read then a write of the same key, by concurrent writers over
// 1,000 existing keys. attempts/op counts the runs of fn per Update: the
// retries that SERIALIZABLE's conflict detection costs.
func BenchmarkUpdateReadModifyWrite(b *testing.B) {
	const keys = 1000
	s := open(b, pgstore.Options{})
	value := make([]byte, 1024)
	storagetest.Populate(b, s, keys, value)
	var next, attempts atomic.Int64
	b.SetBytes(int64(len(value)))
	b.SetParallelism(storagetest.BenchGoroutinesPerCPU)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			key := "bench/" + strconv.FormatInt(next.Add(1)%keys, 10)
			err := s.Update(b.Context(), func(tx storage.Tx) error {
				attempts.Add(1)
				if _, err := tx.Get(key); err != nil {
					return err
				}
				return tx.Put(key, value)
			})
			if err != nil {
				b.Errorf("Update() = %v, want nil", err)
				return
			}
		}
	})
	b.ReportMetric(float64(attempts.Load())/float64(b.N), "attempts/op")
}
