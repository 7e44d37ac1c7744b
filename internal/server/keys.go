package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/sys"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/sealed"
)

// Key management of a running server (reliability-security.md 2): the
// work of the routes of internal/httpapi/sys (keys.go there), which the
// server's operator does.
//
// Rotating the root key re-seals the keyring of each region and nothing
// else: data records are sealed under key terms, which the keyring holds.
// The new key is written beside the key file as <file>.next before any
// keyring changes, and renamed over the key file once every keyring is
// sealed under it. A server that stops in between finds the keyring sealed
// under <file>.next at its next start, opens it with that key and finishes
// the rename (openRegion). Other servers sharing a PostgreSQL store keep
// working with the keyring they hold; give them the new key file before
// they restart.
//
// Rotating a domain key adds a term to the domain's key family: new writes
// use it at once, versions written before still open under their term.

// keyFilePath returns the root key file of an installation, "" in dev mode
// (the key lives in memory only).
func keyFilePath(cfg Config) string {
	switch {
	case cfg.Dev:
		return ""
	case cfg.RootKeyFile != "":
		return cfg.RootKeyFile
	}
	return filepath.Join(cfg.DataDir, "root.key")
}

// pendingKeyPath is where a rotation writes the new root key until every
// keyring is sealed under it.
func pendingKeyPath(keyFile string) string { return keyFile + ".next" }

// operator implements sys.Operator: the operations of the /sys routes,
// authorized and audited by the service, carried out on the root key, the
// keyrings and the region stores that only the server holds.
type operator struct{ s *Server }

var _ sys.Operator = operator{}

// RotateRootKey implements sys.Operator.
func (o operator) RotateRootKey(ctx context.Context, c service.Caller) (sys.RootKeyRotation, error) {
	var out sys.RootKeyRotation
	err := o.s.svc.Operate(ctx, c, "coffer:sys/masterKey/rotate", o.s.svc.AccountURN(), func() (err error) {
		out, err = o.s.rotateRoot(ctx)
		return err
	})
	return out, err
}

// rotateRoot re-seals the keyring of every region under a new root key
// and saves the key, as the comment at the top of this file describes.
func (s *Server) rotateRoot(ctx context.Context) (sys.RootKeyRotation, error) {
	s.rotating.Lock()
	defer s.rotating.Unlock()
	if regions, handled, err := s.sealer.rotateRoot(ctx); handled {
		// A stored seal (shamir, passphrase) re-wraps the new key itself.
		return sys.RootKeyRotation{Regions: regions}, err
	}
	keyFile := keyFilePath(s.cfg)
	out := sys.RootKeyRotation{KeyFile: keyFile, Regions: []string{}}
	var (
		next crypto.Key
		err  error
	)
	if keyFile == "" {
		next, err = crypto.NewKey(rand.Reader)
	} else {
		pending := pendingKeyPath(keyFile)
		if _, err := os.Stat(pending); err == nil {
			return out, fmt.Errorf("%w: %s exists; restart the server, which finishes it", sys.ErrRotationPending, pending)
		}
		next, err = crypto.CreateRootKeyFile(pending, rand.Reader)
	}
	if err != nil {
		return out, fmt.Errorf("new root key: %w", err)
	}
	for _, id := range s.sealer.Regions() {
		st, err := s.sealer.sealedStore(id)
		if err != nil {
			return out, err
		}
		if err := st.RotateRootKey(ctx, next); err != nil {
			// Regions rotated so far need the pending key: it stays, and the
			// next start sorts the regions out.
			return out, fmt.Errorf("region %s: %w", id, err)
		}
		out.Regions = append(out.Regions, id)
	}
	if keyFile != "" {
		if err := promoteKey(keyFile); err != nil {
			return out, err
		}
	}
	s.sealer.rotatedFileRoot(next)
	return out, nil
}

// promoteKey renames the pending key over the key file, durably.
func promoteKey(keyFile string) error {
	if err := os.Rename(pendingKeyPath(keyFile), keyFile); err != nil {
		return fmt.Errorf("save the new root key: %w", err)
	}
	d, err := os.Open(filepath.Dir(keyFile))
	if err != nil {
		return fmt.Errorf("save the new root key: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("save the new root key: %w", err)
	}
	return nil
}

// openRegion opens a region's store under root, or, when its keyring is
// sealed under the key a rotation left pending (the server stopped during
// the rotation), under that key, whose file it then renames over the key
// file if used is the last region to open. usedPending reports it.
func openRegion(ctx context.Context, cfg Config, raw storage.Backend, root crypto.Key, family func(string) crypto.KeyID, log *slog.Logger) (_ *sealed.Store, usedPending bool, _ error) {
	sb, err := sealed.Open(ctx, raw, root, family)
	keyFile := keyFilePath(cfg)
	if err == nil || !errors.Is(err, crypto.ErrIntegrity) || keyFile == "" {
		return sb, false, err
	}
	next, nerr := crypto.LoadRootKeyFile(pendingKeyPath(keyFile))
	if nerr != nil {
		return nil, false, err
	}
	sb, nerr = sealed.Open(ctx, raw, next, family)
	if nerr != nil {
		return nil, false, err
	}
	log.Warn("the keyring is sealed under the key of an unfinished root key rotation; using it", "key_file", pendingKeyPath(keyFile))
	return sb, true, nil
}

// finishRotation completes a rotation the server stopped in: when every
// region opened with the pending key, it becomes the key file.
func finishRotation(cfg Config, pending, regions int, log *slog.Logger) error {
	if pending == 0 {
		return nil
	}
	keyFile := keyFilePath(cfg)
	if pending < regions {
		log.Error("some regions need the root key file, others the pending key of an unfinished rotation; both are kept: rotate again once resolved",
			"key_file", keyFile, "pending", pendingKeyPath(keyFile))
		return nil
	}
	if err := promoteKey(keyFile); err != nil {
		return err
	}
	log.Warn("finished an interrupted root key rotation", "key_file", keyFile)
	return nil
}

// RotateDomainKey implements sys.Operator.
func (o operator) RotateDomainKey(ctx context.Context, c service.Caller, id string) (sys.DomainKeyRotation, error) {
	out := sys.DomainKeyRotation{OkmsID: id}
	err := o.s.svc.Operate(ctx, c, "coffer:sys/domainKey/rotate", o.s.svc.DomainURN(id), func() error {
		region, err := o.s.svc.DomainRegion(ctx, id)
		if err != nil {
			return err
		}
		st, err := o.s.sealer.sealedStore(region)
		if err != nil {
			return err
		}
		out.KeyTerm, err = st.RotateKey(ctx, crypto.KeyID(service.DomainKeyFamily(id)))
		return err
	})
	return out, err
}
