package server_test

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// serving is a server run with Serve on 127.0.0.1, until the test ends.
type serving struct {
	srv  *server.Server
	addr string
	logs *testenv.LogBuffer
}

func serve(t *testing.T, cfg server.Config) *serving {
	t.Helper()
	logs := &testenv.LogBuffer{}
	cfg.Logger, cfg.Out = slog.New(slog.NewJSONHandler(logs, nil)), io.Discard
	srv, err := server.New(t.Context(), cfg)
	if err != nil {
		t.Fatalf("server.New: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		<-done
		srv.Close()
	})
	return &serving{srv: srv, addr: ln.Addr().String(), logs: logs}
}

// writePair writes a fresh self-signed certificate for 127.0.0.1 and its
// key to cert and key, and returns the certificate's serial number.
func writePair(t *testing.T, cert, key string) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "coffer-reload-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(k)
	// Written as cert-manager does: a new file renamed over the old.
	for path, b := range map[string][]byte{
		cert: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}),
	} {
		if err := os.WriteFile(path+".new", b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(path+".new", path); err != nil {
			t.Fatal(err)
		}
	}
	return serial.String()
}

// servedSerial opens a new TLS connection and returns the serial number
// of the certificate the server presents.
func servedSerial(t *testing.T, addr string) string {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0].SerialNumber.String()
}

