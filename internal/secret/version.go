package secret

import (
	"time"
)

// State is the state of a version (okms-rest.md 2.3).
type State uint8

// Version states. The zero State is invalid.
const (
	// Active: the value can be read.
	Active State = iota + 1
	// Deactivated: the value is kept but cannot be read until reactivated.
	Deactivated
	// Deleted: the value is destroyed for good; the state is final.
	Deleted
)

// String returns the surface-B name of s ("active", "deactivated",
// "deleted").
func (s State) String() string {
	switch s {
	case Active:
		return "active"
	case Deactivated:
		return "deactivated"
	case Deleted:
		return "deleted"
	}
	return "invalid"
}

// ParseState parses a surface-B state name. Anything else is a violation of
// [FieldState].
func ParseState(s string) (State, error) {
	switch s {
	case "active":
		return Active, nil
	case "deactivated":
		return Deactivated, nil
	case "deleted":
		return Deleted, nil
	}
	return 0, violation(FieldState, RuleInvalid)
}

// transitions lists, for each state, the states it may move to
// (okms-rest.md 3.4).
var transitions = map[State][]State{
	Active:      {Active, Deactivated, Deleted},
	Deactivated: {Active, Deactivated, Deleted},
	Deleted:     {Deleted}, // terminal: the data is destroyed
}

// Transition reports whether a version may move from one state to another;
// it returns [ErrTransition] if not.
func Transition(from, to State) error {
	for _, s := range transitions[from] {
		if s == to {
			return nil
		}
	}
	return ErrTransition
}

// Version is one version of a secret, as stored in the secret's version
// index. Its data is stored apart.
type Version struct {
	ID        uint32
	State     State
	CreatedAt time.Time
	// DeactivatedAt is when the version was deactivated; zero while it has
	// never been. It is kept when the version is later deleted.
	DeactivatedAt time.Time
	// DeactivateAt is the scheduled automatic deactivation; zero if none.
	DeactivateAt time.Time
}

// At returns the version as it stands at now: an active version whose
// schedule has passed is reported deactivated since its scheduled time
// (okms-rest.md 3.5: deactivation is evaluated when the version is read).
func (v Version) At(now time.Time) Version {
	if v.State == Active && !v.DeactivateAt.IsZero() && !now.Before(v.DeactivateAt) {
		v.State = Deactivated
		v.DeactivatedAt = v.DeactivateAt
	}
	return v
}

// DeletionTime is the time the Vault surface shows as deletion_time: the
// deactivation time once deactivated (or deleted after a deactivation),
// else the scheduled deactivation, else zero (vault-kv2.md section 3).
func (v Version) DeletionTime() time.Time {
	if !v.DeactivatedAt.IsZero() {
		return v.DeactivatedAt
	}
	return v.DeactivateAt
}

func schedule(base time.Time, eff Effective) time.Time {
	if eff.DeactivateAfter <= 0 {
		return time.Time{}
	}
	return base.Add(eff.DeactivateAfter)
}
