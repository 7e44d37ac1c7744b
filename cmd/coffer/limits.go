package main

import (
	"fmt"
	"strconv"

	"github.com/seed-3e8d63de/coffer/internal/service"
)

// limitFlags are the server's optional limits (reliability-security.md
// T11), as given on the command line or in the environment; every one is
// off unless set.
type limitFlags struct {
	rate, burst, secrets, versions, policies string
}

// register declares the flags with the server command's envString.
func (l *limitFlags) register(envString func(p *string, name, envName, usage string)) {
	envString(&l.rate, "rate-limit", "COFFER_RATE_LIMIT", "requests per second allowed to each identity (a user, with all its tokens, or the root); over it: 429 (default: no limit)")
	envString(&l.burst, "rate-burst", "COFFER_RATE_BURST", "requests an identity may send at once above --rate-limit (default: one second's worth)")
	envString(&l.secrets, "max-secrets-per-domain", "COFFER_MAX_SECRETS_PER_DOMAIN", "secrets one OKMS domain may hold (default: no limit)")
	envString(&l.versions, "max-versions-per-domain", "COFFER_MAX_VERSIONS_PER_DOMAIN", "versions one OKMS domain may store, all secrets together (default: no limit)")
	envString(&l.policies, "max-policies", "COFFER_MAX_POLICIES", "IAM policies the account may hold (default: no limit)")
}

// parse converts the flags into out.
func (l *limitFlags) parse(out *service.Limits) error {
	if l.rate != "" {
		r, err := strconv.ParseFloat(l.rate, 64)
		if err != nil || r < 0 {
			return fmt.Errorf("--rate-limit %q: want a number of requests per second, 0 for none", l.rate)
		}
		out.RequestRate = r
	}
	for _, f := range []struct {
		name, v string
		p       *int
	}{
		{"--rate-burst", l.burst, &out.RequestBurst},
		{"--max-secrets-per-domain", l.secrets, &out.SecretsPerDomain},
		{"--max-versions-per-domain", l.versions, &out.VersionsPerDomain},
		{"--max-policies", l.policies, &out.Policies},
	} {
		if f.v == "" {
			continue
		}
		n, err := strconv.Atoi(f.v)
		if err != nil || n < 0 {
			return fmt.Errorf("%s %q: want a whole number, 0 for no limit", f.name, f.v)
		}
		*f.p = n
	}
	return nil
}
