package policy

import (
	"errors"
	"net/url"
	"strconv"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/secret"
)

// Namespaces of actions: the data plane (surfaces B and C) and the central
// API (surface A) are independent (iam.md 5).
const (
	NamespaceKMS     = "okms:apikms:"
	NamespaceCentral = "okms:apiovh:"
)

// Action suffixes shared by both namespaces (iam.md 5.1, 5.2). The complete
// catalogue, including the actions accepted in policies but used by no coffer
// operation, is [Catalogue].
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
	ResourceGet             = "resource/get"      // central only
	CredentialGet           = "credential/get"    // central only
	CredentialCreate        = "credential/create" // central only
	CredentialDelete        = "credential/delete" // central only
)

// Action suffixes of service keys (the OKMS swagger, issue 15). Surface A
// has create, import, get, update, activate, deactivate and delete; the
// others exist on surface B only.
const (
	ServiceKeyCreate         = "serviceKey/create"
	ServiceKeyImport         = "serviceKey/import"
	ServiceKeyGet            = "serviceKey/get"
	ServiceKeyUpdate         = "serviceKey/update"
	ServiceKeyDelete         = "serviceKey/delete"
	ServiceKeyActivate       = "serviceKey/activate"
	ServiceKeyDeactivate     = "serviceKey/deactivate"
	ServiceKeyEncrypt        = "serviceKey/encrypt"
	ServiceKeyDecrypt        = "serviceKey/decrypt"
	ServiceKeySign           = "serviceKey/sign"
	ServiceKeyVerify         = "serviceKey/verify"
	ServiceKeyDataKeyCreate  = "serviceKey/dataKey/create"
	ServiceKeyDataKeyDecrypt = "serviceKey/dataKey/decrypt"
	ServiceKeyWrapKey        = "serviceKey/wrapKey"   // on the transport key of a wrapped export
	ServiceKeyUnwrapKey      = "serviceKey/unwrapKey" // on the transport key of a wrapped import
	RandomGet                = "random/get"           // on the domain
)

// AccountURN returns the URN of the account root identity.
func AccountURN(zone, account string) string {
	return "urn:v1:" + zone + ":identity:account:" + account
}

// UserURN returns the URN of a user of the account (iam.md 2).
func UserURN(zone, account, login string) string {
	return "urn:v1:" + zone + ":identity:user:" + account + "/" + login
}

// GroupURN returns the URN of a group of the account (iam.md 2).
func GroupURN(zone, account, group string) string {
	return "urn:v1:" + zone + ":identity:group:" + account + "/" + group
}

