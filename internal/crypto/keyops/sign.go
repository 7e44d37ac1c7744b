package keyops

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	_ "crypto/sha256" // crypto.SHA256 and SHA-384/512 below
	_ "crypto/sha512"
	"encoding/asn1"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/servicekey"
)

func hashOf(a servicekey.Algorithm) crypto.Hash {
	switch a.HashSize() {
	case 32:
		return crypto.SHA256
	case 48:
		return crypto.SHA384
	}
	return crypto.SHA512
}

// digestOf returns the digest to sign or verify: msg hashed with the
// algorithm's hash, or msg itself when it is already a digest, which must
// then have the hash's size (ServiceKeyMessageInvalid).
func digestOf(a servicekey.Algorithm, msg []byte, isDigest bool) ([]byte, error) {
	h := hashOf(a)
	if isDigest {
		if len(msg) != h.Size() {
			return nil, servicekey.Invalid(servicekey.FieldMessage, "a digest for "+string(a)+" must be "+itoa(h.Size())+" bytes long")
		}
		return msg, nil
	}
	w := h.New()
	w.Write(msg)
	return w.Sum(nil), nil
}

func itoa(n int) string { return big.NewInt(int64(n)).String() }

// jwsHeader is the protected header of the JWS coffer writes.
type jwsHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ,omitempty"`
	Kid string `json:"kid,omitempty"`
}

// Sign signs with key material m. The raw format is the base64 (standard,
// padded) of the signature: PKCS #1 v1.5 (RS), PSS with a salt as long as
// the hash (PS, RFC 7518 3.5), or r||s each padded to the curve's size
// (ES, RFC 7518 3.4), which okms-sdk-go and okms-cli decode. The jws and
// jwt formats are compact JWS over the message (jwt: a JSON object, typ
// JWT); they sign their own signing input, so a digest cannot be given
// (ServiceKeyMessageInvalid). An algorithm that does not fit the key is
// servicekey.ErrIncompatible.
func (o *Ops) Sign(m servicekey.Material, r servicekey.SignInput) (string, error) {
	k, err := o.parse(m)
	if err != nil {
		return "", err
	}
	if err := r.Alg.Fits(k.spec()); err != nil {
		return "", err
	}
	if k.rsa == nil && k.ec == nil {
		return "", servicekey.ErrUsage
	}
	if r.Format == servicekey.FormatRaw || r.Format == "" {
		d, err := digestOf(r.Alg, r.Message, r.IsDigest)
		if err != nil {
			return "", err
		}
		sig, err := k.sign(r.Alg, d)
		if err != nil {
			return "", err
		}
		return base64.StdEncoding.EncodeToString(sig), nil
	}
	if r.IsDigest {
		return "", servicekey.Invalid(servicekey.FieldMessage, "a "+string(r.Format)+" signature covers its own signing input: isdigest must be false")
	}
	h := jwsHeader{Alg: string(r.Alg), Kid: r.KeyID}
	if r.Format == servicekey.FormatJWT {
		var claims map[string]json.RawMessage
		if json.Unmarshal(r.Message, &claims) != nil {
			return "", servicekey.Invalid(servicekey.FieldMessage, "a jwt message must be a JSON object of claims")
		}
		h.Typ = "JWT"
	}
	hb, err := json.Marshal(h)
	if err != nil {
		return "", err
	}
	input := b64url.EncodeToString(hb) + "." + b64url.EncodeToString(r.Message)
	d, _ := digestOf(r.Alg, []byte(input), false)
	sig, err := k.sign(r.Alg, d)
	if err != nil {
		return "", err
	}
	return input + "." + b64url.EncodeToString(sig), nil
}

