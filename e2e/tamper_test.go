package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/boltstore"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
	"github.com/seed-3e8d63de/coffer/internal/storage/sealed"
)

// Tampering, reliability-security.md T9: a store populated through the
// real server is copied record by record (ciphertexts as written in the
// bbolt file) into memory, where single bits are flipped and records moved
// between keys, secrets and domains; every read through the service must
// fail with an integrity error, never return a value, and be audited as
// "integrity". TestTamperingHTTP does the same through the three surfaces
// of a restarted server: a generic 500, no value.
//
//	go test ./e2e -run TestTampering -v                           # 10,000 flips
//	COFFER_TAMPER_FLIPS=100000 go test ./e2e -run TestTampering -v

// tamperFixture is a populated store, its root key and the root token.
type tamperFixture struct {
	dir     string
	token   string
	domains []string // the default domain and a second one
	values  []string // every version value written
}

const tamperSecrets = 12 // per domain, 3 versions each

// populate writes tamperSecrets secrets of 3 versions in two domains
// through surface B, then stops the server.
func populate(t *testing.T) tamperFixture {
	t.Helper()
	l := startLive(t, liveOptions{})
	fx := tamperFixture{dir: l.dir, token: l.token, domains: []string{l.domain}}
	st, _, b := l.do(t, "POST", "/v2/okms/resource", `{"region":"local","displayName":"tamper"}`)
	var d struct{ ID string }
	if st != 200 || json.Unmarshal(b, &d) != nil || d.ID == "" {
		t.Fatalf("create a second domain = %d %s", st, b)
	}
	fx.domains = append(fx.domains, d.ID)
	for di, domain := range fx.domains {
		for i := range tamperSecrets {
			for v := 1; v <= 3; v++ {
				value := fmt.Sprintf("tamper-value-%d-%02d-%d-%s", di, i, v, strings.Repeat("x", mrand.IntN(200)))
				fx.values = append(fx.values, value)
				path := fmt.Sprintf("tamper/s%02d", i)
				method, target, body := "POST", "/api/"+domain+"/v2/secret/"+strings.ReplaceAll(path, "/", "%2F")+"/version", `{"data":{"k":"`+value+`"}}`
				if v == 1 {
					method, target = "POST", "/api/"+domain+"/v2/secret"
					body = `{"path":"` + path + `","metadata":{"customMetadata":{"owner":"tamper-meta-` + strconv.Itoa(i) + `"}},"version":{"data":{"k":"` + value + `"}}}`
				}
				for attempt := 0; ; attempt++ {
					st, _, b := l.do(t, method, target, body)
					if st == 200 {
						break
					}
					if st != 409 || attempt > 100 { // 409: the new domain is still being created
						t.Fatalf("%s %s = %d %s", method, target, st, b)
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}
	}
	l.stop()
	return fx
}

// memAudit keeps audit events in memory.
type memAudit struct {
	mu     sync.Mutex
	events []audit.Event
}

func (m *memAudit) Record(_ context.Context, e audit.Event) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.events = append(m.events, e)
	return nil
}

// integrityAudited reports whether the last event is a failed response
// with reason "integrity".
func (m *memAudit) integrityAudited() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.events) == 0 {
		return false
	}
	e := m.events[len(m.events)-1]
	// A read's one event (it changes nothing) carries its outcome.
	return (e.Phase == audit.PhaseResponse || e.Phase == audit.PhaseRequestResponse) && e.Outcome == audit.Failed && e.Reason == "integrity"
}

// tamperStack is the service over the encryption layer over an in-memory
// copy of the populated bbolt file.
type tamperStack struct {
	raw    storage.Backend // the ciphertexts, tampered with directly
	sealed *sealed.Store
	svc    *service.Service
	caller service.Caller
	audit  *memAudit
}

