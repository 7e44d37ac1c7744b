package policy

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

var (
	t0      = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	alice   = UserURN("eu", "coffer", "alice")
	bob     = UserURN("eu", "coffer", "bob")
	ops     = GroupURN("eu", "coffer", "ops")
	eso     = ServiceAccountURN("eu", "coffer", testClient)
	domURN  = DomainURN("eu", testDomain)
	dom2URN = DomainURN("eu", otherDomain)
)

func sec(esc string) string { return SecretURN("eu", testDomain, esc) }

func kms(suffix string) string  { return NamespaceKMS + suffix }
func ovh(suffix string) string  { return NamespaceCentral + suffix }
func at(t time.Time) *time.Time { return &t }

// pol builds a policy for the evaluation tables.
func pol(id string, identities, resources, allow, except, deny []string) Policy {
	return Policy{ID: id, Name: "p-" + id, Identities: identities, Resources: resources, Allow: allow, Except: except, Deny: deny}
}

func l(s ...string) []string { return s }

func TestEvaluate(t *testing.T) {
	t.Parallel()
	reader := pol("reader", l(alice), l(sec("prod%2F*")), l(kms(SecretGet), kms(SecretVersionGetData)), nil, nil)
	type want struct {
		allowed bool
		reason  Reason
		policy  string
	}
	tests := []struct {
		name     string
		policies []Policy
		subject  Subject
		action   string
		resource string
		now      time.Time // t0 if zero
		want     want
	}{
		{"default deny/no policies", nil, Subject{Identities: l(alice)}, kms(SecretGet), sec("a"), time.Time{},
			want{false, ReasonNoPolicy, ""}},
		{"default deny/empty subject", []Policy{reader}, Subject{}, kms(SecretGet), sec("prod%2Fdb"), time.Time{},
			want{false, ReasonNoPolicy, ""}},
		{"default deny/other identity", []Policy{reader}, Subject{Identities: l(bob)}, kms(SecretGet), sec("prod%2Fdb"), time.Time{},
			want{false, ReasonNoPolicy, ""}},
		{"default deny/other action", []Policy{reader}, Subject{Identities: l(alice)}, kms(SecretDelete), sec("prod%2Fdb"), time.Time{},
			want{false, ReasonNoPolicy, ""}},
		{"default deny/other resource", []Policy{reader}, Subject{Identities: l(alice)}, kms(SecretGet), sec("dev%2Fdb"), time.Time{},
			want{false, ReasonNoPolicy, ""}},
		{"allow", []Policy{reader}, Subject{Identities: l(alice)}, kms(SecretVersionGetData), sec("prod%2Fdb"), time.Time{},
			want{true, ReasonAllow, "reader"}},

		{"identity/group grants its users", []Policy{pol("g", l(ops), l(domURN), l(kms(SecretGet)), nil, nil)},
			Subject{Identities: l(alice, ops)}, kms(SecretGet), sec("x"), time.Time{}, want{true, ReasonAllow, "g"}},
		{"identity/group policy not for users outside it", []Policy{pol("g", l(ops), l(domURN), l(kms(SecretGet)), nil, nil)},
			Subject{Identities: l(bob)}, kms(SecretGet), sec("x"), time.Time{}, want{false, ReasonNoPolicy, ""}},
		{"identity/one of several identities", []Policy{pol("p", l(bob, eso), l(domURN), l(kms(SecretGet)), nil, nil)},
			Subject{Identities: l(eso)}, kms(SecretGet), sec("x"), time.Time{}, want{true, ReasonAllow, "p"}},
		{"identity/exact match, no prefix", []Policy{pol("p", l(UserURN("eu", "coffer", "ali")), l(domURN), l("*"), nil, nil)},
			Subject{Identities: l(alice)}, kms(SecretGet), sec("x"), time.Time{}, want{false, ReasonNoPolicy, ""}},
		{"identity/pattern-looking identity is literal", []Policy{pol("p", l("urn:v1:eu:identity:user:coffer/*"), l(domURN), l("*"), nil, nil)},
			Subject{Identities: l(alice)}, kms(SecretGet), sec("x"), time.Time{}, want{false, ReasonNoPolicy, ""}},

		{"except/limited to its own policy", []Policy{
			pol("all-but-delete", l(alice), l(domURN), l(kms("*")), l(kms(SecretDelete)), nil),
			pol("delete", l(alice), l(sec("tmp%2F*")), l(kms(SecretDelete)), nil, nil),
		}, Subject{Identities: l(alice)}, kms(SecretDelete), sec("tmp%2Fx"), time.Time{}, want{true, ReasonAllow, "delete"}},
		{"except/removes its policy's allow", []Policy{
			pol("all-but-delete", l(alice), l(domURN), l(kms("*")), l(kms(SecretDelete)), nil),
			pol("delete", l(alice), l(sec("tmp%2F*")), l(kms(SecretDelete)), nil, nil),
		}, Subject{Identities: l(alice)}, kms(SecretDelete), sec("prod%2Fx"), time.Time{}, want{false, ReasonExcept, "all-but-delete"}},
		{"except/other actions still allowed", []Policy{
			pol("all-but-delete", l(alice), l(domURN), l(kms("*")), l(kms(SecretDelete)), nil),
		}, Subject{Identities: l(alice)}, kms(SecretCreate), sec("prod%2Fx"), time.Time{}, want{true, ReasonAllow, "all-but-delete"}},
		{"except/wildcard except", []Policy{
			pol("no-versions", l(alice), l(domURN), l("*"), l("*secret/version/*"), nil),
		}, Subject{Identities: l(alice)}, kms(SecretVersionGetData), sec("x"), time.Time{}, want{false, ReasonExcept, "no-versions"}},

		{"deny/across policies wins", []Policy{
			pol("allow", l(alice), l(domURN), l(kms("*")), nil, nil),
			pol("deny", l(ops), l(sec("prod%2F*")), nil, nil, l(kms(SecretVersionGetData))),
		}, Subject{Identities: l(alice, ops)}, kms(SecretVersionGetData), sec("prod%2Fdb"), time.Time{}, want{false, ReasonDeny, "deny"}},
		{"deny/only where its resource covers", []Policy{
			pol("allow", l(alice), l(domURN), l(kms("*")), nil, nil),
			pol("deny", l(ops), l(sec("prod%2F*")), nil, nil, l(kms(SecretVersionGetData))),
		}, Subject{Identities: l(alice, ops)}, kms(SecretVersionGetData), sec("dev%2Fdb"), time.Time{}, want{true, ReasonAllow, "allow"}},
		{"deny/within the same policy", []Policy{
			pol("both", l(alice), l(domURN), l(kms("*")), nil, l(kms(SecretDelete))),
		}, Subject{Identities: l(alice)}, kms(SecretDelete), sec("x"), time.Time{}, want{false, ReasonDeny, "both"}},
		{"deny/is not undone by except", []Policy{
			pol("d", l(alice), l(domURN), nil, l(kms(SecretDelete)), l(kms(SecretDelete))),
			pol("a", l(alice), l(domURN), l(kms(SecretDelete)), nil, nil),
		}, Subject{Identities: l(alice)}, kms(SecretDelete), sec("x"), time.Time{}, want{false, ReasonDeny, "d"}},
		{"deny/for another identity does not apply", []Policy{
			pol("allow", l(alice), l(domURN), l(kms("*")), nil, nil),
			pol("deny", l(bob), l(domURN), nil, nil, l("*")),
		}, Subject{Identities: l(alice)}, kms(SecretGet), sec("x"), time.Time{}, want{true, ReasonAllow, "allow"}},
		{"deny/first denying policy named", []Policy{
			pol("allow", l(alice), l(domURN), l("*"), nil, nil),
			pol("deny-2", l(ops), l(domURN), nil, nil, l("*")),
			pol("deny-1", l(alice), l(domURN), nil, nil, l("*")),
		}, Subject{Identities: l(alice, ops)}, kms(SecretGet), sec("x"), time.Time{}, want{false, ReasonDeny, "deny-2"}},

		{"expiry/before", []Policy{withExpiry(reader, t0.Add(time.Second))}, Subject{Identities: l(alice)},
			kms(SecretGet), sec("prod%2Fa"), t0, want{true, ReasonAllow, "reader"}},
		{"expiry/exactly at expiredAt", []Policy{withExpiry(reader, t0)}, Subject{Identities: l(alice)},
			kms(SecretGet), sec("prod%2Fa"), t0, want{false, ReasonNoPolicy, ""}},
		{"expiry/after", []Policy{withExpiry(reader, t0.Add(-time.Hour))}, Subject{Identities: l(alice)},
			kms(SecretGet), sec("prod%2Fa"), t0, want{false, ReasonNoPolicy, ""}},
		{"expiry/expired deny no longer applies", []Policy{
			pol("allow", l(alice), l(domURN), l("*"), nil, nil),
			withExpiry(pol("deny", l(alice), l(domURN), nil, nil, l("*")), t0),
		}, Subject{Identities: l(alice)}, kms(SecretGet), sec("x"), t0, want{true, ReasonAllow, "allow"}},

		{"domain/covers its secrets", []Policy{pol("d", l(alice), l(domURN), l(kms(SecretGet)), nil, nil)},
			Subject{Identities: l(alice)}, kms(SecretGet), sec("a%2Fb%2Fc"), time.Time{}, want{true, ReasonAllow, "d"}},
		{"domain/covers domain-level actions", []Policy{pol("d", l(alice), l(domURN), l(kms(SecretConfigGet)), nil, nil)},
			Subject{Identities: l(alice)}, kms(SecretConfigGet), domURN, time.Time{}, want{true, ReasonAllow, "d"}},
		{"domain/not another domain", []Policy{pol("d", l(alice), l(domURN), l(kms(SecretGet)), nil, nil)},
			Subject{Identities: l(alice)}, kms(SecretGet), SecretURN("eu", otherDomain, "a"), time.Time{}, want{false, ReasonNoPolicy, ""}},
		{"domain/secret/* not domain-level actions", []Policy{pol("s", l(alice), l(domURN+"/secret/*"), l(kms("*")), nil, nil)},
			Subject{Identities: l(alice)}, kms(SecretConfigGet), domURN, time.Time{}, want{false, ReasonNoPolicy, ""}},
		{"domain/secret/* covers secrets", []Policy{pol("s", l(alice), l(domURN+"/secret/*"), l(kms("*")), nil, nil)},
			Subject{Identities: l(alice)}, kms(SecretGet), sec("x"), time.Time{}, want{true, ReasonAllow, "s"}},
		{"domain/deny on domain covers secrets", []Policy{
			pol("a", l(alice), l(sec("x")), l(kms(SecretDelete)), nil, nil),
			pol("d", l(alice), l(domURN), nil, nil, l(kms(SecretDelete))),
		}, Subject{Identities: l(alice)}, kms(SecretDelete), sec("x"), time.Time{}, want{false, ReasonDeny, "d"}},

		{"folder/prod%2F* covers prod/db", []Policy{pol("f", l(alice), l(sec("prod%2F*")), l(kms(SecretGet)), nil, nil)},
			Subject{Identities: l(alice)}, kms(SecretGet), sec("prod%2Fdb"), time.Time{}, want{true, ReasonAllow, "f"}},
		{"folder/prod%2F* not production/db", []Policy{pol("f", l(alice), l(sec("prod%2F*")), l(kms(SecretGet)), nil, nil)},
			Subject{Identities: l(alice)}, kms(SecretGet), sec("production%2Fdb"), time.Time{}, want{false, ReasonNoPolicy, ""}},
		{"folder/prod* covers production/db", []Policy{pol("f", l(alice), l(sec("prod*")), l(kms(SecretGet)), nil, nil)},
			Subject{Identities: l(alice)}, kms(SecretGet), sec("production%2Fdb"), time.Time{}, want{true, ReasonAllow, "f"}},
		{"folder/exact secret not sibling prefix", []Policy{pol("f", l(alice), l(sec("prod%2Fdb")), l(kms(SecretGet)), nil, nil)},
			Subject{Identities: l(alice)}, kms(SecretGet), sec("prod%2Fdb2"), time.Time{}, want{false, ReasonNoPolicy, ""}},
		{"folder/raw slashes canonicalised", []Policy{pol("f", l(alice), l(domURN+"/secret/prod/*"), l(kms(SecretGet)), nil, nil)},
			Subject{Identities: l(alice)}, kms(SecretGet), sec("prod%2Fdb"), time.Time{}, want{true, ReasonAllow, "f"}},
		{"folder/lowercase escape canonicalised", []Policy{pol("f", l(alice), l(domURN+"/secret/prod%2fdb"), l(kms(SecretGet)), nil, nil)},
			Subject{Identities: l(alice)}, kms(SecretGet), sec("prod%2Fdb"), time.Time{}, want{true, ReasonAllow, "f"}},

		{"bypass/root", nil, Subject{Identities: l(AccountURN("eu", "coffer")), Root: true}, kms(SecretDelete), sec("x"), time.Time{},
			want{true, ReasonRoot, ""}},
		{"bypass/root despite deny", []Policy{pol("d", l(AccountURN("eu", "coffer")), l("*"), nil, nil, l("*"))},
			Subject{Identities: l(AccountURN("eu", "coffer")), Root: true}, kms(SecretDelete), sec("x"), time.Time{}, want{true, ReasonRoot, ""}},
		{"bypass/admin group", nil, Subject{Identities: l(alice, ops), Admin: true}, ovh(CredentialCreate), domURN, time.Time{},
			want{true, ReasonAdmin, ""}},
		{"bypass/admin despite deny", []Policy{pol("d", l(alice), l("*"), nil, nil, l("*"))},
			Subject{Identities: l(alice, ops), Admin: true}, kms(SecretGet), sec("x"), time.Time{}, want{true, ReasonAdmin, ""}},
		{"bypass/account URN without Root flag is not root", nil, Subject{Identities: l(AccountURN("eu", "coffer"))},
			kms(SecretGet), sec("x"), time.Time{}, want{false, ReasonNoPolicy, ""}},

		{"namespace/apikms:* grants nothing on apiovh", []Policy{pol("k", l(alice), l(domURN), l(kms("*")), nil, nil)},
			Subject{Identities: l(alice)}, ovh(SecretGet), sec("x"), time.Time{}, want{false, ReasonNoPolicy, ""}},
		{"namespace/apiovh:* grants nothing on apikms", []Policy{pol("o", l(alice), l(domURN), l(ovh("*")), nil, nil)},
			Subject{Identities: l(alice)}, kms(SecretGet), sec("x"), time.Time{}, want{false, ReasonNoPolicy, ""}},
		{"namespace/apiovh deny leaves apikms alone", []Policy{
			pol("a", l(alice), l(domURN), l("*"), nil, nil),
			pol("d", l(alice), l(domURN), nil, nil, l(ovh("*"))),
		}, Subject{Identities: l(alice)}, kms(SecretGet), sec("x"), time.Time{}, want{true, ReasonAllow, "a"}},
		{"namespace/suffix wildcard spans both", []Policy{pol("s", l(alice), l(domURN), l("*/getData"), nil, nil)},
			Subject{Identities: l(alice)}, ovh(SecretVersionGetData), sec("x"), time.Time{}, want{true, ReasonAllow, "s"}},

		{"invalid pattern/inner wildcard matches nothing", []Policy{pol("bad", l(alice), l(domURN), l("okms:*:secret/get"), nil, nil)},
			Subject{Identities: l(alice)}, kms(SecretGet), sec("x"), time.Time{}, want{false, ReasonNoPolicy, ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			now := tc.now
			if now.IsZero() {
				now = t0
			}
			got := NewIndex(tc.policies).Evaluate(tc.subject, tc.action, tc.resource, now)
			if got.Allowed != tc.want.allowed || got.Reason != tc.want.reason || got.PolicyID != tc.want.policy {
				t.Errorf("Evaluate(%v, %s, %s) = %+v, want %+v", tc.subject, tc.action, tc.resource, got, tc.want)
			}
			if tc.want.policy != "" && got.PolicyName != "p-"+tc.want.policy {
				t.Errorf("PolicyName = %q, want %q", got.PolicyName, "p-"+tc.want.policy)
			}
			if slow := Evaluate(tc.policies, tc.subject, tc.action, tc.resource, now); slow != got {
				t.Errorf("Evaluate (slice) = %+v, Index.Evaluate = %+v", slow, got)
			}
		})
	}
}

