package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/buildinfo"
	"github.com/seed-3e8d63de/coffer/internal/server"
)

// TestBuildInfo: the binary's build information is in /metrics as
// coffer_build_info{version,revision,goversion} 1 and in the start-up log
// line, while the Server header tells only the release, never the
// revision (issue 17 part 4).
func TestBuildInfo(t *testing.T) {
	var logs syncBuffer
	srv, err := server.New(t.Context(), server.Config{Dev: true, DevRootToken: "root",
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)), Out: io.Discard})
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	defer srv.Close()
	bi := buildinfo.Read()

	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	resp, err := ts.Client().Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `coffer_build_info{goversion="` + bi.GoVersion + `",revision="` + bi.Revision + `",version="` + bi.Version + `"} 1`
	if !strings.Contains(string(body), "\n"+want+"\n") {
		t.Errorf("/metrics lacks %s:\n%s", want, grepLines(string(body), "coffer_build_info"))
	}
	if got, want := resp.Header.Get("Server"), "coffer/"+bi.Release(); got != want {
		t.Errorf("Server = %q, want %q", got, want)
	}
	if bi.Revision != buildinfo.Unknown && strings.Contains(resp.Header.Get("Server"), bi.Revision[:12]) {
		t.Errorf("Server %q names the revision", resp.Header.Get("Server"))
	}

	// The start-up line of Serve, on 127.0.0.1.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	var line map[string]any
	for deadline := time.Now().Add(10 * time.Second); line == nil && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, l := range strings.Split(logs.String(), "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(l), &rec) == nil && rec["msg"] == "listening" {
				line = rec
			}
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if line == nil {
		t.Fatalf("no listening line in the log:\n%s", logs.String())
	}
	for k, v := range map[string]any{"version": bi.Version, "revision": bi.Revision, "vcs_time": bi.Time,
		"modified": bi.Modified, "go_version": bi.GoVersion} {
		if line[k] != v {
			t.Errorf("start-up line %s = %v, want %v (%v)", k, line[k], v, line)
		}
	}
}

// syncBuffer is a log destination written by the server's goroutines and
// read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
