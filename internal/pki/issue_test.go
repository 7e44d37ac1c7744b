package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Keys for test CSRs, generated once: RSA generation is slow under -race.
var (
	rsa2048Key = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(2048) })
	rsa1024Key = sync.OnceValue(func() *rsa.PrivateKey { return mustRSA(1024) })
)

func mustRSA(bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		panic(err)
	}
	return k
}

// newCSR returns a PEM CSR signed by key, with a subject and extensions that
// Issue must ignore.
func newCSR(t *testing.T, key crypto.Signer) []byte {
	t.Helper()
	tmpl := &x509.CertificateRequest{
		Subject:  pkix.Name{CommonName: "intruder", Organization: []string{"evil"}},
		DNSNames: []string{"evil.example"},
		URIs:     nil,
		ExtraExtensions: []pkix.Extension{
			// basicConstraints cA=TRUE: must not make the certificate a CA.
			{Id: asn1.ObjectIdentifier{2, 5, 29, 19}, Critical: true, Value: []byte{0x30, 0x03, 0x01, 0x01, 0xff}},
		},
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, tmpl, key)
	if err != nil {
		t.Fatalf("CreateCertificateRequest(%T): %v", key, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
}

func newECKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestCA_Issue_profile(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, testDomain)
	now := t0.Add(24 * time.Hour)
	validity := 30 * 24 * time.Hour
	p384 := newECKey(t, elliptic.P384())

	tests := []struct {
		name     string
		keyType  KeyType
		csrKey   crypto.Signer // nil: generated key
		wantType KeyType
		wantSize int // curve size or RSA modulus bits
	}{
		{"default key type", "", nil, KeyTypeECDSA, 256},
		{"ECDSA", KeyTypeECDSA, nil, KeyTypeECDSA, 256},
		{"RSA", KeyTypeRSA, nil, KeyTypeRSA, 3072},
		{"CSR/ECDSA P-256", "", newECKey(t, elliptic.P256()), KeyTypeECDSA, 256},
		{"CSR/ECDSA P-384", "", p384, KeyTypeECDSA, 384},
		{"CSR/RSA 2048", "", rsa2048Key(), KeyTypeRSA, 2048},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := IssueRequest{
				OKMSID:       testDomain,
				IdentityURNs: []string{userURN, groupURN},
				Validity:     validity,
				KeyType:      tc.keyType,
				Now:          now,
				Rand:         rand.Reader,
			}
			if tc.csrKey != nil {
				req.CSR = newCSR(t, tc.csrKey)
			}
			is, err := ca.Issue(req)
			if err != nil {
				t.Fatalf("Issue = %v", err)
			}
			cert := parseCertPEM(t, is.CertificatePEM)
			checkProfile(t, ca, cert, is, now, validity)
			if is.KeyType != tc.wantType {
				t.Errorf("KeyType = %q, want %q", is.KeyType, tc.wantType)
			}
			checkKey(t, cert, tc.wantType, tc.wantSize)

			if tc.csrKey != nil {
				if is.PrivateKeyPEM != nil {
					t.Errorf("PrivateKeyPEM is set for a CSR")
				}
				if !tc.csrKey.Public().(interface{ Equal(crypto.PublicKey) bool }).Equal(cert.PublicKey) {
					t.Errorf("certified key is not the CSR's")
				}
				return
			}
			block, _ := pem.Decode(is.PrivateKeyPEM)
			if block == nil || block.Type != "PRIVATE KEY" {
				t.Fatalf("PrivateKeyPEM is not a PKCS #8 PEM block")
			}
			if _, err := tls.X509KeyPair(is.CertificatePEM, is.PrivateKeyPEM); err != nil {
				t.Errorf("tls.X509KeyPair(certificate, key) = %v", err)
			}
		})
	}
}

