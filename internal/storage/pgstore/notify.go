package pgstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/seed-3e8d63de/coffer/internal/storage"
)

var _ storage.Notifier = (*Store)(nil)

// pgChannel names the PostgreSQL channel of a coffer channel: channels are
// per database, so the schema is part of the name (several installations,
// or tests, may share a database under different schemas). Identifiers
// are at most 63 bytes, hence the digest.
func (s *Store) pgChannel(channel string) string {
	sum := sha256.Sum256([]byte(s.schema + "\x00" + channel))
	return "coffer_" + hex.EncodeToString(sum[:12])
}

// Notify implements [storage.Notifier] with pg_notify: every process
// listening on the same database and schema receives payload, once the
// notification's transaction commits (here, at once).
func (s *Store) Notify(ctx context.Context, channel, payload string) error {
	if err := s.enter(ctx); err != nil {
		return err
	}
	defer s.active.Done()
	if _, err := s.pool.Exec(ctx, "SELECT pg_notify($1, $2)", s.pgChannel(channel), payload); err != nil {
		return fmt.Errorf("pgstore.Notify: %w", ctxErr(ctx, err))
	}
	return nil
}

// Listen implements [storage.Notifier] with LISTEN on a dedicated
// connection (not one of the pool's, which it would hold forever). It calls
// fn("") once listening, since notifications sent before may have been
// missed, then fn(payload) for each notification, until ctx is done or the
// connection fails (the caller retries).
func (s *Store) Listen(ctx context.Context, channel string, fn func(payload string)) error {
	conn, err := pgx.ConnectConfig(ctx, s.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("pgstore.Listen: %w", ctxErr(ctx, err))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{s.pgChannel(channel)}.Sanitize()); err != nil {
		return fmt.Errorf("pgstore.Listen: %w", ctxErr(ctx, err))
	}
	fn("")
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return ctxErr(ctx, err)
		}
		fn(n.Payload)
	}
}
