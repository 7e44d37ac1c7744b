package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	okms "github.com/ovh/okms-sdk-go"
	"github.com/ovh/okms-sdk-go/types"

	"github.com/seed-3e8d63de/coffer/internal/seal"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

// The okms and transit seals in process. Their KMS is a real coffer (a
// dev server over HTTP on 127.0.0.1) with a symmetric service key, which
// the okms seal reaches through the OKMS REST API and the transit seal
// through coffer's Transit API, by its name. It can be taken down: its
// connections are then cut, as a stopped KMS's would be refused.

// downable answers through h unless down, when it cuts the connection,
// or hung, when it waits until hang is closed.
type downable struct {
	h    http.Handler
	down atomic.Bool
	hang atomic.Pointer[chan struct{}]
	hung atomic.Int64 // requests that waited on hang
}

func (d *downable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h := d.hang.Load(); h != nil {
		d.hung.Add(1)
		<-*h
	}
	if d.down.Load() {
		if hj, ok := w.(http.Hijacker); ok {
			if c, _, err := hj.Hijack(); err == nil {
				c.Close()
				return
			}
		}
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	d.h.ServeHTTP(w, r)
}

// testKMS is a coffer acting as an OKMS KMS.
type testKMS struct {
	*downable
	url, domain, key, token string
}

const kmsRootToken = "cof_root_seal_kms_test"

func newTestKMS(t *testing.T) *testKMS {
	t.Helper()
	cfg := Defaults()
	cfg.Dev, cfg.DevRootToken = true, kmsRootToken
	cfg.Logger, cfg.Out = slog.New(slog.DiscardHandler), io.Discard
	srv, err := New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	d := &downable{h: srv.Handler()}
	ts := httptest.NewServer(d)
	t.Cleanup(func() {
		ts.Close()
		srv.Service().Wait()
		srv.Close()
	})
	c, err := okms.NewRestAPIClientWithHttp(ts.URL, ts.Client())
	if err != nil {
		t.Fatal(err)
	}
	c = c.WithCustomHeader("Authorization", "Bearer "+kmsRootToken)
	k, err := c.GenerateSymmetricKey(t.Context(), uuid.MustParse(srv.DefaultDomain()), types.N256, "coffer-seal", types.SOFTWARE, "",
		[]types.CryptographicUsages{types.Encrypt, types.Decrypt})
	if err != nil {
		t.Fatalf("create the seal's service key: %v", err)
	}
	return &testKMS{downable: d, url: ts.URL, domain: srv.DefaultDomain(), key: k.Id.String(), token: kmsRootToken}
}

func (k *testKMS) config(c *Config) {
	c.SealOKMSEndpoint, c.SealOKMSID, c.SealOKMSKeyID, c.SealOKMSToken = k.url, k.domain, k.key, k.token
}

// transitConfig sets the transit seal on the same coffer: its Transit API
// reaches the service key by name.
func (k *testKMS) transitConfig(c *Config) {
	c.SealTransitAddress, c.SealTransitToken, c.SealTransitKeyName = k.url, k.token, "coffer-seal"
}

// syncBuffer is a log that tests read while the server writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestKMSSeals: a server started with --seal okms or transit on an empty
// store creates its root key wrapped by the KMS and unseals; restarted, it
// unseals by itself; started while the KMS is down it serves sealed, says
// so truthfully, and unseals by itself once the KMS answers. No key file is
// written; the record holds no credential; the log no token.
func TestKMSSeals(t *testing.T) {
	for _, typ := range []string{"okms", "transit"} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			k := newTestKMS(t)
			kms, config, token := k.downable, k.config, k.token
			if typ == "transit" {
				config = k.transitConfig
			}
			dir := t.TempDir()
			logs := &syncBuffer{}
			var out bytes.Buffer
			cfg := Defaults()
			cfg.DataDir, cfg.Seal, cfg.SealRetryMax = dir, typ, time.Second
			cfg.Logger, cfg.Out = slog.New(slog.NewJSONHandler(logs, nil)), &out
			config(&cfg)
			open := func() *Server {
				t.Helper()
				s, err := New(t.Context(), cfg)
				if err != nil {
					t.Fatalf("New: %v\n%s", err, logs.String())
				}
				return s
			}

			s := open()
			if s.svc.Sealed() || !strings.Contains(out.String(), "cof_") {
				t.Fatalf("first start: sealed %v, root token printed: %q", s.svc.Sealed(), out.String())
			}
			domain := s.DefaultDomain()
			s.Close()
			if _, err := os.Stat(filepath.Join(dir, "root.key")); err == nil {
				t.Fatal("a root key file was written")
			}

			s = open()
			if s.svc.Sealed() || s.DefaultDomain() != domain {
				t.Fatalf("restart: sealed %v, domain %s (was %s)", s.svc.Sealed(), s.DefaultDomain(), domain)
			}
			rec := storedRecord(t, s)
			if string(rec.Type) != typ || len(rec.Root) == 0 || rec.KMS == nil {
				t.Fatalf("seal record: %+v", rec)
			}
			b, _ := json.Marshal(rec)
			if bytes.Contains(b, []byte(token)) {
				t.Fatal("the seal record holds the KMS credential")
			}
			s.Close()

			kms.down.Store(true)
			s = open()
			defer s.Close()
			st, err := s.svc.SealStatus(t.Context())
			if err != nil || !st.Sealed || !st.Initialized || st.Type != typ {
				t.Fatalf("start with the KMS down: %+v %v", st, err)
			}
			if _, err := s.svc.Unseal(t.Context(), service.Caller{RemoteAddr: "127.0.0.1:1"}, "", false); !errors.Is(err, service.ErrSealed) {
				t.Fatalf("sys/unseal with the KMS down: %v, want ErrSealed", err)
			}
			for _, rq := range []struct{ method, path, want string }{
				{"PUT", "/v1/sys/unseal", `"Vault is sealed"`},
				{"GET", "/v1/secret/data/app", `"Vault is sealed"`},
				{"GET", "/ui/secrets", "unseals through its KMS"},
			} {
				rec := httptest.NewRecorder()
				s.Handler().ServeHTTP(rec, httptest.NewRequest(rq.method, rq.path, strings.NewReader("{}")))
				if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), rq.want) {
					t.Fatalf("%s %s with the KMS down = %d %.200s, want 503 with %s", rq.method, rq.path, rec.Code, rec.Body.String(), rq.want)
				}
			}
			kms.down.Store(false)
			deadline := time.Now().Add(20 * time.Second)
			for s.svc.Sealed() && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if s.svc.Sealed() || s.DefaultDomain() != domain {
				t.Fatalf("the server did not unseal once the KMS answered; log:\n%s", logs.String())
			}
			if strings.Contains(logs.String(), token) {
				t.Fatal("the KMS token is in the log")
			}
			retries := 0
			for sc := bufio.NewScanner(strings.NewReader(logs.String())); sc.Scan(); {
				if strings.Contains(sc.Text(), "still sealed") || strings.Contains(sc.Text(), "retrying until it does") {
					if retries == 0 {
						t.Logf("log while the KMS is down: %s", sc.Text())
					}
					retries++
				}
			}
			if retries == 0 || !strings.Contains(logs.String(), "unsealed through the KMS") {
				t.Fatalf("the retries are not in the log:\n%s", logs.String())
			}
			t.Logf("%s seal: created, reopened, started sealed with the KMS down (%d failed attempts logged), unsealed by itself once it answered", typ, retries)
		})
	}
}

