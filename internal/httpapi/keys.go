package httpapi

import (
	"encoding/base64"
	"errors"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/servicekey"
)

// What surfaces A and B share about service keys: one error table, so
// that a refusal has the same identifier on both, and base64 decoding
// that names the field it fails on.

// KeyWire is the wire form of a service key error: HTTP status, error
// identifier (surface B's error_id, the last part of surface A's class;
// OKMSCode gives its error_code) and the messages.
type KeyWire struct {
	Status   int
	ID       string
	Messages []string
}

// keyTable maps the service key sentinels to the wire.
var keyTable = []struct {
	err  error
	wire KeyWire
}{
	{servicekey.ErrNotFound, KeyWire{404, "ServiceKeyNotFound", []string{"service key not found"}}},
	{service.ErrNoKMS, KeyWire{404, "RouteNotFound", []string{"the key management service is not available on this server"}}},
	{servicekey.ErrExists, KeyWire{409, "ServiceKeyAlreadyExists", []string{"a service key with this id already exists"}}},
	{servicekey.ErrNotActive, KeyWire{400, "ServiceKeyNotActive",
		[]string{"the key is not active: only an active key encrypts, signs, makes data keys or wraps"}}},
	{servicekey.ErrActive, KeyWire{400, "ServiceKeyActive", []string{"an active key cannot be deleted: deactivate it first"}}},
	{servicekey.ErrDestroyed, KeyWire{400, "ServiceKeyDestroyed", []string{"the key is destroyed: its material is gone"}}},
	{servicekey.ErrUsage, KeyWire{400, "ServiceKeyOperationNotAllowed",
		[]string{"the operation is not among the key's operations (usages), or its kind of key cannot do it"}}},
	{servicekey.ErrIncompatible, KeyWire{400, "ServiceKeyAlgorithmIncompatible",
		[]string{"the algorithm or format does not fit the key's type, size or curve"}}},
	{servicekey.ErrNotExtractable, KeyWire{400, "ServiceKeyNotExtractable",
		[]string{"the key is not extractable: its material cannot be exported"}}},
	{servicekey.ErrCiphertext, KeyWire{400, "ServiceKeyCiphertextInvalid",
		[]string{"the ciphertext is invalid, was made by another key, or does not decrypt with this key and context"}}},
	{servicekey.ErrVersionNotFound, KeyWire{400, "ServiceKeyVersionNotFound",
		[]string{"the key version that made the ciphertext is no longer available"}}},
	{servicekey.ErrSignature, KeyWire{400, "ServiceKeySignatureInvalid", []string{"the signature is not base64 or a JWS"}}},
	{servicekey.ErrTransition, KeyWire{400, "ServiceKeyStateTransitionInvalid", []string{"a destroyed key cannot change state"}}},
	{servicekey.ErrVersionLimit, KeyWire{400, "ServiceKeyVersionLimitReached",
		[]string{"the key has reached its maximum number of versions"}}},
}

// keyCodes are the error_codes of the service key refusals: okms-rest.md
// 8.1's layout, major 3 (REST), minor 3 (service keys API), then the
// category (5 NotFound, 8 BadArgument, 10 Conflict) and a number.
var keyCodes = map[string]int32{
	"ServiceKeyNotFound":               0x03035001,
	"ServiceKeyAlreadyExists":          0x0303A001,
	"ServiceKeyNotActive":              0x03038001,
	"ServiceKeyActive":                 0x03038002,
	"ServiceKeyDestroyed":              0x03038003,
	"ServiceKeyOperationNotAllowed":    0x03038004,
	"ServiceKeyAlgorithmIncompatible":  0x03038005,
	"ServiceKeyNotExtractable":         0x03038006,
	"ServiceKeyCiphertextInvalid":      0x03038007,
	"ServiceKeyVersionNotFound":        0x03038008,
	"ServiceKeySignatureInvalid":       0x03038009,
	"ServiceKeyStateTransitionInvalid": 0x0303800A,
	"ServiceKeyVersionLimitReached":    0x0303800B,
	// The Transit surface's own refusals (issue 16).
	"ServiceKeyNameAmbiguous":      0x0303800C,
	"ServiceKeyDeletionNotAllowed": 0x0303800D,
}

// keyCode returns the error_code of a service key error id: a refusal of
// keyCodes, or a violation (ServiceKey + field + rule). It reports false
// for any other id.
func keyCode(id string) (int32, bool) {
	if c, ok := keyCodes[id]; ok {
		return c, true
	}
	for _, f := range keyFields {
		for _, r := range keyRules {
			if v := (servicekey.Violation{Field: f, Rule: r}); v.ID() == id {
				return violationCode(v), true
			}
		}
	}
	return 0, false
}

