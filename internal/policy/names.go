package policy

import (
	"slices"
	"time"
)

// Names returns the sorted names of the policies of x that apply to
// identities at now: those naming one of them exactly and not expired (at
// ExpiredAt exactly a policy has expired, as in [Index.Evaluate]). It is
// what a caller is subject to, whatever the action and resource; Vault's
// token lookup reports it as the token's policies.
func (x *Index) Names(identities []string, now time.Time) []string {
	if x == nil {
		return nil
	}
	var out []string
	for _, id := range identities {
		b := x.byIdentity[id]
		if b == nil {
			continue
		}
		for _, e := range b.all {
			if e.expires && !now.Before(e.expiredAt) {
				continue
			}
			out = append(out, e.name)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
