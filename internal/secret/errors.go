package secret

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of the domain. None of them carries an HTTP status: each
// API surface maps them once, in its own error table.
var (
	// ErrNotFound: the secret does not exist.
	ErrNotFound = errors.New("secret: not found")
	// ErrVersionNotFound: the version never existed or was pruned.
	ErrVersionNotFound = errors.New("secret: version not found")
	// ErrExists: a secret already exists at the path being created.
	ErrExists = errors.New("secret: already exists")
	// ErrCASRequired: check-and-set is required and no cas was given.
	ErrCASRequired = errors.New("secret: cas parameter required for this call")
	// ErrCASMismatch: the cas given is not the current version.
	ErrCASMismatch = errors.New("secret: cas parameter did not match the current version")
	// ErrTransition: the requested state change is not allowed (a deleted
	// version is final).
	ErrTransition = errors.New("secret: invalid version state transition")
	// ErrVersionLimit: the secret has reached the highest version id.
	ErrVersionLimit = errors.New("secret: the secret has reached the maximum version number 24000")
	// ErrVersionInactive: the version exists but is deactivated or deleted,
	// so its data cannot be read or patched.
	ErrVersionInactive = errors.New("secret: version is not active")
)

// Field names the input a [Violation] is about. Values are the OKMS field
// names, which adapters use to build error identifiers.
type Field string

// Fields reported in violations.
const (
	FieldPath                   Field = "Path"
	FieldData                   Field = "Data"
	FieldCustomMetadata         Field = "CustomMetadata"
	FieldDeactivateVersionAfter Field = "DeactivateVersionAfter"
	FieldMaxVersions            Field = "MaxVersions"
	FieldVersion                Field = "Version"
	FieldCAS                    Field = "Cas"
	FieldState                  Field = "VersionState"
	FieldRequired               Field = "Field"
)

// Rule names the rule a [Violation] breaks.
type Rule string

// Rules reported in violations. Together with the field they form the OKMS
// error identifier ("Secret" + Field + Rule, e.g. SecretPathInvalidCharacter).
const (
	RuleRequired              Rule = "Required"
	RuleInvalidCharacter      Rule = "InvalidCharacter"
	RuleMaxExceeded           Rule = "MaxExceeded"
	RuleMinRequired           Rule = "MinRequired"
	RuleInvalidJSON           Rule = "InvalidKeyValueJson"
	RuleInvalidDuration       Rule = "InvalidDuration"
	RuleInvalid               Rule = "Invalid"
	RuleKeyInvalidCharacter   Rule = "KeyInvalidCharacter"
	RuleKeyMaxExceeded        Rule = "KeyMaxExceeded"
	RuleKeyMinRequired        Rule = "KeyMinRequired"
	RuleValueInvalidCharacter Rule = "ValueInvalidCharacter"
	RuleValueMaxExceeded      Rule = "ValueMaxExceeded"
	RuleValueMinRequired      Rule = "ValueMinRequired"
)

// Violation is one validation problem. It never holds a secret value: Key is
// a custom-metadata key or a field name, Got a size or a count.
type Violation struct {
	Field  Field
	Rule   Rule
	Key    string // custom-metadata key, or the name of a missing field
	Limit  int64  // the limit broken, when there is one
	Got    int64  // the size or count found, when meaningful
	Reason string // extra detail safe to show (never a value)
}

// ID returns the OKMS error identifier of v, e.g. "SecretPathInvalidCharacter".
func (v Violation) ID() string {
	if v.Field == FieldRequired {
		return "SecretFieldRequired"
	}
	return "Secret" + string(v.Field) + string(v.Rule)
}

// Error returns a message in OKMS wording that names the field and the limit
// but never a value.
func (v Violation) Error() string {
	switch v.Field {
	case FieldRequired:
		return fmt.Sprintf("field %q is required", v.Key)
	case FieldPath:
		switch v.Rule {
		case RuleMaxExceeded:
			return fmt.Sprintf("path is %d characters long, the maximum is %d", v.Got, v.Limit)
		default:
			return "path is invalid: " + v.Reason
		}
	case FieldData:
		switch v.Rule {
		case RuleMaxExceeded:
			return fmt.Sprintf("data is %d bytes of compact JSON, the maximum is %d", v.Got, v.Limit)
		default:
			return "data must be a JSON object: " + v.Reason
		}
	case FieldCustomMetadata:
		switch v.Rule {
		case RuleMaxExceeded:
			return fmt.Sprintf("custom metadata has %d entries, the maximum is %d", v.Got, v.Limit)
		case RuleKeyMinRequired:
			return "custom metadata key must not be empty"
		case RuleKeyMaxExceeded:
			return fmt.Sprintf("custom metadata key %q is %d characters long, the maximum is %d", v.Key, v.Got, v.Limit)
		case RuleKeyInvalidCharacter:
			return fmt.Sprintf("custom metadata key %q contains characters outside [A-Za-z0-9_.:/=@%%-]", v.Key)
		case RuleValueMinRequired:
			return fmt.Sprintf("custom metadata value for key %q must not be empty", v.Key)
		case RuleValueMaxExceeded:
			return fmt.Sprintf("custom metadata value for key %q is %d characters long, the maximum is %d", v.Key, v.Got, v.Limit)
		case RuleValueInvalidCharacter:
			return fmt.Sprintf("custom metadata value for key %q contains characters outside [A-Za-z0-9_.:/=@%%-]", v.Key)
		}
	case FieldDeactivateVersionAfter:
		return "deactivateVersionAfter must be a duration such as 30d, 12h or 1h30m (units d, h, m, s), at most 100 years"
	case FieldMaxVersions:
		return fmt.Sprintf("maxVersions must be between 0 and %d", MaxVersionID)
	case FieldVersion:
		return fmt.Sprintf("version must be between 1 and %d", MaxVersionID)
	case FieldCAS:
		return fmt.Sprintf("cas must be between 0 and %d", MaxVersionID)
	case FieldState:
		return "state must be one of active, deactivated, deleted"
	}
	return strings.ToLower(string(v.Field)) + " is invalid"
}

// Violations is a list of validation problems, reported together. It is an
// error; extract it with [errors.As].
type Violations []Violation

func (vs Violations) Error() string {
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.Error()
	}
	return "secret: invalid input: " + strings.Join(msgs, "; ")
}

// Messages returns one message per violation.
func (vs Violations) Messages() []string {
	msgs := make([]string, len(vs))
	for i, v := range vs {
		msgs[i] = v.Error()
	}
	return msgs
}

// AsViolations returns the violations carried by err, if any.
func AsViolations(err error) (Violations, bool) {
	var vs Violations
	if errors.As(err, &vs) {
		return vs, true
	}
	var v Violation
	if errors.As(err, &v) {
		return Violations{v}, true
	}
	return nil, false
}

func violation(f Field, r Rule) Violations { return Violations{{Field: f, Rule: r}} }

// Required returns the violation for a missing required field.
func Required(field string) error { return Violations{{Field: FieldRequired, Key: field}} }
