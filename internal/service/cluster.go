package service

import (
	"context"
	"errors"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Several coffer processes may share one store (PostgreSQL). Each keeps in
// memory what every request needs: the policy index, the domain registry
// and the default domain. When a process changes one of them, it notifies
// the others through the store (storage.Notifier: LISTEN/NOTIFY), and they
// reload. Data (secrets, versions) is never cached, so a read on any node
// after an acknowledged write on another sees that write; cached IAM state
// follows within the notification's delivery time. Tokens are cached for
// at most a second (authcache.go), and dropped on notification too.

// notifyChannel is the channel coffer's processes use.
const notifyChannel = "coffer_cache"

// Payloads name what changed.
const (
	changedPolicies = "policies"
	changedDomains  = "domains"
)

// notify tells the other processes that what has changed; it never fails
// the caller's (already committed) operation.
func (s *Service) notify(ctx context.Context, what string) {
	n, ok := storage.NotifierOf(s.store)
	if !ok {
		return
	}
	if err := n.Notify(context.WithoutCancel(ctx), notifyChannel, what); err != nil {
		s.log.WarnContext(ctx, "notify other nodes", "what", what, "err", err)
	}
}

// listen reloads cached state when another process says it changed, until
// the service is closed. Without a Notifier (a store only this process
// uses), it does nothing.
func (s *Service) listen() {
	n, ok := storage.NotifierOf(s.store)
	if !ok {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stop = cancel
	s.listening.Add(1)
	go func() {
		defer s.listening.Done()
		for ctx.Err() == nil {
			err := n.Listen(ctx, notifyChannel, func(what string) { s.reload(ctx, what) })
			if err != nil && !errors.Is(err, context.Canceled) {
				s.log.Warn("listening for changes of other nodes; retrying", "err", err)
				select {
				case <-ctx.Done():
				case <-time.After(time.Second):
				}
			}
		}
	}()
}

// reload re-reads what changed; an empty payload (a reconnection, when
// notifications may have been missed) re-reads everything.
func (s *Service) reload(ctx context.Context, what string) {
	if what == "" || what == changedPolicies {
		s.reloadPolicies(ctx)
	}
	if what == "" || what == changedTokens {
		s.principals.invalidate()
	}
	if what == "" || what == changedDomains {
		if err := s.loadDomains(ctx); err != nil {
			s.log.Warn("reload domains", "err", err)
		}
		if err := s.loadDefaultDomain(ctx); err != nil {
			s.log.Warn("reload the default domain", "err", err)
		}
	}
}

// loadDefaultDomain re-reads the default domain ("" once deleted).
func (s *Service) loadDefaultDomain(ctx context.Context) error {
	return s.store.View(ctx, func(tx storage.Tx) error {
		b, err := tx.Get(keyDefaultDomain)
		if errors.Is(err, storage.ErrNotFound) {
			b, err = nil, nil
		}
		if err != nil {
			return err
		}
		d := string(b)
		s.defaultDomain.Store(&d)
		return nil
	})
}

// Wait waits for background work (domain creations) to finish.
func (s *Service) Wait() { s.bg.Wait() }

// Close stops the service's background work: domain creations in progress
// finish, listening for other nodes stops.
func (s *Service) Close() {
	if s.stop != nil {
		s.stop()
	}
	s.listening.Wait()
	s.bg.Wait()
}
