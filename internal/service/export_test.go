package service

import (
	"context"

	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// HoldHashSlots takes every password-hashing slot until release is
// called, so that tests can see what a check finds when all are busy.
func (s *Service) HoldHashSlots() (release func()) {
	n := cap(s.passwords.slots)
	for range n {
		s.passwords.slots <- struct{}{}
	}
	return func() {
		for range n {
			<-s.passwords.slots
		}
	}
}

// CountByScan counts a domain's secrets and retained, non-deleted versions
// by reading every secret record, as the domain counts were computed
// before they were maintained: the oracle of the counts tests.
func (s *Service) CountByScan(ctx context.Context, domain string) (secrets, versions int, err error) {
	st, err := s.regionStore(ctx, domain)
	if err != nil {
		return 0, 0, err
	}
	err = st.View(ctx, func(tx storage.Tx) error {
		c, err := countByScan(tx, domain)
		secrets, versions = int(c.Secrets), int(c.Versions)
		return err
	})
	return secrets, versions, err
}

// CountsKeys returns the key of a domain's base counts and the prefix of
// its change records.
func CountsKeys(domain string) (base, changes string) {
	return countsKey(domain), countsChangePrefix(domain)
}
