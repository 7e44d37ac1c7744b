package pki

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestCA_IssueServer(t *testing.T) {
	t.Parallel()
	inst, err := NewInstallationCA(t0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := t0.Add(time.Hour)
	certPEM, keyPEM, err := inst.IssueServer([]string{"127.0.0.1", "::1", "localhost", "Coffer.Example"}, now, rand.Reader)
	if err != nil {
		t.Fatalf("IssueServer = %v", err)
	}
	if _, err := tls.X509KeyPair(certPEM, keyPEM); err != nil {
		t.Errorf("tls.X509KeyPair = %v", err)
	}
	cert := parseCertPEM(t, certPEM)
	wantIPs := []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP("::1")}
	if !slices.EqualFunc(cert.IPAddresses, wantIPs, net.IP.Equal) {
		t.Errorf("IPAddresses = %v, want %v", cert.IPAddresses, wantIPs)
	}
	if want := []string{"localhost", "coffer.example"}; !slices.Equal(cert.DNSNames, want) {
		t.Errorf("DNSNames = %q, want %q", cert.DNSNames, want)
	}
	if !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) || cert.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("usage = %v, %b; want [serverAuth], digitalSignature", cert.ExtKeyUsage, cert.KeyUsage)
	}
	if k, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Errorf("public key %T, want ECDSA P-256", cert.PublicKey)
	}
	if cert.IsCA || !cert.NotBefore.Equal(now.Add(-ClockSkew)) || !cert.NotAfter.Equal(now.Add(ServerValidity)) {
		t.Errorf("CA %v, validity %s..%s; want an end entity valid %s..%s",
			cert.IsCA, cert.NotBefore, cert.NotAfter, now.Add(-ClockSkew), now.Add(ServerValidity))
	}
	for _, host := range []string{"coffer.example", "127.0.0.1", "::1"} {
		if _, err := cert.Verify(x509.VerifyOptions{Roots: Pool(inst), DNSName: host, CurrentTime: now}); err != nil {
			t.Errorf("Verify(%s) against the installation CA = %v", host, err)
		}
	}
	access := newTestCA(t, testDomain)
	if _, err := cert.Verify(x509.VerifyOptions{Roots: Pool(access), DNSName: "localhost", CurrentTime: now}); err == nil {
		t.Errorf("Verify against an access CA succeeded")
	}
}

func TestCA_IssueServer_errors(t *testing.T) {
	t.Parallel()
	inst, err := NewInstallationCA(t0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	access := newTestCA(t, testDomain)
	tests := []struct {
		name    string
		ca      *CA
		hosts   []string
		now     time.Time
		wantErr error
	}{
		{"no host", inst, nil, t0, ErrInvalidHost},
		{"empty host", inst, []string{""}, t0, ErrInvalidHost},
		{"underscore", inst, []string{"a_b.example"}, t0, ErrInvalidHost},
		{"leading hyphen", inst, []string{"-a.example"}, t0, ErrInvalidHost},
		{"wildcard", inst, []string{"*.example"}, t0, ErrInvalidHost},
		{"trailing dot", inst, []string{"coffer.example."}, t0, ErrInvalidHost},
		{"label too long", inst, []string{strings.Repeat("a", 64) + ".example"}, t0, ErrInvalidHost},
		{"IP with zone", inst, []string{"fe80::1%eth0"}, t0, ErrInvalidHost},
		{"IP with port", inst, []string{"127.0.0.1:8443"}, t0, ErrInvalidHost},
		{"access CA", access, []string{"localhost"}, t0, ErrCAKind},
		{"zero time", inst, []string{"localhost"}, time.Time{}, ErrInvalidRequest},
		{"CA about to expire", inst, []string{"localhost"}, t0.Add(CAValidity - time.Hour), ErrCAValidity},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, _, err := tc.ca.IssueServer(tc.hosts, tc.now, rand.Reader)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("IssueServer(%q) = %v, want %v", tc.hosts, err, tc.wantErr)
			}
		})
	}
}
