package server

import (
	"crypto/rand"
	"crypto/x509"
	"errors"
	"fmt"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/pki"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// certIssuer implements service.CertIssuer over internal/pki, so that the
// service stores CA records without knowing X.509.
type certIssuer struct{}

var _ service.CertIssuer = certIssuer{}

func (certIssuer) NewCA(okmsID string, now time.Time) ([]byte, error) {
	ca, err := pki.NewCA(okmsID, now, rand.Reader)
	if err != nil {
		return nil, err
	}
	return ca.Marshal()
}

func (certIssuer) Issue(record []byte, req service.CertRequest) (service.IssuedCert, error) {
	ca, err := pki.ParseCA(record)
	if err != nil {
		return service.IssuedCert{}, err
	}
	is, err := ca.Issue(pki.IssueRequest{OKMSID: req.OKMSID, IdentityURNs: req.IdentityURNs, Validity: req.Validity,
		KeyType: pki.KeyType(req.KeyType), CSR: req.CSR, Now: req.Now, Rand: rand.Reader})
	if err != nil {
		return service.IssuedCert{}, err
	}
	return service.IssuedCert{CertificatePEM: is.CertificatePEM, PrivateKeyPEM: is.PrivateKeyPEM, Serial: is.Serial, KeyType: string(is.KeyType), NotAfter: is.NotAfter}, nil
}

func (certIssuer) Verify(record []byte, der []byte, now time.Time) (string, error) {
	ca, err := pki.ParseCA(record)
	if err != nil {
		return "", err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return "", fmt.Errorf("parse client certificate: %w", err)
	}
	if err := ca.Verify(cert, now); err != nil {
		return "", err
	}
	serial := pki.SerialHex(cert)
	if serial == "" {
		return "", errors.New("client certificate without serial")
	}
	return serial, nil
}
