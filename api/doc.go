// Package api holds the wire types of coffer's OKMS regional REST API
// (surface B, /api/{okmsId}/v2/...): requests, responses and the error
// envelope, with the exact JSON field names of OVHcloud's OKMS API
// (../shared/spec/okms-rest.md). It has no behaviour and imports only the
// standard library, so the server, the Go client and users share one
// definition.
package api
