package loadgen

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Scenario describes one workload of [Run].
type Scenario struct {
	Name string
	Doc  string
}

// scenario is a workload: how to prepare the server, and the request each
// connection sends next.
type scenario struct {
	Scenario
	// setup prepares the server (creates the secrets read); nil for none.
	setup func(ctx context.Context, r *runner) error
	// next returns the next request of w. The request may be w's own
	// buffer, reused from call to call.
	next func(w *worker) *request
	// after sees the response of the request next returned (ok: 2xx), to
	// advance w's state.
	after func(w *worker, ok bool, resp response)
	// surfaceB reports that the scenario needs the OKMS domain id.
	surfaceB bool
	// key reports that setup creates the service key the scenario uses:
	// it runs even with Config.NoSetup.
	key bool
}

// rotateAfter is the number of versions a write scenario adds to one secret
// before it moves on to a new one: a secret holds at most 24,000 version
// ids (okms-rest.md 2.3).
const rotateAfter = 20000

var scenarios = []scenario{
	{
		Scenario: Scenario{"kv2-read", "KV2 read of one small secret (GET /v1/secret/data/<path>)"},
		setup:    func(ctx context.Context, r *runner) error { return r.createReadSecrets(ctx, 1) },
		next:     func(w *worker) *request { return w.kv2Read(0) },
	},
	{
		Scenario: Scenario{"kv2-read-many", "KV2 reads spread over --secrets small secrets"},
		setup:    func(ctx context.Context, r *runner) error { return r.createReadSecrets(ctx, r.cfg.Secrets) },
		next:     func(w *worker) *request { return w.kv2Read(w.spread()) },
	},
	{
		Scenario: Scenario{"kv2-write", "KV2 writes: a new version per request (POST /v1/secret/data/<path>), one secret per connection"},
		next:     func(w *worker) *request { return w.kv2Write(false) },
		after:    (*worker).afterWrite,
	},
	{
		Scenario: Scenario{"kv2-write-cas", "KV2 writes with check-and-set (options.cas = the current version)"},
		next:     func(w *worker) *request { return w.kv2Write(true) },
		after:    (*worker).afterWrite,
	},
	{
		Scenario: Scenario{"rest-read", "surface-B read of one small secret with its data (GET /api/{okmsId}/v2/secret/<path>?includeData=true)"},
		setup:    func(ctx context.Context, r *runner) error { return r.createReadSecrets(ctx, 1) },
		next:     func(w *worker) *request { return w.restRead(0) },
		surfaceB: true,
	},
	{
		Scenario: Scenario{"rest-write", "surface-B writes: a new version per request (POST /api/{okmsId}/v2/secret/<path>/version), one secret per connection"},
		next:     (*worker).restWrite,
		after:    (*worker).afterWrite,
		surfaceB: true,
	},
	{
		Scenario: Scenario{"list", "surface-B list pages of the domain's secrets (GET /api/{okmsId}/v2/secret, X-Pagination-Size), following the cursor; --secrets exist"},
		setup:    func(ctx context.Context, r *runner) error { return r.createReadSecrets(ctx, r.cfg.Secrets) },
		next:     (*worker).listPage,
		after:    func(w *worker, ok bool, resp response) { w.cursor = string(resp.cursor) },
		surfaceB: true,
	},
	{
		Scenario: Scenario{"key-encrypt", "service key encryption of 1 KiB with an oct 256 key (POST /api/{okmsId}/v1/servicekey/{keyId}/encrypt)"},
		setup: func(ctx context.Context, r *runner) error {
			return r.createKey(ctx, `{"name":"bench-encrypt","type":"oct","size":256,"operations":["encrypt","decrypt"]}`,
				"/encrypt", `{"plaintext":"`+base64.StdEncoding.EncodeToString(randomBytes(1024))+`"}`)
		},
		next:     (*worker).keyOp,
		surfaceB: true,
		key:      true,
	},
	{
		Scenario: Scenario{"key-sign-ec", "service key signature of a SHA-256 digest with an EC P-256 key, ES256 (POST .../servicekey/{keyId}/sign)"},
		setup: func(ctx context.Context, r *runner) error {
			return r.createKey(ctx, `{"name":"bench-sign-ec","type":"EC","curve":"P-256","operations":["sign","verify"]}`,
				"/sign", signBody("ES256"))
		},
		next:     (*worker).keyOp,
		surfaceB: true,
		key:      true,
	},
	{
		Scenario: Scenario{"key-sign-rsa", "service key signature of a SHA-256 digest with an RSA 2048 key, RS256 (POST .../servicekey/{keyId}/sign)"},
		setup: func(ctx context.Context, r *runner) error {
			return r.createKey(ctx, `{"name":"bench-sign-rsa","type":"RSA","size":2048,"operations":["sign","verify"]}`,
				"/sign", signBody("RS256"))
		},
		next:     (*worker).keyOp,
		surfaceB: true,
		key:      true,
	},
	{
		Scenario: Scenario{"transit-encrypt", "Vault Transit encryption of 1 KiB with an aes256-gcm96 key (POST /v1/transit/encrypt/<name>, or under /api/{okmsId} with --okms-id)"},
		setup: func(ctx context.Context, r *runner) error {
			return r.createTransitKey(ctx, "bench-transit", `{"type":"aes256-gcm96"}`,
				"/encrypt/", `{"plaintext":"`+base64.StdEncoding.EncodeToString(randomBytes(1024))+`"}`)
		},
		next: (*worker).transitOp,
		key:  true,
	},
	{
		Scenario: Scenario{"mixed", "90% KV2 reads spread over --secrets secrets, 10% KV2 writes"},
		setup:    func(ctx context.Context, r *runner) error { return r.createReadSecrets(ctx, r.cfg.Secrets) },
		next: func(w *worker) *request {
			if w.n%10 == 9 {
				return w.kv2Write(false)
			}
			return w.kv2Read(w.spread())
		},
		after: func(w *worker, ok bool, resp response) {
			if w.req.method == "POST" {
				w.afterWrite(ok, resp)
			}
		},
	},
}

