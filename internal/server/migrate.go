package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/boltstore"
	"github.com/seed-3e8d63de/coffer/internal/storage/pgstore"
)

// DefaultMigrateBatch is the number of records [Migrate] copies per
// PostgreSQL transaction: large enough that the copy is not dominated by
// commits, small enough that a transaction stays a few MiB.
const DefaultMigrateBatch = 500

// MigrateOptions configures [Migrate].
type MigrateOptions struct {
	From      string    // data directory of the embedded installation, or its coffer.db file
	To        string    // PostgreSQL URL of the target
	Force     bool      // delete whatever the target holds first, instead of refusing
	BatchSize int       // records per transaction; default DefaultMigrateBatch
	Progress  io.Writer // progress lines; nil discards them
}

// MigrateResult summarises a finished migration.
type MigrateResult struct {
	Source  string // the bbolt file copied
	Target  string // the PostgreSQL database, host:port/database (no credentials)
	Records int    // records copied, counted in the target and read back equal
	Bytes   int64  // bytes of values copied
	Deleted int    // records deleted from the target first (Force)
}

// Migrate copies every record of an embedded (bbolt) installation into a
// PostgreSQL database, as stored: ciphertext, keyring and all, without the
// root key and without decrypting anything. The servers that will use the
// target need the installation's root key.
//
// The source is opened read-only, so no server may be running on it; the
// copy reads one consistent snapshot of it. The target is migrated to the
// current schema; if it already holds records, Migrate refuses unless
// opts.Force, which deletes them first (no server may be using it either).
// Records are written in batches, each its own transaction, then verified:
// the target must hold exactly as many records as the source, and every
// record is read back from the target and compared byte for byte. An
// interrupted migration leaves a partial target; run it again with Force.
func Migrate(ctx context.Context, opts MigrateOptions) (MigrateResult, error) {
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultMigrateBatch
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	var res MigrateResult
	res.Source = opts.From
	if info, err := os.Stat(opts.From); err == nil && info.IsDir() {
		res.Source = filepath.Join(opts.From, "coffer.db")
	}
	src, err := boltstore.OpenReadOnly(res.Source, boltstore.Options{})
	if err != nil {
		return res, fmt.Errorf("migrate: source: %w", err)
	}
	defer src.Close()
	dst, err := pgstore.Open(ctx, opts.To, pgstore.Options{})
	if err != nil {
		return res, fmt.Errorf("migrate: target: %w", err)
	}
	defer dst.Close()
	res.Target = dst.Location()

	total, err := count(ctx, src, opts.BatchSize)
	if err != nil {
		return res, fmt.Errorf("migrate: counting the source: %w", err)
	}
	if res.Deleted, err = clearTarget(ctx, dst, opts, progress); err != nil {
		return res, err
	}
	fmt.Fprintf(progress, "migrate: copying %d records from %s to %s\n", total, res.Source, res.Target)
	if res.Records, res.Bytes, err = copyRecords(ctx, src, dst, opts.BatchSize, total, progress); err != nil {
		return res, fmt.Errorf("migrate: copy (after %d records): %w", res.Records, err)
	}
	if res.Records != total {
		return res, fmt.Errorf("migrate: the source held %d records when counted but %d when copied; is a server using it?", total, res.Records)
	}
	if err := verify(ctx, src, dst, opts.BatchSize, total, progress); err != nil {
		return res, fmt.Errorf("migrate: verify: %w", err)
	}
	return res, nil
}

// clearTarget refuses a target that holds records, or deletes them with
// opts.Force, and returns how many it deleted.
func clearTarget(ctx context.Context, dst storage.Backend, opts MigrateOptions, progress io.Writer) (int, error) {
	n, err := count(ctx, dst, opts.BatchSize)
	if err != nil {
		return 0, fmt.Errorf("migrate: reading the target: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	if !opts.Force {
		return 0, fmt.Errorf("migrate: the target already holds %d records; refusing to mix two installations (--force deletes them first)", n)
	}
	fmt.Fprintf(progress, "migrate: deleting the %d records the target holds (--force)\n", n)
	deleted := 0
	for {
		var keys []string
		err := dst.Update(ctx, func(tx storage.Tx) error {
			var err error
			if keys, err = tx.List("", "", opts.BatchSize); err != nil {
				return err
			}
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return deleted, fmt.Errorf("migrate: clearing the target: %w", err)
		}
		if len(keys) == 0 {
			return deleted, nil
		}
		deleted += len(keys)
	}
}

// record is one key and its value, as stored.
type record struct {
	key   string
	value []byte
}

// pages calls fn with the records of b in key order, batch at a time, all
// from one View (one snapshot).
func pages(ctx context.Context, b storage.Backend, batch int, fn func([]record) error) error {
	return b.View(ctx, func(tx storage.Tx) error {
		after := ""
		for {
			keys, err := tx.List("", after, batch)
			if err != nil || len(keys) == 0 {
				return err
			}
			recs := make([]record, len(keys))
			for i, k := range keys {
				v, err := tx.Get(k)
				if err != nil {
					return fmt.Errorf("read %q: %w", k, err)
				}
				recs[i] = record{k, v}
			}
			if err := fn(recs); err != nil {
				return err
			}
			after = keys[len(keys)-1]
		}
	})
}

// count returns the number of records in b.
func count(ctx context.Context, b storage.Backend, batch int) (int, error) {
	n := 0
	err := b.View(ctx, func(tx storage.Tx) error {
		after := ""
		for {
			keys, err := tx.List("", after, max(batch, 1000))
			if err != nil || len(keys) == 0 {
				return err
			}
			n += len(keys)
			after = keys[len(keys)-1]
		}
	})
	return n, err
}

// copyRecords writes the records of src into dst, one transaction per
// batch.
func copyRecords(ctx context.Context, src, dst storage.Backend, batch, total int, progress io.Writer) (int, int64, error) {
	var n int
	var size int64
	err := pages(ctx, src, batch, func(recs []record) error {
		err := dst.Update(ctx, func(tx storage.Tx) error {
			for _, r := range recs {
				if err := tx.Put(r.key, r.value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		n += len(recs)
		for _, r := range recs {
			size += int64(len(r.value))
		}
		fmt.Fprintf(progress, "migrate: copied %d/%d records\n", n, total)
		return nil
	})
	return n, size, err
}

// errMismatch reports a record of the target that differs from the source.
var errMismatch = errors.New("the target differs from the source")

// verify checks that dst holds exactly the records of src: as many, and
// each one equal byte for byte.
func verify(ctx context.Context, src, dst storage.Backend, batch, total int, progress io.Writer) error {
	n, err := count(ctx, dst, batch)
	if err != nil {
		return fmt.Errorf("counting the target: %w", err)
	}
	if n != total {
		return fmt.Errorf("%w: it holds %d records, the source %d", errMismatch, n, total)
	}
	checked := 0
	err = pages(ctx, src, batch, func(recs []record) error {
		err := dst.View(ctx, func(tx storage.Tx) error {
			for _, r := range recs {
				v, err := tx.Get(r.key)
				switch {
				case errors.Is(err, storage.ErrNotFound):
					return fmt.Errorf("%w: %q is missing", errMismatch, r.key)
				case err != nil:
					return fmt.Errorf("read %q: %w", r.key, err)
				case !bytes.Equal(v, r.value):
					return fmt.Errorf("%w: %q holds %d bytes that differ from the source's %d", errMismatch, r.key, len(v), len(r.value))
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		checked += len(recs)
		fmt.Fprintf(progress, "migrate: verified %d/%d records\n", checked, total)
		return nil
	})
	return err
}