// checkProfile checks the certificate profile of iam.md 7.3.
func checkProfile(t *testing.T, ca *CA, cert *x509.Certificate, is Issued, now time.Time, validity time.Duration) {
	t.Helper()
	if cert.Subject.String() != "CN="+testDomain {
		t.Errorf("subject = %q, want CN=%s", cert.Subject, testDomain)
	}
	if !bytes.Equal(cert.RawIssuer, ca.cert.RawSubject) {
		t.Errorf("issuer = %q, want %q", cert.Issuer, ca.cert.Subject)
	}
	if err := cert.CheckSignatureFrom(ca.cert); err != nil {
		t.Errorf("signature by the CA: %v", err)
	}
	if !bytes.Equal(cert.AuthorityKeyId, ca.cert.SubjectKeyId) {
		t.Errorf("authority key id = %x, want %x", cert.AuthorityKeyId, ca.cert.SubjectKeyId)
	}
	if cert.SerialNumber.Sign() <= 0 || cert.SerialNumber.BitLen() > 128 {
		t.Errorf("serial = %v, want a positive 128-bit number", cert.SerialNumber)
	}
	if is.Serial != SerialHex(cert) || len(is.Serial) != 32 {
		t.Errorf("Serial = %q, want %q (32 hex digits)", is.Serial, SerialHex(cert))
	}
	if cert.IsCA || !cert.BasicConstraintsValid {
		t.Errorf("basic constraints: CA %v valid %v; want an end entity", cert.IsCA, cert.BasicConstraintsValid)
	}
	if !slices.Equal(cert.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) || len(cert.UnknownExtKeyUsage) != 0 {
		t.Errorf("extended key usage = %v %v, want [clientAuth]", cert.ExtKeyUsage, cert.UnknownExtKeyUsage)
	}
	wantUsage := x509.KeyUsageDigitalSignature
	if _, ok := cert.PublicKey.(*rsa.PublicKey); ok {
		wantUsage |= x509.KeyUsageKeyEncipherment
	}
	if cert.KeyUsage != wantUsage {
		t.Errorf("key usage = %b, want %b", cert.KeyUsage, wantUsage)
	}
	if want := now.Add(-5 * time.Minute); !cert.NotBefore.Equal(want) || !is.NotBefore.Equal(want) {
		t.Errorf("notBefore = %s (Issued %s), want %s", cert.NotBefore, is.NotBefore, want)
	}
	if want := now.Add(validity); !cert.NotAfter.Equal(want) || !is.NotAfter.Equal(want) {
		t.Errorf("notAfter = %s (Issued %s), want %s", cert.NotAfter, is.NotAfter, want)
	}

	// subjectAltName: critical, UPN otherName first, then the URNs; nothing
	// from the CSR.
	var san []pkixExt
	for _, e := range cert.Extensions {
		if e.Id.Equal(oidSubjectAltName) {
			san = append(san, pkixExt{e.Critical, e.Value})
		}
	}
	if len(san) != 1 || !san[0].critical {
		t.Fatalf("subjectAltName extensions = %+v, want one, critical", san)
	}
	upns, err := parseUPNs(san[0].value)
	if err != nil || !slices.Equal(upns, []string{"okms.domain:" + testDomain}) {
		t.Errorf("UPNs = %q, %v; want [okms.domain:%s]", upns, err, testDomain)
	}
	if id, err := UPNDomain(cert); err != nil || id != testDomain {
		t.Errorf("UPNDomain = %q, %v; want %q", id, err, testDomain)
	}
	if id, err := okmsCLIDomain(cert); err != nil || id != testDomain {
		t.Errorf("okms-cli style decoding = %q, %v; want %q", id, err, testDomain)
	}
	var uris []string
	for _, u := range cert.URIs {
		uris = append(uris, u.String())
	}
	if !slices.Equal(uris, []string{userURN, groupURN}) {
		t.Errorf("URIs = %q, want %q", uris, []string{userURN, groupURN})
	}
	if len(cert.DNSNames)+len(cert.EmailAddresses)+len(cert.IPAddresses) != 0 {
		t.Errorf("unexpected names: %v %v %v", cert.DNSNames, cert.EmailAddresses, cert.IPAddresses)
	}
	if len(cert.UnhandledCriticalExtensions) != 0 {
		t.Errorf("unhandled critical extensions %v: the TLS stack would refuse the certificate", cert.UnhandledCriticalExtensions)
	}
}

type pkixExt struct {
	critical bool
	value    []byte
}

// okmsCLIDomain decodes the UPN the way okms-cli does (common/config/mtls.go
// getOkmsId): the first [0] GeneralName with the UPN type-id whose value,
// read as any ASN.1 string, starts with "okms.domain:". It pins the
// encoding okms-cli depends on.
func okmsCLIDomain(cert *x509.Certificate) (string, error) {
	for _, e := range cert.Extensions {
		if !e.Id.Equal(oidSubjectAltName) {
			continue
		}
		var seq asn1.RawValue
		if _, err := asn1.Unmarshal(e.Value, &seq); err != nil {
			return "", err
		}
		for rest := seq.Bytes; len(rest) > 0; {
			var gn asn1.RawValue
			var err error
			if rest, err = asn1.Unmarshal(rest, &gn); err != nil {
				return "", err
			}
			if gn.Tag != 0 {
				continue
			}
			var oid asn1.ObjectIdentifier
			value, err := asn1.Unmarshal(gn.Bytes, &oid)
			if err != nil {
				return "", err
			}
			if !oid.Equal(oidUPN) {
				continue
			}
			var explicit asn1.RawValue
			if _, err := asn1.Unmarshal(value, &explicit); err != nil {
				return "", err
			}
			var s string
			if _, err := asn1.Unmarshal(explicit.Bytes, &s); err != nil {
				return "", err
			}
			if id, ok := strings.CutPrefix(s, "okms.domain:"); ok {
				return id, nil
			}
		}
	}
	return "", errors.New("no okms domain")
}

