// Package pgstore is the PostgreSQL [storage.Backend]: one table of keys
// and values, shared by any number of coffer nodes.
//
// # Schema
//
// coffer creates and migrates its own schema. The migrations are SQL files
// embedded in the binary (migrations/NNNN_name.sql) and recorded in a
// schema_version table. [Open] applies the missing ones inside one
// transaction that holds a PostgreSQL advisory lock, so several nodes
// starting at once migrate exactly once, and it refuses a database whose
// schema is newer than the binary knows ([ErrSchemaTooNew]) rather than
// write to a layout it does not understand. The tables are created in the
// first schema of the connection's search_path: give coffer a database of
// its own, or a schema of its own with ?search_path=<schema> in the URL.
//
// # Transactions
//
// [Store.View] is a READ ONLY REPEATABLE READ transaction: one snapshot for
// all of its reads. [Store.Update] is a SERIALIZABLE transaction that also
// locks every row it reads (SELECT … FOR UPDATE) and creates the keys it
// saw absent with a plain INSERT, so that lost updates and double creations
// are excluded by row locks and the primary key, not only by the isolation
// level; the comment on Update gives the reasons. Conflicts (serialization
// failures, deadlocks, a unique violation on a key seen absent) roll the
// transaction back and run its function again after a jittered backoff, up
// to [Options.MaxAttempts] times.
//
// Writes are sent lazily: BEGIN and the queued INSERT, UPDATE and DELETE
// statements travel in one pipelined batch with the next read or with the
// COMMIT, so an Update that only writes costs one round trip.
//
// # Connections
//
// The URL is a libpq URL or key=value string, parsed by pgx. TLS to the
// database follows its sslmode: verify-full (with sslrootcert) checks the
// server certificate and name and is what production wants; require
// encrypts without checking; prefer, pgx's default when sslmode is absent,
// tries TLS and falls back to plain text; disable never encrypts (fine on
// loopback or a Unix socket). Passwords are best kept out of the URL, in a
// ~/.pgpass file (PGPASSFILE) or PGPASSWORD. pool_max_conns and
// connect_timeout in the URL size the pool and bound connection attempts
// unless [Options] sets them.
//
// A connection lost in the middle of a transaction never leaves part of it
// behind: PostgreSQL rolls back what was not committed. An Update that
// certainly did not commit runs again on a new connection (twice at most,
// enough to get past the dead connections a database restart leaves in the
// pool); one whose connection broke after its COMMIT left fails with an
// error saying the outcome is unknown, since running it again could apply
// it twice. A View fails. The pool replaces broken connections, so calls
// succeed again once the database answers.
//
// pgstore stores values as given; encryption is the job of the sealed
// decorator wrapped around it.
package pgstore
