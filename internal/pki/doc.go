// Package pki owns coffer's X.509 material: the per-domain access CA that
// issues mTLS access certificates (iam.md section 7.3, okms-rest.md section
// 5.4), the checks applied to a client certificate once the TLS stack has
// accepted it, and an installation CA that can issue a TLS server
// certificate when coffer listens on a non-loopback address without one.
//
// An access certificate has this profile: issuer CN=coffer access CA
// <okmsId> (ECDSA P-384), subject CN=<okmsId>, a 128-bit random serial, a
// critical subjectAltName holding an otherName of type UPN
// (1.3.6.1.4.1.311.20.2.3) whose value is the UTF8String
// "okms.domain:<okmsId>" followed by one URI per bound identity URN, the
// clientAuth extended key usage, and a generated ECDSA P-256 or RSA 3072 key
// or the key of a certificate signing request. okms-cli reads the okmsId from
// that UPN; coffer never issues, and always rejects, the "*" value.
//
// A [CA] is created with [NewCA] (or [NewInstallationCA]), serialised with
// [CA.Marshal] and restored with [ParseCA]. The serialised form contains the
// private key in clear: its owner stores it as an ordinary record, which the
// sealed storage layer encrypts. A CA never prints its key: it implements
// fmt.Stringer, fmt.GoStringer and slog.LogValuer with a REDACTED form.
//
// The package uses only the standard library. It does no storage or network
// I/O and knows nothing about credentials records, policies or HTTP: the
// service reaches it through an interface the service declares
// (service.CertIssuer), and only the composition root imports it
// (architecture.md section 3). Time and randomness are parameters.
package pki
