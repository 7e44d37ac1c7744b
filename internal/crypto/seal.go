package crypto

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"fmt"
)

// Ciphertext layout, reliability-security.md section 3:
//
//	offset  size  field
//	0       3     magic "CFR"
//	3       1     format version (1)
//	4       4     key term (big-endian uint32)
//	8       60    wrapped data key: nonce (12) | encrypted key (32) | tag (16)
//	68      12    data nonce
//	80      n+16  ciphertext | tag
//
// An AEAD from cipher.NewGCMWithRandomNonce emits nonce | ciphertext | tag,
// which is exactly the layout of both the wrapped key and the data part.
const (
	magic        = "CFR"
	formatV1     = 1
	nonceSize    = 12
	tagSize      = 16
	headerSize   = len(magic) + 1 + 4            // 8
	wrappedSize  = nonceSize + KeySize + tagSize // 60
	dataOffset   = headerSize + wrappedSize      // 68
	minSealedLen = dataOffset + nonceSize + tagSize
	maxIDLen     = 1<<16 - 1 // the id's length prefix in associatedData is 2 bytes
)

// Overhead is the number of bytes [Seal] adds to a plaintext (96).
const Overhead = minSealedLen

// Seal encrypts plaintext for the storage key storageKey with term term of
// the key family id, whose key is k, and returns the ciphertext in the
// layout of reliability-security.md section 3. The result is len(plaintext)
// + [Overhead] bytes long and belongs to the caller.
//
// Seal draws a fresh random 256-bit data key, seals plaintext under it with
// AES-256-GCM, and wraps the data key with k (AES-256-GCM). Both bind the
// same associated data (format, id, term and storageKey, length-prefixed),
// so [Open] succeeds only with the same id, term and storage key.
//
// Seal returns [ErrInvalidKey] for a zero key, [ErrInvalidKeyID] for an empty
// or over-long id, and [ErrInvalidTerm] for term 0.
func Seal(k Key, id KeyID, term uint32, storageKey string, plaintext []byte) ([]byte, error) {
	if err := checkArgs(k, id); err != nil {
		return nil, fmt.Errorf("crypto.Seal: %w", err)
	}
	if term == 0 {
		return nil, fmt.Errorf("crypto.Seal: term 0: %w", ErrInvalidTerm)
	}
	ad := associatedData(id, term, storageKey)

	var dk [KeySize]byte
	// crypto/rand.Read never fails (it crashes the program rather than
	// return weak randomness), so there is no error to handle.
	_, _ = rand.Read(dk[:])
	defer clear(dk[:])
	data, err := newAEAD(dk[:])
	if err != nil {
		return nil, fmt.Errorf("crypto.Seal: %w", err)
	}

	out := make([]byte, 0, len(plaintext)+Overhead)
	out = append(out, magic...)
	out = append(out, formatV1)
	out = binary.BigEndian.AppendUint32(out, term)
	out = k.material().wrap.Seal(out, nil, dk[:], ad)
	out = data.Seal(out, nil, plaintext, ad)
	return out, nil
}

