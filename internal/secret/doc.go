// Package secret is coffer's domain vocabulary: secret paths, data, versions
// and their states, secret settings and the domain-wide configuration, and
// every rule that can be stated without I/O — the path grammar, data and
// custom-metadata validation, durations, effective settings, check-and-set,
// retention and pruning, state transitions and lazy deactivation, JSON merge
// patch and Vault's subkeys view.
//
// The package has no I/O, no context, no storage and no HTTP: it is shared by
// the service layer and reused by every API surface so that the three
// surfaces cannot drift apart. Wire types belong to the adapters; nothing here
// carries JSON tags.
//
// Parse once at the edge: [ParsePath], [ParseData], [ParseDuration] and
// friends turn untrusted input into typed values; code that holds a [Path] or
// a [Data] never validates it again. Validation problems are returned as
// [Violations], values that each adapter renders in its own wording.
//
// The rules follow ../shared/spec/okms-rest.md (sections 2 and 3) and the
// Vault mapping of vault-kv2.md (sections 3 and 5).
package secret
