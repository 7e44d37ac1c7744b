package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// Consistent online backup, reliability-security.md T19: a populated
// installation (two domains, secrets with versions in every state,
// settings, custom metadata, a domain configuration, a user, a group, a
// token, a policy, an access credential, service keys in every state) is
// backed up while 8 writers write, then restored into another installation
// with another root key (and another backend). Everything read back through the API matches the
// source, the writers' secrets hold a prefix of what was written (no
// current version without its data, nothing newer than the snapshot),
// and the store passes the integrity check. A wrong passphrase, an altered
// file and a target that is not empty are refused.
//
//	go test ./e2e -run TestBackupRestore -v

const backupPass = "correct horse battery staple"

func TestBackupRestoreBolt(t *testing.T) {
	if testing.Short() {
		t.Skip("runs servers")
	}
	runBackupRestore(t, liveOptions{}, liveOptions{})
}

// TestBackupRestorePostgres backs up an installation on PostgreSQL and
// restores it on bbolt, and the reverse.
func TestBackupRestorePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("runs servers")
	}
	t.Run("postgres to bolt", func(t *testing.T) { runBackupRestore(t, liveOptions{pgURL: testenv.PGSchema(t)}, liveOptions{}) })
	t.Run("bolt to postgres", func(t *testing.T) { runBackupRestore(t, liveOptions{}, liveOptions{pgURL: testenv.PGSchema(t)}) })
}

