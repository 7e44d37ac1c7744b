package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Reload asks a running server to re-read what it can change without a
// restart: the TLS certificate and key of --tls-cert and --tls-key, the
// audit file, and the limits. Everything else needs a restart (the command
// that reads the configuration says which settings changed).
type Reload struct {
	// Limits, if set, are put in force.
	Limits *service.Limits
	// Force reloads the TLS pair and reopens the audit file even if their
	// files look unchanged: an operator asked (SIGHUP, as logrotate's
	// postrotate sends). Without it, the pair is reloaded when its files
	// changed and the audit file reopened when it was moved.
	Force bool
}

// Reload does what r asks, logs it, and returns the problems it met. A
// pair that does not load, or an audit file that does not reopen, leaves
// the previous one in use.
func (s *Server) Reload(r Reload) error {
	var errs []error
	if f := s.certFiles; f != nil && (r.Force || f.changed()) {
		leaf, err := f.reload()
		if err != nil {
			s.log.Error("reload: the TLS certificate and key were refused; new connections keep the previous pair",
				"cert", f.cert, "key", f.key, "err", err)
			errs = append(errs, fmt.Errorf("TLS certificate: %w", err))
		} else {
			s.log.Info("reload: new connections use the TLS certificate read again", "cert", f.cert,
				"subject", leaf.Subject.String(), "serial", leaf.SerialNumber.String(), "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
		}
	}
	if a := s.auditFile; a != nil && (r.Force || a.Moved()) {
		if err := a.Reopen(); err != nil {
			s.log.Error("reload: the audit file did not reopen; events still go to the previous file", "path", s.cfg.AuditFile, "err", err)
			errs = append(errs, err)
		} else {
			s.log.Info("reload: audit file reopened", "path", s.cfg.AuditFile)
		}
	}
	if r.Limits != nil {
		s.svc.SetLimits(*r.Limits)
		l := *r.Limits
		s.log.Info("reload: limits in force", "rate_limit", l.RequestRate, "rate_burst", l.RequestBurst,
			"max_secrets_per_domain", l.SecretsPerDomain, "max_versions_per_domain", l.VersionsPerDomain, "max_policies", l.Policies)
	}
	return errors.Join(errs...)
}

// watch serves reload requests, and every ReloadInterval reloads what
// changed, until ctx is done.
func (s *Server) watch(ctx context.Context) {
	var tick <-chan time.Time
	if s.cfg.ReloadInterval > 0 {
		t := time.NewTicker(s.cfg.ReloadInterval)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			s.notify("STOPPING=1")
			return
		case r := <-s.cfg.Reloads:
			_ = s.Reload(r)
		case <-tick:
			_ = s.Reload(Reload{})
		}
	}
}

// notify tells cfg.Notify of state, if set.
func (s *Server) notify(state string) {
	if s.cfg.Notify != nil {
		s.cfg.Notify(state)
	}
}

// fileStamp tells whether a file changed: its identity, size and time.
type fileStamp struct {
	dev, ino uint64
	size     int64
	mtime    time.Time
}

func stampOf(path string) fileStamp {
	fi, err := os.Stat(path) // through symbolic links: Kubernetes swaps ..data
	if err != nil {
		return fileStamp{}
	}
	st := fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.dev, st.ino = uint64(sys.Dev), sys.Ino
	}
	return st
}

// changed reports whether the certificate or key file changed since the
// last look, which it records: a pair refused is not tried again until
// its files change again (or Force).
func (f *certFiles) changed() bool {
	now := [2]fileStamp{stampOf(f.cert), stampOf(f.key)}
	f.mu.Lock()
	defer f.mu.Unlock()
	if now == f.seen {
		return false
	}
	f.seen = now
	return true
}
