package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// No lost updates under CAS, reliability-security.md T1: concurrent
// clients increment one counter with read-then-CAS-write loops, half
// through surface B (PUT ?cas=), half through surface C (options.cas). The
// final counter must be exact and the version ids returned by successful
// writes exactly {2, …, N+1}. The sizes fit CI under -race; the figure of
// the specification is
//
//	COFFER_CAS_CLIENTS=32 COFFER_CAS_INCREMENTS=250 go test ./e2e -run TestCASCounter -v

func casSize(t *testing.T) (clients, increments int) {
	clients, increments = 16, 60
	for _, v := range []struct {
		name string
		p    *int
	}{{"COFFER_CAS_CLIENTS", &clients}, {"COFFER_CAS_INCREMENTS", &increments}} {
		if s := os.Getenv(v.name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				t.Fatalf("%s=%q: want a positive integer", v.name, s)
			}
			*v.p = n
		}
	}
	return clients, increments
}

func TestCASCounterBolt(t *testing.T) {
	if testing.Short() {
		t.Skip("thousands of writes")
	}
	runCASCounter(t, startLive(t, liveOptions{}))
}

func TestCASCounterPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("thousands of writes")
	}
	runCASCounter(t, startLive(t, liveOptions{pgURL: testenv.PGSchema(t)}))
}

// casClient reads the counter and writes counter+1 with cas = the version
// read, through one surface.
type casClient interface {
	read(t *testing.T) (counter int, version uint32)
	// write returns the new version id, or ok false on a CAS mismatch.
	write(t *testing.T, counter int, cas uint32) (version uint32, ok bool)
}

func runCASCounter(t *testing.T, l *live) {
	clients, increments := casSize(t)
	const path = "cas/counter"
	b := &casB{l: l, path: path}
	if st, _, body := l.do(t, "POST", "/api/"+l.domain+"/v2/secret", `{"path":"`+path+`","version":{"data":{"counter":0}}}`); st != 200 {
		t.Fatalf("create the counter = %d %s", st, body)
	}
	var (
		mu        sync.Mutex
		ids       []uint32
		conflicts atomic.Int64
		wg        sync.WaitGroup
	)
	began := time.Now()
	for i := range clients {
		var c casClient = b
		if i%2 == 1 {
			c = &casC{l: l, path: path}
		}
		wg.Go(func() {
			for range increments {
				for !t.Failed() {
					n, v := c.read(t)
					id, ok := c.write(t, n+1, v)
					if ok {
						mu.Lock()
						ids = append(ids, id)
						mu.Unlock()
						break
					}
					conflicts.Add(1)
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(began)
	if t.Failed() {
		return
	}

	n := clients * increments
	counter, current := b.read(t)
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	var dups, gaps int
	for i, id := range ids {
		if i > 0 && id == ids[i-1] {
			dups++
		}
	}
	want := map[uint32]bool{}
	for v := uint32(2); v <= uint32(n+1); v++ {
		want[v] = true
	}
	for _, id := range ids {
		delete(want, id)
	}
	gaps = len(want)
	t.Logf("T1 CAS counter: %d clients × %d increments (B and C alternating) in %v: successful increments %d, CAS conflicts retried %d, final counter %d, currentVersion %d, duplicate ids %d, ids missing from {2..%d} %d",
		clients, increments, elapsed.Round(time.Millisecond), len(ids), conflicts.Load(), counter, current, dups, n+1, gaps)
	if counter != n || current != uint32(n+1) || len(ids) != n || dups != 0 || gaps != 0 {
		t.Errorf("lost or duplicated updates: counter %d (want %d), currentVersion %d (want %d), %d ids (want %d), %d duplicates, %d missing",
			counter, n, current, n+1, len(ids), n, dups, gaps)
	}
}

// casB is surface B: GET ?includeData=true, PUT ?cas=.
type casB struct {
	l    *live
	path string
}

func (c *casB) url() string {
	return "/api/" + c.l.domain + "/v2/secret/" + strings.ReplaceAll(c.path, "/", "%2F")
}

func (c *casB) read(t *testing.T) (int, uint32) {
	st, _, body := c.l.do(t, "GET", c.url()+"?includeData=true", "")
	var r struct {
		Metadata struct{ CurrentVersion uint32 }
		Version  struct {
			Data struct{ Counter int }
		}
	}
	if st != 200 || json.Unmarshal(body, &r) != nil {
		t.Errorf("surface B read = %d %s", st, body)
		return 0, 0
	}
	return r.Version.Data.Counter, r.Metadata.CurrentVersion
}

func (c *casB) write(t *testing.T, counter int, cas uint32) (uint32, bool) {
	st, _, body := c.l.do(t, "PUT", fmt.Sprintf("%s?cas=%d", c.url(), cas), fmt.Sprintf(`{"version":{"data":{"counter":%d}}}`, counter))
	if st == http.StatusBadRequest && strings.Contains(string(body), "SecretCasMismatch") {
		return 0, false
	}
	var r struct {
		Metadata struct{ CurrentVersion uint32 }
	}
	if st != 200 || json.Unmarshal(body, &r) != nil {
		t.Errorf("surface B CAS write = %d %s", st, body)
		return 0, true
	}
	return r.Metadata.CurrentVersion, true
}

// casC is surface C: GET data/, POST data/ with options.cas.
type casC struct {
	l    *live
	path string
}

func (c *casC) read(t *testing.T) (int, uint32) {
	st, _, body := c.l.do(t, "GET", "/v1/secret/data/"+c.path, "")
	var r struct {
		Data struct {
			Data     struct{ Counter int }
			Metadata struct{ Version uint32 }
		}
	}
	if st != 200 || json.Unmarshal(body, &r) != nil {
		t.Errorf("surface C read = %d %s", st, body)
		return 0, 0
	}
	return r.Data.Data.Counter, r.Data.Metadata.Version
}

func (c *casC) write(t *testing.T, counter int, cas uint32) (uint32, bool) {
	st, _, body := c.l.do(t, "POST", "/v1/secret/data/"+c.path, fmt.Sprintf(`{"data":{"counter":%d},"options":{"cas":%d}}`, counter, cas))
	if st == http.StatusBadRequest && strings.Contains(string(body), "check-and-set parameter did not match") {
		return 0, false
	}
	var r struct{ Data struct{ Version uint32 } }
	if st != 200 || json.Unmarshal(body, &r) != nil {
		t.Errorf("surface C CAS write = %d %s", st, body)
		return 0, true
	}
	return r.Data.Version, true
}