// storedRecord reads the seal record of s's default region.
func storedRecord(t *testing.T, s *Server) *seal.Record {
	t.Helper()
	var b []byte
	err := s.store.raws[s.store.region].View(t.Context(), func(tx storage.Tx) error {
		var err error
		b, err = tx.Get(seal.RecordKey)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rec, err := seal.ParseRecord(b)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

// TestKMSSealFirstStartRace: nodes of a PostgreSQL installation started
// together on an empty store with --seal okms: one creates the seal, the
// others unseal with it, and all share one root key.
func TestKMSSealFirstStartRace(t *testing.T) {
	ctx := t.Context()
	k := newTestKMS(t)
	raw := memstore.New()
	const nodes = 4
	sealers := make([]*sealer, nodes)
	for i := range sealers {
		sealers[i] = testSealer(t, t.TempDir(), raw, k.config, func(c *Config) { c.Seal = "okms" })
	}
	stores := make([]storage.Backend, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i, m := range sealers {
		wg.Go(func() {
			var st map[string]storage.Backend
			_, st, errs[i] = m.Unseal(ctx, "", false)
			stores[i] = st["local"]
		})
	}
	wg.Wait()
	for i := range sealers {
		if errs[i] != nil || stores[i] == nil {
			t.Fatalf("node %d: %v", i, errs[i])
		}
		if !sealers[i].root.Equal(sealers[0].root) {
			t.Fatalf("node %d has another root key than node 0", i)
		}
	}
	if err := stores[0].Update(ctx, func(tx storage.Tx) error { return tx.Put("d/race", []byte("one")) }); err != nil {
		t.Fatal(err)
	}
	var got []byte
	err := stores[nodes-1].View(ctx, func(tx storage.Tx) error { var err error; got, err = tx.Get("d/race"); return err })
	if err != nil || string(got) != "one" {
		t.Fatalf("read on another node: %q %v", got, err)
	}
	for _, m := range sealers {
		m.Seal(ctx)
	}
}

// TestKMSSealStatusWhileKMSHangs: while an unseal waits for a KMS that
// does not answer, the seal status (which /v1/sys/seal-status, /readyz and
// the panel read) answers at once.
func TestKMSSealStatusWhileKMSHangs(t *testing.T) {
	ctx := t.Context()
	k := newTestKMS(t)
	raw := memstore.New()
	withKMS := func(c *Config) { k.config(c); c.Seal = "okms" }
	m := testSealer(t, t.TempDir(), raw, withKMS)
	if _, st, err := m.Unseal(ctx, "", false); err != nil || st == nil {
		t.Fatalf("first start: %v", err)
	}
	m.Seal(ctx)
	hang := make(chan struct{})
	k.hang.Store(&hang)
	var release sync.Once
	unhang := func() { release.Do(func() { k.hang.Store(nil); close(hang) }) }
	t.Cleanup(unhang) // before the KMS's own cleanup, which waits for its handlers
	done := make(chan error, 1)
	go func() {
		_, _, err := m.Unseal(ctx, "", false)
		done <- err
	}()
	for k.hung.Load() == 0 {
		time.Sleep(time.Millisecond) // until the unseal waits for the KMS
	}
	for range 3 {
		got := make(chan service.SealStatus, 1)
		go func() { st, _ := m.Status(ctx); got <- st }()
		select {
		case st := <-got:
			if st.Type != "okms" || !st.Initialized {
				t.Fatalf("status while the KMS hangs: %+v", st)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the seal status waits for the KMS")
		}
	}
	unhang()
	if err := <-done; err != nil {
		t.Fatalf("unseal once the KMS answers: %v", err)
	}
	m.Seal(ctx)
}

// afterView runs hook once, after the first View that ends once it is
// armed: another node's writes landing between two reads.
type afterView struct {
	storage.Backend
	hook func()
	once sync.Once
}

func (a *afterView) View(ctx context.Context, fn func(storage.Tx) error) error {
	err := a.Backend.View(ctx, fn)
	if a.hook != nil {
		a.once.Do(a.hook)
	}
	return err
}

// TestSealRecordRace: a node reads the seal record of an empty store, and
// before it looks for data another node stores its record and its first
// records. The first node must find that record, not take the store for an
// installation made before seals existed (the file seal).
func TestSealRecordRace(t *testing.T) {
	ctx := t.Context()
	raw := memstore.New()
	rec, _ := (&seal.Record{Type: seal.TypeOKMS, Initialized: true, KMS: map[string]string{"key_id": "k"}, Root: []byte("wrapped")}).Marshal()
	av := &afterView{Backend: raw}
	m := testSealer(t, t.TempDir(), av)
	av.hook = func() {
		raw.Update(ctx, func(tx storage.Tx) error {
			if err := tx.Put(seal.RecordKey, rec); err != nil {
				return err
			}
			return tx.Put("sys/keyring", []byte("the other node's keyring"))
		})
	}
	got, err := m.record(ctx)
	if err != nil || got == nil || got.Type != seal.TypeOKMS {
		t.Fatalf("record() = %+v, %v; want the okms record the other node wrote", got, err)
	}
}
