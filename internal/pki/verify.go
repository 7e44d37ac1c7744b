package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"
)

// Pool returns a certificate pool holding the certificates of cas, for
// tls.Config.ClientCAs (the access CAs of every domain, iam.md 7.3 step 1)
// or tls.Config.RootCAs (the installation CA). Nil and zero CAs are skipped.
// The pool is new on each call and belongs to the caller.
func Pool(cas ...*CA) *x509.CertPool {
	pool := x509.NewCertPool()
	for _, ca := range cas {
		if ca != nil && ca.cert != nil {
			pool.AddCert(ca.cert)
		}
	}
	return pool
}

// SerialHex formats cert's serial number as lower-case hexadecimal of at
// least 32 digits, the form of [Issued.Serial]: credentials are looked up by
// (domain, serial) with it (iam.md 7.3 step 3). It returns "" for a nil
// certificate.
func SerialHex(cert *x509.Certificate) string {
	if cert == nil || cert.SerialNumber == nil {
		return ""
	}
	return fmt.Sprintf("%032x", cert.SerialNumber)
}

// Verify checks that cert is an access certificate of ca's domain valid at
// now (iam.md 7.3, verification steps 1 and 2): it is an end-entity
// certificate within its validity period, it carries a well-formed
// okms.domain UPN, it chains directly to ca (whose own validity is checked
// too), it has the clientAuth extended key usage, and its UPN names ca's
// domain. It does not look up the credential (step 3): that is the
// caller's, using [SerialHex].
//
// cert is not modified. Errors, wrapped with context: [ErrCAKind] if ca is
// not an access CA; [ErrNotYetValid]; [ErrExpired]; [ErrNoUPN],
// [ErrMalformedUPN] and [ErrWildcardUPN] as for [UPNDomain];
// [ErrUnknownAuthority] if cert is nil or not signed by ca;
// [ErrNotClientAuth]; [ErrDomainMismatch].
func (ca *CA) Verify(cert *x509.Certificate, now time.Time) error {
	if err := ca.usable(kindAccess); err != nil {
		return fmt.Errorf("pki.CA.Verify: %w", err)
	}
	if cert == nil {
		return fmt.Errorf("pki.CA.Verify %s: %w: no certificate", ca.okmsID, ErrUnknownAuthority)
	}
	if err := ca.verify(cert, now); err != nil {
		return fmt.Errorf("pki.CA.Verify %s serial %s: %w", ca.okmsID, SerialHex(cert), err)
	}
	return nil
}

func (ca *CA) verify(cert *x509.Certificate, now time.Time) error {
	if cert.IsCA {
		return fmt.Errorf("%w: CA certificate", ErrNotClientAuth)
	}
	// x509 reports both bounds as "expired"; checking them first gives the
	// precise error.
	if now.Before(cert.NotBefore) {
		return ErrNotYetValid
	}
	if now.After(cert.NotAfter) {
		return ErrExpired
	}
	upnDomain, err := UPNDomain(cert)
	if err != nil {
		return err
	}
	if err := ca.verifyChain(cert, now); err != nil {
		return err
	}
	// x509 treats a certificate without extended key usage as good for any
	// usage; the profile requires clientAuth explicitly.
	if !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageClientAuth) {
		return fmt.Errorf("%w: no clientAuth extended key usage", ErrNotClientAuth)
	}
	if upnDomain != ca.okmsID {
		return fmt.Errorf("%w: certificate for %q", ErrDomainMismatch, upnDomain)
	}
	return nil
}

// verifyChain runs x509's chain verification of cert against ca alone.
func (ca *CA) verifyChain(cert *x509.Certificate, now time.Time) error {
	// Go's parser records a critical extension it did not "handle" in
	// UnhandledCriticalExtensions, and x509.Verify then refuses the
	// certificate. For the subjectAltName that happens when it holds no DNS
	// name, e-mail address, IP address or URI, so an access certificate
	// whose only name is the otherName UPN is refused. verify has already
	// decoded that extension itself (UPNDomain succeeded, so it is
	// well-formed and understood), hence it removes the subjectAltName, and
	// only it, from the list on a shallow copy. Every other unhandled
	// critical extension still makes verification fail. The TLS stack does
	// not do this, which is why CA.Issue requires at least one URI.
	c := *cert
	c.UnhandledCriticalExtensions = slices.DeleteFunc(slices.Clone(cert.UnhandledCriticalExtensions), isSANOID)

	roots := x509.NewCertPool()
	roots.AddCert(ca.cert)
	_, err := c.Verify(x509.VerifyOptions{
		Roots:       roots,
		CurrentTime: now,
		KeyUsages:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	})
	if err == nil {
		return nil
	}
	var invalid x509.CertificateInvalidError
	if errors.As(err, &invalid) {
		switch invalid.Reason {
		case x509.Expired:
			// The leaf's dates were checked above: this is the CA's.
			return fmt.Errorf("%w: %w", ErrExpired, err)
		case x509.IncompatibleUsage:
			return fmt.Errorf("%w: %w", ErrNotClientAuth, err)
		}
	}
	return fmt.Errorf("%w: %w", ErrUnknownAuthority, err)
}
