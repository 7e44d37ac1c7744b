package e2e

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/storage/sealed"
)

// TestKeyRotationServiceKeys: service key records are ordinary sealed
// records (issue 15). A root key rotation re-seals the keyring and nothing
// else, and every key still decrypts and verifies; after a domain key
// rotation, a key record written again and a new key's material are
// sealed under the new term while the old material, under the old one,
// still opens.
func TestKeyRotationServiceKeys(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server")
	}
	l := startLive(t, liveOptions{})
	dir, token, domain := l.dir, l.token, l.domain
	k := "/api/" + domain + "/v1/servicekey"
	create := func(l *live, body string) string {
		t.Helper()
		st, _, b := l.do(t, "POST", k, body)
		var key struct{ ID string }
		if st != 201 || json.Unmarshal(b, &key) != nil {
			t.Fatalf("create key = %d %s", st, b)
		}
		return key.ID
	}
	aes := create(l, `{"name":"rot-aes","type":"oct","size":256}`)
	ec := create(l, `{"name":"rot-ec","type":"EC","curve":"P-256"}`)
	st, _, b := l.do(t, "POST", k+"/"+aes+"/encrypt", `{"plaintext":"cm90YXRlZA=="}`)
	var enc struct{ Ciphertext string }
	if st != 200 || json.Unmarshal(b, &enc) != nil {
		t.Fatalf("encrypt = %d %s", st, b)
	}
	st, _, b = l.do(t, "POST", k+"/"+ec+"/sign", `{"message":"cm90YXRlZA==","alg":"ES256"}`)
	var sig struct{ Signature string }
	if st != 200 || json.Unmarshal(b, &sig) != nil {
		t.Fatalf("sign = %d %s", st, b)
	}
	useAll := func(l *live, when string) {
		t.Helper()
		st, _, b := l.do(t, "POST", k+"/"+aes+"/decrypt", `{"ciphertext":"`+enc.Ciphertext+`"}`)
		if st != 200 || !bytes.Contains(b, []byte("cm90YXRlZA==")) {
			t.Fatalf("%s: decrypt = %d %s", when, st, b)
		}
		st, _, b = l.do(t, "POST", k+"/"+ec+"/verify", `{"message":"cm90YXRlZA==","alg":"ES256","signature":"`+sig.Signature+`"}`)
		if st != 200 || !bytes.Contains(b, []byte(`"result":true`)) {
			t.Fatalf("%s: verify = %d %s", when, st, b)
		}
	}
	l.stop()
	keyRecords := func() map[string][]byte {
		out := map[string][]byte{}
		for key, v := range rawRecords(t, filepath.Join(dir, "coffer.db")) {
			if strings.HasPrefix(key, "d/"+domain+"/k/") || strings.HasPrefix(key, "d/"+domain+"/km/") || key == sealed.KeyringKey {
				out[key] = v
			}
		}
		return out
	}
	before := keyRecords()

	// Root key rotation: only the keyring changes.
	l = startLive(t, liveOptions{dir: dir, token: token})
	if st, _, b := l.do(t, "POST", "/sys/master-key/rotate", ""); st != 200 {
		t.Fatalf("rotate the root key = %d %s", st, b)
	}
	useAll(l, "after the root key rotation")
	l.stop()
	after := keyRecords()
	for key, v := range before {
		if changed := !bytes.Equal(after[key], v); changed != (key == sealed.KeyringKey) {
			t.Errorf("root key rotation: %s changed %v", key, changed)
		}
	}

	// Domain key rotation: old records open under term 1; what is written
	// afterwards is under term 2.
	l = startLive(t, liveOptions{dir: dir, token: token})
	useAll(l, "after a restart with the new root key")
	if st, _, b := l.do(t, "POST", "/sys/domains/"+domain+"/key/rotate", ""); st != 200 {
		t.Fatalf("rotate the domain key = %d %s", st, b)
	}
	if st, _, b := l.do(t, "PATCH", k+"/"+aes, `{"name":"rot-aes-renamed"}`); st != 200 {
		t.Fatalf("rename = %d %s", st, b)
	}
	fresh := create(l, `{"name":"rot-new","type":"oct","size":128}`)
	useAll(l, "after the domain key rotation")
	l.stop()
	terms := map[string]uint32{}
	for key, v := range keyRecords() {
		if key == sealed.KeyringKey {
			continue
		}
		term, err := crypto.Term(v)
		if err != nil {
			t.Fatalf("%s: %v", key, err)
		}
		terms[key] = term
	}
	for key, want := range map[string]uint32{
		"d/" + domain + "/k/" + aes:                    2, // written again after the rotation
		"d/" + domain + "/km/" + aes + "/0000000001":   1, // untouched, still opens
		"d/" + domain + "/k/" + ec:                     1,
		"d/" + domain + "/k/" + fresh:                  2,
		"d/" + domain + "/km/" + fresh + "/0000000001": 2,
	} {
		if terms[key] != want {
			t.Errorf("%s sealed under term %d, want %d", key, terms[key], want)
		}
	}
	st2 := openSealed(t, filepath.Join(dir, "coffer.db"), "", filepath.Join(dir, "root.key"))
	rep, err := checkStore(t.Context(), st2)
	st2.Close()
	if err != nil || len(rep.Problems) > 0 {
		t.Errorf("store check after the rotations: %v %v", err, rep.Problems)
	}
	t.Logf("service keys across rotations: root key rotation changed only the keyring; after the domain key rotation, key records by term %v; every key decrypts and verifies", terms)
}
