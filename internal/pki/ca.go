package pki

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"strings"
	"time"
)

// CAValidity is the validity period of the CAs made by [NewCA] and
// [NewInstallationCA].
const CAValidity = 10 * 365 * 24 * time.Hour

// ClockSkew is how far before the issuance time every certificate's
// notBefore is set, so that a client or server whose clock is slightly behind
// accepts a fresh certificate (iam.md 7.3: notBefore = issuance − 5 minutes).
const ClockSkew = 5 * time.Minute

// MaxOKMSIDLen is the longest okmsId accepted. It keeps the access CA's
// common name within the 64 characters of X.520's ub-common-name; okmsIds
// are UUIDs (36 characters).
const MaxOKMSIDLen = 64 - len(accessCAPrefix)

const (
	accessCAPrefix       = "coffer access CA "
	installationCAPrefix = "coffer installation CA "
	redacted             = "REDACTED"

	pemCertificate = "CERTIFICATE"
	pemPrivateKey  = "PRIVATE KEY"
)

type caKind int

const (
	kindAccess caKind = iota + 1
	kindInstallation
)

// CA is a certificate authority with its private key: the access CA of one
// OKMS domain ([NewCA]) or the installation CA ([NewInstallationCA]).
//
// A CA is immutable once made and safe for concurrent use. The zero CA and a
// nil *CA hold nothing: their methods that return an error return
// [ErrCAKind], the accessors return empty values and [Pool] skips them.
//
// A CA prints as REDACTED through fmt (%v, %+v, %#v, %s) and log/slog. When
// it sits in an unexported field of another struct, fmt prints it by
// reflection without calling String; the key is then behind a pointer that
// fmt prints as an address. String, GoString and LogValue have value
// receivers so that both CA and *CA redact themselves.
type CA struct {
	kind    caKind
	okmsID  string // access CAs only
	cert    *x509.Certificate
	certPEM []byte
	key     *ecdsa.PrivateKey
}

// NewCA creates the access CA of the domain okmsID: a self-signed ECDSA
// P-384 certificate with subject CN=coffer access CA <okmsID>, valid from
// now − [ClockSkew] for [CAValidity], allowed to sign end-entity clientAuth
// certificates only. The serial number is read from rand; pass
// crypto/rand.Reader outside tests (since Go 1.26 key generation ignores
// rand and always uses a secure source).
//
// It returns [ErrInvalidDomain] if okmsID is not valid, or an error if rand
// fails.
func NewCA(okmsID string, now time.Time, rand io.Reader) (*CA, error) {
	if err := checkOKMSID(okmsID); err != nil {
		return nil, fmt.Errorf("pki.NewCA: %w", err)
	}
	ca, err := newCA(kindAccess, accessCAPrefix+okmsID, x509.ExtKeyUsageClientAuth, now, rand)
	if err != nil {
		return nil, fmt.Errorf("pki.NewCA %s: %w", okmsID, err)
	}
	ca.okmsID = okmsID
	return ca, nil
}

// NewInstallationCA creates a CA for coffer's own TLS server certificates
// ([CA.IssueServer]): a self-signed ECDSA P-384 certificate with subject
// CN=coffer installation CA <random id>, valid from now − [ClockSkew] for
// [CAValidity], allowed to sign end-entity serverAuth certificates only.
// Clients trust it by adding [CA.CertificatePEM] to their CA bundle. It
// returns an error if rand fails.
func NewInstallationCA(now time.Time, rand io.Reader) (*CA, error) {
	var id [4]byte
	if _, err := io.ReadFull(rand, id[:]); err != nil {
		return nil, fmt.Errorf("pki.NewInstallationCA: reading random bytes: %w", err)
	}
	ca, err := newCA(kindInstallation, installationCAPrefix+hex.EncodeToString(id[:]), x509.ExtKeyUsageServerAuth, now, rand)
	if err != nil {
		return nil, fmt.Errorf("pki.NewInstallationCA: %w", err)
	}
	return ca, nil
}

