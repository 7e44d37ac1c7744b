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
// The service owns the record encoding and the storage key schema
// (records.go). It never imports net/http, a concrete backend or
// internal/crypto.
package service
