package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/servicekey"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// The storage key schema (architecture.md section 6). Every key the
// service reads or writes is built in this file and nowhere else; the
// records stored under them are declared here too. Keys are UTF-8 and
// compared byte-wise. The system store (Options.Store) holds the sys/ and
// iam/ keys; the store of each region holds the d/ keys of its domains.
//
//	sys/init                                 the installation: account, creation time (initRecord); its presence means initialised
//	sys/pepper                               the pepper of token digests (32 raw bytes)
//	sys/default-domain                       the id of the default OKMS domain (raw), absent once it is deleted
//	sys/domains/<okmsId>                     the domain registry: region, display name, state (domainRecord)
//	sys/keyring                              wrapped key material, written by internal/storage/sealed (sealed.KeyringKey), never by the service
//	iam/user/<login>                         a local user, with its immutable id and password hash (userRecord)
//	iam/group/<name>                         a group, its immutable id and its role (groupRecord)
//	iam/policy/<id>                          an IAM policy (policy.Policy as JSON)
//	iam/pat/<login>/<name>                   a user's personal access token as listed, with its digest (patRecord)
//	iam/token/<digest>                       a token of any kind, by digest, never the token (tokenRecord, childTokenRecord)
//	iam/sa/<clientId>                        a service account (OAuth2 client), with its secret's digest, never the secret (serviceAccountRecord)
//	iam/oat/<clientId>/<19-digit expiry>/<digest>  an OAuth2 access token of a service account, by expiry (empty value)
//	d/<okmsId>/config                        the domain's secret configuration (configRecord); the domain exists in a region while it does
//	d/<okmsId>/s/<path>                      a secret: id, settings, custom metadata, version index (secretRecord)
//	d/<okmsId>/v/<secretId>/<10-digit id>    a version's data: a format byte and the JSON (encodeData)
//	d/<okmsId>/ca                            the domain's access CA, opaque to the service (CertIssuer)
//	d/<okmsId>/cred/<credentialId>           an access certificate, its issuer and the ids it binds (credentialRecord)
//	d/<okmsId>/serial/<hex>                  certificate serial to credential id (raw)
//	d/<okmsId>/k/<keyId>                     a service key: metadata, state, version index, no material (keyRecord)
//	d/<okmsId>/km/<keyId>/<10-digit version> a service key version's material: a format byte and the material (putMaterial)
//	d/<okmsId>/kn/<escaped name>/<keyId>     the name index of service keys, for Transit (transit.go): a format byte; names path-escaped, so "/" is %2F
//	d/<okmsId>/knv                           present once the name index covers the keys created before it (a format byte)
//
// Raw paths in secret keys keep list order equal to byte-wise path order,
// and a prefix scan of d/<okmsId>/s/prod/ returns exactly the secrets under
// prod/. Version data is keyed by the secret's id, not its path, so that a
// ciphertext can never be valid at a re-created path.
const (
	keyInit          = "sys/init"
	keyPepper        = "sys/pepper"
	keyDefaultDomain = "sys/default-domain"
	prefixDomains    = "sys/domains/"

	prefixIAM      = "iam/" // every record authentication reads (authcache.go)
	prefixUsers    = "iam/user/"
	prefixGroups   = "iam/group/"
	prefixPolicies = "iam/policy/"
	prefixPATs     = "iam/pat/"
	prefixTokens   = "iam/token/"
	prefixSAs      = "iam/sa/"
	prefixOATs     = "iam/oat/" // an index: writing one revokes nothing (authcache.go)

	prefixDomainData = "d/"
)

func domainKey(id string) string       { return prefixDomains + id }
func userKey(login string) string      { return prefixUsers + login }
func groupKey(name string) string      { return prefixGroups + name }
func policyKey(id string) string       { return prefixPolicies + id }
func patKey(login, name string) string { return prefixPATs + login + "/" + name }
func patPrefix(login string) string    { return prefixPATs + login + "/" }
func tokenKey(digest string) string    { return prefixTokens + digest }
func saKey(clientID string) string     { return prefixSAs + clientID }
func oatPrefix(clientID string) string { return prefixOATs + clientID + "/" }

