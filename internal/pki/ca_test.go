package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"testing"
	"time"
)

const (
	testDomain  = "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"
	otherDomain = "0b9d1c2e-7f3a-4e5b-8c6d-9e0f1a2b3c4d"
	userURN     = "urn:v1:eu:identity:user:coffer/alice"
	groupURN    = "urn:v1:eu:identity:group:coffer/ops"
)

// t0 is the creation time of the test CAs.
var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// newTestCA returns a new access CA for okmsID created at t0.
func newTestCA(t testing.TB, okmsID string) *CA {
	t.Helper()
	ca, err := NewCA(okmsID, t0, rand.Reader)
	if err != nil {
		t.Fatalf("NewCA(%q) = %v", okmsID, err)
	}
	return ca
}

// parseCertPEM parses a single PEM certificate.
func parseCertPEM(t testing.TB, b []byte) *x509.Certificate {
	t.Helper()
	block, rest := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" || len(bytes.TrimSpace(rest)) != 0 {
		t.Fatalf("not a single PEM certificate: %q", b)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatalf("x509.ParseCertificate: %v", err)
	}
	return cert
}

func TestNewCA(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, testDomain)
	cert := parseCertPEM(t, ca.CertificatePEM())

	if got, want := cert.Subject.CommonName, "coffer access CA "+testDomain; got != want {
		t.Errorf("subject CN = %q, want %q", got, want)
	}
	if !bytes.Equal(cert.RawSubject, cert.RawIssuer) {
		t.Errorf("issuer %q != subject %q", cert.Issuer, cert.Subject)
	}
	if err := cert.CheckSignatureFrom(cert); err != nil {
		t.Errorf("self-signature: %v", err)
	}
	pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P384() {
		t.Errorf("public key = %T, want ECDSA P-384", cert.PublicKey)
	}
	if !cert.BasicConstraintsValid || !cert.IsCA || cert.MaxPathLen != 0 || !cert.MaxPathLenZero {
		t.Errorf("basic constraints: valid %v, CA %v, maxPathLen %d (zero %v); want a CA with path length 0",
			cert.BasicConstraintsValid, cert.IsCA, cert.MaxPathLen, cert.MaxPathLenZero)
	}
	if cert.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("key usage = %b, want certSign|cRLSign", cert.KeyUsage)
	}
	if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageClientAuth {
		t.Errorf("extended key usage = %v, want [clientAuth]", cert.ExtKeyUsage)
	}
	if !cert.NotBefore.Equal(t0.Add(-ClockSkew)) || !cert.NotAfter.Equal(t0.Add(CAValidity)) {
		t.Errorf("validity = %s..%s, want %s..%s", cert.NotBefore, cert.NotAfter, t0.Add(-ClockSkew), t0.Add(CAValidity))
	}
	if cert.SerialNumber.Sign() <= 0 || cert.SerialNumber.BitLen() > 128 {
		t.Errorf("serial = %v, want a positive 128-bit number", cert.SerialNumber)
	}
	if len(cert.SubjectKeyId) == 0 {
		t.Errorf("no subject key identifier")
	}
	if got := ca.OKMSID(); got != testDomain {
		t.Errorf("OKMSID() = %q, want %q", got, testDomain)
	}

	// CertificatePEM returns a copy.
	b := ca.CertificatePEM()
	b[0] = 'X'
	if ca.CertificatePEM()[0] != '-' {
		t.Errorf("CertificatePEM shares its slice with the CA")
	}
}

func TestNewCA_invalidDomain(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		okmsID string
	}{
		{"empty", ""},
		{"wildcard", "*"},
		{"space", "a b"},
		{"slash", "a/b"},
		{"non-ascii", "domaïne"},
		{"too long", strings.Repeat("a", MaxOKMSIDLen+1)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ca, err := NewCA(tc.okmsID, t0, rand.Reader)
			if !errors.Is(err, ErrInvalidDomain) {
				t.Errorf("NewCA(%q) = %v, %v; want ErrInvalidDomain", tc.okmsID, ca, err)
			}
		})
	}
	if _, err := NewCA(strings.Repeat("a", MaxOKMSIDLen), t0, rand.Reader); err != nil {
		t.Errorf("NewCA(%d characters) = %v, want success", MaxOKMSIDLen, err)
	}
	if _, err := NewCA(testDomain, time.Time{}, rand.Reader); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("NewCA(zero time) = %v, want ErrInvalidRequest", err)
	}
}

