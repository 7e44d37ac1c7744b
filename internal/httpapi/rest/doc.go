// Package rest is surface B, OVHcloud's OKMS regional REST API for
// secrets: /api/{okmsId}/v2/secret... and /api/{okmsId}/v2/secretConfig
// (../shared/spec/okms-rest.md sections 1, 4, 6, 7, 8.1). Each handler parses
// typed inputs, calls one service method and encodes the result in the OKMS
// wire format; errors go through the one table of errors.go.
package rest
