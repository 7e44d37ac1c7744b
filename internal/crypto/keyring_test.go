package crypto

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestKeyring_addAndLookup(t *testing.T) {
	t.Parallel()
	kr := NewKeyring()
	if _, ok := kr.Current("d/a"); ok {
		t.Fatalf("Current(d/a) on an empty keyring reported a term")
	}
	t0 := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	keys := []Key{testKey(t), testKey(t), testKey(t)}
	for i, k := range keys {
		term, err := kr.Add("d/a", k, t0.Add(time.Duration(i)*time.Hour))
		if err != nil || term != uint32(i+1) {
			t.Fatalf("Add #%d = %d, %v; want %d, nil", i+1, term, err, i+1)
		}
	}
	sysTerm, err := kr.Add(SystemKeyID, keys[0], t0)
	if err != nil || sysTerm != 1 {
		t.Fatalf("Add(sys) = %d, %v; want 1, nil (terms are numbered per key id)", sysTerm, err)
	}

	cur, ok := kr.Current("d/a")
	if !ok || cur.Term != 3 || !cur.Key.Equal(keys[2]) || !cur.Created.Equal(t0.Add(2*time.Hour)) {
		t.Errorf("Current(d/a) = %+v, %v; want term 3 with the third key", cur, ok)
	}
	for i, k := range keys {
		got, ok := kr.Lookup("d/a", uint32(i+1))
		if !ok || got.Term != uint32(i+1) || !got.Key.Equal(k) {
			t.Errorf("Lookup(d/a, %d) = %+v, %v; want that term's key", i+1, got, ok)
		}
	}
	for _, tc := range []struct {
		id   KeyID
		term uint32
	}{{"d/a", 0}, {"d/a", 4}, {"d/b", 1}, {RootKeyID, 1}} {
		if _, ok := kr.Lookup(tc.id, tc.term); ok {
			t.Errorf("Lookup(%q, %d) found a term, want none", tc.id, tc.term)
		}
	}
	if got, want := kr.IDs(), []KeyID{"d/a", SystemKeyID}; !slices.Equal(got, want) {
		t.Errorf("IDs() = %v, want %v", got, want)
	}
	if got := kr.Generation(); got != 4 {
		t.Errorf("Generation() = %d, want 4 (terms added)", got)
	}
}

func TestKeyring_Add_errors(t *testing.T) {
	t.Parallel()
	k := testKey(t)
	tests := []struct {
		name string
		id   KeyID
		key  Key
		want error
	}{
		{"empty id", "", k, ErrInvalidKeyID},
		{"root id", RootKeyID, k, ErrInvalidKeyID},
		{"zero key", "d/a", Key{}, ErrInvalidKey},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			kr := NewKeyring()
			if term, err := kr.Add(tc.id, tc.key, time.Now()); !errors.Is(err, tc.want) || term != 0 {
				t.Errorf("Add() = %d, %v; want 0, %v", term, err, tc.want)
			}
			if kr.Generation() != 0 || len(kr.IDs()) != 0 {
				t.Errorf("a failed Add changed the keyring")
			}
		})
	}
}

func TestKeyring_marshalRoundTrip(t *testing.T) {
	t.Parallel()
	kr := NewKeyring()
	t0 := time.Date(2025, 6, 1, 12, 0, 0, 123, time.UTC)
	for _, id := range []KeyID{SystemKeyID, "d/a", "d/a", "d/b"} {
		if _, err := kr.Add(id, testKey(t), t0); err != nil {
			t.Fatal(err)
		}
	}
	b, err := kr.Marshal()
	if err != nil {
		t.Fatalf("Marshal() error: %v", err)
	}
	got, err := ParseKeyring(b)
	if err != nil {
		t.Fatalf("ParseKeyring(Marshal()) error: %v", err)
	}
	if !slices.Equal(got.IDs(), kr.IDs()) || got.Generation() != kr.Generation() {
		t.Fatalf("round trip: ids %v gen %d, want %v gen %d", got.IDs(), got.Generation(), kr.IDs(), kr.Generation())
	}
	for _, id := range kr.IDs() {
		for term := uint32(1); ; term++ {
			want, ok := kr.Lookup(id, term)
			have, ok2 := got.Lookup(id, term)
			if ok != ok2 {
				t.Fatalf("Lookup(%q, %d): original %v, parsed %v", id, term, ok, ok2)
			}
			if !ok {
				break
			}
			if !have.Key.Equal(want.Key) || !have.Created.Equal(want.Created) {
				t.Errorf("Lookup(%q, %d) differs after the round trip", id, term)
			}
		}
	}
	// A parsed keyring continues the numbering.
	if term, err := got.Add("d/a", testKey(t), t0); err != nil || term != 3 {
		t.Errorf("Add(d/a) after parse = %d, %v; want 3, nil", term, err)
	}
}

