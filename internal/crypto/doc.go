// Package crypto owns coffer's key hierarchy and its authenticated
// encryption (reliability-security.md Part 1, sections 2 to 4 and 6).
//
// The hierarchy has three levels:
//
//   - the root key, provided at unseal (see [LoadRootKeyFile] and
//     [CreateRootKeyFile]) and never stored in clear;
//   - the [Keyring], holding numbered terms of each key family ([KeyID]):
//     the system key [SystemKeyID] and one key per domain. The keyring is
//     itself sealed under the root key by its owner (package storage/sealed);
//   - a fresh random data key per sealed value, wrapped by a key term.
//
// [Seal] and [Open] implement that envelope encryption with AES-256-GCM and
// the ciphertext layout of reliability-security.md section 3. Associated data
// binds every ciphertext to its format, key family, key term and storage key,
// so a record moved to another key, domain or term fails to open with
// [ErrIntegrity].
//
// Key material never prints: [Key] and [Keyring] implement fmt.Stringer,
// fmt.GoStringer and slog.LogValuer with a REDACTED form.
//
// The package does no storage I/O apart from the root key file, and it knows
// nothing about coffer's key schema: callers choose key ids and storage keys.
// Only storage/sealed and the composition root may import it
// (architecture.md section 3).
package crypto
