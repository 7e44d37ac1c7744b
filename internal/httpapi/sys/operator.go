package sys

import (
	"context"
	"io"

	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Operator carries out the operations of the /sys routes. The server
// implements it over the root key, the keyrings and the region stores.
//
// Every method authorizes and audits the call through the service
// ([service.Service.Operate]): the account root and ADMIN users only
// ([service.ErrDenied] for anyone else), a request event before the work
// ([service.ErrAuditUnavailable], and nothing done, if it cannot be
// written) and a response event after. Errors a client can cause are
// those of errors.go, possibly wrapped with details; anything else is an
// internal error.
type Operator interface {
	// RotateRootKey re-seals the keyring of every region under a new
	// root key and saves the key in place of the key file. It returns
	// ErrRotationPending while an earlier rotation is unfinished.
	RotateRootKey(ctx context.Context, c service.Caller) (RootKeyRotation, error)

	// RotateDomainKey gives the OKMS domain okmsID a new key term, which
	// new writes use at once. It returns service.ErrDomainNotFound for an
	// unknown domain.
	RotateDomainKey(ctx context.Context, c service.Caller, okmsID string) (DomainKeyRotation, error)

	// Backup takes a consistent snapshot of every region, to be written
	// sealed under passphrase. It returns ErrPassphrase, before any
	// authorization, for a passphrase too short.
	Backup(ctx context.Context, c service.Caller, passphrase string) (Snapshot, error)

	// Restore replaces every record of an empty installation with those
	// of the backup file read from file (at most MaxBackupSize bytes),
	// opened with passphrase. It returns ErrBackupUnreadable,
	// ErrBackupTooLarge, ErrNotEmpty or ErrRegions when it cannot, and
	// then changes nothing.
	Restore(ctx context.Context, c service.Caller, file io.Reader, passphrase string) (Restored, error)
}

// RootKeyRotation is what a root key rotation did.
type RootKeyRotation struct {
	KeyFile string   // where the new key is; "" in dev mode, whose key lives in memory
	Regions []string // the regions whose keyring was re-sealed, sorted
}

// DomainKeyRotation is what a domain key rotation did.
type DomainKeyRotation struct {
	OkmsID  string
	KeyTerm uint32 // the term new writes of the domain use
}

// Snapshot is a backup taken by [Operator.Backup] and not yet written.
type Snapshot interface {
	// Records is the number of records the snapshot holds.
	Records() int
	// WriteFile writes the backup file to w, sealed under the passphrase
	// given to Backup, then clears the snapshot. It is called once. A
	// file cut short by an error does not open.
	WriteFile(w io.Writer) error
}

// Restored is what a restore did.
type Restored struct {
	Records int      // records written
	Regions []string // the regions replaced, sorted
	Created string   // when the backup was taken, RFC 3339
}
