package policy

// ActionInfo describes one action of the catalogue (iam.md 5).
type ActionInfo struct {
	// Name is the full action name, e.g. "okms:apikms:secret/get".
	Name string
	// Used is false for the actions accepted in policies but required by no
	// coffer operation (logs).
	Used bool
}

// catalogue is iam.md section 5 as data: every action a policy may name
// without a wildcard. Order: namespace, then the order of the spec's tables.
var catalogue = func() []ActionInfo {
	var c []ActionInfo
	add := func(ns string, used bool, suffixes ...string) {
		for _, s := range suffixes {
			c = append(c, ActionInfo{Name: ns + s, Used: used})
		}
	}
	// 5.1 Data plane (surfaces B and C), from the OKMS swagger.
	add(NamespaceKMS, true,
		SecretCreate, SecretGet, SecretDelete, SecretUpdateMetadata, SecretSubkeysGet,
		SecretVersionCreate, SecretVersionGetData, SecretVersionActivate,
		SecretVersionDeactivate, SecretVersionDelete,
		SecretConfigGet, SecretConfigUpdate)
	add(NamespaceKMS, true,
		ServiceKeyCreate, ServiceKeyImport, ServiceKeyGet, ServiceKeyUpdate,
		ServiceKeyDelete, ServiceKeyActivate, ServiceKeyDeactivate,
		ServiceKeyEncrypt, ServiceKeyDecrypt, ServiceKeySign, ServiceKeyVerify,
		ServiceKeyDataKeyCreate, ServiceKeyDataKeyDecrypt, ServiceKeyWrapKey, ServiceKeyUnwrapKey, RandomGet)
	// 5.2 Central API (surface A), from the central schema.
	add(NamespaceCentral, true,
		SecretCreate, SecretGet, SecretDelete, SecretUpdateMetadata, SecretEdit,
		SecretVersionCreate, SecretVersionGetData, SecretVersionActivate,
		SecretVersionDeactivate, SecretVersionDelete, SecretVersionEdit,
		SecretConfigGet, SecretConfigUpdate, ResourceGet,
		CredentialGet, CredentialCreate, CredentialDelete)
	add(NamespaceCentral, true,
		ServiceKeyGet, ServiceKeyCreate, ServiceKeyImport, ServiceKeyUpdate,
		ServiceKeyActivate, ServiceKeyDeactivate, ServiceKeyDelete)
	add(NamespaceCentral, false,
		"log/kind/get", "log/subscription/get", "log/subscription/create",
		"log/subscription/delete", "log/url/create")
	return c
}()

// actionIndex maps a full action name to its position in catalogue.
var actionIndex = func() map[string]int {
	m := make(map[string]int, len(catalogue))
	for i, a := range catalogue {
		m[a.Name] = i
	}
	return m
}()

// KnownAction reports whether a is the full name of an action of the
// catalogue, e.g. "okms:apikms:secret/version/getData". It is exact and
// case-sensitive: patterns are not actions.
func KnownAction(a string) bool {
	_, ok := actionIndex[a]
	return ok
}

// Catalogue returns every action of iam.md section 5, both namespaces, in a
// fixed order. The slice is a fresh copy owned by the caller.
func Catalogue() []ActionInfo {
	return append([]ActionInfo(nil), catalogue...)
}
