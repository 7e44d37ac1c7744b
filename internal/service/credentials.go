package service

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// CertIssuer is how the service reaches the PKI of access certificates
// (iam.md 7.3) without knowing X.509: the server wires an implementation
// over internal/pki. CA records are opaque bytes that the service stores
// as ordinary, therefore sealed, records.
type CertIssuer interface {
	// NewCA creates the access CA of a domain and returns its record.
	NewCA(okmsID string, now time.Time) ([]byte, error)
	// Issue issues an access certificate under the CA record.
	Issue(ca []byte, req CertRequest) (IssuedCert, error)
	// Verify checks a client certificate (DER) against the CA record at
	// now: chain, validity, clientAuth, and a UPN naming the CA's domain.
	// It returns the certificate's serial (hex).
	Verify(ca []byte, certDER []byte, now time.Time) (serial string, err error)
}

// CertRequest asks for an access certificate.
type CertRequest struct {
	OKMSID       string
	IdentityURNs []string
	Validity     time.Duration
	KeyType      string // "ECDSA" or "RSA"; empty with a CSR
	CSR          []byte
	Now          time.Time
}

// IssuedCert is an issued certificate. PrivateKeyPEM is set only when
// coffer generated the key; it is returned once and never stored.
type IssuedCert struct {
	CertificatePEM []byte
	PrivateKeyPEM  []byte
	Serial         string
	KeyType        string // "ECDSA" or "RSA", also when the key came from a CSR
	NotAfter       time.Time
}

// Errors of credentials.
var (
	ErrCredentialNotFound = errors.New("service: credential not found")
	// ErrNoPKI: the server was built without a certificate issuer.
	ErrNoPKI = errors.New("service: access certificates are not available")
)

// Credential statuses (okms-rest.md 5.4).
const (
	CredentialReady    = "READY"
	CredentialExpired  = "EXPIRED"
	CredentialDeleting = "DELETING"
)

// Credential is an access certificate's record (okms-rest.md 5.4). The
// private key is never part of it.
type Credential struct {
	ID              string
	Name            string
	Description     string
	IdentityURNs    []string
	Status          string
	FromCSR         bool
	CertificateType string
	CreatedAt       time.Time
	ExpiredAt       time.Time
	CertificatePEM  string
	Serial          string
	// Issuer is the URN of who issued it: the account (the root) or a
	// user; "" for a credential issued before coffer recorded issuers.
	Issuer string
}

func (r credentialRecord) credential(now time.Time) Credential {
	c := Credential{ID: r.ID, Name: r.Name, Description: r.Desc, IdentityURNs: slices.Clone(r.URNs),
		Status: CredentialReady, FromCSR: r.FromCSR, CertificateType: r.CertType,
		CreatedAt: fromNano(r.Created), ExpiredAt: fromNano(r.Expires), CertificatePEM: r.CertPEM, Serial: r.Serial,
		Issuer: r.Issuer}
	if !now.Before(c.ExpiredAt) {
		c.Status = CredentialExpired
	}
	return c
}

// CredentialInput asks for a credential (okms-rest.md 5.4).
type CredentialInput struct {
	Name            string
	Description     string
	IdentityURNs    []string
	ValidityDays    int // 0: 365
	CertificateType string
	CSR             string
}

var credNameRE = regexp.MustCompile(`^[A-Za-z0-9 _.:/=@-]*$`)

// validateCredential checks a credential request with the central
// schema's rules; each error names its OKMS error id.
func validateCredential(in *CredentialInput) error {
	switch {
	case in.Name == "" || len(in.Name) > 50:
		return invalid("CredentialNameMaximumExceeded", "name is required and must be at most 50 characters")
	case !credNameRE.MatchString(in.Name):
		return invalid("CredentialNameInvalidCharacter", "name contains invalid characters")
	case len(in.Description) > 200:
		return invalid("CredentialDescriptionMaximumExceeded", "description must be at most 200 characters")
	case !credNameRE.MatchString(in.Description):
		return invalid("CredentialDescriptionInvalidCharacter", "description contains invalid characters")
	case len(in.IdentityURNs) == 0:
		return invalid("CredentialIdentityURNsMinimumRequired", "at least one identity URN is required")
	case len(in.IdentityURNs) > 25:
		return invalid("CredentialIdentityURNsMaximumExceeded", "at most 25 identity URNs")
	case in.ValidityDays < 0:
		return invalid("CredentialValidityMinimumRequired", "validity must be between 1 and 365 days")
	case in.ValidityDays > 365:
		return invalid("CredentialValidityMaximumExceeded", "validity must be between 1 and 365 days")
	case in.CSR != "" && in.CertificateType != "":
		return invalid("CredentialCertificateTypeIncompatibleFields", "certificateType cannot be given with a csr")
	case in.CertificateType != "" && in.CertificateType != "ECDSA" && in.CertificateType != "RSA":
		return invalid("CredentialCertificateTypeInvalidEnum", "certificateType must be ECDSA or RSA")
	case len(in.CSR) > 16<<10:
		return invalid("CredentialCSRMaximumExceeded", "csr is too large")
	}
	for _, u := range in.IdentityURNs {
		urn, err := policy.ParseURN(u)
		if err != nil || urn.Kind != policy.KindIdentity {
			return invalid("CredentialIdentityURNsInvalidURN", "identityURNs must be identity URNs")
		}
	}
	if in.ValidityDays == 0 {
		in.ValidityDays = 365
	}
	return nil
}

