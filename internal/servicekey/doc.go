// Package servicekey is the domain vocabulary of the Key Management Service
// half of an OKMS domain: service keys, their types, sizes and curves, their
// usages, their life cycle and their versions, and every rule about them that
// can be stated without I/O or cryptography.
//
// A service key is symmetric (type oct, 128, 192 or 256 bits) or asymmetric
// (RSA 2048, 3072 or 4096 bits, EC on P-256, P-384 or P-521), a key pair or
// only its public half. Its usages (sign, verify, encrypt, decrypt, wrapKey,
// unwrapKey) must fit its type ([Reference], [ParseUsages]). Its state moves
// along [Key.Activate], [Key.Deactivate] and [Key.Destroy]:
//
//	active ──deactivate(reason)──▶ deactivated ──deactivate(key_compromise|ca_compromise)──▶ compromised
//	   ▲                                │                                                      │
//	   └─────────────── activate ◀──────┴──────────────────────────────────────────────────────┘
//	deactivated ──delete──▶ destroyed        compromised ──delete──▶ destroyed_compromised (final)
//
// Deactivating with key_compromise or ca_compromise marks the key
// compromised and sets its compromise date; reactivation clears it. Only an
// active key encrypts, signs, makes data keys or wraps; a deactivated or
// compromised one still decrypts, verifies and unwraps what was made before
// ([Key.Permit]); a destroyed one does nothing.
//
// A key has one or more versions of material ([Key.Versions]). The OKMS API
// shows and uses the latest ([Key.LatestVersion]) to encrypt and sign; older
// versions down to [Key.MinDecryptionVersion] still decrypt and verify,
// which is what lets the Vault Transit surface rotate and trim keys on top of
// the same records. Ciphertexts name the version they were made with.
//
// The package holds no key bytes other than through [Material], an opaque
// container that redacts itself when printed or logged; what the bytes mean
// is the business of the cryptography behind the crypto seam
// (internal/crypto/keyops). Validation problems are [Violations], values
// each adapter renders in its own wording; other refusals are the sentinel
// errors of errors.go. Nothing here carries JSON tags: wire types belong to
// the adapters.
package servicekey
