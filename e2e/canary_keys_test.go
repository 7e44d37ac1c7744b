package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"strings"
)

// serviceKeys is the service key part of TestCanary: keys imported from
// canary material (AES, EC, RSA), a canary plaintext encrypted, decrypted,
// signed; data keys; refusals that carry the material or the plaintext.
// It returns the needles that must appear nowhere but in the answers that
// return them: the imported material in raw, base64 and base64url forms,
// the ciphertext and the data key.
func (c *canaryRun) serviceKeys(d, root, value, refused string) []string {
	t := c.t
	k := "/api/" + d + "/v1/servicekey"
	b64, b64url := base64.StdEncoding.EncodeToString, base64.RawURLEncoding.EncodeToString
	aes := []byte(("CANARYKEY" + strings.Repeat(value, 4))[:32])
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecD, _ := ecKey.Bytes()
	ecPub, _ := ecKey.PublicKey.Bytes()
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
	rsaPEM := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
	needles := []string{string(aes), b64(aes), b64url(aes), string(ecD), b64url(ecD), b64(ecD), b64url(rsaKey.D.Bytes()),
		b64url(rsaKey.Primes[0].Bytes()), string(rsaPEM[40:100])}

	var created struct{ ID string }
	st, body := c.send("key import AES", root, "POST", k, `{"name":"canary-aes","keys":[{"kty":"oct","k":"`+b64url(aes)+`"}],`+
		`"operations":["encrypt","decrypt","wrapKey","unwrapKey"],"extractable":true}`, false)
	c.want("key import AES", st, 201, body)
	_ = json.Unmarshal(body, &created)
	aesID := created.ID
	st, body = c.send("key import EC", root, "POST", k+"?format=jwk", `{"name":"canary-ec","keys":[{"kty":"EC","crv":"P-256","x":"`+
		b64url(ecPub[1:33])+`","y":"`+b64url(ecPub[33:])+`","d":"`+b64url(ecD)+`"}]}`, false)
	c.want("key import EC", st, 201, body)
	_ = json.Unmarshal(body, &created)
	ecID := created.ID
	st, body = c.send("key import RSA", root, "POST", k, `{"name":"canary-rsa","keys":[{"kty":"RSA","n":"`+b64url(rsaKey.N.Bytes())+
		`","e":"AQAB","d":"`+b64url(rsaKey.D.Bytes())+`","p":"`+b64url(rsaKey.Primes[0].Bytes())+`","q":"`+b64url(rsaKey.Primes[1].Bytes())+
		`"}],"operations":["wrapKey","unwrapKey","sign","verify"]}`, false)
	c.want("key import RSA", st, 201, body)
	_ = json.Unmarshal(body, &created)
	rsaID := created.ID

	plain := b64([]byte(value + "-plaintext"))
	st, body = c.send("key encrypt", root, "POST", k+"/"+aesID+"/encrypt", `{"plaintext":"`+plain+`","context":"canary"}`, true)
	c.want("key encrypt", st, 200, body)
	var enc struct{ Ciphertext string }
	_ = json.Unmarshal(body, &enc)
	needles = append(needles, enc.Ciphertext)
	st, body = c.send("key decrypt", root, "POST", k+"/"+aesID+"/decrypt", `{"ciphertext":"`+enc.Ciphertext+`","context":"canary"}`, true)
	c.want("key decrypt", st, 200, body)
	if !strings.Contains(string(body), plain) {
		t.Errorf("decrypt does not return the plaintext: %s", body)
	}
	st, body = c.send("key datakey", root, "POST", k+"/"+aesID+"/datakey", `{"size":256,"name":"canary"}`, true)
	c.want("key datakey", st, 201, body)
	var dk struct{ Key, Plaintext string }
	_ = json.Unmarshal(body, &dk)
	needles = append(needles, dk.Key, dk.Plaintext)
	c.send("key datakey decrypt", root, "POST", k+"/"+aesID+"/datakey/decrypt", `{"key":"`+dk.Key+`"}`, true)
	st, body = c.send("key sign", root, "POST", k+"/"+ecID+"/sign", `{"message":"`+plain+`","alg":"ES256"}`, false)
	c.want("key sign", st, 200, body)
	var sig struct{ Signature string }
	_ = json.Unmarshal(body, &sig)
	c.send("key verify", root, "POST", k+"/"+ecID+"/verify", `{"message":"`+plain+`","alg":"ES256","signature":"`+sig.Signature+`"}`, false)
	c.send("key wrapped export", root, "GET", k+"/"+aesID+"?wrappingKeyId="+rsaID+"&wrappedKeyFormat=RAW&wrappingAlgorithm=RSA-OAEP-256", "", false)
	c.send("key get", root, "GET", k+"/"+ecID+"?format=pem", "", false)
	c.send("key list", root, "GET", k, "", false)
	c.send("key central get", root, "GET", "/v2/okms/resource/"+d+"/serviceKey/"+ecID+"?format=JWK", "", false)
	c.send("key random", root, "GET", "/api/"+d+"/v1/random?length=64", "", true)

	// Refusals carrying the material or the plaintext.
	for _, f := range []struct{ what, token, method, path, body string }{
		{"key denied encrypt", refused, "POST", k + "/" + aesID + "/encrypt", `{"plaintext":"` + plain + `"}`},
		{"key denied decrypt", refused, "POST", k + "/" + aesID + "/decrypt", `{"ciphertext":"` + enc.Ciphertext + `"}`},
		{"key denied import", refused, "POST", k, `{"name":"x","keys":[{"kty":"oct","k":"` + b64url(aes) + `"}]}`},
		{"key import too short", root, "POST", k, `{"name":"x","keys":[{"kty":"oct","k":"` + b64url(aes[:20]) + `"}]}`},
		{"key import bad EC", root, "POST", k, `{"name":"x","keys":[{"kty":"EC","crv":"P-256","x":"` + b64url(ecD) + `","y":"` + b64url(ecD) + `","d":"` + b64url(ecD) + `"}]}`},
		{"key import bad RSA", root, "POST", k, `{"name":"x","keys":[{"kty":"RSA","n":"` + b64url(rsaKey.N.Bytes()) + `","e":"AQAB","d":"` + b64url(rsaKey.Primes[0].Bytes()) + `","p":"` + b64url(rsaKey.Primes[0].Bytes()) + `","q":"` + b64url(rsaKey.Primes[1].Bytes()) + `"}]}`},
		{"key decrypt other context", root, "POST", k + "/" + aesID + "/decrypt", `{"ciphertext":"` + enc.Ciphertext + `","context":"other"}`},
		{"key decrypt altered", root, "POST", k + "/" + aesID + "/decrypt", `{"ciphertext":"` + enc.Ciphertext[:len(enc.Ciphertext)-4] + `AAAA"}`},
		{"key decrypt with another key", root, "POST", k + "/" + ecID + "/decrypt", `{"ciphertext":"` + enc.Ciphertext + `"}`},
		{"key datakey as ciphertext", root, "POST", k + "/" + aesID + "/decrypt", `{"ciphertext":"` + dk.Key + `"}`},
		{"key plaintext not base64", root, "POST", k + "/" + aesID + "/encrypt", `{"plaintext":"` + value + `!"}`},
		{"key wrapped import garbage", root, "POST", k, `{"name":"x","wrappedKeys":[{"keyFormatType":"RAW","wrappingKeyId":"` + rsaID + `","ciphertext":"` + value + `"}]}`},
		{"key verify garbage", root, "POST", k + "/" + ecID + "/verify", `{"message":"` + plain + `","alg":"ES256","signature":"` + value + `"}`},
	} {
		if st, body := c.send(f.what, f.token, f.method, f.path, f.body, false); st < 400 {
			t.Errorf("%s = %d %s, want a refusal", f.what, st, body)
		}
	}
	return append(needles, c.transit(d, root, value, refused, plain)...)
}

