package pgstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// The statements of a transaction. Comparisons and ORDER BY use the key
// column's collation, "C": byte-wise, like every coffer backend.
const (
	beginView   = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
	beginUpdate = "BEGIN ISOLATION LEVEL SERIALIZABLE"

	sqlGet       = "SELECT value FROM kv WHERE key = $1"
	sqlGetLocked = "SELECT value FROM kv WHERE key = $1 FOR UPDATE"
	sqlGetShared = "SELECT value FROM kv WHERE key = $1 FOR SHARE"
	sqlInsert    = "INSERT INTO kv (key, value) VALUES ($1, $2)"
	sqlUpsert    = "INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value"
	sqlDelete    = "DELETE FROM kv WHERE key = $1"
)

// sqlList[afterBound][bounded] lists keys from a lower bound, inclusive (the
// prefix) or exclusive (after), up to an exclusive upper bound if bounded.
// $2 is the limit; NULL means none.
var sqlList = [2][2]string{
	{
		"SELECT key FROM kv WHERE key >= $1 ORDER BY key LIMIT $2",
		"SELECT key FROM kv WHERE key >= $1 AND key < $3 ORDER BY key LIMIT $2",
	},
	{
		"SELECT key FROM kv WHERE key > $1 ORDER BY key LIMIT $2",
		"SELECT key FROM kv WHERE key > $1 AND key < $3 ORDER BY key LIMIT $2",
	},
}

// rollbackTimeout bounds the ROLLBACK sent when a transaction ends without
// committing, even if the request's context is already done.
const rollbackTimeout = 5 * time.Second

// errTxDone is returned by a Tx used after the function it was passed to
// has returned, which the storage contract forbids.
var errTxDone = errors.New("pgstore: transaction used after its function returned")

// ErrInvalidKey is returned, wrapped, by Put for a key that a PostgreSQL
// text column cannot hold: one that is not valid UTF-8 or contains a NUL
// byte. Such keys are never stored, so Get and List simply do not find
// them.
var ErrInvalidKey = errors.New("pgstore: key is not UTF-8 text without NUL bytes")

// keyState is what a transaction knows about a key from its own reads.
type keyState uint8

const (
	unread keyState = iota // no Get of this key yet: writes are blind upserts
	locked                 // a Get found the row, and FOR UPDATE locked it
	absent                 // a Get found no row: creating it is a plain INSERT
)

// write is a statement queued by Put or Delete, sent with the next read or
// with the COMMIT.
type write struct {
	sql   string
	key   string
	value []byte // nil for a delete
}

// tx implements [storage.Tx] over one connection for one attempt of one
// transaction function.
type tx struct {
	ctx      context.Context
	conn     *pgx.Conn
	writable bool

	begin  string  // BEGIN statement not sent yet; "" once sent
	queued []write // writes not sent yet, in order
	seen   map[string]keyState

	// err is the first error the database returned. The transaction is
	// aborted from then on, so every later operation returns err too.
	err  error
	done bool // fn has returned

	// commitUnknown is set when the connection failed in a round trip that
	// carried the COMMIT: the server may have committed.
	commitUnknown bool
}

func newTx(ctx context.Context, conn *pgx.Conn, writable bool) *tx {
	t := &tx{ctx: ctx, conn: conn, writable: writable, begin: beginView}
	if writable {
		t.begin = beginUpdate
		t.seen = make(map[string]keyState)
	}
	return t
}

// Get implements [storage.Tx]. It returns [storage.ErrNotFound] itself (not
// wrapped). Inside Update it locks the row it finds until the commit.
func (t *tx) Get(key string) ([]byte, error) { return t.get(key, sqlGetLocked) }

// GetShared implements [storage.SharedGetter]: Get with a shared row lock
// inside Update (SELECT … FOR SHARE), which concurrent Updates reading the
// same row hold together and an Update writing it waits for. Every write
// in a domain reads the domain's configuration: with FOR UPDATE they ran
// one after another.
func (t *tx) GetShared(key string) ([]byte, error) { return t.get(key, sqlGetShared) }

