package crypto

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// maxKeyFileSize bounds what LoadRootKeyFile reads: the base64 of 32 bytes
// is 44 characters, and a little whitespace is allowed around it.
const maxKeyFileSize = 4096

// LoadRootKeyFile reads the root key from the file at path
// (reliability-security.md section 4, COFFER_ROOT_KEY_FILE).
//
// The file must be a regular file with mode 0400 or 0600, else the error
// wraps [ErrKeyFilePermissions]: anyone else who can read it can read every
// secret. It must hold [KeySize] bytes in standard base64 (padded), with
// optional surrounding whitespace, else the error wraps [ErrKeyFileFormat].
// Errors never contain the file's content.
func LoadRootKeyFile(path string) (Key, error) {
	f, err := os.Open(path)
	if err != nil {
		return Key{}, fmt.Errorf("crypto.LoadRootKeyFile: %w", err)
	}
	defer f.Close()

	// Stat the open file, not the path, so that the mode checked is the
	// mode of the file read.
	fi, err := f.Stat()
	if err != nil {
		return Key{}, fmt.Errorf("crypto.LoadRootKeyFile: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return Key{}, fmt.Errorf("crypto.LoadRootKeyFile %s: not a regular file (%s): %w", path, fi.Mode().Type(), ErrKeyFilePermissions)
	}
	if perm := fi.Mode().Perm(); perm != 0o400 && perm != 0o600 {
		return Key{}, fmt.Errorf("crypto.LoadRootKeyFile %s: mode is %#o, must be 0400 or 0600 (run chmod 600): %w", path, perm, ErrKeyFilePermissions)
	}

	raw, err := io.ReadAll(io.LimitReader(f, maxKeyFileSize+1))
	if err != nil {
		return Key{}, fmt.Errorf("crypto.LoadRootKeyFile %s: %w", path, err)
	}
	defer clear(raw)
	if len(raw) > maxKeyFileSize {
		return Key{}, fmt.Errorf("crypto.LoadRootKeyFile %s: file larger than %d bytes: %w", path, maxKeyFileSize, ErrKeyFileFormat)
	}
	text := bytes.TrimSpace(raw)
	b := make([]byte, base64.StdEncoding.DecodedLen(len(text)))
	defer clear(b)
	n, err := base64.StdEncoding.Decode(b, text)
	if err != nil {
		// The decoding error names only an offset, never content.
		return Key{}, fmt.Errorf("crypto.LoadRootKeyFile %s: not standard base64 (%v): %w", path, err, ErrKeyFileFormat)
	}
	if n != KeySize {
		return Key{}, fmt.Errorf("crypto.LoadRootKeyFile %s: key is %d bytes, must be %d: %w", path, n, KeySize, ErrKeyFileFormat)
	}
	return keyFromBytes(b[:n])
}

// CreateRootKeyFile generates a root key from rand (crypto/rand.Reader
// outside tests), writes it in the format [LoadRootKeyFile] reads, and
// returns it.
//
// The file is created with mode 0600 and O_EXCL: an existing file is never
// overwritten and the error then satisfies errors.Is(err, fs.ErrExist).
// Before returning, the file and its directory are synced, so that the key
// survives a crash once CreateRootKeyFile has returned. On failure the
// partly written file is removed.
func CreateRootKeyFile(path string, rand io.Reader) (Key, error) {
	k, err := NewKey(rand)
	if err != nil {
		return Key{}, fmt.Errorf("crypto.CreateRootKeyFile: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Key{}, fmt.Errorf("crypto.CreateRootKeyFile: %w", err)
	}
	if err := writeKeyFile(f, k); err != nil {
		_ = os.Remove(path)
		return Key{}, fmt.Errorf("crypto.CreateRootKeyFile %s: %w", path, err)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		_ = os.Remove(path)
		return Key{}, fmt.Errorf("crypto.CreateRootKeyFile %s: %w", path, err)
	}
	return k, nil
}

// writeKeyFile writes k to f, syncs and closes f.
func writeKeyFile(f *os.File, k Key) error {
	// The umask may have removed bits from 0600 (harmless) but could also
	// leave a mode LoadRootKeyFile rejects; set it exactly.
	err := f.Chmod(0o600)
	if err == nil {
		text := make([]byte, base64.StdEncoding.EncodedLen(KeySize)+1)
		defer clear(text)
		base64.StdEncoding.Encode(text, k.material().b[:])
		text[len(text)-1] = '\n'
		_, err = f.Write(text)
	}
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}

// syncDir fsyncs the directory dir so that a file just created in it is
// durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	// Some file systems refuse fsync on a directory; the file itself is
	// synced, which is the best they offer.
	if errors.Is(err, syscall.EINVAL) {
		err = nil
	}
	return errors.Join(err, d.Close())
}
