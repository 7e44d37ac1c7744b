package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/crypto/backupfile"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/sys"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Backup and restore of a running server (reliability-security.md T19):
// the work of the routes of internal/httpapi/sys (backup.go there), which
// the server's operator does.
//
// A backup is a consistent snapshot of each region (one read-only
// transaction per region) of every record in clear, the keyring excepted,
// sealed into the backup file format (internal/crypto/backupfile) under
// the passphrase. Records are in clear inside it so that a backup restores
// into an installation with another root key: restoring writes each record
// through the target's encryption layer. Domain ids, paths, versions,
// states, settings, identities, policies, tokens (and the pepper their
// digests need) and credentials come back as they were.
//
// Restore replaces every record of an empty installation (no secret, no
// user, group or policy: service.IsEmpty) with those of the backup,
// region by region, each in one transaction, then reloads what the service
// keeps in memory. The target's own root token is gone afterwards: the
// backup's tokens are valid. Other servers sharing the target's PostgreSQL
// store must restart.

// backupLine is one line of a backup's plaintext: the header, a record,
// or the trailer.
type backupLine struct {
	Format        string   `json:"format,omitempty"`
	Version       int      `json:"version,omitempty"`
	Created       string   `json:"created,omitempty"`
	Regions       []string `json:"regions,omitempty"`
	DefaultRegion string   `json:"defaultRegion,omitempty"`
	Region        string   `json:"region,omitempty"`
	Key           string   `json:"key,omitempty"`
	Value         []byte   `json:"value,omitempty"`
	End           bool     `json:"end,omitempty"`
	Records       int      `json:"records,omitempty"`
}

const backupFormatName = "coffer-backup"

// regionIDs returns the server's regions, sorted.
func (s *Server) regionIDs() []string {
	ids := make([]string, 0, len(s.store.regions))
	for id := range s.store.regions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Backup implements sys.Operator: a passphrase too short is refused
// before the call is authorized.
func (o operator) Backup(ctx context.Context, c service.Caller, passphrase string) (sys.Snapshot, error) {
	if len(passphrase) < backupfile.MinPassphrase {
		return nil, fmt.Errorf("%w: it must be at least %d characters", sys.ErrPassphrase, backupfile.MinPassphrase)
	}
	snap := &snapshot{passphrase: passphrase}
	err := o.s.svc.Operate(ctx, c, "coffer:sys/backup", o.s.svc.AccountURN(), func() (err error) {
		snap.records, err = o.s.snapshot(ctx, &snap.plain)
		return err
	})
	if err != nil {
		clear(snap.plain.Bytes())
		return nil, err
	}
	return snap, nil
}

// snapshot is a backup taken: its plaintext, sealed as it is written.
type snapshot struct {
	plain      bytes.Buffer
	records    int
	passphrase string
}

func (s *snapshot) Records() int { return s.records }

func (s *snapshot) WriteFile(w io.Writer) error {
	defer clear(s.plain.Bytes())
	bw, err := backupfile.NewWriter(w, s.passphrase)
	if err != nil {
		return err
	}
	if _, err := bw.Write(s.plain.Bytes()); err != nil {
		return err
	}
	return bw.Close()
}

// snapshot writes the plaintext of a backup to out: one read-only
// transaction per region.
func (s *Server) snapshot(ctx context.Context, out io.Writer) (int, error) {
	enc := json.NewEncoder(out)
	ids := s.regionIDs()
	if err := enc.Encode(backupLine{Format: backupFormatName, Version: 1, Created: time.Now().UTC().Format(time.RFC3339),
		Regions: ids, DefaultRegion: s.store.region}); err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		err := s.store.regions[id].View(ctx, func(tx storage.Tx) error {
			keys, err := tx.List("", "", 0)
			if err != nil {
				return err
			}
			for _, k := range keys {
				v, err := tx.Get(k)
				if err != nil {
					return fmt.Errorf("region %s, record %s: %w", id, k, err)
				}
				err = enc.Encode(backupLine{Region: id, Key: k, Value: v})
				clear(v)
				if err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return n, err
		}
	}
	return n, enc.Encode(backupLine{End: true, Records: n})
}

// Restore implements sys.Operator.
func (o operator) Restore(ctx context.Context, c service.Caller, file io.Reader, passphrase string) (sys.Restored, error) {
	var out sys.Restored
	err := o.s.svc.Operate(ctx, c, "coffer:sys/restore", o.s.svc.AccountURN(), func() error {
		plain, err := backupfile.Open(file, passphrase, sys.MaxBackupSize)
		switch {
		case errors.Is(err, backupfile.ErrOpen):
			return sys.ErrBackupUnreadable
		case errors.Is(err, backupfile.ErrTooLarge):
			return sys.ErrBackupTooLarge
		case err != nil:
			return err
		}
		defer clear(plain)
		out, err = o.s.restoreSnapshot(ctx, plain)
		return err
	})
	return out, err
}

// restoreSnapshot checks the snapshot and the installation, replaces the
// records of each region, and reloads the service.
func (s *Server) restoreSnapshot(ctx context.Context, plain []byte) (sys.Restored, error) {
	var (
		head     backupLine
		byRegion = map[string][]backupLine{}
		ended    bool
		n        int
	)
	sc := bufio.NewScanner(bytes.NewReader(plain))
	sc.Buffer(make([]byte, 0, 64<<10), 4<<20)
	for first := true; sc.Scan(); first = false {
		var l backupLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil || ended {
			return sys.Restored{}, sys.ErrBackupUnreadable
		}
		switch {
		case first:
			if l.Format != backupFormatName || l.Version != 1 {
				return sys.Restored{}, sys.ErrBackupUnreadable
			}
			head = l
		case l.End:
			if l.Records != n {
				return sys.Restored{}, sys.ErrBackupUnreadable
			}
			ended = true
		default:
			byRegion[l.Region] = append(byRegion[l.Region], l)
			n++
		}
	}
	if sc.Err() != nil || !ended {
		return sys.Restored{}, sys.ErrBackupUnreadable
	}
	if !slices.Equal(head.Regions, s.regionIDs()) || head.DefaultRegion != s.store.region {
		return sys.Restored{}, fmt.Errorf("%w: the backup has %v (default %s), this server %v (default %s)",
			sys.ErrRegions, head.Regions, head.DefaultRegion, s.regionIDs(), s.store.region)
	}
	switch empty, err := s.svc.IsEmpty(ctx); {
	case err != nil:
		return sys.Restored{}, err
	case !empty:
		return sys.Restored{}, sys.ErrNotEmpty
	}
	for _, id := range head.Regions {
		err := s.store.regions[id].Update(ctx, func(tx storage.Tx) error {
			keys, err := tx.List("", "", 0)
			if err != nil {
				return err
			}
			for _, k := range keys {
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			for _, l := range byRegion[id] {
				if err := tx.Put(l.Key, l.Value); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return sys.Restored{}, fmt.Errorf("region %s: %w", id, err)
		}
	}
	if err := s.svc.Reload(ctx); err != nil {
		return sys.Restored{}, err
	}
	return sys.Restored{Records: n, Regions: head.Regions, Created: head.Created}, nil
}
