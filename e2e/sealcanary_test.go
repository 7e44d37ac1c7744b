package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/server"
)

// TestSealCanary (issue 19, with T8): unseal keys, passphrases and the root
// key go through init, unseal (right and wrong), seal, rekey and seal
// migrations of a live server with an audit file. Afterwards none of them
// may appear in the server log, the audit file, /metrics, any answer but
// the one that hands the keys out, or the store file.
func TestSealCanary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server")
	}
	id := strings.ToLower(rand.Text())
	pass, wrongPass := "CANARY-pass-"+id, "CANARY-wrong-"+id
	l := startLive(t, liveOptions{audit: true, config: func(c *server.Config) { c.Seal = "shamir" }})
	var secrets []string // what must not leak
	var answers []string // every answer not allowed to hold them
	keyAnswers := 0      // the answers that hand keys out
	send := func(token, method, path, body string, want int, handsOut bool) []byte {
		t.Helper()
		st, h, b := l.doToken(t, token, method, path, body)
		if st != want {
			t.Fatalf("%s %s = %d %s, want %d", method, path, st, b, want)
		}
		if handsOut {
			keyAnswers++
		} else {
			var all bytes.Buffer
			for k, vs := range h {
				all.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
			}
			all.Write(b)
			answers = append(answers, all.String())
		}
		return b
	}
	keysOf := func(b []byte) (hexKeys, b64 []string) {
		var out struct {
			Keys       []string `json:"keys"`
			KeysBase64 []string `json:"keys_base64"`
			RootToken  string   `json:"root_token"`
			Nonce      string   `json:"nonce"`
		}
		json.Unmarshal(b, &out)
		secrets = append(append(secrets, out.Keys...), out.KeysBase64...)
		return out.Keys, out.KeysBase64
	}
	jsonOf := func(v any) string { b, _ := json.Marshal(v); return string(b) }

	b := send("", "PUT", "/v1/sys/init", `{"secret_shares":3,"secret_threshold":2}`, 200, true)
	keys, _ := keysOf(b)
	var init struct {
		RootToken string `json:"root_token"`
	}
	json.Unmarshal(b, &init)
	root := init.RootToken
	wrong := "ff" + keys[2][2:]
	secrets = append(secrets, wrong, pass, wrongPass)
	send("", "PUT", "/v1/sys/unseal", jsonOf(map[string]string{"key": keys[0]}), 200, false)
	send("", "PUT", "/v1/sys/unseal", jsonOf(map[string]string{"key": wrong}), 400, false)
	send("", "PUT", "/v1/sys/unseal", jsonOf(map[string]string{"key": keys[2]}), 200, false)
	send("", "PUT", "/v1/sys/unseal", jsonOf(map[string]string{"key": keys[1]}), 200, false)
	send(root, "PUT", "/v1/secret/data/canary", `{"data":{"k":"v"}}`, 200, false)

	// Rekey, with a wrong current key first.
	send(root, "POST", "/sys/seal/change", jsonOf(map[string]any{"keys": []string{keys[0], wrong}, "secret_shares": 2, "secret_threshold": 2}), 400, false)
	b = send(root, "POST", "/sys/seal/change", jsonOf(map[string]any{"keys": keys[:2], "secret_shares": 2, "secret_threshold": 2}), 200, true)
	newKeys, _ := keysOf(b)
	var ch struct{ Nonce string }
	json.Unmarshal(b, &ch)
	send(root, "POST", "/sys/seal/commit", jsonOf(map[string]any{"nonce": ch.Nonce, "keys": newKeys}), 200, false)
	send(root, "PUT", "/v1/sys/seal", "", 204, false)
	for _, k := range newKeys {
		send("", "PUT", "/v1/sys/unseal", jsonOf(map[string]string{"key": k}), 200, false)
	}

	// To the passphrase seal; a wrong passphrase, the right one.
	b = send(root, "POST", "/sys/seal/change", jsonOf(map[string]any{"keys": newKeys, "to": "passphrase", "passphrase": pass}), 200, false)
	json.Unmarshal(b, &ch)
	send(root, "POST", "/sys/seal/commit", jsonOf(map[string]any{"nonce": ch.Nonce, "keys": []string{pass}}), 200, false)
	send(root, "PUT", "/v1/sys/seal", "", 204, false)
	send("", "PUT", "/v1/sys/unseal", jsonOf(map[string]string{"key": wrongPass}), 400, false)
	send("", "PUT", "/v1/sys/unseal", jsonOf(map[string]string{"key": pass}), 200, false)

	// To the file seal: the root key, the same all along, is now readable.
	b = send(root, "POST", "/sys/seal/change", jsonOf(map[string]any{"keys": []string{pass}, "to": "file"}), 200, false)
	json.Unmarshal(b, &ch)
	send(root, "POST", "/sys/seal/commit", jsonOf(map[string]any{"nonce": ch.Nonce}), 200, false)
	keyFile := filepath.Join(l.dir, "root.key")
	rk, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	rootB64 := strings.TrimSpace(string(rk))
	raw, _ := base64.StdEncoding.DecodeString(rootB64)
	secrets = append(secrets, rootB64, hex.EncodeToString(raw))
	metrics := send("", "GET", "/metrics", "", 200, false)
	l.stop()

	places := map[string][]byte{"server log": []byte(l.logs.String()), "/metrics": metrics}
	if a, err := os.ReadFile(l.audit); err == nil {
		places["audit file"] = a
	} else {
		t.Fatal(err)
	}
	for i, a := range answers {
		places[fmt.Sprintf("answer %d", i+1)] = []byte(a)
	}
	filepath.WalkDir(l.dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && p != keyFile {
			f, _ := os.Open(p)
			b, _ := io.ReadAll(f)
			f.Close()
			places[filepath.Base(p)] = b
		}
		return nil
	})
	found := 0
	for where, content := range places {
		for _, s := range secrets {
			if s != "" && bytes.Contains(content, []byte(s)) {
				t.Errorf("a share, passphrase or root key (%.8s…) is in the %s", s, where)
				found++
			}
		}
	}
	// Unseal attempts are audited, the failed ones as failed.
	audited := strings.Count(string(places["audit file"]), `"action":"coffer:sys/unseal"`)
	if audited < 2*7 || !strings.Contains(string(places["audit file"]), `"action":"coffer:sys/unseal","resource":`) ||
		!bytes.Contains(places["audit file"], []byte(`"outcome":"failed","reason":"service: invalid unseal keys"`)) {
		t.Errorf("unseal attempts in the audit file: %d events, failed ones missing?", audited)
	}
	if !strings.Contains(l.logs.String(), "unsealed") || len(answers) < 15 {
		t.Fatalf("the run did not happen as planned: %d answers", len(answers))
	}
	t.Logf("seal canaries: %d shares, passphrases and root key encodings checked in the server log, the audit file, /metrics, %d answers and the store files: %d found (%d answers hand keys out, by design)",
		len(secrets), len(answers), found, keyAnswers)
}