// ServiceAccountURN returns the URN of a service account (an OAuth2 client)
// of the account: urn:v1:<zone>:identity:credential:<account>/oauth2-<clientId>.
func ServiceAccountURN(zone, account, clientID string) string {
	return "urn:v1:" + zone + ":identity:credential:" + account + "/" + oauth2Prefix + clientID
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

// ServiceKeyURN returns the URN of a service key (okms-rest.md 2.7).
func ServiceKeyURN(zone, okmsID, keyID string) string {
	return DomainURN(zone, okmsID) + keySep + keyID
}

// DomainOf returns the URN of the OKMS domain a resource lies in, for a
// resource below a domain (a secret or a service key): the text before the
// first "/" after "urn:v1:<zone>:resource:okms:". It reports false for
// anything else, a domain URN included. It does not validate urn and does
// not allocate.
func DomainOf(urn string) (string, bool) {
	rest, ok := strings.CutPrefix(urn, urnPrefix)
	if !ok {
		return "", false
	}
	z := strings.IndexByte(rest, ':')
	if z < 0 || !strings.HasPrefix(rest[z:], okmsMarker) {
		return "", false
	}
	start := len(urnPrefix) + z + len(okmsMarker)
	slash := strings.IndexByte(urn[start:], '/')
	if slash <= 0 {
		return "", false
	}
	return urn[:start+slash], true
}

const (
	urnPrefix    = "urn:v1:"
	okmsMarker   = ":resource:okms:"
	oauth2Prefix = "oauth2-"
	secretSep    = "/secret/"
	keySep       = "/serviceKey/"

	// MaxURNLength bounds the URNs ParseURN accepts. The longest coffer URN
	// is a secret URN: about 70 characters of prefix and a path of at most
	// 255 characters, each "/" written as three.
	MaxURNLength = 1024
	// maxNameLength bounds accounts, logins and group names (iam.md 2).
	maxNameLength = 64
	// clientIDLength is the length of coffer's OAuth2 client ids.
	clientIDLength = 16
)

// Kind is the kind of object a URN names (iam.md 2).
type Kind string

// URN kinds. Policies use identity URNs in their identities and resource URNs
// in their resources; coffer v1 supports neither resource groups nor
// permissions groups in policies, but ParseURN recognises their URNs.
const (
	KindIdentity         Kind = "identity"
	KindResource         Kind = "resource"
	KindResourceGroup    Kind = "resourceGroup"
	KindPermissionsGroup Kind = "permissionsGroup"
)

// URN subtypes (the segment after the kind).
const (
	TypeAccount    = "account"    // identity: the account root
	TypeUser       = "user"       // identity: <account>/<login>
	TypeGroup      = "group"      // identity: <account>/<group>
	TypeCredential = "credential" // identity: <account>/oauth2-<clientId>, a service account
	TypeOKMS       = "okms"       // resource: <okmsId>[/secret/<escaped path>|/serviceKey/<keyId>]
)

// Zones are the IAM zones URNs may name.
var zones = [...]string{"eu", "ca", "us"}

// ErrInvalidURN is the error every [URNError] matches with [errors.Is].
var ErrInvalidURN = errors.New("policy: invalid URN")

// URNError reports why a string is not a well-formed URN.
type URNError struct {
	URN    string // the input, as given
	Reason string // what is wrong, safe to show
}

// Error returns the reason with the input, quoted and shortened.
func (e *URNError) Error() string {
	return "policy: invalid URN " + quoteShort(e.URN) + ": " + e.Reason
}

// Unwrap returns [ErrInvalidURN].
func (e *URNError) Unwrap() error { return ErrInvalidURN }

// URN is a parsed URN. Only the fields that apply to its kind and subtype
// are set. URNs are case-sensitive: ParseURN never folds case.
type URN struct {
	Zone string // "eu", "ca" or "us"
	Kind Kind
	// Type is the subtype (TypeUser, TypeOKMS, …). It may be empty for
	// resource-group and permissions-group URNs, which OVHcloud writes
	// without one (urn:v1:eu:resourceGroup:<uuid>).
	Type string
	// ID is everything after "<type>:" (or after "<kind>:" when Type is
	// empty), exactly as written.
	ID string

	Account    string      // identities: the account
	Name       string      // users: the login; groups: the group; service accounts: the client id
	OKMSID     string      // okms resources: the domain id
	Path       secret.Path // secret URNs: the decoded path; zero otherwise
	ServiceKey string      // service-key URNs: the key id
}

// String returns the URN in text form. For a URN returned by ParseURN it is
// the input.
func (u URN) String() string {
	if u.Type == "" {
		return urnPrefix + u.Zone + ":" + string(u.Kind) + ":" + u.ID
	}
	return urnPrefix + u.Zone + ":" + string(u.Kind) + ":" + u.Type + ":" + u.ID
}

// IsSecret reports whether u names a secret.
func (u URN) IsSecret() bool { return !u.Path.IsZero() }

// IsDomain reports whether u names an OKMS domain.
func (u URN) IsDomain() bool {
	return u.Kind == KindResource && u.Type == TypeOKMS && u.Path.IsZero() && u.ServiceKey == ""
}

// Domain returns the URN of the OKMS domain of an okms resource URN (the URN
// itself for a domain), or "" for other URNs.
func (u URN) Domain() string {
	if u.Kind != KindResource || u.Type != TypeOKMS {
		return ""
	}
	return DomainURN(u.Zone, u.OKMSID)
}

// ParseURN parses s against the URN grammar of iam.md section 2:
//
//	urn:v1:<zone>:identity:account:<account>
//	urn:v1:<zone>:identity:user:<account>/<login>
//	urn:v1:<zone>:identity:group:<account>/<group>
//	urn:v1:<zone>:identity:credential:<account>/oauth2-<clientId>
//	urn:v1:<zone>:resource:okms:<okmsId>
//	urn:v1:<zone>:resource:okms:<okmsId>/secret/<escaped path>
//	urn:v1:<zone>:resource:okms:<okmsId>/serviceKey/<keyId>
//	urn:v1:<zone>:resourceGroup:[<subtype>:]<id>
//	urn:v1:<zone>:permissionsGroup:[<subtype>:]<id>
//
// zone is eu, ca or us; account, login and group match [A-Za-z0-9._@-]{1,64};
// clientId is 16 lowercase hexadecimal digits; okmsId and keyId are UUIDs;
// the path is a valid secret path ([secret.ParsePath]) escaped exactly as
// [url.PathEscape] does, so "/" must be written "%2F" and nothing else may be
// escaped. Other resource types are rejected: coffer hosts only OKMS.
// Wildcards are not part of the grammar. Errors are [*URNError].
func ParseURN(s string) (URN, error) {
	fail := func(reason string) (URN, error) { return URN{}, &URNError{URN: s, Reason: reason} }
	if len(s) > MaxURNLength {
		return fail("longer than " + strconv.Itoa(MaxURNLength) + " characters")
	}
	rest, ok := strings.CutPrefix(s, urnPrefix)
	if !ok {
		return fail(`it must start with "urn:v1:"`)
	}
	zone, rest, ok := strings.Cut(rest, ":")
	if !ok || !validZone(zone) {
		return fail("unknown zone: want eu, ca or us")
	}
	kind, rest, ok := strings.Cut(rest, ":")
	if !ok {
		return fail("missing kind")
	}
	u := URN{Zone: zone, Kind: Kind(kind)}
	var reason string
	switch u.Kind {
	case KindIdentity:
		u.Type, u.ID, ok = strings.Cut(rest, ":")
		if !ok {
			return fail("missing identity type")
		}
		reason = u.parseIdentity()
	case KindResource:
		u.Type, u.ID, ok = strings.Cut(rest, ":")
		if !ok {
			return fail("missing resource type")
		}
		if u.Type != TypeOKMS {
			return fail("unsupported resource type: only okms")
		}
		reason = u.parseOKMS()
	case KindResourceGroup, KindPermissionsGroup:
		t, id, hasType := strings.Cut(rest, ":")
		if hasType {
			u.Type, u.ID = t, id
		} else {
			u.ID = rest
		}
		if hasType && !genericID(u.Type) || !genericID(u.ID) {
			return fail("invalid " + kind + " id")
		}
	default:
		return fail("unknown kind: want identity, resource, resourceGroup or permissionsGroup")
	}
	if reason != "" {
		return fail(reason)
	}
	return u, nil
}

// parseIdentity fills the identity fields from u.Type and u.ID and returns
// what is wrong, or "".
func (u *URN) parseIdentity() string {
	if u.Type == TypeAccount {
		if !validName(u.ID) {
			return "invalid account: want [A-Za-z0-9._@-]{1,64}"
		}
		u.Account = u.ID
		return ""
	}
	acc, name, ok := strings.Cut(u.ID, "/")
	switch u.Type {
	case TypeUser, TypeGroup:
		if !ok && u.Type == TypeUser {
			return "want <account>/<login>"
		}
		if !ok {
			return "want <account>/<group>"
		}
		if !validName(name) {
			return "invalid " + u.Type + " name: want [A-Za-z0-9._@-]{1,64}"
		}
	case TypeCredential:
		cid, hasPrefix := strings.CutPrefix(name, oauth2Prefix)
		if !ok || !hasPrefix {
			return "want <account>/oauth2-<clientId>"
		}
		if !validClientID(cid) {
			return "invalid client id: want 16 lowercase hexadecimal digits"
		}
		name = cid
	default:
		return "unknown identity type: want account, user, group or credential"
	}
	if !validName(acc) {
		return "invalid account: want [A-Za-z0-9._@-]{1,64}"
	}
	u.Account, u.Name = acc, name
	return ""
}

// parseOKMS fills the okms resource fields from u.ID and returns what is
// wrong, or "".
func (u *URN) parseOKMS() string {
	id, sub, hasSub := strings.Cut(u.ID, "/")
	if !isUUID(id) {
		return "invalid okmsId: want a UUID"
	}
	u.OKMSID = id
	if !hasSub {
		return ""
	}
	sub = "/" + sub
	if esc, ok := strings.CutPrefix(sub, secretSep); ok {
		raw, err := url.PathUnescape(esc)
		if err != nil {
			return "invalid percent-encoding in secret path"
		}
		p, err := secret.ParsePath(raw)
		if err != nil {
			return "invalid secret path"
		}
		if p.Escaped() != esc {
			return `secret path not in canonical form: write "/" as %2F and escape nothing else`
		}
		u.Path = p
		return ""
	}
	if key, ok := strings.CutPrefix(sub, keySep); ok {
		if !isUUID(key) {
			return "invalid service key id: want a UUID"
		}
		u.ServiceKey = key
		return ""
	}
	return `want <okmsId>, <okmsId>/secret/<path> or <okmsId>/serviceKey/<keyId>`
}

func validZone(z string) bool {
	for _, v := range zones {
		if z == v {
			return true
		}
	}
	return false
}

// validName reports whether s matches [A-Za-z0-9._@-]{1,64}.
func validName(s string) bool {
	if len(s) == 0 || len(s) > maxNameLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !nameChar(s[i]) {
			return false
		}
	}
	return true
}

