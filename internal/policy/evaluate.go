package policy

import (
	"slices"
	"time"
)

// Subject is the principal of a request as the evaluator sees it: plain
// values, so that this package does not depend on internal/auth.
type Subject struct {
	// Identities are the identity URNs the request acts as (iam.md 3): a
	// user's URN and its group's, a service account's URN, …
	Identities []string
	// Root is set when the principal contains the account URN: the account
	// root bypasses IAM. The evaluator never infers it from Identities.
	Root bool
	// Admin is set when the principal is a user of a group whose role is
	// ADMIN: such users pass without any policy.
	Admin bool
}

// Reason says why a [Decision] was taken.
type Reason string

// Reasons of decisions, in the order of iam.md 4.3.
const (
	ReasonRoot     Reason = "root"      // allowed: the account root bypasses IAM
	ReasonAdmin    Reason = "admin"     // allowed: a user of an ADMIN group
	ReasonDeny     Reason = "deny"      // denied: a deny pattern of PolicyID matched
	ReasonAllow    Reason = "allow"     // allowed: an allow pattern of PolicyID matched, none of its excepts
	ReasonExcept   Reason = "except"    // denied by default: PolicyID's allow matched but its except removed it, and no other policy allowed
	ReasonNoPolicy Reason = "no-policy" // denied by default: no applicable policy allows the action
)

// Decision is the outcome of one evaluation, with its reason for the audit
// log.
type Decision struct {
	Allowed bool
	Reason  Reason
	// PolicyID and PolicyName identify the policy that decided (ReasonDeny,
	// ReasonAllow) or whose except applied (ReasonExcept); empty otherwise.
	// When several policies qualify, the first in the list given to
	// [NewIndex] is named.
	PolicyID   string
	PolicyName string
}

// String returns a short description for logs, e.g.
// "deny: policy 3f2a… denies" or "deny: no policy".
func (d Decision) String() string {
	verdict := "deny"
	if d.Allowed {
		verdict = "allow"
	}
	switch d.Reason {
	case ReasonRoot:
		return verdict + ": account root"
	case ReasonAdmin:
		return verdict + ": ADMIN group"
	case ReasonDeny:
		return verdict + ": policy " + d.PolicyID + " denies"
	case ReasonAllow:
		return verdict + ": policy " + d.PolicyID + " allows"
	case ReasonExcept:
		return verdict + ": excepted by policy " + d.PolicyID
	}
	return verdict + ": no policy"
}

// Index is a set of policies prepared for evaluation. Policies are grouped
// by identity URN, so that an evaluation looks only at the policies naming
// the subject's identities; patterns are canonicalised and compiled once,
// the catalogue actions each policy matches are precomputed, and an
// identity named by many policies gets its policies indexed by resource
// pattern as well, so that only those covering the resource are examined.
//
// An Index is immutable: it is safe for concurrent use, and a policy change
// is applied by building a new Index and swapping it in, which gives every
// evaluation a consistent snapshot (iam.md 4.3). A nil *Index holds no
// policy.
type Index struct {
	byIdentity map[string]*bucket
	len        int
}

// entry is one compiled policy.
type entry struct {
	pos       int // position in the list given to NewIndex
	id, name  string
	expiredAt time.Time
	expires   bool
	resources []pattern
	allow     actionSet
	except    actionSet
	deny      actionSet
}

// bucket holds the policies naming one identity. Beyond
// indexThreshold policies it also indexes them by resource pattern.
type bucket struct {
	all []*entry // in policy order

	indexed bool
	exact   map[string][]*entry // by literal of exact resource patterns
	prefix  map[string][]*entry // by literal of "literal*" resource patterns
	lengths []int               // distinct lengths of prefix literals, ascending
	other   []*entry            // policies with a "*…" or "*" resource pattern
}

// indexThreshold is the number of policies for one identity above which a
// bucket is indexed by resource: below it, a linear scan is cheaper than
// the map lookups.
const indexThreshold = 16