func (t *tx) get(key, lockingSQL string) ([]byte, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	if checkKey(key) != nil {
		t.see(key, absent)
		return nil, storage.ErrNotFound
	}
	sql := sqlGet
	if t.writable {
		sql = lockingSQL
	}
	var value []byte
	found := true
	err := t.roundTrip(func(br pgx.BatchResults) error {
		err := br.QueryRow().Scan(&value)
		if errors.Is(err, pgx.ErrNoRows) {
			found = false
			return nil
		}
		return err
	}, "get "+quote(key), sql, key)
	switch {
	case err != nil:
		return nil, err
	case !found:
		t.see(key, absent)
		return nil, storage.ErrNotFound
	}
	t.see(key, locked)
	if value == nil {
		value = []byte{} // an empty value is not a missing key
	}
	// pgx decodes into a slice of its own for every row: the caller owns it.
	return value, nil
}

// Put implements [storage.Tx]. It returns [storage.ErrReadOnly] in a View
// and an error wrapping [ErrInvalidKey] for a key PostgreSQL cannot store.
// The statement is sent later, with the next read or the commit; a
// conflict it meets is reported there.
func (t *tx) Put(key string, value []byte) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	if err := checkKey(key); err != nil {
		return err
	}
	sql := sqlUpsert
	if t.seen[key] == absent {
		// Not an upsert: if another transaction created the key since this
		// one saw it absent, the primary key fails this INSERT and Update
		// runs fn again, now seeing the key.
		sql = sqlInsert
	}
	// Queued until the next round trip, so it gets a copy the caller cannot
	// mutate meanwhile; never nil, which pgx would send as NULL.
	t.queued = append(t.queued, write{sql: sql, key: key, value: append(make([]byte, 0, len(value)), value...)})
	t.see(key, locked)
	return nil
}

// Delete implements [storage.Tx]. It returns [storage.ErrReadOnly] in a
// View. Deleting an absent key deletes nothing.
func (t *tx) Delete(key string) error {
	if err := t.writeCheck(); err != nil {
		return err
	}
	if checkKey(key) != nil {
		return nil // cannot be stored, so it is absent
	}
	t.queued = append(t.queued, write{sql: sqlDelete, key: key})
	return nil
}

// List implements [storage.Tx] with one range scan of the primary key.
func (t *tx) List(prefix, after string, limit int) ([]string, error) {
	if err := t.usable(); err != nil {
		return nil, err
	}
	r, err := listRange(prefix, after)
	if err != nil || r.empty {
		return nil, err
	}
	var lim any // NULL: no limit
	if limit > 0 {
		lim = int64(limit)
	}
	args := []any{r.lower, lim}
	if r.bounded {
		args = append(args, r.upper)
	}
	var keys []string
	err = t.roundTrip(func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		keys, err = pgx.CollectRows(rows, pgx.RowTo[string])
		return err
	}, "list "+quote(prefix), sqlList[b2i(r.exclusive)][b2i(r.bounded)], args...)
	if err != nil {
		return nil, err
	}
	return keys, nil
}

func (t *tx) usable() error {
	if t.done {
		return errTxDone
	}
	return t.err
}

func (t *tx) writeCheck() error {
	switch {
	case t.done:
		return errTxDone
	case !t.writable:
		return storage.ErrReadOnly
	}
	return t.err
}

// see records what a read of key found, inside Update.
func (t *tx) see(key string, st keyState) {
	if t.writable {
		t.seen[key] = st
	}
}

