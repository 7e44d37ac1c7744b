package httpapi

import (
	"errors"
	"fmt"

	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Limit describes a write refused by one of the server's limits
// (service.LimitError, reliability-security.md T11) for the error envelopes:
// an error id (DomainSecretLimitReached, DomainVersionLimitReached,
// AccountPolicyLimitReached) and a message naming the limit. ok is false
// for any other error.
func Limit(err error) (id, msg string, ok bool) {
	le, ok := errors.AsType[*service.LimitError](err)
	if !ok {
		return "", "", false
	}
	switch le.What {
	case "secrets":
		id = "DomainSecretLimitReached"
	case "versions":
		id = "DomainVersionLimitReached"
	default:
		id = "AccountPolicyLimitReached"
	}
	return id, fmt.Sprintf("the %s already holds the maximum of %d %s this server allows", le.Scope, le.Limit, le.What), true
}
