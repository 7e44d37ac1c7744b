package servicekey

import "time"

// State is a key's life-cycle state.
type State uint8

// States (the swagger's KeyStates, pre_active aside: coffer's keys are
// active from creation).
const (
	Active State = iota + 1
	Deactivated
	Compromised
	Destroyed
	DestroyedCompromised
)

var stateNames = map[State]string{
	Active: "active", Deactivated: "deactivated", Compromised: "compromised",
	Destroyed: "destroyed", DestroyedCompromised: "destroyed_compromised",
}

// String returns the state as surface B spells it ("active", …,
// "destroyed_compromised").
func (s State) String() string {
	if n, ok := stateNames[s]; ok {
		return n
	}
	return "unknown"
}

// ParseState parses a state as surface B spells it. It reports false for
// anything else, "pre_active" and "all" included.
func ParseState(s string) (State, bool) {
	for st, n := range stateNames {
		if n == s {
			return st, true
		}
	}
	return 0, false
}

// Destroyed reports whether the key's material is gone.
func (s State) Destroyed() bool { return s == Destroyed || s == DestroyedCompromised }

// Reason is the reason of a deactivation (the swagger's RevocationReasons,
// RFC 5280's revocation reasons).
type Reason string

// Reasons.
const (
	ReasonUnspecified          Reason = "unspecified"
	ReasonKeyCompromise        Reason = "key_compromise"
	ReasonCACompromise         Reason = "ca_compromise"
	ReasonAffiliationChanged   Reason = "affiliation_changed"
	ReasonSuperseded           Reason = "superseded"
	ReasonCessationOfOperation Reason = "cessation_of_operation"
	ReasonPrivilegeWithdrawn   Reason = "privilege_withdrawn"
)

var reasons = []Reason{
	ReasonUnspecified, ReasonKeyCompromise, ReasonCACompromise, ReasonAffiliationChanged,
	ReasonSuperseded, ReasonCessationOfOperation, ReasonPrivilegeWithdrawn,
}

// Reasons returns every reason, in the swagger's order.
func Reasons() []Reason { return append([]Reason(nil), reasons...) }

// ParseReason parses a reason as surface B spells it. An empty reason is
// FieldDeactivationReason Required; an unknown one Invalid.
func ParseReason(s string) (Reason, error) {
	if s == "" {
		return "", Violations{{Field: FieldDeactivationReason, Rule: RuleRequired, Reason: "a deactivation reason is required"}}
	}
	for _, r := range reasons {
		if string(r) == s {
			return r, nil
		}
	}
	return "", Invalid(FieldDeactivationReason, "reason must be one of unspecified, key_compromise, ca_compromise, "+
		"affiliation_changed, superseded, cessation_of_operation, privilege_withdrawn")
}

// Compromise reports whether a deactivation for r marks the key
// compromised.
func (r Reason) Compromise() bool { return r == ReasonKeyCompromise || r == ReasonCACompromise }

// Activate makes the key active again and clears its compromise date. An
// active key stays as it is (changed false). A destroyed key cannot come
// back: ErrTransition.
func (k *Key) Activate(now time.Time) (changed bool, err error) {
	switch k.State {
	case Active:
		return false, nil
	case Deactivated, Compromised:
		k.State, k.ActivatedAt = Active, now
		k.DeactivatedAt, k.CompromisedAt = time.Time{}, time.Time{}
		return true, nil
	}
	return false, ErrTransition
}

// Deactivate deactivates the key for reason. A compromise reason marks it
// compromised (from active or deactivated) and sets its compromise date; a
// compromised key stays compromised, and keeps its compromise reason
// unless the new one is also a compromise. The deactivation
// date is that of the first deactivation since the key was last active. A
// destroyed key: ErrTransition.
func (k *Key) Deactivate(reason Reason, now time.Time) (changed bool, err error) {
	if k.State.Destroyed() {
		return false, ErrTransition
	}
	if k.State == Compromised && !reason.Compromise() {
		return false, nil
	}
	before := *k
	if k.State == Active {
		k.DeactivatedAt = now
	}
	k.Reason = reason
	switch {
	case k.State == Compromised:
	case reason.Compromise():
		k.State, k.CompromisedAt = Compromised, now
	default:
		k.State = Deactivated
	}
	return k.State != before.State || k.Reason != before.Reason, nil
}

// Destroy marks the key destroyed; the caller deletes its material. An
// active key must be deactivated first (ErrActive); destroying a destroyed
// key changes nothing.
func (k *Key) Destroy(now time.Time) (changed bool, err error) {
	switch k.State {
	case Active:
		return false, ErrActive
	case Deactivated:
		k.State = Destroyed
	case Compromised:
		k.State = DestroyedCompromised
	default:
		return false, nil
	}
	k.DestroyedAt = now
	k.Versions = nil
	return true, nil
}

// Operation is something done with a key's material.
type Operation uint8

// Operations, checked by [Key.Permit].
const (
	OpEncrypt        Operation = iota + 1 // encrypt with the latest version
	OpDecrypt                             // decrypt with the version the ciphertext names
	OpSign                                // sign with the latest version
	OpVerify                              // verify with any available version
	OpDataKeyCreate                       // make a data key wrapped by the latest version
	OpDataKeyDecrypt                      // unwrap a data key
	OpWrap                                // be the transport key of a wrapped export
	OpUnwrap                              // be the transport key of a wrapped import
)

// permit says, for each operation, the usages that allow it (any of
// them), the types that can do it, whether it needs private or secret
// material, and whether the key must be active (otherwise a deactivated
// or compromised key may still do it).
var permit = map[Operation]struct {
	usages      Usages
	types       []Type
	private     bool
	needsActive bool
}{
	OpEncrypt:        {UsagesOf(Encrypt), []Type{Oct, RSA}, false, true},
	OpDecrypt:        {UsagesOf(Decrypt), []Type{Oct, RSA}, true, false},
	OpSign:           {UsagesOf(Sign), []Type{RSA, EC}, true, true},
	OpVerify:         {UsagesOf(Verify), []Type{RSA, EC}, false, false},
	OpDataKeyCreate:  {UsagesOf(Encrypt, WrapKey), []Type{Oct, RSA}, false, true},
	OpDataKeyDecrypt: {UsagesOf(Decrypt, UnwrapKey), []Type{Oct, RSA}, true, false},
	OpWrap:           {UsagesOf(WrapKey), []Type{RSA}, false, true},
	OpUnwrap:         {UsagesOf(UnwrapKey), []Type{RSA}, true, false},
}

// Permit checks that the key may do op now: not destroyed (ErrDestroyed),
// a type that can do it (ErrIncompatible: RSA-OAEP wrapping needs an RSA
// key), a usage that allows it and material to do it with (ErrUsage: a
// public key cannot decrypt), and an active state for the operations that
// make something new (ErrNotActive).
func (k *Key) Permit(op Operation) error {
	p, ok := permit[op]
	switch {
	case !ok:
		return ErrUsage
	case k.State.Destroyed():
		return ErrDestroyed
	case !typeIn(k.Type, p.types):
		return ErrIncompatible
	case k.Usages&p.usages == 0, p.private && k.Class == PublicKey:
		return ErrUsage
	case p.needsActive && k.State != Active:
		return ErrNotActive
	}
	return nil
}

func typeIn(t Type, ts []Type) bool {
	for _, x := range ts {
		if x == t {
			return true
		}
	}
	return false
}