// roundTrip sends, in one pipelined batch, the BEGIN if not sent yet, the
// queued writes and then sql (unless it is ""), whose result read
// consumes; what names the operation in errors. A database error is kept
// in t.err, since PostgreSQL has aborted the transaction.
func (t *tx) roundTrip(read func(pgx.BatchResults) error, what, sql string, args ...any) error {
	var b pgx.Batch
	if t.begin != "" {
		b.Queue(t.begin)
	}
	for _, w := range t.queued {
		if w.value != nil {
			b.Queue(w.sql, w.key, w.value)
		} else {
			b.Queue(w.sql, w.key)
		}
	}
	if sql != "" {
		b.Queue(sql, args...)
	}
	began, queued := t.begin != "", t.queued
	t.begin, t.queued = "", nil
	if b.Len() == 0 {
		return nil
	}

	br := t.conn.SendBatch(t.ctx, &b)
	atLast := false // the error is sql's own, or came after every result
	err := func() error {
		if began {
			if _, err := br.Exec(); err != nil {
				return fmt.Errorf("begin: %w", err)
			}
		}
		for _, w := range queued {
			if _, err := br.Exec(); err != nil {
				op := "put"
				if w.value == nil {
					op = "delete"
				}
				return fmt.Errorf("%s %s: %w", op, quote(w.key), err)
			}
		}
		if read == nil {
			return nil
		}
		if err := read(br); err != nil {
			atLast = true
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}()
	if cerr := br.Close(); err == nil && cerr != nil {
		atLast = true
		err = fmt.Errorf("%s: %w", what, cerr)
	}
	if err != nil {
		t.err = fmt.Errorf("pgstore: %w", ctxErr(t.ctx, err))
		// The server answers in order and stops at the first error, so the
		// COMMIT certainly did not happen if the server reported an error
		// for a statement before it, or an ERROR (not FATAL: its backend
		// lives on) for the COMMIT itself. A broken connection leaves the
		// outcome unknown: the server may have run the whole batch.
		var pgErr *pgconn.PgError
		if sql == "COMMIT" && !(errors.As(err, &pgErr) && (!atLast || severity(pgErr) == "ERROR")) {
			t.commitUnknown = true
		}
		return t.err
	}
	return nil
}

// classify says whether t.err, which ended the transaction, is worth
// running the transaction's function again for.
func (t *tx) classify() outcome {
	var pgErr *pgconn.PgError
	if errors.As(t.err, &pgErr) {
		switch pgErr.Code {
		case "40001", // serialization_failure
			"40P01", // deadlock_detected
			"23505": // unique_violation: a key seen absent was created meanwhile
			return conflict
		}
	}
	if t.ctx.Err() != nil || t.commitUnknown || !t.conn.IsClosed() {
		return final
	}
	// pgx closes the connection when the network fails or the backend
	// exits (FATAL): a later attempt gets another one.
	return lostConnection
}

// unreachable reports whether t.err, which ended the transaction, means
// that the database could not be reached rather than that it refused the
// transaction: the connection broke, or the server is shutting down,
// starting up, out of connections or a read-only standby (a failover in
// progress).
func (t *tx) unreachable() bool {
	if t.ctx.Err() != nil {
		return false // the caller gave up: not the database's doing
	}
	return t.conn.IsClosed() || unreachable(t.err)
}

// unreachable reports whether err says the database cannot be reached.
func unreachable(err error) bool {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch pgErr.Code {
		case "57P01", // admin_shutdown: the server is stopping, or the backend was terminated
			"57P02", // crash_shutdown
			"57P03", // cannot_connect_now: starting up, or in recovery
			"53300", // too_many_connections
			"25006": // read_only_sql_transaction: a standby, before or during failover
			return true
		}
		return strings.HasPrefix(pgErr.Code, "08") // connection_exception
	}
	if _, ok := errors.AsType[*pgconn.ConnectError](err); ok {
		return true
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false // a caller's deadline (it is a net.Error too)
	}
	if _, ok := errors.AsType[net.Error](err); ok {
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE)
}

func severity(e *pgconn.PgError) string {
	if e.SeverityUnlocalized != "" {
		return e.SeverityUnlocalized
	}
	return e.Severity
}

