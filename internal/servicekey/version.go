package servicekey

import (
	"errors"
	"time"
)

// MaxVersions bounds the versions a key may have had: rotation beyond it
// is refused with ErrVersionLimit.
const MaxVersions = 1 << 20

// ErrVersionLimit: the key has been rotated the maximum number of times.
var ErrVersionLimit = errors.New("servicekey: the key has reached its maximum number of versions")

// Latest returns the latest version.
func (k *Key) Latest() Version {
	if n := len(k.Versions); n > 0 {
		return k.Versions[n-1]
	}
	return Version{}
}

// Version returns version n if it is retained.
func (k *Key) Version(n uint32) (Version, bool) {
	for _, v := range k.Versions {
		if v.Number == n {
			return v, true
		}
	}
	return Version{}, false
}

// DecryptionVersion checks that version n, named by a ciphertext or
// signature, may decrypt or verify: retained, and from the minimum
// decryption version on. Otherwise ErrVersionNotFound.
func (k *Key) DecryptionVersion(n uint32) (Version, error) {
	if n < k.MinDecryptionVersion || n > k.LatestVersion {
		return Version{}, ErrVersionNotFound
	}
	v, ok := k.Version(n)
	if !ok {
		return Version{}, ErrVersionNotFound
	}
	return v, nil
}

// DecryptionVersions returns the versions that may decrypt and verify,
// latest first.
func (k *Key) DecryptionVersions() []Version {
	var out []Version
	for i := len(k.Versions) - 1; i >= 0; i-- {
		if v := k.Versions[i]; v.Number >= k.MinDecryptionVersion {
			out = append(out, v)
		}
	}
	return out
}

// Rotate adds a new latest version, created at now; the caller stores its
// material. A destroyed key cannot rotate (ErrDestroyed), nor can a public
// key, whose material comes from outside (ErrUsage).
func (k *Key) Rotate(now time.Time) (Version, error) {
	switch {
	case k.State.Destroyed():
		return Version{}, ErrDestroyed
	case k.Class == PublicKey:
		return Version{}, ErrUsage
	case k.LatestVersion >= MaxVersions:
		return Version{}, ErrVersionLimit
	}
	v := Version{Number: k.LatestVersion + 1, CreatedAt: now}
	k.Versions = append(k.Versions, v)
	k.LatestVersion = v.Number
	return v, nil
}

// SetMinDecryptionVersion sets the oldest version that may still decrypt
// and verify: between 1 and the latest version (ErrVersionNotFound
// otherwise). Versions below it keep their material until [Key.Trim].
func (k *Key) SetMinDecryptionVersion(n uint32) error {
	if n < 1 || n > k.LatestVersion {
		return ErrVersionNotFound
	}
	k.MinDecryptionVersion = n
	return nil
}

// Trim forgets the versions below minAvailable, which must not exceed the
// minimum decryption version (ErrVersionNotFound), and returns their
// numbers: the caller destroys their material.
func (k *Key) Trim(minAvailable uint32) ([]uint32, error) {
	if minAvailable < 1 || minAvailable > k.MinDecryptionVersion {
		return nil, ErrVersionNotFound
	}
	var gone []uint32
	kept := k.Versions[:0:0]
	for _, v := range k.Versions {
		if v.Number < minAvailable {
			gone = append(gone, v.Number)
			continue
		}
		kept = append(kept, v)
	}
	k.Versions = kept
	return gone, nil
}