func withExpiry(p Policy, t time.Time) Policy {
	p.ExpiredAt = at(t)
	return p
}

func TestIndex_nil(t *testing.T) {
	t.Parallel()
	var x *Index
	if x.Len() != 0 {
		t.Errorf("nil Index Len = %d", x.Len())
	}
	if d := x.Evaluate(Subject{Identities: l(alice)}, kms(SecretGet), sec("x"), t0); d.Allowed || d.Reason != ReasonNoPolicy {
		t.Errorf("nil Index Evaluate = %+v, want no-policy deny", d)
	}
	if d := x.Evaluate(Subject{Root: true}, kms(SecretGet), sec("x"), t0); !d.Allowed {
		t.Errorf("nil Index root Evaluate = %+v, want allow", d)
	}
	if n := NewIndex(make([]Policy, 3)).Len(); n != 3 {
		t.Errorf("Len = %d, want 3", n)
	}
}

func TestIndex_ownsItsData(t *testing.T) {
	t.Parallel()
	ps := []Policy{pol("a", l(alice), l(domURN), l(kms(SecretGet)), nil, nil)}
	x := NewIndex(ps)
	ps[0].Allow[0] = kms(SecretDelete)
	ps[0].Identities[0] = bob
	if d := x.Evaluate(Subject{Identities: l(alice)}, kms(SecretGet), sec("x"), t0); !d.Allowed {
		t.Errorf("Index changed with its input: %+v", d)
	}
}

