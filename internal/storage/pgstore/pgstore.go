package pgstore

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Defaults used for the zero fields of [Options].
const (
	// DefaultMaxConns caps the pool. A transaction holds a connection for
	// a few round trips, so 16 connections carry thousands of requests a
	// second per node while leaving room under PostgreSQL's default
	// max_connections (100) for several nodes and the operators' tools.
	DefaultMaxConns = 16

	// DefaultConnectTimeout bounds each attempt to open a connection, so
	// that an unreachable database fails Open (and later requests) in
	// seconds rather than after the operating system's TCP timeout.
	DefaultConnectTimeout = 5 * time.Second

	// DefaultMaxAttempts is how many times Update runs its function before
	// giving up on conflicts. Conflicting Updates of one row succeed one at
	// a time; with the jittered backoff, 50 and 100 goroutines incrementing
	// one counter needed at most 10 and 11 attempts (2-CPU VM), so 100
	// leaves a wide margin while still bounding a pathological livelock.
	DefaultMaxAttempts = 100

	// DefaultAcquireTimeout bounds the wait for a connection of the pool
	// when every one is busy (or being opened): past it the transaction
	// fails with storage.ErrUnavailable instead of waiting as long as the
	// request lives.
	DefaultAcquireTimeout = 10 * time.Second

	// idleInTransactionTimeout is set on every connection unless the URL
	// sets idle_in_transaction_session_timeout: a node that stops in the
	// middle of a transaction without closing its socket (a network
	// partition, a frozen VM) must not hold row locks for longer.
	idleInTransactionTimeout = "1min"
)

// Backoff between the attempts of a conflicting Update: full jitter over a
// window that doubles from minBackoff up to maxBackoff, so that the losers
// of a conflict spread out instead of colliding again.
const (
	minBackoff = 500 * time.Microsecond
	maxBackoff = 50 * time.Millisecond
)

// minServerVersion is PostgreSQL 12.4 (server_version_num). Jepsen's
// analysis of PostgreSQL 12.3 found G2-item anomalies (write skew) under
// SERIALIZABLE, fixed in 12.4 (and 11.9); Update relies on SERIALIZABLE for
// the anomalies that row locks cannot exclude, so older servers are refused.
const minServerVersion = 120004

// Options configures [Open]. The zero value selects the defaults.
type Options struct {
	// MaxConns caps the connection pool. Zero or negative means the URL's
	// pool_max_conns if it has one, else DefaultMaxConns.
	MaxConns int

	// ConnectTimeout bounds each connection attempt. Zero or negative means
	// the URL's connect_timeout if it has one, else DefaultConnectTimeout.
	ConnectTimeout time.Duration

	// MaxAttempts is how many times Update may run its function when it
	// conflicts with concurrent transactions. Zero or negative means
	// DefaultMaxAttempts; 1 disables retries.
	MaxAttempts int

	// AcquireTimeout bounds the wait for a free connection of the pool.
	// Zero or negative means DefaultAcquireTimeout.
	AcquireTimeout time.Duration
}

// Store is a [storage.Backend] over a PostgreSQL database. It is safe for
// concurrent use, within a process and across processes sharing the
// database. Open it with [Open] and release it with Close. A transaction's
// function must not start another transaction on the same Store from
// inside (it may wait for a connection that it holds itself), nor Close it.
type Store struct {
	pool           *pgxpool.Pool
	where          string // host:port/database, for messages (no password)
	maxAttempts    int
	acquireTimeout time.Duration
	schema         string // current_schema(): notification channels are per schema

	// mu guards closed, and makes checking it and registering a
	// transaction in active one step, so Close cannot start waiting on
	// active between the two.
	mu     sync.RWMutex
	closed bool
	active sync.WaitGroup // transactions in flight; Close waits for them

	closeOnce sync.Once
}

var (
	_ storage.Backend     = (*Store)(nil)
	_ storage.MultiGetter = (*Store)(nil)
)

