package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// SchemaVersion is the schema version this binary creates and understands:
// the number of its embedded migrations.
const SchemaVersion = 1

// ErrSchemaTooNew is returned, wrapped, by [Open] when the database's
// schema was migrated by a newer coffer than this one.
var ErrSchemaTooNew = errors.New("pgstore: the database schema is newer than this coffer")

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrateLockKey is the first half of the advisory lock taken while
// migrating (the second is the schema's name hashed), "coff" in ASCII.
const migrateLockKey = 0x636f6666

// migration is one embedded SQL file, NNNN_name.sql, of version NNNN.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. Versions
// run from 1 to [SchemaVersion] without gaps.
func migrations() ([]migration, error) {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries { // ReadDir sorts by name
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || len(num) != 4 {
			return nil, fmt.Errorf("migration %s: want a name like 0001_name.sql", e.Name())
		}
		if v != len(out)+1 {
			return nil, fmt.Errorf("migration %s: version %d follows %d", e.Name(), v, len(out))
		}
		sql, err := migrationFiles.ReadFile(path.Join("migrations", e.Name()))
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(sql)})
	}
	if len(out) != SchemaVersion {
		return nil, fmt.Errorf("%d embedded migrations, but SchemaVersion is %d", len(out), SchemaVersion)
	}
	return out, nil
}

// migrate brings the schema of conn's search_path up to SchemaVersion.
// When it already is, it only reads (so a role without CREATE rights can
// run a migrated database). Otherwise it takes a transaction-scoped
// advisory lock, so that nodes starting together take turns, reads the
// version again under the lock, and applies the missing migrations and
// their schema_version rows in the same transaction: all or none.
func migrate(ctx context.Context, conn *pgx.Conn) error {
	v, err := schemaVersion(ctx, conn)
	if err != nil {
		return err
	}
	if v == SchemaVersion {
		return nil
	}
	if v > SchemaVersion {
		return tooNew(v)
	}
	all, err := migrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	return pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1, hashtext(coalesce(current_schema(), '')))", migrateLockKey); err != nil {
			return fmt.Errorf("migrate: lock: %w", ctxErr(ctx, err))
		}
		_, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version    integer PRIMARY KEY,
			applied_at timestamptz NOT NULL DEFAULT now()
		)`)
		if err != nil {
			return fmt.Errorf("migrate: create schema_version: %w%s", ctxErr(ctx, err), schemaHint(err))
		}
		var v int
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&v); err != nil {
			return fmt.Errorf("migrate: read schema_version: %w", ctxErr(ctx, err))
		}
		if v > SchemaVersion {
			return tooNew(v)
		}
		for _, m := range all[v:] {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return fmt.Errorf("migrate: %s: %w", m.name, ctxErr(ctx, err))
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_version (version) VALUES ($1)", m.version); err != nil {
				return fmt.Errorf("migrate: record version %d: %w", m.version, ctxErr(ctx, err))
			}
		}
		return nil
	})
}

// schemaVersion returns the highest version in schema_version, or 0 if the
// table does not exist yet.
func schemaVersion(ctx context.Context, conn *pgx.Conn) (int, error) {
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('schema_version') IS NOT NULL").Scan(&exists); err != nil {
		return 0, fmt.Errorf("migrate: %w", ctxErr(ctx, err))
	}
	if !exists {
		return 0, nil
	}
	var v int
	if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("migrate: read schema_version: %w", ctxErr(ctx, err))
	}
	return v, nil
}

func tooNew(v int) error {
	return fmt.Errorf("%w: it is at version %d, this coffer knows versions up to %d; run a coffer at least as new as the one that migrated it", ErrSchemaTooNew, v, SchemaVersion)
}

// schemaHint explains the error PostgreSQL gives when the search_path names
// no existing schema, which is what a mistyped ?search_path= produces.
func schemaHint(err error) string {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "3F000" { // invalid_schema_name
		return " (does the schema named by search_path exist? create it first, or fix the URL)"
	}
	return ""
}