// transit is the Vault Transit part of TestCanary (issue 16): the canary
// keys by name, a canary plaintext encrypted, decrypted, rewrapped, data
// keys, signatures and HMACs, and refusals carrying the plaintext. It
// returns the Transit ciphertext and the data key as needles.
func (c *canaryRun) transit(d, root, value, refused, plain string) []string {
	t := c.t
	tr := "/api/" + d + "/v1/transit"
	var v struct {
		Data struct{ Ciphertext, Plaintext, Signature, HMAC string }
	}
	st, body := c.send("transit encrypt", root, "POST", tr+"/encrypt/canary-aes", `{"plaintext":"`+plain+`","context":"Y2FuYXJ5"}`, true)
	c.want("transit encrypt", st, 200, body)
	_ = json.Unmarshal(body, &v)
	ct := v.Data.Ciphertext
	st, body = c.send("transit decrypt", root, "POST", tr+"/decrypt/canary-aes", `{"ciphertext":"`+ct+`","context":"Y2FuYXJ5"}`, true)
	c.want("transit decrypt", st, 200, body)
	if !strings.Contains(string(body), plain) {
		t.Errorf("transit decrypt does not return the plaintext: %s", body)
	}
	c.send("transit rewrap", root, "POST", tr+"/rewrap/canary-aes", `{"ciphertext":"`+ct+`","context":"Y2FuYXJ5"}`, true)
	c.send("transit batch", root, "POST", tr+"/encrypt/canary-aes", `{"batch_input":[{"plaintext":"`+plain+`"},{"plaintext":"`+value+`!"}]}`, true)
	st, body = c.send("transit datakey", root, "POST", tr+"/datakey/plaintext/canary-aes", `{"bits":256}`, true)
	c.want("transit datakey", st, 200, body)
	_ = json.Unmarshal(body, &v)
	needles := []string{ct, v.Data.Plaintext}
	c.send("transit sign", root, "POST", tr+"/sign/canary-ec", `{"input":"`+plain+`"}`, false)
	c.send("transit hmac", root, "POST", tr+"/hmac/canary-rsa", `{"input":"`+plain+`"}`, false)
	c.send("transit read key", root, "GET", tr+"/keys/canary-rsa", "", false)
	c.send("transit list keys", root, "LIST", tr+"/keys", "", false)
	c.send("transit random", root, "POST", tr+"/random/64", "", true)
	for _, f := range []struct{ what, token, method, path, body string }{
		{"transit denied encrypt", refused, "POST", tr + "/encrypt/canary-aes", `{"plaintext":"` + plain + `"}`},
		{"transit denied decrypt", refused, "POST", tr + "/decrypt/canary-aes", `{"ciphertext":"` + ct + `"}`},
		{"transit plaintext not base64", root, "POST", tr + "/encrypt/canary-aes", `{"plaintext":"` + value + `!"}`},
		{"transit decrypt other context", root, "POST", tr + "/decrypt/canary-aes", `{"ciphertext":"` + ct + `","context":"b3RoZXI="}`},
		{"transit decrypt altered", root, "POST", tr + "/decrypt/canary-aes", `{"ciphertext":"` + ct[:len(ct)-4] + `AAAA"}`},
		{"transit decrypt garbage", root, "POST", tr + "/decrypt/canary-aes", `{"ciphertext":"` + value + `"}`},
		{"transit encrypt with a signing key", root, "POST", tr + "/encrypt/canary-ec", `{"plaintext":"` + plain + `"}`},
		{"transit verify garbage", root, "POST", tr + "/verify/canary-ec", `{"input":"` + plain + `","signature":"vault:v1:` + value + `"}`},
		{"transit context too long", root, "POST", tr + "/encrypt/canary-missing", `{"plaintext":"` + plain + `","context":"` + value + `"}`},
		{"transit bad JSON", root, "POST", tr + "/encrypt/canary-aes", `{"plaintext":"` + plain + `"`},
	} {
		if st, body := c.send(f.what, f.token, f.method, f.path, f.body, false); st < 400 {
			t.Errorf("%s = %d %s, want a refusal", f.what, st, body)
		}
	}
	return needles
}
