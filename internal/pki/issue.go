package pki

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	cryptorand "crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// MaxValidity is the longest validity of an access certificate
// (okms-rest.md 5.4: validity of at most 365 days).
const MaxValidity = 365 * 24 * time.Hour

// RSA key sizes: generated keys, and the range accepted from a CSR. The
// upper bound is coffer's own, to bound the cost of checking a CSR signature.
const (
	RSAKeyBits    = 3072
	MinRSAKeyBits = 2048
	MaxRSAKeyBits = 8192
)

// KeyType is the key algorithm of an access certificate, named as in the
// certificateType field of okms-rest.md 5.4.
type KeyType string

// Key types. The empty KeyType in an [IssueRequest] without CSR means
// [KeyTypeECDSA].
const (
	// KeyTypeECDSA is ECDSA: P-256 when coffer generates the key, P-256 or
	// P-384 from a CSR.
	KeyTypeECDSA KeyType = "ECDSA"
	// KeyTypeRSA is RSA: 3072 bits when coffer generates the key, 2048 to
	// 8192 bits from a CSR.
	KeyTypeRSA KeyType = "RSA"
)

// IssueRequest describes one access certificate to issue with [CA.Issue].
type IssueRequest struct {
	// OKMSID is the domain; it must be the issuing CA's ("" means the CA's).
	OKMSID string
	// IdentityURNs are the identities bound to the credential, written as
	// SAN URIs in this order (informational: the principal is built from
	// the credential record, iam.md 7.3). At least one is required: Go's TLS
	// stack only accepts the critical subjectAltName if it holds a name it
	// understands, which an otherName alone is not.
	IdentityURNs []string
	// Validity is the time from Now to notAfter: positive, at most
	// [MaxValidity].
	Validity time.Duration
	// KeyType selects the generated key: [KeyTypeECDSA] (the default when
	// empty) or [KeyTypeRSA]. It must be empty when CSR is set.
	KeyType KeyType
	// CSR is an optional PEM certificate signing request. Only its public
	// key is used, after its signature is verified; its subject and
	// extensions are ignored.
	CSR []byte
	// Now is the issuance time; it must not be zero.
	Now time.Time
	// Rand is the source of the serial number and of signatures; nil means
	// crypto/rand.Reader.
	Rand io.Reader
}

// Issued is an access certificate made by [CA.Issue].
//
// It prints as REDACTED through fmt and log/slog because PrivateKeyPEM
// holds a private key; the caller hands that key to the client once and
// never stores it (okms-rest.md 5.4).
type Issued struct {
	// CertificatePEM is the certificate, PEM-encoded.
	CertificatePEM []byte
	// PrivateKeyPEM is the generated private key in PKCS #8 ("PRIVATE
	// KEY"), or nil when the certificate was made from a CSR.
	PrivateKeyPEM []byte
	// KeyType is the algorithm of the certified key, generated or from the
	// CSR.
	KeyType KeyType
	// Serial is the serial number in lower-case hexadecimal, as
	// [SerialHex] formats it.
	Serial string
	// NotBefore and NotAfter are the validity bounds as encoded in the
	// certificate (whole seconds, UTC).
	NotBefore, NotAfter time.Time
}

// String returns a summary without the private key.
func (is Issued) String() string {
	return fmt.Sprintf("pki.Issued(serial %s, %s, until %s, private key %s)",
		is.Serial, is.KeyType, is.NotAfter.Format(time.RFC3339), redacted)
}

// GoString returns the same text as String so that %#v cannot print the
// private key.
func (is Issued) GoString() string { return is.String() }

// LogValue returns the public fields and "privateKey": "REDACTED".
func (is Issued) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("serial", is.Serial),
		slog.String("keyType", string(is.KeyType)),
		slog.Time("notAfter", is.NotAfter),
		slog.String("privateKey", redacted),
	)
}

