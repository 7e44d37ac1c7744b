package policy

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Policy is an IAM policy document in OVHcloud's shape (iam.md 4.1). It has
// no JSON tags: the wire form belongs to the adapter (iamapi), which decodes
// strictly and fills PermissionsGroups and HasConditions from the members
// coffer does not support, so that [Policy.Validate] can refuse them.
//
// A Policy is a plain value; methods never modify it.
type Policy struct {
	ID          string // UUID, set by the server
	Name        string // [A-Za-z0-9_.-]{1,64}, unique per account (checked by the service)
	Description string

	// Identities are the identity URNs the policy applies to, matched
	// exactly (no wildcards).
	Identities []string
	// Resources are resource URN patterns (iam.md 4.2), stored in canonical
	// form ([CanonicalResource]).
	Resources []string
	// Allow, Except and Deny are action patterns: allowed; removed from this
	// policy's allows only; refused whatever other policies allow.
	Allow, Except, Deny []string

	// PermissionsGroups are URNs of OVHcloud's predefined permission sets.
	// Not supported in coffer v1: Validate reports any.
	PermissionsGroups []string
	// HasConditions records that the document carried OVHcloud conditions
	// (a "conditions" member present and not null). Not supported in coffer
	// v1: Validate reports it, because ignoring a restriction would widen
	// access (iam.md 4.1).
	HasConditions bool

	// ExpiredAt, if not nil, is the instant from which the policy no longer
	// applies.
	ExpiredAt *time.Time

	CreatedAt time.Time // set by the server
	UpdatedAt time.Time // set by the server
	ReadOnly  bool      // always false for coffer's policies
	Owner     string    // the account, set by the server
}

// ActiveAt reports whether p applies at now: it has no expiry, or now is
// strictly before ExpiredAt (at ExpiredAt exactly the policy has expired).
func (p Policy) ActiveAt(now time.Time) bool {
	return p.ExpiredAt == nil || now.Before(*p.ExpiredAt)
}

// Canonical returns a copy of p whose resource patterns are in canonical
// form ([CanonicalResource]); patterns that cannot be canonicalised are kept
// as they are (Validate reports them). The copy shares no slice with p.
func (p Policy) Canonical() Policy {
	c := p
	c.Identities = clone(p.Identities)
	c.Resources = make([]string, len(p.Resources))
	for i, r := range p.Resources {
		c.Resources[i] = r
		if cr, err := CanonicalResource(r); err == nil {
			c.Resources[i] = cr
		}
	}
	if p.Resources == nil {
		c.Resources = nil
	}
	c.Allow, c.Except, c.Deny = clone(p.Allow), clone(p.Except), clone(p.Deny)
	c.PermissionsGroups = clone(p.PermissionsGroups)
	if p.ExpiredAt != nil {
		t := *p.ExpiredAt
		c.ExpiredAt = &t
	}
	return c
}

func clone(s []string) []string {
	if s == nil {
		return nil
	}
	return append([]string(nil), s...)
}

// ErrInvalidPolicy is matched by [errors.Is] on the [Problems] returned by
// [Policy.Validate].
var ErrInvalidPolicy = errors.New("policy: invalid policy")

// Field names the member of a policy document a [Problem] is about. Values
// are the JSON member names of iam.md 4.1.
type Field string

// Fields reported in problems.
const (
	FieldName              Field = "name"
	FieldIdentities        Field = "identities"
	FieldResources         Field = "resources"
	FieldPermissions       Field = "permissions"
	FieldAllow             Field = "permissions.allow"
	FieldExcept            Field = "permissions.except"
	FieldDeny              Field = "permissions.deny"
	FieldPermissionsGroups Field = "permissionsGroups"
	FieldConditions        Field = "conditions"
)

// Rule names the rule a [Problem] breaks.
type Rule string

