package e2e

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestSignInStorm is issue 13's point 2 against the real binary: 40
// concurrent wrong sign-ins to the web panel from one address (each with
// its own login, so that only the address limit and the hashing slots
// hold them back) must keep the server process under 600 MiB of resident
// memory (its peak, VmHWM) and answer some of them 429; an API read is
// served meanwhile. Its latency is logged, not asserted (docs/reliability.md
// records it): timed assertions have no place in the test suite.
func TestSignInStorm(t *testing.T) {
	if _, err := os.Stat("/proc/self/status"); err != nil {
		t.Skip("needs /proc to read the server's resident memory")
	}
	const token = "cof_root_signin-storm-test-token"
	p := start(t, []string{"COFFER_DEV_ROOT_TOKEN=" + token}, "--dev")
	domain := p.domainID(t, token)
	if st, b := p.do(t, token, "POST", "/api/"+domain+"/v2/secret", `{"path":"app/db","version":{"data":{"k":"v"}}}`); st != 200 {
		t.Fatalf("create a secret: %d %s", st, b)
	}
	const storm = 40
	forms := make([]signinForm, storm)
	for i := range forms {
		forms[i] = newSigninForm(t, p.addr)
	}
	before := procStatus(t, p.cmd.Process.Pid, "VmRSS")

	var (
		wg       sync.WaitGroup
		statuses sync.Map // status → *atomic.Int32
		done     atomic.Bool
		reads    []time.Duration
		readErr  atomic.Value
	)
	readDone := make(chan struct{})
	go func() {
		defer close(readDone)
		for !done.Load() {
			start := time.Now()
			st, b := p.tryDo(token, "GET", "/api/"+domain+"/v2/secret/app%2Fdb?includeData=true", "")
			if st != 200 {
				readErr.Store(fmt.Sprintf("%d %s", st, b))
				return
			}
			reads = append(reads, time.Since(start))
			time.Sleep(20 * time.Millisecond)
		}
	}()
	began := time.Now()
	for i := range storm {
		wg.Go(func() {
			st := forms[i].post(fmt.Sprintf("nobody-%02d", i), "not the password")
			n, _ := statuses.LoadOrStore(st, new(atomic.Int32))
			n.(*atomic.Int32).Add(1)
		})
	}
	wg.Wait()
	took := time.Since(began)
	done.Store(true)
	<-readDone
	if e := readErr.Load(); e != nil {
		t.Fatalf("the API read during the storm failed: %v", e)
	}
	peak := procStatus(t, p.cmd.Process.Pid, "VmHWM")
	got := map[int]int32{}
	statuses.Range(func(k, v any) bool { got[k.(int)] = v.(*atomic.Int32).Load(); return true })
	var slowest time.Duration
	for _, d := range reads {
		slowest = max(slowest, d)
	}
	t.Logf("%d concurrent wrong sign-ins in %v: statuses %v; resident memory %d MiB before, peak %d MiB; "+
		"%d API reads meanwhile, slowest %v", storm, took.Round(time.Millisecond), got, before>>10, peak>>10, len(reads), slowest)
	if peak >= 600<<10 {
		t.Errorf("peak resident memory %d MiB, want under 600 MiB", peak>>10)
	}
	if got[http.StatusTooManyRequests] == 0 {
		t.Errorf("no sign-in was answered 429: %v", got)
	}
	for st := range got {
		if st != http.StatusUnauthorized && st != http.StatusTooManyRequests && st != http.StatusServiceUnavailable {
			t.Errorf("a wrong sign-in was answered %d", st)
		}
	}
	if len(reads) == 0 {
		t.Error("no API read completed during the storm")
	}
}

// procStatus returns a field of /proc/<pid>/status in KiB.
func procStatus(t *testing.T, pid int, field string) int64 {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^` + field + `:\s+(\d+) kB`).FindSubmatch(b)
	if m == nil {
		t.Fatalf("no %s in /proc/%d/status", field, pid)
	}
	n, _ := strconv.ParseInt(string(m[1]), 10, 64)
	return n
}

// signinForm is a browser that has loaded the panel's sign-in page: its
// pre-session cookie and the form's CSRF token.
type signinForm struct {
	c    *http.Client
	base string
	csrf string
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func newSigninForm(t *testing.T, addr string) signinForm {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	f := signinForm{c: &http.Client{Jar: jar, Timeout: 2 * time.Minute,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}, base: "http://" + addr}
	resp, err := f.c.Get(f.base + "/ui/signin")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	m := csrfInput.FindSubmatch(b)
	if m == nil {
		t.Fatalf("no CSRF token on the sign-in page")
	}
	f.csrf = string(m[1])
	return f
}

// post submits the sign-in form and returns the status (0 on a transport
// failure).
func (f signinForm) post(login, password string) int {
	form := url.Values{"csrf": {f.csrf}, "method": {"password"}, "login": {login}, "password": {password}}
	resp, err := f.c.PostForm(f.base+"/ui/signin", form)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}
