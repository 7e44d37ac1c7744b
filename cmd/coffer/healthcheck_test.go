package main

import (
	"bytes"
	"crypto/rand"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLocalAddr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"": "127.0.0.1:8200", "0.0.0.0:8200": "127.0.0.1:8200", ":9000": "127.0.0.1:9000",
		"[::]:8200": "[::1]:8200", "10.0.0.5:8200": "10.0.0.5:8200", "nonsense": "127.0.0.1:8200",
	} {
		if got := localAddr(in); got != want {
			t.Errorf("localAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestHealthcheck: coffer healthcheck against a server over HTTP and over
// HTTPS (the installation CA's certificate, not verified), found through
// COFFER_LISTEN or --addr, and against nothing.
func TestHealthcheck(t *testing.T) {
	t.Parallel()
	plain := startServerRun(t, noEnv, "--dev", "--listen", "127.0.0.1:0")
	tlsSrv := startServerRun(t, noEnv, "--dev", "--listen", "127.0.0.1:0", "--tls-auto", "--data-dir", t.TempDir())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	tests := []struct {
		name   string
		getenv func(string) string
		args   []string
		code   int
		want   string
	}{
		{"plain HTTP from COFFER_LISTEN", envOf("COFFER_LISTEN", plain.addr), nil, 0, "ok: GET /readyz answered 200"},
		{"HTTPS", noEnv, []string{"--addr", tlsSrv.addr}, 0, "ok: GET /readyz answered 200"},
		{"live", noEnv, []string{"--addr", tlsSrv.addr, "--live"}, 0, "ok: GET /healthz answered 200"},
		{"nothing listening", noEnv, []string{"--addr", closed, "--timeout", "2s"}, 1, "connection refused"},
		{"an argument", noEnv, []string{"extra"}, 2, "no argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(t.Context(), append([]string{"healthcheck"}, tc.args...), tc.getenv, strings.NewReader(""), &out, &errOut)
			if code != tc.code || !strings.Contains(out.String()+errOut.String(), tc.want) {
				t.Errorf("coffer healthcheck %v = %d, %q %q; want %d and %q", tc.args, code, out.String(), errOut.String(), tc.code, tc.want)
			}
		})
	}
}

// TestSdNotify: a server run under a service manager (NOTIFY_SOCKET) says
// READY=1 once it serves and STOPPING=1 when it stops.
func TestSdNotify(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "notify.sock")
	sock, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer sock.Close()
	read := func() string {
		sock.SetReadDeadline(time.Now().Add(20 * time.Second))
		buf := make([]byte, 4096)
		n, err := sock.Read(buf)
		if err != nil {
			t.Fatalf("no notification: %v", err)
		}
		return string(buf[:n])
	}
	s := startServerRun(t, envOf("NOTIFY_SOCKET", path), "--dev", "--listen", "127.0.0.1:0")
	if got, want := read(), "READY=1\nSTATUS=serving http on "+s.addr; got != want {
		t.Errorf("first notification %q, want %q", got, want)
	}
	s.stop()
	if got := read(); got != "STOPPING=1" {
		t.Errorf("notification at shutdown %q, want STOPPING=1", got)
	}

	// An abstract socket is written @name.
	name := "coffer-test-" + rand.Text()[:10]
	abs, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "\x00" + name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer abs.Close()
	if err := sdNotify("@"+name, "READY=1"); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	abs.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := abs.Read(buf); err != nil || string(buf[:n]) != "READY=1" {
		t.Errorf("abstract socket got %q, %v", buf[:n], err)
	}
	if err := sdNotify("", "READY=1"); err != nil {
		t.Errorf("without NOTIFY_SOCKET: %v, want nothing done", err)
	}
}
