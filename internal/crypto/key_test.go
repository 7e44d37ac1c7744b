package crypto

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"testing/iotest"
	"time"
)

// knownKeyBytes are the bytes of a test key, chosen printable-free so that a
// leak shows up in any of the encodings leakForms lists.
var knownKeyBytes = func() []byte {
	b := make([]byte, KeySize)
	for i := range b {
		b[i] = byte(0xA0 + i)
	}
	return b
}()

// knownKey returns a Key holding knownKeyBytes.
func knownKey(t testing.TB) Key {
	t.Helper()
	k, err := NewKey(bytes.NewReader(knownKeyBytes))
	if err != nil {
		t.Fatalf("NewKey(known bytes) error: %v", err)
	}
	return k
}

// leakForms returns the encodings under which key bytes could appear in
// printed output.
func leakForms(b []byte) []string {
	return []string{
		hex.EncodeToString(b),
		strings.ToUpper(hex.EncodeToString(b)),
		base64.StdEncoding.EncodeToString(b),
		base64.RawStdEncoding.EncodeToString(b),
		base64.URLEncoding.EncodeToString(b),
		base64.RawURLEncoding.EncodeToString(b),
		fmt.Sprint(b),                  // [160 161 ...]
		fmt.Sprintf("%#v", b),          // []byte{0xa0, ...}
		fmt.Sprintf("%v", [32]byte(b)), // as the array inside Key
		string(b),
		// A fragment is enough to count as a leak.
		hex.EncodeToString(b[:8]),
		fmt.Sprint(b[:8])[1:20],
	}
}

// assertNoLeak fails if out contains the known key bytes in any form.
func assertNoLeak(t *testing.T, what, out string) {
	t.Helper()
	for _, form := range leakForms(knownKeyBytes) {
		if strings.Contains(out, form) {
			t.Errorf("%s printed key material %q in %q", what, form, out)
		}
	}
}

func TestKey_redaction(t *testing.T) {
	t.Parallel()
	k := knownKey(t)
	kr := NewKeyring()
	if _, err := kr.Add("d/a", k, time.Unix(0, 0)); err != nil {
		t.Fatalf("Keyring.Add error: %v", err)
	}
	term, _ := kr.Current("d/a")
	// wrapper has the Key in an unexported field: fmt prints it by
	// reflection, without calling String.
	type wrapper struct {
		k  Key
		kt KeyTerm
		kr *Keyring
	}

	values := map[string]any{
		"Key":          k,
		"*Key":         &k,
		"KeyTerm":      term,
		"Keyring":      kr,
		"unexported":   wrapper{k: k, kt: term, kr: kr},
		"*unexported":  &wrapper{k: k, kt: term, kr: kr},
		"slice of Key": []Key{k},
		"map of Key":   map[string]Key{"k": k},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"}
	for name, v := range values {
		for _, verb := range verbs {
			assertNoLeak(t, fmt.Sprintf("fmt %s of %s", verb, name), fmt.Sprintf(verb, v))
		}
		assertNoLeak(t, "fmt.Sprint of "+name, fmt.Sprint(v))
		assertNoLeak(t, "fmt.Sprintln of "+name, fmt.Sprintln(v))
	}

	for _, h := range []struct {
		name string
		new  func(io.Writer) slog.Handler
	}{
		{"json", func(w io.Writer) slog.Handler { return slog.NewJSONHandler(w, nil) }},
		{"text", func(w io.Writer) slog.Handler { return slog.NewTextHandler(w, nil) }},
	} {
		var buf bytes.Buffer
		log := slog.New(h.new(&buf))
		for name, v := range values {
			log.Info("value", "name", name, "v", v)
		}
		log.Info("attrs", slog.Any("key", k), slog.Any("keyring", kr), slog.Any("term", term),
			slog.Group("g", "key", k))
		out := buf.String()
		assertNoLeak(t, "slog "+h.name, out)
		if !strings.Contains(out, "REDACTED") {
			t.Errorf("slog %s output has no REDACTED marker: %s", h.name, out)
		}
	}

	if got, want := fmt.Sprintf("%v|%#v|%s", k, k, k), "crypto.Key(REDACTED)|crypto.Key(REDACTED)|crypto.Key(REDACTED)"; got != want {
		t.Errorf("fmt of Key = %q, want %q", got, want)
	}
	if got, want := k.LogValue().String(), "REDACTED"; got != want {
		t.Errorf("Key.LogValue() = %q, want %q", got, want)
	}
}

func TestNewKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		rand    io.Reader
		wantErr bool
	}{
		{"32 bytes", bytes.NewReader(knownKeyBytes), false},
		{"short reader", bytes.NewReader(knownKeyBytes[:31]), true},
		{"empty reader", bytes.NewReader(nil), true},
		{"failing reader", iotest.ErrReader(errors.New("no entropy")), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			k, err := NewKey(tc.rand)
			if (err != nil) != tc.wantErr {
				t.Fatalf("NewKey() error = %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && !k.IsZero() {
				t.Errorf("NewKey() returned a non-zero key with error %v", err)
			}
			if err == nil && !bytes.Equal(k.material().b[:], knownKeyBytes) {
				t.Errorf("NewKey() bytes differ from the reader's")
			}
		})
	}
}

func TestKey_Equal(t *testing.T) {
	t.Parallel()
	a, b := knownKey(t), knownKey(t)
	c, err := NewKey(bytes.NewReader(bytes.Repeat([]byte{1}, KeySize)))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		x, y Key
		want bool
	}{
		{"same bytes, different values", a, b, true},
		{"different bytes", a, c, false},
		{"zero and non-zero", Key{}, a, false},
		{"non-zero and zero", a, Key{}, false},
		{"two zero keys", Key{}, Key{}, true},
	}
	for _, tc := range tests {
		if got := tc.x.Equal(tc.y); got != tc.want {
			t.Errorf("%s: Equal() = %v, want %v", tc.name, got, tc.want)
		}
	}
	if !(Key{}).IsZero() || a.IsZero() {
		t.Errorf("IsZero: zero key %v, known key %v; want true, false", (Key{}).IsZero(), a.IsZero())
	}
}
