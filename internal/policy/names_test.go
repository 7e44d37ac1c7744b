package policy

import (
	"slices"
	"testing"
	"time"
)

func TestIndexNames(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	const (
		alice = "urn:v1:eu:identity:user:acc/alice"
		ops   = "urn:v1:eu:identity:group:acc/ops"
		bob   = "urn:v1:eu:identity:user:acc/bob"
	)
	res := []string{"urn:v1:eu:resource:okms:*"}
	ps := []Policy{
		{ID: "1", Name: "readers", Identities: []string{alice, ops}, Resources: res, Allow: []string{"okms:apikms:secret/get"}},
		{ID: "2", Name: "ops-writers", Identities: []string{ops}, Resources: res, Allow: []string{"okms:apikms:secret/create"}},
		{ID: "3", Name: "expired", Identities: []string{alice}, Resources: res, Allow: []string{"*"}, ExpiredAt: &past},
		{ID: "4", Name: "expiring", Identities: []string{alice}, Resources: res, Deny: []string{"*"}, ExpiredAt: &future},
		{ID: "5", Name: "expires-now", Identities: []string{alice}, Resources: res, Deny: []string{"*"}, ExpiredAt: &now},
		{ID: "6", Name: "bob-only", Identities: []string{bob}, Resources: res, Allow: []string{"*"}},
	}
	// Past indexThreshold the buckets are indexed by resource; Names must
	// not depend on it.
	many := slices.Clone(ps)
	for range indexThreshold {
		many = append(many, Policy{ID: "x", Name: "bulk", Identities: []string{alice}, Resources: []string{"urn:v1:eu:resource:okms:d/secret/a"}, Allow: []string{"*"}})
	}
	tests := []struct {
		name       string
		policies   []Policy
		identities []string
		want       []string
	}{
		{"user and group", ps, []string{alice, ops}, []string{"expiring", "ops-writers", "readers"}},
		{"user alone", ps, []string{alice}, []string{"expiring", "readers"}},
		{"group alone", ps, []string{ops}, []string{"ops-writers", "readers"}},
		{"no policy", ps, []string{"urn:v1:eu:identity:user:acc/carol"}, nil},
		{"no identity", ps, nil, nil},
		{"indexed bucket", many, []string{alice}, []string{"bulk", "expiring", "readers"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewIndex(tc.policies).Names(tc.identities, now); !slices.Equal(got, tc.want) {
				t.Errorf("Names = %q, want %q", got, tc.want)
			}
		})
	}
	if got := (*Index)(nil).Names([]string{alice}, now); got != nil {
		t.Errorf("nil Index: Names = %q", got)
	}
}
