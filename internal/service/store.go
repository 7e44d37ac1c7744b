package service

import (
	"context"
	"slices"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// HoldsData reports whether the installation holds a secret, a user, a
// group or a policy, in any of its regions: what the restore of a backup
// must not replace. What a new installation already has (its default
// domain with its configuration and access CA, the root token, the
// system records) does not count. It checks no permission: its caller
// has.
func (s *Service) HoldsData(ctx context.Context) (bool, error) {
	ids := make([]string, 0, len(s.regions))
	for id := range s.regions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		found, err := storeHoldsData(ctx, s.regions[id])
		if err != nil {
			return false, internal("HoldsData", err)
		}
		if found {
			return true, nil
		}
	}
	return false, nil
}

// storeHoldsData reports whether one store holds a key of dataKey, reading
// its keys in pages (one read-only transaction each) until it finds one.
func storeHoldsData(ctx context.Context, st storage.Backend) (bool, error) {
	const page = 1000
	var (
		after string
		found bool
		done  bool
	)
	for !found && !done {
		err := st.View(ctx, func(tx storage.Tx) error {
			keys, err := tx.List("", after, page)
			if err != nil {
				return err
			}
			found = slices.ContainsFunc(keys, dataKey)
			done = len(keys) < page
			if len(keys) > 0 {
				after = keys[len(keys)-1]
			}
			return nil
		})
		if err != nil {
			return false, err
		}
	}
	return found, nil
}

// dataKey reports whether a storage key is the record of a secret of some
// domain, of a user, of a group or of a policy.
func dataKey(key string) bool {
	if domain, ok := keyDomain(key); ok {
		return strings.HasPrefix(key, secretPrefix(domain))
	}
	return strings.HasPrefix(key, prefixUsers) || strings.HasPrefix(key, prefixGroups) ||
		strings.HasPrefix(key, prefixPolicies)
}

// keyDomain returns the OKMS domain whose records a storage key belongs
// to, and false for keys outside every domain.
func keyDomain(key string) (string, bool) {
	return strings.CutPrefix(KeyFamily(key), "d/")
}

// DomainKeyFamily names the encryption key family of the records of the
// OKMS domain id (see [KeyFamily]), the family a domain key rotation
// gives a new term.
func DomainKeyFamily(id string) string { return KeyFamily(configKey(id)) }