// commit sends the queued writes and COMMIT in one round trip. A
// transaction that never reached the server has nothing to commit.
func (t *tx) commit() error {
	if t.begin != "" && len(t.queued) == 0 {
		t.begin = ""
		return nil
	}
	var tag string
	err := t.roundTrip(func(br pgx.BatchResults) error {
		ct, err := br.Exec()
		tag = ct.String()
		return err
	}, "commit", "COMMIT")
	if err != nil {
		return err
	}
	if tag != "COMMIT" {
		// PostgreSQL answers COMMIT of an aborted transaction with ROLLBACK;
		// t.err should have caught the abort first.
		t.err = fmt.Errorf("pgstore: the server rolled the transaction back (%s)", tag)
		return t.err
	}
	return nil
}

// rollback ends the transaction if the server has one open, whether fn
// failed, the commit failed or fn panicked. If the ROLLBACK cannot be sent
// the connection stays in its transaction and the pool discards it.
func (t *tx) rollback() {
	t.done = true
	t.queued = nil
	if t.conn.IsClosed() || t.conn.PgConn().TxStatus() == 'I' {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), rollbackTimeout)
	defer cancel()
	_, _ = t.conn.Exec(ctx, "ROLLBACK")
}

// checkKey reports whether key can be stored in a text column.
func checkKey(key string) error {
	if !utf8.ValidString(key) || strings.IndexByte(key, 0) >= 0 {
		return fmt.Errorf("pgstore: key %q: %w", key, ErrInvalidKey)
	}
	return nil
}

// keyRange is the range of keys a List scans.
type keyRange struct {
	lower     string
	exclusive bool   // lower is after (key > lower), not the prefix (key >= lower)
	upper     string // keys are < upper, if bounded
	bounded   bool
	empty     bool // no storable key can match
}

// listRange turns List's prefix and after into bounds for the primary key:
// prefix <= key < successor(prefix), and key > after.
func listRange(prefix, after string) (keyRange, error) {
	var r keyRange
	if checkKey(prefix) != nil {
		// Stored keys are valid UTF-8 without NUL: none has this prefix.
		return keyRange{empty: true}, nil
	}
	if !utf8.ValidString(after) {
		return r, fmt.Errorf("pgstore: list after %q: %w", after, ErrInvalidKey)
	}
	if i := strings.IndexByte(after, 0); i >= 0 {
		// No stored key contains NUL, so the keys above "x\x00…" are exactly
		// the keys above "x".
		after = after[:i]
	}
	r.upper, r.bounded = successor(prefix)
	r.lower = prefix
	if after != "" && after >= prefix {
		r.lower, r.exclusive = after, true
	}
	if r.bounded && r.lower >= r.upper {
		r.empty = true
	}
	return r, nil
}

// successor returns the least string above every string that starts with
// prefix and below every other valid UTF-8 string above prefix, and false
// if there is none (prefix is empty or only U+10FFFF runes).
//
// Incrementing the last byte, as one would for bytea, can produce invalid
// UTF-8 (0x7f becomes 0x80), which a text parameter rejects; 0xff never
// occurs in UTF-8 at all. Since UTF-8 order is code point order and no
// encoding is a prefix of another, incrementing the last rune that is not
// U+10FFFF (skipping the surrogates) and dropping what follows is exact.
func successor(prefix string) (string, bool) {
	for i := len(prefix); i > 0; {
		r, size := utf8.DecodeLastRuneInString(prefix[:i])
		i -= size
		if r == utf8.MaxRune {
			continue
		}
		next := r + 1
		if next == 0xD800 { // surrogates are not valid in UTF-8
			next = 0xE000
		}
		return prefix[:i] + string(next), true
	}
	return "", false
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// quote formats a key for an error message, shortened: keys are paths,
// never secret values, but a message need not carry a long one whole.
func quote(key string) string {
	const max = 200
	if len(key) > max {
		return fmt.Sprintf("%q…", key[:max])
	}
	return fmt.Sprintf("%q", key)
}