// Open connects to the PostgreSQL database at url, checks that the server
// is PostgreSQL 12.4 or later with UTF-8 encoding, and creates or migrates
// coffer's schema (see the package comment). It fails with a clear error,
// which never contains the URL's password, when the URL does not parse,
// the database cannot be reached within the connect timeout, or the
// schema is newer than this binary knows ([ErrSchemaTooNew]).
func Open(ctx context.Context, url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn's parse errors redact the password.
		return nil, fmt.Errorf("pgstore.Open: invalid PostgreSQL URL: %w", err)
	}
	switch {
	case opts.MaxConns > 0:
		cfg.MaxConns = int32(min(opts.MaxConns, 1<<20))
	case !strings.Contains(url, "pool_max_conns"):
		cfg.MaxConns = DefaultMaxConns
	}
	switch {
	case opts.ConnectTimeout > 0:
		cfg.ConnConfig.ConnectTimeout = opts.ConnectTimeout
	case cfg.ConnConfig.ConnectTimeout <= 0:
		cfg.ConnConfig.ConnectTimeout = DefaultConnectTimeout
	}
	params := cfg.ConnConfig.RuntimeParams
	if _, ok := params["application_name"]; !ok {
		params["application_name"] = "coffer"
	}
	if _, ok := params["idle_in_transaction_session_timeout"]; !ok {
		params["idle_in_transaction_session_timeout"] = idleInTransactionTimeout
	}
	maxAttempts := opts.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = DefaultMaxAttempts
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)

	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore.Open %s: %w", where, err)
	}
	acquireTimeout := opts.AcquireTimeout
	if acquireTimeout <= 0 {
		acquireTimeout = DefaultAcquireTimeout
	}
	s := &Store{pool: pool, where: where, maxAttempts: maxAttempts, acquireTimeout: acquireTimeout}
	if err := s.setUp(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore.Open %s: %w", where, err)
	}
	return s, nil
}

// setUp checks the server and brings the schema up to date.
func (s *Store) setUp(ctx context.Context) error {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("cannot connect to PostgreSQL: %w", ctxErr(ctx, err))
	}
	defer conn.Release()
	var version int
	var release, encoding string
	err = conn.QueryRow(ctx, "SELECT current_setting('server_version_num')::int, current_setting('server_version'), current_setting('server_encoding')").Scan(&version, &release, &encoding)
	if err != nil {
		return fmt.Errorf("checking the server: %w", ctxErr(ctx, err))
	}
	if version < minServerVersion {
		return fmt.Errorf("PostgreSQL %s is too old: coffer needs 12.4 or later (earlier releases can break SERIALIZABLE transactions)", release)
	}
	if encoding != "UTF8" {
		return fmt.Errorf("the database encoding is %s: coffer needs UTF8 (CREATE DATABASE … ENCODING 'UTF8')", encoding)
	}
	if err := conn.QueryRow(ctx, "SELECT coalesce(current_schema(), '')").Scan(&s.schema); err != nil {
		return fmt.Errorf("reading the schema: %w", ctxErr(ctx, err))
	}
	return migrate(ctx, conn.Conn())
}

// Location returns where the store is, as host:port/database, without
// credentials: for messages and logs.
func (s *Store) Location() string { return s.where }

// Pool returns the store's connection pool, for capabilities beyond the
// storage contract (such as LISTEN/NOTIFY). The caller must not close it.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// View runs fn in a READ ONLY REPEATABLE READ transaction: every read of fn
// sees the same snapshot, which never holds part of a concurrent Update.
// Writes fail with [storage.ErrReadOnly]. View returns fn's error unchanged;
// otherwise an error wrapping [storage.ErrClosed] after Close, ctx's error
// if ctx is done (before fn runs, fn is not called), or the database's
// error, which fn's reads also return; an error that says the database
// cannot be reached wraps [storage.ErrUnavailable]. fn runs once. A panic in fn
// propagates to the caller after the transaction is rolled back.
func (s *Store) View(ctx context.Context, fn func(storage.Tx) error) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("pgstore.View: %w", err)
	}
	defer s.active.Done()
	_, err := s.attempt(ctx, fn, false)
	return err
}