// Scenarios returns the scenarios [Run] knows, in a stable order.
func Scenarios() []Scenario {
	out := make([]Scenario, len(scenarios))
	for i, s := range scenarios {
		out[i] = s.Scenario
	}
	return out
}

func lookup(name string) (*scenario, error) {
	for i := range scenarios {
		if scenarios[i].Name == name {
			return &scenarios[i], nil
		}
	}
	names := make([]string, len(scenarios))
	for i, s := range scenarios {
		names[i] = s.Name
	}
	return nil, fmt.Errorf("unknown scenario %q (one of %s)", name, strings.Join(names, ", "))
}

// Paths. Every secret of a run lives under the run's prefix: <prefix>/r/<i>
// are read, <prefix>/w/<connection>-<generation> are written.

func (r *runner) readPath(i int) string { return r.prefix + "/r/" + strconv.Itoa(i) }

func (r *runner) kv2DataURL(path string) string { return r.kv2Base + "data/" + path }

// restURL returns the surface-B URL of a secret, its path escaped with %2F
// (okms-rest.md 1.2).
func (r *runner) restURL(path string) string {
	return r.restBase + "/" + strings.ReplaceAll(path, "/", "%2F")
}

func (r *runner) kv2WriteBody(cas int64) []byte {
	b := make([]byte, 0, len(r.value)+40)
	b = append(b, `{"data":`...)
	b = append(b, r.value...)
	if cas >= 0 {
		b = append(b, `,"options":{"cas":`...)
		b = strconv.AppendInt(b, cas, 10)
		b = append(b, '}')
	}
	return append(b, '}')
}