// Issue issues an access certificate for req with the profile of iam.md
// 7.3: subject CN=<okmsId>, a 128-bit random serial, a critical
// subjectAltName with the UPN "okms.domain:<okmsId>" and one URI per
// identity URN, the clientAuth extended key usage, key usage
// digitalSignature (and keyEncipherment for RSA), notBefore = Now −
// [ClockSkew] and notAfter = Now + Validity.
//
// Errors, each wrapped with context: [ErrCAKind] if ca is not an access CA;
// [ErrDomainMismatch]; [ErrInvalidRequest] for a zero Now;
// [ErrInvalidIdentity]; [ErrValidityTooShort], [ErrValidityTooLong];
// [ErrInvalidKeyType]; [ErrCSRWithKeyType]; [ErrInvalidCSR];
// [ErrUnsupportedKey]; [ErrCAValidity] if the CA is not valid at Now or
// expires before the certificate would.
func (ca *CA) Issue(req IssueRequest) (Issued, error) {
	if err := ca.usable(kindAccess); err != nil {
		return Issued{}, fmt.Errorf("pki.CA.Issue: %w", err)
	}
	if err := ca.checkRequest(req); err != nil {
		return Issued{}, fmt.Errorf("pki.CA.Issue %s: %w", ca.okmsID, err)
	}
	rnd := req.Rand
	if rnd == nil {
		rnd = cryptorand.Reader
	}
	pub, keyPEM, keyType, err := requestKey(req, rnd)
	if err != nil {
		return Issued{}, fmt.Errorf("pki.CA.Issue %s: %w", ca.okmsID, err)
	}
	san, err := marshalSAN(UPNPrefix+ca.okmsID, req.IdentityURNs)
	if err != nil {
		return Issued{}, fmt.Errorf("pki.CA.Issue %s: encoding subjectAltName: %w", ca.okmsID, err)
	}
	usage := x509.KeyUsageDigitalSignature
	if keyType == KeyTypeRSA {
		usage |= x509.KeyUsageKeyEncipherment
	}
	tmpl := &x509.Certificate{
		Subject:     pkix.Name{CommonName: ca.okmsID},
		NotBefore:   req.Now.Add(-ClockSkew),
		NotAfter:    req.Now.Add(req.Validity),
		KeyUsage:    usage,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		// iam.md 7.3: the subjectAltName is critical, as in OVHcloud's
		// certificates. It replaces the extension Go would build from the
		// template's (empty) name fields.
		ExtraExtensions:       []pkix.Extension{{Id: oidSubjectAltName, Critical: true, Value: san}},
		BasicConstraintsValid: true,
	}
	cert, certPEM, err := ca.sign(tmpl, pub, req.Now, rnd)
	if err != nil {
		return Issued{}, fmt.Errorf("pki.CA.Issue %s: %w", ca.okmsID, err)
	}
	return Issued{
		CertificatePEM: certPEM,
		PrivateKeyPEM:  keyPEM,
		KeyType:        keyType,
		Serial:         SerialHex(cert),
		NotBefore:      cert.NotBefore.UTC(),
		NotAfter:       cert.NotAfter.UTC(),
	}, nil
}

// checkRequest validates the fields of req that need no key material.
func (ca *CA) checkRequest(req IssueRequest) error {
	if req.OKMSID != "" && req.OKMSID != ca.okmsID {
		return fmt.Errorf("%w: request for %q", ErrDomainMismatch, req.OKMSID)
	}
	if req.Now.IsZero() {
		return fmt.Errorf("%w: zero Now", ErrInvalidRequest)
	}
	if len(req.IdentityURNs) == 0 {
		return fmt.Errorf("%w: none given", ErrInvalidIdentity)
	}
	for i, u := range req.IdentityURNs {
		if err := checkURN(u); err != nil {
			return fmt.Errorf("identity %d: %w", i, err)
		}
	}
	if req.Validity <= 0 {
		return ErrValidityTooShort
	}
	if req.Validity > MaxValidity {
		return ErrValidityTooLong
	}
	switch req.KeyType {
	case "", KeyTypeECDSA, KeyTypeRSA:
	default:
		return fmt.Errorf("%w: %q", ErrInvalidKeyType, req.KeyType)
	}
	if req.KeyType != "" && len(req.CSR) != 0 {
		return ErrCSRWithKeyType
	}
	return nil
}

// checkURN reports whether u can be written as a SAN URI that Go's parser
// reads back unchanged: ASCII without spaces or controls (an IA5String),
// the urn scheme, accepted by net/url.
func checkURN(u string) error {
	if len(u) < 5 || !strings.EqualFold(u[:4], "urn:") {
		return fmt.Errorf("%w: not a URN", ErrInvalidIdentity)
	}
	for i := 0; i < len(u); i++ {
		if u[i] <= ' ' || u[i] > '~' {
			return fmt.Errorf("%w: byte %d is not printable ASCII", ErrInvalidIdentity, i)
		}
	}
	if _, err := url.Parse(u); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidIdentity, err)
	}
	return nil
}

