package loadgen

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config configures [Run]. Addr and Scenario are required; zero fields
// take the defaults noted.
type Config struct {
	// Addr is the server's base URL, http://host:port or https://host:port.
	Addr string
	// TLS configures https connections (the server's CA); nil uses the
	// system roots.
	TLS *tls.Config
	// Token authenticates every request (X-Vault-Token on KV2,
	// Authorization: Bearer on surface B).
	Token string
	// OkmsID is the OKMS domain. KV2 requests go to /api/{okmsId}/v1/ when
	// it is set, to /v1/ (the default domain) otherwise; surface-B
	// scenarios require it.
	OkmsID string
	// Scenario is the name of one of [Scenarios].
	Scenario string
	// Connections is the number of concurrent keep-alive connections,
	// each a closed loop. Default 32.
	Connections int
	// Duration is how long the measurement lasts, after Warmup. Without
	// Duration and Requests, 10 seconds.
	Duration time.Duration
	// Requests, if positive, ends the measurement after that many
	// requests instead (Duration then bounds it too if set).
	Requests int64
	// Warmup is run before the measurement and not counted.
	Warmup time.Duration
	// Secrets is the number of secrets read by the scenarios that spread
	// their reads (kv2-read-many, list, mixed). Default 1000.
	Secrets int
	// ValueSize is the size in bytes of the JSON of each secret value
	// written. Default 64.
	ValueSize int
	// PageSize is the X-Pagination-Size of list pages. Default 100.
	PageSize int
	// Prefix is the path under which the run creates its secrets. Default
	// bench/<random>.
	Prefix string
	// NoSetup skips the setup: the secrets read (<Prefix>/r/0 to
	// <Prefix>/r/<Secrets-1>) exist already, from an earlier run or a
	// generator. The service key scenarios create their key anyway.
	NoSetup bool
	// Baseline also drives a minimal in-process server answering with
	// bodies of the scenario's response sizes, and reports the server's
	// rate as a percentage of it.
	Baseline bool
	// ServerPID, if set, is the process id of the server (on this
	// machine): its CPU time per request is then reported (Linux).
	ServerPID int
}

func (c Config) withDefaults() Config {
	if c.Connections <= 0 {
		c.Connections = 32
	}
	if c.Duration <= 0 && c.Requests <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.Secrets <= 0 {
		c.Secrets = 1000
	}
	if c.ValueSize <= 0 {
		c.ValueSize = 64
	}
	if c.PageSize <= 0 {
		c.PageSize = 100
	}
	if c.Prefix == "" && !c.NoSetup {
		var b [4]byte
		_, _ = rand.Read(b[:])
		c.Prefix = "bench/" + hex.EncodeToString(b[:])
	}
	return c
}

// Result is the measurement of one scenario against one server.
type Result struct {
	Scenario    string `json:"scenario"`
	Target      string `json:"target"` // the server's address, or "baseline"
	Connections int    `json:"connections"`
	// Seconds is the length of the measurement (warm-up excluded).
	Seconds float64 `json:"seconds"`
	// Requests counts the requests sent during the measurement; OK those
	// answered 2xx, Errors the others: Non2xx answered with another status,
	// TransportErrors not answered (connection refused or reset, malformed
	// response).
	Requests        uint64            `json:"requests"`
	OK              uint64            `json:"ok"`
	Errors          uint64            `json:"errors"`
	Non2xx          uint64            `json:"non2xx"`
	TransportErrors uint64            `json:"transportErrors"`
	Statuses        map[string]uint64 `json:"statuses,omitempty"` // non-2xx answers by status code
	FirstError      string            `json:"firstError,omitempty"`
	// Rate is OK per second.
	Rate    float64 `json:"rate"`
	Latency Latency `json:"latencyMs"`
	// ResponseBytes is the body size of the scenario's responses, by
	// method, as measured during setup.
	ResponseBytes map[string]int `json:"responseBytes,omitempty"`
	// Baseline is the same scenario against the in-process baseline
	// server, and BaselinePercent Rate as a percentage of its rate.
	Baseline        *Result `json:"baseline,omitempty"`
	BaselinePercent float64 `json:"baselinePercent,omitempty"`
	// CPU time per answered request, in microseconds (Linux, 10ms clock
	// ticks over the measurement): of the server process (with
	// Config.ServerPID) and of the load tool's own process (for the
	// baseline, the load tool and the baseline server together).
	ServerCPUMicros   float64 `json:"serverCpuUsPerRequest,omitempty"`
	LoadToolCPUMicros float64 `json:"loadToolCpuUsPerRequest,omitempty"`
	// CPUBaselinePercent is what BaselinePercent would be on a machine
	// doing nothing else, when both runs are CPU-bound: the baseline's CPU
	// per request (load tool and baseline server) over the server's plus
	// the load tool's. Unlike rates, CPU times per request hardly move
	// when other processes compete for the CPUs.
	CPUBaselinePercent float64 `json:"cpuBaselinePercent,omitempty"`
}

