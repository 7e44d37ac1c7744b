package pki

import (
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// signLeaf signs, with ca, a client certificate of the access profile
// (valid from t0 − 5 minutes for a day) after applying mods to its
// template. It lets tests make certificates that Issue refuses to make.
func signLeaf(t testing.TB, ca *CA, mods ...func(*x509.Certificate)) *x509.Certificate {
	t.Helper()
	key := newECKey(t, elliptic.P256())
	san, err := marshalSAN(UPNPrefix+ca.okmsID, []string{userURN})
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(42),
		Subject:               pkix.Name{CommonName: ca.okmsID},
		NotBefore:             t0.Add(-ClockSkew),
		NotAfter:              t0.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		ExtraExtensions:       []pkix.Extension{{Id: oidSubjectAltName, Critical: true, Value: san}},
	}
	for _, m := range mods {
		m(tmpl)
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatalf("CreateCertificate: %v", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatalf("ParseCertificate: %v", err)
	}
	return cert
}

// withSAN replaces the subjectAltName value; nil removes the extension.
func withSAN(value []byte) func(*x509.Certificate) {
	return func(c *x509.Certificate) {
		c.ExtraExtensions = nil
		if value != nil {
			c.ExtraExtensions = []pkix.Extension{{Id: oidSubjectAltName, Critical: true, Value: value}}
		}
	}
}

func TestCA_Verify(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, testDomain)
	other := newTestCA(t, otherDomain)
	twin := newTestCA(t, testDomain) // same subject, another key
	inst, err := NewInstallationCA(t0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	issue := func(c *CA) *x509.Certificate {
		is, err := c.Issue(IssueRequest{IdentityURNs: []string{userURN}, Validity: 24 * time.Hour, Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		return parseCertPEM(t, is.CertificatePEM)
	}
	good := issue(ca)
	at := t0.Add(time.Hour)
	unknownCritical := pkix.Extension{Id: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1}, Critical: true, Value: []byte{0x05, 0x00}}

	tests := []struct {
		name    string
		ca      *CA
		cert    *x509.Certificate
		now     time.Time
		wantErr error
	}{
		{"good", ca, good, at, nil},
		{"good/at notBefore", ca, good, good.NotBefore, nil},
		{"good/at notAfter", ca, good, good.NotAfter, nil},
		{"good/UPN only, no URI", ca, signLeaf(t, ca, withSAN(sanOf(upnName(UPNPrefix+testDomain)))), at, nil},
		{"expired", ca, good, good.NotAfter.Add(time.Second), ErrExpired},
		{"not yet valid", ca, good, good.NotBefore.Add(-time.Second), ErrNotYetValid},
		{"CA expired", ca, signLeaf(t, ca, func(c *x509.Certificate) { c.NotAfter = t0.Add(CAValidity + 48*time.Hour) }),
			t0.Add(CAValidity + time.Hour), ErrExpired},
		{"wrong CA/other domain's certificate", ca, issue(other), at, ErrUnknownAuthority},
		{"wrong CA/verified by the other domain", other, good, at, ErrUnknownAuthority},
		{"wrong CA/same name, other key", twin, good, at, ErrUnknownAuthority},
		{"missing UPN", ca, signLeaf(t, ca, withSAN(sanOf(uriName(userURN)))), at, ErrNoUPN},
		{"no subjectAltName", ca, signLeaf(t, ca, withSAN(nil)), at, ErrNoUPN},
		{"wildcard UPN", ca, signLeaf(t, ca, withSAN(sanOf(upnName("okms.domain:*"), uriName(userURN)))), at, ErrWildcardUPN},
		{"UPN of another domain", ca, signLeaf(t, ca, withSAN(sanOf(upnName(UPNPrefix+otherDomain), uriName(userURN)))), at, ErrDomainMismatch},
		{"serverAuth only", ca, signLeaf(t, ca, func(c *x509.Certificate) { c.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth} }), at, ErrNotClientAuth},
		{"no extended key usage", ca, signLeaf(t, ca, func(c *x509.Certificate) { c.ExtKeyUsage = nil }), at, ErrNotClientAuth},
		{"CA certificate", ca, ca.cert, at, ErrNotClientAuth},
		{"other unhandled critical extension", ca, signLeaf(t, ca, func(c *x509.Certificate) {
			c.ExtraExtensions = append(c.ExtraExtensions, unknownCritical)
		}), at, ErrUnknownAuthority},
		{"foreign certificate", ca, foreignCert(t), t0.Add(time.Minute), ErrNoUPN},
		{"nil certificate", ca, nil, at, ErrUnknownAuthority},
		{"installation CA", inst, good, at, ErrCAKind},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.ca.Verify(tc.cert, tc.now)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Errorf("Verify at %s = %v, want %v", tc.now, err, tc.wantErr)
			}
		})
	}
}