// createReadSecrets writes secrets <prefix>/r/0..n-1 through KV2, from up
// to 16 connections at once.
func (r *runner) createReadSecrets(ctx context.Context, n int) error {
	var (
		next    atomic.Int64
		wg      sync.WaitGroup
		errOnce sync.Once
		first   error
	)
	body := r.kv2WriteBody(-1)
	for range min(n, 16, max(r.cfg.Connections, 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newConn(r.target)
			defer c.Close()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				req := &request{method: "POST", path: r.kv2DataURL(r.readPath(i)), header: r.kv2Header, body: body}
				if err := checkSetup(c.do(ctx, req)); err != nil {
					errOnce.Do(func() { first = fmt.Errorf("setup: create %s: %w", r.readPath(i), err) })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil {
		first = ctx.Err()
	}
	return first
}

// checkSetup turns a failed setup request into an error.
func checkSetup(resp response, err error) error {
	if err != nil {
		return err
	}
	if resp.status/100 != 2 {
		return fmt.Errorf("status %d: %s", resp.status, snippet(resp.body))
	}
	return nil
}

// snippet returns the start of a response body for an error message.
func snippet(b []byte) string {
	const n = 200
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// Requests of a connection. Each fills w.req and returns it.

func (w *worker) kv2Read(i int) *request {
	w.req = request{method: "GET", path: w.r.kv2ReadURLs[i], header: w.r.kv2Header}
	return &w.req
}

func (w *worker) restRead(i int) *request {
	w.req = request{method: "GET", path: w.r.restReadURLs[i], header: w.r.restHeader}
	return &w.req
}

// spread returns the next secret index of a read spread over --secrets:
// each connection starts at its own offset and walks them in order.
func (w *worker) spread() int {
	n := w.r.cfg.Secrets
	return (max(w.id, 0)*n/max(w.r.cfg.Connections, 1) + int(w.n%uint64(n))) % n
}

// writePath is the secret a connection writes now.
func (w *worker) writePath() string {
	id := strconv.Itoa(w.id)
	if w.id < 0 {
		id = "probe"
	}
	return w.r.prefix + "/w/" + id + "-" + strconv.Itoa(w.gen)
}

func (w *worker) kv2Write(cas bool) *request {
	body := w.r.kv2PlainBody
	if cas {
		body = w.r.kv2WriteBody(int64(w.writes))
	}
	if w.writeURLGen != w.gen || w.writeURL == "" {
		w.writeURL, w.writeURLGen = w.r.kv2DataURL(w.writePath()), w.gen
	}
	w.req = request{method: "POST", path: w.writeURL, header: w.r.kv2Header, body: body}
	return &w.req
}

// restWrite adds a version to the connection's secret, creating the secret
// first (POST /v2/secret) when the connection has none yet.
func (w *worker) restWrite() *request {
	if w.writes == 0 {
		body := `{"path":"` + w.writePath() + `","version":{"data":` + string(w.r.value) + `}}`
		w.req = request{method: "POST", path: w.r.restBase, header: w.r.restHeader, body: []byte(body)}
		return &w.req
	}
	if w.writeURLGen != w.gen || w.writeURL == "" {
		w.writeURL, w.writeURLGen = w.r.restURL(w.writePath())+"/version", w.gen
	}
	w.req = request{method: "POST", path: w.writeURL, header: w.r.restHeader, body: w.r.restVersionBody}
	return &w.req
}

// afterWrite counts the versions of the connection's secret, and moves to a
// new secret before the version ids run out.
func (w *worker) afterWrite(ok bool, _ response) {
	if !ok {
		return
	}
	w.writes++
	if w.writes >= rotateAfter {
		w.gen++
		w.writes = 0
	}
}

func (w *worker) listPage() *request {
	h := append(w.r.restHeader[:len(w.r.restHeader):len(w.r.restHeader)], [2]string{"X-Pagination-Size", strconv.Itoa(w.r.cfg.PageSize)})
	if w.cursor != "" {
		h = append(h, [2]string{"X-Pagination-Cursor", w.cursor})
	}
	w.req = request{method: "GET", path: w.r.restBase, header: h}
	return &w.req
}

// Service key scenarios: setup creates one key (left in the domain, as
// the secrets read are), and every request of every connection is the
// same operation on it.

// createKey creates a service key with body and sets the request the key
// scenarios send: POST <key>/<op> with opBody.
func (r *runner) createKey(ctx context.Context, body, op, opBody string) error {
	c := newConn(r.target)
	defer c.Close()
	req := &request{method: "POST", path: r.keyBase, header: r.restHeader, body: []byte(body)}
	resp, err := c.do(ctx, req)
	if err := checkSetup(resp, err); err != nil {
		return fmt.Errorf("setup: create a service key: %w", err)
	}
	var k struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(resp.body, &k); err != nil || k.ID == "" {
		return fmt.Errorf("setup: create a service key: no id in %s", snippet(resp.body))
	}
	r.keyOpURL, r.keyOpBody = r.keyBase+"/"+k.ID+op, []byte(opBody)
	return nil
}

// signBody is the body of a signature of a SHA-256 digest, as OVHcloud's
// okms CLI sends it (the digest computed on the client).
func signBody(alg string) string {
	d := sha256.Sum256(randomBytes(1024))
	return `{"message":"` + base64.StdEncoding.EncodeToString(d[:]) + `","alg":"` + alg + `","isdigest":true}`
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

// createTransitKey creates (or finds: Transit answers an existing name
// with its key) the Transit key name with body and sets the request the
// Transit scenarios send: POST <transit>/<op><name> with opBody, with the
// Vault token header.
func (r *runner) createTransitKey(ctx context.Context, name, body, op, opBody string) error {
	c := newConn(r.target)
	defer c.Close()
	req := &request{method: "POST", path: r.transitBase + "/keys/" + name, header: r.kv2Header, body: []byte(body)}
	if err := checkSetup(c.do(ctx, req)); err != nil {
		return fmt.Errorf("setup: create the Transit key %s: %w", name, err)
	}
	r.keyOpURL, r.keyOpBody = r.transitBase+op+name, []byte(opBody)
	return nil
}

func (w *worker) transitOp() *request {
	w.req = request{method: "POST", path: w.r.keyOpURL, header: w.r.kv2Header, body: w.r.keyOpBody}
	return &w.req
}

func (w *worker) keyOp() *request {
	w.req = request{method: "POST", path: w.r.keyOpURL, header: w.r.restHeader, body: w.r.keyOpBody}
	return &w.req
}
