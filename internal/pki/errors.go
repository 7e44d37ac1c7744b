package pki

import "errors"

// Errors returned by this package. Callers compare them with [errors.Is];
// returned errors usually wrap one of them with more context. None carries
// an HTTP status.
var (
	// ErrInvalidDomain reports an okmsId that cannot name an access CA or a
	// UPN: empty, longer than [MaxOKMSIDLen], made of characters other than
	// ASCII letters, digits, '-', '.' and '_', or the wildcard "*".
	ErrInvalidDomain = errors.New("pki: invalid okmsId")

	// ErrDomainMismatch reports a request or a certificate naming another
	// domain than the one of the access CA it is given to.
	ErrDomainMismatch = errors.New("pki: okmsId does not match the CA's domain")

	// ErrCAKind reports an operation on the wrong kind of CA: issuing an
	// access certificate with the installation CA, a server certificate with
	// an access CA, or verifying a client certificate with the installation
	// CA. It is also returned for a nil or zero CA.
	ErrCAKind = errors.New("pki: wrong kind of CA for this operation")

	// ErrMalformedCA reports bytes that [ParseCA] cannot accept.
	ErrMalformedCA = errors.New("pki: malformed CA")

	// ErrCAValidity reports an issuance at a time when the CA is not valid,
	// or of a certificate that would outlive its CA.
	ErrCAValidity = errors.New("pki: certificate outside the CA's validity period")

	// ErrInvalidRequest reports an [IssueRequest] missing a field that the
	// caller, not the end user, must supply (Now).
	ErrInvalidRequest = errors.New("pki: invalid issue request")

	// ErrInvalidIdentity reports an issuance without identity URNs, or with
	// one that cannot be written as a SAN URI (not ASCII, not "urn:…", or
	// rejected by net/url).
	ErrInvalidIdentity = errors.New("pki: invalid identity URN")

	// ErrValidityTooShort reports a zero or negative certificate validity
	// (okms-rest.md 5.4: CredentialValidityMinimumRequired).
	ErrValidityTooShort = errors.New("pki: certificate validity must be positive")

	// ErrValidityTooLong reports a certificate validity beyond [MaxValidity]
	// (okms-rest.md 5.4: CredentialValidityMaximumExceeded).
	ErrValidityTooLong = errors.New("pki: certificate validity exceeds 365 days")

	// ErrInvalidKeyType reports a key type other than [KeyTypeECDSA] and
	// [KeyTypeRSA] (okms-rest.md 5.4: CredentialCertificateTypeInvalidEnum).
	ErrInvalidKeyType = errors.New("pki: invalid certificate key type")

	// ErrCSRWithKeyType reports a request with both a CSR and a key type
	// (okms-rest.md 5.4: CredentialCertificateTypeIncompatibleFields).
	ErrCSRWithKeyType = errors.New("pki: a CSR cannot be combined with a certificate key type")

	// ErrInvalidCSR reports a CSR that is not a single PEM "CERTIFICATE
	// REQUEST" block, does not parse, or whose signature does not verify.
	ErrInvalidCSR = errors.New("pki: invalid certificate signing request")

	// ErrUnsupportedKey reports a CSR whose public key is not ECDSA P-256,
	// ECDSA P-384 or RSA of 2048 to 8192 bits.
	ErrUnsupportedKey = errors.New("pki: unsupported public key")

	// ErrInvalidHost reports an empty host list or a host that is neither an
	// IP address nor a DNS name, given to [CA.IssueServer].
	ErrInvalidHost = errors.New("pki: invalid server host")

	// ErrNoUPN reports a certificate without an okms.domain UPN in its
	// subjectAltName.
	ErrNoUPN = errors.New("pki: certificate has no okms.domain UPN")

	// ErrMalformedUPN reports a subjectAltName that does not decode, a UPN
	// that is not a DER UTF8String under an explicit [0] tag, several
	// okms.domain UPNs, or an okmsId that is not valid.
	ErrMalformedUPN = errors.New("pki: malformed okms.domain UPN")

	// ErrWildcardUPN reports the UPN "okms.domain:*". okms-cli gives it the
	// meaning "any domain"; coffer never issues nor accepts it (iam.md 7.3).
	ErrWildcardUPN = errors.New("pki: wildcard okms.domain UPN refused")

	// ErrExpired reports a certificate, or its CA, past its notAfter.
	ErrExpired = errors.New("pki: certificate expired")

	// ErrNotYetValid reports a certificate before its notBefore.
	ErrNotYetValid = errors.New("pki: certificate not yet valid")

	// ErrUnknownAuthority reports a certificate that does not chain to the
	// CA it is verified against, or that x509's chain verification refuses
	// for another reason (an unknown critical extension, for instance); the
	// x509 error is wrapped too.
	ErrUnknownAuthority = errors.New("pki: certificate not issued by this CA")

	// ErrNotClientAuth reports a certificate without the clientAuth extended
	// key usage, or a CA certificate presented as a client certificate.
	ErrNotClientAuth = errors.New("pki: certificate not valid for client authentication")
)
