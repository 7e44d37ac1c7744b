package seal

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
	"pgregory.net/rapid"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
)

var ctx = context.Background()

// roundTrip creates a seal, wraps a root key under it, stores the record
// and unlocks it again from keys.
func roundTrip(t *testing.T, s Seal, opts CreateOptions) (*Record, crypto.Key, [][]byte) {
	t.Helper()
	rec, w, keys, err := s.Create(ctx, opts)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	root, _ := crypto.NewKey(rand.Reader)
	if rec.Root, err = w.Wrap(ctx, root); err != nil {
		t.Fatalf("Wrap: %v", err)
	}
	w.Wipe()
	rec.Initialized = true
	b, err := rec.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if rec, err = ParseRecord(b); err != nil {
		t.Fatalf("ParseRecord: %v", err)
	}
	return rec, root, keys
}

func TestShamir(t *testing.T) {
	s := Shamir{Rand: rand.Reader}
	rec, root, shares := roundTrip(t, s, CreateOptions{Shares: 5, Threshold: 3})
	if rec.T() != 3 || rec.N() != 5 || len(shares) != 5 {
		t.Fatalf("t=%d n=%d shares=%d", rec.T(), rec.N(), len(shares))
	}
	w, err := s.Unlock(ctx, rec, [][]byte{shares[4], shares[0], shares[2]})
	if err != nil {
		t.Fatalf("Unlock: %v", err)
	}
	got, err := w.Unwrap(ctx, rec.Root)
	if err != nil || !got.Equal(root) {
		t.Fatalf("Unwrap: %v (equal %v)", err, got.Equal(root))
	}
	if _, err := s.Unlock(ctx, rec, shares[:2]); !errors.Is(err, ErrInvalidKeys) {
		t.Fatalf("two shares: %v, want ErrInvalidKeys", err)
	}
	for _, bad := range [][][]byte{{shares[0], shares[0], shares[1]}, {{1, 2}, shares[0], shares[1]}} {
		if _, err := s.Unlock(ctx, rec, bad); !errors.Is(err, ErrInvalidKeys) {
			t.Fatalf("malformed shares: %v, want ErrInvalidKeys", err)
		}
	}
}

// A corrupted share, anywhere in it, is detected by the verifier before
// anything is unwrapped.
func TestShamirCorruptedShareDetected(t *testing.T) {
	s := Shamir{Rand: rand.Reader}
	rec, _, shares := roundTrip(t, s, CreateOptions{Shares: 5, Threshold: 3})
	rapid.Check(t, func(rt *rapid.T) {
		idx := rapid.Permutation([]int{0, 1, 2, 3, 4}).Draw(rt, "order")[:3]
		keys := [][]byte{bytes.Clone(shares[idx[0]]), bytes.Clone(shares[idx[1]]), bytes.Clone(shares[idx[2]])}
		which := rapid.IntRange(0, 2).Draw(rt, "share")
		pos := rapid.IntRange(0, len(keys[which])-2).Draw(rt, "byte") // the y bytes
		keys[which][pos] ^= rapid.ByteRange(1, 255).Draw(rt, "flip")
		if _, err := s.Unlock(ctx, rec, keys); !errors.Is(err, ErrInvalidKeys) {
			rt.Fatalf("corrupted share unlocked: %v", err)
		}
	})
}

func TestShamirParameters(t *testing.T) {
	for _, o := range []CreateOptions{{0, 0, nil}, {3, 0, nil}, {3, 4, nil}, {3, 1, nil}, {256, 2, nil}} {
		if _, _, _, err := (Shamir{Rand: rand.Reader}).Create(ctx, o); !errors.Is(err, ErrParameters) {
			t.Errorf("%+v: %v, want ErrParameters", o, err)
		}
	}
	if _, _, keys, err := (Shamir{Rand: rand.Reader}).Create(ctx, CreateOptions{Shares: 1, Threshold: 1}); err != nil || len(keys) != 1 {
		t.Errorf("1 of 1: %v", err)
	}
}

// cheap lowers Argon2id's cost for tests.
var cheap = Passphrase{Rand: rand.Reader, Time: 1, Memory: 64, Threads: 1}