// Update runs fn in a read-write transaction and returns once PostgreSQL
// has committed it (durably, as far as the server's synchronous_commit
// says: on by default). It returns fn's error unchanged when fn fails for
// reasons of its own (and then nothing fn wrote is kept); otherwise an
// error wrapping [storage.ErrClosed] after Close, ctx's error if ctx is done
// (before fn runs, fn is not called), or the database's error, wrapping
// [storage.ErrUnavailable] when the database cannot be reached (refused or
// broken connections, a server shutting down, starting up or failing
// over, no free connection within [Options.AcquireTimeout]). When the
// connection breaks during the COMMIT itself the outcome is unknown to
// coffer and Update reports an error: the transaction is either wholly
// committed or wholly absent, never partly.
//
// fn runs again after a conflict with a concurrent transaction, up to
// [Options.MaxAttempts] times, with a jittered backoff in between; a panic
// in fn propagates to the caller after the transaction is rolled back.
//
// Why locks and SERIALIZABLE together: the contract asks for Updates that
// are serializable with respect to the keys they read and write. Two
// mechanisms could give it:
//
//   - Row locks alone (READ COMMITTED, SELECT … FOR UPDATE on every Get,
//     plain INSERT for keys seen absent) exclude lost updates and double
//     creations, but PostgreSQL has no gap locks: a key read as absent and
//     not written, or a List, is not protected against a concurrent insert
//     (write skew on phantoms).
//   - SERIALIZABLE alone covers phantoms through predicate locks, but its
//     guarantee rests entirely on SSI's dependency tracking, where Jepsen
//     found a G2-item bug in PostgreSQL 12.3 (fixed in 12.4). The design
//     (architecture.md section 7) asks not to rely on isolation alone.
//
// So an Update runs at SERIALIZABLE and also locks what it reads: every Get
// is SELECT … FOR UPDATE, a Put of a key this transaction saw absent is a
// plain INSERT (a unique violation means another writer created it first:
// roll back and retry), other Puts are INSERT … ON CONFLICT DO UPDATE. The
// two patterns the conformance suite hammers, read-modify-write of one key
// and create-if-absent, are then excluded three times over: by the row lock
// or the primary key, by snapshot isolation's first-updater-wins (an Update
// whose lock wait ends after a concurrent commit gets 40001), and by SSI.
// SSI remains the only guard for phantoms, which no row lock can express.
// The price of locking reads is that Updates reading a common row run one
// after another, which is what bbolt's single writer does for every Update;
// the price of SSI is false conflicts when concurrent Updates touch the
// same btree leaf page (its predicate locks cover whole index pages),
// retried like true ones; the table's fillfactor keeps updates off the
// index to make them rare (see migrations/0001_kv.sql). Conflicts retried:
// 40001 serialization_failure, 40P01 deadlock_detected and 23505
// unique_violation.
//
// Besides conflicts, Update runs fn again, at most maxReconnects times,
// when the connection was lost while the transaction certainly had not
// committed (a pooled connection that died with a database restart or
// failover): such an Update succeeds on a new connection. When the
// connection is lost while the COMMIT may have been executed, Update
// returns the error instead, since running fn again could apply it twice.
func (s *Store) Update(ctx context.Context, fn func(storage.Tx) error) error {
	if err := s.enter(ctx); err != nil {
		return fmt.Errorf("pgstore.Update: %w", err)
	}
	defer s.active.Done()
	reconnects := 0
	for attempt := 1; ; attempt++ {
		why, err := s.attempt(ctx, fn, true)
		switch why {
		case final:
			return err
		case lostConnection:
			if reconnects++; reconnects > maxReconnects {
				return err
			}
		}
		if attempt >= s.maxAttempts {
			return fmt.Errorf("pgstore.Update: gave up after %d attempts: %w", attempt, err)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return fmt.Errorf("pgstore.Update: %w", err)
		}
	}
}

