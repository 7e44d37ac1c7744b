// Package sealed is the encryption decorator of coffer's storage: a
// [storage.Backend] that encrypts every value before it reaches the backend
// it wraps and decrypts it on the way back (architecture.md section 8,
// reliability-security.md Part 1 sections 2 and 3).
//
// Each value is sealed by [crypto.Seal] under the current term of the key
// family that the caller's selectKey function names for its storage key,
// with the storage key as associated data: a value copied to another key,
// domain or term no longer opens, and every such failure is reported as
// [crypto.ErrIntegrity], never as partial plaintext. Keys stay in clear so
// that ordered prefix listing works on every backend.
//
// The keyring holding the key terms lives in the wrapped backend under the
// reserved key [KeyringKey], sealed directly under the root key. The
// decorator hides that record: Get, Put and Delete of it fail with
// [ErrReserved], and List leaves it out. Key families get their first term
// on their first write, inside that write's transaction; [Store.RotateKey]
// adds terms and [Store.RotateRootKey] re-seals the keyring under a new root
// key without touching data records.
//
// sealed knows nothing of coffer's key schema (selectKey comes from the
// service's records) and is the only storage package that imports
// internal/crypto.
package sealed
