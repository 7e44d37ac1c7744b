package e2e

import (
	"bytes"
	"encoding/json"
	"net/url"
	"testing"
)

// Service keys in backups (issue 15): a backup carries every key with its
// material and state, and the restored installation, under another root
// key, decrypts and verifies what the source made.

// keyProbe is a key of the source and what it made.
type keyProbe struct {
	domain, id string
	ciphertext string // AES keys
	signature  string // EC keys
}

// populateKeysForBackup creates keys in every domain of l: an AES key and
// its ciphertext, an EC key and its signature, a deactivated and a
// destroyed key.
func populateKeysForBackup(t *testing.T, l *live) []keyProbe {
	t.Helper()
	st, _, b := l.do(t, "GET", "/v2/okms/resource", "")
	var ds []struct{ ID string }
	if st != 200 || json.Unmarshal(b, &ds) != nil {
		t.Fatalf("list domains = %d %s", st, b)
	}
	var out []keyProbe
	for _, d := range ds {
		k := "/api/" + d.ID + "/v1/servicekey"
		create := func(body string) string {
			t.Helper()
			st, _, b := l.do(t, "POST", k, body)
			var key struct{ ID string }
			if st != 201 || json.Unmarshal(b, &key) != nil {
				t.Fatalf("create key in %s = %d %s", d.ID, st, b)
			}
			return key.ID
		}
		aes := create(`{"name":"bk-aes","type":"oct","size":256,"context":"backup"}`)
		st, _, b := l.do(t, "POST", k+"/"+aes+"/encrypt", `{"plaintext":"YmFja2Vk","context":"bk"}`)
		var enc struct{ Ciphertext string }
		if st != 200 || json.Unmarshal(b, &enc) != nil {
			t.Fatalf("encrypt = %d %s", st, b)
		}
		ec := create(`{"name":"bk-ec","type":"EC","curve":"P-384"}`)
		st, _, b = l.do(t, "POST", k+"/"+ec+"/sign", `{"message":"YmFja2Vk","alg":"ES384"}`)
		var sig struct{ Signature string }
		if st != 200 || json.Unmarshal(b, &sig) != nil {
			t.Fatalf("sign = %d %s", st, b)
		}
		off := create(`{"name":"bk-off","type":"oct","size":128}`)
		l.do(t, "POST", k+"/"+off+"/deactivate", `{"reason":"key_compromise"}`)
		gone := create(`{"name":"bk-gone","type":"oct","size":128}`)
		l.do(t, "POST", k+"/"+gone+"/deactivate", `{"reason":"superseded"}`)
		if st, _, b := l.do(t, "DELETE", k+"/"+gone, ""); st != 204 {
			t.Fatalf("delete = %d %s", st, b)
		}
		out = append(out, keyProbe{domain: d.ID, id: aes, ciphertext: enc.Ciphertext}, keyProbe{domain: d.ID, id: ec, signature: sig.Signature})
	}
	return out
}

// checkKeysRestored decrypts and verifies, on l, what the source's keys
// made.
func checkKeysRestored(t *testing.T, l *live, token string, probes []keyProbe) {
	t.Helper()
	for _, p := range probes {
		k := "/api/" + p.domain + "/v1/servicekey/" + p.id
		if p.ciphertext != "" {
			st, _, b := l.doToken(t, token, "POST", k+"/decrypt", `{"ciphertext":"`+p.ciphertext+`","context":"bk"}`)
			if st != 200 || !bytes.Contains(b, []byte("YmFja2Vk")) {
				t.Errorf("restored key %s: decrypt = %d %s", p.id, st, b)
			}
			continue
		}
		st, _, b := l.doToken(t, token, "POST", k+"/verify", `{"message":"YmFja2Vk","alg":"ES384","signature":"`+p.signature+`"}`)
		if st != 200 || !bytes.Contains(b, []byte(`"result":true`)) {
			t.Errorf("restored key %s: verify = %d %s", p.id, st, b)
		}
	}
}

// dumpKeys adds to out every key of domain as the API shows it, with the
// public part of asymmetric keys (equal public keys: the same material).
func dumpKeys(t *testing.T, l *live, token, domain string, out map[string]string, canon func([]byte, ...string) string) {
	t.Helper()
	k := "/api/" + domain + "/v1/servicekey"
	for token2 := ""; ; {
		st, _, b := l.doToken(t, token, "GET", k+"?state=all&max=100&continuation-token="+url.QueryEscape(token2), "")
		var page struct {
			Objects []struct{ ID string } `json:"objects_list"`
			Next    string                `json:"continuation_token"`
			More    bool                  `json:"is_truncated"`
		}
		if st != 200 || json.Unmarshal(b, &page) != nil {
			t.Fatalf("list keys = %d %s", st, b)
		}
		for _, key := range page.Objects {
			_, _, b := l.doToken(t, token, "GET", k+"/"+key.ID+"?format=jwk", "")
			out["key "+domain+" "+key.ID] = canon(b)
		}
		if !page.More {
			return
		}
		token2 = page.Next
	}
}
