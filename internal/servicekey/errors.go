package servicekey

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of the domain. None carries an HTTP status: each API
// surface maps them once, in its own error table. Messages name rules,
// never key material, plaintexts or ciphertexts.
var (
	// ErrNotFound: no service key has this id in the domain.
	ErrNotFound = errors.New("servicekey: not found")
	// ErrExists: a key with the requested id already exists.
	ErrExists = errors.New("servicekey: a key with this id already exists")
	// ErrNotActive: the operation needs an active key (encrypt, sign, data
	// key creation, wrapping).
	ErrNotActive = errors.New("servicekey: the key is not active")
	// ErrActive: an active key cannot be deleted; deactivate it first.
	ErrActive = errors.New("servicekey: an active key cannot be deleted; deactivate it first")
	// ErrDestroyed: the key's material was destroyed; only its metadata
	// remains.
	ErrDestroyed = errors.New("servicekey: the key is destroyed")
	// ErrUsage: the operation is not among the key's usages, or the key's
	// type or class cannot do it at all (a public key cannot decrypt).
	ErrUsage = errors.New("servicekey: the operation is not allowed by the key's usages")
	// ErrIncompatible: an algorithm, format or curve does not fit the key
	// (ES256 on an RSA key, PKCS1 for an EC key, an oct transport key).
	ErrIncompatible = errors.New("servicekey: the algorithm or format does not fit the key")
	// ErrNotExtractable: the key's material may not leave the server.
	ErrNotExtractable = errors.New("servicekey: the key is not extractable")
	// ErrCiphertext: a ciphertext, data key blob or wrapped key is
	// malformed, names another key, or fails to decrypt.
	ErrCiphertext = errors.New("servicekey: the ciphertext is invalid or does not decrypt with this key")
	// ErrVersionNotFound: a ciphertext names a version of the key that
	// does not exist or may no longer decrypt (below the minimum
	// decryption version).
	ErrVersionNotFound = errors.New("servicekey: the key version named by the ciphertext is not available")
	// ErrSignature: a signature is not in a form the algorithm accepts (not
	// base64, not a JWS). A well-formed signature that does not match is not
	// an error: verification answers false.
	ErrSignature = errors.New("servicekey: the signature is malformed")
	// ErrTransition: the state change is not possible (reactivating a
	// destroyed key).
	ErrTransition = errors.New("servicekey: invalid state transition")
)

// Field names the input a [Violation] is about. Together with the rule it
// forms the error identifier, "ServiceKey" + Field + Rule (e.g.
// ServiceKeyNameMaxExceeded).
type Field string

// Fields reported in violations.
const (
	FieldID                 Field = "Id"
	FieldName               Field = "Name"
	FieldContext            Field = "Context"
	FieldType               Field = "Type"
	FieldSize               Field = "Size"
	FieldCurve              Field = "Curve"
	FieldOperations         Field = "Operations"
	FieldProtectionLevel    Field = "ProtectionLevel"
	FieldKeys               Field = "Keys"
	FieldWrappedKeys        Field = "WrappedKeys"
	FieldKeyFormat          Field = "KeyFormat"
	FieldWrappingAlgorithm  Field = "WrappingAlgorithm"
	FieldDeactivationReason Field = "DeactivationReason"
	FieldState              Field = "State"
	FieldPlaintext          Field = "Plaintext"
	FieldCiphertext         Field = "Ciphertext"
	FieldMessage            Field = "Message"
	FieldSignature          Field = "Signature"
	FieldAlgorithm          Field = "Algorithm"
	FieldSignatureFormat    Field = "SignatureFormat"
	FieldDataKeySize        Field = "DataKeySize"
	FieldLength             Field = "RandomLength"
	FieldRequired           Field = "Field"
)

// Rule names the rule a [Violation] breaks.
type Rule string

