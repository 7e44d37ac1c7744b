package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/storage/sealed"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// Crash safety, reliability-security.md T3: the real binary under 16
// concurrent writers is killed with SIGKILL at a uniformly random moment
// between 0 and 2 s, many times. After each kill the store must pass the
// integrity check (offline, with the root key) and the restarted server
// must return every acknowledged write byte for byte, with no version id
// handed out twice.
//
//	go test ./e2e -run TestCrash -v                          # 10 cycles
//	COFFER_CRASH_CYCLES=50 go test ./e2e -run TestCrash -v   # the full figure

const (
	crashWriters  = 16
	crashMaxDelay = 2 * time.Second
	crashToken    = "cof_root_e2e-crash-token"
)

func crashCycles(t *testing.T) int {
	return envCount(t, "COFFER_CRASH_CYCLES", 10)
}

func TestCrashBolt(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	runCrash(t, []string{"--data-dir", dir}, func(t *testing.T) *sealed.Store {
		return openSealed(t, filepath.Join(dir, "coffer.db"), "", filepath.Join(dir, "root.key"))
	})
}

func TestCrashPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	pgURL := testenv.PGSchema(t)
	dir := t.TempDir()
	runCrash(t, []string{"--data-dir", dir, "--storage", "postgres", "--pg-url", pgURL}, func(t *testing.T) *sealed.Store {
		return openSealed(t, "", pgURL, filepath.Join(dir, "root.key"))
	})
}

// attempt is one write sent to the server.
type attempt struct {
	path  string
	value []byte // the data member sent, compact JSON
	acked bool
	id    uint32 // version id answered, when acked
}

// crashLedger records every write attempt of the run.
type crashLedger struct {
	mu       sync.Mutex
	attempts []*attempt
	acked    map[string]map[uint32][]byte // path → id → value
	reused   int
	checked  int                        // attempts verified by the last verifyCrash
	verified map[string]map[uint32]bool // path → version ids read back and found right
	odd      []string                   // answers that are neither success nor an expected refusal
}

func (l *crashLedger) add(a *attempt) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempts = append(l.attempts, a)
	if !a.acked {
		return
	}
	ids := l.acked[a.path]
	if ids == nil {
		ids = map[uint32][]byte{}
		l.acked[a.path] = ids
	}
	if _, dup := ids[a.id]; dup {
		l.reused++
	}
	ids[a.id] = a.value
}

func (l *crashLedger) oddAnswer(s string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.odd = append(l.odd, s)
}

// crashFigures are T3's figures.
type crashFigures struct {
	cycles, acked, unacked, lost, corrupted, reused, unackedPresent, records, storeProblems, read int
}

func runCrash(t *testing.T, args []string, open func(*testing.T) *sealed.Store) {
	cycles := crashCycles(t)
	env := []string{"COFFER_INIT_ROOT_TOKEN=" + crashToken}
	ledger := &crashLedger{acked: map[string]map[uint32][]byte{}}
	var fig crashFigures
	began := time.Now()
	verify := func(p *proc, when string, full bool) {
		base := "http://" + p.addr + "/api/" + p.domainID(t, crashToken) + "/v2/secret"
		v := verifyCrash(base, ledger, full)
		fig.read += v.read
		fig.lost += v.lost
		fig.corrupted += v.corrupted
		if full {
			fig.unackedPresent = v.unackedPresent
		}
		if v.lost+v.corrupted > 0 {
			t.Errorf("%s: %d acknowledged writes lost, %d corrupted: %s", when, v.lost, v.corrupted, strings.Join(first(v.problems, 20), "; "))
		}
	}
	for cycle := range cycles {
		p := start(t, env, args...)
		if cycle > 0 {
			// Everything written so far, read back from a fresh process.
			verify(p, fmt.Sprintf("restart %d", cycle), false)
		}
		base := "http://" + p.addr + "/api/" + p.domainID(t, crashToken) + "/v2/secret"
		var (
			stop atomic.Bool
			wg   sync.WaitGroup
		)
		for w := range crashWriters {
			wg.Go(func() { crashWriter(base, cycle, w, &stop, ledger) })
		}
		time.Sleep(time.Duration(mrand.Int64N(int64(crashMaxDelay))))
		p.kill9(t)
		stop.Store(true)
		wg.Wait()

		// The store integrity check, offline, before the next start.
		st := open(t)
		rep, err := checkStore(t.Context(), st)
		st.Close()
		if err != nil {
			t.Fatalf("cycle %d: the store does not open after kill -9: %v", cycle, err)
		}
		fig.records = rep.Records
		fig.storeProblems += len(rep.Problems)
		if len(rep.Problems) > 0 {
			t.Errorf("cycle %d: store integrity check: %s", cycle, strings.Join(first(rep.Problems, 20), "; "))
		}
	}
	p := start(t, env, args...)
	verify(p, "final start", true)
	p.kill9(t)

	for _, a := range ledger.attempts {
		if a.acked {
			fig.acked++
		} else {
			fig.unacked++
		}
	}
	fig.cycles, fig.reused = cycles, ledger.reused
	if fig.reused > 0 {
		t.Errorf("%d version ids were handed out twice", fig.reused)
	}
	if len(ledger.odd) > 0 {
		t.Errorf("%d unexpected answers: %s", len(ledger.odd), strings.Join(first(ledger.odd, 10), "; "))
	}
	if fig.acked < cycles {
		t.Errorf("only %d acknowledged writes in %d cycles: the load did not run", fig.acked, cycles)
	}
	t.Logf("T3 crash safety: %d cycles of kill -9 at a random time in [0, %v) under %d writers, %v: "+
		"acknowledged %d, lost %d, corrupted %d, reused ids %d, unacknowledged %d (present after restart %d); "+
		"store integrity check after every kill: %d problems (%d records at the end); %d version reads",
		fig.cycles, crashMaxDelay, crashWriters, time.Since(began).Round(time.Second),
		fig.acked, fig.lost, fig.corrupted, fig.reused, fig.unacked, fig.unackedPresent, fig.storeProblems, fig.records, fig.read)
}