// oatKey indexes an OAuth2 access token under its service account, by
// expiry (unix nanoseconds, 19 digits, so that byte order is time order:
// the expired ones come first).
func oatKey(clientID string, expires int64, digest string) string {
	return fmt.Sprintf("%s%019d/%s", oatPrefix(clientID), expires, digest)
}

// parseOATKey returns the expiry and the token digest of an oatKey under
// prefix.
func parseOATKey(key, prefix string) (expires int64, digest string, ok bool) {
	exp, digest, ok := strings.Cut(strings.TrimPrefix(key, prefix), "/")
	if !ok || len(exp) != 19 {
		return 0, "", false
	}
	n, err := strconv.ParseInt(exp, 10, 64)
	return n, digest, err == nil
}

// domainPrefix is the prefix of every record of a domain in its region.
func domainPrefix(domain string) string { return prefixDomainData + domain + "/" }

func configKey(domain string) string    { return prefixDomainData + domain + "/config" }
func secretPrefix(domain string) string { return prefixDomainData + domain + "/s/" }
func secretKey(domain string, p secret.Path) string {
	return secretPrefix(domain) + p.String()
}

// domainVersionsPrefix is the prefix of the version data of all the
// secrets of a domain.
func domainVersionsPrefix(domain string) string { return prefixDomainData + domain + "/v/" }
func versionPrefix(domain, secretID string) string {
	return prefixDomainData + domain + "/v/" + secretID + "/"
}
func versionKey(domain, secretID string, id uint32) string {
	return prefixDomainData + domain + "/v/" + secretID + "/" + digits10(id)
}

// digits10 is "%010d" without fmt: it is on every read and write.
func digits10(n uint32) string {
	var digits [10]byte
	for i := len(digits) - 1; i >= 0; i-- {
		digits[i] = byte('0' + n%10)
		n /= 10
	}
	return string(digits[:])
}

// Service keys (servicekeys.go): the key record, and the material of each
// of its versions in a record of its own, keyed by the key's id.
func keyPrefix(domain string) string     { return prefixDomainData + domain + "/k/" }
func keyKey(domain, keyID string) string { return keyPrefix(domain) + keyID }
func materialPrefix(domain, keyID string) string {
	return prefixDomainData + domain + "/km/" + keyID + "/"
}
func materialKey(domain, keyID string, version uint32) string {
	return materialPrefix(domain, keyID) + digits10(version)
}

// The name index of service keys (transit.go): one record per live key,
// under its name. Names may hold any printable character: path escaping
// keeps "/" out of them, so a prefix scan of one name never reaches
// another.
func keyNamesPrefix(domain string) string { return prefixDomainData + domain + "/kn/" }
func keyNamePrefix(domain, name string) string {
	return keyNamesPrefix(domain) + url.PathEscape(name) + "/"
}
func keyNameKey(domain, name, keyID string) string { return keyNamePrefix(domain, name) + keyID }
func keyNamesBuiltKey(domain string) string        { return prefixDomainData + domain + "/knv" }

func caKey(domain string) string             { return prefixDomainData + domain + "/ca" }
func credentialPrefix(domain string) string  { return prefixDomainData + domain + "/cred/" }
func credentialKey(domain, id string) string { return credentialPrefix(domain) + id }
func serialKey(domain, serial string) string { return prefixDomainData + domain + "/serial/" + serial }

// KeyFamily names the encryption key family of a storage key: "d/<okmsId>"
// for a domain's records, "sys" for everything else. The server hands it to
// the encryption layer, which keeps one key per family so that a domain's
// records are encrypted only under that domain's key.
func KeyFamily(storageKey string) string {
	if rest, ok := strings.CutPrefix(storageKey, prefixDomainData); ok {
		if i := strings.IndexByte(rest, '/'); i > 0 {
			return storageKey[:len(prefixDomainData)+i] // "d/" + rest[:i], without a copy
		}
	}
	return "sys"
}

// DomainKeyFamily is the encryption key family of the records of the OKMS
// domain okmsID: KeyFamily of any of its keys.
func DomainKeyFamily(okmsID string) string { return prefixDomainData + okmsID }

