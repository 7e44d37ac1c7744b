// Package keyops is the cryptography of KMS service keys, behind the
// crypto seam: key generation, import and export (JWK, PEM, PKCS #1,
// PKCS #8, raw), encryption and decryption (AES-GCM; RSA-OAEP with an
// AES-GCM content key), data keys, signatures (RS, PS and ES 256/384/512
// over a message or a precomputed digest, raw, JWS or JWT) and the
// wrapping of key material under an RSA transport key (RSA-OAEP and
// RSA-OAEP-256).
//
// Everything is standard library crypto. Ciphertexts, data key blobs and
// wrapped keys are JWE compact serializations (RFC 7516) written and read
// by hand: five base64url parts, a protected header, and AES-GCM with the
// header as associated data. The subset is small (alg "dir",
// "RSA-OAEP" and "RSA-OAEP-256"; enc "A128GCM", "A192GCM" and "A256GCM";
// no compression, no "crit") and go-jose, which tests use as an oracle,
// would add a dependency for forty lines of parsing.
//
// A key's material is a [servicekey.Material] in this package's own
// encoding (one format byte, one kind byte, then the raw key or its DER);
// the service stores it as an opaque, sealed record and hands it back for
// every operation. Parsed keys are kept in a small cache keyed by a
// SHA-256 of the material, so that a hot key is not parsed again on each
// request.
//
// Errors are the sentinels and violations of package servicekey, so that
// every surface renders them: a ciphertext that does not open is
// servicekey.ErrCiphertext, a malformed signature servicekey.ErrSignature,
// an unusable imported key a ServiceKeyKeysInvalid violation. Messages
// never carry key material, plaintexts or ciphertexts.
//
// Only internal/server imports this package; the service reaches it
// through the service.KeyOps interface it declares (architecture.md 2.1).
package keyops