// Rules reported in problems.
const (
	// RuleRequired: the name is empty, or there is no identity, no resource,
	// or no allow or deny pattern.
	RuleRequired Rule = "required"
	// RuleInvalid: the name does not match [A-Za-z0-9_.-]{1,64}; a URN or
	// pattern is malformed, or names the wrong kind of object.
	RuleInvalid Rule = "invalid"
	// RuleWildcard: a "*" elsewhere than at the beginning or end of a
	// pattern, or in an identity (identities are exact).
	RuleWildcard Rule = "wildcard"
	// RuleUnknownAction: an action pattern without wildcard that is not in
	// the catalogue, or with wildcards that matches no action of it.
	RuleUnknownAction Rule = "unknownAction"
	// RuleUnsupported: permissionsGroups, conditions or resource groups,
	// which coffer v1 does not support.
	RuleUnsupported Rule = "unsupported"
)

// Problem is one validation problem of a policy document.
type Problem struct {
	Field Field
	// Index is the position of the offending entry in a list field, or -1
	// when the problem is about the field as a whole.
	Index int
	// Value is the offending entry (a name, URN or action pattern) as
	// given; empty when the problem is about the field as a whole.
	Value string
	Rule  Rule
	// Reason is an optional detail, safe to show.
	Reason string
}

// Error returns the problem as text, e.g.
// `permissions.allow[0] "okms:apikms:secret/update": unknownAction: …`.
func (p Problem) Error() string {
	var b strings.Builder
	b.WriteString(string(p.Field))
	if p.Index >= 0 {
		b.WriteString("[" + strconv.Itoa(p.Index) + "]")
	}
	if p.Value != "" {
		b.WriteString(" " + quoteShort(p.Value))
	}
	b.WriteString(": " + string(p.Rule))
	if p.Reason != "" {
		b.WriteString(": " + p.Reason)
	}
	return b.String()
}

// Problems is every problem of a policy document, in the order of its
// fields. It is the error returned by [Policy.Validate]; recover it with
// [errors.As].
type Problems []Problem

// Error returns every problem, separated by "; ".
func (ps Problems) Error() string {
	msgs := make([]string, len(ps))
	for i, p := range ps {
		msgs[i] = p.Error()
	}
	return "policy: invalid policy: " + strings.Join(msgs, "; ")
}

// Is reports whether target is [ErrInvalidPolicy].
func (ps Problems) Is(target error) bool { return target == ErrInvalidPolicy }

// Validate checks p against iam.md 4.1 and 4.2 and returns every problem at
// once as [Problems], or nil:
//
//   - Name matches [A-Za-z0-9_.-]{1,64} (uniqueness is the service's
//     business);
//   - at least one identity, one resource, and one allow or deny pattern;
//   - every identity is a well-formed identity URN ([ParseURN]), without
//     wildcard;
//   - every resource and action pattern has "*" only at its beginning
//     and/or end;
//   - a resource pattern, once in canonical form ([CanonicalResource]), is
//     checked as far as its wildcards allow: without wildcard it must be a
//     well-formed okms resource URN; with a trailing one only, its fixed
//     part must begin such a URN; with a leading one, its fixed part must
//     use the URN alphabet;
//   - an action pattern without wildcard must be in the catalogue
//     ([KnownAction]); one with wildcards must match at least one action of
//     the catalogue;
//   - PermissionsGroups is empty and HasConditions is false.
//
// Validate does not require p to be canonical: call [Policy.Canonical] to
// obtain the form to store.
func (p Policy) Validate() error {
	var ps Problems
	add := func(f Field, i int, v string, r Rule, reason string) {
		ps = append(ps, Problem{Field: f, Index: i, Value: v, Rule: r, Reason: reason})
	}
	switch {
	case p.Name == "":
		add(FieldName, -1, "", RuleRequired, "")
	case !validPolicyName(p.Name):
		add(FieldName, -1, p.Name, RuleInvalid, "want [A-Za-z0-9_.-]{1,64}")
	}

	if len(p.Identities) == 0 {
		add(FieldIdentities, -1, "", RuleRequired, "at least one identity")
	}
	for i, id := range p.Identities {
		if r, reason := checkIdentity(id); r != "" {
			add(FieldIdentities, i, id, r, reason)
		}
	}

	if len(p.Resources) == 0 {
		add(FieldResources, -1, "", RuleRequired, "at least one resource")
	}
	for i, res := range p.Resources {
		if r, reason := checkResource(res); r != "" {
			add(FieldResources, i, res, r, reason)
		}
	}

	if len(p.Allow) == 0 && len(p.Deny) == 0 {
		add(FieldPermissions, -1, "", RuleRequired, "at least one allow or deny action")
	}
	for _, l := range [...]struct {
		f Field
		s []string
	}{{FieldAllow, p.Allow}, {FieldExcept, p.Except}, {FieldDeny, p.Deny}} {
		for i, a := range l.s {
			if r, reason := checkAction(a); r != "" {
				add(l.f, i, a, r, reason)
			}
		}
	}

	if len(p.PermissionsGroups) > 0 {
		add(FieldPermissionsGroups, -1, "", RuleUnsupported, "permissions groups are not supported")
	}
	if p.HasConditions {
		add(FieldConditions, -1, "", RuleUnsupported, "conditions are not supported")
	}
	if len(ps) == 0 {
		return nil
	}
	return ps
}

