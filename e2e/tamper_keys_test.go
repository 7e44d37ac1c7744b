package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/crypto/keyops"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/servicekey"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/boltstore"
	"github.com/seed-3e8d63de/coffer/internal/storage/sealed"
)

// Tampering with service keys (T9, issue 15): key records and the records
// of their material are sealed like secrets. A flipped bit, a record moved
// to another key, version or domain: every use of the key fails with an
// integrity error audited as such, and nothing decrypts or signs.

// keyFixture is a store with keys in two domains, made through surface B.
type keyFixture struct {
	dir, token string
	keys       []tamperKey
}

// tamperKey is one key of the fixture and a ciphertext (AES) or a message
// signed (EC) with each of its versions.
type tamperKey struct {
	domain, id, kind string
	ciphertexts      []string // one per version, oldest first
}

func populateKeys(t *testing.T) keyFixture {
	t.Helper()
	l := startLive(t, liveOptions{})
	fx := keyFixture{dir: l.dir, token: l.token}
	st, _, b := l.do(t, "POST", "/v2/okms/resource", `{"region":"local","displayName":"tamper-keys"}`)
	var d struct{ ID string }
	if st != 200 || json.Unmarshal(b, &d) != nil {
		t.Fatalf("create a second domain = %d %s", st, b)
	}
	for _, domain := range []string{l.domain, d.ID} {
		for i, kind := range []string{"aes", "aes", "ec"} {
			body := `{"name":"t` + fmt.Sprint(i) + `","type":"oct","size":256}`
			if kind == "ec" {
				body = `{"name":"t` + fmt.Sprint(i) + `","type":"EC","curve":"P-384"}`
			}
			var k struct{ ID string }
			for attempt := 0; ; attempt++ {
				st, _, b := l.do(t, "POST", "/api/"+domain+"/v1/servicekey", body)
				if st == 201 {
					_ = json.Unmarshal(b, &k)
					break
				}
				if st != 409 || attempt > 100 { // 409: the new domain is still being created
					t.Fatalf("create key = %d %s", st, b)
				}
				time.Sleep(50 * time.Millisecond)
			}
			tk := tamperKey{domain: domain, id: k.ID, kind: kind}
			if kind == "aes" {
				st, _, b := l.do(t, "POST", "/api/"+domain+"/v1/servicekey/"+k.ID+"/encrypt", `{"plaintext":"dGFtcGVyLXBsYWludGV4dA=="}`)
				var c struct{ Ciphertext string }
				if st != 200 || json.Unmarshal(b, &c) != nil {
					t.Fatalf("encrypt = %d %s", st, b)
				}
				tk.ciphertexts = append(tk.ciphertexts, c.Ciphertext)
			}
			fx.keys = append(fx.keys, tk)
		}
	}
	l.stop()
	return fx
}