func TestParseKeyring_errors(t *testing.T) {
	t.Parallel()
	key := `"` + strings.Repeat("A", 43) + `="` // 32 zero bytes
	short := `"AAAA"`
	doc := func(format int, keys string) string {
		return fmt.Sprintf(`{"format":%d,"generation":1,"keys":{%s}}`, format, keys)
	}
	term := func(n int, k string) string {
		return fmt.Sprintf(`{"term":%d,"created":"2025-01-01T00:00:00Z","key":%s}`, n, k)
	}
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ``},
		{"not json", `not json`},
		{"trailing data", doc(1, `"d/a":[`+term(1, key)+`]`) + `{}`},
		{"format 0", doc(0, ``)},
		{"format 2", doc(2, ``)},
		{"unknown field", `{"format":1,"generation":0,"keys":{},"extra":1}`},
		{"empty id", doc(1, `"":[`+term(1, key)+`]`)},
		{"root id", doc(1, `"root":[`+term(1, key)+`]`)},
		{"term 0", doc(1, `"d/a":[`+term(0, key)+`]`)},
		{"terms out of order", doc(1, `"d/a":[`+term(2, key)+`,`+term(1, key)+`]`)},
		{"duplicate term", doc(1, `"d/a":[`+term(1, key)+`,`+term(1, key)+`]`)},
		{"short key", doc(1, `"d/a":[`+term(1, short)+`]`)},
		{"key not base64", doc(1, `"d/a":[`+term(1, `"!!!!"`)+`]`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			kr, err := ParseKeyring([]byte(tc.in))
			if !errors.Is(err, ErrKeyringFormat) || kr != nil {
				t.Errorf("ParseKeyring(%s) = %v, %v; want nil, ErrKeyringFormat", tc.in, kr, err)
			}
		})
	}
	if _, err := ParseKeyring([]byte(doc(1, `"d/a":[`+term(1, key)+`,`+term(5, key)+`]`))); err != nil {
		t.Errorf("ParseKeyring(terms 1 and 5) error: %v; gaps left by removed terms are allowed", err)
	}
}

// TestKeyring_concurrent is meant for -race: readers, writers and
// marshalling at once.
func TestKeyring_concurrent(t *testing.T) {
	t.Parallel()
	kr := NewKeyring()
	k := testKey(t)
	const writers, perWriter = 4, 50
	var wg sync.WaitGroup
	for w := range writers {
		id := KeyID(fmt.Sprintf("d/%d", w%2))
		wg.Go(func() {
			for range perWriter {
				if _, err := kr.Add(id, k, time.Now()); err != nil {
					t.Error(err)
				}
			}
		})
		wg.Go(func() {
			for range perWriter {
				if cur, ok := kr.Current(id); ok {
					kr.Lookup(id, cur.Term)
				}
				if _, err := kr.Marshal(); err != nil {
					t.Error(err)
				}
				kr.IDs()
			}
		})
	}
	wg.Wait()
	for _, id := range []KeyID{"d/0", "d/1"} {
		if cur, _ := kr.Current(id); cur.Term != writers/2*perWriter {
			t.Errorf("Current(%q).Term = %d, want %d", id, cur.Term, writers/2*perWriter)
		}
	}
	if got := kr.Generation(); got != writers*perWriter {
		t.Errorf("Generation() = %d, want %d", got, writers*perWriter)
	}
}
