package wiretest

import (
	"fmt"
	"strings"
)

// The case lists below are rules of okms-rest.md that surfaces A and B
// share; each surface appends its own cases to them. setup, target and
// body make a valid request; the errors are named in the surface's
// vocabulary; a golden name "" pins nothing.

// TokenCases are the bearer-token cases of okms-rest.md 1: token as
// Authorization: Bearer, in either case of the scheme, answered with ok;
// no token, a wrong one and basic credentials refused with 401 and
// unauthenticated (the first pinned in goldenNoToken).
func TokenCases[E any](setup func(E), target, body string, ok int, token, unauthenticated, goldenNoToken string) []Case[E] {
	return []Case[E]{
		{Name: fmt.Sprintf("%d/Authorization: Bearer token", ok), Setup: setup, Target: target, Body: body, Status: ok},
		{Name: fmt.Sprintf("%d/lower-case bearer scheme", ok), Setup: setup, Target: target, Body: body, Status: ok,
			Header: map[string]string{"Authorization": "bearer " + token}},
		{Name: "401/no token", Setup: setup, Target: target, Body: body, Status: 401, Err: unauthenticated,
			Header: map[string]string{"Authorization": ""}, Golden: goldenNoToken},
		{Name: "401/wrong bearer token", Setup: setup, Target: target, Body: body, Status: 401, Err: unauthenticated,
			Header: map[string]string{"Authorization": "Bearer not-the-root-token"}},
		{Name: "401/basic credentials", Setup: setup, Target: target, Body: body, Status: 401, Err: unauthenticated,
			Header: map[string]string{"Authorization": "Basic cm9vdDpyb290"}},
	}
}

// DomainCases are the okmsId cases of okms-rest.md 1: a malformed okmsId
// without a token is refused with 401 and unauthenticated (authentication
// comes first); a malformed one and unknown, a well-formed okmsId no
// domain has, with 404 and notFound (the first pinned in goldenNotFound).
func DomainCases[E any](setup func(E), target, body, unauthenticated, notFound, goldenNotFound, unknown string) []Case[E] {
	return []Case[E]{
		{Name: "401/malformed okmsId without a token", Setup: setup, Target: target, Body: body, Status: 401,
			Err: unauthenticated, Domain: "not-a-uuid", Header: map[string]string{"Authorization": ""}},
		{Name: "404/malformed okmsId", Setup: setup, Target: target, Body: body, Status: 404, Err: notFound,
			Domain: "not-a-uuid", Golden: goldenNotFound},
		{Name: "404/unknown okmsId", Setup: setup, Target: target, Body: body, Status: 404, Err: notFound,
			Domain: unknown},
	}
}

// BodyCases are the body cases of okms-rest.md 1.1: bodies that are not
// one acceptable JSON object, refused with 400 and invalid (the first
// pinned in goldenInvalid), or over 1 MiB, with 413 and tooLarge (the
// first pinned in goldenTooLarge).
func BodyCases[E any](setup func(E), target, invalid, goldenInvalid, tooLarge, goldenTooLarge string) []Case[E] {
	huge := `{"pad":"` + strings.Repeat("x", 1<<20) + `"}`
	return []Case[E]{
		{Name: "400/invalid JSON", Setup: setup, Target: target, Body: `{"a":`, Status: 400, Err: invalid, Golden: goldenInvalid},
		{Name: "400/empty body", Setup: setup, Target: target, Status: 400, Err: invalid},
		{Name: "400/body is an array", Setup: setup, Target: target, Body: `[{}]`, Status: 400, Err: invalid},
		{Name: "400/duplicate member name in the body", Setup: setup, Target: target, Body: `{"x":1,"x":2}`, Status: 400, Err: invalid},
		{Name: "400/form-encoded body", Setup: setup, Target: target, Body: "path=a&data=b", Status: 400, Err: invalid,
			Header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}},
		{Name: "413/body over 1 MiB", Setup: setup, Target: target, Body: huge, Status: 413, Err: tooLarge, Golden: goldenTooLarge},
		{Name: "413/chunked body over 1 MiB", Setup: setup, Target: target, Body: huge, Chunked: true, Status: 413, Err: tooLarge},
	}
}