// openKeyStack is openTamperStack with key operations.
func openKeyStack(t *testing.T, fx keyFixture, raw storage.Backend) *tamperStack {
	t.Helper()
	root, err := crypto.LoadRootKeyFile(filepath.Join(fx.dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := sealed.Open(t.Context(), raw, root, func(key string) crypto.KeyID { return crypto.KeyID(service.KeyFamily(key)) })
	if err != nil {
		t.Fatalf("sealed.Open: %v", err)
	}
	sink := &memAudit{}
	svc := service.New(service.Options{Store: st, Audit: sink, Logger: slog.New(slog.DiscardHandler), Keys: keyops.New(nil)})
	if _, err := svc.Init(t.Context(), service.InitOptions{}); err != nil {
		t.Fatalf("service.Init: %v", err)
	}
	t.Cleanup(svc.Close)
	p, err := svc.Authenticate(t.Context(), fx.token)
	if err != nil {
		t.Fatal(err)
	}
	return &tamperStack{raw: raw, sealed: st, svc: svc, audit: sink,
		caller: service.Caller{Principal: p, Dialect: service.KMS, Surface: "B", RequestID: "tamper-keys"}}
}

// use exercises a key the way its kind allows: read it with its public
// part, and decrypt its ciphertexts or sign. It returns what came out.
func (s *tamperStack) use(t *testing.T, k tamperKey) (string, error) {
	ctx := t.Context()
	v, err := s.svc.GetServiceKey(ctx, s.caller, k.domain, k.id, service.KeyGetOptions{Public: k.kind == "ec"})
	if err != nil {
		return "", err
	}
	if k.kind == "ec" {
		sig, err := s.svc.Sign(ctx, s.caller, k.domain, k.id, servicekey.SignInput{Alg: servicekey.ES384, Message: []byte("m")})
		return v.Key.Name + sig, err
	}
	out := v.Key.Name
	for _, ct := range k.ciphertexts {
		p, err := s.svc.Decrypt(ctx, s.caller, k.domain, k.id, ct, "")
		if err != nil {
			return "", err
		}
		out += string(p.Bytes())
	}
	return out, nil
}

func TestTamperingKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server")
	}
	fx := populateKeys(t)
	s := openKeyStack(t, fx, copyToMemory(t, filepath.Join(fx.dir, "coffer.db")))
	type rec struct {
		key string
		k   tamperKey
	}
	var recs []rec
	for _, k := range fx.keys {
		recs = append(recs, rec{"d/" + k.domain + "/k/" + k.id, k}, rec{"d/" + k.domain + "/km/" + k.id + "/0000000001", k})
	}
	for _, r := range recs {
		if out, err := s.use(t, r.k); err != nil || (r.k.kind == "aes" && !strings.Contains(out, "tamper-plaintext")) {
			t.Fatalf("use %s before tampering: %q, %v", r.key, out, err)
		}
	}
	rnd := mrand.New(mrand.NewPCG(uint64(time.Now().UnixNano()), 3))
	flips, integrity, audited := 600, 0, 0
	var problems []string
	for range flips {
		r := recs[rnd.IntN(len(recs))]
		orig := s.get(t, r.key)
		reg := tamperRegions[rnd.IntN(len(tamperRegions))]
		lo, hi := reg.start(len(orig)), reg.end(len(orig))
		bad := bytes.Clone(orig)
		bit := lo*8 + rnd.IntN((hi-lo)*8)
		bad[bit/8] ^= 1 << (bit % 8)
		s.put(t, r.key, bad)
		out, err := s.use(t, r.k)
		switch {
		case err == nil:
			problems = append(problems, fmt.Sprintf("flip of bit %d (%s) of %s: used it: %q", bit, reg.name, r.key, out))
		case errors.Is(err, storage.ErrIntegrity):
			integrity++
			if s.audit.integrityAudited() {
				audited++
			}
		default:
			problems = append(problems, fmt.Sprintf("flip of bit %d (%s) of %s: %v", bit, reg.name, r.key, err))
		}
		s.put(t, r.key, orig)
	}
	t.Logf("T9 service keys: %d single-bit flips over %d records (key records and material): %d integrity errors, %d audited as integrity",
		flips, len(recs), integrity, audited)
	if integrity != flips || audited != flips {
		t.Errorf("%d of %d flips gave an audited integrity error: %s", integrity, flips, strings.Join(first(problems, 10), "; "))
	}

	// Moves: material or key records under another key, version or domain.
	a1, a2, e1 := fx.keys[0], fx.keys[1], fx.keys[2] // default domain
	b1 := fx.keys[3]                                 // the same kind, in the other domain
	mat := func(k tamperKey, v int) string { return fmt.Sprintf("d/%s/km/%s/%010d", k.domain, k.id, v) }
	meta := func(k tamperKey) string { return "d/" + k.domain + "/k/" + k.id }
	ctx := t.Context()
	if _, err := s.svc.RotateServiceKey(ctx, s.caller, a1.domain, a1.id); err != nil {
		t.Fatalf("rotate: %v", err)
	}
	ct2, err := s.svc.Encrypt(ctx, s.caller, a1.domain, a1.id, servicekey.NewMaterial([]byte("v2")), "")
	if err != nil {
		t.Fatal(err)
	}
	a1v2 := tamperKey{domain: a1.domain, id: a1.id, kind: "aes", ciphertexts: []string{ct2}}
	refused := 0
	moves := []struct {
		name     string
		from, to string
		use      tamperKey
	}{
		{"material → another key's", mat(a1, 1), mat(a2, 1), a2},
		{"material version 1 → version 2 of the key", mat(a1, 1), mat(a1, 2), a1v2},
		{"material of another domain's key → this key's", mat(b1, 1), mat(a1, 1), a1},
		{"key record → another key's", meta(a1), meta(a2), a2},
		{"key record → another domain's key", meta(b1), meta(a1), a1},
		{"EC material → an AES key's", mat(e1, 1), mat(a2, 1), a2},
	}
	for _, m := range moves {
		orig := s.get(t, m.to)
		s.put(t, m.to, s.get(t, m.from))
		out, err := s.use(t, m.use)
		switch {
		case err == nil:
			t.Errorf("move %s: the key was used: %q", m.name, out)
		case !errors.Is(err, storage.ErrIntegrity) || !s.audit.integrityAudited():
			t.Errorf("move %s: %v, want an audited integrity error", m.name, err)
		default:
			refused++
		}
		s.put(t, m.to, orig)
	}
	t.Logf("T9 service key moves refused: %d of %d", refused, len(moves))
}

