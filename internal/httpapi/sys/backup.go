package sys

import (
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
)

// Backup and restore of a running server (reliability-security.md T19):
//
//	POST /sys/backup    {"passphrase": "…"} → the backup file
//	POST /sys/restore   the backup file, passphrase in X-Coffer-Backup-Passphrase
//
// A backup is a consistent snapshot of every record of each region, in
// clear inside a file sealed under the passphrase, so that it restores
// into an installation with another root key. A restore replaces every
// record of an empty installation (no secret, user, group or policy) with
// those of the backup; the backup's tokens are then the valid ones.

// backupRequest is the body of POST /sys/backup.
type backupRequest struct {
	Passphrase string `json:"passphrase"`
}

// String and GoString keep the passphrase out of any formatted output.
func (q backupRequest) String() string   { return "backupRequest{passphrase: <redacted>}" }
func (q backupRequest) GoString() string { return q.String() }

// restoreResponse is the answer of POST /sys/restore.
type restoreResponse struct {
	Records int      `json:"records"`
	Regions []string `json:"regions"`
	Created string   `json:"created"` // when the backup was taken
}

// backup serves POST /sys/backup: the backup file, written as it is
// sealed.
func (a *API) backup(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	var req backupRequest
	if err := httpapi.DecodeJSON(w, r, &req, false); err != nil {
		return err
	}
	snap, err := a.op.Backup(r.Context(), c, req.Passphrase)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="coffer.backup"`)
	if err := snap.WriteFile(w); err != nil {
		// The status is sent: a file cut short does not open, which is
		// the client's signal.
		httpapi.NoteError(r.Context(), err)
		a.log.ErrorContext(r.Context(), "writing a backup failed", "err", err, "request_id", c.RequestID)
		return nil
	}
	a.log.InfoContext(r.Context(), "backup taken", "records", snap.Records(), "request_id", c.RequestID)
	return nil
}

// restore serves POST /sys/restore. The body is limited to MaxBackupSize
// by the routing table.
func (a *API) restore(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	out, err := a.op.Restore(r.Context(), c, r.Body, r.Header.Get(HeaderBackupPassphrase))
	if err != nil {
		return err
	}
	a.log.InfoContext(r.Context(), "backup restored", "records", out.Records, "taken", out.Created, "request_id", c.RequestID)
	httpapi.WriteJSON(w, http.StatusOK, restoreResponse{Records: out.Records, Regions: nonNil(out.Regions), Created: out.Created})
	return nil
}