// holdsContent reports whether the store of tx holds content a restore
// would lose: a user, a group, a policy, a service account, or a secret or
// service key of any domain. The
// records every installation has from its first start (sys/, tokens, a
// domain's configuration, access CA and credentials) are not content.
func holdsContent(tx storage.Tx) (bool, error) {
	for _, prefix := range []string{prefixUsers, prefixGroups, prefixPolicies, prefixSAs} {
		keys, err := tx.List(prefix, "", 1)
		if err != nil || len(keys) > 0 {
			return len(keys) > 0, err
		}
	}
	// One domain at a time: its first key names it, then its secrets are
	// looked for, then the scan resumes after its last possible key.
	for after := ""; ; {
		keys, err := tx.List(prefixDomainData, after, 1)
		if err != nil || len(keys) == 0 {
			return false, err
		}
		domain, _, ok := strings.Cut(keys[0][len(prefixDomainData):], "/")
		if !ok {
			after = keys[0] // not a domain record
			continue
		}
		for _, prefix := range []string{secretPrefix(domain), keyPrefix(domain)} {
			if keys, err = tx.List(prefix, "", 1); err != nil || len(keys) > 0 {
				return len(keys) > 0, err
			}
		}
		// "0" is the byte after "/": every key of the domain sorts before.
		after = prefixDomainData + domain + "0"
	}
}

// recordFormat is written in every record so that a future encoding can be
// told apart without guessing.
const recordFormat = 1

func unixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

func fromNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// exists reports whether key is present, distinguishing a storage failure
// from absence.
func exists(tx storage.Tx, key string) (bool, error) {
	_, err := tx.Get(key)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, storage.ErrNotFound):
		return false, nil
	}
	return false, err
}

