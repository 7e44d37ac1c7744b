package seal

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"strings"

	"filippo.io/age"
)

// EncryptKeys encrypts each key (share) to its own age recipient
// (an "age1…" X25519 or "age1pq1…" hybrid public key), in order: there
// must be one recipient per key. Each result is the base64 of an age file
// whose plaintext is the key in base64, the form `coffer operator unseal`
// takes, so that
//
//	echo '<encrypted key>' | base64 -d | age -d -i key.txt
//
// prints the key to submit. Plain keys are never returned alongside.
func EncryptKeys(keys [][]byte, recipients []string) ([]string, error) {
	if len(recipients) != len(keys) {
		return nil, fmt.Errorf("%w: %d age recipients for %d keys; give one per key", ErrParameters, len(recipients), len(keys))
	}
	out := make([]string, len(keys))
	for i, k := range keys {
		rs, err := age.ParseRecipients(strings.NewReader(strings.TrimSpace(recipients[i])))
		if err != nil || len(rs) != 1 {
			// age's parse errors never quote the input.
			return nil, fmt.Errorf("%w: age recipient %d is not an age public key (age1…): %v", ErrParameters, i+1, err)
		}
		var buf bytes.Buffer
		w, err := age.Encrypt(&buf, rs[0])
		if err != nil {
			return nil, fmt.Errorf("seal: age: %w", err)
		}
		text := base64.StdEncoding.EncodeToString(k)
		if _, err := w.Write([]byte(text)); err != nil {
			return nil, fmt.Errorf("seal: age: %w", err)
		}
		if err := w.Close(); err != nil {
			return nil, fmt.Errorf("seal: age: %w", err)
		}
		out[i] = base64.StdEncoding.EncodeToString(buf.Bytes())
	}
	return out, nil
}
