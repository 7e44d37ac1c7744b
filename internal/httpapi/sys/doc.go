// Package sys is the operator surface of coffer: the routes under /sys/
// that act on the installation itself rather than on the objects of a
// domain — root and domain key rotation (reliability-security.md 2) and
// backup and restore (reliability-security.md T19). Every route is for the
// account root and ADMIN users only, and every call is audited; the
// service decides and records both, this package only authenticates.
//
// The work itself needs what only the composition root holds (the root
// key and its file, the keyrings of the encryption layer, the raw region
// stores): this package declares it as [Operator], which internal/server
// implements, and stays a thin adapter like the other surfaces — a
// handler parses its inputs, calls one Operator method and encodes the
// answer. The pieces are where the other surfaces keep them:
//
//   - routes.go: the routing table (method, pattern, body limit, handler);
//   - errors.go: the one table from error to status and message;
//   - operator.go: the Operator interface and what its methods return;
//   - keys.go, backup.go: the handlers and their wire types, one file per
//     family of routes.
//
// A new operator route (the seal status, unseal and init routes of the
// seals to come, say GET /sys/seal-status or PUT /sys/unseal) is a row of
// the table, an Operator method, a handler in a file of its family
// (seal.go), rows in errors.go for its errors, and its operation in the
// OpenAPI document of internal/httpapi/docs, which is checked against
// [API.Routes].
//
// Errors use the server's own envelope, {"errors": ["message"]}: the
// message says what was wrong and never carries a passphrase, a key or a
// secret value.
package sys