// Open decrypts a ciphertext made by [Seal] and returns the plaintext, which
// belongs to the caller and is never nil on success.
//
// k must be the key of the term that [Term] reads from the ciphertext's
// header, for the family id; storageKey must be the key the value was sealed
// for. Every failure to open (bad magic, unknown format, truncation, term 0,
// a key, id, term or storage key that does not match, any modified byte)
// returns an error satisfying errors.Is(err, [ErrIntegrity]) and no
// plaintext. Open returns [ErrInvalidKey] or [ErrInvalidKeyID] for a zero key
// or an invalid id, which are caller mistakes rather than bad data.
func Open(k Key, id KeyID, storageKey string, ciphertext []byte) ([]byte, error) {
	if err := checkArgs(k, id); err != nil {
		return nil, fmt.Errorf("crypto.Open: %w", err)
	}
	term, err := Term(ciphertext)
	if err != nil {
		return nil, fmt.Errorf("crypto.Open: %w", err)
	}
	ad := associatedData(id, term, storageKey)

	m := k.material()
	var wrapped [wrappedSize]byte
	copy(wrapped[:], ciphertext[headerSize:dataOffset])
	data := dataKeys.get(m, wrapped, ad)
	if data == nil {
		dk, err := m.wrap.Open(nil, nil, wrapped[:], ad)
		if err != nil {
			return nil, fmt.Errorf("crypto.Open: data key does not authenticate: %w", ErrIntegrity)
		}
		data, err = newAEAD(dk)
		clear(dk)
		if err != nil {
			// Unreachable for an authenticated 32-byte key, but this is the
			// error path for bad data, so report it as such.
			return nil, fmt.Errorf("crypto.Open: %v: %w", err, ErrIntegrity)
		}
		dataKeys.put(m, wrapped, ad, data)
	}
	// The destination is a non-nil empty slice so that an empty plaintext
	// comes back as an empty value, not nil (storage distinguishes them).
	pt, err := data.Open(make([]byte, 0, len(ciphertext)-minSealedLen), nil, ciphertext[dataOffset:], ad)
	if err != nil {
		return nil, fmt.Errorf("crypto.Open: data does not authenticate: %w", ErrIntegrity)
	}
	return pt, nil
}

// Term returns the key term recorded in the header of a ciphertext made by
// [Seal], so that the caller can pick the key to pass to [Open]. It checks
// the magic, the format version and the minimum length, and returns an error
// satisfying errors.Is(err, [ErrIntegrity]) if any is wrong or the term is
// 0. A term read here is not yet authenticated: only [Open] proves it.
func Term(ciphertext []byte) (uint32, error) {
	switch {
	case len(ciphertext) < minSealedLen:
		return 0, fmt.Errorf("ciphertext of %d bytes is shorter than the minimum %d: %w", len(ciphertext), minSealedLen, ErrIntegrity)
	case !bytes.Equal(ciphertext[:len(magic)], []byte(magic)):
		return 0, fmt.Errorf("ciphertext has no %q magic: %w", magic, ErrIntegrity)
	case ciphertext[len(magic)] != formatV1:
		return 0, fmt.Errorf("unknown ciphertext format %d: %w", ciphertext[len(magic)], ErrIntegrity)
	}
	term := binary.BigEndian.Uint32(ciphertext[len(magic)+1 : headerSize])
	if term == 0 {
		return 0, fmt.Errorf("ciphertext names key term 0: %w", ErrIntegrity)
	}
	return term, nil
}

// associatedData returns the associated data of both the key wrap and the
// data encryption (reliability-security.md section 3: format || key id ||
// key term || storage key). Variable-length fields carry a length prefix so
// that no two different (id, storage key) pairs encode alike, as plain
// concatenation would ("d/a"+"b/x" against "d/ab"+"/x"):
//
//	format (1) | len(id) (2, big-endian) | id | term (4, big-endian) |
//	len(storageKey) (4, big-endian) | storageKey
func associatedData(id KeyID, term uint32, storageKey string) []byte {
	ad := make([]byte, 0, 1+2+len(id)+4+4+len(storageKey))
	ad = append(ad, formatV1)
	ad = binary.BigEndian.AppendUint16(ad, uint16(len(id)))
	ad = append(ad, id...)
	ad = binary.BigEndian.AppendUint32(ad, term)
	ad = binary.BigEndian.AppendUint32(ad, uint32(len(storageKey)))
	ad = append(ad, storageKey...)
	return ad
}

// checkArgs rejects a zero key and an id that associatedData cannot encode.
func checkArgs(k Key, id KeyID) error {
	if k.IsZero() {
		return fmt.Errorf("zero key: %w", ErrInvalidKey)
	}
	if id == "" || len(id) > maxIDLen {
		return fmt.Errorf("key id of %d bytes: %w", len(id), ErrInvalidKeyID)
	}
	return nil
}
