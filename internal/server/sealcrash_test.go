package server

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/seal"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

// Interrupted seal changes, at every point: the store's writes are
// counted, and the process "dies" before the n-th one (it and every later
// write fail, as after a kill -9), for n = 0, 1, 2, … until the change
// completes. After each death a new sealer on the same store must unseal
// with the old keys or the new ones, and read what was written before.
// The end-to-end test TestSealCrash does the same with kill -9 at random
// moments.

var errDied = errors.New("the process died")

// dying is a store that fails every write from the n-th on.
type dying struct {
	storage.Backend
	left *atomic.Int64
}

func (d dying) Update(ctx context.Context, fn func(storage.Tx) error) error {
	if d.left.Add(-1) < 0 {
		return errDied
	}
	return d.Backend.Update(ctx, fn)
}

// protection is a seal and the keys that open it.
type protection struct {
	typ  string
	keys []string
}

// testSealer returns a sealer over b; mods set the KMS seals' settings.
func testSealer(t *testing.T, dir string, b storage.Backend, mods ...func(*Config)) *sealer {
	t.Helper()
	cfg := Config{DataDir: dir, KDFTime: 1, KDFMemory: 64, KDFThreads: 1}
	for _, mod := range mods {
		mod(&cfg)
	}
	m, err := newSealer(t.Context(), cfg, map[string]storage.Backend{"local": b}, "local", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// unsealWith unseals m with p's keys and returns the default region's
// store.
func unsealWith(ctx context.Context, m *sealer, p protection) (storage.Backend, error) {
	keys := p.keys
	if len(keys) == 0 {
		keys = []string{""}
	}
	for _, k := range keys {
		_, stores, err := m.Unseal(ctx, k, false)
		if err != nil {
			return nil, err
		}
		if stores != nil {
			return stores["local"], nil
		}
	}
	return nil, errors.New("still sealed")
}

const canaryKey, canaryValue = "d/test/canary", "written before the change"

// fresh makes an installation sealed with shamir 2 of 2 holding one
// record, and returns its raw store and protection.
func fresh(t *testing.T, dir string) (storage.Backend, protection) {
	t.Helper()
	ctx := t.Context()
	raw := memstore.New()
	m := testSealer(t, dir, raw)
	m.want = seal.TypeShamir
	keys, stores, commit, err := m.Init(ctx, service.SealInit{Shares: 2, Threshold: 2})
	if err != nil {
		t.Fatal(err)
	}
	if err := stores["local"].Update(ctx, func(tx storage.Tx) error { return tx.Put(canaryKey, []byte(canaryValue)) }); err != nil {
		t.Fatal(err)
	}
	if err := commit(ctx); err != nil {
		t.Fatal(err)
	}
	m.Seal(ctx)
	return raw, protection{"shamir", keys.Keys}
}

// change runs one seal change (or a root key rotation: to "rotate") on an
// unsealed m, and reports the new protection once the change has handed
// out its keys (nil before).
func change(ctx context.Context, m *sealer, from protection, to string, newKeys *protection) error {
	if to == "rotate" {
		_, _, err := m.rotateRoot(ctx)
		return err
	}
	req := service.SealChange{To: to, Keys: from.keys}
	switch to {
	case "shamir":
		req.Shares, req.Threshold = 2, 2
	case "passphrase":
		req.Passphrase = []byte("correct horse battery staple")
	}
	if to == from.typ {
		req.To = "" // rekey
	}
	ch, err := m.StartChange(ctx, req)
	if err != nil {
		return err
	}
	*newKeys = protection{ch.Type, ch.Keys}
	if ch.Type == "passphrase" {
		newKeys.keys = []string{"correct horse battery staple"}
	}
	commit := service.SealCommit{Nonce: ch.Nonce}
	if ch.T > 0 {
		commit.Keys = newKeys.keys[:ch.T]
	}
	_, err = m.CommitChange(ctx, commit)
	return err
}

func TestSealChangeInterrupted(t *testing.T) {
	// Each step starts from the protection the previous one put in place:
	// every seal type, migrations to and from the KMS seals (okms and
	// transit through a coffer KMS), their rekeys (a re-wrap) and root key
	// rotations under them.
	steps := []string{"shamir" /* rekey */, "rotate", "passphrase", "rotate", "file", "shamir",
		"okms", "rotate", "okms" /* re-wrap */, "passphrase", "transit", "rotate", "okms", "transit", "shamir"}
	kms := newTestKMS(t)
	kmsConfig := func(c *Config) { kms.config(c); kms.transitConfig(c) }
	testSealer := func(t *testing.T, dir string, b storage.Backend) *sealer { return testSealer(t, dir, b, kmsConfig) }
	ctx := t.Context()
	figures := map[string]int{}
	for i, to := range steps {
		name := to
		for n := int64(0); ; n++ {
			dir := t.TempDir()
			raw, from := fresh(t, dir)
			// Bring the store to the step's starting seal, without deaths.
			for _, prev := range steps[:i] {
				m := testSealer(t, dir, raw)
				if _, err := unsealWith(ctx, m, from); err != nil {
					t.Fatalf("%s: setup: unseal: %v", name, err)
				}
				var next protection
				if err := change(ctx, m, from, prev, &next); err != nil {
					t.Fatalf("%s: setup %s: %v", name, prev, err)
				}
				if prev != "rotate" {
					from = next
				}
				m.Seal(ctx)
			}

			switch {
			case to == "rotate":
				name = "root key rotation under " + from.typ
			case to == from.typ:
				name = "rekey of " + from.typ
			default:
				name = "migration " + from.typ + " to " + to
			}
			left := &atomic.Int64{}
			left.Store(1 << 30)
			m := testSealer(t, dir, dying{raw, left})
			if _, err := unsealWith(ctx, m, from); err != nil {
				t.Fatalf("%s: unseal before the change: %v", name, err)
			}
			left.Store(n)
			var next protection
			err := change(ctx, m, from, to, &next)
			done := err == nil
			if err != nil && !errors.Is(err, errDied) {
				t.Fatalf("%s, death at write %d: %v", name, n, err)
			}
			m.Seal(ctx)

			// The restart: old keys, else new ones.
			opened := ""
			for _, p := range []struct {
				name string
				p    protection
			}{{"old", from}, {"new", next}} {
				if p.p.typ == "" {
					continue
				}
				r := testSealer(t, dir, raw)
				if st, err := r.Status(ctx); err != nil || st.Type != p.p.typ {
					continue // the record names another seal
				}
				st, err := unsealWith(ctx, r, p.p)
				if err != nil {
					r.Seal(ctx)
					continue
				}
				var got []byte
				err = st.View(ctx, func(tx storage.Tx) error { got, err = tx.Get(canaryKey); return err })
				r.Seal(ctx)
				if err != nil || string(got) != canaryValue {
					t.Fatalf("%s, death at write %d: opened with the %s keys but the record reads %q, %v", name, n, p.name, got, err)
				}
				opened = p.name
				break
			}
			if opened == "" {
				t.Fatalf("%s, death at write %d: the store opens with neither the old nor the new protection", name, n)
			}
			if done {
				// A re-wrap under a KMS seal keeps the type and has no keys:
				// old and new protections are told apart by nobody.
				rewrap := from.typ == next.typ && len(from.keys) == 0
				if opened != "new" && to != "rotate" && !rewrap {
					t.Fatalf("%s completed but the old keys still open the store", name)
				}
				figures[name] = int(n)
				break
			}
		}
	}
	t.Logf("seal changes interrupted before each of their writes (writes per change): %v; each time the store opened with the old or the new protection", figures)

}

// TestSealWipesKeys: a seal overwrites the root key and the key-encryption
// key the sealer held, and the stores it handed out no longer serve.
func TestSealWipesKeys(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	raw, p := fresh(t, dir)
	m := testSealer(t, dir, raw)
	st, err := unsealWith(ctx, m, p)
	if err != nil {
		t.Fatal(err)
	}
	root := m.root
	before, err := copyKey(root)
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Seal(ctx); err != nil {
		t.Fatal(err)
	}
	if root.Equal(before) {
		t.Fatal("the root key's bytes survive the seal")
	}
	if !m.root.IsZero() || m.wrapper != nil || m.open != nil {
		t.Fatal("the sealer still refers to keys or stores")
	}
	if err := st.View(ctx, func(storage.Tx) error { return nil }); !errors.Is(err, storage.ErrClosed) {
		t.Fatalf("a store handed out before the seal still serves: %v", err)
	}
}