func first(s []string, n int) []string { return s[:min(len(s), n)] }

var crashTransport = &http.Transport{MaxIdleConnsPerHost: 64, DisableCompression: true}

// crashPost sends one POST with the root token. ok is false when no answer
// came back (the server died).
func crashPost(url string, body []byte) (status int, resp []byte, ok bool) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, nil, false
	}
	req.Header.Set("Authorization", "Bearer "+crashToken)
	req.Header.Set("Content-Type", "application/json")
	c := &http.Client{Transport: crashTransport, Timeout: 30 * time.Second}
	r, err := c.Do(req)
	if err != nil {
		return 0, nil, false
	}
	defer r.Body.Close()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		return 0, nil, false
	}
	return r.StatusCode, b, true
}

// crashWriter writes until stop: versions of its own secret crash/wNN
// (created on the first cycle, or whenever it is missing), and every
// eighth write a new secret.
func crashWriter(base string, cycle, w int, stop *atomic.Bool, l *crashLedger) {
	main := fmt.Sprintf("crash/w%02d", w)
	create := func(path string) (ok bool, exists bool) {
		a := &attempt{path: path, value: crashValue(w, cycle)}
		body, _ := json.Marshal(map[string]any{"path": path, "metadata": map[string]any{"maxVersions": 24000},
			"version": map[string]any{"data": json.RawMessage(a.value)}})
		st, resp, answered := crashPost(base, body)
		switch {
		case !answered:
			l.add(a)
			stop.Store(true) // the server is gone
			return false, false
		case st == http.StatusOK:
			a.acked, a.id = true, 1
			l.add(a)
			return true, false
		case st == http.StatusConflict:
			return false, true
		}
		l.oddAnswer(fmt.Sprintf("create %s: %d %s", path, st, resp))
		return false, false
	}
	haveMain := false
	for seq := 0; !stop.Load(); seq++ {
		if !haveMain {
			ok, exists := create(main)
			haveMain = ok || exists
			continue
		}
		if seq%8 == 7 {
			create(fmt.Sprintf("crash/w%02d/c%03d-%05d", w, cycle, seq))
			continue
		}
		a := &attempt{path: main, value: crashValue(w, cycle)}
		body, _ := json.Marshal(map[string]any{"data": json.RawMessage(a.value)})
		st, resp, answered := crashPost(base+"/"+url.PathEscape(main)+"/version", body)
		if !answered {
			l.add(a)
			return // the server is gone
		}
		if st != http.StatusOK {
			l.oddAnswer(fmt.Sprintf("add version to %s: %d %s", main, st, resp))
			continue
		}
		var v struct{ ID uint32 }
		if err := json.Unmarshal(resp, &v); err != nil || v.ID == 0 {
			l.oddAnswer(fmt.Sprintf("add version to %s: 200 without an id: %s", main, resp))
			continue
		}
		a.acked, a.id = true, v.ID
		l.add(a)
	}
}

// crashValue returns a unique version value, compact JSON.
func crashValue(w, cycle int) []byte {
	return []byte(fmt.Sprintf(`{"v":"w%02d-c%03d-%s","n":%d}`, w, cycle, rand.Text(), mrand.Int64()))
}

type crashVerification struct {
	lost, corrupted, unackedPresent, read int
	problems                              []string
}

