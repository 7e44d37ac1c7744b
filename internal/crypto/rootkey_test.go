package crypto

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCreateRootKeyFile(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "root.key")
	k, err := CreateRootKeyFile(path, bytes.NewReader(knownKeyBytes))
	if err != nil {
		t.Fatalf("CreateRootKeyFile() error: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("created file mode = %#o, want 0600", perm)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := base64.StdEncoding.EncodeToString(knownKeyBytes) + "\n"; string(raw) != want {
		t.Errorf("file content is not the key in standard base64 plus a newline")
	}
	loaded, err := LoadRootKeyFile(path)
	if err != nil {
		t.Fatalf("LoadRootKeyFile(created file) error: %v", err)
	}
	if !loaded.Equal(k) {
		t.Errorf("LoadRootKeyFile returned another key than CreateRootKeyFile")
	}

	// O_EXCL: a second create must not overwrite the first key.
	if _, err := CreateRootKeyFile(path, rand.Reader); !errors.Is(err, fs.ErrExist) {
		t.Errorf("CreateRootKeyFile(existing) error = %v, want fs.ErrExist", err)
	}
	if again, err := LoadRootKeyFile(path); err != nil || !again.Equal(k) {
		t.Errorf("the key file changed after a refused create (err %v)", err)
	}
}

func TestCreateRootKeyFile_errors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "short.key")
	if _, err := CreateRootKeyFile(path, bytes.NewReader(make([]byte, 10))); err == nil {
		t.Errorf("CreateRootKeyFile(short random) succeeded")
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a failed CreateRootKeyFile left a file (stat error %v)", err)
	}
	if _, err := CreateRootKeyFile(filepath.Join(dir, "missing", "root.key"), rand.Reader); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("CreateRootKeyFile(missing directory) error = %v, want fs.ErrNotExist", err)
	}
}

func TestLoadRootKeyFile(t *testing.T) {
	t.Parallel()
	b64 := base64.StdEncoding.EncodeToString(knownKeyBytes)
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    error // nil: success
	}{
		{"mode 0600", b64, 0o600, nil},
		{"mode 0400", b64, 0o400, nil},
		{"surrounding whitespace", " \n\t" + b64 + "\r\n\n", 0o600, nil},
		{"mode 0644", b64, 0o644, ErrKeyFilePermissions},
		{"mode 0640", b64, 0o640, ErrKeyFilePermissions},
		{"mode 0604", b64, 0o604, ErrKeyFilePermissions},
		{"mode 0700", b64, 0o700, ErrKeyFilePermissions},
		{"mode 0444", b64, 0o444, ErrKeyFilePermissions},
		{"empty", "", 0o600, ErrKeyFileFormat},
		{"whitespace only", " \n", 0o600, ErrKeyFileFormat},
		{"16 bytes", base64.StdEncoding.EncodeToString(knownKeyBytes[:16]), 0o600, ErrKeyFileFormat},
		{"33 bytes", base64.StdEncoding.EncodeToString(append(knownKeyBytes, 0)), 0o600, ErrKeyFileFormat},
		{"unpadded base64", base64.RawStdEncoding.EncodeToString(knownKeyBytes), 0o600, ErrKeyFileFormat},
		{"url base64", "-_" + b64[2:], 0o600, ErrKeyFileFormat},
		{"hex", strings.Repeat("ab", 32), 0o600, ErrKeyFileFormat},
		{"inner whitespace", b64[:20] + " " + b64[20:], 0o600, ErrKeyFileFormat},
		{"huge", strings.Repeat("A", 8192), 0o600, ErrKeyFileFormat},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "root.key")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tc.mode); err != nil {
				t.Fatal(err)
			}
			k, err := LoadRootKeyFile(path)
			if tc.want == nil {
				if err != nil || !k.Equal(knownKey(t)) {
					t.Fatalf("LoadRootKeyFile() = %v, %v; want the known key", k, err)
				}
				return
			}
			if !errors.Is(err, tc.want) || !k.IsZero() {
				t.Fatalf("LoadRootKeyFile() error = %v, want %v and a zero key", err, tc.want)
			}
			if len(tc.content) >= 8 && strings.Contains(err.Error(), strings.TrimSpace(tc.content)[:8]) {
				t.Errorf("error %q quotes the file content", err)
			}
			if tc.want == ErrKeyFilePermissions && (!strings.Contains(err.Error(), "0400 or 0600") || !strings.Contains(err.Error(), path)) {
				t.Errorf("error %q does not name the file and the allowed modes", err)
			}
		})
	}
}

func TestLoadRootKeyFile_notAFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadRootKeyFile(dir); !errors.Is(err, ErrKeyFilePermissions) {
		t.Errorf("LoadRootKeyFile(directory) error = %v, want ErrKeyFilePermissions", err)
	}
	if _, err := LoadRootKeyFile(filepath.Join(dir, "absent")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("LoadRootKeyFile(absent) error = %v, want fs.ErrNotExist", err)
	}
}
