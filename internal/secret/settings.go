package secret

import "time"

// Limits on version ids, maxVersions and cas (okms-rest.md 2.9).
const (
	MaxVersionID       = 24000
	DefaultMaxVersions = 10
)

// Settings are a secret's own settings. Zero values mean "use the domain's
// configuration" (okms-rest.md 2.5).
type Settings struct {
	CASRequired     bool
	MaxVersions     uint32
	DeactivateAfter Duration
}

// Config is a domain's secret configuration (secretConfig, and the Vault
// mount config). MaxVersions 0 means the built-in default of 10;
// DeactivateAfter zero means never, negative disables deactivation for every
// secret of the domain.
type Config struct {
	CASRequired     bool
	MaxVersions     uint32
	DeactivateAfter Duration
}

// DefaultConfig is the configuration of a new domain, the region default of
// okms-rest.md 2.5.
func DefaultConfig() Config { return Config{MaxVersions: DefaultMaxVersions} }

// ConfigUpdate changes the fields that are not nil.
type ConfigUpdate struct {
	CASRequired     *bool
	MaxVersions     *uint32
	DeactivateAfter *Duration
}

// IsEmpty reports whether u changes nothing.
func (u ConfigUpdate) IsEmpty() bool {
	return u.CASRequired == nil && u.MaxVersions == nil && u.DeactivateAfter == nil
}

// Apply returns c with u applied.
func (c Config) Apply(u ConfigUpdate) Config {
	if u.CASRequired != nil {
		c.CASRequired = *u.CASRequired
	}
	if u.MaxVersions != nil {
		c.MaxVersions = *u.MaxVersions
	}
	if u.DeactivateAfter != nil {
		c.DeactivateAfter = *u.DeactivateAfter
	}
	return c
}

// Effective are the settings that apply to a secret once its own settings,
// its domain's configuration and the defaults are combined.
type Effective struct {
	CASRequired bool
	MaxVersions uint32
	// DeactivateAfter is the deactivation period of new versions; zero
	// means versions are never deactivated automatically.
	DeactivateAfter time.Duration
}

// EffectiveSettings combines a secret's settings with its domain's
// configuration (okms-rest.md 2.5): CAS if either requires it; the secret's
// non-zero maxVersions, else the domain's, else 10; the secret's non-zero
// deactivation period, else the domain's, else never — and never at all
// when the domain's is negative.
func EffectiveSettings(cfg Config, s Settings) Effective {
	e := Effective{CASRequired: s.CASRequired || cfg.CASRequired}
	switch {
	case s.MaxVersions != 0:
		e.MaxVersions = s.MaxVersions
	case cfg.MaxVersions != 0:
		e.MaxVersions = cfg.MaxVersions
	default:
		e.MaxVersions = DefaultMaxVersions
	}
	switch {
	case cfg.DeactivateAfter.Seconds() < 0:
		// vault-kv2.md 4.1: a negative mount value disables scheduling.
	case s.DeactivateAfter.Seconds() > 0:
		e.DeactivateAfter = s.DeactivateAfter.Std()
	case cfg.DeactivateAfter.Seconds() > 0:
		e.DeactivateAfter = cfg.DeactivateAfter.Std()
	}
	return e
}

// ParseMaxVersions validates a maxVersions value (0..24000).
func ParseMaxVersions(n int64) (uint32, error) {
	switch {
	case n < 0:
		return 0, violation(FieldMaxVersions, RuleMinRequired)
	case n > MaxVersionID:
		return 0, violation(FieldMaxVersions, RuleMaxExceeded)
	}
	return uint32(n), nil
}

// ParseVersionID validates a version id (1..24000).
func ParseVersionID(n int64) (uint32, error) {
	switch {
	case n < 1:
		return 0, violation(FieldVersion, RuleMinRequired)
	case n > MaxVersionID:
		return 0, violation(FieldVersion, RuleMaxExceeded)
	}
	return uint32(n), nil
}

// ParseCAS validates a cas value (0..24000).
func ParseCAS(n int64) (uint32, error) {
	switch {
	case n < 0:
		return 0, violation(FieldCAS, RuleMinRequired)
	case n > MaxVersionID:
		return 0, violation(FieldCAS, RuleMaxExceeded)
	}
	return uint32(n), nil
}

// CheckCAS applies check-and-set (okms-rest.md 3.3, vault-kv2.md 5.2): a
// given cas must equal the current version (0 means "no version yet");
// without one, the call fails when CAS is required.
func CheckCAS(required bool, cas *uint32, current uint32) error {
	if cas == nil {
		if required {
			return ErrCASRequired
		}
		return nil
	}
	if *cas != current {
		return ErrCASMismatch
	}
	return nil
}