// CreateCredential issues an access certificate bound to identity URNs
// (okms-rest.md 5.4, iam.md 7.3). A caller may bind only identities it
// holds itself, unless it is the account root or an ADMIN user (escalation
// guard). Action: okms:apiovh:credential/create on the domain.
func (s *Service) CreateCredential(ctx context.Context, c Caller, domain string, in CredentialInput) (Credential, []byte, error) {
	if s.certs == nil {
		return Credential{}, nil, ErrNoPKI
	}
	if err := validateCredential(&in); err != nil {
		return Credential{}, nil, err
	}
	c.Dialect = Central
	now := s.clock()
	id := s.newID()
	var (
		out Credential
		key []byte
	)
	err := s.run(ctx, c, s.DomainURN(domain), []string{c.action(policy.CredentialCreate)}, func() error {
		if !c.Principal.Root && !c.Principal.Admin {
			for _, u := range in.IdentityURNs {
				if !slices.Contains(c.Principal.Identities, u) {
					return ErrDenied
				}
			}
		}
		ids, err := s.identityIDs(ctx, in.IdentityURNs)
		if err != nil {
			return err
		}
		issuer, issuerID := s.issuerOf(c.Principal)
		return s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
			if err := domainExists(tx, domain); err != nil {
				return err
			}
			ca, err := s.domainCA(tx, domain, now)
			if err != nil {
				return err
			}
			issued, err := s.certs.Issue(ca, CertRequest{OKMSID: domain, IdentityURNs: in.IdentityURNs,
				Validity: time.Duration(in.ValidityDays) * 24 * time.Hour, KeyType: in.CertificateType, CSR: []byte(in.CSR), Now: now})
			if err != nil {
				return invalid("CredentialCSRInvalidCharacter", err.Error())
			}
			certType := issued.KeyType
			r := credentialRecord{F: recordFormat, ID: id, Name: in.Name, Desc: in.Description, URNs: in.IdentityURNs,
				FromCSR: in.CSR != "", CertType: certType, Created: unixNano(now), Expires: unixNano(issued.NotAfter),
				CertPEM: string(issued.CertificatePEM), Serial: issued.Serial, Issuer: issuer, IssuerID: issuerID, IDs: ids}
			if err := putJSON(tx, credentialKey(domain, id), r); err != nil {
				return err
			}
			out, key = r.credential(now), issued.PrivateKeyPEM
			return tx.Put(serialKey(domain, issued.Serial), []byte(id))
		})
	})
	return out, key, internalUnlessIAM("CreateCredential", err)
}

// domainCA returns the domain's access CA record, creating it on first use.
func (s *Service) domainCA(tx storage.Tx, domain string, now time.Time) ([]byte, error) {
	ca, err := tx.Get(caKey(domain))
	if err == nil {
		return ca, nil
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil, err
	}
	if ca, err = s.certs.NewCA(domain, now); err != nil {
		return nil, err
	}
	return ca, tx.Put(caKey(domain), ca)
}

// ListCredentials returns one page of a domain's credentials, by id: up
// to limit (0: all) after the cursor of a previous page ("" from the
// first), and the cursor of the next page, "" on the last. A cursor that is
// not one of this list's for this caller is ErrCursorInvalid. Action:
// okms:apiovh:credential/get on the domain.
func (s *Service) ListCredentials(ctx context.Context, c Caller, domain, cursor string, limit int) ([]Credential, string, error) {
	c.Dialect = Central
	now := s.clock()
	var (
		out  []Credential
		next string
	)
	l := Listing{Kind: ListCredentials, Domain: domain}
	err := s.run(ctx, c, s.DomainURN(domain), []string{c.action(policy.CredentialGet)}, func() error {
		var all []Credential
		err := s.domainView(ctx, domain, func(tx storage.Tx) error {
			if err := domainExists(tx, domain); err != nil {
				return err
			}
			rs, err := listJSON[credentialRecord](tx, credentialPrefix(domain))
			all = make([]Credential, len(rs))
			for i, r := range rs {
				all[i] = r.credential(now)
			}
			return err
		})
		if err != nil {
			return err
		}
		// Keys are credential ids: listJSON returns them in id order.
		out, next, err = PageOf(s, c, l, all, func(cr Credential) string { return cr.ID }, cursor, limit)
		return err
	})
	return out, next, internalUnlessIAM("ListCredentials", err)
}

