// Package shamir implements Shamir's secret sharing over GF(2^8), the
// split and combine of the key-encryption key behind coffer's shamir seal
// (reliability-security.md section 4).
//
// Each byte of the secret is the constant term of its own random
// polynomial of degree threshold-1; a share holds the polynomials' values
// at one non-zero point x. A share is len(secret)+1 bytes: the values,
// then x, the layout Vault uses for its unseal keys. Any threshold shares
// give the secret back by Lagrange interpolation at 0; fewer are
// consistent with every secret alike, so they reveal nothing about it.
//
// Field arithmetic is done bit by bit, without lookup tables indexed by
// secret bytes, so that its timing does not depend on the secret.
//
// Combine cannot tell a wrong share from a right one: given threshold
// shares it always returns some secret. The caller checks the result (the
// seal keeps a verifier of the key and the key's ciphertext of the root
// key).
package shamir

import (
	"errors"
	"fmt"
	"io"
)

// MaxShares is the largest number of shares: x runs over the non-zero
// elements of GF(2^8).
const MaxShares = 255

// Errors of Split and Combine; they never carry share or secret bytes.
var (
	ErrParameters = errors.New("shamir: invalid parameters")
	ErrShares     = errors.New("shamir: invalid shares")
)

// Split divides secret into n shares, any threshold of which recover it.
// It requires 1 <= threshold <= n <= MaxShares and a non-empty secret, and
// reads the polynomials' coefficients from rand (crypto/rand.Reader
// outside tests). Share i (from 0) is evaluated at x = i+1.
func Split(secret []byte, n, threshold int, rand io.Reader) ([][]byte, error) {
	switch {
	case len(secret) == 0:
		return nil, fmt.Errorf("%w: empty secret", ErrParameters)
	case threshold < 1 || threshold > n:
		return nil, fmt.Errorf("%w: threshold %d must be between 1 and the number of shares %d", ErrParameters, threshold, n)
	case n > MaxShares:
		return nil, fmt.Errorf("%w: %d shares, at most %d", ErrParameters, n, MaxShares)
	}
	// coeffs[j] holds the coefficients of degree 1..threshold-1 of the
	// polynomial of byte j; the constant term is secret[j].
	coeffs := make([]byte, len(secret)*(threshold-1))
	defer clear(coeffs)
	if _, err := io.ReadFull(rand, coeffs); err != nil {
		return nil, fmt.Errorf("shamir: reading random coefficients: %w", err)
	}
	shares := make([][]byte, n)
	for i := range shares {
		x := byte(i + 1)
		share := make([]byte, len(secret)+1)
		for j, s := range secret {
			share[j] = eval(s, coeffs[j*(threshold-1):(j+1)*(threshold-1)], x)
		}
		share[len(secret)] = x
		shares[i] = share
	}
	return shares, nil
}

// eval returns, by Horner's rule, c0 + c[0]·x + c[1]·x² + … in GF(2^8).
func eval(c0 byte, c []byte, x byte) byte {
	var y byte
	for k := len(c) - 1; k >= 0; k-- {
		y = mul(y, x) ^ c[k]
	}
	return mul(y, x) ^ c0
}

// Combine returns the secret whose shares these are, interpolating through
// every share given. It requires at least one share, all of the same
// length (at least 2), with distinct non-zero x. With fewer shares than the
// threshold, or a share that is not genuine, it returns a wrong secret
// without error: check the result.
func Combine(shares [][]byte) ([]byte, error) {
	if len(shares) == 0 {
		return nil, fmt.Errorf("%w: no share", ErrShares)
	}
	size := len(shares[0])
	if size < 2 {
		return nil, fmt.Errorf("%w: a share is at least 2 bytes", ErrShares)
	}
	if len(shares) > MaxShares {
		return nil, fmt.Errorf("%w: more than %d shares", ErrShares, MaxShares)
	}
	xs := make([]byte, len(shares))
	var seen [256]bool
	for i, s := range shares {
		if len(s) != size {
			return nil, fmt.Errorf("%w: shares of different lengths (%d and %d bytes)", ErrShares, size, len(s))
		}
		x := s[size-1]
		if x == 0 {
			return nil, fmt.Errorf("%w: share %d has x = 0", ErrShares, i+1)
		}
		if seen[x] {
			return nil, fmt.Errorf("%w: two shares have the same x (%d)", ErrShares, x)
		}
		seen[x] = true
		xs[i] = x
	}
	// The Lagrange basis polynomials at 0: l_i(0) = Π_{j≠i} x_j / (x_j - x_i),
	// where subtraction is XOR.
	basis := make([]byte, len(shares))
	for i := range shares {
		num, den := byte(1), byte(1)
		for j := range shares {
			if i == j {
				continue
			}
			num = mul(num, xs[j])
			den = mul(den, xs[j]^xs[i])
		}
		basis[i] = mul(num, inv(den))
	}
	secret := make([]byte, size-1)
	for j := range secret {
		var y byte
		for i, s := range shares {
			y ^= mul(s[j], basis[i])
		}
		secret[j] = y
	}
	return secret, nil
}

// mul multiplies in GF(2^8) modulo x⁸+x⁴+x³+x+1 (AES's polynomial), in
// constant time.
func mul(a, b byte) byte {
	var p byte
	for range 8 {
		p ^= -(b & 1) & a
		carry := -(a >> 7)
		a = a<<1 ^ carry&0x1b
		b >>= 1
	}
	return p
}

// inv returns the multiplicative inverse of a non-zero a: a^254, since
// a^255 = 1 in GF(2^8). inv(0) is 0.
func inv(a byte) byte {
	r := byte(1)
	for e := byte(254); e != 0; e >>= 1 {
		if e&1 == 1 {
			r = mul(r, a)
		}
		a = mul(a, a)
	}
	return r
}