// requestKey returns the public key to certify: the CSR's, or a new key
// whose private half it also returns as PKCS #8 PEM.
func requestKey(req IssueRequest, rnd io.Reader) (pub any, keyPEM []byte, kt KeyType, err error) {
	if len(req.CSR) != 0 {
		pub, kt, err = csrKey(req.CSR)
		return pub, nil, kt, err
	}
	var priv crypto.Signer
	kt = req.KeyType
	switch kt {
	case KeyTypeRSA:
		priv, err = rsa.GenerateKey(rnd, RSAKeyBits)
	default:
		kt = KeyTypeECDSA
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rnd)
	}
	if err != nil {
		return nil, nil, "", fmt.Errorf("generating %s key: %w", kt, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, "", fmt.Errorf("encoding %s key: %w", kt, err)
	}
	return priv.Public(), pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der}), kt, nil
}

// csrKey parses a PEM CSR and returns its public key once the key type is
// accepted and the signature verified. The key is checked first so that an
// oversized RSA key is refused before any costly signature check.
func csrKey(b []byte) (any, KeyType, error) {
	block, rest := pem.Decode(b)
	if block == nil {
		return nil, "", fmt.Errorf("%w: no PEM block", ErrInvalidCSR)
	}
	// "NEW CERTIFICATE REQUEST" is the label of older OpenSSL and Windows
	// certreq tools.
	if block.Type != "CERTIFICATE REQUEST" && block.Type != "NEW CERTIFICATE REQUEST" {
		return nil, "", fmt.Errorf("%w: PEM block %q", ErrInvalidCSR, block.Type)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, "", fmt.Errorf("%w: data after the PEM block", ErrInvalidCSR)
	}
	csr, err := x509.ParseCertificateRequest(block.Bytes)
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrInvalidCSR, err)
	}
	kt, err := checkPublicKey(csr.PublicKey)
	if err != nil {
		return nil, "", err
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrInvalidCSR, err)
	}
	return csr.PublicKey, kt, nil
}

// checkPublicKey accepts ECDSA P-256 and P-384 and RSA keys of
// [MinRSAKeyBits] to [MaxRSAKeyBits] (okms-rest.md 5.4).
func checkPublicKey(pub any) (KeyType, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == elliptic.P256() || k.Curve == elliptic.P384() {
			return KeyTypeECDSA, nil
		}
		return "", fmt.Errorf("%w: ECDSA curve %s", ErrUnsupportedKey, k.Curve.Params().Name)
	case *rsa.PublicKey:
		if bits := k.N.BitLen(); bits < MinRSAKeyBits || bits > MaxRSAKeyBits {
			return "", fmt.Errorf("%w: RSA key of %d bits", ErrUnsupportedKey, bits)
		}
		return KeyTypeRSA, nil
	default:
		return "", fmt.Errorf("%w: %T", ErrUnsupportedKey, pub)
	}
}

// sign completes tmpl with a serial number, checks that the CA is valid at
// now and outlives tmpl, and signs it. It returns the parsed certificate and its PEM.
func (ca *CA) sign(tmpl *x509.Certificate, pub any, now time.Time, rnd io.Reader) (*x509.Certificate, []byte, error) {
	// Certificates carry whole seconds: compare what will be encoded.
	if now.Before(ca.cert.NotBefore) || tmpl.NotAfter.Truncate(time.Second).After(ca.cert.NotAfter) {
		return nil, nil, fmt.Errorf("%w: CA valid from %s to %s", ErrCAValidity,
			ca.cert.NotBefore.Format(time.RFC3339), ca.cert.NotAfter.Format(time.RFC3339))
	}
	serial, err := newSerial(rnd)
	if err != nil {
		return nil, nil, err
	}
	tmpl.SerialNumber = serial
	der, err := x509.CreateCertificate(rnd, tmpl, ca.cert, pub, ca.key)
	if err != nil {
		return nil, nil, fmt.Errorf("creating certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("parsing created certificate: %w", err)
	}
	return cert, pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: der}), nil
}
