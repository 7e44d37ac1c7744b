package main

import (
	"errors"
	"strconv"

	"github.com/spf13/pflag"

	"github.com/seed-3e8d63de/coffer/internal/service"
)

// limitFlags are the server's optional limits (reliability-security.md
// T11); every one is off unless set. Their values are checked as they are
// set, so that a bad value in the configuration file is reported with its
// line.
type limitFlags struct {
	rate                               count[float64]
	burst, secrets, versions, policies count[int]
}

// register declares the flags.
func (l *limitFlags) register(f *pflag.FlagSet) {
	f.Var(&l.rate, "rate-limit", "requests per second allowed to each identity (a user, with all its tokens, or the root); over it: 429 (default: no limit) (COFFER_RATE_LIMIT)")
	f.Var(&l.burst, "rate-burst", "requests an identity may send at once above --rate-limit (default: one second's worth) (COFFER_RATE_BURST)")
	f.Var(&l.secrets, "max-secrets-per-domain", "secrets one OKMS domain may hold (default: no limit) (COFFER_MAX_SECRETS_PER_DOMAIN)")
	f.Var(&l.versions, "max-versions-per-domain", "versions one OKMS domain may store, all secrets together (default: no limit) (COFFER_MAX_VERSIONS_PER_DOMAIN)")
	f.Var(&l.policies, "max-policies", "IAM policies the account may hold (default: no limit) (COFFER_MAX_POLICIES)")
}

// limitsOf returns the limits set in a flag set where register declared
// them.
func limitsOf(f *pflag.FlagSet) service.Limits {
	n := func(name string) int { return f.Lookup(name).Value.(*count[int]).v }
	return service.Limits{RequestRate: f.Lookup("rate-limit").Value.(*count[float64]).v, RequestBurst: n("rate-burst"),
		SecretsPerDomain: n("max-secrets-per-domain"), VersionsPerDomain: n("max-versions-per-domain"), Policies: n("max-policies")}
}

// count is a flag value that is a number of 0 or more (0: no limit).
type count[T int | float64] struct{ v T }

var errCount = errors.New("want a number of 0 or more, 0 for no limit")

func (c *count[T]) Set(s string) error {
	var v T
	switch p := any(&v).(type) {
	case *int:
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return errCount
		}
		*p = n
	case *float64:
		n, err := strconv.ParseFloat(s, 64)
		if err != nil || n < 0 || n != n {
			return errCount
		}
		*p = n
	}
	c.v = v
	return nil
}

func (c *count[T]) String() string {
	if p, ok := any(c.v).(float64); ok {
		return strconv.FormatFloat(p, 'g', -1, 64)
	}
	return strconv.Itoa(any(c.v).(int))
}

func (c *count[T]) Type() string {
	if _, ok := any(c.v).(float64); ok {
		return "float64"
	}
	return "int"
}