func (k *key) sign(a servicekey.Algorithm, digest []byte) ([]byte, error) {
	h := hashOf(a)
	switch a.Family() {
	case "RS":
		return rsa.SignPKCS1v15(rand.Reader, k.rsa, h, digest)
	case "PS":
		return rsa.SignPSS(rand.Reader, k.rsa, h, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	}
	r, s, err := ecdsa.Sign(rand.Reader, k.ec, digest)
	if err != nil {
		return nil, err
	}
	size := curveName(k.ec.Curve).Bytes()
	out := make([]byte, 2*size)
	r.FillBytes(out[:size])
	s.FillBytes(out[size:])
	return out, nil
}

// Verify checks a signature with key material m (a pair or a public key).
// The signature is raw, in base64 (standard or URL-safe, padded or not),
// or a compact JWS. For EC keys a raw signature is r||s or, for openssl's
// sake, an ASN.1 DER sequence. A JWS must name the algorithm asked for and
// carry the message given, if any; it signs its own input, so a digest
// cannot be given. A well-formed signature that does not match answers
// false; one that does not decode is servicekey.ErrSignature; an
// algorithm that does not fit the key is servicekey.ErrIncompatible.
func (o *Ops) Verify(m servicekey.Material, r servicekey.VerifyInput) (bool, error) {
	k, err := o.parse(m)
	if err != nil {
		return false, err
	}
	if k.rpub == nil && k.epub == nil {
		return false, servicekey.ErrUsage
	}
	sigText := strings.TrimSpace(r.Signature)
	if strings.Count(sigText, ".") == 2 {
		return k.verifyJWS(r, sigText)
	}
	if r.Alg == "" {
		return false, servicekey.Required("alg")
	}
	if err := r.Alg.Fits(k.spec()); err != nil {
		return false, err
	}
	sig, err := decodeBase64(sigText)
	if err != nil {
		return false, servicekey.ErrSignature
	}
	d, err := digestOf(r.Alg, r.Message, r.IsDigest)
	if err != nil {
		return false, err
	}
	return k.verify(r.Alg, d, sig), nil
}

func (k *key) verifyJWS(r servicekey.VerifyInput, token string) (bool, error) {
	parts := strings.Split(token, ".")
	hb, err1 := b64url.DecodeString(parts[0])
	payload, err2 := b64url.DecodeString(parts[1])
	sig, err3 := b64url.DecodeString(parts[2])
	var h jwsHeader
	if err1 != nil || err2 != nil || err3 != nil || json.Unmarshal(hb, &h) != nil {
		return false, servicekey.ErrSignature
	}
	alg, err := servicekey.ParseAlgorithm(h.Alg)
	if err != nil {
		return false, servicekey.ErrSignature
	}
	if r.Alg != "" && r.Alg != alg {
		return false, nil
	}
	if err := alg.Fits(k.spec()); err != nil {
		return false, err
	}
	if r.IsDigest {
		return false, servicekey.Invalid(servicekey.FieldMessage, "a JWS signature covers its own signing input: isdigest must be false")
	}
	if r.Message != nil && !bytes.Equal(r.Message, payload) {
		return false, nil
	}
	d, _ := digestOf(alg, []byte(parts[0]+"."+parts[1]), false)
	return k.verify(alg, d, sig), nil
}

func (k *key) verify(a servicekey.Algorithm, digest, sig []byte) bool {
	h := hashOf(a)
	switch a.Family() {
	case "RS":
		return rsa.VerifyPKCS1v15(k.rpub, h, digest, sig) == nil
	case "PS":
		// PSSSaltLengthAuto: signatures from other signers (openssl's
		// default salt is as long as possible) verify too.
		return rsa.VerifyPSS(k.rpub, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthAuto}) == nil
	}
	size := curveName(k.epub.Curve).Bytes()
	if len(sig) == 2*size {
		r, s := new(big.Int).SetBytes(sig[:size]), new(big.Int).SetBytes(sig[size:])
		return ecdsa.Verify(k.epub, digest, r, s)
	}
	var der struct{ R, S *big.Int }
	if rest, err := asn1.Unmarshal(sig, &der); err != nil || len(rest) != 0 {
		return false
	}
	return ecdsa.VerifyASN1(k.epub, digest, sig)
}

// decodeBase64 accepts standard and URL-safe base64, padded or not.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if strings.ContainsAny(s, "-_") {
		return base64.RawURLEncoding.DecodeString(s)
	}
	return base64.RawStdEncoding.DecodeString(s)
}