func runBackupRestore(t *testing.T, srcOpt, dstOpt liveOptions) {
	src := startLive(t, srcOpt)
	populateForBackup(t, src)
	probes := populateKeysForBackup(t, src)
	before := dumpState(t, src, src.token)

	// 8 writers add versions to secrets of their own during the backup.
	const writers = 8
	type ack struct {
		id    uint32
		value string
	}
	var (
		stop       atomic.Bool
		wg         sync.WaitGroup
		mu         sync.Mutex
		acked      = map[string][]ack{} // path → acknowledged writes, in order
		ackedCount atomic.Int64
	)
	for w := range writers {
		wg.Go(func() {
			path := fmt.Sprintf("bk/live/w%d", w)
			for i := 0; !stop.Load(); i++ {
				value := fmt.Sprintf("live-%d-%d", w, i)
				var st int
				var body []byte
				if i == 0 {
					st, _, body = src.do(t, "POST", "/api/"+src.domain+"/v2/secret", `{"path":"`+path+`","metadata":{"maxVersions":24000},"version":{"data":{"k":"`+value+`"}}}`)
				} else {
					st, _, body = src.do(t, "POST", "/api/"+src.domain+"/v2/secret/"+url.PathEscape(path)+"/version", `{"data":{"k":"`+value+`"}}`)
				}
				if st != 200 {
					t.Errorf("writer %d: %d %s", w, st, body)
					return
				}
				id := uint32(1)
				if i > 0 {
					var v struct{ ID uint32 }
					json.Unmarshal(body, &v)
					id = v.ID
				}
				mu.Lock()
				acked[path] = append(acked[path], ack{id, value})
				mu.Unlock()
				ackedCount.Add(1)
			}
		})
	}
	for ackedCount.Load() < 200 && !t.Failed() {
		time.Sleep(time.Millisecond)
	}
	mu.Lock()
	atStart := map[string]int{}
	for p, as := range acked {
		atStart[p] = len(as)
	}
	mu.Unlock()
	st, _, file := src.do(t, "POST", "/sys/backup", `{"passphrase":"`+backupPass+`"}`)
	mu.Lock()
	atEnd := map[string]int{}
	for p, as := range acked {
		atEnd[p] = len(as)
	}
	mu.Unlock()
	for ackedCount.Load() < int64(200+len(file)/100000) && !t.Failed() {
		time.Sleep(time.Millisecond) // writes after the snapshot too
	}
	stop.Store(true)
	wg.Wait()
	if st != 200 || !bytes.HasPrefix(file, []byte("COFFERBK")) {
		t.Fatalf("POST /sys/backup = %d %.200q", st, file)
	}

	// Refusals: a short passphrase, a target that is not empty.
	if st, _, body := src.do(t, "POST", "/sys/backup", `{"passphrase":"short"}`); st != 400 {
		t.Errorf("backup with a short passphrase = %d %s, want 400", st, body)
	}
	if st, _, body := src.do(t, "POST", "/sys/restore", string(file), "X-Coffer-Backup-Passphrase", backupPass); st != 409 {
		t.Errorf("restore into the source (not empty) = %d %s, want 409", st, body)
	}

	// Into another installation: another data directory, so another root
	// key. A wrong passphrase and an altered file change nothing.
	dst := startLive(t, dstOpt)
	bad := bytes.Clone(file)
	bad[len(bad)/2] ^= 1
	for _, c := range []struct {
		name, pass string
		file       []byte
	}{{"wrong passphrase", backupPass + "x", file}, {"altered file", backupPass, bad}} {
		if st, _, body := dst.do(t, "POST", "/sys/restore", string(c.file), "X-Coffer-Backup-Passphrase", c.pass); st != 400 {
			t.Errorf("restore with a %s = %d %s, want 400", c.name, st, body)
		}
	}
	if st, _, body := dst.do(t, "GET", "/api/"+dst.domain+"/v2/secret", ""); st != 200 || string(body) != "[]" {
		t.Fatalf("the target after refused restores = %d %s, want its own empty installation", st, body)
	}
	began := time.Now()
	st, _, body := dst.do(t, "POST", "/sys/restore", string(file), "X-Coffer-Backup-Passphrase", backupPass)
	var res struct{ Records int }
	if st != 200 || json.Unmarshal(body, &res) != nil {
		t.Fatalf("POST /sys/restore = %d %s", st, body)
	}
	restoreTime := time.Since(began)
	// The source's tokens are valid on the target; the target's own root
	// token is gone with its installation.
	if st, _, _ := dst.do(t, "GET", "/api/"+src.domain+"/v2/secret", ""); st != 401 {
		t.Errorf("the target's own root token after the restore = %d, want 401", st)
	}
	after := dumpState(t, dst, src.token)
	checkKeysRestored(t, dst, src.token, probes)
	var diffs []string
	for k, v := range before {
		if after[k] != v {
			diffs = append(diffs, fmt.Sprintf("%s:\n  source %s\n  target %s", k, v, after[k]))
		}
	}
	for k := range after {
		if _, ok := before[k]; !ok && !strings.Contains(k, "bk/live/") {
			diffs = append(diffs, k+": only on the target")
		}
	}
	sort.Strings(diffs)
	if len(diffs) > 0 {
		t.Errorf("%d differences between the source and the restored target:\n%s", len(diffs), strings.Join(first(diffs, 10), "\n"))
	}

	// The writers' secrets: a prefix of the acknowledged writes, at least
	// those acknowledged before the backup began, none acknowledged after
	// it ended, each version with its data.
	var inconsistent []string
	restored := 0
	for path, as := range acked {
		ids, _, err := readVersions(dst.base+"/api/"+src.domain+"/v2/secret", path, nil, src.token)
		if err != nil {
			inconsistent = append(inconsistent, path+": "+err.Error())
			continue
		}
		n := len(ids)
		restored += n
		if n < atStart[path] || n > atEnd[path] {
			inconsistent = append(inconsistent, fmt.Sprintf("%s: %d versions restored, %d acknowledged before the backup began, %d before it ended", path, n, atStart[path], atEnd[path]))
		}
		for _, a := range as[:min(n, len(as))] {
			if got := ids[a.id]; !bytes.Contains(got, []byte(a.value)) {
				inconsistent = append(inconsistent, fmt.Sprintf("%s version %d = %s, want %s", path, a.id, got, a.value))
			}
		}
	}
	if len(inconsistent) > 0 {
		t.Errorf("writers' secrets after the restore: %s", strings.Join(first(inconsistent, 10), "; "))
	}
	dst.stop()
	st2 := openSealed(t, filepath.Join(dst.dir, "coffer.db"), dstOpt.pgURL, filepath.Join(dst.dir, "root.key"))
	rep, err := checkStore(t.Context(), st2)
	st2.Close()
	if err != nil || len(rep.Problems) > 0 {
		t.Errorf("the restored store: %v %v", err, rep.Problems)
	}
	t.Logf("T19 backup during %d writers: %d bytes, %d records restored in %v into another installation (root key and data directory); %d API objects compared, %d differences; writers' versions restored %d (acknowledged %d before the backup began, %d before it ended), inconsistencies %d; restored store check: %d records, %d problems",
		writers, len(file), res.Records, restoreTime.Round(time.Millisecond), len(before), len(diffs), restored, sum(atStart), sum(atEnd), len(inconsistent), rep.Records, len(rep.Problems))
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// populateForBackup writes what a backup must carry.
func populateForBackup(t *testing.T, l *live) {
	t.Helper()
	must := func(method, path, body string, want ...int) []byte {
		t.Helper()
		if len(want) == 0 {
			want = []int{200}
		}
		for attempt := 0; ; attempt++ {
			st, _, b := l.do(t, method, path, body)
			for _, w := range want {
				if st == w {
					return b
				}
			}
			if st != 409 || attempt > 100 { // 409: a new domain still being created
				t.Fatalf("%s %s = %d %s", method, path, st, b)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	var d struct{ ID string }
	json.Unmarshal(must("POST", "/v2/okms/resource", `{"region":"local","displayName":"backup-second"}`), &d)
	for _, domain := range []string{l.domain, d.ID} {
		b := "/api/" + domain + "/v2"
		for i := range 10 {
			path := fmt.Sprintf("bk/s%02d", i)
			meta := fmt.Sprintf(`{"customMetadata":{"owner":"team-%d"},"maxVersions":%d,"casRequired":%t,"deactivateVersionAfter":"%s"}`,
				i, 5+i, i == 3, []string{"30d", "1d", "12h30m"}[i%3])
			must("POST", b+"/secret", `{"path":"`+path+`","metadata":`+meta+`,"version":{"data":{"k":"v1-`+path+`"}}}`)
			for v := 2; v <= 3; v++ {
				must("POST", fmt.Sprintf("%s/secret/%s/version?cas=%d", b, url.PathEscape(path), v-1), fmt.Sprintf(`{"data":{"k":"v%d-%s","n":[%d,{"x":null}]}}`, v, path, v))
			}
		}
		must("PUT", b+"/secret/bk%2Fs01/version/1", `{"state":"deactivated"}`)
		must("PUT", b+"/secret/bk%2Fs02/version/2", `{"state":"deleted"}`)
		must("PUT", b+"/secret/bk%2Fs04", `{"metadata":{"customMetadata":{"env":"prod","owner":"x"}}}`)
	}
	must("PUT", "/api/"+d.ID+"/v2/secretConfig", `{"maxVersions":7,"casRequired":true}`)
	must("POST", "/1.0/me/identity/group", `{"name":"bkg","role":"REGULAR"}`)
	must("POST", "/1.0/me/identity/user", `{"login":"bk","group":"bkg","description":"backup user"}`)
	must("POST", "/1.0/me/identity/user/bk/token", `{"name":"ci","description":"a token"}`)
	must("POST", "/v2/iam/policy", `{"name":"bk-read","identities":["urn:v1:eu:identity:group:coffer/bkg"],"resources":[{"urn":"urn:v1:eu:resource:okms:`+l.domain+`/secret/bk/*"}],"permissions":{"allow":[{"action":"okms:apikms:secret/get"}]}}`)
	must("POST", "/v2/okms/resource/"+l.domain+"/credential", `{"name":"bk-cert","identityURNs":["urn:v1:eu:identity:user:coffer/bk"],"validity":30}`)
}

// dumpState reads, through the API with token, what an installation
// holds: domains, their configuration, secrets (metadata, versions, data
// of readable versions), users, groups, tokens, policies, credentials. It
// returns canonical JSON by object.
func dumpState(t *testing.T, l *live, token string) map[string]string {
	t.Helper()
	out := map[string]string{}
	get := func(path string, hdr ...string) ([]byte, http.Header) {
		t.Helper()
		st, h, b := l.doToken(t, token, "GET", path, "", hdr...)
		if st != 200 {
			t.Fatalf("GET %s = %d %s", path, st, b)
		}
		return b, h
	}
	canon := func(b []byte, drop ...string) string {
		var v any
		json.Unmarshal(b, &v)
		scrub(v, drop)
		c, _ := json.Marshal(v)
		return string(c)
	}
	pages := func(path string) []json.RawMessage {
		var all []json.RawMessage
		cursor := ""
		for {
			hdr := []string{"X-Pagination-Size", "100"}
			if cursor != "" {
				hdr = append(hdr, "X-Pagination-Cursor", cursor)
			}
			b, h := get(path, hdr...)
			var items []json.RawMessage
			json.Unmarshal(b, &items)
			all = append(all, items...)
			if cursor = h.Get("X-Pagination-Cursor-Next"); cursor == "" {
				return all
			}
		}
	}
	domains, _ := get("/v2/okms/resource")
	var ds []struct {
		ID     string
		Region string
		IAM    struct{ DisplayName string }
	}
	json.Unmarshal(domains, &ds)
	for _, d := range ds {
		out["domain "+d.ID] = d.Region + " " + d.IAM.DisplayName
		b := "/api/" + d.ID + "/v2"
		cfg, _ := get(b + "/secretConfig")
		out["config "+d.ID] = canon(cfg)
		creds, _ := get("/v2/okms/resource/" + d.ID + "/credential")
		out["credentials "+d.ID] = canon(creds)
		dumpKeys(t, l, token, d.ID, out, canon)
		for _, item := range pages(b + "/secret") {
			var s struct{ Path string }
			json.Unmarshal(item, &s)
			if strings.HasPrefix(s.Path, "bk/live/") {
				continue
			}
			esc := b + "/secret/" + url.PathEscape(s.Path)
			meta, _ := get(esc)
			out["secret "+d.ID+" "+s.Path] = canon(meta)
			for _, v := range pages(esc + "/version") {
				var ver struct {
					ID    uint32
					State string
				}
				json.Unmarshal(v, &ver)
				key := fmt.Sprintf("version %s %s %d", d.ID, s.Path, ver.ID)
				out[key] = canon(v)
				if ver.State == "active" {
					data, _ := get(fmt.Sprintf("%s/version/%d?includeData=true", esc, ver.ID))
					out[key] = canon(data)
				}
			}
		}
	}
	for _, what := range []string{"/1.0/me/identity/user", "/1.0/me/identity/group"} {
		list, _ := get(what)
		var names []string
		json.Unmarshal(list, &names)
		for _, n := range names {
			b, _ := get(what + "/" + n)
			out[what+"/"+n] = canon(b)
			if what == "/1.0/me/identity/user" {
				tl, _ := get(what + "/" + n + "/token")
				var tokens []string
				json.Unmarshal(tl, &tokens)
				for _, tn := range tokens {
					tb, _ := get(what + "/" + n + "/token/" + tn)
					out[what+"/"+n+"/token/"+tn] = canon(tb, "lastUsed")
				}
			}
		}
	}
	pols, _ := get("/v2/iam/policy")
	out["policies"] = canon(pols)
	return out
}

// scrub removes the named members from decoded JSON, at any depth.
func scrub(v any, drop []string) {
	switch x := v.(type) {
	case map[string]any:
		for _, d := range drop {
			delete(x, d)
		}
		for _, e := range x {
			scrub(e, drop)
		}
	case []any:
		for _, e := range x {
			scrub(e, drop)
		}
	}
}
