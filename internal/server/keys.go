package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"

	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/crypto/backupfile"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/sealed"
)

// Key management of a running server (reliability-security.md 2), for the
// account root and ADMIN users, audited:
//
//	POST /sys/master-key/rotate              re-seal every keyring under a new root key
//	POST /sys/domains/{okmsId}/key/rotate    give a domain a new key term
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

// keyRoutes mounts the key management routes on mux.
func (s *Server) keyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("POST /sys/master-key/rotate", s.rotateMasterKey)
	mux.HandleFunc("POST /sys/domains/{okmsId}/key/rotate", s.rotateDomainKey)
	s.backupRoutes(mux)
}

// MasterKeyRotation is the answer to a root key rotation.
type MasterKeyRotation struct {
	KeyFile string   `json:"keyFile,omitempty"` // where the new key is; "" in dev mode
	Regions []string `json:"regions"`           // the regions whose keyring was re-sealed
}

// DomainKeyRotation is the answer to a domain key rotation.
type DomainKeyRotation struct {
	OkmsID  string `json:"okmsId"`
	KeyTerm uint32 `json:"keyTerm"` // the term new writes use
}

func (s *Server) operator(r *http.Request) (service.Caller, error) {
	p, err := httpapi.Authenticate(r, s.svc, "")
	if err != nil {
		return service.Caller{}, err
	}
	return service.Caller{Principal: p, Surface: "sys", RequestID: httpapi.RequestID(r.Context()), RemoteAddr: r.RemoteAddr}, nil
}

// rotateMasterKey serves POST /sys/master-key/rotate.
func (s *Server) rotateMasterKey(w http.ResponseWriter, r *http.Request) {
	c, err := s.operator(r)
	if err != nil {
		s.keyError(w, r, err)
		return
	}
	var out MasterKeyRotation
	err = s.svc.Operate(r.Context(), c, "coffer:sys/masterKey/rotate", s.svc.AccountURN(), func() error {
		var err error
		out, err = s.rotateRoot(r.Context())
		return err
	})
	if err != nil {
		s.keyError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "root key rotated", "key_file", out.KeyFile, "regions", out.Regions, "request_id", httpapi.RequestID(r.Context()))
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// errRotationPending: a rotation stopped half way, and its key is still
// needed.
var errRotationPending = errors.New("a previous root key rotation did not finish")

// rotateRoot re-seals the keyring of every region under a new root key
// and saves the key, as the comment at the top of this file describes.
func (s *Server) rotateRoot(ctx context.Context) (MasterKeyRotation, error) {
	s.rotating.Lock()
	defer s.rotating.Unlock()
	keyFile := keyFilePath(s.cfg)
	out := MasterKeyRotation{KeyFile: keyFile, Regions: []string{}}
	var (
		next crypto.Key
		err  error
	)
	if keyFile == "" {
		next, err = crypto.NewKey(rand.Reader)
	} else {
		pending := pendingKeyPath(keyFile)
		if _, err := os.Stat(pending); err == nil {
			return out, fmt.Errorf("%w: %s exists; restart the server, which finishes it", errRotationPending, pending)
		}
		next, err = crypto.CreateRootKeyFile(pending, rand.Reader)
	}
	if err != nil {
		return out, fmt.Errorf("new root key: %w", err)
	}
	ids := make([]string, 0, len(s.store.regions))
	for id := range s.store.regions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		st, ok := s.store.regions[id].(*sealed.Store)
		if !ok {
			return out, fmt.Errorf("region %s is not encrypted by this server", id)
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

// rotateDomainKey serves POST /sys/domains/{okmsId}/key/rotate.
func (s *Server) rotateDomainKey(w http.ResponseWriter, r *http.Request) {
	c, err := s.operator(r)
	if err != nil {
		s.keyError(w, r, err)
		return
	}
	id := r.PathValue("okmsId")
	out := DomainKeyRotation{OkmsID: id}
	err = s.svc.Operate(r.Context(), c, "coffer:sys/domainKey/rotate", s.svc.DomainURN(id), func() error {
		region, err := s.svc.DomainRegion(r.Context(), id)
		if err != nil {
			return err
		}
		st, ok := s.store.regions[region].(*sealed.Store)
		if !ok {
			return fmt.Errorf("region %s is not encrypted by this server", region)
		}
		out.KeyTerm, err = st.RotateKey(r.Context(), crypto.KeyID(service.KeyFamily("d/"+id+"/")))
		return err
	})
	if err != nil {
		s.keyError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "domain key rotated", "okms_id", id, "key_term", out.KeyTerm, "request_id", httpapi.RequestID(r.Context()))
	httpapi.WriteJSON(w, http.StatusOK, out)
}

// keyError answers a failed key management request in the server's own
// envelope ({"errors": [...]}); unknown errors are logged and answered with
// a generic 500.
func (s *Server) keyError(w http.ResponseWriter, r *http.Request, err error) {
	httpapi.NoteError(r.Context(), err)
	status, msg := http.StatusInternalServerError, "internal error; see the server log for request "+httpapi.RequestID(r.Context())
	switch {
	case errors.Is(err, service.ErrUnauthenticated):
		status, msg = http.StatusUnauthorized, "missing or invalid credentials"
	case errors.Is(err, service.ErrTooManyRequests), errors.Is(err, service.ErrRateLimited):
		status, msg = http.StatusTooManyRequests, "too many requests; retry later"
	case errors.Is(err, service.ErrDenied):
		status, msg = http.StatusForbidden, "permission denied: key management is for the account root and ADMIN users"
	case errors.Is(err, service.ErrDomainNotFound):
		status, msg = http.StatusNotFound, "OKMS domain not found"
	case errors.Is(err, service.ErrAuditUnavailable):
		status, msg = http.StatusServiceUnavailable, "the audit log is unavailable; try again later"
	case errors.Is(err, errRotationPending), errors.Is(err, errNotEmpty), errors.Is(err, errRegions):
		status, msg = http.StatusConflict, err.Error()
	case errors.Is(err, backupfile.ErrPassphrase), errors.Is(err, backupfile.ErrOpen), errors.Is(err, httpapi.ErrFormBody):
		status, msg = http.StatusBadRequest, err.Error()
	case errors.As(err, new(*httpapi.BodyError)):
		status, msg = http.StatusBadRequest, err.Error()
	case errors.Is(err, httpapi.ErrBodyTooLarge), errors.As(err, new(*http.MaxBytesError)):
		status, msg = http.StatusRequestEntityTooLarge, "the request body is too large"
	default:
		s.log.ErrorContext(r.Context(), "key management failed", "err", err, "request_id", httpapi.RequestID(r.Context()))
	}
	httpapi.WriteJSON(w, status, map[string][]string{"errors": {msg}})
}