func TestNewInstallationCA(t *testing.T) {
	t.Parallel()
	ca, err := NewInstallationCA(t0, rand.Reader)
	if err != nil {
		t.Fatalf("NewInstallationCA = %v", err)
	}
	cert := parseCertPEM(t, ca.CertificatePEM())
	if !strings.HasPrefix(cert.Subject.CommonName, "coffer installation CA ") {
		t.Errorf("subject CN = %q, want the installation CA prefix", cert.Subject.CommonName)
	}
	if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("extended key usage = %v, want [serverAuth]", cert.ExtKeyUsage)
	}
	if got := ca.OKMSID(); got != "" {
		t.Errorf("OKMSID() = %q, want empty", got)
	}
	other, err := NewInstallationCA(t0, rand.Reader)
	if err != nil {
		t.Fatalf("NewInstallationCA = %v", err)
	}
	if o := parseCertPEM(t, other.CertificatePEM()); o.Subject.CommonName == cert.Subject.CommonName {
		t.Errorf("two installation CAs share the subject %q", o.Subject.CommonName)
	}
}

func TestCA_zero(t *testing.T) {
	t.Parallel()
	for name, ca := range map[string]*CA{"nil": nil, "zero": {}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := ca.Issue(IssueRequest{IdentityURNs: []string{userURN}, Validity: time.Hour, Now: t0}); !errors.Is(err, ErrCAKind) {
				t.Errorf("Issue = %v, want ErrCAKind", err)
			}
			if _, _, err := ca.IssueServer([]string{"localhost"}, t0, rand.Reader); !errors.Is(err, ErrCAKind) {
				t.Errorf("IssueServer = %v, want ErrCAKind", err)
			}
			if err := ca.Verify(&x509.Certificate{}, t0); !errors.Is(err, ErrCAKind) {
				t.Errorf("Verify = %v, want ErrCAKind", err)
			}
			if _, err := ca.Marshal(); !errors.Is(err, ErrCAKind) {
				t.Errorf("Marshal = %v, want ErrCAKind", err)
			}
			if b := ca.CertificatePEM(); b != nil {
				t.Errorf("CertificatePEM = %q, want nil", b)
			}
			if id := ca.OKMSID(); id != "" {
				t.Errorf("OKMSID = %q, want empty", id)
			}
		})
	}
}

func TestCA_MarshalParseCA(t *testing.T) {
	t.Parallel()
	inst, err := NewInstallationCA(t0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	for name, ca := range map[string]*CA{"access": newTestCA(t, testDomain), "installation": inst} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			b, err := ca.Marshal()
			if err != nil {
				t.Fatalf("Marshal = %v", err)
			}
			got, err := ParseCA(b)
			if err != nil {
				t.Fatalf("ParseCA(Marshal()) = %v", err)
			}
			if got.kind != ca.kind || got.OKMSID() != ca.OKMSID() {
				t.Errorf("ParseCA kind, okmsId = %v, %q; want %v, %q", got.kind, got.OKMSID(), ca.kind, ca.OKMSID())
			}
			if !bytes.Equal(got.CertificatePEM(), ca.CertificatePEM()) {
				t.Errorf("certificate changed in the round trip")
			}
			if !got.key.Equal(ca.key) {
				t.Errorf("private key changed in the round trip")
			}
			again, err := got.Marshal()
			if err != nil || !bytes.Equal(again, b) {
				t.Errorf("Marshal(ParseCA(b)) = %v, differs from b: %v", err, !bytes.Equal(again, b))
			}
		})
	}

	// A restored access CA issues certificates the original verifies.
	ca := newTestCA(t, testDomain)
	b, err := ca.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	restored, err := ParseCA(b)
	if err != nil {
		t.Fatal(err)
	}
	is, err := restored.Issue(IssueRequest{IdentityURNs: []string{userURN}, Validity: time.Hour, Now: t0})
	if err != nil {
		t.Fatalf("restored.Issue = %v", err)
	}
	if err := ca.Verify(parseCertPEM(t, is.CertificatePEM), t0); err != nil {
		t.Errorf("original.Verify(certificate of the restored CA) = %v", err)
	}
}

