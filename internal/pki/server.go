package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"
)

// ServerValidity is the validity of the TLS server certificates made by
// [CA.IssueServer].
const ServerValidity = 365 * 24 * time.Hour

// IssueServer issues a TLS server certificate for hosts with the
// installation CA, for a coffer listening on a non-loopback address without
// --tls-cert: a new ECDSA P-256 key, subject CN=coffer, one SAN IP address
// or DNS name per host (in order), extended key usage serverAuth, key usage
// digitalSignature, valid from now − [ClockSkew] for [ServerValidity]. The
// random serial number is read from rand; pass crypto/rand.Reader outside
// tests.
//
// It returns the certificate and the PKCS #8 private key, PEM-encoded, ready
// for tls.X509KeyPair; keyPEM must not be logged. Errors: [ErrCAKind] if ca
// is not the installation CA, [ErrInvalidHost] if hosts is empty or holds
// something that is neither an IP address (without zone) nor a DNS name,
// [ErrInvalidRequest] for a zero now, [ErrCAValidity] if the CA is not valid
// at now or expires first.
func (ca *CA) IssueServer(hosts []string, now time.Time, rand io.Reader) (certPEM, keyPEM []byte, err error) {
	if err := ca.usable(kindInstallation); err != nil {
		return nil, nil, fmt.Errorf("pki.CA.IssueServer: %w", err)
	}
	if now.IsZero() {
		return nil, nil, fmt.Errorf("pki.CA.IssueServer: %w: zero now", ErrInvalidRequest)
	}
	tmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "coffer"},
		NotBefore:             now.Add(-ClockSkew),
		NotAfter:              now.Add(ServerValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	if len(hosts) == 0 {
		return nil, nil, fmt.Errorf("pki.CA.IssueServer: %w: no host", ErrInvalidHost)
	}
	for _, h := range hosts {
		if addr, err := netip.ParseAddr(h); err == nil {
			if addr.Zone() != "" {
				return nil, nil, fmt.Errorf("pki.CA.IssueServer: %w: %q has a zone", ErrInvalidHost, h)
			}
			tmpl.IPAddresses = append(tmpl.IPAddresses, net.IP(addr.AsSlice()))
			continue
		}
		if !validDNSName(h) {
			return nil, nil, fmt.Errorf("pki.CA.IssueServer: %w: %q", ErrInvalidHost, h)
		}
		tmpl.DNSNames = append(tmpl.DNSNames, strings.ToLower(h))
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand)
	if err != nil {
		return nil, nil, fmt.Errorf("pki.CA.IssueServer: generating key: %w", err)
	}
	_, certPEM, err = ca.sign(tmpl, &key.PublicKey, now, rand)
	if err != nil {
		return nil, nil, fmt.Errorf("pki.CA.IssueServer: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("pki.CA.IssueServer: encoding key: %w", err)
	}
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), nil
}

// validDNSName reports whether h is a host name of at most 253 characters
// made of labels of 1 to 63 letters, digits and inner hyphens. Wildcards and
// a trailing dot are refused.
func validDNSName(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
