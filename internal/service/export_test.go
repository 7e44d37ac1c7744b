package service

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
