package server_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/buildinfo"
	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// TestBuildInfo: the binary's build information is in /metrics as
// coffer_build_info{version,revision,goversion} 1 and in the start-up log
// line, while the Server header tells only the release, never the
// revision (issue 17 part 4).
func TestBuildInfo(t *testing.T) {
	listening := make(chan slog.Record, 1)
	te := testenv.Start(t, testenv.Configure(func(c *server.Config) { c.Logger = slog.New(catchHandler{msg: "listening", ch: listening}) }))
	srv, ts := te.Server, te.HTTP
	bi := buildinfo.Read()

	resp, err := ts.Client().Get(ts.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `coffer_build_info{goversion="` + bi.GoVersion + `",revision="` + bi.Revision + `",version="` + bi.Version + `"} 1`
	if !strings.Contains(string(body), "\n"+want+"\n") {
		t.Errorf("/metrics lacks %s", want)
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
	var rec slog.Record
	select {
	case rec = <-listening:
	case err := <-done:
		t.Fatalf("Serve ended before it logged: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	got := map[string]any{}
	rec.Attrs(func(a slog.Attr) bool { got[a.Key] = a.Value.Any(); return true })
	for k, v := range map[string]any{"version": bi.Version, "revision": bi.Revision, "vcs_time": bi.Time,
		"modified": bi.Modified, "go_version": bi.GoVersion} {
		if got[k] != v {
			t.Errorf("start-up line %s = %v, want %v (%v)", k, got[k], v, got)
		}
	}
}

// catchHandler is a log handler that sends the first record with message
// msg to ch and drops every other.
type catchHandler struct {
	msg string
	ch  chan slog.Record
}

func (h catchHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h catchHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h catchHandler) WithGroup(string) slog.Handler            { return h }
func (h catchHandler) Handle(_ context.Context, r slog.Record) error {
	if r.Message == h.msg {
		select {
		case h.ch <- r.Clone():
		default:
		}
	}
	return nil
}
