package shamir

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"

	"pgregory.net/rapid"
)

// TestField checks the field against a reference built the usual way:
// powers of the generator 3 give the log and exp tables.
func TestField(t *testing.T) {
	var exp [255]byte
	var log [256]int
	x := byte(1)
	for i := range exp {
		exp[i] = x
		log[x] = i
		// x·3 = x·2 ^ x, with the reduction of x·2.
		x2 := x << 1
		if x&0x80 != 0 {
			x2 ^= 0x1b
		}
		x = x2 ^ x
	}
	for a := range 256 {
		for b := range 256 {
			want := byte(0)
			if a != 0 && b != 0 {
				want = exp[(log[a]+log[b])%255]
			}
			if got := mul(byte(a), byte(b)); got != want {
				t.Fatalf("mul(%d, %d) = %d, want %d", a, b, got, want)
			}
		}
		if a != 0 && mul(byte(a), inv(byte(a))) != 1 {
			t.Fatalf("inv(%d) = %d is not an inverse", a, inv(byte(a)))
		}
	}
}

// sharesGen draws a secret, n, a threshold and the shares of the secret.
func split(t *rapid.T) (secret []byte, n, threshold int, shares [][]byte) {
	secret = rapid.SliceOfN(rapid.Byte(), 1, 64).Draw(t, "secret")
	n = rapid.IntRange(1, 20).Draw(t, "n")
	threshold = rapid.IntRange(1, n).Draw(t, "threshold")
	shares, err := Split(secret, n, threshold, rand.Reader)
	if err != nil {
		t.Fatalf("Split: %v", err)
	}
	return secret, n, threshold, shares
}

// pick returns k distinct shares in a drawn order.
func pick(t *rapid.T, shares [][]byte, k int, label string) [][]byte {
	idx := rapid.Permutation(indexes(len(shares))).Draw(t, label)
	out := make([][]byte, k)
	for i := range out {
		out[i] = shares[idx[i]]
	}
	return out
}

func indexes(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// Any threshold (or more) of the n shares, in any order, give the secret.
func TestAnyThresholdRecovers(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		secret, n, threshold, shares := split(t)
		if len(shares) != n {
			t.Fatalf("%d shares, want %d", len(shares), n)
		}
		k := rapid.IntRange(threshold, n).Draw(t, "k")
		got, err := Combine(pick(t, shares, k, "order"))
		if err != nil {
			t.Fatalf("Combine: %v", err)
		}
		if !bytes.Equal(got, secret) {
			t.Fatalf("%d of %d shares (threshold %d) gave another secret", k, n, threshold)
		}
	})
}

// Fewer than threshold shares reveal nothing checkable: they are
// consistent with every secret alike. For any other secret, the
// polynomial through those shares and (0, other) yields one more share
// with which the same shares combine to the other secret; so no test on
// fewer than threshold shares can tell the real secret from any other.
func TestFewerThanThresholdRevealNothing(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		secret, n, threshold, shares := split(t)
		if threshold < 2 {
			t.Skip("a threshold of 1 has no smaller set")
		}
		k := rapid.IntRange(1, threshold-1).Draw(t, "k")
		some := pick(t, shares, k, "order")
		other := rapid.SliceOfN(rapid.Byte(), len(secret), len(secret)).Draw(t, "other")

		// A point not used by the chosen shares.
		used := map[byte]bool{}
		for _, s := range some {
			used[s[len(s)-1]] = true
		}
		var x byte
		for x = byte(n + 1); used[x] || x == 0; x++ {
		}
		// Evaluate, at x, the polynomial through (0, other) and the chosen
		// shares: Combine interpolates at 0, so interpolate at x by
		// shifting every point by x (x' = x_i ^ x), which maps x to 0.
		points := make([][]byte, 0, k+1)
		zero := append(bytes.Clone(other), x) // (0, other) shifted: x' = 0 ^ x = x
		points = append(points, zero)
		for _, s := range some {
			p := bytes.Clone(s)
			p[len(p)-1] ^= x
			points = append(points, p)
		}
		y, err := Combine(points)
		if err != nil {
			t.Fatalf("Combine (forging): %v", err)
		}
		forged := append(y, x)
		got, err := Combine(append(append([][]byte{}, some...), forged))
		if err != nil {
			t.Fatalf("Combine: %v", err)
		}
		if !bytes.Equal(got, other) {
			t.Fatalf("%d shares of a threshold-%d split are not consistent with another secret", k, threshold)
		}
		// And on their own they do not give the secret back (unless the
		// polynomial's higher coefficients happen to vanish).
		if k < threshold {
			if got, _ := Combine(some); bytes.Equal(got, secret) && len(secret) > 8 {
				t.Fatalf("%d shares of a threshold-%d split combined to the secret", k, threshold)
			}
		}
	})
}

