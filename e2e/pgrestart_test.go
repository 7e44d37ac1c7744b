package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// TestCrashPostgresRestart is T3's PostgreSQL variant: two coffer nodes
// on a PostgreSQL cluster of the test's own, 8 writers on each, and the
// cluster restarted with `pg_ctl restart -m immediate` (every backend
// killed, recovery from the WAL) twice while they write. No acknowledged
// write may be lost, no request may be answered 500 (an unreachable
// database is 503 with Retry-After), and both nodes must serve again by
// themselves.
//
// It needs PostgreSQL's server binaries (/usr/lib/postgresql/*/bin) and,
// as root, the postgres user to run them as; it skips without them.
//
//	go test ./e2e -run TestCrashPostgresRestart -v
//	COFFER_PG_RESTARTS=10 go test ./e2e -run TestCrashPostgresRestart -v
func TestCrashPostgresRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a PostgreSQL cluster and two server processes")
	}
	restarts := envCount(t, "COFFER_PG_RESTARTS", 2)
	began := time.Now()
	pg := newCluster(t)
	setup := time.Since(began)

	const writersPerNode = 8
	env := []string{"COFFER_INIT_ROOT_TOKEN=" + crashToken}
	keyDir := t.TempDir()
	nodes := []*proc{start(t, env, "--storage", "postgres", "--pg-url", pg.url, "--data-dir", keyDir)}
	nodes = append(nodes, start(t, env, "--storage", "postgres", "--pg-url", pg.url, "--data-dir", t.TempDir(),
		"--root-key-file", filepath.Join(keyDir, "root.key")))
	domain := nodes[0].domainID(t, crashToken)
	base := func(p *proc) string { return "http://" + p.addr + "/api/" + domain + "/v2/secret" }

	ledger := &crashLedger{acked: map[string]map[uint32][]byte{}}
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		answers sync.Map // status code → *atomic.Int64
		lastOK  [2]atomic.Int64
	)
	count := func(status int) {
		v, _ := answers.LoadOrStore(status, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	for n, node := range nodes {
		for w := range writersPerNode {
			wg.Go(func() {
				restartWriter(base(node), n*writersPerNode+w, &stop, ledger, count, &lastOK[n])
			})
		}
	}
	// /readyz of each node, sampled.
	ready := make([][]int, len(nodes))
	var rwg sync.WaitGroup
	for n, node := range nodes {
		rwg.Go(func() {
			c := &http.Client{Timeout: 3 * time.Second}
			for !stop.Load() {
				st := 0
				if resp, err := c.Get("http://" + node.addr + "/readyz"); err == nil {
					st = resp.StatusCode
					resp.Body.Close()
				}
				ready[n] = append(ready[n], st)
				time.Sleep(50 * time.Millisecond)
			}
		})
	}

	var recovery []time.Duration
	for r := range restarts {
		time.Sleep(1500 * time.Millisecond)
		at := time.Now()
		pg.ctl(t, "restart", "-m", "immediate", "-w", "-t", "60", "-l", filepath.Join(pg.dir, "log"))
		upAt := time.Now()
		// Both nodes serve again by themselves: each acknowledges a write
		// made once the database is back.
		deadline := upAt.Add(60 * time.Second)
		for n := range nodes {
			for lastOK[n].Load() < upAt.UnixNano() {
				if time.Now().After(deadline) {
					t.Fatalf("restart %d: node %d acknowledged no write within 60s of the database's return", r+1, n)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}
		recovery = append(recovery, time.Since(at))
		t.Logf("restart %d: PostgreSQL accepting connections %v after the restart began, both nodes acknowledging writes again after %v",
			r+1, upAt.Sub(at).Round(time.Millisecond), time.Since(at).Round(time.Millisecond))
	}
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()
	rwg.Wait()

	// Every acknowledged write, byte for byte, read through each node.
	var lost, corrupted, present int
	for n, node := range nodes {
		v := verifyCrash(base(node), ledger, true)
		lost, corrupted, present = lost+v.lost, corrupted+v.corrupted, v.unackedPresent
		if v.lost+v.corrupted > 0 {
			t.Errorf("node %d: %d acknowledged writes lost, %d corrupted: %s", n, v.lost, v.corrupted, strings.Join(first(v.problems, 20), "; "))
		}
	}
	codes := map[int]int64{}
	answers.Range(func(k, v any) bool {
		codes[k.(int)] = v.(*atomic.Int64).Load()
		return true
	})
	var acked, unacked int
	for _, a := range ledger.attempts {
		if a.acked {
			acked++
		} else {
			unacked++
		}
	}
	if codes[500] > 0 {
		t.Errorf("%d writes answered 500 while PostgreSQL restarted: want 503", codes[500])
	}
	if len(ledger.odd) > 0 {
		t.Errorf("%d unexpected answers: %s", len(ledger.odd), strings.Join(first(ledger.odd, 10), "; "))
	}
	if ledger.reused > 0 {
		t.Errorf("%d version ids were handed out twice", ledger.reused)
	}
	for n, node := range nodes {
		if st, b := node.do(t, crashToken, "GET", "/readyz", ""); st != 200 {
			t.Errorf("node %d /readyz at the end = %d %s", n, st, b)
		}
	}
	notReady := 0
	for _, rs := range ready {
		for _, st := range rs {
			if st == http.StatusServiceUnavailable {
				notReady++
			}
		}
	}
	t.Logf("T3 PostgreSQL restarts: %d × pg_ctl restart -m immediate under 2 nodes × %d writers, %v (cluster set up in %v): "+
		"answers %v; acknowledged %d, lost %d, corrupted %d, reused ids %d; unacknowledged %d (present after all %d); recovery of both nodes %v; "+
		"/readyz samples answered 503: %d",
		restarts, writersPerNode, time.Since(began).Round(time.Second), setup.Round(time.Millisecond),
		sortedCodes(codes), acked, lost, corrupted, ledger.reused, unacked, present, roundAll(recovery), notReady)
}

// restartWriter writes versions of its secret crash/wNN through base
// until stop, and a new secret every eighth write. A 503 or no answer is
// an unacknowledged write (the database is away): it waits a moment and
// goes on; every answer's status is counted.
func restartWriter(base string, w int, stop *atomic.Bool, l *crashLedger, count func(int), lastOK *atomic.Int64) {
	path := fmt.Sprintf("crash/w%02d", w)
	send := func(url string, a *attempt, body []byte, create bool) int {
		st, resp, answered := crashPost(url, body)
		count(st)
		switch {
		case !answered || st == http.StatusServiceUnavailable:
			l.add(a)
			time.Sleep(100 * time.Millisecond)
		case st == http.StatusOK:
			var v struct{ ID uint32 }
			json.Unmarshal(resp, &v)
			a.acked, a.id = true, v.ID
			if create {
				a.id = 1
			}
			l.add(a)
			lastOK.Store(time.Now().UnixNano())
		case create && st == http.StatusConflict:
			// The secret exists: a create answered 503 had been applied.
		default:
			l.add(a)
			l.oddAnswer(fmt.Sprintf("%s: %d %s", url, st, resp))
		}
		return st
	}
	create := func(a *attempt) int {
		body, _ := json.Marshal(map[string]any{"path": a.path, "metadata": map[string]any{"maxVersions": 24000},
			"version": map[string]any{"data": json.RawMessage(a.value)}})
		return send(base, a, body, true)
	}
	created := false
	for seq := 0; !stop.Load(); seq++ {
		a := &attempt{path: path, value: crashValue(w, seq)}
		switch {
		case !created:
			st := create(a)
			created = st == http.StatusOK || st == http.StatusConflict
		case seq%8 == 7:
			a.path = fmt.Sprintf("%s/c%05d", path, seq)
			create(a)
		default:
			body, _ := json.Marshal(map[string]any{"data": json.RawMessage(a.value)})
			send(base+"/"+url.PathEscape(path)+"/version", a, body, false)
		}
	}
}

func sortedCodes(m map[int]int64) string {
	keys := make([]int, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	var b strings.Builder
	for _, k := range keys {
		name := strconv.Itoa(k)
		if k == 0 {
			name = "no answer"
		}
		fmt.Fprintf(&b, "%s: %d, ", name, m[k])
	}
	return strings.TrimSuffix(b.String(), ", ")
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(10 * time.Millisecond)
	}
	return out
}

// pgCluster is a PostgreSQL cluster of the test's own, stopped and
// removed when the test ends.
type pgCluster struct {
	bin, dir, url string
	asUser        []string // runuser -u postgres --, when running as root
}

// newCluster initialises a cluster in a temporary directory, starts it on
// a free port of 127.0.0.1 and creates the database coffer. It skips when
// the server binaries are missing or cannot run here.
func newCluster(t *testing.T) *pgCluster {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		t.Skip("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
	}
	sort.Slice(bins, func(i, j int) bool { // the newest version
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(bins[i]))))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(bins[j]))))
		return vi < vj
	})
	c := &pgCluster{bin: filepath.Dir(bins[len(bins)-1])}
	dir, err := os.MkdirTemp("", "coffer-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	c.dir = dir
	if os.Geteuid() == 0 {
		// initdb refuses to run as root.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Skip("running as root without a postgres user to run PostgreSQL as")
		}
		if _, err := exec.LookPath("runuser"); err != nil {
			t.Skip("running as root without runuser to run PostgreSQL as postgres")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Skipf("cannot give the cluster's directory to postgres: %v", err)
		}
		c.asUser = []string{"runuser", "-u", "postgres", "--"}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	data := filepath.Join(dir, "data")
	if out, err := c.run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"); err != nil {
		t.Skipf("initdb cannot run here: %v\n%s", err, out)
	}
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -c unix_socket_directories=%s -c max_connections=100", port, dir)
	if out, err := c.run("pg_ctl", "start", "-D", data, "-w", "-t", "60", "-l", filepath.Join(dir, "log"), "-o", opts); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "log"))
		t.Skipf("PostgreSQL does not start here: %v\n%s\n%s", err, out, log)
	}
	t.Cleanup(func() { c.run("pg_ctl", "stop", "-D", data, "-m", "immediate", "-w") })
	admin := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to the test's cluster: %v", err)
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE coffer")
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	c.url = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/coffer?sslmode=disable", port)
	return c
}

// run runs one of the cluster's binaries, as postgres when root.
func (c *pgCluster) run(name string, args ...string) ([]byte, error) {
	argv := append(append(append([]string{}, c.asUser...), filepath.Join(c.bin, name)), args...)
	var out bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Dir = c.dir
	// A server started without -l would keep the output open.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	return out.Bytes(), err
}

// ctl runs pg_ctl on the cluster.
func (c *pgCluster) ctl(t *testing.T, args ...string) {
	t.Helper()
	if out, err := c.run("pg_ctl", append(append([]string{}, args[0], "-D", filepath.Join(c.dir, "data")), args[1:]...)...); err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "log"))
		t.Fatalf("pg_ctl %s: %v\n%s\n%s", strings.Join(args, " "), err, out, log)
	}
}
