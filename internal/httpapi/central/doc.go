// Package central is surface A, the dialect of OVHcloud's central API v2
// (/v2/okms/...; ../shared/spec/okms-rest.md sections 5, 7, 8.2): the
// secret, version and secretConfig routes of an OKMS domain, and the domain
// listing. It accepts bearer tokens only, calls the service with the
// Central dialect (okms:apiovh:* actions), shows version states in upper
// case with an iam block on secrets, and answers every error in the OVH
// envelope {"class", "message"}; every response carries X-Ovh-QueryID.
// Each handler parses typed inputs, calls one service method and encodes
// the result; errors go through the one table of errors.go. It holds no
// behaviour of its own: rules live in secret and service, and what it
// shares with surface B (path splitting, cursors, request parsing) in
// httpapi.
package central