// actionSet is a list of compiled action patterns with, precomputed, the
// actions of the catalogue they match, so that evaluating a catalogue action
// tests one bit instead of matching patterns.
type actionSet struct {
	known    uint64 // bit k: the patterns match catalogue[k] (k < 64)
	patterns []pattern
}

func newActionSet(ps []string) actionSet {
	var a actionSet
	if len(ps) == 0 {
		return a
	}
	a.patterns = make([]pattern, len(ps))
	for i, p := range ps {
		a.patterns[i] = compile(p)
	}
	for k := 0; k < len(catalogue) && k < 64; k++ {
		if anyMatch(a.patterns, catalogue[k].Name) {
			a.known |= 1 << k
		}
	}
	return a
}

// match reports whether the set matches action, whose catalogue bit is k,
// or -1 if it has none.
func (a *actionSet) match(k int, action string) bool {
	if k >= 0 {
		return a.known&(1<<k) != 0
	}
	return anyMatch(a.patterns, action)
}

// actionBit returns the bit of action in [actionSet.known], or -1 for an
// action outside the catalogue (or beyond its 64th entry).
func actionBit(action string) int {
	if k, ok := actionIndex[action]; ok && k < 64 {
		return k
	}
	return -1
}

// NewIndex builds an Index of policies. It keeps no reference to the slice
// or to the policies. Resource patterns are canonicalised
// ([CanonicalResource]); the policies are otherwise taken as they are,
// without validation: an invalid pattern simply matches nothing it should
// not (a "*" in the middle is an ordinary character), and no policy is
// dropped, so that an invalid deny can never widen access.
func NewIndex(policies []Policy) *Index {
	x := &Index{byIdentity: make(map[string]*bucket), len: len(policies)}
	for i, p := range policies {
		e := &entry{
			pos:    i,
			id:     p.ID,
			name:   p.Name,
			allow:  newActionSet(p.Allow),
			except: newActionSet(p.Except),
			deny:   newActionSet(p.Deny),
		}
		if p.ExpiredAt != nil {
			e.expiredAt, e.expires = *p.ExpiredAt, true
		}
		e.resources = make([]pattern, len(p.Resources))
		for j, r := range p.Resources {
			if c, err := CanonicalResource(r); err == nil {
				r = c
			}
			e.resources[j] = compile(r)
		}
		for _, id := range p.Identities {
			b := x.byIdentity[id]
			if b == nil {
				b = new(bucket)
				x.byIdentity[id] = b
			}
			if n := len(b.all); n > 0 && b.all[n-1] == e {
				continue // the same identity twice in one policy
			}
			b.all = append(b.all, e)
		}
	}
	for _, b := range x.byIdentity {
		if len(b.all) > indexThreshold {
			b.index()
		}
	}
	return x
}

// index fills the resource index of b.
func (b *bucket) index() {
	b.indexed = true
	b.exact = make(map[string][]*entry)
	b.prefix = make(map[string][]*entry)
	add := func(m map[string][]*entry, key string, e *entry) {
		if l := m[key]; len(l) == 0 || l[len(l)-1] != e {
			m[key] = append(l, e)
		}
	}
	for _, e := range b.all {
		isOther := false
		for _, p := range e.resources {
			switch p.mode {
			case matchExact:
				add(b.exact, p.lit, e)
			case matchPrefix:
				add(b.prefix, p.lit, e)
			default:
				isOther = true
			}
		}
		if isOther {
			b.other = append(b.other, e)
		}
	}
	for lit := range b.prefix {
		if n := len(lit); !slices.Contains(b.lengths, n) {
			b.lengths = append(b.lengths, n)
		}
	}
	slices.Sort(b.lengths)
}

// Len returns the number of policies in x.
func (x *Index) Len() int {
	if x == nil {
		return 0
	}
	return x.len
}

