// Package central is surface A, the dialect of OVHcloud's central API v2
// (/v2/okms/...). For now it serves the domain listing; the secret routes
// of surface A arrive with the domain lifecycle (issue #5). Errors use the
// OVH envelope {"class", "message"} with X-Ovh-QueryID (okms-rest.md 8.2).
package central
