// Package client is a Go client for a coffer server.
//
// Its centre is surface B, the OKMS regional REST API of a domain
// (/api/{okmsId}/v2/secret...; okms-rest.md section 4), with the wire types
// of package [github.com/seed-3e8d63de/coffer/api]. It also covers the few
// calls of the other APIs that coffer's command-line client needs: the
// service keys of a domain (/api/{okmsId}/v1/servicekey...: [Client.Encrypt],
// [Client.Sign], [Client.GenerateDataKey] and the key life cycle), the
// domains and access certificates of surface A (/v2/okms/...), the Vault
// KV v2 surface (/v1/secret/...; see [KV]), and identity management
// (/1.0/me/identity/..., /v2/iam/...).
//
// The client authenticates with a bearer token ([WithToken]) or an access
// certificate ([WithClientCertificate]); [WithRootCAs] trusts the CA of a
// server whose certificate is not publicly trusted, such as coffer's
// installation CA.
//
// Secret paths are sent escaped with [url.PathEscape], so that a "/" in a
// path travels as %2F, as OVHcloud's SDK sends it (okms-rest.md 1.2).
// Listings follow the cursor of X-Pagination-Cursor-Next page by page
// ([Client.Secrets] returns an iterator). Every refusal of the server is an
// [*Error] parsed from the response's envelope (OKMS, OVH or Vault); it
// matches [ErrNotFound], [ErrUnauthenticated], [ErrForbidden],
// [ErrConflict] or [ErrCASMismatch] with [errors.Is]. Failures to reach
// the server are returned as they come from net/http.
//
// The client imports only the standard library and package api.
package client
