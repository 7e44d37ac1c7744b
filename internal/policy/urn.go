package policy

// Namespaces of actions: the data plane (surfaces B and C) and the central
// API (surface A) are independent (iam.md 5).
const (
	NamespaceKMS     = "okms:apikms:"
	NamespaceCentral = "okms:apiovh:"
)

// Action suffixes shared by both namespaces (iam.md 5.1, 5.2).
const (
	SecretCreate            = "secret/create"
	SecretGet               = "secret/get"
	SecretDelete            = "secret/delete"
	SecretUpdateMetadata    = "secret/updateMetadata"
	SecretEdit              = "secret/edit" // central only
	SecretSubkeysGet        = "secret/subKeys/get"
	SecretVersionCreate     = "secret/version/create"
	SecretVersionGetData    = "secret/version/getData"
	SecretVersionActivate   = "secret/version/activate"
	SecretVersionDeactivate = "secret/version/deactivate"
	SecretVersionDelete     = "secret/version/delete"
	SecretVersionEdit       = "secret/version/edit" // central only
	SecretConfigGet         = "secretConfig/get"
	SecretConfigUpdate      = "secretConfig/update"
	ResourceGet             = "resource/get" // central only
)

// AccountURN returns the URN of the account root identity.
func AccountURN(zone, account string) string {
	return "urn:v1:" + zone + ":identity:account:" + account
}

// DomainURN returns the URN of an OKMS domain.
func DomainURN(zone, okmsID string) string {
	return "urn:v1:" + zone + ":resource:okms:" + okmsID
}

// SecretURN returns the URN of a secret, given its path already escaped as
// by url.PathEscape (okms-rest.md 2.7).
func SecretURN(zone, okmsID, escapedPath string) string {
	return DomainURN(zone, okmsID) + "/secret/" + escapedPath
}