func newCA(kind caKind, cn string, usage x509.ExtKeyUsage, now time.Time, rand io.Reader) (*CA, error) {
	if now.IsZero() {
		return nil, fmt.Errorf("zero time: %w", ErrInvalidRequest)
	}
	key, err := ecdsa.GenerateKey(elliptic.P384(), rand)
	if err != nil {
		return nil, fmt.Errorf("generating key: %w", err)
	}
	serial, err := newSerial(rand)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-ClockSkew),
		NotAfter:     now.Add(CAValidity),
		KeyUsage:     x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		// An extended key usage on a CA constrains what it can vouch for
		// (Go's verifier and OpenSSL both check it along the chain): an
		// access CA cannot be used to accept a server, nor the installation
		// CA to accept a client.
		ExtKeyUsage:           []x509.ExtKeyUsage{usage},
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true, // no intermediate CAs
	}
	der, err := x509.CreateCertificate(rand, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("creating certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing created certificate: %w", err)
	}
	return &CA{
		kind:    kind,
		cert:    cert,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: der}),
		key:     key,
	}, nil
}

// newSerial reads a 128-bit serial number from rand (iam.md 7.3). It
// returns an error if rand fails or yields only zero bits, which RFC 5280
// forbids and no working random source does.
func newSerial(rand io.Reader) (*big.Int, error) {
	var b [16]byte
	if _, err := io.ReadFull(rand, b[:]); err != nil {
		return nil, fmt.Errorf("reading serial number: %w", err)
	}
	n := new(big.Int).SetBytes(b[:])
	if n.Sign() == 0 {
		return nil, fmt.Errorf("random source returned a zero serial number")
	}
	return n, nil
}

// checkOKMSID reports whether id may name a domain in a CA subject or a UPN.
func checkOKMSID(id string) error {
	if id == "*" {
		return fmt.Errorf("%w: wildcard", ErrInvalidDomain)
	}
	if id == "" || len(id) > MaxOKMSIDLen {
		return fmt.Errorf("%w: length %d", ErrInvalidDomain, len(id))
	}
	for _, c := range []byte(id) {
		ok := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '.' || c == '_'
		if !ok {
			return fmt.Errorf("%w: character %q", ErrInvalidDomain, c)
		}
	}
	return nil
}

// usable returns ErrCAKind unless ca is a non-nil CA of the given kind.
func (ca *CA) usable(kind caKind) error {
	if ca == nil || ca.cert == nil || ca.key == nil || ca.kind != kind {
		return ErrCAKind
	}
	return nil
}

// OKMSID returns the domain of an access CA, or "" for the installation CA
// and the zero CA.
func (ca *CA) OKMSID() string {
	if ca == nil {
		return ""
	}
	return ca.okmsID
}

// CertificatePEM returns the CA certificate, PEM-encoded; it contains no
// private material. The returned slice belongs to the caller. It returns nil
// for a nil or zero CA.
func (ca *CA) CertificatePEM() []byte {
	if ca == nil {
		return nil
	}
	return bytes.Clone(ca.certPEM)
}

// Marshal returns the CA as PEM text: the certificate ("CERTIFICATE")
// followed by the private key in PKCS #8 ("PRIVATE KEY"). The result holds
// the private key in clear; the caller stores it sealed and never logs it.
// [ParseCA] reverses it. The returned slice belongs to the caller.
// It returns [ErrCAKind] for a nil or zero CA.
func (ca *CA) Marshal() ([]byte, error) {
	if ca == nil || ca.cert == nil || ca.key == nil {
		return nil, fmt.Errorf("pki.CA.Marshal: %w", ErrCAKind)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ca.key)
	if err != nil {
		return nil, fmt.Errorf("pki.CA.Marshal: %w", err)
	}
	out := bytes.Clone(ca.certPEM)
	return append(out, pem.EncodeToMemory(&pem.Block{Type: pemPrivateKey, Bytes: der})...), nil
}