// Latency is a latency distribution in milliseconds, over every answered
// request of the measurement (2xx or not).
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99.9"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// Run prepares the server for cfg.Scenario (setup: the secrets it reads),
// measures one response of each method for the baseline, drives the server
// and, with cfg.Baseline, the baseline. It returns an error when the
// configuration is invalid or the setup fails; errors during the
// measurement are counted in the Result, not returned.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	sc, err := lookup(cfg.Scenario)
	if err != nil {
		return nil, err
	}
	if sc.surfaceB && cfg.OkmsID == "" {
		return nil, fmt.Errorf("scenario %s uses surface B and needs the OKMS domain id", sc.Name)
	}
	t, err := parseTarget(cfg.Addr, cfg.TLS)
	if err != nil {
		return nil, err
	}
	r := newRunner(cfg, t)
	if sc.setup != nil && (!cfg.NoSetup || sc.key) {
		if err := sc.setup(ctx, r); err != nil {
			return nil, err
		}
	}
	bodies, err := r.probe(ctx, sc)
	if err != nil {
		return nil, err
	}
	res := r.drive(ctx, sc, t)
	res.Target = cfg.Addr
	res.ResponseBytes = map[string]int{}
	for m, b := range bodies {
		res.ResponseBytes[m] = len(b)
	}
	if !cfg.Baseline || ctx.Err() != nil {
		return res, nil
	}
	bs, err := startBaseline(bodies, t.tls != nil)
	if err != nil {
		return nil, err
	}
	defer bs.Close()
	base := r.drive(ctx, sc, bs.target)
	base.ServerCPUMicros = 0 // the server measured is in the load tool
	base.Target = "baseline"
	base.ResponseBytes = res.ResponseBytes
	res.Baseline = base
	if base.Rate > 0 {
		res.BaselinePercent = 100 * res.Rate / base.Rate
	}
	if res.ServerCPUMicros > 0 && res.LoadToolCPUMicros > 0 && base.LoadToolCPUMicros > 0 {
		res.CPUBaselinePercent = 100 * base.LoadToolCPUMicros / (res.ServerCPUMicros + res.LoadToolCPUMicros)
	}
	return res, nil
}

// runner holds what the connections of a run share.
type runner struct {
	cfg    Config
	target target
	prefix string

	kv2Base, restBase     string
	kv2Header, restHeader [][2]string
	value                 []byte // the JSON of each value written
	kv2PlainBody          []byte // {"data":value}
	restVersionBody       []byte // {"data":value}
	kv2ReadURLs           []string
	restReadURLs          []string
	// Service key scenarios: the key collection, and the operation every
	// request sends (set by createKey).
	keyBase, keyOpURL string
	keyOpBody         []byte
	// Transit scenarios: the mount of the default domain, or of --okms-id.
	transitBase string
}