func TestDecision_String(t *testing.T) {
	t.Parallel()
	tests := []struct {
		d    Decision
		want string
	}{
		{Decision{Allowed: true, Reason: ReasonRoot}, "allow: account root"},
		{Decision{Allowed: true, Reason: ReasonAdmin}, "allow: ADMIN group"},
		{Decision{Allowed: true, Reason: ReasonAllow, PolicyID: "p1"}, "allow: policy p1 allows"},
		{Decision{Reason: ReasonDeny, PolicyID: "p2"}, "deny: policy p2 denies"},
		{Decision{Reason: ReasonExcept, PolicyID: "p3"}, "deny: excepted by policy p3"},
		{Decision{Reason: ReasonNoPolicy}, "deny: no policy"},
		{Decision{}, "deny: no policy"},
	}
	for _, tc := range tests {
		if got := tc.d.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.d, got, tc.want)
		}
	}
}

// oracle is iam.md 4.3 transcribed literally, without index, as the
// reference for the randomised comparison below. Like Index, it names the
// first deciding policy of the list.
func oracle(policies []Policy, s Subject, action, resource string, now time.Time) Decision {
	if s.Root || s.Admin {
		return Decision{Allowed: true, Reason: ReasonRoot}
	}
	var applicable []Policy
	for _, p := range policies {
		if p.ExpiredAt != nil && !p.ExpiredAt.After(now) {
			continue
		}
		if !slices.ContainsFunc(p.Identities, func(id string) bool { return slices.Contains(s.Identities, id) }) {
			continue
		}
		if !slices.ContainsFunc(p.Resources, func(r string) bool { return Covers(r, resource) }) {
			continue
		}
		applicable = append(applicable, p)
	}
	matchSome := func(ps []string) bool {
		return slices.ContainsFunc(ps, func(p string) bool { return Match(p, action) })
	}
	for _, p := range applicable {
		if matchSome(p.Deny) {
			return Decision{Reason: ReasonDeny, PolicyID: p.ID, PolicyName: p.Name}
		}
	}
	for _, p := range applicable {
		if matchSome(p.Allow) && !matchSome(p.Except) {
			return Decision{Allowed: true, Reason: ReasonAllow, PolicyID: p.ID, PolicyName: p.Name}
		}
	}
	for _, p := range applicable {
		if matchSome(p.Allow) {
			return Decision{Reason: ReasonExcept, PolicyID: p.ID, PolicyName: p.Name}
		}
	}
	return Decision{Reason: ReasonNoPolicy}
}