// ParseCA parses the output of [CA.Marshal]. It requires exactly one
// CERTIFICATE and one PRIVATE KEY block and nothing else but white space, a
// self-signed CA certificate whose subject names an access CA or the
// installation CA, and an ECDSA private key matching the certificate. It
// returns an error wrapping [ErrMalformedCA] otherwise; the error never
// contains key material.
func ParseCA(b []byte) (*CA, error) {
	certDER, keyDER, err := splitCAPEM(b)
	if err != nil {
		return nil, fmt.Errorf("pki.ParseCA: %w", err)
	}
	cert, err := x509.ParseCertificate(certDER)
	if err != nil {
		return nil, fmt.Errorf("pki.ParseCA: %w: certificate: %w", ErrMalformedCA, err)
	}
	if !cert.BasicConstraintsValid || !cert.IsCA {
		return nil, fmt.Errorf("pki.ParseCA: %w: not a CA certificate", ErrMalformedCA)
	}
	if err := cert.CheckSignatureFrom(cert); err != nil {
		return nil, fmt.Errorf("pki.ParseCA: %w: not self-signed: %w", ErrMalformedCA, err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(keyDER)
	if err != nil {
		// The parser's message does not quote key bytes.
		return nil, fmt.Errorf("pki.ParseCA: %w: private key does not parse", ErrMalformedCA)
	}
	key, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("pki.ParseCA: %w: private key does not match the certificate", ErrMalformedCA)
	}
	ca := &CA{
		cert:    cert,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: pemCertificate, Bytes: certDER}),
		key:     key,
	}
	cn := cert.Subject.CommonName
	switch {
	case strings.HasPrefix(cn, accessCAPrefix):
		ca.kind, ca.okmsID = kindAccess, strings.TrimPrefix(cn, accessCAPrefix)
		if err := checkOKMSID(ca.okmsID); err != nil {
			return nil, fmt.Errorf("pki.ParseCA: %w: %w", ErrMalformedCA, err)
		}
	case strings.HasPrefix(cn, installationCAPrefix):
		ca.kind = kindInstallation
	default:
		return nil, fmt.Errorf("pki.ParseCA: %w: unexpected subject %q", ErrMalformedCA, cn)
	}
	return ca, nil
}

// splitCAPEM returns the DER of the single certificate and private key
// blocks of b.
func splitCAPEM(b []byte) (certDER, keyDER []byte, err error) {
	rest := b
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch {
		case block.Type == pemCertificate && certDER == nil:
			certDER = block.Bytes
		case block.Type == pemPrivateKey && keyDER == nil:
			keyDER = block.Bytes
		default:
			return nil, nil, fmt.Errorf("%w: unexpected or repeated PEM block %q", ErrMalformedCA, block.Type)
		}
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, nil, fmt.Errorf("%w: trailing data", ErrMalformedCA)
	}
	if certDER == nil || keyDER == nil {
		return nil, nil, fmt.Errorf("%w: missing certificate or private key", ErrMalformedCA)
	}
	return certDER, keyDER, nil
}

// String returns "pki.CA(<subject>, key REDACTED)", never the key.
func (ca CA) String() string {
	subject := "zero"
	if ca.cert != nil {
		subject = ca.cert.Subject.CommonName
	}
	return "pki.CA(" + subject + ", key " + redacted + ")"
}

// GoString returns the same text as String so that %#v cannot print the key.
func (ca CA) GoString() string { return ca.String() }

// LogValue returns a group with the CA's public subject and serial number
// and "key": "REDACTED", so that log/slog cannot print the key.
func (ca CA) LogValue() slog.Value {
	if ca.cert == nil {
		return slog.GroupValue(slog.String("key", redacted))
	}
	return slog.GroupValue(
		slog.String("subject", ca.cert.Subject.CommonName),
		slog.String("serial", SerialHex(ca.cert)),
		slog.String("key", redacted),
	)
}
