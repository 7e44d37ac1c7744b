package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/crypto/backupfile"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Backup and restore of a running server (reliability-security.md T19),
// for the account root and ADMIN users, audited:
//
//	POST /sys/backup    {"passphrase": "…"} → the backup file
//	POST /sys/restore   the backup file, passphrase in X-Coffer-Backup-Passphrase
//
// A backup is a consistent snapshot of each region (one read-only
// transaction per region) of every record in clear, the keyring excepted,
// sealed into the backup file format (backupfile.go) under the passphrase.
// Records are in clear inside it so that a backup restores into an
// installation with another root key: restoring writes each record through
// the target's encryption layer. Domain ids, paths, versions, states,
// settings, identities, policies, tokens (and the pepper their digests
// need) and credentials come back as they were.
//
// Restore replaces every record of an empty installation (no secret, no
// user, group or policy) with those of the backup, region by region, each
// in one transaction, then reloads what the service keeps in memory. The
// target's own root token is gone afterwards: the backup's tokens are
// valid. Other servers sharing the target's PostgreSQL store must restart.

// maxRestore bounds a backup file the server accepts.
const maxRestore = 1 << 30

// HeaderBackupPassphrase carries the passphrase of a restore: the body is
// the backup file itself.
const HeaderBackupPassphrase = "X-Coffer-Backup-Passphrase"

// Errors of backup and restore.
var (
	errNotEmpty = errors.New("the installation is not empty: restore needs one with no secret, user, group or policy")
	errRegions  = errors.New("the backup's regions are not this server's")
)

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

func (s *Server) backupRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /sys/backup", s.backup)
	mux.HandleFunc("POST /sys/restore", s.restore)
}

// regionIDs returns the server's regions, sorted.
func (s *Server) regionIDs() []string {
	ids := make([]string, 0, len(s.store.regions))
	for id := range s.store.regions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// backup serves POST /sys/backup.
func (s *Server) backup(w http.ResponseWriter, r *http.Request) {
	c, err := s.operator(r)
	if err != nil {
		s.keyError(w, r, err)
		return
	}
	var req struct {
		Passphrase string `json:"passphrase"`
	}
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		s.keyError(w, r, err)
		return
	}
	if len(req.Passphrase) < backupfile.MinPassphrase {
		s.keyError(w, r, backupfile.ErrPassphrase)
		return
	}
	var snap bytes.Buffer
	var records int
	err = s.svc.Operate(r.Context(), c, "coffer:sys/backup", s.svc.AccountURN(), func() error {
		var err error
		records, err = s.snapshot(r.Context(), &snap)
		return err
	})
	if err != nil {
		s.keyError(w, r, err)
		return
	}
	defer clear(snap.Bytes())
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="coffer.backup"`)
	bw, err := backupfile.NewWriter(w, req.Passphrase)
	if err == nil {
		_, err = bw.Write(snap.Bytes())
	}
	if err == nil {
		err = bw.Close()
	}
	if err != nil {
		// The status is sent: a cut file fails to open, which is the
		// client's signal.
		s.log.ErrorContext(r.Context(), "writing a backup failed", "err", err, "request_id", httpapi.RequestID(r.Context()))
		return
	}
	s.log.InfoContext(r.Context(), "backup taken", "records", records, "request_id", httpapi.RequestID(r.Context()))
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

// RestoreResult is the answer to a restore.
type RestoreResult struct {
	Records int      `json:"records"`
	Regions []string `json:"regions"`
	Created string   `json:"created"` // when the backup was taken
}

// restore serves POST /sys/restore.
func (s *Server) restore(w http.ResponseWriter, r *http.Request) {
	c, err := s.operator(r)
	if err != nil {
		s.keyError(w, r, err)
		return
	}
	var out RestoreResult
	err = s.svc.Operate(r.Context(), c, "coffer:sys/restore", s.svc.AccountURN(), func() error {
		plain, err := backupfile.Open(http.MaxBytesReader(w, r.Body, maxRestore), r.Header.Get(HeaderBackupPassphrase), maxRestore)
		if err != nil {
			return err
		}
		defer clear(plain)
		out, err = s.restoreSnapshot(r.Context(), plain)
		return err
	})
	if err != nil {
		s.keyError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "backup restored", "records", out.Records, "taken", out.Created, "request_id", httpapi.RequestID(r.Context()))
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// restoreSnapshot checks the snapshot and the installation, replaces the
// records of each region, and reloads the service.
func (s *Server) restoreSnapshot(ctx context.Context, plain []byte) (RestoreResult, error) {
	var (
		out      RestoreResult
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
			return out, backupfile.ErrOpen
		}
		switch {
		case first:
			if l.Format != backupFormatName || l.Version != 1 {
				return out, backupfile.ErrOpen
			}
			head = l
		case l.End:
			if l.Records != n {
				return out, backupfile.ErrOpen
			}
			ended = true
		default:
			byRegion[l.Region] = append(byRegion[l.Region], l)
			n++
		}
	}
	if sc.Err() != nil || !ended {
		return out, backupfile.ErrOpen
	}
	if !slices.Equal(head.Regions, s.regionIDs()) || head.DefaultRegion != s.store.region {
		return out, fmt.Errorf("%w: the backup has %v (default %s), this server %v (default %s)",
			errRegions, head.Regions, head.DefaultRegion, s.regionIDs(), s.store.region)
	}
	if err := s.checkEmpty(ctx); err != nil {
		return out, err
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
			return out, fmt.Errorf("region %s: %w", id, err)
		}
	}
	if err := s.svc.Reload(ctx); err != nil {
		return out, err
	}
	return RestoreResult{Records: n, Regions: head.Regions, Created: head.Created}, nil
}

// checkEmpty refuses an installation holding a secret, a user, a group
// or a policy.
func (s *Server) checkEmpty(ctx context.Context) error {
	for _, id := range s.regionIDs() {
		err := s.store.regions[id].View(ctx, func(tx storage.Tx) error {
			keys, err := tx.List("", "", 0)
			if err != nil {
				return err
			}
			for _, k := range keys {
				_, rest, _ := strings.Cut(strings.TrimPrefix(k, "d/"), "/")
				switch {
				case strings.HasPrefix(k, "d/") && strings.HasPrefix(rest, "s/"),
					strings.HasPrefix(k, "iam/user/"), strings.HasPrefix(k, "iam/group/"), strings.HasPrefix(k, "iam/policy/"):
					return errNotEmpty
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}