// TestIndex_agreesWithOracle compares the index with the literal algorithm
// on random policy sets built from a small vocabulary, so that overlaps
// (deny vs allow, except, expiry, shared identities) are frequent.
func TestIndex_agreesWithOracle(t *testing.T) {
	t.Parallel()
	idents := l(alice, bob, ops, eso)
	resources := l("*", domURN, dom2URN, domURN+"/secret/*", sec("prod%2F*"), sec("prod*"), sec("prod%2Fdb"), "*%2Fdb", "urn:v1:eu:resource:okms:*")
	actions := l("*", kms("*"), ovh("*"), kms(SecretGet), kms(SecretDelete), kms(SecretVersionGetData), ovh(SecretGet), "*/get", "*secret/version*", kms(SecretConfigGet))
	targets := l(domURN, dom2URN, sec("prod%2Fdb"), sec("production"), sec("dev%2Fdb"), SecretURN("eu", otherDomain, "prod%2Fdb"))
	// "secret/update" is outside the catalogue: it takes the pattern path.
	probe := l(kms(SecretGet), kms(SecretDelete), kms(SecretVersionGetData), ovh(SecretGet), ovh(SecretVersionGetData), kms(SecretConfigGet), kms("secret/update"))
	r := rand.New(rand.NewPCG(1, 2))
	some := func(from []string, max int) []string {
		n := r.IntN(max + 1)
		out := make([]string, n)
		for i := range out {
			out[i] = from[r.IntN(len(from))]
		}
		return out
	}
	reasons := map[Reason]int{}
	indexed := 0
	for iter := range 4000 {
		// Half the sets are small (identity buckets scanned linearly), half
		// large (buckets beyond indexThreshold, indexed by resource), with
		// rarer denies so that allows still happen.
		n, denyOneIn := r.IntN(6), 1
		if iter%2 == 1 {
			n, denyOneIn = 2*indexThreshold+r.IntN(80), 12
		}
		ps := make([]Policy, n)
		for i := range ps {
			ps[i] = Policy{ID: fmt.Sprint(i), Identities: some(idents, 2), Resources: some(resources, 2),
				Allow: some(actions, 2), Except: some(actions, 1)}
			if r.IntN(denyOneIn) == 0 {
				ps[i].Deny = some(actions, 1)
			}
			if r.IntN(4) == 0 {
				ps[i].ExpiredAt = at(t0.Add(time.Duration(r.IntN(3)-1) * time.Second))
			}
		}
		x := NewIndex(ps)
		for _, b := range x.byIdentity {
			if b.indexed {
				indexed++
			}
		}
		for range 10 {
			s := Subject{Identities: some(idents, 2)}
			a, res := probe[r.IntN(len(probe))], targets[r.IntN(len(targets))]
			got := x.Evaluate(s, a, res, t0)
			reasons[got.Reason]++
			if want := oracle(ps, s, a, res, t0); got != want {
				t.Fatalf("iteration %d: Evaluate(%v, %s, %s) = %+v, oracle says %+v\npolicies: %+v", iter, s.Identities, a, res, got, want, ps)
			}
		}
	}
	for _, r := range []Reason{ReasonAllow, ReasonDeny, ReasonExcept, ReasonNoPolicy} {
		if reasons[r] < 100 {
			t.Errorf("only %d decisions with reason %s: the generator does not exercise it", reasons[r], r)
		}
	}
	if indexed < 1000 {
		t.Errorf("only %d indexed buckets: the generator does not exercise the resource index", indexed)
	}
	t.Logf("decisions by reason: %v; indexed buckets: %d", reasons, indexed)
}

