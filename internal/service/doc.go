// Package service is coffer's application layer: one exported method per
// use case (create a secret, add a version, change a version's state, read
// the domain configuration, …), shared by every API surface.
//
// Every method follows the same steps: authorize the caller for the
// action(s) on the resource URN derived from the request (before any
// storage read, so a denial never reveals existence), write the audit
// request event (fail closed), run all of its reads and writes in one
// storage transaction (so a failed call changes nothing), then write the
// audit response event. Time comes from an injected clock, read once per
// call, outside the transaction, because a transaction function may run more
// than once.
//
// The service owns the record encoding and the storage key schema: every
// storage key is built, and every record type declared, in records.go. It
// never imports net/http, a concrete backend or internal/crypto.
//
// Files are named after what they do, each with its _test.go:
//
//   - service.go: the Service, its options, the call pattern (authorize,
//     audit, one transaction, audit); errors.go its errors; access.go who
//     may do what (the administrator gate, the questions of interfaces).
//   - install.go: the first start and the installation's emptiness; cluster.go,
//     reload.go: what is kept in memory and how other nodes refresh it.
//   - secrets.go, versions.go, metadata.go, config.go: secrets, their
//     versions, their metadata and a domain's secret configuration.
//   - domains.go: regions and OKMS domains; credentials.go: access
//     certificates and their authentication.
//   - users.go, groups.go, policies.go: identity management; tokens.go:
//     personal access tokens, child tokens and token authentication
//     (authcache.go caches principals); sessions.go: the panel's sign-in.
//   - auditlog.go: reading the audit log back; operator.go: operator
//     actions; limits.go, ratelimit.go: quotas and rate limits.
//   - records.go: the key schema and the records; recordcodec.go: the
//     reflection-free codec of secret records.
package service