func newRunner(cfg Config, t target) *runner {
	r := &runner{cfg: cfg, target: t, prefix: cfg.Prefix}
	r.kv2Base = "/v1/secret/"
	r.transitBase = "/v1/transit"
	if cfg.OkmsID != "" {
		r.transitBase = "/api/" + cfg.OkmsID + "/v1/transit"
		r.kv2Base = "/api/" + cfg.OkmsID + "/v1/secret/"
		r.restBase = "/api/" + cfg.OkmsID + "/v2/secret"
		r.keyBase = "/api/" + cfg.OkmsID + "/v1/servicekey"
	}
	if cfg.Token != "" {
		r.kv2Header = [][2]string{{"X-Vault-Token", cfg.Token}}
		r.restHeader = [][2]string{{"Authorization", "Bearer " + cfg.Token}}
	}
	r.value = valueOfSize(cfg.ValueSize)
	r.kv2PlainBody = r.kv2WriteBody(-1)
	r.restVersionBody = []byte(`{"data":` + string(r.value) + `}`)
	n := max(cfg.Secrets, 1)
	r.kv2ReadURLs = make([]string, n)
	r.restReadURLs = make([]string, n)
	for i := range n {
		r.kv2ReadURLs[i] = r.kv2DataURL(r.readPath(i))
		r.restReadURLs[i] = r.restURL(r.readPath(i)) + "?includeData=true"
	}
	return r
}

// valueOfSize returns a JSON object of n bytes (at least 16):
// {"password":"xxxx…"}.
func valueOfSize(n int) []byte {
	const frame = len(`{"password":""}`)
	fill := max(n-frame, 1)
	var raw [64]byte
	_, _ = rand.Read(raw[:])
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 0, frame+fill)
	b = append(b, `{"password":"`...)
	for i := range fill {
		b = append(b, alphabet[int(raw[i%len(raw)]+byte(i/len(raw)))%len(alphabet)])
	}
	return append(b, `"}`...)
}

// probe sends up to 20 requests of the scenario from a connection of its
// own (writing to secrets of its own) and returns the last response body
// of each method, which the baseline reproduces.
func (r *runner) probe(ctx context.Context, sc *scenario) (map[string][]byte, error) {
	w := newWorker(r, -1, r.target)
	defer w.c.Close()
	bodies := map[string][]byte{}
	for range 20 {
		req := sc.next(w)
		resp, err := w.c.do(ctx, req)
		if err == nil && resp.status/100 != 2 {
			err = fmt.Errorf("status %d: %s", resp.status, snippet(resp.body))
		}
		if err != nil {
			return nil, fmt.Errorf("setup: first %s %s: %w", req.method, req.path, err)
		}
		bodies[req.method] = append([]byte(nil), resp.body...)
		if sc.after != nil {
			sc.after(w, true, resp)
		}
		w.n++
	}
	return bodies, nil
}

// worker is one connection of a measurement and its state.
type worker struct {
	r  *runner
	id int // -1 for the probe
	c  *conn

	req    request
	n      uint64 // requests sent, warm-up included
	h      histogram
	ok     uint64
	non2xx uint64
	transp uint64
	status map[int]uint64
	first  string

	// Write scenarios: the generation of the secret written and its
	// versions so far; the URL for that generation.
	gen, writes int
	writeURL    string
	writeURLGen int
	// List scenario: the cursor of the next page.
	cursor string
}

func newWorker(r *runner, id int, t target) *worker {
	return &worker{r: r, id: id, c: newConn(t), status: map[int]uint64{}}
}