// Evaluate decides whether s may perform action on resource at now
// (iam.md 4.3):
//
//  1. the account root and users of an ADMIN group are allowed;
//  2. the applicable policies are those not expired at now (at ExpiredAt
//     exactly a policy has expired), naming one of s.Identities exactly,
//     with a resource pattern covering resource ([Covers]);
//  3. if an applicable policy has a deny pattern matching action: deny;
//  4. if an applicable policy has an allow pattern matching action and no
//     except pattern of the same policy matches it: allow;
//  5. otherwise deny.
//
// action is a full action name and resource a resource URN in canonical
// form, as built by [SecretURN] and [DomainURN]; neither is a pattern.
// Evaluate does not allocate.
func (x *Index) Evaluate(s Subject, action, resource string, now time.Time) Decision {
	if s.Root {
		return Decision{Allowed: true, Reason: ReasonRoot}
	}
	if s.Admin {
		return Decision{Allowed: true, Reason: ReasonAdmin}
	}
	if x == nil {
		return Decision{Reason: ReasonNoPolicy}
	}
	q := query{action: action, k: actionBit(action), resource: resource, now: now}
	q.domain, q.below = DomainOf(resource)
	for _, id := range s.Identities {
		b := x.byIdentity[id]
		if b == nil {
			continue
		}
		if !b.indexed {
			q.consider(b.all, true)
			continue
		}
		// Policies reached through the resource index cover the resource:
		// an exact pattern equal to it or to its domain, or a prefix
		// pattern whose literal begins it (a prefix of the domain URN is a
		// prefix of the resource URN).
		q.consider(b.exact[resource], false)
		if q.below {
			q.consider(b.exact[q.domain], false)
		}
		for _, n := range b.lengths {
			if n > len(resource) {
				break
			}
			q.consider(b.prefix[resource[:n]], false)
		}
		q.consider(b.other, true)
	}
	switch {
	case q.deny != nil:
		return Decision{Reason: ReasonDeny, PolicyID: q.deny.id, PolicyName: q.deny.name}
	case q.allow != nil:
		return Decision{Allowed: true, Reason: ReasonAllow, PolicyID: q.allow.id, PolicyName: q.allow.name}
	case q.except != nil:
		return Decision{Reason: ReasonExcept, PolicyID: q.except.id, PolicyName: q.except.name}
	}
	return Decision{Reason: ReasonNoPolicy}
}

// query is one evaluation in progress: its inputs and the first policy (in
// policy order) found to deny, to allow, and to except.
type query struct {
	action, resource, domain string
	k                        int // catalogue bit of action, or -1
	below                    bool
	now                      time.Time

	deny, allow, except *entry
}

// consider examines candidate policies; checkResource is false when they
// are known to cover the resource. A policy may be examined more than once
// (through several identities or patterns): the outcome does not change.
func (q *query) consider(es []*entry, checkResource bool) {
	for _, e := range es {
		if e.expires && !q.now.Before(e.expiredAt) {
			continue
		}
		denies := e.deny.match(q.k, q.action)
		allows := !denies && e.allow.match(q.k, q.action)
		if !denies && !allows {
			continue
		}
		if checkResource && !e.covers(q.resource, q.domain, q.below) {
			continue
		}
		switch {
		case denies:
			q.deny = first(q.deny, e)
		case e.except.match(q.k, q.action):
			q.except = first(q.except, e)
		default:
			q.allow = first(q.allow, e)
		}
	}
}

// first returns whichever of cur and e comes first in the policy list, so
// that the policy named in a decision does not depend on map or identity
// order.
func first(cur, e *entry) *entry {
	if cur == nil || e.pos < cur.pos {
		return e
	}
	return cur
}

func anyMatch(ps []pattern, s string) bool {
	for _, p := range ps {
		if p.match(s) {
			return true
		}
	}
	return false
}

func (e *entry) covers(resource, domain string, below bool) bool {
	for _, p := range e.resources {
		if p.coversIn(resource, domain, below) {
			return true
		}
	}
	return false
}

// Evaluate decides one action on one resource for s under policies, as
// [Index.Evaluate] does. It builds an Index on each call: callers that take
// many decisions over the same policies should build the Index once.
func Evaluate(policies []Policy, s Subject, action, resource string, now time.Time) Decision {
	if s.Root || s.Admin {
		return (*Index)(nil).Evaluate(s, action, resource, now)
	}
	return NewIndex(policies).Evaluate(s, action, resource, now)
}