// TestCA_Verify_otherNameOnly shows why Verify edits
// UnhandledCriticalExtensions: x509 alone refuses a certificate whose
// critical subjectAltName holds only the UPN.
func TestCA_Verify_otherNameOnly(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, testDomain)
	cert := signLeaf(t, ca, withSAN(sanOf(upnName(UPNPrefix+testDomain))))
	if !slices.ContainsFunc(cert.UnhandledCriticalExtensions, isSANOID) {
		t.Fatalf("UnhandledCriticalExtensions = %v, want the subjectAltName", cert.UnhandledCriticalExtensions)
	}
	_, err := cert.Verify(x509.VerifyOptions{Roots: Pool(ca), CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
	if !errors.As(err, new(x509.UnhandledCriticalExtension)) {
		t.Errorf("x509 Verify = %v, want UnhandledCriticalExtension", err)
	}
	if err := ca.Verify(cert, t0); err != nil {
		t.Errorf("CA.Verify = %v", err)
	}
	if len(cert.UnhandledCriticalExtensions) != 1 {
		t.Errorf("CA.Verify modified the certificate: %v", cert.UnhandledCriticalExtensions)
	}
}

func TestPool(t *testing.T) {
	t.Parallel()
	a, b := newTestCA(t, testDomain), newTestCA(t, otherDomain)
	pool := Pool(a, nil, &CA{}, b)
	for _, ca := range []*CA{a, b} {
		cert := signLeaf(t, ca)
		if _, err := cert.Verify(x509.VerifyOptions{Roots: pool, CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err != nil {
			t.Errorf("Verify(certificate of %s) against Pool = %v", ca.OKMSID(), err)
		}
	}
	if _, err := signLeaf(t, a).Verify(x509.VerifyOptions{Roots: Pool(b), CurrentTime: t0, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}); err == nil {
		t.Errorf("Verify(certificate of a) against Pool(b) succeeded")
	}
}

func TestSerialHex(t *testing.T) {
	t.Parallel()
	tests := []struct {
		serial *big.Int
		want   string
	}{
		{big.NewInt(1), "00000000000000000000000000000001"},
		{new(big.Int).Lsh(big.NewInt(1), 127), "80000000000000000000000000000000"},
		{new(big.Int).Lsh(big.NewInt(1), 130), "400000000000000000000000000000000"},
	}
	for _, tc := range tests {
		if got := SerialHex(&x509.Certificate{SerialNumber: tc.serial}); got != tc.want {
			t.Errorf("SerialHex(%v) = %q, want %q", tc.serial, got, tc.want)
		}
	}
	if got := SerialHex(nil); got != "" {
		t.Errorf("SerialHex(nil) = %q, want empty", got)
	}
}

// TestTLS_clientCertificate runs real TLS handshakes: a server with a
// certificate from the installation CA asks for client certificates
// verified against the access CAs (iam.md 7.3 step 1), and its handler
// applies step 2 with the addressed domain's CA.
func TestTLS_clientCertificate(t *testing.T) {
	t.Parallel()
	now := time.Now()
	ca, err := NewCA(testDomain, now, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	other, err := NewCA(otherDomain, now, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	stranger, err := NewCA(testDomain, now, rand.Reader) // not trusted by the server
	if err != nil {
		t.Fatal(err)
	}
	inst, err := NewInstallationCA(now, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serverCert, serverKey, err := inst.IssueServer([]string{"127.0.0.1", "localhost"}, now, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serverPair, err := tls.X509KeyPair(serverCert, serverKey)
	if err != nil {
		t.Fatal(err)
	}

	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil || len(r.TLS.PeerCertificates) == 0 {
			http.Error(w, "no client certificate", http.StatusUnauthorized)
			return
		}
		leaf := r.TLS.PeerCertificates[0]
		id, err := UPNDomain(leaf)
		if err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if err := ca.Verify(leaf, time.Now()); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "%s %s", id, SerialHex(leaf))
	}))
	srv.TLS = &tls.Config{
		Certificates: []tls.Certificate{serverPair},
		ClientAuth:   tls.VerifyClientCertIfGiven,
		ClientCAs:    Pool(ca, other),
		MinVersion:   tls.VersionTLS12,
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)

	// The key of the CSR case stays with the client.
	clientKey := newECKey(t, elliptic.P384())
	clientKeyDER, err := x509.MarshalPKCS8PrivateKey(clientKey)
	if err != nil {
		t.Fatal(err)
	}
	clientKeyPEM := pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: clientKeyDER})

	issue := func(c *CA, req IssueRequest) (tls.Certificate, string) {
		t.Helper()
		req.IdentityURNs, req.Validity, req.Now = []string{userURN}, time.Hour, now
		is, err := c.Issue(req)
		if err != nil {
			t.Fatal(err)
		}
		key := is.PrivateKeyPEM
		if len(req.CSR) != 0 {
			key = clientKeyPEM
		}
		pair, err := tls.X509KeyPair(is.CertificatePEM, key)
		if err != nil {
			t.Fatal(err)
		}
		return pair, is.Serial
	}
	ecdsaPair, ecdsaSerial := issue(ca, IssueRequest{})
	rsaPair, rsaSerial := issue(ca, IssueRequest{KeyType: KeyTypeRSA})
	csrPair, csrSerial := issue(ca, IssueRequest{CSR: newCSR(t, clientKey)})
	otherPair, _ := issue(other, IssueRequest{})
	strangerPair, _ := issue(stranger, IssueRequest{})

	tests := []struct {
		name       string
		certs      []tls.Certificate
		wantStatus int // 0: the handshake fails
		wantBody   string
	}{
		{"200/ECDSA certificate", []tls.Certificate{ecdsaPair}, http.StatusOK, testDomain + " " + ecdsaSerial},
		{"200/RSA certificate", []tls.Certificate{rsaPair}, http.StatusOK, testDomain + " " + rsaSerial},
		{"200/certificate from a CSR", []tls.Certificate{csrPair}, http.StatusOK, testDomain + " " + csrSerial},
		{"401/no certificate", nil, http.StatusUnauthorized, "no client certificate"},
		{"401/other domain's certificate", []tls.Certificate{otherPair}, http.StatusUnauthorized, "pki: certificate not issued by this CA"},
		{"handshake fails/untrusted CA", []tls.Certificate{strangerPair}, 0, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: Pool(inst), Certificates: tc.certs}}
			t.Cleanup(tr.CloseIdleConnections)
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, srv.URL, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := (&http.Client{Transport: tr}).Do(req)
			if tc.wantStatus == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("GET succeeded with status %d, want a handshake failure", resp.StatusCode)
				}
				return
			}
			if err != nil {
				t.Fatalf("GET = %v", err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantStatus || !strings.Contains(string(body), tc.wantBody) {
				t.Errorf("GET = %d %q, want %d %q", resp.StatusCode, body, tc.wantStatus, tc.wantBody)
			}
		})
	}
}