// Rules reported in violations.
const (
	RuleRequired     Rule = "Required"
	RuleMinRequired  Rule = "MinRequired"
	RuleMaxExceeded  Rule = "MaxExceeded"
	RuleInvalid      Rule = "Invalid"
	RuleIncompatible Rule = "Incompatible"
	RuleUnsupported  Rule = "Unsupported"
)

// Violation is one validation problem. It never holds key material or a
// value: Reason says what the rule is, Limit the bound broken.
type Violation struct {
	Field  Field
	Rule   Rule
	Limit  int64  // the limit broken, when there is one
	Reason string // what is wrong, safe to show (never a value)
}

// ID returns the error identifier of v, e.g. "ServiceKeySizeInvalid";
// a missing field is "ServiceKeyFieldRequired".
func (v Violation) ID() string {
	if v.Field == FieldRequired {
		return "ServiceKeyFieldRequired"
	}
	return "ServiceKey" + string(v.Field) + string(v.Rule)
}

// Error returns a message naming the field and the rule.
func (v Violation) Error() string {
	if v.Reason != "" {
		return v.Reason
	}
	name := fieldName[v.Field]
	if name == "" {
		name = strings.ToLower(string(v.Field))
	}
	switch v.Rule {
	case RuleRequired:
		return name + " is required"
	case RuleMinRequired:
		return fmt.Sprintf("%s must be at least %d", name, v.Limit)
	case RuleMaxExceeded:
		return fmt.Sprintf("%s exceeds the maximum of %d", name, v.Limit)
	case RuleIncompatible:
		return name + " does not fit the key type"
	case RuleUnsupported:
		return name + " is not supported"
	}
	return name + " is invalid"
}

var fieldName = map[Field]string{
	FieldID: "id", FieldName: "name", FieldContext: "context", FieldType: "type", FieldSize: "size",
	FieldCurve: "curve", FieldOperations: "operations", FieldProtectionLevel: "protectionLevel",
	FieldKeys: "keys", FieldWrappedKeys: "wrappedKeys", FieldKeyFormat: "keyFormatType",
	FieldWrappingAlgorithm: "wrappingAlgorithm", FieldDeactivationReason: "reason", FieldState: "state",
	FieldPlaintext: "plaintext", FieldCiphertext: "ciphertext", FieldMessage: "message",
	FieldSignature: "signature", FieldAlgorithm: "alg", FieldSignatureFormat: "format",
	FieldDataKeySize: "size", FieldLength: "length",
}

// Violations is a list of validation problems, reported together. It is an
// error; extract it with [AsViolations].
type Violations []Violation

func (vs Violations) Error() string {
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.Error()
	}
	return "servicekey: invalid input: " + strings.Join(msgs, "; ")
}

// Messages returns one message per violation.
func (vs Violations) Messages() []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.Error()
	}
	return out
}

// AsViolations extracts the violations from err, if any.
func AsViolations(err error) (Violations, bool) {
	vs, ok := errors.AsType[Violations](err)
	return vs, ok && len(vs) > 0
}

// Join merges the violations of several errors into one error; nil errors
// are skipped. It returns the first error that is not a Violations as is,
// and nil if there is nothing to report.
func Join(errs ...error) error {
	var vs Violations
	for _, err := range errs {
		if v, ok := err.(Violations); err == nil || ok && len(v) == 0 {
			continue
		}
		v, ok := AsViolations(err)
		if !ok {
			return err
		}
		vs = append(vs, v...)
	}
	if len(vs) == 0 {
		return nil
	}
	return vs
}

func violation(f Field, r Rule, reason string) error {
	return Violations{{Field: f, Rule: r, Reason: reason}}
}

// Required reports a missing field, named as on the wire.
func Required(wireName string) error {
	return Violations{{Field: FieldRequired, Rule: RuleRequired, Reason: fmt.Sprintf("field %q is required", wireName)}}
}

// Invalid reports an invalid value of f with a reason safe to show.
func Invalid(f Field, reason string) error { return violation(f, RuleInvalid, reason) }
