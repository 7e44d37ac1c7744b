// Package backupfile is the encrypted file format of coffer's backups:
// a snapshot sealed in chunks with AES-256-GCM under a key derived from a
// passphrase with Argon2id. It sits beside internal/crypto, behind the same
// seam, so that the record-sealing package does not carry a password hash.
package backupfile

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"golang.org/x/crypto/argon2"
)

// The backup file of `coffer operator backup` (reliability-security.md
// T19): a header, then the snapshot in chunks sealed with
// AES-256-GCM under a key derived from the passphrase with Argon2id
// (RFC 9106's second recommended option: t = 3, m = 64 MiB, p = 4, the
// parameters of reliability-security.md 4).
//
//	offset  size  field
//	0       8     magic "COFFERBK"
//	8       1     format (1)
//	9       4     Argon2id time (big-endian)
//	13      4     Argon2id memory in KiB
//	17      1     Argon2id parallelism
//	18      16    salt
//	34      8     nonce prefix
//	42      …     chunks: length (4, big-endian) | ciphertext and tag
//
// Chunk i is sealed with the nonce prefix | i (4 bytes, big-endian) and
// the associated data header | final flag (one byte, 1 on the last chunk),
// so that chunks cannot be reordered, dropped or truncated without the
// file failing to open. The last chunk may be empty.
const (
	backupMagic      = "COFFERBK"
	backupFormat     = 1
	backupHeaderSize = 42
	backupChunk      = 64 << 10
	argonTime        = 3
	argonMemory      = 64 << 10 // KiB
	argonThreads     = 4
	// MinPassphrase is the shortest backup passphrase accepted.
	MinPassphrase = 12
)

// Errors of backup files.
var (
	// ErrPassphrase: the passphrase is too short.
	ErrPassphrase = fmt.Errorf("the backup passphrase must be at least %d characters", MinPassphrase)
	// ErrOpen: the file is not a coffer backup, was altered or cut,
	// or the passphrase is wrong (which cannot be told apart).
	ErrOpen = errors.New("the backup does not open: wrong passphrase, or the file is not a complete coffer backup")
	// ErrTooLarge: the file is larger than the limit given to Open.
	ErrTooLarge = errors.New("the backup is too large")
)

func backupAEAD(passphrase string, salt []byte, t, m uint32, p uint8) (cipher.AEAD, error) {
	key := argon2.IDKey([]byte(passphrase), salt, t, m, p, 32)
	defer clear(key)
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// backupWriter seals what is written to it into w, in the backup format.
// Close writes the last chunk; without it the file does not open.
type backupWriter struct {
	w      io.Writer
	aead   cipher.AEAD
	header []byte
	n      uint32
	buf    []byte
}

// NewWriter returns a writer that seals what it is given into w, in
// the backup format, under a key derived from passphrase (at least
// MinPassphrase characters, else ErrPassphrase). Its Close writes the
// last chunk: without it the file does not open.
func NewWriter(w io.Writer, passphrase string) (io.WriteCloser, error) {
	if len(passphrase) < MinPassphrase {
		return nil, ErrPassphrase
	}
	h := make([]byte, backupHeaderSize)
	copy(h, backupMagic)
	h[8] = backupFormat
	binary.BigEndian.PutUint32(h[9:], argonTime)
	binary.BigEndian.PutUint32(h[13:], argonMemory)
	h[17] = argonThreads
	if _, err := rand.Read(h[18:42]); err != nil {
		return nil, err
	}
	aead, err := backupAEAD(passphrase, h[18:34], argonTime, argonMemory, argonThreads)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(h); err != nil {
		return nil, err
	}
	return &backupWriter{w: w, aead: aead, header: h}, nil
}

func (b *backupWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		room := backupChunk - len(b.buf)
		take := min(room, len(p))
		b.buf = append(b.buf, p[:take]...)
		p = p[take:]
		if len(b.buf) == backupChunk {
			if err := b.seal(false); err != nil {
				return 0, err
			}
		}
	}
	return n, nil
}

// Close seals the last chunk.
func (b *backupWriter) Close() error { return b.seal(true) }

func (b *backupWriter) seal(final bool) error {
	nonce := make([]byte, 12)
	copy(nonce, b.header[34:42])
	binary.BigEndian.PutUint32(nonce[8:], b.n)
	b.n++
	ct := b.aead.Seal(nil, nonce, b.buf, chunkAD(b.header, final))
	clear(b.buf)
	b.buf = b.buf[:0]
	var l [4]byte
	binary.BigEndian.PutUint32(l[:], uint32(len(ct)))
	if _, err := b.w.Write(l[:]); err != nil {
		return err
	}
	_, err := b.w.Write(ct)
	return err
}

func chunkAD(header []byte, final bool) []byte {
	ad := append(bytes.Clone(header), 0)
	if final {
		ad[len(ad)-1] = 1
	}
	return ad
}

// Open reads and opens a whole backup file from r, of at most limit
// bytes. It returns ErrOpen for anything that does not open, and
// ErrTooLarge for a file that exceeds limit.
func Open(r io.Reader, passphrase string, limit int64) ([]byte, error) {
	h := make([]byte, backupHeaderSize)
	if _, err := io.ReadFull(r, h); err != nil || string(h[:8]) != backupMagic || h[8] != backupFormat {
		return nil, ErrOpen
	}
	t, m, p := binary.BigEndian.Uint32(h[9:]), binary.BigEndian.Uint32(h[13:]), h[17]
	if t == 0 || t > 16 || p == 0 || m < 8*uint32(p) || m > 256<<10 {
		return nil, ErrOpen // parameters no coffer writes: refuse rather than spend
	}
	aead, err := backupAEAD(passphrase, h[18:34], t, m, p)
	if err != nil {
		return nil, err
	}
	var (
		out   []byte
		total int64 = backupHeaderSize
		nonce       = make([]byte, 12)
	)
	copy(nonce, h[34:42])
	for n := uint32(0); ; n++ {
		var l [4]byte
		if _, err := io.ReadFull(r, l[:]); err != nil {
			return nil, ErrOpen // cut before the last chunk
		}
		size := binary.BigEndian.Uint32(l[:])
		if size < uint32(aead.Overhead()) || size > backupChunk+uint32(aead.Overhead()) {
			return nil, ErrOpen
		}
		if total += 4 + int64(size); total > limit {
			return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, limit)
		}
		ct := make([]byte, size)
		if _, err := io.ReadFull(r, ct); err != nil {
			return nil, ErrOpen
		}
		binary.BigEndian.PutUint32(nonce[8:], n)
		if pt, err := aead.Open(nil, nonce, ct, chunkAD(h, true)); err == nil {
			if n, _ := io.ReadFull(r, make([]byte, 1)); n != 0 {
				return nil, ErrOpen // data after the last chunk
			}
			return append(out, pt...), nil
		}
		pt, err := aead.Open(nil, nonce, ct, chunkAD(h, false))
		if err != nil {
			return nil, ErrOpen
		}
		out = append(out, pt...)
	}
}
