package loadgen_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/loadgen"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

const token = "cof_root_loadgen-test"

// devServer runs a real coffer server in dev mode behind httptest.
func devServer(t *testing.T) (*server.Server, *httptest.Server) {
	t.Helper()
	cfg := server.Defaults()
	cfg.Dev, cfg.DevRootToken = true, token
	cfg.Logger = slog.New(slog.DiscardHandler)
	cfg.Out = io.Discard
	s, err := server.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("server.New() = %v", err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		s.Close()
	})
	return s, ts
}

// versionsUnder counts the versions ever written to the secrets
// <prefix>/w/<i>-0 of the connections of a write run (older ones are
// pruned, the current version id counts them all).
func versionsUnder(t *testing.T, s *server.Server, prefix string, conns int) int {
	t.Helper()
	svc := s.Service()
	p, err := svc.Authenticate(t.Context(), token)
	if err != nil {
		t.Fatalf("Authenticate() = %v", err)
	}
	c := service.Caller{Principal: p}
	total := 0
	for i := range conns {
		path := secret.MustParsePath(prefix + "/w/" + strconv.Itoa(i) + "-0")
		v, err := svc.GetSecret(t.Context(), c, s.DefaultDomain(), path, service.GetOptions{})
		if err != nil {
			continue // a connection may not have written
		}
		total += int(v.Secret.CurrentVersion)
	}
	return total
}

func TestRun_scenarios(t *testing.T) {
	s, ts := devServer(t)
	for _, sc := range loadgen.Scenarios() {
		t.Run(sc.Name, func(t *testing.T) {
			cfg := loadgen.Config{
				Addr: ts.URL, Token: token, OkmsID: s.DefaultDomain(), Scenario: sc.Name,
				Connections: 3, Requests: 40, Secrets: 25, PageSize: 10, Prefix: "lg/" + sc.Name, Baseline: true,
			}
			res, err := loadgen.Run(t.Context(), cfg)
			if err != nil {
				t.Fatalf("Run(%s) = %v", sc.Name, err)
			}
			if res.Requests != 40 || res.OK != 40 || res.Errors != 0 {
				t.Errorf("Run(%s) requests, ok, errors = %d, %d, %d (first error %q); want 40, 40, 0",
					sc.Name, res.Requests, res.OK, res.Errors, res.FirstError)
			}
			if res.Rate <= 0 || res.Latency.P50 <= 0 || res.Latency.P50 > res.Latency.P99 || res.Latency.P99 > res.Latency.Max {
				t.Errorf("Run(%s) rate %v, latency %+v: want a positive rate and ordered percentiles", sc.Name, res.Rate, res.Latency)
			}
			if len(res.ResponseBytes) == 0 {
				t.Errorf("Run(%s) ResponseBytes empty, want the probed sizes", sc.Name)
			}
			b := res.Baseline
			if b == nil || b.Target != "baseline" || b.OK != 40 || b.Errors != 0 || res.BaselinePercent <= 0 {
				t.Errorf("Run(%s) baseline = %+v, percent %v; want 40 answered requests and a percentage", sc.Name, b, res.BaselinePercent)
			}
		})
	}
	t.Run("writes are counted", func(t *testing.T) {
		for _, name := range []string{"kv2-write", "kv2-write-cas"} {
			prefix := "lg/count-" + name
			res, err := loadgen.Run(t.Context(), loadgen.Config{
				Addr: ts.URL, Token: token, Scenario: name, Connections: 4, Requests: 100, Prefix: prefix,
			})
			if err != nil {
				t.Fatalf("Run(%s) = %v", name, err)
			}
			if got := versionsUnder(t, s, prefix, 4); res.OK != 100 || got != 100 {
				t.Errorf("Run(%s): reported %d ok writes, the server holds %d versions; want 100 and 100", name, res.OK, got)
			}
		}
	})
}

func TestRun_duration(t *testing.T) {
	_, ts := devServer(t)
	start := time.Now()
	res, err := loadgen.Run(t.Context(), loadgen.Config{
		Addr: ts.URL, Token: token, Scenario: "kv2-read", Connections: 2,
		Duration: 300 * time.Millisecond, Warmup: 100 * time.Millisecond,
	})
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if el := time.Since(start); el < 400*time.Millisecond {
		t.Errorf("Run() took %v, want at least warm-up plus duration (400ms)", el)
	}
	if res.Seconds < 0.3 || res.Seconds > 5 || res.OK == 0 || res.Errors != 0 {
		t.Errorf("Run() = %.3fs, %d ok, %d errors; want about 0.3s of error-free requests", res.Seconds, res.OK, res.Errors)
	}
	if got := res.Rate; got < float64(res.OK)/res.Seconds*0.99 || got > float64(res.OK)/res.Seconds*1.01 {
		t.Errorf("Run() rate %v, want ok/seconds = %v", got, float64(res.OK)/res.Seconds)
	}
}

// TestRun_probeFails checks that a scenario whose first request fails
// stops before the measurement, with the server's answer in the error.
func TestRun_probeFails(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.Write([]byte(`{}`))
			return
		}
		http.Error(w, `{"errors":["boom"]}`, http.StatusInternalServerError)
	}))
	defer srv.Close()
	res, err := loadgen.Run(t.Context(), loadgen.Config{Addr: srv.URL, Scenario: "kv2-read", Connections: 2, Requests: 30})
	if err == nil || !strings.Contains(err.Error(), "status 500") || !strings.Contains(err.Error(), "boom") {
		t.Errorf("Run() = %+v, %v; want an error naming status 500 and the body", res, err)
	}
}

