// Package kv2 is surface C, the HashiCorp Vault KV version 2 API
// (../shared/spec/vault-kv2.md): the one mount "secret" of an OKMS domain,
// under /v1/ for the server's default domain and /api/{okmsId}/v1/ for the
// named one, plus the sys/ and auth/token/ calls Vault clients make around
// it (preflight, health, seal status, leader, token lookup and child
// tokens).
//
// Requests are dispatched as Vault dispatches them: the HTTP method becomes
// a logical operation (read, list, write, patch, delete; section 2.1), the
// path is matched against the mount's routing table (routes.go, section
// 4.10), parameters are decoded with Vault's weak typing (params.go, section
// 2.2) and unknown ones are ignored with a warning. Each handler parses typed
// inputs, calls one service method and writes Vault's envelope
// (envelope.go); every error goes through the one table of errors.go, which
// produces Vault's exact strings plus the OKMS members error_code, error_id
// and request_id.
//
// Vault's mapping onto the OKMS model (section 3): delete is deactivate,
// undelete is reactivate, destroy is delete for good, delete_version_after is
// deactivateVersionAfter and the mount config is the domain's secretConfig.
// No rule lives here: CAS, pruning, transitions and validation are in
// package secret, applied by package service.
package kv2