// verifyCrash reads back what was written and compares it with the
// ledger: an acknowledged write must be there, byte for byte; a version
// nobody got an answer for must hold the value of one of the unanswered
// writes to its path; nothing else may exist. With full it reads every
// version of every path; otherwise only the versions it has not verified
// before, of the paths written to since its last call (every restart
// checks the last cycle, the final start checks everything).
func verifyCrash(base string, l *crashLedger, full bool) crashVerification {
	l.mu.Lock()
	byPath := map[string][]*attempt{}
	recent := map[string]bool{}
	for i, a := range l.attempts {
		byPath[a.path] = append(byPath[a.path], a)
		if i >= l.checked {
			recent[a.path] = true
		}
	}
	l.checked = len(l.attempts)
	if l.verified == nil || full {
		l.verified = map[string]map[uint32]bool{}
	}
	paths := make([]string, 0, len(byPath))
	for p := range byPath {
		if full || recent[p] {
			paths = append(paths, p)
			if l.verified[p] == nil {
				l.verified[p] = map[uint32]bool{}
			}
		}
	}
	l.mu.Unlock()
	sort.Strings(paths)

	var (
		mu  sync.Mutex
		out crashVerification
		wg  sync.WaitGroup
		ch  = make(chan string)
	)
	note := func(lost, corrupted, present int, problem string) {
		mu.Lock()
		defer mu.Unlock()
		out.lost += lost
		out.corrupted += corrupted
		out.unackedPresent += present
		if problem != "" {
			out.problems = append(out.problems, problem)
		}
	}
	for range 16 {
		wg.Go(func() {
			for path := range ch {
				l.mu.Lock()
				done := l.verified[path]
				l.mu.Unlock()
				stored, read, err := readVersions(base, path, done, crashToken)
				if err != nil {
					note(0, 1, 0, path+": "+err.Error())
				}
				unacked := map[string]bool{}
				ackedIDs := map[uint32]bool{}
				for _, a := range byPath[path] {
					if !a.acked {
						unacked[string(a.value)] = true
						continue
					}
					ackedIDs[a.id] = true
					got, ok := stored[a.id]
					switch {
					case ok && got == nil: // verified before
					case !ok:
						note(1, 0, 0, fmt.Sprintf("%s version %d is missing", path, a.id))
					case !bytes.Equal(got, a.value):
						note(0, 1, 0, fmt.Sprintf("%s version %d holds %s, want %s", path, a.id, got, a.value))
					}
				}
				for id, got := range stored {
					if ackedIDs[id] || got == nil {
						continue
					}
					if unacked[string(got)] {
						delete(unacked, string(got))
						note(0, 0, 1, "")
						continue
					}
					note(0, 1, 0, fmt.Sprintf("%s version %d holds %s, which nobody wrote", path, id, got))
				}
				l.mu.Lock()
				for id := range stored {
					done[id] = true
				}
				l.mu.Unlock()
				mu.Lock()
				out.read += read
				mu.Unlock()
			}
		})
	}
	for _, p := range paths {
		ch <- p
	}
	close(ch)
	wg.Wait()
	return out
}

// readVersions lists the versions of path with token and returns their
// data by id, reading only those not in skip (they map to nil); an absent
// secret has none. read counts the versions read.
func readVersions(base, path string, skip map[uint32]bool, token string) (_ map[uint32][]byte, read int, _ error) {
	c := &http.Client{Transport: crashTransport, Timeout: 30 * time.Second}
	get := func(u string, hdr map[string]string) (*http.Response, []byte, error) {
		req, _ := http.NewRequest(http.MethodGet, u, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		r, err := c.Do(req)
		if err != nil {
			return nil, nil, err
		}
		defer r.Body.Close()
		b, err := io.ReadAll(r.Body)
		return r, b, err
	}
	out := map[uint32][]byte{}
	esc := base + "/" + url.PathEscape(path)
	cursor := ""
	for {
		hdr := map[string]string{"X-Pagination-Size": "100"}
		if cursor != "" {
			hdr["X-Pagination-Cursor"] = cursor
		}
		r, b, err := get(esc+"/version", hdr)
		if err != nil {
			return out, read, err
		}
		if r.StatusCode == http.StatusNotFound && cursor == "" {
			return out, read, nil
		}
		if r.StatusCode != http.StatusOK {
			return out, read, fmt.Errorf("list versions: %d %s", r.StatusCode, b)
		}
		var vs []struct {
			ID    uint32 `json:"id"`
			State string `json:"state"`
		}
		if err := json.Unmarshal(b, &vs); err != nil {
			return out, read, fmt.Errorf("list versions: %v", err)
		}
		for _, v := range vs {
			if skip[v.ID] {
				out[v.ID] = nil
				continue
			}
			read++
			r, b, err := get(fmt.Sprintf("%s/version/%d?includeData=true", esc, v.ID), nil)
			if err != nil {
				return out, read, err
			}
			var got struct {
				Data json.RawMessage `json:"data"`
			}
			if r.StatusCode != http.StatusOK || json.Unmarshal(b, &got) != nil {
				return out, read, fmt.Errorf("version %d: %d %s", v.ID, r.StatusCode, b)
			}
			var compact bytes.Buffer
			if err := json.Compact(&compact, got.Data); err != nil {
				return out, read, fmt.Errorf("version %d: data is not JSON", v.ID)
			}
			out[v.ID] = compact.Bytes()
		}
		if cursor = r.Header.Get("X-Pagination-Cursor-Next"); cursor == "" {
			return out, read, nil
		}
	}
}
