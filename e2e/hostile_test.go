package e2e

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Hostile HTTP, reliability-security.md T6: generated malformed requests
// on every route of every surface, written on raw TCP connections so that
// nothing in between cleans them up, against a live server on 127.0.0.1
// (the real http.Server with its timeouts and header limit). Pass: no 5xx,
// no panic, a normal request answered throughout, every 4xx body in its
// surface's envelope, bounded memory, no goroutine left after shutdown.
//
//	go test ./e2e -run TestHostileRequests -v                                 # 10,000 requests
//	COFFER_HOSTILE_REQUESTS=50000 go test ./e2e -run TestHostileRequests -v   # the full figure
//	COFFER_HOSTILE_SEED=42 ...                                                # replay a run

const (
	hostileWorkers   = 8
	hostileHeapBound = 256 << 20 // HeapInuse of the whole test process
	slowClients      = 16        // slowloris connections, each bounded
	slowFor          = 13 * time.Second
)

func hostileSize(t *testing.T) (int, uint64) {
	n := envCount(t, "COFFER_HOSTILE_REQUESTS", 10000)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("COFFER_HOSTILE_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("COFFER_HOSTILE_SEED=%q: want an unsigned integer", s)
		}
		seed = v
	}
	return n, seed
}

// hostile is one generated request.
type hostile struct {
	kind    string // the category, for the figures
	head    []byte // request line and headers, CRLF-terminated
	body    []byte
	mode    bodyMode
	method  string
	surface string // "A", "B", "C", "T" (Transit), "iam", "oauth2", "root", "ui"; "" when net/http should refuse it
}

type bodyMode uint8

const (
	bodyFixed     bodyMode = iota // Content-Length, then the body
	bodyChunked                   // Transfer-Encoding: chunked, then the body in chunks
	bodyEndless                   // chunked, chunks until the server answers
	bodyTruncated                 // Content-Length larger than what is sent, then half-close
	bodyRaw                       // head is random bytes; no HTTP at all
)

// hostileFigures are T6's figures.
type hostileFigures struct {
	mu          sync.Mutex
	byClass     map[string]int // "2xx".."5xx", "no answer"
	byKind      map[string]int
	byStatus    map[int]int
	netHTTP     int // refused by net/http before coffer's handlers (no X-Request-Id)
	envelopeBad []string
	fiveXX      []string
}

func (f *hostileFigures) note(h *hostile, status int, hdr http.Header, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.byKind[h.kind]++
	if status == 0 {
		f.byClass["no answer"]++
		return
	}
	f.byStatus[status]++
	f.byClass[fmt.Sprintf("%dxx", status/100)]++
	if status >= 500 {
		f.fiveXX = append(f.fiveXX, fmt.Sprintf("%d for %s %.200q: %.300s", status, h.kind, h.head, body))
	}
	if hdr.Get("X-Request-Id") == "" {
		f.netHTTP++
		return
	}
	if status >= 400 && h.method != "HEAD" {
		if problem := envelopeProblem(h.surface, status, hdr, body); problem != "" {
			f.envelopeBad = append(f.envelopeBad, fmt.Sprintf("%s (%s %d): %s: %.200q", problem, h.surface, status, h.kind, h.head))
		}
	}
}

// envelopeProblem checks an error answer against its surface's envelope:
// okms-rest.md 8.1 for B, 8.2 for A and identity management, Vault's for
// C (whose raw 404 bodies may be empty), {"errors": [...]} elsewhere.
func envelopeProblem(surface string, status int, hdr http.Header, body []byte) string {
	if surface == "ui" {
		return "" // the web panel answers people, in HTML
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if surface == "C" && status == http.StatusNotFound {
			return ""
		}
		return "empty error body"
	}
	if ct := hdr.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return "Content-Type " + ct
	}
	var e struct {
		ErrorID string   `json:"error_id"`
		Errors  []string `json:"errors"`
		Class   string   `json:"class"`
		Message string   `json:"message"`
	}
	if err := json.Unmarshal(body, &e); err != nil {
		return "body is not JSON"
	}
	switch surface {
	case "B":
		if e.ErrorID == "" || len(e.Errors) == 0 {
			return "not the OKMS envelope"
		}
	case "A", "iam":
		if !strings.HasPrefix(e.Class, "Client::") || e.Message == "" {
			return "not the OVH envelope"
		}
	case "oauth2":
		// The token endpoint answers RFC 6749 5.2 errors.
		var o struct {
			Error string `json:"error"`
			Desc  string `json:"error_description"`
		}
		if json.Unmarshal(body, &o) != nil || o.Error == "" || o.Desc == "" {
			return "not an OAuth2 error"
		}
	case "C", "T":
		// Vault's errors member may be empty (405), a 404 may carry the
		// secret's metadata instead (vault-kv2.md 2.5), and a Transit batch
		// whose every item failed is a 400 carrying the batch results with
		// their errors, as Vault answers it.
		var m map[string]json.RawMessage
		if json.Unmarshal(body, &m) != nil {
			return "not a JSON object"
		}
		var data struct {
			BatchResults []struct{ Error string } `json:"batch_results"`
		}
		failedBatch := surface == "T" && status == http.StatusBadRequest &&
			json.Unmarshal(m["data"], &data) == nil && len(data.BatchResults) > 0
		for _, r := range data.BatchResults {
			failedBatch = failedBatch && r.Error != ""
		}
		if _, ok := m["errors"]; !ok && status != http.StatusNotFound && !failedBatch {
			return "not Vault's envelope"
		}
	default:
		if len(e.Errors) == 0 {
			return "not the errors envelope"
		}
	}
	return ""
}

func TestHostileRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("tens of thousands of requests")
	}
	total, seed := hostileSize(t)
	goroutines := runtime.NumGoroutine()
	// The log is scanned as it is written rather than kept: the heap
	// figure is the server's, not a copy of its access log.
	panicLog := &panicCounter{}
	l := startLive(t, liveOptions{audit: true, noLogs: true, logTo: panicLog})
	if st, _, b := l.do(t, "POST", "/api/"+l.domain+"/v2/secret", `{"path":"hz/probe","version":{"data":{"k":"probe"}}}`); st != 200 {
		t.Fatalf("create the probe secret = %d %s", st, b)
	}
	st, _, b := l.do(t, "POST", "/v2/iam/policy", `{"name":"hz","identities":["urn:v1:eu:identity:group:coffer/hz"],"resources":[{"urn":"urn:v1:eu:resource:okms:`+l.domain+`"}],"permissions":{"allow":[{"action":"okms:apikms:secret/get"}]}}`)
	var pol struct{ ID string }
	if st != 200 || json.Unmarshal(b, &pol) != nil {
		t.Fatalf("create a policy = %d %s", st, b)
	}
	// Service keys (issue 15): a key the {k} placeholder names, able to do
	// everything an RSA key can.
	st, _, b = l.do(t, "POST", "/api/"+l.domain+"/v1/servicekey",
		`{"name":"hz","type":"RSA","size":2048,"operations":["sign","verify","encrypt","decrypt","wrapKey","unwrapKey"],"extractable":true}`)
	var key struct{ ID string }
	if st != 201 || json.Unmarshal(b, &key) != nil {
		t.Fatalf("create a service key = %d %s", st, b)
	}
	gen := &hostileGen{rnd: mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), domain: l.domain, token: l.token, policy: pol.ID,
		key: key.ID}

	fig := &hostileFigures{byClass: map[string]int{}, byKind: map[string]int{}, byStatus: map[int]int{}}
	var (
		done       = make(chan struct{})
		bg         sync.WaitGroup
		heapMax    atomic.Uint64
		probes     atomic.Int64
		probeFails []string
		probeMu    sync.Mutex
		slowClosed atomic.Int64
		slowOpen   atomic.Int64
	)
	// Memory: the heap of the whole process (server and this client).
	bg.Go(func() {
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > heapMax.Load() {
				heapMax.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	// A normal request, answered throughout.
	bg.Go(func() {
		c := &http.Client{Timeout: 5 * time.Second}
		defer c.CloseIdleConnections()
		for {
			req, _ := http.NewRequest("GET", l.base+"/api/"+l.domain+"/v2/secret/hz%2Fprobe?includeData=true", nil)
			req.Header.Set("Authorization", "Bearer "+l.token)
			began := time.Now()
			resp, err := c.Do(req)
			probes.Add(1)
			switch {
			case err != nil:
				probeMu.Lock()
				probeFails = append(probeFails, err.Error())
				probeMu.Unlock()
			default:
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || !bytes.Contains(body, []byte(`"probe"`)) {
					probeMu.Lock()
					probeFails = append(probeFails, fmt.Sprintf("%d %s after %v", resp.StatusCode, body, time.Since(began)))
					probeMu.Unlock()
				}
			}
			select {
			case <-done:
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
	// Slow clients (slowloris), bounded: each sends its headers one byte at
	// a time; the server must drop them after ReadHeaderTimeout (10 s).
	for i := range slowClients {
		bg.Go(func() {
			conn, err := net.Dial("tcp", l.addr)
			if err != nil {
				return
			}
			defer conn.Close()
			slowOpen.Add(1)
			msg := fmt.Sprintf("GET /v1/sys/health HTTP/1.1\r\nHost: coffer\r\nX-Slow-%d: ", i)
			deadline := time.Now().Add(slowFor)
			for j := 0; time.Now().Before(deadline); j++ {
				c := byte('a')
				if j < len(msg) {
					c = msg[j]
				}
				conn.SetWriteDeadline(time.Now().Add(time.Second))
				if _, err := conn.Write([]byte{c}); err != nil {
					slowClosed.Add(1)
					return
				}
				// A closed connection shows on read too.
				conn.SetReadDeadline(time.Now().Add(250 * time.Millisecond))
				if _, err := conn.Read(make([]byte, 512)); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
					slowClosed.Add(1)
					return
				}
			}
		})
	}

	began := time.Now()
	reqs := make(chan *hostile, hostileWorkers)
	var workers sync.WaitGroup
	for range hostileWorkers {
		workers.Go(func() {
			w := &hostileConn{addr: l.addr}
			defer w.close()
			for h := range reqs {
				status, hdr, body := w.send(h)
				fig.note(h, status, hdr, body)
			}
		})
	}
	for range total {
		reqs <- gen.next()
	}
	close(reqs)
	workers.Wait()
	elapsed := time.Since(began)
	// The slow clients run for slowFor at most.
	time.Sleep(max(0, slowFor-time.Since(began)+500*time.Millisecond))
	close(done)
	bg.Wait()

	panics := int(panicLog.n.Load())
	l.stop()
	var leaked int
	for range 50 {
		if leaked = runtime.NumGoroutine() - goroutines; leaked <= 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}

	classes := make([]string, 0, len(fig.byClass))
	for c, n := range fig.byClass {
		classes = append(classes, fmt.Sprintf("%s %d", c, n))
	}
	sort.Strings(classes)
	statuses := make([]string, 0, len(fig.byStatus))
	for s, n := range fig.byStatus {
		statuses = append(statuses, fmt.Sprintf("%d:%d", s, n))
	}
	sort.Strings(statuses)
	kinds := make([]string, 0, len(fig.byKind))
	for k, n := range fig.byKind {
		kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
	}
	sort.Strings(kinds)
	t.Logf("T6 hostile HTTP (seed %d): %d requests in %v by %d workers + %d slow clients; status classes: %s; statuses %s; refused by net/http before coffer: %d; "+
		"5xx %d, panics %d, envelope violations %d, probe requests %d (failed %d), slow clients dropped by the server %d/%d, peak HeapInuse %.1f MiB, goroutines left %d",
		seed, total, elapsed.Round(time.Millisecond), hostileWorkers, slowClients, strings.Join(classes, ", "), strings.Join(statuses, " "), fig.netHTTP,
		len(fig.fiveXX), panics, len(fig.envelopeBad), probes.Load(), len(probeFails), slowClosed.Load(), slowOpen.Load(),
		float64(heapMax.Load())/(1<<20), max(leaked, 0))
	t.Logf("T6 requests by kind: %s", strings.Join(kinds, ", "))
	if len(fig.fiveXX) > 0 {
		t.Errorf("%d answers 5xx: %s", len(fig.fiveXX), strings.Join(first(fig.fiveXX, 10), "\n"))
	}
	if panics > 0 {
		t.Errorf("the server log mentions a panic %d times", panics)
	}
	if len(fig.envelopeBad) > 0 {
		t.Errorf("%d error answers outside their surface's envelope: %s", len(fig.envelopeBad), strings.Join(first(fig.envelopeBad, 10), "\n"))
	}
	if len(probeFails) > 0 {
		t.Errorf("the normal request failed %d times of %d: %s", len(probeFails), probes.Load(), strings.Join(first(probeFails, 5), "; "))
	}
	if slowClosed.Load() != slowOpen.Load() {
		t.Errorf("the server dropped %d of %d slow clients within %v", slowClosed.Load(), slowOpen.Load(), slowFor)
	}
	if heapMax.Load() > hostileHeapBound {
		t.Errorf("peak HeapInuse %d MiB, bound %d MiB", heapMax.Load()>>20, hostileHeapBound>>20)
	}
	if leaked > 0 {
		t.Errorf("%d goroutines left after the server shut down", leaked)
	}
	if fig.byClass["2xx"]+fig.byClass["4xx"] < total/2 {
		t.Errorf("only %d answers 2xx or 4xx of %d: the generator does not reach coffer", fig.byClass["2xx"]+fig.byClass["4xx"], total)
	}
}

// panicCounter counts the server log records that mention a panic (the
// handlers' recover logs "panic in handler", net/http "panic serving").
type panicCounter struct{ n atomic.Int64 }

func (p *panicCounter) Write(b []byte) (int, error) {
	p.n.Add(int64(bytes.Count(b, []byte("panic"))))
	return len(b), nil
}

// hostileConn sends hostile requests over one TCP connection, reconnecting
// whenever the server closes it.
type hostileConn struct {
	addr string
	conn net.Conn
	br   *bufio.Reader
}

func (c *hostileConn) close() {
	if c.conn != nil {
		c.conn.Close()
		c.conn = nil
	}
}

// send writes h and reads the answer: status 0 when none came.
func (c *hostileConn) send(h *hostile) (int, http.Header, []byte) {
	if c.conn == nil {
		conn, err := net.Dial("tcp", c.addr)
		if err != nil {
			return 0, nil, nil
		}
		c.conn, c.br = conn, bufio.NewReader(conn)
	}
	conn := c.conn
	conn.SetDeadline(time.Now().Add(20 * time.Second))
	// The body is written while the answer is read: the server may answer
	// (413) and close before it has taken everything.
	writeDone := make(chan struct{})
	go func() {
		defer close(writeDone)
		if _, err := conn.Write(h.head); err != nil {
			return
		}
		switch h.mode {
		case bodyFixed, bodyRaw:
			conn.Write(h.body)
		case bodyChunked:
			for b := h.body; len(b) > 0; {
				n := min(len(b), 4096)
				fmt.Fprintf(conn, "%x\r\n%s\r\n", n, b[:n])
				b = b[n:]
			}
			io.WriteString(conn, "0\r\n\r\n")
		case bodyEndless:
			chunk := bytes.Repeat([]byte("["), 64<<10)
			for range 64 { // 4 MiB at most
				if _, err := fmt.Fprintf(conn, "%x\r\n%s\r\n", len(chunk), chunk); err != nil {
					return
				}
			}
		case bodyTruncated:
			conn.Write(h.body)
		}
		if h.mode == bodyTruncated || h.mode == bodyRaw {
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.CloseWrite()
			}
		}
	}()
	resp, err := http.ReadResponse(c.br, &http.Request{Method: h.method})
	for err == nil && resp.StatusCode == http.StatusContinue {
		resp, err = http.ReadResponse(c.br, &http.Request{Method: h.method})
	}
	if err != nil {
		c.close()
		<-writeDone
		return 0, nil, nil
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 2<<20))
	resp.Body.Close()
	if resp.Close || h.mode != bodyFixed && h.mode != bodyChunked {
		c.close()
	}
	<-writeDone
	if h.mode != bodyFixed && h.mode != bodyChunked {
		c.close()
	}
	return resp.StatusCode, resp.Header, body
}

// hostileGen generates requests.
type hostileGen struct {
	rnd    *mrand.Rand
	domain string
	token  string
	policy string
	key    string // a service key id
}

func (g *hostileGen) pick(s []string) string { return s[g.rnd.IntN(len(s))] }

// routes are the path templates of every surface: {d} a domain, {p} a
// secret path, {n} a version, {u} a login, {t} a token name, {g} a group,
// {id} a policy id, {c} a credential id, {k} a service key id.
var hostileRoutes = []struct{ surface, path string }{
	{"B", "/api/{d}/v2/secret"}, {"B", "/api/{d}/v2/secret/{p}"}, {"B", "/api/{d}/v2/secret/{p}/version"},
	{"B", "/api/{d}/v2/secret/{p}/version/{n}"}, {"B", "/api/{d}/v2/secretConfig"}, {"B", "/api/{d}/v2/{p}"},
	{"A", "/v2/okms/resource"}, {"A", "/v2/okms/resource/{d}"}, {"A", "/v2/okms/reference/regions"},
	{"A", "/v2/okms/reference/secretConfig"}, {"A", "/v2/okms/resource/{d}/secret"}, {"A", "/v2/okms/resource/{d}/secret/{p}"},
	{"A", "/v2/okms/resource/{d}/secret/{p}/version"}, {"A", "/v2/okms/resource/{d}/secret/{p}/version/{n}"},
	{"A", "/v2/okms/resource/{d}/secretConfig"}, {"A", "/v2/okms/resource/{d}/credential"},
	{"A", "/v2/okms/resource/{d}/credential/{c}"}, {"A", "/v2/{p}"},
	{"B", "/api/{d}/v1/servicekey"}, {"B", "/api/{d}/v1/servicekey/{k}"}, {"B", "/api/{d}/v1/servicekey/{k}/encrypt"},
	{"B", "/api/{d}/v1/servicekey/{k}/decrypt"}, {"B", "/api/{d}/v1/servicekey/{k}/datakey"},
	{"B", "/api/{d}/v1/servicekey/{k}/datakey/decrypt"}, {"B", "/api/{d}/v1/servicekey/{k}/sign"},
	{"B", "/api/{d}/v1/servicekey/{k}/verify"}, {"B", "/api/{d}/v1/servicekey/{k}/activate"},
	{"B", "/api/{d}/v1/servicekey/{k}/deactivate"}, {"B", "/api/{d}/v1/servicekey/{k}/{p}"}, {"B", "/api/{d}/v1/random"},
	{"A", "/v2/okms/resource/{d}/serviceKey"}, {"A", "/v2/okms/resource/{d}/serviceKey/{k}"}, {"A", "/v2/okms/reference/serviceKey"},
	{"C", "/v1/secret/data/{p}"}, {"C", "/v1/secret/metadata/{p}"}, {"C", "/v1/secret/metadata/"},
	{"C", "/v1/secret/delete/{p}"}, {"C", "/v1/secret/undelete/{p}"}, {"C", "/v1/secret/destroy/{p}"},
	{"C", "/v1/secret/subkeys/{p}"}, {"C", "/v1/secret/config"}, {"C", "/v1/sys/health"}, {"C", "/v1/sys/seal-status"},
	{"C", "/v1/sys/leader"}, {"C", "/v1/sys/internal/ui/mounts/secret"}, {"C", "/v1/auth/token/lookup-self"},
	{"C", "/v1/auth/token/create"}, {"C", "/v1/auth/token/renew-self"}, {"C", "/api/{d}/v1/secret/data/{p}"},
	{"C", "/v1/{p}"},
	{"T", "/v1/transit/keys"}, {"T", "/v1/transit/keys/{k}"}, {"T", "/v1/transit/keys/{k}/config"},
	{"T", "/v1/transit/keys/{k}/rotate"}, {"T", "/v1/transit/keys/{k}/trim"}, {"T", "/v1/transit/encrypt/{k}"},
	{"T", "/v1/transit/decrypt/{k}"}, {"T", "/v1/transit/rewrap/{k}"}, {"T", "/v1/transit/datakey/plaintext/{k}"},
	{"T", "/v1/transit/sign/{k}/sha2-256"}, {"T", "/v1/transit/verify/{k}"}, {"T", "/v1/transit/hmac/{k}"},
	{"T", "/v1/transit/random/{p}"}, {"T", "/v1/transit/hash/{p}"}, {"T", "/api/{d}/v1/transit/encrypt/{k}"},
	{"T", "/v1/transit/{p}"},
	{"iam", "/1.0/me/identity/user"}, {"iam", "/1.0/me/identity/user/{u}"}, {"iam", "/1.0/me/identity/user/{u}/token"},
	{"iam", "/1.0/me/identity/user/{u}/token/{t}"}, {"iam", "/1.0/me/identity/group"}, {"iam", "/1.0/me/identity/group/{g}"},
	{"iam", "/v2/iam/policy"}, {"iam", "/v2/iam/policy/{id}"}, {"iam", "/v2/iam/audit"},
	{"iam", "/1.0/me/api/oauth2/client"}, {"iam", "/1.0/me/api/oauth2/client/{s}"}, {"oauth2", "/auth/oauth2/token"},
	{"root", "/healthz"}, {"root", "/readyz"}, {"root", "/metrics"}, {"root", "/docs"}, {"root", "/docs/openapi.json"},
	{"root", "/{p}"}, {"ui", "/ui/{p}"},
	{"root", "/sys/backup"}, {"root", "/sys/restore"}, {"root", "/sys/{p}"},
	{"root", "/sys/master-key/rotate"}, {"root", "/sys/domains/{d}/key/rotate"},
}

var (
	hostileMethods = []string{"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "LIST", "SCAN", "TRACE",
		"CONNECT", "get", "PROPFIND", "M-SEARCH", strings.Repeat("X", 300)}
	// Path fragments: traversal in every spelling, encodings, control and
	// invalid bytes, sizes.
	hostileFragments = []string{
		"hz/a", "hz%2Fa", "..", "%2e%2e", "%2E%2E%2F", "%252e%252e", "..%2f..%2fsys", "%2e%2e/sys/keyring",
		"a/../b", "./a", "a/./b", "a//b", "/", "", "%00", "a%00b", "%ff%fe", "\xff\xfe", "\xc0\xae\xc0\xae", "%C0%AE%C0%AE",
		"．．/a", "%EF%BC%8E%EF%BC%8E", "\\..\\a", "..\\a", "%5c..%5c", "a%2F%2Fb", "%", "%%", "%zz", "😀", "a#b", "a;b",
		"%20", "+", "%2B", "a%3Fb", "%25", "%252F", "d/" + "x" + "/s/hz", "sys%2Fkeyring", "a%0d%0aX-Injected:%201",
		strings.Repeat("a", 16<<10), strings.Repeat("a/", 8<<10), strings.Repeat("%2e%2e%2f", 1800), strings.Repeat("é", 300),
		strings.Repeat("a", 255), strings.Repeat("a", 256),
	}
	hostileQueries = []string{"", "", "", "?format=jwk", "?format=PEM", "?state=all&max=-5&continuation-token=%zz",
		"?wrappingKeyId=x&wrappedKeyFormat=PKCS1&wrappingAlgorithm=RSA-OAEP", "?length=4097", "?length=-1", "?format=jwt", "?cas=1", "?cas=-1", "?cas=99999999999999999999999", "?cas=1&cas=2",
		"?version=abc", "?version=0", "?version=24001", "?includeData=maybe", "?includeData=true", "?list=true",
		"?list=maybe", "?%zz", "?a=%00", "?publicCA=true", "?confirm=no", "?n=99999999999", "?depth=-1",
		"?" + strings.Repeat("q=1&", 4000), "?\xff=\xfe", "?%25252e=1"}
	hostileCTs = []string{"application/json", "application/json", "", "text/plain", "application/x-www-form-urlencoded",
		"multipart/form-data; boundary=x", "application/merge-patch+json", "application/json; charset=latin1",
		"application/xml", "\xff/\xfe", strings.Repeat("a", 2000)}
)

// bodies are JSON documents near what the routes accept, and hostile ones.
func (g *hostileGen) body() (string, []byte) {
	switch g.rnd.IntN(17) {
	case 0:
		return "valid", []byte(g.pick([]string{
			`{"path":"hz/new","version":{"data":{"k":"v"}}}`, `{"data":{"k":"v"}}`, `{"version":{"data":{"k":"v"}}}`,
			`{"state":"deactivated"}`, `{"maxVersions":5}`, `{"data":{"k":"v"},"options":{"cas":0}}`,
			`{"name":"hz","role":"REGULAR"}`, `{"login":"hz"}`, `{"name":"t"}`, `{"versions":[1]}`,
			`{"displayName":"hz"}`, `{"custom_metadata":{"a":"b"}}`,
			`{"name":"hz","type":"oct","size":128}`, `{"plaintext":"aGk="}`, `{"ciphertext":"a.b.c.d.e"}`, `{"key":"a.b.c.d.e"}`,
			`{"message":"aGk=","alg":"RS256"}`, `{"message":"aGk=","alg":"PS512","signature":"aGk=","isdigest":true}`,
			`{"size":256}`, `{"reason":"superseded"}`, `{"name":"hz","extractable":true}`, `{"state":"DEACTIVATED"}`,
			`{"plaintext":"aGk=","context":"Yw=="}`, `{"batch_input":[{"plaintext":"aGk="},{"ciphertext":"vault:v1:AAAA"}]}`,
			`{"ciphertext":"vault:v1:AAAA"}`, `{"input":"aGk=","signature":"vault:v1:AAAA"}`, `{"input":"aGk=","hmac":"vault:v1:AAAA"}`,
			`{"type":"ecdsa-p256"}`, `{"min_decryption_version":"1"}`, `{"min_available_version":1}`, `{"bits":512}`}))
	case 14:
		return "hostile key", []byte(g.pick([]string{
			`{"name":"hz","keys":[{"kty":"RSA","n":"` + strings.Repeat("A", 70000) + `","e":"AQAB","d":"AQ","p":"AQ","q":"AQ"}]}`,
			`{"name":"hz","keys":[{"kty":"EC","crv":"P-256","x":"` + strings.Repeat("_", 100) + `","y":"AA","d":"AA"}]}`,
			`{"name":"hz","keys":[{"kty":"oct","k":"AA"},{"kty":"oct","k":"AA"}],"wrappedKeys":[{}]}`,
			`{"name":"hz","wrappedKeys":[{"keyFormatType":"JWK","wrappingKeyId":"` + g.key + `","ciphertext":"` + strings.Repeat("a.", 5000) + `"}]}`,
			`{"ciphertext":"` + strings.Repeat("eyJhbGciOiJkaXIifQ.", 2000) + `"}`,
			`{"message":"` + strings.Repeat("QUFB", 2000) + `","alg":"ES256"}`,
			`{"signature":"` + strings.Repeat("a", 100000) + `","alg":"RS512","message":null}`,
			`{"plaintext":"\u0000\u0000","context":"` + strings.Repeat("c", 1000) + `"}`,
			`{"batch_input":[` + strings.Repeat(`{"plaintext":"aGk="},`, 5000) + `{}]}`,
			`{"batch_input":"` + strings.Repeat("[", 5000) + `"}`, `{"batch_input":[null,1,"x",[]]}`,
			`{"ciphertext":"vault:v99999999999:AAAA"}`, `{"ciphertext":"vault:v0:AAAA","context":"%%%"}`,
			`{"key_version":-1,"plaintext":"aGk="}`, `{"bits":1e400}`, `{"partial_failure_response_code":999,"batch_input":[{}]}`,
			`{"input":"aGk=","prehashed":true,"signature_algorithm":"pss","marshaling_algorithm":"jws","hash_algorithm":"sha3-512"}`,
			`{"size":-1}`, `{"size":1e400}`, `{"reason":null}`, `{"operations":["sign","sign","sign"],"name":"hz","type":"EC","curve":"P-256"}`,
		}))
	case 1:
		n := 10000
		return "nested 10000", []byte(`{"data":` + strings.Repeat(`{"a":`, n) + "1" + strings.Repeat("}", n) + `}`)
	case 2:
		return "nested arrays", bytes.Repeat([]byte("["), 10000+g.rnd.IntN(10000))
	case 3:
		return "1e400", []byte(`{"path":"hz/n","data":{"n":1e400},"version":{"data":{"n":-1e400}},"maxVersions":1e400,"options":{"cas":1e400},"max_versions":1e400}`)
	case 4:
		return "duplicate keys", []byte(`{"path":"hz/d","path":"hz/e","version":{"data":{"k":"v","k":"w"}},"data":{"a":1,"a":2},"name":"a","name":"b"}`)
	case 5:
		return "invalid UTF-8", []byte("{\"path\":\"hz/\xff\",\"data\":{\"k\xfe\":\"\xc0\xae\"},\"version\":{\"data\":{\"\xff\":1}}}")
	case 6:
		return "NUL", []byte("{\"path\":\"hz/\\u0000\",\"data\":{\"k\":\"a\\u0000b\"}}\x00")
	case 7:
		b := make([]byte, g.rnd.IntN(2048))
		for i := range b {
			b[i] = byte(g.rnd.IntN(256))
		}
		return "random body", b
	case 8:
		return "1 MiB + 1", append(append([]byte(`{"data":{"k":"`), bytes.Repeat([]byte("a"), 1<<20)...), []byte(`"}}`)...)
	case 9:
		return "not an object", []byte(g.pick([]string{`[]`, `null`, `"s"`, `1`, `true`, `{}`, `{"data":null}`, `{"data":[]}`}))
	case 10:
		return "wrong types", []byte(`{"path":1,"version":"x","metadata":[],"data":{"k":{"n":[1,{"x":null}]}},"maxVersions":"10","casRequired":"yes","state":7,"versions":"1,x,3","identities":{"a":1}}`)
	case 11:
		return "long strings", []byte(`{"path":"` + strings.Repeat("p", 70000) + `","data":{"` + strings.Repeat("k", 70000) + `":"v"}}`)
	case 12:
		return "many members", []byte(`{"data":{` + strings.TrimSuffix(strings.Repeat(`"k":1,`, 40000), ",") + `}}`)
	case 13:
		return "trailing data", []byte(`{"data":{"k":"v"}} {"data":{}} garbage`)
	}
	return "empty", nil
}

// next returns the next request.
func (g *hostileGen) next() *hostile {
	h := &hostile{method: "GET"}
	if g.rnd.IntN(40) == 0 {
		b := make([]byte, 1+g.rnd.IntN(4096))
		for i := range b {
			b[i] = byte(g.rnd.IntN(256))
		}
		h.kind, h.mode, h.head = "random bytes", bodyRaw, b
		return h
	}
	rt := hostileRoutes[g.rnd.IntN(len(hostileRoutes))]
	h.surface = rt.surface
	path := rt.path
	for _, ph := range []struct{ name, valid string }{{"{d}", g.domain}, {"{p}", "hz%2Fa"}, {"{n}", "1"}, {"{u}", "hz"},
		{"{t}", "t"}, {"{g}", "hz"}, {"{id}", g.policy}, {"{c}", "00000000-0000-4000-8000-000000000000"}, {"{s}", "0123456789abcdef"}, {"{k}", g.key}} {
		if !strings.Contains(path, ph.name) {
			continue
		}
		v := ph.valid
		if g.rnd.IntN(2) == 0 {
			v = g.pick(hostileFragments)
		}
		path = strings.ReplaceAll(path, ph.name, v)
	}
	target := path + g.pick(hostileQueries)
	kind := []string{"path"}
	if path != rt.path && strings.ContainsAny(path, ".%\\\xff\xc0") {
		kind = append(kind, "hostile path")
	}
	if g.rnd.IntN(4) > 0 {
		h.method = g.pick(hostileMethods[:5])
	} else {
		h.method = g.pick(hostileMethods)
		kind = append(kind, "odd method")
	}

	var hdr strings.Builder
	fmt.Fprintf(&hdr, "%s %s HTTP/1.1\r\nHost: coffer\r\n", h.method, target)
	switch r := g.rnd.IntN(20); {
	case r < 13:
		fmt.Fprintf(&hdr, "Authorization: Bearer %s\r\n", g.token)
	case r < 15:
		fmt.Fprintf(&hdr, "X-Vault-Token: %s\r\n", g.token)
	case r < 16:
		kind = append(kind, "no token")
	case r < 17:
		fmt.Fprintf(&hdr, "Authorization: Bearer %s\r\n", strings.Repeat("t", 10000))
		kind = append(kind, "long token")
	case r < 18:
		io.WriteString(&hdr, "Authorization: Bearer cof_root_\xff\xfe\r\n")
		kind = append(kind, "bad token")
	case r < 19:
		io.WriteString(&hdr, "Authorization: Basic cm9vdDpyb290\r\n")
		kind = append(kind, "basic auth")
	default:
		fmt.Fprintf(&hdr, "Authorization: Bearer %s\r\nX-Vault-Token: \x01\r\n", g.token)
		kind = append(kind, "control byte in header")
	}
	if strings.HasSuffix(path, "revoke-self") || strings.HasSuffix(path, "/rotate") {
		// Never revoke the root token the probe uses, nor rotate keys: an
		// unauthenticated request only.
		hdr.Reset()
		fmt.Fprintf(&hdr, "%s %s HTTP/1.1\r\nHost: coffer\r\n", h.method, target)
	}
	switch g.rnd.IntN(30) {
	case 0:
		fmt.Fprintf(&hdr, "X-Big: %s\r\n", strings.Repeat("b", 70<<10))
		kind = append(kind, "oversized header")
	case 1:
		for i := range 2000 {
			fmt.Fprintf(&hdr, "X-H%d: v\r\n", i)
		}
		kind = append(kind, "many headers")
	case 2:
		io.WriteString(&hdr, "X-Pagination-Size: -1\r\nX-Pagination-Cursor: !!!\r\n")
		kind = append(kind, "pagination headers")
	case 3:
		io.WriteString(&hdr, "X-Vault-Namespace: other\r\nX-Vault-Wrap-TTL: 10s\r\n")
	case 4:
		io.WriteString(&hdr, "Expect: 100-continue\r\n")
	case 5:
		io.WriteString(&hdr, "Content-Length: 5\r\nContent-Length: 6\r\n")
		kind = append(kind, "conflicting lengths")
	case 6:
		io.WriteString(&hdr, "X-Pagination-Cursor: "+strings.Repeat("e30", 3000)+"\r\n")
	}

	bodyKind, body := "", []byte(nil)
	if h.method != "GET" && h.method != "HEAD" || g.rnd.IntN(10) == 0 {
		bodyKind, body = g.body()
		kind = append(kind, bodyKind)
	}
	if ct := g.pick(hostileCTs); ct != "" && body != nil {
		fmt.Fprintf(&hdr, "Content-Type: %s\r\n", ct)
	}
	switch r := g.rnd.IntN(20); {
	case body == nil:
		h.mode = bodyFixed
	case r < 13:
		h.mode = bodyFixed
		fmt.Fprintf(&hdr, "Content-Length: %d\r\n", len(body))
	case r < 16:
		h.mode = bodyChunked
		io.WriteString(&hdr, "Transfer-Encoding: chunked\r\n")
		kind = append(kind, "chunked")
	case r < 17:
		h.mode = bodyEndless
		io.WriteString(&hdr, "Transfer-Encoding: chunked\r\n")
		kind = append(kind, "endless chunked")
	case r < 19:
		h.mode = bodyTruncated
		fmt.Fprintf(&hdr, "Content-Length: %d\r\n", len(body)+1+g.rnd.IntN(1000))
		kind = append(kind, "truncated")
	default:
		// The body is not sent: the server must not wait for it.
		h.mode = bodyFixed
		fmt.Fprintf(&hdr, "Content-Length: %s\r\n", g.pick([]string{"-1", "abc", "99999999999999999999", "1048577"}))
		kind = append(kind, "bad length")
		body = nil
	}
	hdr.WriteString("\r\n")
	h.head, h.body = []byte(hdr.String()), body
	h.kind = kind[len(kind)-1]
	return h
}