func nameChar(c byte) bool {
	return alnum(c) || c == '.' || c == '_' || c == '@' || c == '-'
}

func alnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

// ValidClientID reports whether s is a coffer OAuth2 client id: 16
// lowercase hexadecimal digits (iam.md 2).
func ValidClientID(s string) bool { return validClientID(s) }

func validClientID(s string) bool {
	if len(s) != clientIDLength {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !('0' <= s[i] && s[i] <= '9' || 'a' <= s[i] && s[i] <= 'f') {
			return false
		}
	}
	return true
}

// uuidDash reports whether position i of a textual UUID holds a dash.
func uuidDash(i int) bool { return i == 8 || i == 13 || i == 18 || i == 23 }

// uuidPrefix reports whether s can begin a UUID in its 8-4-4-4-12 text form
// (hexadecimal digits of either case).
func uuidPrefix(s string) bool {
	if len(s) > 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if uuidDash(i) {
			if c != '-' {
				return false
			}
		} else if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func isUUID(s string) bool { return len(s) == 36 && uuidPrefix(s) }

// genericID checks the ids of resource groups and permissions groups, whose
// syntax coffer does not model: non-empty, in the URN alphabet.
func genericID(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !urnChar(s[i]) {
			return false
		}
	}
	return true
}

// urnChar reports whether c may appear in a coffer URN: the name alphabet,
// the secret path alphabet, and "%" and "/" of escapes and separators.
func urnChar(c byte) bool {
	return nameChar(c) || c == ':' || c == '/' || c == '%' || c == '='
}

// pathChar is the secret path alphabet of okms-rest.md 2.2 (the same as
// internal/secret's), checked here byte by byte on patterns.
func pathChar(c byte) bool {
	return alnum(c) || c == '_' || c == '.' || c == ':' || c == '/' || c == '=' || c == '@' || c == '-'
}

// quoteShort quotes s for an error message, cut to a readable length.
func quoteShort(s string) string {
	const max = 120
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}
