package service

import "context"

// Reload reads again everything the service keeps in memory (the token
// pepper, the default domain, the domain registry, the policies) and
// forgets the principals it cached, for a store whose records were
// replaced underneath it (the restore of a backup). Other nodes sharing
// the store are told to reload what they can; they keep the old pepper
// until they restart.
func (s *Service) Reload(ctx context.Context) error {
	s.principals.invalidate()
	if err := s.load(ctx); err != nil {
		return err
	}
	if err := s.loadDomains(ctx); err != nil {
		return internal("Reload", err)
	}
	for _, what := range []string{changedPolicies, changedTokens, changedDomains} {
		s.notify(ctx, what)
	}
	return nil
}