// GetCredential returns one credential. Action: credential/get.
func (s *Service) GetCredential(ctx context.Context, c Caller, domain, id string) (Credential, error) {
	c.Dialect = Central
	now := s.clock()
	var out Credential
	err := s.run(ctx, c, s.DomainURN(domain), []string{c.action(policy.CredentialGet)}, func() error {
		return s.domainView(ctx, domain, func(tx storage.Tx) error {
			if err := domainExists(tx, domain); err != nil {
				return err
			}
			var r credentialRecord
			if err := getJSON(tx, credentialKey(domain, id), &r, ErrCredentialNotFound); err != nil {
				return err
			}
			out = r.credential(now)
			return nil
		})
	})
	return out, internalUnlessIAM("GetCredential", err)
}

// RevokeCredential deletes a credential: its certificate is refused from
// then on (no CRL needed, iam.md 7.3). Action: credential/delete.
func (s *Service) RevokeCredential(ctx context.Context, c Caller, domain, id string) (Credential, error) {
	c.Dialect = Central
	now := s.clock()
	var out Credential
	err := s.run(ctx, c, s.DomainURN(domain), []string{c.action(policy.CredentialDelete)}, func() error {
		return s.domainUpdate(ctx, domain, func(tx storage.Tx) error {
			if err := domainExists(tx, domain); err != nil {
				return err
			}
			var r credentialRecord
			if err := getJSON(tx, credentialKey(domain, id), &r, ErrCredentialNotFound); err != nil {
				return err
			}
			out = r.credential(now)
			out.Status = CredentialDeleting
			if err := tx.Delete(serialKey(domain, r.Serial)); err != nil {
				return err
			}
			return tx.Delete(credentialKey(domain, id))
		})
	})
	return out, internalUnlessIAM("RevokeCredential", err)
}

// AuthenticateCertificate returns the principal of a client certificate
// presented on a data-plane request of domain (iam.md 7.3): the certificate
// must verify against that domain's CA and name that domain in its UPN,
// and its credential must exist and not be expired. The principal is built
// from the identity URNs recorded in the credential, checked against the
// directory as it is now (certIdentities, identities.go): the issuer must
// still exist, users are expanded with their group, identities that no
// longer exist or that the issuer could no longer bind are dropped, and
// the account URN makes the root.
func (s *Service) AuthenticateCertificate(ctx context.Context, domain string, certDER []byte) (auth.Principal, error) {
	if s.certs == nil {
		return auth.Principal{}, ErrUnauthenticated
	}
	now := s.clock()
	var r credentialRecord
	// The credential lives in the domain's region; the identities it binds
	// are global.
	err := s.domainView(ctx, domain, func(tx storage.Tx) error {
		ca, err := tx.Get(caKey(domain))
		if err != nil {
			return ErrUnauthenticated
		}
		serial, err := s.certs.Verify(ca, certDER, now)
		if err != nil {
			return ErrUnauthenticated
		}
		id, err := tx.Get(serialKey(domain, serial))
		if err != nil {
			return ErrUnauthenticated
		}
		if err := getJSON(tx, credentialKey(domain, string(id)), &r, ErrUnauthenticated); err != nil {
			return err
		}
		if !now.Before(fromNano(r.Expires)) {
			return ErrUnauthenticated
		}
		return nil
	})
	if errors.Is(err, ErrDomainNotFound) || errors.Is(err, ErrDomainNotReady) {
		return auth.Principal{}, ErrUnauthenticated
	}
	if err != nil {
		return auth.Principal{}, internalUnlessDomain("AuthenticateCertificate", err)
	}
	p := auth.Principal{Kind: auth.KindCertificate, CredentialID: "cert:" + r.Serial, Name: r.Name}
	err = s.store.View(ctx, func(tx storage.Tx) error {
		p.Identities, p.Root, p.Admin, p.UserID, p.User = nil, false, false, "", ""
		return s.certIdentities(tx, r, &p)
	})
	if errors.Is(err, ErrUnauthenticated) {
		return auth.Principal{}, err
	}
	if err != nil {
		return auth.Principal{}, internal("AuthenticateCertificate", err)
	}
	if len(p.Identities) == 0 {
		return auth.Principal{}, ErrUnauthenticated
	}
	slices.Sort(p.Identities)
	p.Identities = slices.Compact(p.Identities)
	return p, nil
}