func TestPassphrase(t *testing.T) {
	rec, root, keys := roundTrip(t, cheap, CreateOptions{Passphrase: []byte("correct horse battery staple")})
	if keys != nil || rec.T() != 1 || rec.N() != 1 || rec.KDF == nil || len(rec.KDF.Salt) != 16 {
		t.Fatalf("record %+v, keys %v", rec, keys)
	}
	w, err := cheap.Unlock(ctx, rec, [][]byte{[]byte("correct horse battery staple")})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := w.Unwrap(ctx, rec.Root); err != nil || !got.Equal(root) {
		t.Fatalf("Unwrap: %v", err)
	}
	for _, wrong := range []string{"correct horse battery stapl", "Correct horse battery staple", ""} {
		if _, err := cheap.Unlock(ctx, rec, [][]byte{[]byte(wrong)}); !errors.Is(err, ErrInvalidKeys) {
			t.Errorf("wrong passphrase %q: %v", wrong, err)
		}
	}
	if _, _, _, err := cheap.Create(ctx, CreateOptions{Passphrase: []byte("short")}); !errors.Is(err, ErrParameters) {
		t.Errorf("short passphrase: %v", err)
	}
	// An altered record cannot ask for an unbounded derivation.
	rec.KDF.Memory = 1 << 31
	if _, err := cheap.Unlock(ctx, rec, [][]byte{[]byte("correct horse battery staple")}); !errors.Is(err, ErrRecord) {
		t.Errorf("huge memory: %v", err)
	}
}

// The default cost is RFC 9106's second recommended option.
func TestPassphraseDefaults(t *testing.T) {
	if testing.Short() {
		t.Skip("64 MiB Argon2id")
	}
	rec, _, _, err := Passphrase{Rand: rand.Reader}.Create(ctx, CreateOptions{Passphrase: []byte("a long enough passphrase")})
	if err != nil {
		t.Fatal(err)
	}
	if k := rec.KDF; k.Time != 3 || k.Memory != 64<<10 || k.Threads != 4 {
		t.Fatalf("KDF %+v", k)
	}
}

func TestFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "root.key")
	f := File{Path: path}
	rec, root, keys := roundTrip(t, f, CreateOptions{})
	if rec.Root != nil || keys != nil || rec.T() != 0 {
		t.Fatalf("file record %+v", rec)
	}
	w, _ := f.Unlock(ctx, rec, nil)
	if got, err := w.Unwrap(ctx, nil); err != nil || !got.Equal(root) {
		t.Fatalf("Unwrap: %v", err)
	}
	// Wrapping the same key again is a no-op; another key is refused.
	if _, err := w.Wrap(ctx, root); err != nil {
		t.Fatalf("same key again: %v", err)
	}
	other, _ := crypto.NewKey(rand.Reader)
	if _, err := w.Wrap(ctx, other); err == nil {
		t.Fatal("another key overwrote the key file")
	}
}

func TestDecodeKey(t *testing.T) {
	share := []byte{1, 2, 3, 250}
	for _, in := range []string{hex.EncodeToString(share), base64.StdEncoding.EncodeToString(share), " " + hex.EncodeToString(share) + "\n"} {
		if got, err := DecodeKey(TypeShamir, in); err != nil || !bytes.Equal(got, share) {
			t.Errorf("DecodeKey(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := DecodeKey(TypeShamir, "not a key!"); err == nil {
		t.Error("garbage decoded")
	}
	if got, _ := DecodeKey(TypePassphrase, " pass phrase "); string(got) != " pass phrase " {
		t.Errorf("passphrase altered: %q", got)
	}
}

func TestRecordErrors(t *testing.T) {
	for _, b := range []string{`{`, `{"f":2,"type":"file"}`, `{"f":1,"type":"magic"}`} {
		if _, err := ParseRecord([]byte(b)); !errors.Is(err, ErrRecord) {
			t.Errorf("%s: %v", b, err)
		}
	}
}

func TestEncryptKeys(t *testing.T) {
	ids := make([]*age.X25519Identity, 2)
	recips := make([]string, 2)
	for i := range ids {
		ids[i], _ = age.GenerateX25519Identity()
		recips[i] = ids[i].Recipient().String()
	}
	keys := [][]byte{[]byte("share-one"), []byte("share-two")}
	enc, err := EncryptKeys(keys, recips)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range enc {
		if strings.Contains(e, base64.StdEncoding.EncodeToString(keys[i])) {
			t.Fatal("the plain key is in the encrypted one")
		}
		raw, _ := base64.StdEncoding.DecodeString(e)
		r, err := age.Decrypt(bytes.NewReader(raw), ids[i])
		if err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		pt, _ := io.ReadAll(r)
		if string(pt) != base64.StdEncoding.EncodeToString(keys[i]) {
			t.Fatalf("key %d decrypts to something else", i)
		}
		if _, err := age.Decrypt(bytes.NewReader(raw), ids[1-i]); err == nil {
			t.Fatalf("key %d opens with the other identity", i)
		}
	}
	if _, err := EncryptKeys(keys, recips[:1]); !errors.Is(err, ErrParameters) {
		t.Errorf("one recipient for two keys: %v", err)
	}
	if _, err := EncryptKeys(keys, []string{"age1nope", recips[0]}); !errors.Is(err, ErrParameters) {
		t.Errorf("bad recipient: %v", err)
	}
}
