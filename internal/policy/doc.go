// Package policy is coffer's IAM engine: the URNs of identities and
// resources in OVHcloud's grammar (iam.md section 2), the action catalogue
// (section 5), policy documents with their validation and canonical form
// (section 4.1, 4.2), and their evaluation (section 4.3).
//
// It is pure: no I/O, no storage, no HTTP, no clock (callers pass now). It
// knows neither where policies are stored nor how principals authenticate:
// the service layer builds an [Index] from the stored policies and asks it
// about a [Subject] made of plain identity URNs and the root and ADMIN
// flags.
//
// A policy grants actions on resources to identities:
//
//	identities: urn:v1:eu:identity:credential:coffer/oauth2-3f2a9c0d1b4e5f60
//	resources:  urn:v1:eu:resource:okms:6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f/secret/prod%2F*
//	allow:      okms:apikms:secret/get, okms:apikms:secret/version/getData
//
// Patterns may carry a "*" at their beginning and/or end only. A resource
// pattern covers a secret if it matches the secret's URN or its domain's
// URN, so a domain URN grants on all the domain's secrets. Secret paths are
// percent-encoded in URNs ("/" is "%2F"): ".../secret/prod%2F*" covers every
// secret under prod/, ".../secret/prod*" also covers production/...
//
// Evaluation denies by default; a deny in any applicable policy wins; an
// except removes actions from its own policy's allows only.
package policy