// TestTamperingKeysHTTP: a flipped bit in a key's material, then decrypt
// and sign through surface B of the restarted server: a generic 500, no
// plaintext, and an audit event with reason integrity.
func TestTamperingKeysHTTP(t *testing.T) {
	if testing.Short() {
		t.Skip("restarts a server")
	}
	fx := populateKeys(t)
	dbPath := filepath.Join(fx.dir, "coffer.db")
	raw, err := boltstore.Open(dbPath, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	aes, ec := fx.keys[0], fx.keys[2]
	for _, k := range []tamperKey{aes, ec} {
		key := fmt.Sprintf("d/%s/km/%s/%010d", k.domain, k.id, 1)
		var v []byte
		if err := raw.View(t.Context(), func(tx storage.Tx) (err error) { v, err = tx.Get(key); return err }); err != nil {
			t.Fatal(err)
		}
		v[len(v)/2] ^= 0x20
		if err := raw.Update(t.Context(), func(tx storage.Tx) error { return tx.Put(key, v) }); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	l := startLive(t, liveOptions{dir: fx.dir, token: fx.token, audit: true})
	for _, c := range []struct{ path, body string }{
		{"/api/" + aes.domain + "/v1/servicekey/" + aes.id + "/decrypt", `{"ciphertext":"` + aes.ciphertexts[0] + `"}`},
		{"/api/" + ec.domain + "/v1/servicekey/" + ec.id + "/sign", `{"message":"bQ==","alg":"ES384"}`},
		{"/api/" + ec.domain + "/v1/servicekey/" + ec.id + "?format=jwk", ""},
	} {
		method := "POST"
		if c.body == "" {
			method = "GET"
		}
		st, _, body := l.do(t, method, c.path, c.body)
		if st != 500 || bytes.Contains(body, []byte("tamper-plaintext")) || bytes.Contains(body, []byte("integrity")) {
			t.Errorf("%s %s after a flip = %d %s, want a generic 500", method, c.path, st, body)
		}
	}
	l.stop()
	b, err := os.ReadFile(l.audit)
	if err != nil {
		t.Fatal(err)
	}
	if n := bytes.Count(b, []byte(`"reason":"integrity"`)); n != 3 {
		t.Errorf("%d audit events with reason integrity, want 3", n)
	}
}