// checkKey checks the certified public key's algorithm and size.
func checkKey(t *testing.T, cert *x509.Certificate, kt KeyType, size int) {
	t.Helper()
	switch k := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if kt != KeyTypeECDSA || k.Curve.Params().BitSize != size {
			t.Errorf("public key ECDSA %s, want %s %d", k.Curve.Params().Name, kt, size)
		}
	case *rsa.PublicKey:
		if kt != KeyTypeRSA || k.N.BitLen() != size {
			t.Errorf("public key RSA %d, want %s %d", k.N.BitLen(), kt, size)
		}
	default:
		t.Errorf("public key %T, want %s", cert.PublicKey, kt)
	}
}

func TestCA_Issue_validity(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, testDomain)
	day := 24 * time.Hour
	tests := []struct {
		name     string
		validity time.Duration
		wantErr  error
	}{
		{"one second", time.Second, nil},
		{"one day", day, nil},
		{"365 days", 365 * day, nil},
		{"365 days and 1s", 365*day + time.Second, ErrValidityTooLong},
		{"366 days", 366 * day, ErrValidityTooLong},
		{"zero", 0, ErrValidityTooShort},
		{"negative", -time.Hour, ErrValidityTooShort},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			is, err := ca.Issue(IssueRequest{IdentityURNs: []string{userURN}, Validity: tc.validity, Now: t0})
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("Issue(validity %s) = %v, want %v", tc.validity, err, tc.wantErr)
			}
			if err == nil && !is.NotAfter.Equal(t0.Add(tc.validity)) {
				t.Errorf("NotAfter = %s, want %s", is.NotAfter, t0.Add(tc.validity))
			}
		})
	}
}