// keyFields and keyRules number the violations' error codes: category 2
// (Argument), then 1 + field*8 + rule.
var (
	keyFields = []servicekey.Field{servicekey.FieldRequired, servicekey.FieldID, servicekey.FieldName,
		servicekey.FieldContext, servicekey.FieldType, servicekey.FieldSize, servicekey.FieldCurve,
		servicekey.FieldOperations, servicekey.FieldProtectionLevel, servicekey.FieldKeys,
		servicekey.FieldWrappedKeys, servicekey.FieldKeyFormat, servicekey.FieldWrappingAlgorithm,
		servicekey.FieldDeactivationReason, servicekey.FieldState, servicekey.FieldPlaintext,
		servicekey.FieldCiphertext, servicekey.FieldMessage, servicekey.FieldSignature,
		servicekey.FieldAlgorithm, servicekey.FieldSignatureFormat, servicekey.FieldDataKeySize,
		servicekey.FieldLength, servicekey.FieldTransit}
	keyRules = []servicekey.Rule{servicekey.RuleRequired, servicekey.RuleMinRequired, servicekey.RuleMaxExceeded,
		servicekey.RuleInvalid, servicekey.RuleIncompatible, servicekey.RuleUnsupported}
)

func violationCode(v servicekey.Violation) int32 {
	f, r := len(keyFields), len(keyRules)
	for i, x := range keyFields {
		if x == v.Field {
			f = i
		}
	}
	for i, x := range keyRules {
		if x == v.Rule {
			r = i
		}
	}
	return 0x03032000 | int32(1+f*8+r)
}

// KeyError describes an error of the service key use cases: violations
// (400, every message, the first one's identifier) and the refusals of
// package servicekey. ok is false for any other error, which the
// surface's own table handles.
func KeyError(err error) (KeyWire, bool) {
	if vs, ok := servicekey.AsViolations(err); ok {
		return KeyWire{400, vs[0].ID(), vs.Messages()}, true
	}
	for _, row := range keyTable {
		if errors.Is(err, row.err) {
			return row.wire, true
		}
	}
	return KeyWire{}, false
}

// DecodeBase64 decodes a base64 member of a request (standard encoding,
// padded or not, as the swagger's "format: byte"); what does not decode
// is a violation of field that names the member, never its content.
func DecodeBase64(field servicekey.Field, member, s string) ([]byte, error) {
	b, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, servicekey.Invalid(field, member+" must be base64")
	}
	return b, nil
}

// JWKFields are the members of a JSON Web Key as surfaces A and B carry
// them (base64url strings; absent members empty). Their wire types have
// the same fields in the same order, and convert to it.
type JWKFields struct {
	Kid    string
	Kty    string
	Use    string
	KeyOps []string
	Alg    string
	Crv    string
	N      string
	E      string
	X      string
	Y      string
	K      string
	D      string
	P      string
	Q      string
	DP     string
	DQ     string
	QI     string
}

// ParseJWK decodes an imported JWK (servicekey.ParseJWK); kid, use and alg
// are ignored.
func ParseJWK(j JWKFields) (servicekey.JWK, error) {
	members := map[string]string{}
	for name, v := range map[string]string{"n": j.N, "e": j.E, "x": j.X, "y": j.Y, "k": j.K, "d": j.D,
		"p": j.P, "q": j.Q, "dp": j.DP, "dq": j.DQ, "qi": j.QI} {
		if v != "" {
			members[name] = v
		}
	}
	return servicekey.ParseJWK(j.Kty, j.Crv, j.KeyOps, members)
}

// PublicJWK is the public JWK of a key's latest version as both surfaces
// show it: kid the key id (okms-sdk-go's signer parses it as one), key_ops
// its usages, the public members; a symmetric key shows no material.
func PublicJWK(k *servicekey.Key, p *servicekey.Public) JWKFields {
	enc := base64.RawURLEncoding.EncodeToString
	j := JWKFields{Kid: k.ID, Kty: string(k.Type), KeyOps: UsageNames(k.Usages), Crv: string(p.Crv)}
	if p.N != nil {
		j.N, j.E = enc(p.N), enc(p.E)
	}
	if p.X != nil {
		j.X, j.Y = enc(p.X), enc(p.Y)
	}
	return j
}

// UsageNames returns the usages as the wire spells them, in canonical
// order; never nil.
func UsageNames(u servicekey.Usages) []string {
	l := u.List()
	out := make([]string, len(l))
	for i, x := range l {
		out[i] = string(x)
	}
	return out
}