// Changing any byte of one share among threshold changes the combined
// secret: the verifier of the seal (which checks the result) therefore
// detects every corrupted share.
func TestCorruptedShareChangesSecret(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		secret, _, threshold, shares := split(t)
		some := pick(t, shares, threshold, "order")
		which := rapid.IntRange(0, threshold-1).Draw(t, "share")
		pos := rapid.IntRange(0, len(secret)-1).Draw(t, "byte")
		flip := rapid.ByteRange(1, 255).Draw(t, "flip")
		bad := bytes.Clone(some[which])
		bad[pos] ^= flip
		some[which] = bad
		got, err := Combine(some)
		if err != nil {
			t.Fatalf("Combine: %v", err)
		}
		if bytes.Equal(got, secret) {
			t.Fatalf("a corrupted share still gave the secret")
		}
	})
}

// T16: a 3-of-5 split of a 32-byte key: all 10 sets of three shares give
// the key back, none of the 10 sets of two does.
func TestThreeOfFive(t *testing.T) {
	key := make([]byte, 32)
	rand.Read(key)
	shares, err := Split(key, 5, 3, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	three, two := 0, 0
	for a := range 5 {
		for b := a + 1; b < 5; b++ {
			if got, _ := Combine([][]byte{shares[a], shares[b]}); bytes.Equal(got, key) {
				t.Errorf("shares %d and %d alone gave the key", a+1, b+1)
			} else {
				two++
			}
			for c := b + 1; c < 5; c++ {
				if got, err := Combine([][]byte{shares[c], shares[a], shares[b]}); err != nil || !bytes.Equal(got, key) {
					t.Errorf("shares %d, %d, %d: %v", a+1, b+1, c+1, err)
				} else {
					three++
				}
			}
		}
	}
	if three != 10 || two != 10 {
		t.Fatalf("three-share sets reconstructing: %d/10, two-share sets failing: %d/10", three, two)
	}
	t.Logf("T16 Shamir 3-of-5: %d/10 three-share sets reconstruct, %d/10 two-share sets fail", three, two)
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name         string
		secret       []byte
		n, threshold int
	}{
		{"empty secret", nil, 3, 2},
		{"threshold 0", []byte("k"), 3, 0},
		{"threshold above n", []byte("k"), 3, 4},
		{"too many shares", []byte("k"), 256, 2},
	} {
		if _, err := Split(tc.secret, tc.n, tc.threshold, rand.Reader); !errors.Is(err, ErrParameters) {
			t.Errorf("%s: Split error %v, want ErrParameters", tc.name, err)
		}
	}
	shares, _ := Split([]byte("secret"), 3, 2, rand.Reader)
	zeroX := bytes.Clone(shares[0])
	zeroX[len(zeroX)-1] = 0
	for _, tc := range []struct {
		name   string
		shares [][]byte
	}{
		{"none", nil},
		{"too short", [][]byte{{1}}},
		{"different lengths", [][]byte{shares[0], shares[1][1:]}},
		{"same x twice", [][]byte{shares[0], shares[0]}},
		{"x = 0", [][]byte{zeroX, shares[1]}},
	} {
		if _, err := Combine(tc.shares); !errors.Is(err, ErrShares) {
			t.Errorf("%s: Combine error %v, want ErrShares", tc.name, err)
		}
	}
}
