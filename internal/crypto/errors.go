package crypto

import "errors"

// Errors returned by this package. Callers compare them with [errors.Is];
// returned errors usually wrap one of them with more context.
var (
	// ErrIntegrity reports that a ciphertext cannot be opened: bad magic,
	// unknown format, truncation, a key or term that does not match, or an
	// authentication failure. It never comes with any part of the plaintext.
	ErrIntegrity = errors.New("crypto: integrity check failed")

	// ErrInvalidKey reports a zero [Key] (one not made by this package)
	// passed where key material is required.
	ErrInvalidKey = errors.New("crypto: invalid key")

	// ErrInvalidKeyID reports an empty [KeyID], or [RootKeyID] used where
	// only keyring families are allowed.
	ErrInvalidKeyID = errors.New("crypto: invalid key id")

	// ErrInvalidTerm reports a key term of 0; terms are numbered from 1.
	ErrInvalidTerm = errors.New("crypto: invalid key term")

	// ErrKeyringFormat reports serialised keyring bytes that
	// [ParseKeyring] cannot accept.
	ErrKeyringFormat = errors.New("crypto: malformed keyring")

	// ErrKeyFilePermissions reports a root key file whose mode is neither
	// 0400 nor 0600, or which is not a regular file.
	ErrKeyFilePermissions = errors.New("crypto: root key file permissions")

	// ErrKeyFileFormat reports a root key file that does not hold exactly
	// 32 bytes encoded in standard base64.
	ErrKeyFileFormat = errors.New("crypto: malformed root key file")
)
