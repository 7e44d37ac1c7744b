package server_test

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// TestMonitoringReferences: every metric that docs/production.md, the
// Grafana dashboard and the alert rules name exists: coffer's own as
// metrics.go declares them (a histogram's _bucket, _sum and _count
// included), Go's and the process's as /metrics serves them. And every
// metric of metrics.go is in docs/production.md's table.
func TestMonitoringReferences(t *testing.T) {
	src, err := os.ReadFile("metrics.go")
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]string{} // name → kind
	for _, m := range regexp.MustCompile(`prometheus\.New(Counter|Gauge|Histogram)(?:Vec|Func)?\(prometheus\.\w+Opts\{\s*Name:\s*"(coffer_\w+)"`).FindAllSubmatch(src, -1) {
		declared[string(m[2])] = string(m[1])
	}
	if len(declared) < 10 {
		t.Fatalf("found %d metrics in metrics.go: %v", len(declared), declared)
	}
	ts := testenv.Start(t).HTTP
	resp, err := ts.Client().Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	scraped, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	served := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^# TYPE (\w+) `).FindAllSubmatch(scraped, -1) {
		served[string(m[1])] = true
	}

	exists := func(name string) bool {
		if strings.HasPrefix(name, "coffer_") {
			if _, ok := declared[name]; ok {
				return true
			}
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				if base, ok := strings.CutSuffix(name, suffix); ok && declared[base] == "Histogram" {
					return true
				}
			}
			return false
		}
		return served[name] || served[strings.TrimSuffix(strings.TrimSuffix(name, "_sum"), "_count")]
	}
	files := []string{"../../docs/production.md", "../../contrib/monitoring/alerts.yml", "../../contrib/monitoring/grafana-dashboard.json"}
	name := regexp.MustCompile(`\b(?:coffer|go|process)_[a-z0-9_]*[a-z0-9]\b`)
	var doc string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasSuffix(f, ".json") && !json.Valid(b) {
			t.Errorf("%s is not valid JSON", f)
		}
		if strings.HasSuffix(f, ".md") {
			doc = string(b)
		}
		refs := 0
		for _, n := range name.FindAllString(string(b), -1) {
			refs++
			if !exists(n) {
				t.Errorf("%s names %s, which coffer does not export", filepath.Base(f), n)
			}
		}
		if refs == 0 {
			t.Errorf("%s names no metric", f)
		}
	}
	for n := range declared {
		if !strings.Contains(doc, "`"+n+"`") {
			t.Errorf("docs/production.md does not describe %s", n)
		}
	}
}

// TestSealedMetric: coffer_sealed is 1 while the server is sealed, 0 once
// unsealed.
func TestSealedMetric(t *testing.T) {
	_, url := sealedServer(t, server.Config{DataDir: t.TempDir(), Seal: "passphrase"})
	sealed := func() string {
		t.Helper()
		_, body := get(t, "GET", url+"/metrics", "")
		m := regexp.MustCompile(`(?m)^coffer_sealed (\d)$`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no coffer_sealed in /metrics")
		}
		return m[1]
	}
	if v := sealed(); v != "1" {
		t.Errorf("coffer_sealed before init = %s, want 1", v)
	}
	c := vaultClient(t, url, "")
	r := c.NewRequest("PUT", "/v1/sys/init")
	r.BodyBytes = []byte(`{"passphrase":"correct horse battery staple"}`)
	resp, err := c.RawRequestWithContext(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ss, err := c.Sys().Unseal("correct horse battery staple"); err != nil || ss.Sealed {
		t.Fatalf("unseal: %+v %v", ss, err)
	}
	if v := sealed(); v != "0" {
		t.Errorf("coffer_sealed once unsealed = %s, want 0", v)
	}
}
