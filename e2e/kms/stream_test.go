package kms

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"io"
	"os"
	"strconv"
	"testing"
	"time"

	okms "github.com/ovh/okms-sdk-go"
	"github.com/ovh/okms-sdk-go/types"
)

// streamBytes is the size of the file TestSDK_DataKeyStream encrypts:
// COFFER_KMS_STREAM_BYTES, or 24 MiB (six 4 MiB blocks and a partial one),
// which keeps the suite fast. The 500 MB run:
//
//	COFFER_KMS_STREAM_BYTES=524288000 go test ./e2e/kms -run TestSDK_DataKeyStream -v
func streamBytes(t *testing.T) int64 {
	s := os.Getenv("COFFER_KMS_STREAM_BYTES")
	if s == "" {
		return 24<<20 + 12345
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 1 {
		t.Fatalf("COFFER_KMS_STREAM_BYTES=%q: want a positive number of bytes", s)
	}
	return n
}

// TestSDK_DataKeyStream round-trips a file through the SDK's streaming
// AEAD (okms-cli's "keys encrypt --dk"): a data key per stream from the
// datakey route, decrypted with datakey/decrypt. The file is generated
// and hashed on the fly: neither side holds it in memory.
func TestSDK_DataKeyStream(t *testing.T) {
	t.Parallel()
	k := newKMS(t)
	c := k.sdk(k.root)
	key, err := c.GenerateSymmetricKey(t.Context(), k.domain, types.N256, "stream", types.SOFTWARE, "",
		[]types.CryptographicUsages{types.Encrypt, types.Decrypt, types.WrapKey, types.UnwrapKey})
	if err != nil {
		t.Fatal(err)
	}
	n := streamBytes(t)
	start := time.Now()
	// plaintext → EncryptStream → pipe → DecryptStream → hash
	pr, pw := io.Pipe()
	inHash := sha256.New()
	encErr := make(chan error, 1)
	go func() {
		w, err := c.DataKeys(k.domain, key.Id).EncryptStream(t.Context(), pw, []byte("aad"), okms.BlockSize4MB)
		if err == nil {
			_, err = io.Copy(w, io.TeeReader(io.LimitReader(&counter{}, n), inHash))
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
		pw.CloseWithError(err)
		encErr <- err
	}()
	r, err := c.DataKeys(k.domain, key.Id).DecryptStream(t.Context(), pr, []byte("aad"))
	if err != nil {
		t.Fatal(err)
	}
	outHash := sha256.New()
	got, err := io.Copy(outHash, r)
	if err != nil {
		t.Fatalf("decrypt stream after %d bytes: %v", got, err)
	}
	if err := <-encErr; err != nil {
		t.Fatalf("encrypt stream: %v", err)
	}
	if got != n || !bytes.Equal(inHash.Sum(nil), outHash.Sum(nil)) {
		t.Fatalf("round trip of %d bytes gave %d bytes, hashes equal %v", n, got, bytes.Equal(inHash.Sum(nil), outHash.Sum(nil)))
	}
	t.Logf("%d bytes encrypted and decrypted through the SDK's data-key stream in %v", n, time.Since(start).Round(time.Millisecond))

	// A stream with other associated data, or altered, does not open.
	var sealed bytes.Buffer
	w, err := c.DataKeys(k.domain, key.Id).EncryptStream(t.Context(), &sealed, []byte("aad"), okms.BlockSize32kB)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(w, io.LimitReader(&counter{}, 100_000))
	w.Close()
	for label, aad := range map[string][]byte{"other aad": []byte("other")} {
		r, err := c.DataKeys(k.domain, key.Id).DecryptStream(t.Context(), bytes.NewReader(sealed.Bytes()), aad)
		if err == nil {
			_, err = io.Copy(io.Discard, r)
		}
		if err == nil {
			t.Errorf("%s: the stream opened", label)
		}
	}
	b := sealed.Bytes()
	b[len(b)-100] ^= 1
	r, err = c.DataKeys(k.domain, key.Id).DecryptStream(t.Context(), bytes.NewReader(b), []byte("aad"))
	if err == nil {
		_, err = io.Copy(io.Discard, r)
	}
	if err == nil {
		t.Error("an altered stream opened")
	}
}

// counter is an endless deterministic byte stream: a 64-bit counter,
// big-endian.
type counter struct {
	n   uint64
	buf [8]byte
	off int
}

func (c *counter) Read(p []byte) (int, error) {
	for i := range p {
		if c.off == 0 {
			binary.BigEndian.PutUint64(c.buf[:], c.n)
			c.n++
		}
		p[i] = c.buf[c.off]
		c.off = (c.off + 1) % 8
	}
	return len(p), nil
}