func TestCA_Issue_errors(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, testDomain)
	inst, err := NewInstallationCA(t0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p256CSR := newCSR(t, newECKey(t, elliptic.P256()))

	// A CSR whose signed content was altered: the subject "intruder" becomes
	// "intrudes".
	block, _ := pem.Decode(p256CSR)
	tampered := bytes.Clone(block.Bytes)
	i := bytes.Index(tampered, []byte("intruder"))
	if i < 0 {
		t.Fatal("subject not found in the CSR")
	}
	tampered[i+7] = 's'
	badSig := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: tampered})

	_, edKey, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p224CSR := newCSR(t, newECKey(t, elliptic.P224()))
	p521CSR := newCSR(t, newECKey(t, elliptic.P521()))
	rsa1024CSR := newCSR(t, rsa1024Key())
	edCSR := newCSR(t, edKey)
	base := func() IssueRequest {
		return IssueRequest{OKMSID: testDomain, IdentityURNs: []string{userURN}, Validity: time.Hour, Now: t0}
	}
	tests := []struct {
		name    string
		ca      *CA
		modify  func(*IssueRequest)
		wantErr error
	}{
		{"invalid key type", ca, func(r *IssueRequest) { r.KeyType = "DSA" }, ErrInvalidKeyType},
		{"lower-case key type", ca, func(r *IssueRequest) { r.KeyType = "ecdsa" }, ErrInvalidKeyType},
		{"CSR with key type", ca, func(r *IssueRequest) { r.CSR, r.KeyType = p256CSR, KeyTypeECDSA }, ErrCSRWithKeyType},
		{"CSR with bad signature", ca, func(r *IssueRequest) { r.CSR = badSig }, ErrInvalidCSR},
		{"CSR with P-224 key", ca, func(r *IssueRequest) { r.CSR = p224CSR }, ErrUnsupportedKey},
		{"CSR with P-521 key", ca, func(r *IssueRequest) { r.CSR = p521CSR }, ErrUnsupportedKey},
		{"CSR with RSA 1024 key", ca, func(r *IssueRequest) { r.CSR = rsa1024CSR }, ErrUnsupportedKey},
		{"CSR with Ed25519 key", ca, func(r *IssueRequest) { r.CSR = edCSR }, ErrUnsupportedKey},
		{"CSR not PEM", ca, func(r *IssueRequest) { r.CSR = block.Bytes }, ErrInvalidCSR},
		{"CSR garbage PEM", ca, func(r *IssueRequest) {
			r.CSR = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: []byte("garbage")})
		}, ErrInvalidCSR},
		{"CSR in a CERTIFICATE block", ca, func(r *IssueRequest) {
			r.CSR = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: block.Bytes})
		}, ErrInvalidCSR},
		{"CSR followed by data", ca, func(r *IssueRequest) { r.CSR = append(bytes.Clone(p256CSR), p256CSR...) }, ErrInvalidCSR},
		{"no identity", ca, func(r *IssueRequest) { r.IdentityURNs = nil }, ErrInvalidIdentity},
		{"identity not a URN", ca, func(r *IssueRequest) { r.IdentityURNs = []string{"https://example.com/alice"} }, ErrInvalidIdentity},
		{"identity with a space", ca, func(r *IssueRequest) { r.IdentityURNs = []string{"urn:v1:eu:identity:user:coffer/a b"} }, ErrInvalidIdentity},
		{"identity not ASCII", ca, func(r *IssueRequest) { r.IdentityURNs = []string{"urn:v1:eu:identity:user:coffer/é"} }, ErrInvalidIdentity},
		{"identity empty", ca, func(r *IssueRequest) { r.IdentityURNs = []string{userURN, ""} }, ErrInvalidIdentity},
		{"other domain", ca, func(r *IssueRequest) { r.OKMSID = otherDomain }, ErrDomainMismatch},
		{"zero now", ca, func(r *IssueRequest) { r.Now = time.Time{} }, ErrInvalidRequest},
		{"before the CA", ca, func(r *IssueRequest) { r.Now = t0.Add(-time.Hour) }, ErrCAValidity},
		{"outliving the CA", ca, func(r *IssueRequest) { r.Now, r.Validity = t0.Add(CAValidity-time.Hour), 2*time.Hour }, ErrCAValidity},
		{"after the CA", ca, func(r *IssueRequest) { r.Now = t0.Add(CAValidity + time.Hour) }, ErrCAValidity},
		{"installation CA", inst, func(*IssueRequest) {}, ErrCAKind},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := base()
			tc.modify(&req)
			is, err := tc.ca.Issue(req)
			if !errors.Is(err, tc.wantErr) {
				t.Errorf("Issue = %v, %v; want %v", is, err, tc.wantErr)
			}
		})
	}

	// An empty OKMSID means the CA's domain.
	req := base()
	req.OKMSID = ""
	if _, err := ca.Issue(req); err != nil {
		t.Errorf("Issue(empty OKMSID) = %v", err)
	}
	// A CSR in the old "NEW CERTIFICATE REQUEST" block with white space.
	req = base()
	req.CSR = append([]byte("\n"), pem.EncodeToMemory(&pem.Block{Type: "NEW CERTIFICATE REQUEST", Bytes: block.Bytes})...)
	if _, err := ca.Issue(req); err != nil {
		t.Errorf("Issue(NEW CERTIFICATE REQUEST) = %v", err)
	}
}

func TestCA_Issue_randomSerial(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, testDomain)
	seen := map[string]bool{}
	for range 20 {
		is, err := ca.Issue(IssueRequest{IdentityURNs: []string{userURN}, Validity: time.Hour, Now: t0})
		if err != nil {
			t.Fatal(err)
		}
		if seen[is.Serial] {
			t.Fatalf("serial %s issued twice", is.Serial)
		}
		seen[is.Serial] = true
	}

	// The serial comes from req.Rand; a failing source fails the issuance.
	_, err := ca.Issue(IssueRequest{IdentityURNs: []string{userURN}, Validity: time.Hour, Now: t0, Rand: bytes.NewReader(nil)})
	if err == nil {
		t.Errorf("Issue(empty random source) succeeded")
	}
}

func TestIssued_redaction(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, testDomain)
	is, err := ca.Issue(IssueRequest{IdentityURNs: []string{userURN}, Validity: time.Hour, Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(is.PrivateKeyPEM)
	secret := string(is.PrivateKeyPEM[40:80])
	outs := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
		outs[verb] = fmt.Sprintf(verb, is)
		outs[verb+" pointer"] = fmt.Sprintf(verb, &is)
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("issued", "issued", is)
	outs["slog"] = buf.String()
	for name, out := range outs {
		if strings.Contains(out, secret) || strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, fmt.Sprint(block.Bytes[:8])) {
			t.Errorf("%s prints the private key: %q", name, out)
		}
		if !strings.Contains(out, "REDACTED") || !strings.Contains(out, is.Serial) {
			t.Errorf("%s = %q, want the serial and REDACTED", name, out)
		}
	}
}