func TestIndex_concurrentReads(t *testing.T) {
	t.Parallel()
	x := NewIndex(benchPolicies(100))
	s := Subject{Identities: l(UserURN("eu", "coffer", "user7"), GroupURN("eu", "coffer", "group7"))}
	want := x.Evaluate(s, kms(SecretGet), sec("app7%2Fdb"), t0)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				if got := x.Evaluate(s, kms(SecretGet), sec("app7%2Fdb"), t0); got != want {
					t.Errorf("concurrent Evaluate = %+v, want %+v", got, want)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestIndex_Evaluate_noAllocs(t *testing.T) {
	x := NewIndex(benchPolicies(1000))
	s := Subject{Identities: l(UserURN("eu", "coffer", "user7"), GroupURN("eu", "coffer", "group7"))}
	res, action := sec("app7%2Fdb"), kms(SecretGet)
	if n := testing.AllocsPerRun(100, func() { x.Evaluate(s, action, res, t0) }); n != 0 {
		t.Errorf("Index.Evaluate allocates %v times per call", n)
	}
}

// benchPolicies returns n policies in the shape of a real account: each
// grants a reader set on one folder to one user or one group (100 users,
// 20 groups), every tenth also denies deletion, every fifth expires later.
func benchPolicies(n int) []Policy {
	ps := make([]Policy, n)
	for i := range ps {
		id := UserURN("eu", "coffer", fmt.Sprintf("user%d", i%100))
		if i%5 == 0 {
			id = GroupURN("eu", "coffer", fmt.Sprintf("group%d", i%20))
		}
		ps[i] = Policy{
			ID:         fmt.Sprintf("policy-%04d", i),
			Name:       fmt.Sprintf("p%d", i),
			Identities: l(id),
			Resources:  l(sec(fmt.Sprintf("app%d%%2F*", i%100))),
			Allow:      l(kms(SecretGet), kms(SecretVersionGetData), ovh(SecretGet)),
		}
		if i%10 == 0 {
			ps[i].Deny = l(kms(SecretDelete))
		}
		if i%5 == 0 {
			ps[i].ExpiredAt = at(t0.Add(time.Hour))
		}
	}
	return ps
}

// BenchmarkEvaluate measures one decision with 1, 100 and 1,000 policies in
// force. "spread": policies spread over 100 users and 20 groups, the subject
// a user and its group (the realistic case). "shared": every policy names
// the subject's group, so all of them are candidates (the worst case of the
// identity index); the last one allows.
func BenchmarkEvaluate(b *testing.B) {
	s := Subject{Identities: l(UserURN("eu", "coffer", "user0"), GroupURN("eu", "coffer", "group0"))}
	res, action := sec("app0%2Fdb"), kms(SecretVersionGetData)
	for _, n := range []int{1, 100, 1000} {
		b.Run(fmt.Sprintf("spread/policies=%d", n), func(b *testing.B) {
			x := NewIndex(benchPolicies(n))
			b.ReportAllocs()
			for b.Loop() {
				if !x.Evaluate(s, action, res, t0).Allowed {
					b.Fatal("denied")
				}
			}
		})
		b.Run(fmt.Sprintf("shared/policies=%d", n), func(b *testing.B) {
			ps := benchPolicies(n)
			for i := range ps {
				ps[i].Identities = l(GroupURN("eu", "coffer", "group0"))
				ps[i].Resources = l(sec(fmt.Sprintf("app%d%%2F*", i+1)))
			}
			ps[n-1].Resources = l(sec("app0%2F*"))
			x := NewIndex(ps)
			b.ReportAllocs()
			for b.Loop() {
				if !x.Evaluate(s, action, res, t0).Allowed {
					b.Fatal("denied")
				}
			}
		})
	}
}

func BenchmarkNewIndex(b *testing.B) {
	ps := benchPolicies(1000)
	b.ReportAllocs()
	for b.Loop() {
		NewIndex(ps)
	}
}