// maxReconnects is how many times an Update is run again after losing its
// connection: enough to get past the dead connections a database restart
// leaves in the pool, few enough that an Update fails within seconds while
// the database is down.
const maxReconnects = 2

// outcome says whether an attempt's error is final or worth another run.
type outcome uint8

const (
	final          outcome = iota // success, or an error to return
	conflict                      // rolled back by a concurrent transaction
	lostConnection                // connection lost, certainly not committed
)

// attempt runs fn once in a transaction of its own and says whether its
// error is worth running fn again for.
func (s *Store) attempt(ctx context.Context, fn func(storage.Tx) error, writable bool) (outcome, error) {
	op := "View"
	if writable {
		op = "Update"
	}
	conn, why, err := s.acquire(ctx, op)
	if err != nil {
		return why, err
	}
	t := newTx(ctx, conn.Conn(), writable)
	defer func() {
		// Also on a panic in fn: roll back, then hand the connection back
		// (the pool drops it if it is broken or still in a transaction).
		t.rollback()
		conn.Release()
	}()
	fnErr := fn(t)
	t.done = true
	if t.err == nil && fnErr != nil {
		return final, fnErr
	}
	if t.err == nil {
		if t.commit() == nil {
			return final, nil
		}
		fnErr = fmt.Errorf("pgstore.%s %s: commit: %w", op, s.where, t.err)
	}
	// The database failed one of fn's operations or the commit, so the
	// transaction is over whatever fn returned (fn's error usually wraps
	// t.err).
	why = t.classify()
	down := t.unreachable()
	switch {
	case why == lostConnection:
		return why, fmt.Errorf("pgstore.%s %s: %w: %w", op, s.where, storage.ErrUnavailable, t.err)
	case why != final:
		return why, fmt.Errorf("pgstore.%s %s: %w", op, s.where, t.err)
	case t.commitUnknown:
		return final, fmt.Errorf("pgstore.%s %s: %w: the connection broke during the commit; the transaction was either applied whole or not at all: %w", op, s.where, storage.ErrUnavailable, t.err)
	case fnErr == nil:
		fnErr = fmt.Errorf("pgstore.%s %s: %w", op, s.where, t.err)
	}
	if down && !errors.Is(fnErr, storage.ErrUnavailable) {
		fnErr = fmt.Errorf("%w: %w", storage.ErrUnavailable, fnErr)
	}
	return final, fnErr
}

// acquire takes a connection of the pool for op, waiting at most
// acquireTimeout, and says whether a failure is worth another attempt.
func (s *Store) acquire(ctx context.Context, op string) (*pgxpool.Conn, outcome, error) {
	actx, cancel := context.WithTimeout(ctx, s.acquireTimeout)
	conn, err := s.pool.Acquire(actx)
	cancel()
	switch {
	case err == nil:
		return conn, final, nil
	case ctx.Err() != nil:
		return nil, final, fmt.Errorf("pgstore.%s %s: %w", op, s.where, ctxErr(ctx, err))
	case actx.Err() != nil && !unreachable(err):
		// Every connection stayed busy (or none could be opened) for the
		// whole wait: nothing was sent, but waiting again would double it.
		return nil, final, fmt.Errorf("pgstore.%s %s: %w: no connection of the pool (%d) was free within %v (%v)",
			op, s.where, storage.ErrUnavailable, s.pool.Config().MaxConns, s.acquireTimeout, err)
	default:
		// Could not connect: nothing was sent.
		return nil, lostConnection, fmt.Errorf("pgstore.%s %s: %w: %w", op, s.where, storage.ErrUnavailable, err)
	}
}