// TestReloadTLS: a reload makes new connections use the certificate and
// key as their files are now, connections already open keep theirs, a
// pair that does not load is refused with an error and the previous one
// kept, and a changed pair is picked up by the polling alone.
func TestReloadTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cert, key := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	first := writePair(t, cert, key)
	s := serve(t, server.Config{Dev: true, DevRootToken: "root", TLSCert: cert, TLSKey: key, DataDir: dir,
		ReloadInterval: 20 * time.Millisecond})
	if got := servedSerial(t, s.addr); got != first {
		t.Fatalf("served certificate %s, want %s", got, first)
	}
	// A keep-alive connection made with the first pair.
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, MaxIdleConnsPerHost: 1}}
	get := func() (string, error) {
		resp, err := client.Get("https://" + s.addr + "/healthz")
		if err != nil {
			return "", err
		}
		defer resp.Body.Close()
		io.Copy(io.Discard, resp.Body)
		return resp.TLS.PeerCertificates[0].SerialNumber.String(), nil
	}
	if got, err := get(); err != nil || got != first {
		t.Fatalf("GET /healthz = %s, %v", got, err)
	}

	second := writePair(t, cert, key)
	if err := s.srv.Reload(server.Reload{Force: true}); err != nil {
		t.Fatalf("Reload = %v", err)
	}
	if got := servedSerial(t, s.addr); got != second {
		t.Errorf("after the reload, new connections get %s, want %s", got, second)
	}
	if got, err := get(); err != nil || got != first {
		t.Errorf("the open connection after the reload: %s, %v; want it kept, with %s", got, err, first)
	}

	// A key that does not match the certificate: refused, second kept.
	other := filepath.Join(dir, "other.key")
	writePair(t, filepath.Join(dir, "other.crt"), other)
	b, _ := os.ReadFile(other)
	os.WriteFile(key, b, 0o600)
	if err := s.srv.Reload(server.Reload{Force: true}); err == nil {
		t.Error("Reload of a mismatched pair = nil error")
	}
	if got := servedSerial(t, s.addr); got != second {
		t.Errorf("after a refused pair, new connections get %s, want the previous %s", got, second)
	}
	if !strings.Contains(s.logs.String(), `"level":"ERROR","msg":"reload: the TLS certificate and key were refused`) {
		t.Errorf("no error logged for the refused pair:\n%s", s.logs.String())
	}

	// The polling alone picks up a good pair.
	third := writePair(t, cert, key)
	deadline := time.Now().Add(10 * time.Second)
	for servedSerial(t, s.addr) != third {
		if time.Now().After(deadline) {
			t.Fatal("the polling did not pick up the new pair within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestReloadAuditUnderLoad rotates the audit file as logrotate's create
// mode does while 8 clients write secrets through the server: every
// request's audit events are in exactly one of the files, each once, and
// every acknowledged write has its allowed response event.
func TestReloadAuditUnderLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	auditPath := filepath.Join(dir, "audit.log")
	s := serve(t, server.Config{Dev: true, DevRootToken: "root", AuditFile: auditPath, DataDir: dir})
	domain := s.srv.DefaultDomain()
	var (
		stop   atomic.Bool
		wg     sync.WaitGroup
		mu     sync.Mutex
		acked  = map[string]bool{} // request ids of acknowledged writes
		failed int
	)
	for w := range 8 {
		wg.Go(func() {
			for i := 0; !stop.Load(); i++ {
				body := fmt.Sprintf(`{"path":"rot/w%d-%d","version":{"data":{"k":"v"}}}`, w, i)
				req, _ := http.NewRequest("POST", "http://"+s.addr+"/api/"+domain+"/v2/secret", strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer root")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				mu.Lock()
				if resp.StatusCode == 200 {
					acked[resp.Header.Get("X-Request-Id")] = true
				} else {
					failed++
				}
				mu.Unlock()
			}
		})
	}
	const rotations = 10
	for n := 1; n <= rotations; n++ {
		time.Sleep(30 * time.Millisecond)
		if err := os.Rename(auditPath, fmt.Sprintf("%s.%d", auditPath, n)); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(auditPath, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := s.srv.Reload(server.Reload{Force: true}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(30 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	type key struct{ rid, phase string }
	events := map[key]int{}
	allowed := map[string]bool{}
	files, _ := filepath.Glob(auditPath + "*")
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		for sc.Scan() {
			var e struct {
				RequestID string `json:"request_id"`
				Phase     string `json:"phase"`
				Action    string `json:"action"`
				Outcome   string `json:"outcome"`
			}
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Fatalf("%s: a line that is not an event: %q", f, sc.Text())
			}
			events[key{e.RequestID, e.Phase}]++
			if e.Phase == "response" && e.Outcome == "allowed" {
				allowed[e.RequestID] = true
			}
		}
		fh.Close()
	}
	for k, n := range events {
		if n != 1 {
			t.Errorf("request %s, %s event: %d times", k.rid, k.phase, n)
		}
	}
	for rid := range acked {
		if !allowed[rid] || events[key{rid, "request"}] != 1 {
			t.Errorf("acknowledged write %s: its audit events are missing", rid)
		}
	}
	if failed > 0 || len(acked) < 50 {
		t.Errorf("%d writes acknowledged, %d failed", len(acked), failed)
	}
	t.Logf("%d acknowledged writes, %d audit events in %d files across %d rotations: each once", len(acked), len(events), len(files), rotations)
}

// TestReloadLimits: limits put in force by a reload apply to the next
// requests.
func TestReloadLimits(t *testing.T) {
	t.Parallel()
	s := serve(t, server.Config{Dev: true, DevRootToken: "root", DataDir: t.TempDir()})
	get := func() int {
		req, _ := http.NewRequest("GET", "http://"+s.addr+"/v2/okms/resource", nil)
		req.Header.Set("Authorization", "Bearer root")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if a, b := get(), get(); a != 200 || b != 200 {
		t.Fatalf("without limits: %d, %d", a, b)
	}
	s.srv.Reload(server.Reload{Limits: &service.Limits{RequestRate: 0.001, RequestBurst: 1}})
	if a, b := get(), get(); a != 200 || b != 429 {
		t.Errorf("after a reload to 1 request: %d, %d; want 200, 429", a, b)
	}
	s.srv.Reload(server.Reload{Limits: &service.Limits{}})
	if a := get(); a != 200 {
		t.Errorf("after a reload to no limit: %d", a)
	}
}