// validPolicyName reports whether s matches [A-Za-z0-9_.-]{1,64}.
func validPolicyName(s string) bool {
	if len(s) == 0 || len(s) > maxNameLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !alnum(c) && c != '_' && c != '.' && c != '-' {
			return false
		}
	}
	return true
}

func checkIdentity(s string) (Rule, string) {
	if strings.Contains(s, Wildcard) {
		return RuleWildcard, "identities are exact URNs"
	}
	u, err := ParseURN(s)
	if err != nil {
		return RuleInvalid, urnReason(err)
	}
	if u.Kind != KindIdentity {
		return RuleInvalid, "not an identity URN"
	}
	return "", ""
}

func checkResource(s string) (Rule, string) {
	if s == "" {
		return RuleInvalid, "empty pattern"
	}
	c, err := CanonicalResource(s)
	if err != nil {
		return RuleInvalid, "the secret path must be percent-encoded secret path characters"
	}
	if !wildcardPlacementOK(c) {
		return RuleWildcard, `"*" only at the beginning and/or the end`
	}
	cp := compile(c)
	switch cp.mode {
	case matchAny:
		return "", ""
	case matchExact:
		u, err := ParseURN(c)
		if err != nil {
			return RuleInvalid, urnReason(err)
		}
		switch u.Kind {
		case KindResource:
			return "", ""
		case KindResourceGroup:
			return RuleUnsupported, "resource groups are not supported"
		}
		return RuleInvalid, "not a resource URN"
	case matchPrefix:
		if !resourcePrefixOK(cp.lit) {
			return RuleInvalid, "matches no okms resource URN"
		}
		return "", ""
	}
	if !resourceCharsOK(cp.lit) {
		return RuleInvalid, "invalid character for a URN"
	}
	return "", ""
}

func checkAction(s string) (Rule, string) {
	if s == "" {
		return RuleInvalid, "empty pattern"
	}
	if !wildcardPlacementOK(s) {
		return RuleWildcard, `"*" only at the beginning and/or the end`
	}
	core := strings.Trim(s, Wildcard)
	for i := 0; i < len(core); i++ {
		if !actionChar(core[i]) {
			return RuleInvalid, "invalid character for an action"
		}
	}
	if !strings.Contains(s, Wildcard) {
		if !KnownAction(s) {
			return RuleUnknownAction, "not an action of the catalogue"
		}
		return "", ""
	}
	if !matchesSomeAction(s) {
		return RuleUnknownAction, "matches no action of the catalogue"
	}
	return "", ""
}

func urnReason(err error) string {
	if ue, ok := errors.AsType[*URNError](err); ok {
		return ue.Reason
	}
	return err.Error()
}
