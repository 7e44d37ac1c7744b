package secret

import (
	"strconv"
	"strings"
	"time"
)

// MaxDurationSeconds bounds deactivateVersionAfter to 100 years
// (okms-rest.md 2.6).
const MaxDurationSeconds = 100 * 365 * 24 * 3600

// Duration is a deactivation period: a whole number of seconds together
// with the text it was given as, which surfaces A and B echo back unchanged
// ("1d" reads back as "1d", okms-rest.md 2.6). The zero value is "0s", which
// means "not set" at secret level and "never" at domain level. A negative
// value (possible only through the Vault surface, at domain level) disables
// automatic deactivation.
type Duration struct {
	secs int64
	text string
}

// ParseDuration parses the OKMS grammar ^(\d+[dhms])+$ ("30d", "10h30m10s",
// "0s"), d being 24 hours, with a total of at most 100 years.
func ParseDuration(s string) (Duration, error) {
	if s == "" {
		return Duration{}, durationInvalid()
	}
	var total int64
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		if j == i || j == len(s) {
			return Duration{}, durationInvalid()
		}
		// The grammar \d+ allows leading zeros ("007s" is 7s); only the
		// significant digits are bounded, so that ParseInt cannot overflow.
		digits := strings.TrimLeft(s[i:j], "0")
		if digits == "" {
			digits = "0"
		}
		if len(digits) > 12 {
			return Duration{}, durationInvalid()
		}
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil {
			return Duration{}, durationInvalid()
		}
		var unit int64
		switch s[j] {
		case 'd':
			unit = 86400
		case 'h':
			unit = 3600
		case 'm':
			unit = 60
		case 's':
			unit = 1
		default:
			return Duration{}, durationInvalid()
		}
		if n > MaxDurationSeconds/unit {
			return Duration{}, durationInvalid()
		}
		total += n * unit
		if total > MaxDurationSeconds {
			return Duration{}, durationInvalid()
		}
		i = j + 1
	}
	return Duration{secs: total, text: s}, nil
}

func durationInvalid() error {
	return violation(FieldDeactivateVersionAfter, RuleInvalidDuration)
}

// DurationOf returns the Duration of d truncated to whole seconds, its text
// being Go's duration text of that value ("1h0m0s"). Negative values become
// -1s ("disabled"). It reports a violation beyond 100 years.
func DurationOf(d time.Duration) (Duration, error) {
	secs := int64(d / time.Second)
	if secs < 0 {
		return Disabled(), nil
	}
	if secs > MaxDurationSeconds {
		return Duration{}, durationInvalid()
	}
	return Duration{secs: secs, text: (time.Duration(secs) * time.Second).String()}, nil
}

// Disabled returns the negative duration that turns automatic deactivation
// off for a whole domain (Vault's negative delete_version_after).
func Disabled() Duration { return Duration{secs: -1, text: "-1s"} }

// DurationFromStored rebuilds a Duration from its stored parts.
func DurationFromStored(secs int64, text string) Duration {
	return Duration{secs: secs, text: text}
}

// Seconds returns the duration in whole seconds.
func (d Duration) Seconds() int64 { return d.secs }

// Std returns the duration as a [time.Duration].
func (d Duration) Std() time.Duration { return time.Duration(d.secs) * time.Second }

// IsZero reports whether d is zero ("not set").
func (d Duration) IsZero() bool { return d.secs == 0 }

// Text returns the duration as given ("1d"), or "0s" for the zero value.
func (d Duration) Text() string {
	if d.text == "" {
		return "0s"
	}
	return d.text
}

// GoText returns the duration as Go's time.Duration text ("24h0m0s"), the
// form the Vault surface shows.
func (d Duration) GoText() string { return d.Std().String() }
