package backupfile

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"testing"
)

// sealBackup returns plain sealed in the backup format.
func sealBackup(t *testing.T, plain []byte, pass string) []byte {
	t.Helper()
	var b bytes.Buffer
	w, err := NewWriter(&b, pass)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(plain); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestBackupFile: a backup opens with its passphrase only, and any change
// to the file (a flipped bit, a chunk dropped, reordered or added, the end
// cut off) makes it refuse to open.
func TestBackupFile(t *testing.T) {
	const pass = "correct horse battery staple"
	plain := make([]byte, 2*backupChunk+1000) // three chunks
	rand.Read(plain)
	file := sealBackup(t, plain, pass)

	got, err := Open(bytes.NewReader(file), pass, 1<<30)
	if err != nil || !bytes.Equal(got, plain) {
		t.Fatalf("openBackup = %d bytes, %v; want the %d bytes sealed", len(got), err, len(plain))
	}
	if _, err := NewWriter(&bytes.Buffer{}, "short"); !errors.Is(err, ErrPassphrase) {
		t.Errorf("a short passphrase: %v, want ErrPassphrase", err)
	}
	chunk := 4 + backupChunk + 16 // length, data, tag
	first, second := backupHeaderSize, backupHeaderSize+chunk
	flip := func(i int) []byte {
		b := bytes.Clone(file)
		b[i] ^= 0x10
		return b
	}
	swapped := bytes.Clone(file)
	copy(swapped[first:], file[second:second+chunk])
	copy(swapped[second:], file[first:first+chunk])
	tests := []struct {
		name string
		file []byte
		pass string
	}{
		{"wrong passphrase", file, pass + "!"},
		{"flipped bit in the header", flip(20), pass},
		{"flipped bit in a chunk", flip(first + 100), pass},
		{"flipped bit in the last chunk", flip(len(file) - 1), pass},
		{"last chunk cut off", file[:second+chunk], pass},
		{"first chunk dropped", append(bytes.Clone(file[:first]), file[second:]...), pass},
		{"chunks swapped", swapped, pass},
		{"data after the end", append(bytes.Clone(file), 0, 0, 0, 0), pass},
		{"empty", nil, pass},
		{"not a backup", []byte("COFFERBX" + string(make([]byte, 100))), pass},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Open(bytes.NewReader(tc.file), tc.pass, 1<<30); !errors.Is(err, ErrOpen) {
				t.Errorf("openBackup = %v, want ErrOpen", err)
			}
		})
	}
	// Parameters no coffer writes are refused before any work.
	huge := bytes.Clone(file)
	binary.BigEndian.PutUint32(huge[13:], 1<<30)
	if _, err := Open(bytes.NewReader(huge), pass, 1<<30); !errors.Is(err, ErrOpen) {
		t.Errorf("a file asking for 1 TiB of Argon2 memory: %v, want ErrOpen", err)
	}
	if _, err := Open(bytes.NewReader(file), pass, 1000); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a file over the size limit: %v, want ErrTooLarge", err)
	}
}