// sqlGetMany reads several keys in one statement. Outside an explicit
// transaction (autocommit), one statement reads one snapshot: the rows
// returned are a consistent state, as in a REPEATABLE READ View.
const sqlGetMany = "SELECT key, value FROM kv WHERE key = ANY($1)"

// GetMany implements [storage.MultiGetter] with a single statement and no
// BEGIN or COMMIT: one round trip to the database, where a View reading
// two keys takes three (BEGIN with the first read, the second read, the
// COMMIT). pgx prepares the statement once per connection and reuses it
// (its default QueryExecModeCacheStatement). Errors are those of View; a
// statement that failed because its pooled connection was dead (after a
// database restart) is sent again on another, since it changes nothing.
func (s *Store) GetMany(ctx context.Context, keys []string) ([][]byte, error) {
	if err := s.enter(ctx); err != nil {
		return nil, fmt.Errorf("pgstore.GetMany: %w", err)
	}
	defer s.active.Done()
	for reconnects := 0; ; reconnects++ {
		out, why, err := s.getMany(ctx, keys)
		if why != lostConnection || reconnects >= maxReconnects {
			return out, err
		}
	}
}

func (s *Store) getMany(ctx context.Context, keys []string) ([][]byte, outcome, error) {
	out := make([][]byte, len(keys))
	valid := make([]string, 0, len(keys))
	for _, k := range keys {
		if checkKey(k) == nil { // others cannot be stored: absent
			valid = append(valid, k)
		}
	}
	if len(valid) == 0 {
		return out, final, nil
	}
	conn, why, err := s.acquire(ctx, "GetMany")
	if err != nil {
		return nil, why, err
	}
	defer conn.Release()
	err = func() error {
		rows, err := conn.Query(ctx, sqlGetMany, valid)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var (
				key   string
				value []byte
			)
			if err := rows.Scan(&key, &value); err != nil {
				return err
			}
			if value == nil {
				value = []byte{} // an empty value is not a missing key
			}
			// pgx decodes into a slice of its own for every row; a key asked
			// for twice gets a copy of its own.
			first := true
			for i, k := range keys {
				if k != key {
					continue
				}
				if first {
					out[i], first = value, false
				} else {
					out[i] = append([]byte{}, value...)
				}
			}
		}
		return rows.Err()
	}()
	if err == nil {
		return out, final, nil
	}
	err = ctxErr(ctx, err)
	switch {
	case ctx.Err() != nil:
		return nil, final, fmt.Errorf("pgstore.GetMany %s: %w", s.where, err)
	case conn.Conn().IsClosed():
		return nil, lostConnection, fmt.Errorf("pgstore.GetMany %s: %w: %w", s.where, storage.ErrUnavailable, err)
	case unreachable(err):
		return nil, final, fmt.Errorf("pgstore.GetMany %s: %w: %w", s.where, storage.ErrUnavailable, err)
	}
	return nil, final, fmt.Errorf("pgstore.GetMany %s: %w", s.where, err)
}

// Close waits for the transactions in flight, then closes every connection
// of the pool. It is idempotent and returns nil. Close must not be called
// from inside a transaction's function.
func (s *Store) Close() error {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.closeOnce.Do(func() {
		s.active.Wait()
		s.pool.Close()
	})
	return nil
}

// enter registers a transaction about to start, or reports why it may not.
func (s *Store) enter(ctx context.Context) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return storage.ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.active.Add(1)
	return nil
}

// ctxErr makes sure that an error caused by ctx being done satisfies
// errors.Is(err, ctx.Err()), whatever pgx wrapped it in.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("%w (%w)", cerr, err)
	}
	return err
}

// backoff returns the pause before attempt+1: a uniformly random duration
// up to a window that doubles with every attempt, capped at maxBackoff.
func backoff(attempt int) time.Duration {
	window := min(minBackoff<<min(attempt-1, 16), maxBackoff)
	return rand.N(window) + 1
}

// sleep waits for d or until ctx is done, and then returns ctx's error.
func sleep(ctx context.Context, d time.Duration) error {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
