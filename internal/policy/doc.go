// Package policy is coffer's IAM vocabulary: URNs of identities and
// resources in OVHcloud's grammar (iam.md section 2), the action catalogue
// (iam.md section 5) and, as IAM grows, policy documents and their
// evaluation. It is pure: no I/O, no storage, no HTTP.
package policy
