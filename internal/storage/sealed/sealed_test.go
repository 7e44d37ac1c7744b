package sealed_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
	"github.com/seed-3e8d63de/coffer/internal/storage/sealed"
	"github.com/seed-3e8d63de/coffer/internal/storage/storagetest"
)

// selectKey is the test schema: "d/<id>/..." uses domain d/<id>'s key,
// everything else the system key, as service/records.go does.
func selectKey(key string) crypto.KeyID {
	if rest, ok := strings.CutPrefix(key, "d/"); ok {
		if id, _, ok := strings.Cut(rest, "/"); ok {
			return crypto.KeyID("d/" + id)
		}
	}
	return crypto.SystemKeyID
}

func newKey(t *testing.T) crypto.Key {
	t.Helper()
	k, err := crypto.NewKey(rand.Reader)
	if err != nil {
		t.Fatalf("crypto.NewKey error: %v", err)
	}
	return k
}

// shared wraps a backend that several Stores open in turn, as processes
// restarting over one database do: closing a Store must not close it.
type shared struct{ storage.Backend }

func (shared) Close() error { return nil }

// open opens a Store over b and closes it when the test ends.
func open(t *testing.T, b storage.Backend, root crypto.Key) *sealed.Store {
	t.Helper()
	s, err := sealed.Open(t.Context(), b, root, selectKey)
	if err != nil {
		t.Fatalf("sealed.Open error: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func put(t *testing.T, b storage.Backend, kv ...string) {
	t.Helper()
	err := b.Update(t.Context(), func(tx storage.Tx) error {
		for i := 0; i < len(kv); i += 2 {
			if err := tx.Put(kv[i], []byte(kv[i+1])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Update(put %q) error: %v", kv, err)
	}
}

func get(t *testing.T, b storage.Backend, key string) ([]byte, error) {
	t.Helper()
	var v []byte
	err := b.View(t.Context(), func(tx storage.Tx) error {
		var err error
		v, err = tx.Get(key)
		return err
	})
	return v, err
}

func wantValue(t *testing.T, b storage.Backend, key, want string) {
	t.Helper()
	got, err := get(t, b, key)
	if err != nil || string(got) != want {
		t.Errorf("Get(%q) = %q, %v; want %q", key, got, err, want)
	}
}

// wantIntegrity checks that Get(key) fails with ErrIntegrity, names the key,
// and returns nothing.
func wantIntegrity(t *testing.T, b storage.Backend, key, what string) {
	t.Helper()
	got, err := get(t, b, key)
	if !errors.Is(err, crypto.ErrIntegrity) || got != nil {
		t.Errorf("%s: Get(%q) = %q, %v; want nil, ErrIntegrity", what, key, got, err)
		return
	}
	if !strings.Contains(err.Error(), key) {
		t.Errorf("%s: Get(%q) error %q does not name the key", what, key, err)
	}
}

func rawGet(t *testing.T, b storage.Backend, key string) []byte {
	t.Helper()
	var v []byte
	err := b.View(t.Context(), func(tx storage.Tx) error {
		var err error
		v, err = tx.Get(key)
		return err
	})
	if err != nil {
		t.Fatalf("raw Get(%q) error: %v", key, err)
	}
	return v
}

func rawPut(t *testing.T, b storage.Backend, key string, v []byte) {
	t.Helper()
	if err := b.Update(t.Context(), func(tx storage.Tx) error { return tx.Put(key, v) }); err != nil {
		t.Fatalf("raw Put(%q) error: %v", key, err)
	}
}

// headerTerm returns the key term in the header of the raw value of key.
func headerTerm(t *testing.T, b storage.Backend, key string) uint32 {
	t.Helper()
	raw := rawGet(t, b, key)
	if len(raw) < 8 || string(raw[:3]) != "CFR" {
		t.Fatalf("raw value of %q has no CFR header", key)
	}
	return binary.BigEndian.Uint32(raw[4:8])
}

func TestStore_conformance(t *testing.T) {
	root := newKey(t)
	storagetest.Run(t, func(t *testing.T) storage.Backend {
		s, err := sealed.Open(t.Context(), memstore.New(), root, selectKey)
		if err != nil {
			t.Fatalf("sealed.Open error: %v", err)
		}
		return s
	})
}

func TestOpen_errors(t *testing.T) {
	t.Parallel()
	root := newKey(t)
	closed := memstore.New()
	_ = closed.Close()
	tests := []struct {
		name      string
		b         storage.Backend
		root      crypto.Key
		selectKey func(string) crypto.KeyID
		want      error
	}{
		{"nil backend", nil, root, selectKey, nil},
		{"nil selectKey", memstore.New(), root, nil, nil},
		{"zero root key", memstore.New(), crypto.Key{}, selectKey, crypto.ErrInvalidKey},
		{"closed backend", closed, root, selectKey, storage.ErrClosed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, err := sealed.Open(t.Context(), tc.b, tc.root, tc.selectKey)
			if err == nil || s != nil || (tc.want != nil && !errors.Is(err, tc.want)) {
				t.Errorf("Open() = %v, %v; want nil and an error (%v)", s, err, tc.want)
			}
		})
	}
}

func TestOpen_wrongRootKey(t *testing.T) {
	t.Parallel()
	b := shared{memstore.New()}
	s := open(t, b, newKey(t))
	put(t, s, "d/a/s/x", "v")

	other, err := sealed.Open(t.Context(), b, newKey(t), selectKey)
	if !errors.Is(err, crypto.ErrIntegrity) || other != nil {
		t.Fatalf("Open(wrong root) = %v, %v; want nil, ErrIntegrity", other, err)
	}
	if !strings.Contains(err.Error(), "root key does not match the data") {
		t.Errorf("Open(wrong root) error %q does not say the root key does not match the data", err)
	}
}

// TestStore_canary is T8's storage check: no plaintext reaches the backend.
func TestStore_canary(t *testing.T) {
	t.Parallel()
	const canary = "CANARY-1234"
	b := shared{memstore.New()}
	s := open(t, b, newKey(t))
	keys := []string{"d/a/s/prod/db", "d/a/v/0001/0000000001", "d/b/s/x", "iam/user/bob", "sys/pepper"}
	for i, k := range keys {
		put(t, s, k, fmt.Sprintf(`{"password":"%s","i":%d}`, canary, i))
	}
	put(t, s, "d/a/s/bare", canary)
	if _, err := s.RotateKey(t.Context(), "d/a"); err != nil {
		t.Fatal(err)
	}
	put(t, s, "d/a/s/after-rotation", canary+canary)
	wantValue(t, s, "d/a/s/bare", canary)

	err := b.View(t.Context(), func(tx storage.Tx) error {
		all, err := tx.List("", "", 0)
		if err != nil {
			return err
		}
		if !slices.Contains(all, sealed.KeyringKey) {
			t.Errorf("raw keys %q lack the keyring record", all)
		}
		for _, k := range all {
			v, err := tx.Get(k)
			if err != nil {
				return err
			}
			for _, form := range []string{canary, "CANARY", "password"} {
				if strings.Contains(k, form) || bytes.Contains(v, []byte(form)) {
					t.Errorf("raw record %q holds %q in clear", k, form)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("scanning the raw backend: %v", err)
	}
}

// TestStore_tampering flips every bit of a stored record, one at a time
// (T9), and overwrites every byte with its complement.
func TestStore_tampering(t *testing.T) {
	t.Parallel()
	b := shared{memstore.New()}
	s := open(t, b, newKey(t))
	const key, secret = "d/a/v/s1/0000000001", "hunter2"
	put(t, s, key, secret)
	if _, err := s.RotateKey(t.Context(), "d/a"); err != nil {
		t.Fatal(err)
	}
	put(t, s, "d/a/v/s1/0000000002", "term two exists, so term bits can name a real term")
	orig := rawGet(t, b, key)

	check := func(what string, raw []byte) {
		t.Helper()
		rawPut(t, b, key, raw)
		got, err := get(t, s, key)
		if !errors.Is(err, crypto.ErrIntegrity) || got != nil {
			t.Fatalf("%s: Get = %q, %v; want nil, ErrIntegrity", what, got, err)
		}
		if strings.Contains(err.Error(), secret) {
			t.Fatalf("%s: error %q contains the plaintext", what, err)
		}
	}
	for i := range orig {
		for bit := range 8 {
			raw := bytes.Clone(orig)
			raw[i] ^= 1 << bit
			check(fmt.Sprintf("byte %d bit %d flipped", i, bit), raw)
		}
		raw := bytes.Clone(orig)
		raw[i] ^= 0xff
		check(fmt.Sprintf("byte %d complemented", i), raw)
	}
	for n := range len(orig) {
		check(fmt.Sprintf("truncated to %d bytes", n), orig[:n])
	}
	check("byte appended", append(bytes.Clone(orig), 0))

	rawPut(t, b, key, orig)
	wantValue(t, s, key, secret)
}

// TestStore_movedCiphertext copies raw records to other keys: to another
// version, another secret, another domain, the system family, and between
// two domains whose current terms have the same number.
func TestStore_movedCiphertext(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		from, to string
	}{
		{"version to version", "d/a/v/s1/0000000001", "d/a/v/s1/0000000002"},
		{"secret to secret", "d/a/v/s1/0000000001", "d/a/v/s2/0000000001"},
		{"domain A to domain B, same path", "d/a/v/s1/0000000001", "d/b/v/s1/0000000001"},
		{"domain B to domain A, same path", "d/b/v/s1/0000000001", "d/a/v/s1/0000000001"},
		{"domain to system key", "d/a/v/s1/0000000001", "iam/user/x"},
		{"system key to domain", "iam/user/x", "d/a/v/s2/0000000001"},
		{"to a new key", "d/a/v/s1/0000000001", "d/a/v/s1/0000000003"},
		{"to an unknown domain", "d/a/v/s1/0000000001", "d/c/v/s1/0000000001"},
		{"keyring to a data key", sealed.KeyringKey, "iam/user/x"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := shared{memstore.New()}
			s := open(t, b, newKey(t))
			put(t, s,
				"d/a/v/s1/0000000001", "a-s1-v1",
				"d/a/v/s1/0000000002", "a-s1-v2",
				"d/a/v/s2/0000000001", "a-s2-v1",
				"d/b/v/s1/0000000001", "b-s1-v1",
				"iam/user/x", "sys value",
			)
			rawPut(t, b, tc.to, rawGet(t, b, tc.from))
			wantIntegrity(t, s, tc.to, tc.name)
		})
	}
}

// TestStore_domainSeparation checks that two domains with the same term
// number have different keys, also through a fresh Store with a cold cache.
func TestStore_domainSeparation(t *testing.T) {
	t.Parallel()
	b := shared{memstore.New()}
	root := newKey(t)
	s := open(t, b, root)
	put(t, s, "d/a/s/x", "secret of A")
	put(t, s, "d/b/s/x", "secret of B")
	if ta, tb := headerTerm(t, b, "d/a/s/x"), headerTerm(t, b, "d/b/s/x"); ta != 1 || tb != 1 {
		t.Fatalf("header terms = %d, %d; want 1, 1", ta, tb)
	}
	rawPut(t, b, "d/b/s/x", rawGet(t, b, "d/a/s/x"))
	wantIntegrity(t, open(t, b, root), "d/b/s/x", "A's record at B's key, fresh store")
	wantIntegrity(t, s, "d/b/s/x", "A's record at B's key")
	wantValue(t, s, "d/a/s/x", "secret of A")
}

func TestStore_reservedKey(t *testing.T) {
	t.Parallel()
	b := shared{memstore.New()}
	s := open(t, b, newKey(t))
	put(t, s, "sys/a", "1", "sys/z", "2", "t", "3")

	err := s.Update(t.Context(), func(tx storage.Tx) error {
		if _, err := tx.Get(sealed.KeyringKey); !errors.Is(err, sealed.ErrReserved) {
			t.Errorf("Get(keyring) = %v, want ErrReserved", err)
		}
		if err := tx.Put(sealed.KeyringKey, []byte("x")); !errors.Is(err, sealed.ErrReserved) {
			t.Errorf("Put(keyring) = %v, want ErrReserved", err)
		}
		if err := tx.Delete(sealed.KeyringKey); !errors.Is(err, sealed.ErrReserved) {
			t.Errorf("Delete(keyring) = %v, want ErrReserved", err)
		}
		tests := []struct {
			prefix, after string
			limit         int
			want          []string
		}{
			{"", "", 0, []string{"sys/a", "sys/z", "t"}},
			{"sys/", "", 0, []string{"sys/a", "sys/z"}},
			{"sys/", "", 2, []string{"sys/a", "sys/z"}},
			{"sys/", "sys/a", 1, []string{"sys/z"}},
			{"sys/k", "", 0, []string{}},
			{sealed.KeyringKey, "", 1, []string{}},
			{"", "sys/a", 2, []string{"sys/z", "t"}},
		}
		for _, tc := range tests {
			got, err := tx.List(tc.prefix, tc.after, tc.limit)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("List(%q, %q, %d) = %q, %v; want %q", tc.prefix, tc.after, tc.limit, got, err, tc.want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// The keyring is untouched.
	if _, err := sealed.Open(t.Context(), b, newKey(t), selectKey); !errors.Is(err, crypto.ErrIntegrity) {
		t.Errorf("Open(other root) after the attempts = %v, want ErrIntegrity (keyring still there)", err)
	}
}

func TestStore_RotateKey(t *testing.T) {
	t.Parallel()
	b := shared{memstore.New()}
	root := newKey(t)
	s := open(t, b, root)
	put(t, s, "d/a/s/old", "old value", "iam/user/u", "sys value")

	term, err := s.RotateKey(t.Context(), "d/a")
	if err != nil || term != 2 {
		t.Fatalf("RotateKey(d/a) = %d, %v; want 2, nil", term, err)
	}
	put(t, s, "d/a/s/new", "new value", "iam/user/v", "sys value 2")

	for _, tc := range []struct {
		key  string
		term uint32
	}{{"d/a/s/old", 1}, {"d/a/s/new", 2}, {"iam/user/u", 1}, {"iam/user/v", 1}} {
		if got := headerTerm(t, b, tc.key); got != tc.term {
			t.Errorf("header term of %q = %d, want %d", tc.key, got, tc.term)
		}
	}
	wantValue(t, s, "d/a/s/old", "old value")
	wantValue(t, s, "d/a/s/new", "new value")

	// Rotating a family that has no term yet creates term 1.
	if term, err := s.RotateKey(t.Context(), "d/fresh"); err != nil || term != 1 {
		t.Errorf("RotateKey(d/fresh) = %d, %v; want 1, nil", term, err)
	}
	for _, id := range []crypto.KeyID{"", crypto.RootKeyID} {
		if _, err := s.RotateKey(t.Context(), id); !errors.Is(err, crypto.ErrInvalidKeyID) {
			t.Errorf("RotateKey(%q) = %v, want ErrInvalidKeyID", id, err)
		}
	}

	// The keyring is persisted: a new Store writes with term 2 and reads both.
	s2 := open(t, b, root)
	put(t, s2, "d/a/s/third", "third")
	if got := headerTerm(t, b, "d/a/s/third"); got != 2 {
		t.Errorf("after reopening, header term of a new write = %d, want 2", got)
	}
	wantValue(t, s2, "d/a/s/old", "old value")
	wantValue(t, s2, "d/a/s/new", "new value")
}

func TestStore_RotateRootKey(t *testing.T) {
	t.Parallel()
	b := shared{memstore.New()}
	root1, root2, root3 := newKey(t), newKey(t), newKey(t)
	s := open(t, b, root1)
	put(t, s, "d/a/s/x", "x", "iam/user/u", "u")
	before := rawGet(t, b, "d/a/s/x")

	if err := s.RotateRootKey(t.Context(), root2); err != nil {
		t.Fatalf("RotateRootKey error: %v", err)
	}
	if !bytes.Equal(before, rawGet(t, b, "d/a/s/x")) {
		t.Errorf("RotateRootKey re-encrypted a data record")
	}
	// The rotating store keeps working, including for new families, whose
	// first term is written into the keyring under the new root.
	wantValue(t, s, "d/a/s/x", "x")
	put(t, s, "d/b/s/y", "y")

	if _, err := sealed.Open(t.Context(), b, root1, selectKey); !errors.Is(err, crypto.ErrIntegrity) {
		t.Errorf("Open(old root) after rotation = %v, want ErrIntegrity", err)
	}
	s2 := open(t, b, root2)
	for k, v := range map[string]string{"d/a/s/x": "x", "iam/user/u": "u", "d/b/s/y": "y"} {
		wantValue(t, s2, k, v)
	}

	// A second rotation, through the reopened store.
	if err := s2.RotateRootKey(t.Context(), root3); err != nil {
		t.Fatalf("second RotateRootKey error: %v", err)
	}
	for _, old := range []crypto.Key{root1, root2} {
		if _, err := sealed.Open(t.Context(), b, old, selectKey); !errors.Is(err, crypto.ErrIntegrity) {
			t.Errorf("Open(replaced root) = %v, want ErrIntegrity", err)
		}
	}
	s3 := open(t, b, root3)
	for k, v := range map[string]string{"d/a/s/x": "x", "iam/user/u": "u", "d/b/s/y": "y"} {
		wantValue(t, s3, k, v)
	}
	if err := s3.RotateRootKey(t.Context(), crypto.Key{}); !errors.Is(err, crypto.ErrInvalidKey) {
		t.Errorf("RotateRootKey(zero key) = %v, want ErrInvalidKey", err)
	}
}

// TestStore_twoProcesses runs two Stores over one backend, as two coffer
// nodes over one database: a term created by one is found by the other,
// which must not create a second term 1.
func TestStore_twoProcesses(t *testing.T) {
	t.Parallel()
	b := shared{memstore.New()}
	root := newKey(t)
	n1, n2 := open(t, b, root), open(t, b, root)

	put(t, n1, "d/a/s/x", "from n1")
	wantValue(t, n2, "d/a/s/x", "from n1") // n2's cache has no d/a: it reloads
	put(t, n2, "d/a/s/y", "from n2")       // and must reuse n1's term 1
	wantValue(t, n1, "d/a/s/y", "from n2")

	put(t, n2, "d/b/s/x", "n2 first")
	put(t, n1, "d/b/s/y", "n1 second") // n1's cache has no d/b: reload in tx
	wantValue(t, n2, "d/b/s/y", "n1 second")

	term, err := n1.RotateKey(t.Context(), "d/a")
	if err != nil || term != 2 {
		t.Fatalf("RotateKey(d/a) = %d, %v; want 2 (exactly one term existed)", term, err)
	}
	put(t, n1, "d/a/s/z", "term 2")
	wantValue(t, n2, "d/a/s/z", "term 2") // unknown term 2: n2 reloads
}

// TestStore_concurrentFirstWrites races writers that create the first term
// of the same families through two Stores; every value must open afterwards.
func TestStore_concurrentFirstWrites(t *testing.T) {
	t.Parallel()
	b := shared{memstore.New()}
	root := newKey(t)
	nodes := []*sealed.Store{open(t, b, root), open(t, b, root)}
	const writers, domains = 8, 4
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for d := range domains {
				key := fmt.Sprintf("d/%d/s/w%d", d, w)
				err := nodes[w%2].Update(context.Background(), func(tx storage.Tx) error {
					return tx.Put(key, []byte(key))
				})
				if err != nil {
					t.Errorf("Put(%q) error: %v", key, err)
				}
			}
		})
	}
	wg.Wait()
	fresh := open(t, b, root)
	for _, s := range append(nodes, fresh) {
		for w := range writers {
			for d := range domains {
				key := fmt.Sprintf("d/%d/s/w%d", d, w)
				wantValue(t, s, key, key)
			}
		}
	}
	for d := range domains {
		if term, err := fresh.RotateKey(t.Context(), crypto.KeyID(fmt.Sprintf("d/%d", d))); err != nil || term != 2 {
			t.Errorf("RotateKey(d/%d) = %d, %v; want 2 (one first term per family)", d, term, err)
		}
	}
}

// retrying runs every Update's fn once more than needed: the first attempt
// is rolled back, as after a conflict, then fn runs again.
type retrying struct{ storage.Backend }

var errConflict = errors.New("test: simulated conflict")

func (r retrying) Update(ctx context.Context, fn func(storage.Tx) error) error {
	err := r.Backend.Update(ctx, func(tx storage.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errConflict
	})
	if !errors.Is(err, errConflict) {
		return err
	}
	return r.Backend.Update(ctx, fn)
}

// TestStore_updateAttempts checks that nothing from an attempt that did not
// commit leaks into the Store: a term created by a rolled-back attempt or a
// failed Update must not be used for later writes.
func TestStore_updateAttempts(t *testing.T) {
	t.Parallel()
	mem := memstore.New()
	root := newKey(t)
	s := open(t, shared{retrying{mem}}, root)

	attempts := 0
	err := s.Update(t.Context(), func(tx storage.Tx) error {
		attempts++
		return tx.Put("d/new/s/x", []byte("x"))
	})
	if err != nil || attempts != 2 {
		t.Fatalf("Update = %v after %d attempts; want nil after 2", err, attempts)
	}
	errFail := errors.New("test: fn fails")
	err = s.Update(t.Context(), func(tx storage.Tx) error {
		if err := tx.Put("d/failed/s/x", []byte("lost")); err != nil {
			return err
		}
		return errFail
	})
	if !errors.Is(err, errFail) {
		t.Fatalf("Update(failing fn) = %v, want %v", err, errFail)
	}
	put(t, s, "d/failed/s/y", "kept")

	// A Store with a cold cache sees only what was committed.
	fresh := open(t, shared{mem}, root)
	wantValue(t, fresh, "d/new/s/x", "x")
	wantValue(t, fresh, "d/failed/s/y", "kept")
	if _, err := get(t, fresh, "d/failed/s/x"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(value of the failed Update) = %v, want ErrNotFound", err)
	}
	for _, id := range []crypto.KeyID{"d/new", "d/failed"} {
		if term, err := fresh.RotateKey(t.Context(), id); err != nil || term != 2 {
			t.Errorf("RotateKey(%q) = %d, %v; want 2 (exactly one committed term)", id, term, err)
		}
	}
}

func TestStore_invalidKeyID(t *testing.T) {
	t.Parallel()
	for _, id := range []crypto.KeyID{"", crypto.RootKeyID} {
		s, err := sealed.Open(t.Context(), memstore.New(), newKey(t), func(string) crypto.KeyID { return id })
		if err != nil {
			t.Fatal(err)
		}
		err = s.Update(t.Context(), func(tx storage.Tx) error { return tx.Put("k", []byte("v")) })
		if !errors.Is(err, crypto.ErrInvalidKeyID) {
			t.Errorf("Put with selectKey returning %q = %v, want ErrInvalidKeyID", id, err)
		}
		_ = s.Close()
	}
}

// TestStore_viewNeverCreatesTerms checks that a Put refused in a View does
// not create a key term on the side.
func TestStore_viewNeverCreatesTerms(t *testing.T) {
	t.Parallel()
	b := shared{memstore.New()}
	s := open(t, b, newKey(t))
	before := rawGet(t, b, sealed.KeyringKey)
	err := s.View(t.Context(), func(tx storage.Tx) error { return tx.Put("d/x/s/a", []byte("v")) })
	if !errors.Is(err, storage.ErrReadOnly) {
		t.Fatalf("Put in View = %v, want ErrReadOnly", err)
	}
	if !bytes.Equal(before, rawGet(t, b, sealed.KeyringKey)) {
		t.Errorf("a refused Put changed the keyring")
	}
}

func TestStore_closed(t *testing.T) {
	t.Parallel()
	s, err := sealed.Open(t.Context(), memstore.New(), newKey(t), selectKey)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RotateKey(t.Context(), "d/a"); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("RotateKey after Close = %v, want ErrClosed", err)
	}
	if err := s.RotateRootKey(t.Context(), newKey(t)); !errors.Is(err, storage.ErrClosed) {
		t.Errorf("RotateRootKey after Close = %v, want ErrClosed", err)
	}
}

func TestStore_redaction(t *testing.T) {
	t.Parallel()
	s := open(t, shared{memstore.New()}, newKey(t))
	put(t, s, "d/a/s/x", "x")
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("store", "s", s)
	for _, out := range []string{fmt.Sprintf("%v %+v %#v %s", s, s, s, s), buf.String()} {
		if strings.Count(out, "REDACTED") == 0 || strings.Contains(out, "keyring") {
			t.Errorf("printed Store = %q, want only the REDACTED form", out)
		}
	}
}
