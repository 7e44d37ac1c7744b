package service

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/secret"
)

// Storage key schema (architecture.md section 6). Keys are UTF-8 and
// compared byte-wise; raw paths in secret keys keep list order equal to
// path order, and version data is keyed by the secret's id, not its path.
const (
	keyPepper        = "sys/pepper"
	keyInit          = "sys/init"
	keyDefaultDomain = "sys/default-domain"
	prefixDomains    = "sys/domains/"
	prefixTokens     = "iam/token/"
)

func domainKey(id string) string        { return prefixDomains + id }
func configKey(domain string) string    { return "d/" + domain + "/config" }
func secretPrefix(domain string) string { return "d/" + domain + "/s/" }
func secretKey(domain string, p secret.Path) string {
	return secretPrefix(domain) + p.String()
}
func versionPrefix(domain, secretID string) string {
	return "d/" + domain + "/v/" + secretID + "/"
}
func versionKey(domain, secretID string, id uint32) string {
	// "%s%010d", without fmt: it is on every read and write.
	var digits [10]byte
	for i, n := len(digits)-1, id; i >= 0; i-- {
		digits[i] = byte('0' + n%10)
		n /= 10
	}
	return "d/" + domain + "/v/" + secretID + "/" + string(digits[:])
}
func tokenKey(digest string) string { return prefixTokens + digest }

// KeyFamily names the encryption key family of a storage key: "d/<okmsId>"
// for a domain's records, "sys" for everything else. The server hands it to
// the encryption layer, which keeps one key per family so that a domain's
// records are encrypted only under that domain's key.
func KeyFamily(storageKey string) string {
	if rest, ok := strings.CutPrefix(storageKey, "d/"); ok {
		if i := strings.IndexByte(rest, '/'); i > 0 {
			return storageKey[:len("d/")+i] // "d/" + rest[:i], without a copy
		}
	}
	return "sys"
}

// recordFormat is written in every record so that a future encoding can be
// told apart without guessing.
const recordFormat = 1

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

// Domain is an OKMS domain: a tenant holding secrets, in one region.
type Domain struct {
	ID          string
	Region      string
	DisplayName string
	CreatedAt   time.Time
	// State is DomainCreating until the domain's key material and
	// configuration exist in its region, then DomainReady.
	State string
}

// Domain states.
const (
	DomainCreating = "CREATING"
	DomainReady    = "READY"
	DomainDeleting = "DELETING"
)

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
	Login    string `json:"login,omitempty"`
	Created  int64  `json:"created"`
	Expires  int64  `json:"expires,omitempty"`
	LastUsed int64  `json:"lastUsed,omitempty"`
}
