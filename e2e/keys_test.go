package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/boltstore"
	"github.com/seed-3e8d63de/coffer/internal/storage/sealed"
)

// Key management (reliability-security.md 2, T16 in part): the root key
// rotated while the server serves writes re-seals the keyring and nothing
// else, the old key opens nothing afterwards and the new one everything;
// a domain key rotation is used by new writes at once while old versions
// still open; an interrupted root key rotation is finished at the next
// start.
//
//	go test ./e2e -run TestKeyRotation -v

// rawRecords returns every record of the bbolt file as stored.
func rawRecords(t *testing.T, path string) map[string][]byte {
	t.Helper()
	b, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	out := map[string][]byte{}
	err = b.View(t.Context(), func(tx storage.Tx) error {
		keys, err := tx.List("", "", 0)
		for _, k := range keys {
			v, err := tx.Get(k)
			if err != nil {
				return err
			}
			out[k] = v
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestKeyRotation(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server")
	}
	l := startLive(t, liveOptions{audit: true})
	dir, token, domain := l.dir, l.token, l.domain
	b := "/api/" + domain + "/v2/secret"
	values := map[string]string{}
	for i := range 20 {
		for v := 1; v <= 3; v++ {
			path := fmt.Sprintf("keys/s%02d", i)
			value := fmt.Sprintf("keys-value-%02d-%d-%s", i, v, rand.Text())
			values[fmt.Sprintf("%s@%d", path, v)] = value
			method, target, body := "POST", b+"/"+strings.ReplaceAll(path, "/", "%2F")+"/version", `{"data":{"k":"`+value+`"}}`
			if v == 1 {
				target, body = b, `{"path":"`+path+`","version":{"data":{"k":"`+value+`"}}}`
			}
			if st, _, resp := l.do(t, method, target, body); st != 200 {
				t.Fatalf("%s %s = %d %s", method, target, st, resp)
			}
		}
	}
	readAll := func(l *live, when string) {
		t.Helper()
		for key, want := range values {
			path, version, _ := strings.Cut(key, "@")
			st, _, resp := l.do(t, "GET", b+"/"+strings.ReplaceAll(path, "/", "%2F")+"?includeData=true&version="+version, "")
			if st != 200 || !bytes.Contains(resp, []byte(want)) {
				t.Fatalf("%s: %s = %d %s, want %s", when, key, st, resp, want)
			}
		}
	}
	l.stop()
	before := rawRecords(t, filepath.Join(dir, "coffer.db"))
	oldKey, err := os.ReadFile(filepath.Join(dir, "root.key"))
	if err != nil {
		t.Fatal(err)
	}

	// Root key rotation while a writer writes other secrets.
	l = startLive(t, liveOptions{dir: dir, token: token, audit: true})
	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		written atomic.Int64
	)
	wg.Go(func() {
		for i := 0; !stop.Load(); i++ {
			st, _, resp := l.do(t, "POST", b, fmt.Sprintf(`{"path":"keys/live/%05d","version":{"data":{"k":"live"}}}`, i))
			if st != 200 {
				t.Errorf("write during the rotation = %d %s", st, resp)
				return
			}
			written.Add(1)
		}
	})
	for written.Load() < 50 && !t.Failed() {
		time.Sleep(time.Millisecond)
	}
	st, _, resp := l.do(t, "POST", "/sys/master-key/rotate", "")
	for n := written.Load(); written.Load() < n+50 && !t.Failed(); {
		time.Sleep(time.Millisecond)
	}
	stop.Store(true)
	wg.Wait()
	if st != 200 {
		t.Fatalf("POST /sys/master-key/rotate = %d %s", st, resp)
	}
	readAll(l, "after the root key rotation")
	// Refusals: a user who is not ADMIN, no token.
	l.do(t, "POST", "/1.0/me/identity/user", `{"login":"keys"}`)
	_, _, tb := l.do(t, "POST", "/1.0/me/identity/user/keys/token", `{"name":"t"}`)
	var tok struct{ Token string }
	json.Unmarshal(tb, &tok)
	for _, c := range []struct {
		token, path string
		want        int
	}{
		{tok.Token, "/sys/master-key/rotate", 403}, {"", "/sys/master-key/rotate", 401},
		{tok.Token, "/sys/domains/" + domain + "/key/rotate", 403},
		{token, "/sys/domains/6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f/key/rotate", 404},
	} {
		if st, _, resp := l.doToken(t, c.token, "POST", c.path, ""); st != c.want {
			t.Errorf("POST %s = %d %s, want %d", c.path, st, resp, c.want)
		}
	}
	l.stop()

	after := rawRecords(t, filepath.Join(dir, "coffer.db"))
	newKey, _ := os.ReadFile(filepath.Join(dir, "root.key"))
	if bytes.Equal(oldKey, newKey) {
		t.Fatal("the root key file did not change")
	}
	if _, err := os.Stat(filepath.Join(dir, "root.key.next")); err == nil {
		t.Error("root.key.next is left after a finished rotation")
	}
	var changed, touched []string
	for k, v := range before {
		if bytes.Equal(after[k], v) {
			continue
		}
		if strings.HasPrefix(k, "iam/token/") {
			touched = append(touched, k) // last use of the token
			continue
		}
		changed = append(changed, k)
	}
	if len(changed) != 1 || changed[0] != sealed.KeyringKey {
		t.Errorf("records changed by the root key rotation: %v, want only %s", changed, sealed.KeyringKey)
	}
	// The old key opens nothing; the new key opens everything.
	old := filepath.Join(t.TempDir(), "old.key")
	os.WriteFile(old, oldKey, 0o600)
	raw, err := boltstore.Open(filepath.Join(dir, "coffer.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	root, _ := crypto.LoadRootKeyFile(old)
	family := func(key string) crypto.KeyID { return crypto.KeyID(service.KeyFamily(key)) }
	if _, err := sealed.Open(t.Context(), raw, root, family); !errIntegrity(err) {
		t.Errorf("sealed.Open with the old root key = %v, want an integrity error", err)
	}
	raw.Close()
	st2 := openSealed(t, filepath.Join(dir, "coffer.db"), "", filepath.Join(dir, "root.key"))
	rep, err := checkStore(t.Context(), st2)
	st2.Close()
	if err != nil || len(rep.Problems) > 0 {
		t.Errorf("store check with the new key: %v %v", err, rep.Problems)
	}
	t.Logf("T16 root key rotation during %d concurrent writes: records re-encrypted %d (%v) of %d, token records touched by use %d; old key opens the store: no; new key: %d records open, %d problems",
		written.Load(), len(changed), changed, len(before), len(touched), rep.Records, len(rep.Problems))

	// Domain key rotation: the next write uses term 2, old versions
	// still open under term 1.
	l = startLive(t, liveOptions{dir: dir, token: token})
	readAll(l, "after a restart with the new root key")
	st, _, resp = l.do(t, "POST", "/sys/domains/"+domain+"/key/rotate", "")
	var dk struct {
		OkmsID  string
		KeyTerm uint32
	}
	if st != 200 || json.Unmarshal(resp, &dk) != nil || dk.KeyTerm != 2 || dk.OkmsID != domain {
		t.Fatalf("POST /sys/domains/%s/key/rotate = %d %s, want key term 2", domain, st, resp)
	}
	if st, _, resp := l.do(t, "POST", b+"/keys%2Fs00/version", `{"data":{"k":"after-domain-rotation"}}`); st != 200 {
		t.Fatalf("write after the domain key rotation = %d %s", st, resp)
	}
	values["keys/s00@4"] = "after-domain-rotation"
	readAll(l, "after the domain key rotation")
	l.stop()
	terms := map[uint32]int{}
	var v4Term uint32
	for k, v := range rawRecords(t, filepath.Join(dir, "coffer.db")) {
		if !strings.HasPrefix(k, "d/"+domain+"/v/") {
			continue
		}
		term, err := crypto.Term(v)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		terms[term]++
		if strings.HasSuffix(k, "/0000000004") {
			v4Term = term
		}
	}
	if v4Term != 2 || terms[1] == 0 {
		t.Errorf("version terms after the domain key rotation: %v, new version under term %d; want the new one under 2 and the old ones under 1", terms, v4Term)
	}
	t.Logf("T16 domain key rotation: version records by key term %v; the version written after the rotation is under term %d; every version reads back", terms, v4Term)
}

// TestKeyRotationInterrupted: a server stopped after the keyring was
// re-sealed under the new key but before the key file was replaced starts
// with the pending key and finishes the rotation.
func TestKeyRotationInterrupted(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server")
	}
	l := startLive(t, liveOptions{})
	dir, token := l.dir, l.token
	if st, _, resp := l.do(t, "POST", "/api/"+l.domain+"/v2/secret", `{"path":"keys/i","version":{"data":{"k":"interrupted"}}}`); st != 200 {
		t.Fatalf("create = %d %s", st, resp)
	}
	l.stop()
	// What a rotation does before its rename, done by hand.
	keyFile := filepath.Join(dir, "root.key")
	next, err := crypto.CreateRootKeyFile(keyFile+".next", rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	st := openSealed(t, filepath.Join(dir, "coffer.db"), "", keyFile)
	if err := st.RotateRootKey(t.Context(), next); err != nil {
		t.Fatal(err)
	}
	st.Close()

	l = startLive(t, liveOptions{dir: dir, token: token})
	if st, _, resp := l.do(t, "GET", "/api/"+l.domain+"/v2/secret/keys%2Fi?includeData=true", ""); st != 200 || !bytes.Contains(resp, []byte("interrupted")) {
		t.Fatalf("read after an interrupted rotation = %d %s", st, resp)
	}
	if !l.logsContain("finished an interrupted root key rotation") {
		t.Errorf("the server did not say it finished the rotation:\n%s", l.logs.String())
	}
	l.stop()
	if _, err := os.Stat(keyFile + ".next"); err == nil {
		t.Error("root.key.next is still there")
	}
	st = openSealed(t, filepath.Join(dir, "coffer.db"), "", keyFile)
	st.Close()
}
