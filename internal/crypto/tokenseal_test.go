package crypto

import (
	"bytes"
	"errors"
	"testing"
)

func TestTokenSealer(t *testing.T) {
	secret := bytes.Repeat([]byte{7}, 32)
	other := bytes.Repeat([]byte{8}, 32)
	ts := NewTokenSealer("coffer test v1")
	sealed, err := ts.Seal(secret, []byte("ctx"), []byte("aaa/hidden-0999"))
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	if bytes.Contains(sealed, []byte("hidden")) {
		t.Fatalf("sealed token shows its value: %q", sealed)
	}
	if len(sealed) != len("aaa/hidden-0999")+28 {
		t.Errorf("sealed length %d, want value + 28", len(sealed))
	}
	got, err := ts.Open(secret, []byte("ctx"), sealed)
	if err != nil || string(got) != "aaa/hidden-0999" {
		t.Fatalf("Open = %q, %v; want the value", got, err)
	}
	again, _ := ts.Seal(secret, []byte("ctx"), []byte("aaa/hidden-0999"))
	if bytes.Equal(again, sealed) {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	flipped := bytes.Clone(sealed)
	flipped[len(flipped)/2] ^= 1
	for name, tc := range map[string]struct {
		ts             TokenSealer
		secret, ctx, b []byte
	}{
		"other context": {ts, secret, []byte("ctx2"), sealed},
		"other secret":  {ts, other, []byte("ctx"), sealed},
		"other purpose": {NewTokenSealer("coffer test v2"), secret, []byte("ctx"), sealed},
		"bit flipped":   {ts, secret, []byte("ctx"), flipped},
		"truncated":     {ts, secret, []byte("ctx"), sealed[:20]},
		"empty":         {ts, secret, []byte("ctx"), nil},
	} {
		if _, err := tc.ts.Open(tc.secret, tc.ctx, tc.b); !errors.Is(err, ErrTokenInvalid) {
			t.Errorf("%s: Open err = %v, want ErrTokenInvalid", name, err)
		}
	}
	if _, err := ts.Seal(secret[:16], nil, nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("Seal with a 16-byte secret: err = %v, want ErrInvalidKey", err)
	}
	if _, err := (TokenSealer{}).Seal(secret, nil, nil); !errors.Is(err, ErrInvalidKey) {
		t.Errorf("Seal with the zero TokenSealer: err = %v, want ErrInvalidKey", err)
	}
}