func TestParseCA_errors(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, testDomain)
	good, err := ca.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	other := newTestCA(t, otherDomain)
	otherBytes, err := other.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	certPart, keyPart := splitPEM(t, good)
	_, otherKey := splitPEM(t, otherBytes)

	// A leaf certificate with its own key: not a CA.
	is, err := ca.Issue(IssueRequest{IdentityURNs: []string{userURN}, Validity: time.Hour, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	// A self-signed CA whose subject is not one of coffer's.
	foreignKey, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	foreign := selfSignedCA(t, "someone else's CA", foreignKey)
	foreignKeyDER, err := x509.MarshalPKCS8PrivateKey(foreignKey)
	if err != nil {
		t.Fatal(err)
	}
	foreignBytes := append(foreign, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: foreignKeyDER})...)

	tests := []struct {
		name string
		in   []byte
	}{
		{"empty", nil},
		{"certificate only", certPart},
		{"key only", keyPart},
		{"trailing data", append(bytes.Clone(good), "garbage"...)},
		{"repeated certificate", append(bytes.Clone(good), certPart...)},
		{"unexpected block", append(bytes.Clone(good), pem.EncodeToMemory(&pem.Block{Type: "X", Bytes: []byte{1}})...)},
		{"key of another CA", append(bytes.Clone(certPart), otherKey...)},
		{"leaf certificate", append(bytes.Clone(is.CertificatePEM), is.PrivateKeyPEM...)},
		{"foreign subject", foreignBytes},
		{"corrupt certificate", append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte{0x30, 0x00}}), keyPart...)},
		{"corrupt key", append(bytes.Clone(certPart), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{0x30, 0x00}})...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseCA(tc.in)
			if !errors.Is(err, ErrMalformedCA) {
				t.Fatalf("ParseCA = %v, %v; want ErrMalformedCA", got, err)
			}
			if strings.Contains(err.Error(), "PRIVATE") {
				t.Errorf("error %q quotes key material", err)
			}
		})
	}
	// Surrounding white space is fine.
	if _, err := ParseCA(append(append([]byte("\n\n"), good...), "\n \n"...)); err != nil {
		t.Errorf("ParseCA(with white space) = %v", err)
	}
}

// splitPEM returns the certificate block and the key block of a marshalled
// CA.
func splitPEM(t *testing.T, b []byte) (certPEM, keyPEM []byte) {
	t.Helper()
	i := bytes.Index(b, []byte("-----BEGIN PRIVATE KEY-----"))
	if i < 0 {
		t.Fatalf("no private key block in %d bytes", len(b))
	}
	return bytes.Clone(b[:i]), bytes.Clone(b[i:])
}

// selfSignedCA returns the PEM of a self-signed CA certificate for key.
func selfSignedCA(t *testing.T, cn string, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             t0.Add(-time.Hour),
		NotAfter:              t0.Add(CAValidity),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// keyMarkers returns strings that would reveal the CA's private key if
// they appeared in printed output.
func keyMarkers(t *testing.T, ca *CA) []string {
	t.Helper()
	raw, err := ca.key.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ca.key)
	if err != nil {
		t.Fatal(err)
	}
	d := new(big.Int).SetBytes(raw)
	return []string{
		"PRIVATE KEY",
		hex.EncodeToString(raw),
		strings.ToUpper(hex.EncodeToString(raw)),
		d.String(), // decimal, as fmt prints a *big.Int
		base64.StdEncoding.EncodeToString(der)[:40],
		fmt.Sprint(raw), // as fmt prints a []byte with %v
	}
}

func TestCA_redaction(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, testDomain)
	markers := keyMarkers(t, ca)
	check := func(t *testing.T, what, out string) {
		t.Helper()
		for _, m := range markers {
			if strings.Contains(out, m) {
				t.Errorf("%s prints key material %.20q…: %.200q", what, m, out)
			}
		}
	}

	type exported struct{ CA *CA }
	type unexportedValue struct{ ca CA }
	type unexportedPointer struct{ ca *CA }
	values := map[string]any{
		"*CA":                        ca,
		"CA":                         *ca,
		"struct with exported *CA":   exported{ca},
		"struct with unexported CA":  unexportedValue{*ca},
		"struct with unexported *CA": unexportedPointer{ca},
		"pointer to struct with CA":  &unexportedValue{*ca},
		"slice of *CA":               []*CA{ca},
		"map of CA":                  map[string]CA{"k": *ca},
	}
	for name, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%d", "%x", "%q"} {
			check(t, fmt.Sprintf("Sprintf(%q, %s)", verb, name), fmt.Sprintf(verb, v))
		}
	}
	if got, want := ca.String(), "pki.CA(coffer access CA "+testDomain+", key REDACTED)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
	if got := fmt.Sprintf("%#v", ca); got != ca.String() {
		t.Errorf("GoString() = %q, want %q", got, ca.String())
	}

	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("ca", "ca", ca, "value", *ca, "wrapped", exported{ca}, slog.Any("any", ca))
		out := buf.String()
		check(t, "slog "+name, out)
		if !strings.Contains(out, "REDACTED") || !strings.Contains(out, testDomain) {
			t.Errorf("slog %s output %q lacks the redacted form", name, out)
		}
	}
}