// drive runs the measurement of sc against t.
func (r *runner) drive(ctx context.Context, sc *scenario, t target) *Result {
	cfg := r.cfg
	start := time.Now()
	from := start.Add(cfg.Warmup)
	var deadline time.Time
	if cfg.Duration > 0 {
		deadline = from.Add(cfg.Duration)
	}
	var (
		remaining atomic.Int64
		wg        sync.WaitGroup
		endMu     sync.Mutex
		end       time.Time
	)
	remaining.Store(cfg.Requests)
	// CPU times are sampled when the warm-up ends and when the last
	// connection is done.
	cpuStart := make(chan cpuSample, 1)
	go func() {
		time.Sleep(time.Until(from))
		cpuStart <- sampleCPU(cfg.ServerPID)
	}()
	ws := make([]*worker, cfg.Connections)
	for i := range ws {
		ws[i] = newWorker(r, i, t)
		wg.Add(1)
		go func(w *worker) {
			defer wg.Done()
			defer w.c.Close()
			w.loop(ctx, sc, from, deadline, &remaining)
			now := time.Now()
			endMu.Lock()
			if now.After(end) {
				end = now
			}
			endMu.Unlock()
		}(ws[i])
	}
	wg.Wait()
	cpuEnd := sampleCPU(cfg.ServerPID)
	res := &Result{Scenario: sc.Name, Connections: cfg.Connections, Statuses: map[string]uint64{}}
	defer func() {
		c0 := <-cpuStart
		answered := float64(res.OK + res.Non2xx)
		if answered == 0 {
			return
		}
		if c0.serverOK && cpuEnd.serverOK {
			res.ServerCPUMicros = float64((cpuEnd.server - c0.server).Microseconds()) / answered
		}
		if c0.selfOK && cpuEnd.selfOK {
			res.LoadToolCPUMicros = float64((cpuEnd.self - c0.self).Microseconds()) / answered
		}
	}()
	var h histogram
	for _, w := range ws {
		h.merge(&w.h)
		res.OK += w.ok
		res.Non2xx += w.non2xx
		res.TransportErrors += w.transp
		for code, n := range w.status {
			res.Statuses[strconv.Itoa(code)] += n
		}
		if res.FirstError == "" {
			res.FirstError = w.first
		}
	}
	res.Errors = res.Non2xx + res.TransportErrors
	res.Requests = res.OK + res.Errors
	if end.After(from) {
		res.Seconds = end.Sub(from).Seconds()
		res.Rate = float64(res.OK) / res.Seconds
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	res.Latency = Latency{
		P50: ms(h.quantile(0.50)), P90: ms(h.quantile(0.90)), P99: ms(h.quantile(0.99)),
		P999: ms(h.quantile(0.999)), Max: ms(time.Duration(h.max)), Mean: ms(h.mean()),
	}
	if len(res.Statuses) == 0 {
		res.Statuses = nil
	}
	return res
}

// loop sends requests until the deadline, the request budget or ctx ends
// the measurement. Requests before from (the warm-up) are not counted.
func (w *worker) loop(ctx context.Context, sc *scenario, from, deadline time.Time, remaining *atomic.Int64) {
	budget := w.r.cfg.Requests > 0
	for ctx.Err() == nil {
		now := time.Now()
		if !deadline.IsZero() && !now.Before(deadline) {
			return
		}
		counted := !now.Before(from)
		if counted && budget && remaining.Add(-1) < 0 {
			return
		}
		req := sc.next(w)
		resp, err := w.c.do(ctx, req)
		lat := time.Since(now)
		ok := err == nil && resp.status/100 == 2
		if sc.after != nil {
			sc.after(w, ok, resp)
		}
		w.n++
		if !counted {
			continue
		}
		switch {
		case err != nil:
			if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
				return
			}
			w.transp++
			w.note(fmt.Sprintf("%s %s: %v", req.method, req.path, err))
			// Do not spin on a server that refuses connections.
			time.Sleep(time.Millisecond)
		case ok:
			w.ok++
			w.h.record(lat)
		default:
			w.non2xx++
			w.status[resp.status]++
			w.h.record(lat)
			w.note(fmt.Sprintf("%s %s: status %d: %s", req.method, req.path, resp.status, strings.TrimSpace(snippet(resp.body))))
		}
	}
}

func (w *worker) note(msg string) {
	if w.first == "" {
		w.first = msg
	}
}
