package sealed

import "github.com/seed-3e8d63de/coffer/internal/crypto"

// CloseAndWipe closes s as Close does, then overwrites the key material it
// held (the keyring's terms and the root keys) with zeros, for a seal: use
// it only once no transaction is in flight and nothing else holds those
// keys for later use.
func (s *Store) CloseAndWipe() error {
	kr := s.keyring.Load()
	s.roots.mu.Lock()
	roots := make([]crypto.Key, 0, len(s.roots.keys))
	for _, k := range s.roots.keys {
		roots = append(roots, k)
	}
	s.roots.mu.Unlock()
	err := s.Close()
	crypto.WipeKeyring(kr)
	crypto.Wipe(roots...)
	return err
}