func getJSON(tx storage.Tx, key string, v any, notFound error) error {
	b, err := tx.Get(key)
	if errors.Is(err, storage.ErrNotFound) {
		return notFound
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func putJSON(tx storage.Tx, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(key, b)
}

// listJSON decodes every record under prefix, in key order.
func listJSON[T any](tx storage.Tx, prefix string) ([]T, error) {
	keys, err := tx.List(prefix, "", 0)
	if err != nil {
		return nil, err
	}
	out := make([]T, 0, len(keys))
	for _, k := range keys {
		var v T
		if err := getJSON(tx, k, &v, storage.ErrNotFound); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// secretRecord is the stored form of a secret.Secret.
type secretRecord struct {
	F        int               `json:"f"`
	ID       string            `json:"id"`
	Path     string            `json:"path"`
	Created  int64             `json:"created"`
	Updated  int64             `json:"updated"`
	Current  uint32            `json:"cur"`
	Oldest   uint32            `json:"oldest"`
	CAS      bool              `json:"cas,omitempty"`
	Max      uint32            `json:"max,omitempty"`
	DVA      string            `json:"dva,omitempty"`
	DVASecs  int64             `json:"dvas,omitempty"`
	Custom   map[string]string `json:"cm,omitempty"`
	Versions []versionRecord   `json:"v"`
}

type versionRecord struct {
	ID            uint32 `json:"id"`
	State         uint8  `json:"s"`
	Created       int64  `json:"c"`
	DeactivatedAt int64  `json:"da,omitempty"`
	DeactivateAt  int64  `json:"sch,omitempty"`
}

func encodeSecret(s *secret.Secret) ([]byte, error) {
	r := secretRecord{
		F: recordFormat, ID: s.ID, Path: s.Path.String(),
		Created: unixNano(s.CreatedAt), Updated: unixNano(s.UpdatedAt),
		Current: s.CurrentVersion, Oldest: s.OldestVersion,
		CAS: s.Settings.CASRequired, Max: s.Settings.MaxVersions,
		Custom:   s.CustomMetadata,
		Versions: make([]versionRecord, len(s.Versions)),
	}
	if d := s.Settings.DeactivateAfter; !d.IsZero() {
		r.DVA, r.DVASecs = d.Text(), d.Seconds()
	}
	for i, v := range s.Versions {
		r.Versions[i] = versionRecord{
			ID: v.ID, State: uint8(v.State), Created: unixNano(v.CreatedAt),
			DeactivatedAt: unixNano(v.DeactivatedAt), DeactivateAt: unixNano(v.DeactivateAt),
		}
	}
	// recordcodec.go: the JSON json.Marshal would write, without reflection.
	return appendSecretRecord(make([]byte, 0, 160+40*len(r.Versions)), &r), nil
}

func decodeSecret(b []byte) (*secret.Secret, error) {
	var r secretRecord
	if err := parseSecretRecord(b, &r); err != nil {
		return nil, fmt.Errorf("service: decode secret record: %w", err)
	}
	if r.F != recordFormat {
		return nil, fmt.Errorf("service: secret record format %d is not supported", r.F)
	}
	p, err := secret.ParsePath(r.Path)
	if err != nil {
		return nil, fmt.Errorf("service: stored secret path: %w", err)
	}
	s := &secret.Secret{
		ID: r.ID, Path: p,
		CreatedAt: fromNano(r.Created), UpdatedAt: fromNano(r.Updated),
		CurrentVersion: r.Current, OldestVersion: r.Oldest,
		Settings: secret.Settings{
			CASRequired: r.CAS, MaxVersions: r.Max,
			DeactivateAfter: secret.DurationFromStored(r.DVASecs, r.DVA),
		},
		CustomMetadata: r.Custom,
		Versions:       make([]secret.Version, len(r.Versions)),
	}
	for i, v := range r.Versions {
		s.Versions[i] = secret.Version{
			ID: v.ID, State: secret.State(v.State), CreatedAt: fromNano(v.Created),
			DeactivatedAt: fromNano(v.DeactivatedAt), DeactivateAt: fromNano(v.DeactivateAt),
		}
	}
	return s, nil
}

// Version data is stored as one format byte followed by the compact JSON.
func encodeData(d secret.Data) []byte {
	j := d.JSON()
	b := make([]byte, 1+len(j))
	b[0] = recordFormat
	copy(b[1:], j)
	return b
}

func decodeData(b []byte) (secret.Data, error) {
	if len(b) < 1 || b[0] != recordFormat {
		return secret.Data{}, fmt.Errorf("service: version data record has an unknown format")
	}
	return secret.DataFromStored(b[1:]), nil
}

type configRecord struct {
	F       int    `json:"f"`
	CAS     bool   `json:"cas"`
	Max     uint32 `json:"max"`
	DVA     string `json:"dva,omitempty"`
	DVASecs int64  `json:"dvas,omitempty"`
}

func encodeConfig(c secret.Config) ([]byte, error) {
	r := configRecord{F: recordFormat, CAS: c.CASRequired, Max: c.MaxVersions}
	if !c.DeactivateAfter.IsZero() {
		r.DVA, r.DVASecs = c.DeactivateAfter.Text(), c.DeactivateAfter.Seconds()
	}
	return json.Marshal(r)
}

func decodeConfig(b []byte) (secret.Config, error) {
	var r configRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return secret.Config{}, fmt.Errorf("service: decode config record: %w", err)
	}
	return secret.Config{
		CASRequired: r.CAS, MaxVersions: r.Max,
		DeactivateAfter: secret.DurationFromStored(r.DVASecs, r.DVA),
	}, nil
}

// domainRecord is the stored form of a Domain, in the domain registry.
type domainRecord struct {
	F       int    `json:"f"`
	ID      string `json:"id"`
	Region  string `json:"region"`
	Name    string `json:"name"`
	Created int64  `json:"created"`
	State   string `json:"state,omitempty"` // "" reads as READY (records written before states existed)
}

func encodeDomain(d Domain) ([]byte, error) {
	return json.Marshal(domainRecord{F: recordFormat, ID: d.ID, Region: d.Region, Name: d.DisplayName, Created: unixNano(d.CreatedAt), State: d.State})
}

func decodeDomain(b []byte) (Domain, error) {
	var r domainRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return Domain{}, fmt.Errorf("service: decode domain record: %w", err)
	}
	if r.State == "" {
		r.State = DomainReady
	}
	return Domain{ID: r.ID, Region: r.Region, DisplayName: r.Name, CreatedAt: fromNano(r.Created), State: r.State}, nil
}

// initRecord marks an initialised installation.
type initRecord struct {
	F       int    `json:"f"`
	Account string `json:"account"`
	Created int64  `json:"created"`
}

// userRecord is the stored form of a User, with its password hash.
type userRecord struct {
	F int `json:"f"`
	// ID is the user's immutable id (a UUID): a login may be deleted and
	// taken again, an id never is. Records older than ids have none (see
	// id).
	ID           string `json:"id,omitempty"`
	Login        string `json:"login"`
	Description  string `json:"description,omitempty"`
	Email        string `json:"email,omitempty"`
	Group        string `json:"group,omitempty"`
	PasswordHash string `json:"pw,omitempty"`
	// Disabled: the user may not sign in or use any credential
	// (users.go, SetUserDisabled).
	Disabled bool  `json:"disabled,omitempty"`
	Created  int64 `json:"created"`
	Updated  int64 `json:"updated"`
}

// groupRecord is the stored form of a Group.
type groupRecord struct {
	F           int    `json:"f"`
	ID          string `json:"id,omitempty"` // immutable, as a user's
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Role        string `json:"role"`
	Created     int64  `json:"created"`
	Updated     int64  `json:"updated"`
}

// id returns the user's immutable id. A record written before ids has
// none: its id is derived from its creation time, which a user created
// again under the same login does not share.
func (r userRecord) id() string { return idOf(r.ID, r.Created) }

// id returns the group's immutable id (see userRecord.id).
func (r groupRecord) id() string { return idOf(r.ID, r.Created) }

func idOf(id string, created int64) string {
	if id != "" {
		return id
	}
	return "created-" + strconv.FormatInt(created, 10)
}

// patRecord lists a personal access token under its user; the token
// itself is the token record its digest names.
type patRecord struct {
	F           int    `json:"f"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Digest      string `json:"digest"`
	Created     int64  `json:"created"`
	Expires     int64  `json:"expires,omitempty"`
}

// tokenRecord is what coffer keeps of a token: never the token itself.
type tokenRecord struct {
	F          int      `json:"f"`
	Kind       string   `json:"kind"`
	Name       string   `json:"name"`
	Identities []string `json:"identities"`
	Root       bool     `json:"root,omitempty"`
	// Login names the user a personal access token acts as; its
	// identities are derived from the user at each authentication, so that
	// group changes apply at once.
	Login string `json:"login,omitempty"`
	// ClientID names the service account an OAuth2 access token acts as;
	// authentication checks that it still exists.
	ClientID string `json:"clientId,omitempty"`
	// UserID is the immutable id of that user when the token was made: a
	// user created again under the same login does not get the token.
	UserID   string `json:"uid,omitempty"`
	Created  int64  `json:"created"`
	Expires  int64  `json:"expires,omitempty"`
	LastUsed int64  `json:"lastUsed,omitempty"`
}

// childTokenRecord is a token record with the digest of the token that
// created it. It embeds tokenRecord so that Authenticate reads a child token
// like any other; Parent lets a revocation reach the children
// (vault-kv2.md 6.4: a child token is revoked with its parent).
type childTokenRecord struct {
	tokenRecord
	Parent string `json:"parent,omitempty"`
}

// serviceAccountRecord is the stored form of a ServiceAccount, with the
// digest of its client secret (HMAC-SHA256 under the pepper, as tokens):
// never the secret.
type serviceAccountRecord struct {
	F            int    `json:"f"`
	ClientID     string `json:"clientId"`
	Name         string `json:"name"`
	Description  string `json:"description,omitempty"`
	Flow         string `json:"flow"`
	SecretDigest string `json:"secret"`
	Created      int64  `json:"created"`
}

// credentialRecord is the stored form of a Credential: never its
// private key.
type credentialRecord struct {
	F        int      `json:"f"`
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Desc     string   `json:"description,omitempty"`
	URNs     []string `json:"urns"`
	FromCSR  bool     `json:"fromCSR,omitempty"`
	CertType string   `json:"certType"`
	Created  int64    `json:"created"`
	Expires  int64    `json:"expires"`
	CertPEM  string   `json:"cert"`
	Serial   string   `json:"serial"`
	// Issuer is the URN of who issued the credential: the account (the
	// root) or a user. IssuerID is that user's immutable id, "" for the
	// root: the credential dies with its issuer, and at each
	// authentication its identities are checked against the issuer's
	// standing now. Credentials older than issuers have neither.
	Issuer   string `json:"issuer,omitempty"`
	IssuerID string `json:"issuerId,omitempty"`
	// IDs are the immutable ids of the users and groups bound, by URN, as
	// they were at issuance.
	IDs map[string]string `json:"ids,omitempty"`
}

// keyRecord is the stored form of a servicekey.Key (d/<okmsId>/k/<keyId>).
// Its material is not here: each version's lives in a record of its own
// (materialKey), sealed like a secret version's data.
type keyRecord struct {
	F                int                `json:"f"`
	ID               string             `json:"id"`
	Name             string             `json:"name"`
	Context          string             `json:"ctx,omitempty"`
	Type             string             `json:"type"`
	Size             int                `json:"size,omitempty"`
	Curve            string             `json:"crv,omitempty"`
	Class            string             `json:"class"`
	Usages           []string           `json:"ops"`
	Extractable      bool               `json:"ext,omitempty"`
	NeverExtractable bool               `json:"next,omitempty"`
	State            string             `json:"state"`
	Reason           string             `json:"reason,omitempty"`
	Created          int64              `json:"created"`
	Activated        int64              `json:"activated,omitempty"`
	Deactivated      int64              `json:"deactivated,omitempty"`
	Compromised      int64              `json:"compromised,omitempty"`
	Destroyed        int64              `json:"destroyed,omitempty"`
	Versions         []keyVersionRecord `json:"v"`
	Latest           uint32             `json:"latest"`
	MinDecryption    uint32             `json:"minDecrypt"`
	MinEncryption    uint32             `json:"minEncrypt,omitempty"`
	DeletionAllowed  bool               `json:"delOK,omitempty"`
}

type keyVersionRecord struct {
	N       uint32 `json:"n"`
	Created int64  `json:"c"`
}

func encodeKey(k *servicekey.Key) ([]byte, error) {
	r := keyRecord{
		F: recordFormat, ID: k.ID, Name: k.Name, Context: k.Context,
		Type: string(k.Type), Size: k.Size, Curve: string(k.Curve), Class: string(k.Class),
		Extractable: k.Extractable, NeverExtractable: k.NeverExtractable,
		State: k.State.String(), Reason: string(k.Reason),
		Created: unixNano(k.CreatedAt), Activated: unixNano(k.ActivatedAt), Deactivated: unixNano(k.DeactivatedAt),
		Compromised: unixNano(k.CompromisedAt), Destroyed: unixNano(k.DestroyedAt),
		Versions: make([]keyVersionRecord, len(k.Versions)), Latest: k.LatestVersion, MinDecryption: k.MinDecryptionVersion,
		MinEncryption: k.MinEncryptionVersion, DeletionAllowed: k.DeletionAllowed,
	}
	for _, u := range k.Usages.List() {
		r.Usages = append(r.Usages, string(u))
	}
	for i, v := range k.Versions {
		r.Versions[i] = keyVersionRecord{N: v.Number, Created: unixNano(v.CreatedAt)}
	}
	return json.Marshal(r)
}

func decodeKey(b []byte) (*servicekey.Key, error) {
	var r keyRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("service: decode service key record: %w", err)
	}
	if r.F != recordFormat {
		return nil, fmt.Errorf("service: service key record format %d is not supported", r.F)
	}
	st, ok := servicekey.ParseState(r.State)
	if !ok {
		return nil, fmt.Errorf("service: service key record has an unknown state")
	}
	k := &servicekey.Key{
		ID: r.ID, Name: r.Name, Context: r.Context,
		Spec:  servicekey.Spec{Type: servicekey.Type(r.Type), Size: r.Size, Curve: servicekey.Curve(r.Curve)},
		Class: servicekey.Class(r.Class), Extractable: r.Extractable, NeverExtractable: r.NeverExtractable,
		State: st, Reason: servicekey.Reason(r.Reason),
		CreatedAt: fromNano(r.Created), ActivatedAt: fromNano(r.Activated), DeactivatedAt: fromNano(r.Deactivated),
		CompromisedAt: fromNano(r.Compromised), DestroyedAt: fromNano(r.Destroyed),
		LatestVersion: r.Latest, MinDecryptionVersion: r.MinDecryption,
		MinEncryptionVersion: r.MinEncryption, DeletionAllowed: r.DeletionAllowed,
	}
	for _, u := range r.Usages {
		k.Usages |= servicekey.UsagesOf(servicekey.Usage(u))
	}
	for _, v := range r.Versions {
		k.Versions = append(k.Versions, servicekey.Version{Number: v.N, CreatedAt: fromNano(v.Created)})
	}
	return k, nil
}
