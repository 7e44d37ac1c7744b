package server

import (
	"context"
	"errors"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/seal"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Unsealing through a KMS that does not answer (okms and transit seals):
// the server starts sealed, serves 503 ("sealed") on every surface, and
// tries again with a growing wait (1 s, doubling, up to SealRetryMax)
// until the KMS unwraps the root key; then it unseals by itself, creating
// the installation on a first start. Each failure is logged with the
// KMS's answer, which carries no key material or credential.

// defaultSealRetryMax caps the wait between two attempts.
const defaultSealRetryMax = 30 * time.Second

// autoUnseal is the retry loop of one server.
type autoUnseal struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// kmsSeal reports whether the installation's seal (or, before one exists,
// the configured one) is unsealed through a KMS.
func (m *sealer) kmsSeal() bool {
	return m.sealType(context.Background()).KMS()
}

// sealType returns the installation's seal type, or the configured one
// before the installation has a seal record.
func (m *sealer) sealType(ctx context.Context) seal.Type {
	m.mu.Lock()
	defer m.mu.Unlock()
	rec, err := m.record(ctx)
	if err != nil || rec == nil {
		return m.want
	}
	return rec.Type
}

// startAutoUnseal starts the retry loop; token is the root token to set
// if the installation is created.
func (s *Server) startAutoUnseal(token string) {
	ctx, cancel := context.WithCancel(context.Background())
	a := &autoUnseal{cancel: cancel, done: make(chan struct{})}
	s.retry = a
	maxWait := s.cfg.SealRetryMax
	if maxWait <= 0 {
		maxWait = defaultSealRetryMax
	}
	go func() {
		defer close(a.done)
		wait := time.Second
		for attempt := 2; ; attempt++ {
			t := time.NewTimer(min(wait, maxWait))
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			wait *= 2
			res, err := s.svc.Start(ctx, service.InitOptions{RootToken: token})
			switch {
			case err == nil:
				if res.DefaultDomain != "" {
					s.log.Info("unsealed through the KMS", "seal", s.sealer.sealType(ctx), "attempt", attempt)
					s.started(res)
				}
				return
			case ctx.Err() != nil:
				return
			case errors.Is(err, service.ErrSealed):
				s.log.Warn("still sealed: the KMS did not unwrap the root key; retrying", "seal", s.sealer.sealType(ctx),
					"attempt", attempt, "retry_in", min(wait, maxWait).String(), "err", err)
			default:
				// Not the KMS (the storage, say): keep trying, as an
				// operator would, and say so.
				s.log.Error("sealed: unsealing through the KMS failed; retrying", "attempt", attempt,
					"retry_in", min(wait, maxWait).String(), "err", err)
			}
		}
	}()
}

// stopAutoUnseal stops the retry loop and waits for it.
func (s *Server) stopAutoUnseal() {
	if s.retry != nil {
		s.retry.cancel()
		<-s.retry.done
		s.retry = nil
	}
}