// TestRun_countsErrors drives a server that answers the setup and the
// probe, then fails: 500s and dropped connections are counted, not
// returned.
func TestRun_countsErrors(t *testing.T) {
	var reads atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			w.Write([]byte(`{}`))
			return
		}
		switch n := reads.Add(1); {
		case n <= 20: // the probe
			w.Write([]byte(`{"data":{}}`))
		case n%2 == 0:
			http.Error(w, `{"errors":["boom"]}`, http.StatusInternalServerError)
		default:
			hj, _ := w.(http.Hijacker)
			c, _, _ := hj.Hijack()
			c.Close()
		}
	}))
	defer srv.Close()
	res, err := loadgen.Run(t.Context(), loadgen.Config{Addr: srv.URL, Scenario: "kv2-read", Connections: 1, Requests: 20})
	if err != nil {
		t.Fatalf("Run() = %v", err)
	}
	if res.Requests != 20 || res.OK != 0 || res.Non2xx != 10 || res.TransportErrors != 10 || res.Errors != 20 {
		t.Errorf("Run() requests %d ok %d non2xx %d transport %d errors %d; want 20 0 10 10 20",
			res.Requests, res.OK, res.Non2xx, res.TransportErrors, res.Errors)
	}
	if res.Statuses["500"] != 10 || res.FirstError == "" {
		t.Errorf("Run() statuses %v, first error %q; want 10 × 500 and a message", res.Statuses, res.FirstError)
	}
}

func TestRun_invalid(t *testing.T) {
	tests := []struct {
		name string
		cfg  loadgen.Config
	}{
		{"unknown scenario", loadgen.Config{Addr: "http://127.0.0.1:1", Scenario: "nope"}},
		{"surface B without domain", loadgen.Config{Addr: "http://127.0.0.1:1", Scenario: "rest-read"}},
		{"bad scheme", loadgen.Config{Addr: "ftp://127.0.0.1:1", Scenario: "kv2-read"}},
		{"server down", loadgen.Config{Addr: "http://127.0.0.1:1", Scenario: "kv2-write", Requests: 1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if res, err := loadgen.Run(t.Context(), tc.cfg); err == nil {
				t.Errorf("Run(%+v) = %+v, nil; want an error", tc.cfg, res)
			}
		})
	}
}

func TestReport(t *testing.T) {
	res := &loadgen.Result{
		Scenario: "kv2-read", Target: "http://127.0.0.1:8200", Connections: 32, Seconds: 10,
		Requests: 1000, OK: 990, Errors: 10, Non2xx: 10, Statuses: map[string]uint64{"500": 10}, FirstError: "GET /x: status 500",
		Rate: 99, Latency: loadgen.Latency{P50: 1, P90: 2, P99: 3, P999: 4, Max: 5, Mean: 1.2},
		ResponseBytes:   map[string]int{"GET": 382},
		Baseline:        &loadgen.Result{Scenario: "kv2-read", Target: "baseline", Connections: 32, Requests: 2000, OK: 2000, Rate: 198},
		BaselinePercent: 50,
	}
	rep := loadgen.Report{Machine: loadgen.Machine{CPUs: 2, GOMAXPROCS: 2, LoadAvg: "0.10 0.20 0.30"}, Results: []*loadgen.Result{res}}

	var js bytes.Buffer
	if err := loadgen.WriteJSON(&js, rep); err != nil {
		t.Fatalf("WriteJSON() = %v", err)
	}
	var doc struct {
		Machine map[string]any   `json:"machine"`
		Results []map[string]any `json:"results"`
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil {
		t.Fatalf("WriteJSON() wrote invalid JSON: %v\n%s", err, js.String())
	}
	if doc.Machine["cpus"] != 2.0 || doc.Machine["loadAvg"] != "0.10 0.20 0.30" || len(doc.Results) != 1 {
		t.Errorf("WriteJSON() machine %v, %d results; want cpus 2, the load average, 1 result", doc.Machine, len(doc.Results))
	}
	r := doc.Results[0]
	for _, k := range []string{"scenario", "target", "connections", "seconds", "requests", "ok", "errors", "non2xx",
		"transportErrors", "statuses", "firstError", "rate", "latencyMs", "responseBytes", "baseline", "baselinePercent"} {
		if _, ok := r[k]; !ok {
			t.Errorf("WriteJSON() result has no %q member: %v", k, r)
		}
	}
	lat, _ := r["latencyMs"].(map[string]any)
	for _, k := range []string{"p50", "p90", "p99", "p99.9", "max", "mean"} {
		if _, ok := lat[k]; !ok {
			t.Errorf("WriteJSON() latencyMs has no %q member: %v", k, lat)
		}
	}

	var tb bytes.Buffer
	if err := loadgen.WriteTable(&tb, rep); err != nil {
		t.Fatalf("WriteTable() = %v", err)
	}
	out := tb.String()
	for _, want := range []string{"SCENARIO", "REQ/S", "P99.9", "% BASELINE", "kv2-read", "http://127.0.0.1:8200", "baseline",
		"50.0%", "1000", "1.00ms", "4.00ms", "GET 382B", "load average 0.10 0.20 0.30", "first error: GET /x: status 500"} {
		if !strings.Contains(out, want) {
			t.Errorf("WriteTable() output lacks %q:\n%s", want, out)
		}
	}
}
