package e2e

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// cluster starts n coffer processes on one PostgreSQL schema, sharing the
// root key of the first.
func cluster(t *testing.T, n int, token string) []*proc {
	t.Helper()
	pg := testenv.PGSchema(t)
	first := t.TempDir()
	env := []string{"COFFER_INIT_ROOT_TOKEN=" + token}
	nodes := []*proc{start(t, env, "--storage", "postgres", "--pg-url", pg, "--data-dir", first)}
	for range n - 1 {
		nodes = append(nodes, start(t, env, "--storage", "postgres", "--pg-url", pg,
			"--data-dir", t.TempDir(), "--root-key-file", filepath.Join(first, "root.key")))
	}
	return nodes
}

// TestSeveralNodes runs three server processes on one database: 32
// writers spread over them do read-then-CAS-write loops on shared secrets.
// The final versions equal the acknowledged writes (no lost update) and
// every node reads the same state; a policy made on one node applies on the
// others.
func TestSeveralNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three server processes")
	}
	const token = "cof_root_e2e-cluster"
	nodes := cluster(t, 3, token)
	domain := nodes[0].domainID(t, token)
	base := "/api/" + domain + "/v2/secret"
	const secrets, writers, each = 4, 32, 6
	for i := range secrets {
		body := fmt.Sprintf(`{"path":"shared/s%d","metadata":{"maxVersions":1000},"version":{"data":{"n":0}}}`, i)
		if st, b := nodes[i%3].do(t, token, "POST", base, body); st != 200 {
			t.Fatalf("create shared/s%d = %d %s", i, st, b)
		}
	}
	var (
		acked    [secrets]atomic.Int64
		conflict atomic.Int64
		wg       sync.WaitGroup
		mu       sync.Mutex
		ids      = map[string]bool{}
	)
	deadline := time.Now().Add(90 * time.Second)
	for w := range writers {
		wg.Go(func() {
			node, sec := nodes[w%3], w%secrets
			path := fmt.Sprintf("%s/shared%%2Fs%d", base, sec)
			for done := 0; done < each && time.Now().Before(deadline); {
				st, b := node.do(t, token, "GET", path, "")
				var cur struct{ Metadata struct{ CurrentVersion int } }
				if st != 200 || json.Unmarshal(b, &cur) != nil {
					t.Errorf("read on node %d = %d %s", w%3, st, b)
					return
				}
				v := cur.Metadata.CurrentVersion
				st, b = node.do(t, token, "POST", fmt.Sprintf("%s/version?cas=%d", path, v), fmt.Sprintf(`{"data":{"n":%d,"by":%d}}`, v, w))
				switch {
				case st == 400 && strings.Contains(string(b), "SecretCasMismatch"):
					conflict.Add(1)
				case st == 200:
					var ver struct{ ID int }
					json.Unmarshal(b, &ver)
					key := fmt.Sprintf("%d/%d", sec, ver.ID)
					mu.Lock()
					if ids[key] {
						t.Errorf("version %s acknowledged twice", key)
					}
					ids[key] = true
					mu.Unlock()
					acked[sec].Add(1)
					done++
				default:
					t.Errorf("CAS write on node %d = %d %s", w%3, st, b)
					return
				}
			}
		})
	}
	wg.Wait()
	var total int64
	for i := range secrets {
		total += acked[i].Load()
		want := 1 + acked[i].Load()
		for n, node := range nodes {
			st, b := node.do(t, token, "GET", fmt.Sprintf("%s/shared%%2Fs%d", base, i), "")
			var cur struct {
				Metadata struct{ CurrentVersion int64 }
			}
			if st != 200 || json.Unmarshal(b, &cur) != nil || cur.Metadata.CurrentVersion != want {
				t.Errorf("node %d reads shared/s%d at version %d (%d %s), want %d = 1 + acknowledged writes", n, i, cur.Metadata.CurrentVersion, st, b, want)
			}
		}
	}
	t.Logf("3 nodes, %d writers: %d acknowledged CAS writes, %d CAS conflicts retried, 0 lost", writers, total, conflict.Load())
	if total != writers*each {
		t.Errorf("%d writes acknowledged, want %d", total, writers*each)
	}

	// A policy made on node 0 applies on node 2 once it is notified.
	call := func(n int, method, path, body string) (int, []byte) { return nodes[n].do(t, token, method, path, body) }
	call(0, "POST", "/1.0/me/identity/user", `{"login":"reader"}`)
	_, b := call(0, "POST", "/1.0/me/identity/user/reader/token", `{"name":"t"}`)
	var pat struct{ Token string }
	json.Unmarshal(b, &pat)
	if st, b := nodes[2].do(t, pat.Token, "GET", base+"/shared%2Fs0", ""); st != 403 {
		t.Fatalf("before the policy, node 2 answers %d %s, want 403", st, b)
	}
	call(0, "POST", "/v2/iam/policy", `{"name":"r","identities":["urn:v1:eu:identity:user:coffer/reader"],"resources":[{"urn":"urn:v1:eu:resource:okms:`+domain+`"}],"permissions":{"allow":[{"action":"okms:apikms:secret/get"}]}}`)
	for start := time.Now(); ; {
		st, _ := nodes[2].do(t, pat.Token, "GET", base+"/shared%2Fs0", "")
		if st == 200 {
			t.Logf("policy applied on another node after %v", time.Since(start).Round(time.Millisecond))
			break
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("a policy made on node 0 never applied on node 2 (last status %d)", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestNodeKilledDuringWrites kills one of three nodes with SIGKILL while
// writers run on all of them: every acknowledged write is readable, with
// its exact value, from the surviving nodes.
func TestNodeKilledDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three server processes")
	}
	const token = "cof_root_e2e-kill"
	nodes := cluster(t, 3, token)
	domain := nodes[0].domainID(t, token)
	base := "/api/" + domain + "/v2/secret"
	type write struct {
		path string
		id   int
		val  string
	}
	var (
		mu    sync.Mutex
		acks  []write
		wg    sync.WaitGroup
		stop  atomic.Bool
		tried atomic.Int64
	)
	for w := range 12 {
		wg.Go(func() {
			node := nodes[w%3]
			for i := 0; !stop.Load() && i < 400; i++ {
				path := fmt.Sprintf("k/w%d", w)
				val := fmt.Sprintf("v-%d-%d", w, i)
				tried.Add(1)
				var st int
				var b []byte
				if i == 0 {
					st, b = node.tryDo(token, "POST", base, fmt.Sprintf(`{"path":%q,"metadata":{"maxVersions":1000},"version":{"data":{"v":%q}}}`, path, val))
				} else {
					st, b = node.tryDo(token, "POST", base+"/"+strings.ReplaceAll(path, "/", "%2F")+"/version", fmt.Sprintf(`{"data":{"v":%q}}`, val))
				}
				if st == 0 && w%3 == 2 {
					return // the killed node: its in-flight write is unacknowledged
				}
				if st != 200 {
					if i == 0 {
						return
					}
					continue
				}
				id := 1
				if i > 0 {
					var ver struct{ ID int }
					json.Unmarshal(b, &ver)
					id = ver.ID
				}
				mu.Lock()
				acks = append(acks, write{path, id, val})
				mu.Unlock()
			}
		})
	}
	time.Sleep(700 * time.Millisecond)
	nodes[2].kill9(t)
	time.Sleep(300 * time.Millisecond)
	stop.Store(true)
	wg.Wait()
	if len(acks) == 0 {
		t.Fatal("no write was acknowledged")
	}
	for _, a := range acks {
		for _, n := range nodes[:2] {
			st, b := n.do(t, token, "GET", fmt.Sprintf("%s/%s/version/%d?includeData=true", base, strings.ReplaceAll(a.path, "/", "%2F"), a.id), "")
			if st != 200 || !strings.Contains(string(b), `"v":"`+a.val+`"`) {
				t.Fatalf("acknowledged write %s v%d (%s) reads %d %s on a surviving node", a.path, a.id, a.val, st, b)
			}
		}
	}
	t.Logf("node 2 killed with SIGKILL during writes: %d writes tried, %d acknowledged, all readable on both survivors", tried.Load(), len(acks))
}

// TestReadAfterWriteAcrossNodes reads on node B right after each write
// acknowledged by node A, through both read routes that take the one-step
// read (KV2 data and surface B with its data): node B must return the
// version just written with its exact value, although it read the secret
// at the previous version a moment before (its read hint is stale every
// time). Deleting and destroying versions on A must show on B at once
// too, and a secret deleted and created again at the same path must never
// show its former data.
func TestReadAfterWriteAcrossNodes(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two server processes")
	}
	const token = "cof_root_e2e-raw"
	nodes := cluster(t, 2, token)
	domain := nodes[0].domainID(t, token)
	const rounds = 60
	type kv2Read struct {
		Data struct {
			Data     map[string]any
			Metadata struct {
				Version      int
				DeletionTime string `json:"deletion_time"`
				Destroyed    bool
			}
		}
	}
	readKV2 := func(n int, path string) (int, kv2Read) {
		st, b := nodes[n].do(t, token, "GET", "/v1/secret/data/"+path, "")
		var r kv2Read
		if st == 200 {
			if err := json.Unmarshal(b, &r); err != nil {
				t.Fatalf("node %d: %s: %v", n, b, err)
			}
		}
		return st, r
	}
	readB := func(n int, path string) (int, map[string]any, int) {
		st, b := nodes[n].do(t, token, "GET", "/api/"+domain+"/v2/secret/"+url.PathEscape(path)+"?includeData=true", "")
		var r struct {
			Metadata struct{ CurrentVersion int }
			Version  struct{ Data map[string]any }
		}
		if st == 200 {
			json.Unmarshal(b, &r)
		}
		return st, r.Version.Data, r.Metadata.CurrentVersion
	}
	for i := range rounds {
		a, bn := i%2, 1-i%2 // write on one node, read on the other; swap each round
		path := fmt.Sprintf("raw/s%d", i%3)
		val := fmt.Sprintf("v%d-%s", i, rand.Text()[:8])
		st, b := nodes[a].do(t, token, "POST", "/v1/secret/data/"+path, `{"data":{"v":"`+val+`"}}`)
		if st != 200 {
			t.Fatalf("round %d: write on node %d = %d %s", i, a, st, b)
		}
		var w struct{ Data struct{ Version int } }
		json.Unmarshal(b, &w)
		if st, r := readKV2(bn, path); st != 200 || r.Data.Metadata.Version != w.Data.Version || r.Data.Data["v"] != val {
			t.Fatalf("round %d: KV2 read on node %d right after version %d (%q) on node %d = %d, version %d, %v",
				i, bn, w.Data.Version, val, a, st, r.Data.Metadata.Version, r.Data.Data)
		}
		if st, data, cur := readB(bn, path); st != 200 || cur != w.Data.Version || data["v"] != val {
			t.Fatalf("round %d: surface-B read on node %d right after version %d on node %d = %d, version %d, %v", i, bn, w.Data.Version, a, st, cur, data)
		}
		switch i % 6 {
		case 3: // soft delete of the current version on A: B shows no data
			if st, b := nodes[a].do(t, token, "DELETE", "/v1/secret/data/"+path, ""); st != 204 {
				t.Fatalf("round %d: delete on node %d = %d %s", i, a, st, b)
			}
			if st, r := readKV2(bn, path); st != 404 || r.Data.Data != nil {
				t.Fatalf("round %d: KV2 read on node %d after a delete on node %d = %d, %v; want 404 without data", i, bn, a, st, r.Data.Data)
			}
		case 5: // the secret deleted and created again on A: B never shows former data
			if st, b := nodes[a].do(t, token, "DELETE", "/v1/secret/metadata/"+path, ""); st != 204 {
				t.Fatalf("round %d: metadata delete on node %d = %d %s", i, a, st, b)
			}
			if st, _ := readKV2(bn, path); st != 404 {
				t.Fatalf("round %d: KV2 read on node %d after the secret was deleted on node %d = %d, want 404", i, bn, a, st)
			}
			val = "again-" + rand.Text()[:8]
			if st, b := nodes[a].do(t, token, "POST", "/v1/secret/data/"+path, `{"data":{"v":"`+val+`"}}`); st != 200 {
				t.Fatalf("round %d: write on node %d = %d %s", i, a, st, b)
			}
			if st, r := readKV2(bn, path); st != 200 || r.Data.Metadata.Version != 1 || r.Data.Data["v"] != val {
				t.Fatalf("round %d: KV2 read on node %d of the secret created again = %d, version %d, %v; want version 1, %q",
					i, bn, st, r.Data.Metadata.Version, r.Data.Data, val)
			}
		}
	}
	t.Logf("%d writes, each read at once on the other node through KV2 and surface B: all current", rounds)
}
