package server

import (
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
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
// certificate, for the domains' publicCA.
func tlsConfig(cfg Config, log *slog.Logger) (*tls.Config, string, error) {
	var (
		cert  tls.Certificate
		caPEM string
	)
	switch {
	case cfg.TLSCert != "" || cfg.TLSKey != "":
		if cfg.TLSCert == "" || cfg.TLSKey == "" {
			return nil, "", errors.New("--tls-cert and --tls-key go together")
		}
		c, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, "", fmt.Errorf("load TLS certificate: %w", err)
		}
		cert = c
	case cfg.TLSAuto || !loopback(cfg.Listen):
		c, pem, err := installationCert(cfg, log)
		if err != nil {
			return nil, "", err
		}
		cert, caPEM = c, pem
	default:
		log.Warn("serving plain HTTP on loopback: access certificates (mTLS) need TLS; use --tls-cert/--tls-key or --tls-auto")
		return nil, "", nil
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequestClientCert,
	}, caPEM, nil
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
