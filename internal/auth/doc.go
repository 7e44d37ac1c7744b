// Package auth knows who is calling: the [Principal] a request acts as, and
// how bearer tokens are made and checked (random bytes with a type prefix,
// stored only as an HMAC-SHA256 digest under a server pepper). It does not
// know where credentials come from in HTTP, and it never stores or logs a
// token.
package auth
