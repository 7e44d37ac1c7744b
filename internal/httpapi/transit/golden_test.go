package transit_test

import (
	"bytes"
	"fmt"
	"regexp"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// TestGolden pins the wire format of every Transit route: envelopes,
// batch results with per-item errors, the key document, and the error
// bodies of the 400/403/404/405 rules, as a real server answers them.
// Regenerate with go test -run TestGolden -update.
func TestGolden(t *testing.T) {
	h := newHarness(t)
	g := func(name, method, path, body string, header ...string) response {
		t.Helper()
		r := h.do(method, "/v1/"+path, body, header...)
		checkGolden(t, name, h.normalise(r))
		return r
	}
	g("keys_create", "POST", "transit/keys/gold", `{"type":"aes256-gcm96"}`)
	g("keys_create_existing", "POST", "transit/keys/gold", `{"type":"rsa-2048"}`)
	h.Clock.Advance(time.Minute)
	g("keys_create_ecdsa", "POST", "transit/keys/sig", `{"type":"ecdsa-p256"}`)
	g("keys_create_rsa", "POST", "transit/keys/rsa", `{"type":"rsa-2048"}`)
	g("keys_read", "GET", "transit/keys/gold", "")
	g("keys_read_ecdsa", "GET", "transit/keys/sig", "")
	g("keys_list", "LIST", "transit/keys", "")
	g("keys_list_get", "GET", "transit/keys?list=true", "")
	g("keys_read_missing", "GET", "transit/keys/nope", "")

	enc := g("encrypt", "POST", "transit/encrypt/gold", `{"plaintext":"aGVsbG8gd29ybGQ=","context":"Y3R4"}`)
	ct, _ := wiretest.Get(wiretest.DecodeBody[map[string]any](t, &enc), "data", "ciphertext").(string)
	g("encrypt_batch", "POST", "transit/encrypt/gold",
		`{"batch_input":[{"plaintext":"b25l","reference":"a"},{"plaintext":"not base64!","reference":"b"},{"plaintext":"dHdv","key_version":9}]}`)
	g("encrypt_batch_partial", "POST", "transit/encrypt/gold",
		`{"partial_failure_response_code":207,"batch_input":[{"plaintext":"b25l"},{"context":"eA=="}]}`)
	g("decrypt", "POST", "transit/decrypt/gold", fmt.Sprintf(`{"ciphertext":%q,"context":"Y3R4"}`, ct))
	g("decrypt_batch", "POST", "transit/decrypt/gold",
		fmt.Sprintf(`{"batch_input":[{"ciphertext":%q,"context":"Y3R4"},{"ciphertext":%q},{"ciphertext":"vault:v1:AAAA"},{"ciphertext":"nope"}]}`, ct, ct))
	g("decrypt_wrong_context", "POST", "transit/decrypt/gold", fmt.Sprintf(`{"ciphertext":%q,"context":"b3RoZXI="}`, ct))
	g("rewrap", "POST", "transit/rewrap/gold", fmt.Sprintf(`{"ciphertext":%q,"context":"Y3R4"}`, ct))
	g("datakey_wrapped", "POST", "transit/datakey/wrapped/gold", `{"bits":256}`)
	g("datakey_plaintext", "POST", "transit/datakey/plaintext/gold", "")
	g("datakey_bad_type", "POST", "transit/datakey/raw/gold", "")

	sig := g("sign", "POST", "transit/sign/sig/sha2-256", `{"input":"bWVzc2FnZQ=="}`)
	s, _ := wiretest.Get(wiretest.DecodeBody[map[string]any](t, &sig), "data", "signature").(string)
	g("verify", "POST", "transit/verify/sig/sha2-256", fmt.Sprintf(`{"input":"bWVzc2FnZQ==","signature":%q}`, s))
	g("verify_mismatch", "POST", "transit/verify/sig/sha2-256", fmt.Sprintf(`{"input":"b3RoZXI=","signature":%q}`, s))
	g("sign_rsa_pkcs1", "POST", "transit/sign/rsa", `{"input":"bWVzc2FnZQ==","signature_algorithm":"pkcs1v15","hash_algorithm":"sha2-512"}`)
	g("sign_aes", "POST", "transit/sign/gold", `{"input":"bWVzc2FnZQ=="}`)
	g("sign_bad_hash", "POST", "transit/sign/sig/md5", `{"input":"bWVzc2FnZQ=="}`)
	mac := g("hmac", "POST", "transit/hmac/gold", `{"input":"bWVzc2FnZQ=="}`)
	m, _ := wiretest.Get(wiretest.DecodeBody[map[string]any](t, &mac), "data", "hmac").(string)
	g("verify_hmac", "POST", "transit/verify/gold", fmt.Sprintf(`{"input":"bWVzc2FnZQ==","hmac":%q}`, m))
	g("random", "POST", "transit/random/16", `{"format":"hex"}`)
	g("hash", "POST", "transit/hash/sha2-256", `{"input":"YWJj"}`)
	g("hash_base64", "POST", "transit/hash", `{"input":"YWJj","algorithm":"sha3-256","format":"base64"}`)

	h.Clock.Advance(time.Minute)
	g("keys_rotate", "POST", "transit/keys/gold/rotate", "")
	g("keys_config", "POST", "transit/keys/gold/config", `{"min_decryption_version":2,"deletion_allowed":true}`)
	g("keys_config_invalid", "POST", "transit/keys/gold/config", `{"min_encryption_version":1}`)
	g("keys_trim", "POST", "transit/keys/gold/trim", `{"min_available_version":2}`)
	g("decrypt_trimmed", "POST", "transit/decrypt/gold", fmt.Sprintf(`{"ciphertext":%q,"context":"Y3R4"}`, ct))
	g("keys_delete_refused", "DELETE", "transit/keys/sig", "")
	g("keys_delete", "DELETE", "transit/keys/gold", "")
	g("encrypt_missing_key", "POST", "transit/encrypt/gold", `{"plaintext":"eA=="}`)

	g("encrypt_ignored_params", "POST", "transit/encrypt/rsa", `{"plaintext":"eA==","nonce":"AAAA","zzz":1}`)
	g("error_exportable", "POST", "transit/keys/x", `{"exportable":true}`)
	g("error_derived", "POST", "transit/keys/x", `{"derived":"true"}`)
	g("error_type", "POST", "transit/keys/x", `{"type":"chacha20-poly1305"}`)
	g("error_no_token", "POST", "transit/encrypt/rsa", `{"plaintext":"eA=="}`, "X-Vault-Token", "")
	g("error_bad_token", "POST", "transit/encrypt/rsa", `{"plaintext":"eA=="}`, "X-Vault-Token", "nope")
	g("error_no_route", "POST", "transit/nope/rsa", `{}`)
	g("error_method", "DELETE", "transit/encrypt/rsa", "")
	g("error_method_patch", "PATCH", "transit/keys/rsa", "{}")
	g("error_json", "POST", "transit/encrypt/rsa", `[1,2]`)
	g("error_field", "POST", "transit/keys/rsa/config", `{"min_decryption_version":"x"}`)
	g("error_namespace", "POST", "transit/encrypt/rsa", `{"plaintext":"eA=="}`, "X-Vault-Namespace", "team-a")
	g("sys_preflight_transit", "GET", "sys/internal/ui/mounts/transit/keys", "")
}

var (
	uuidRE      = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)
	accessorRE  = regexp.MustCompile(`"(kv|transit)_[0-9a-f]{8}"`)
	requestIDRE = regexp.MustCompile(`"request_id":"[^"]*"`)
	valueRE     = regexp.MustCompile(`vault:v(\d+):[A-Za-z0-9+/=_-]+`)
	pemRE       = regexp.MustCompile(`-----BEGIN PUBLIC KEY-----[^"]*-----END PUBLIC KEY-----\\n`)
	randomRE    = regexp.MustCompile(`"(random_bytes|plaintext)":"([A-Za-z0-9+/=]{24,})"`)
)

// normalise renders a response: status, content type and the body, with
// what changes from run to run (ids, ciphertexts, signatures, public keys,
// random bytes) replaced by placeholders.
func (h *harness) normalise(r response) []byte {
	b := bytes.ReplaceAll(r.Body, []byte(h.Domain), []byte("<okms-id>"))
	b = requestIDRE.ReplaceAll(b, []byte(`"request_id":"<request-id>"`))
	b = uuidRE.ReplaceAll(b, []byte("<uuid>"))
	b = accessorRE.ReplaceAll(b, []byte(`"${1}_<okms-id>"`))
	b = valueRE.ReplaceAll(b, []byte("vault:v${1}:<base64>"))
	b = pemRE.ReplaceAll(b, []byte("<public-key-pem>"))
	b = randomRE.ReplaceAll(b, []byte(`"${1}":"<random>"`))
	return fmt.Appendf(nil, "HTTP %d\nContent-Type: %s\n\n%s", r.Status, r.Header.Get("Content-Type"), b)
}

// checkGolden compares got with testdata/<name>.golden (wiretest: -update
// rewrites it).
func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	wiretest.Golden(t, name, got)
}
