package server

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/pki"
)

// tlsConfig returns the server's TLS configuration, or nil to serve plain
// HTTP. With --tls-cert and --tls-key it serves that certificate. Without
// them, a non-loopback listener (or --tls-auto) gets a certificate issued by
// an installation CA kept in the data directory, whose certificate file
// clients trust (its path is logged). Loopback listeners stay plain HTTP.
//
// Client certificates are requested, not required, and not verified during
// the handshake: access certificates belong to domains that come and go at
// run time, so each request's certificate is verified by the service
// against the CA of the domain it addresses (iam.md 7.3).
//
// It also returns the PEM of the installation CA when it issued the
// certificate, for the domains' publicCA, and, when the certificate comes
// from --tls-cert and --tls-key, the certFiles that reload them.
func tlsConfig(cfg Config, log *slog.Logger) (*tls.Config, string, *certFiles, error) {
	var (
		cert  tls.Certificate
		caPEM string
		files *certFiles
	)
	switch {
	case cfg.TLSCert != "" || cfg.TLSKey != "":
		if cfg.TLSCert == "" || cfg.TLSKey == "" {
			return nil, "", nil, errors.New("--tls-cert and --tls-key go together")
		}
		c, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, "", nil, fmt.Errorf("load TLS certificate: %w", err)
		}
		cert = c
		files = &certFiles{cert: cfg.TLSCert, key: cfg.TLSKey}
		files.changed() // the stamps of the files just loaded
	case cfg.TLSAuto || !loopback(cfg.Listen):
		c, pem, err := installationCert(cfg, log)
		if err != nil {
			return nil, "", nil, err
		}
		cert, caPEM = c, pem
	default:
		log.Warn("serving plain HTTP on loopback: access certificates (mTLS) need TLS; use --tls-cert/--tls-key or --tls-auto")
		return nil, "", nil, nil
	}
	tc := &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequestClientCert,
	}
	if files != nil {
		files.set(tc, cert)
		tc.GetConfigForClient = files.config
	}
	return tc, caPEM, files, nil
}

// certFiles serves the certificate of --tls-cert and --tls-key and
// reloads it: each handshake takes the configuration holding the pair
// loaded last (GetConfigForClient), so new connections get a reloaded pair
// while those already open keep theirs.
type certFiles struct {
	cert, key string
	current   atomic.Pointer[tls.Config]

	mu   sync.Mutex
	seen [2]fileStamp // of cert and key when last looked at (reload.go)
}

// set makes cert the certificate of new connections, in a copy of base.
func (f *certFiles) set(base *tls.Config, cert tls.Certificate) {
	c := base.Clone()
	c.GetConfigForClient = nil
	c.Certificates = []tls.Certificate{cert}
	f.current.Store(c)
}

func (f *certFiles) config(*tls.ClientHelloInfo) (*tls.Config, error) { return f.current.Load(), nil }

// reload loads the pair again. A pair that does not load (unreadable, not
// PEM, a key that does not match the certificate) is refused and the
// current one kept. It returns the new certificate's leaf.
func (f *certFiles) reload() (*x509.Certificate, error) {
	c, err := tls.LoadX509KeyPair(f.cert, f.key)
	if err != nil {
		return nil, err
	}
	f.set(f.current.Load(), c)
	return c.Leaf, nil
}

// loopback reports whether addr listens only on a loopback address.
func loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// installationCert issues a server certificate from the installation CA,
// creating the CA on first use: <data-dir>/tls-ca.json (mode 0600, the CA
// with its key) and <data-dir>/ca.pem (its certificate, for clients).
func installationCert(cfg Config, log *slog.Logger) (tls.Certificate, string, error) {
	now := time.Now()
	var ca *pki.CA
	if cfg.Dev {
		c, err := pki.NewInstallationCA(now, rand.Reader)
		if err != nil {
			return tls.Certificate{}, "", err
		}
		ca = c
	} else {
		c, err := loadOrCreateCA(cfg.DataDir, now, log)
		if err != nil {
			return tls.Certificate{}, "", err
		}
		ca = c
	}
	host, _, _ := net.SplitHostPort(cfg.Listen)
	hosts := []string{"localhost", "127.0.0.1", "::1"}
	if host != "" && host != "0.0.0.0" && host != "::" {
		hosts = append(hosts, host)
	}
	if h, err := os.Hostname(); err == nil {
		hosts = append(hosts, h)
	}
	certPEM, keyPEM, err := ca.IssueServer(hosts, now, rand.Reader)
	if err != nil {
		return tls.Certificate{}, "", fmt.Errorf("issue the server certificate: %w", err)
	}
	c, err := tls.X509KeyPair(certPEM, keyPEM)
	return c, string(ca.CertificatePEM()), err
}

func loadOrCreateCA(dir string, now time.Time, log *slog.Logger) (*pki.CA, error) {
	path, pemPath := filepath.Join(dir, "tls-ca.json"), filepath.Join(dir, "ca.pem")
	if b, err := os.ReadFile(path); err == nil {
		ca, err := pki.ParseCA(b)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		log.Info("TLS: server certificate from the installation CA; clients trust its certificate", "ca_file", pemPath)
		return ca, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	ca, err := pki.NewInstallationCA(now, rand.Reader)
	if err != nil {
		return nil, err
	}
	b, err := ca.Marshal()
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return nil, err
	}
	if err := os.WriteFile(pemPath, ca.CertificatePEM(), 0o644); err != nil {
		return nil, err
	}
	log.Warn("TLS: created an installation CA; give its certificate to clients (--ca)", "ca_file", pemPath)
	return ca, nil
}