func openTamperStack(t *testing.T, fx tamperFixture, raw storage.Backend) *tamperStack {
	t.Helper()
	root, err := crypto.LoadRootKeyFile(filepath.Join(fx.dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	family := func(key string) crypto.KeyID { return crypto.KeyID(service.KeyFamily(key)) }
	st, err := sealed.Open(t.Context(), raw, root, family)
	if err != nil {
		t.Fatalf("sealed.Open: %v", err)
	}
	sink := &memAudit{}
	svc := service.New(service.Options{Store: st, Audit: sink, Logger: slog.New(slog.DiscardHandler)})
	if _, err := svc.Init(t.Context(), service.InitOptions{}); err != nil {
		t.Fatalf("service.Init: %v", err)
	}
	t.Cleanup(svc.Close)
	p, err := svc.Authenticate(t.Context(), fx.token)
	if err != nil {
		t.Fatalf("Authenticate: %v", err)
	}
	return &tamperStack{raw: raw, sealed: st, svc: svc, audit: sink,
		caller: service.Caller{Principal: p, Dialect: service.KMS, Surface: "B", RequestID: "tamper"}}
}

// copyToMemory copies every record of the bbolt file, as stored, into a
// memstore.
func copyToMemory(t *testing.T, path string) storage.Backend {
	t.Helper()
	src, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	dst := memstore.New()
	err = src.View(t.Context(), func(tx storage.Tx) error {
		keys, err := tx.List("", "", 0)
		if err != nil {
			return err
		}
		return dst.Update(t.Context(), func(out storage.Tx) error {
			for _, k := range keys {
				v, err := tx.Get(k)
				if err != nil {
					return err
				}
				if err := out.Put(k, v); err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		t.Fatalf("copy the store: %v", err)
	}
	return dst
}

// record is a stored record the service reads: a secret record (version
// 0) or a version's data.
type record struct {
	key     string
	domain  string
	path    secret.Path
	version uint32
}

// records lists the secret and version records of the store.
func (s *tamperStack) records(t *testing.T) []record {
	t.Helper()
	var out []record
	err := s.sealed.View(t.Context(), func(tx storage.Tx) error {
		keys, err := tx.List("d/", "", 0)
		if err != nil {
			return err
		}
		ids := map[string]secret.Path{} // secret id → path
		for _, k := range keys {
			domain, rest, _ := strings.Cut(strings.TrimPrefix(k, "d/"), "/")
			if !strings.HasPrefix(rest, "s/") {
				continue
			}
			b, err := tx.Get(k)
			if err != nil {
				return err
			}
			var r secretIndex
			if err := json.Unmarshal(b, &r); err != nil {
				return err
			}
			p := secret.MustParsePath(r.Path)
			ids[r.ID] = p
			out = append(out, record{key: k, domain: domain, path: p})
		}
		for _, k := range keys {
			domain, rest, _ := strings.Cut(strings.TrimPrefix(k, "d/"), "/")
			parts := strings.Split(rest, "/")
			if len(parts) != 3 || parts[0] != "v" {
				continue
			}
			id, err := strconv.ParseUint(parts[2], 10, 32)
			if err != nil {
				return err
			}
			out = append(out, record{key: k, domain: domain, path: ids[parts[1]], version: uint32(id)})
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list records: %v", err)
	}
	return out
}

// read reads r through the service, with its data.
func (s *tamperStack) read(ctx context.Context, r record) (string, error) {
	if r.version == 0 {
		v, err := s.svc.GetSecret(ctx, s.caller, r.domain, r.path, service.GetOptions{IncludeData: true})
		if err != nil {
			return "", err
		}
		out := fmt.Sprint(v.Secret.CustomMetadata)
		if v.Data != nil {
			out += string(v.Data.JSON())
		}
		return out, nil
	}
	_, d, err := s.svc.GetVersion(ctx, s.caller, r.domain, r.path, r.version, true)
	if err != nil {
		return "", err
	}
	if d == nil {
		return "", nil
	}
	return string(d.JSON()), nil
}

func (s *tamperStack) put(t *testing.T, key string, value []byte) {
	if err := s.raw.Update(t.Context(), func(tx storage.Tx) error { return tx.Put(key, value) }); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func (s *tamperStack) get(t *testing.T, key string) []byte {
	var v []byte
	err := s.raw.View(t.Context(), func(tx storage.Tx) error {
		var err error
		v, err = tx.Get(key)
		return err
	})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return v
}

// regions of a sealed record (reliability-security.md 3).
var tamperRegions = []struct {
	name       string
	start, end func(n int) int
}{
	{"header", func(int) int { return 0 }, func(int) int { return 8 }},
	{"wrapped key", func(int) int { return 8 }, func(int) int { return 68 }},
	{"data nonce", func(int) int { return 68 }, func(int) int { return 80 }},
	{"ciphertext", func(int) int { return 80 }, func(n int) int { return n - 16 }},
	{"tag", func(n int) int { return n - 16 }, func(n int) int { return n }},
}

func TestTampering(t *testing.T) {
	if testing.Short() {
		t.Skip("ten thousand reads")
	}
	flips := envCount(t, "COFFER_TAMPER_FLIPS", 10000)
	fx := populate(t)
	s := openTamperStack(t, fx, copyToMemory(t, filepath.Join(fx.dir, "coffer.db")))
	recs := s.records(t)
	genuine := map[string]string{}
	for _, r := range recs {
		v, err := s.read(t.Context(), r)
		if err != nil {
			t.Fatalf("read %s before tampering: %v", r.key, err)
		}
		genuine[r.key] = v
	}

	// Single-bit flips.
	rnd := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 1))
	var (
		integrity, audited, opened, values, other int
		byRegion                                  = map[string]int{}
		problems                                  []string
	)
	for range flips {
		r := recs[rnd.IntN(len(recs))]
		orig := s.get(t, r.key)
		reg := tamperRegions[rnd.IntN(len(tamperRegions))]
		lo, hi := reg.start(len(orig)), reg.end(len(orig))
		if hi <= lo {
			reg, lo, hi = tamperRegions[4], len(orig)-16, len(orig)
		}
		byRegion[reg.name]++
		bad := bytes.Clone(orig)
		bit := lo*8 + rnd.IntN((hi-lo)*8)
		bad[bit/8] ^= 1 << (bit % 8)
		s.put(t, r.key, bad)
		got, err := s.read(t.Context(), r)
		switch {
		case err == nil:
			opened++
			if got != "" {
				values++
			}
			problems = append(problems, fmt.Sprintf("flip of bit %d (%s) of %s: read succeeded", bit, reg.name, r.key))
		case errors.Is(err, storage.ErrIntegrity) && errors.Is(err, crypto.ErrIntegrity):
			integrity++
			if s.audit.integrityAudited() {
				audited++
			}
		default:
			other++
			problems = append(problems, fmt.Sprintf("flip of bit %d (%s) of %s: %v", bit, reg.name, r.key, err))
		}
		s.put(t, r.key, orig)
	}
	t.Logf("T9 tampering: %d single-bit flips over %d records (%d secret records, %d version records; header %d, wrapped key %d, data nonce %d, ciphertext %d, tag %d): "+
		"integrity errors %d, audited as integrity %d, successful decryptions %d, values returned %d, other errors %d",
		flips, len(recs), countVersion(recs, false), countVersion(recs, true), byRegion["header"], byRegion["wrapped key"], byRegion["data nonce"],
		byRegion["ciphertext"], byRegion["tag"], integrity, audited, opened, values, other)
	if integrity != flips || audited != flips {
		t.Errorf("%d of %d flips gave an integrity error, %d were audited as such: %s", integrity, flips, audited, strings.Join(first(problems, 10), "; "))
	}
	for _, r := range recs {
		if v, err := s.read(t.Context(), r); err != nil || v != genuine[r.key] {
			t.Fatalf("after restoring, %s reads %q, %v; want the original", r.key, v, err)
		}
	}

	// Moves: a record at another version, secret or domain's key.
	moves := tamperMoves(t, fx, s, recs)
	refused := 0
	for _, m := range moves {
		if m.refused {
			refused++
		} else {
			t.Errorf("move %s: %s", m.name, m.problem)
		}
	}
	names := make([]string, len(moves))
	for i, m := range moves {
		names[i] = m.name
	}
	t.Logf("T9 moves and replays refused: %d of %d (%s)", refused, len(moves), strings.Join(names, "; "))
}

func countVersion(recs []record, versions bool) int {
	n := 0
	for _, r := range recs {
		if (r.version != 0) == versions {
			n++
		}
	}
	return n
}

type move struct {
	name    string
	refused bool
	problem string
}

// tamperMoves puts records where they do not belong and reads them back.
func tamperMoves(t *testing.T, fx tamperFixture, s *tamperStack, recs []record) []move {
	t.Helper()
	find := func(domain, path string, version uint32) record {
		for _, r := range recs {
			if r.domain == domain && r.path.String() == path && r.version == version {
				return r
			}
		}
		t.Fatalf("no record %s %s v%d", domain, path, version)
		return record{}
	}
	var out []move
	try := func(name string, from, to record) {
		orig := s.get(t, to.key)
		s.put(t, to.key, s.get(t, from.key))
		out = append(out, s.expectIntegrity(t, name, to))
		s.put(t, to.key, orig)
	}
	d1, d2 := fx.domains[0], fx.domains[1]
	try("version 1 → version 2 of one secret", find(d1, "tamper/s00", 1), find(d1, "tamper/s00", 2))
	try("version 3 → version 1 of one secret", find(d1, "tamper/s00", 3), find(d1, "tamper/s00", 1))
	try("version data → another secret's version", find(d1, "tamper/s00", 1), find(d1, "tamper/s01", 1))
	try("secret record → another secret's", find(d1, "tamper/s00", 0), find(d1, "tamper/s01", 0))
	try("version data → the same path in another domain", find(d1, "tamper/s02", 2), find(d2, "tamper/s02", 2))
	try("secret record → the same path in another domain", find(d1, "tamper/s02", 0), find(d2, "tamper/s02", 0))
	try("version data → another domain's other secret", find(d2, "tamper/s03", 3), find(d1, "tamper/s04", 1))

	// A deleted secret's version replayed into the secret re-created at
	// its path: the new secret has a new id, so the old ciphertext is bound
	// to another key.
	ctx := t.Context()
	old := find(d1, "tamper/s05", 1)
	oldCT := s.get(t, old.key)
	if err := s.svc.DeleteSecret(ctx, s.caller, d1, old.path); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	d, _ := secret.ParseData([]byte(`{"k":"re-created"}`))
	if _, err := s.svc.CreateSecret(ctx, s.caller, d1, old.path, d, secret.MetadataUpdate{}); err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}
	again := s.records(t)
	var fresh record
	for _, r := range again {
		if r.domain == d1 && r.path == old.path && r.version == 1 {
			fresh = r
		}
	}
	if fresh.key == old.key {
		t.Fatalf("the re-created secret reuses the deleted secret's version key %s", fresh.key)
	}
	orig := s.get(t, fresh.key)
	s.put(t, fresh.key, oldCT)
	out = append(out, s.expectIntegrity(t, "deleted secret's version → the re-created secret", fresh))
	s.put(t, fresh.key, orig)

	// The keyring rolled back to before a rotation: a version written under
	// the new term no longer opens, in a store that reads the old keyring.
	oldRing := s.get(t, sealed.KeyringKey)
	if _, err := s.sealed.RotateKey(ctx, crypto.KeyID(service.KeyFamily("d/"+d1+"/s/x"))); err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	target := find(d1, "tamper/s06", 1)
	v, _, err := s.svc.PutVersion(ctx, s.caller, d1, target.path, d, service.PutOptions{})
	if err != nil {
		t.Fatalf("PutVersion after rotation: %v", err)
	}
	newRing := s.get(t, sealed.KeyringKey)
	s.put(t, sealed.KeyringKey, oldRing)
	rolled := openTamperStack(t, fx, s.raw)
	out = append(out, rolled.expectIntegrity(t, "keyring rolled back past a rotation", record{domain: d1, path: target.path, version: v.ID}))
	s.put(t, sealed.KeyringKey, newRing)
	return out
}

// expectIntegrity reads r and checks the read fails with an audited
// integrity error.
func (s *tamperStack) expectIntegrity(t *testing.T, name string, r record) move {
	got, err := s.read(t.Context(), r)
	switch {
	case err == nil:
		return move{name: name, problem: fmt.Sprintf("read succeeded: %q", got)}
	case !errors.Is(err, storage.ErrIntegrity):
		return move{name: name, problem: fmt.Sprintf("error %v is not an integrity error", err)}
	case !s.audit.integrityAudited():
		return move{name: name, problem: "not audited as integrity"}
	}
	return move{name: name, refused: true}
}

// TestTamperingHTTP flips bits in the bbolt file of a stopped server and
// reads the records through surfaces A, B and C of the restarted server:
// each read is a generic 500 carrying no value, and the audit file records
// it with reason integrity.
func TestTamperingHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a server")
	}
	fx := populate(t)
	dbPath := filepath.Join(fx.dir, "coffer.db")
	rnd := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 2))
	var reads, fiveHundreds, audited int
	for i := range 6 {
		// Tamper with the file while no server runs.
		raw, err := boltstore.Open(dbPath, boltstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s := openTamperStack(t, fx, raw)
		recs := s.records(t)
		r := recs[rnd.IntN(len(recs))]
		for r.version == 0 && i%2 == 0 { // alternate version data and secret records
			r = recs[rnd.IntN(len(recs))]
		}
		orig := s.get(t, r.key)
		bad := bytes.Clone(orig)
		reg := tamperRegions[i%len(tamperRegions)]
		lo, hi := reg.start(len(bad)), max(reg.end(len(bad)), reg.start(len(bad))+1)
		bit := lo*8 + rnd.IntN((hi-lo)*8)
		bad[bit/8] ^= 1 << (bit % 8)
		s.put(t, r.key, bad)
		s.svc.Close()
		raw.Close()

		l := startLive(t, liveOptions{dir: fx.dir, token: fx.token, audit: true})
		esc := strings.ReplaceAll(r.path.String(), "/", "%2F")
		version := ""
		if r.version != 0 {
			version = fmt.Sprintf("&version=%d", r.version)
		}
		vaultVersion := strings.Replace(version, "&", "?", 1)
		for _, target := range []string{
			"/api/" + r.domain + "/v2/secret/" + esc + "?includeData=true" + version,
			"/v2/okms/resource/" + r.domain + "/secret/" + esc + "?includeData=true" + version,
			"/api/" + r.domain + "/v1/secret/data/" + r.path.String() + vaultVersion,
		} {
			reads++
			st, _, body := l.do(t, "GET", target, "")
			if st == 500 {
				fiveHundreds++
			} else {
				t.Errorf("GET %s after a flip of bit %d (%s) of %s = %d %s, want 500", target, bit, reg.name, r.key, st, body)
			}
			for _, v := range fx.values {
				if bytes.Contains(body, []byte(v)) {
					t.Errorf("GET %s after a flip returned a value: %s", target, body)
				}
			}
			if bytes.Contains(body, []byte("tamper-meta")) || bytes.Contains(body, []byte("integrity")) || bytes.Contains(body, []byte("sealed")) {
				t.Errorf("GET %s after a flip: the 500 says more than a generic error: %s", target, body)
			}
		}
		l.stop()
		b, err := os.ReadFile(l.audit)
		if err != nil {
			t.Fatal(err)
		}
		audited += bytes.Count(b, []byte(`"reason":"integrity"`))
		os.Remove(l.audit)
		// Restore, offline.
		raw, err = boltstore.Open(dbPath, boltstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if err := raw.Update(t.Context(), func(tx storage.Tx) error { return tx.Put(r.key, orig) }); err != nil {
			t.Fatal(err)
		}
		raw.Close()
	}
	t.Logf("T9 tampering through the HTTP surfaces: %d reads of tampered records through A, B and C: %d answered 500 (generic, no value), %d audit events with reason integrity",
		reads, fiveHundreds, audited)
	if audited != reads {
		t.Errorf("%d reads of tampered records, %d audited with reason integrity", reads, audited)
	}
}
