package service_test

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/pki"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
)

// testIssuer is a service.CertIssuer over the real internal/pki, as the
// server wires one (the service itself may not import pki).
type testIssuer struct{}

func (testIssuer) NewCA(okmsID string, now time.Time) ([]byte, error) {
	ca, err := pki.NewCA(okmsID, now, rand.Reader)
	if err != nil {
		return nil, err
	}
	return ca.Marshal()
}

func (testIssuer) Issue(record []byte, req service.CertRequest) (service.IssuedCert, error) {
	ca, err := pki.ParseCA(record)
	if err != nil {
		return service.IssuedCert{}, err
	}
	is, err := ca.Issue(pki.IssueRequest{OKMSID: req.OKMSID, IdentityURNs: req.IdentityURNs, Validity: req.Validity,
		KeyType: pki.KeyType(req.KeyType), CSR: req.CSR, Now: req.Now, Rand: rand.Reader})
	return service.IssuedCert{CertificatePEM: is.CertificatePEM, PrivateKeyPEM: is.PrivateKeyPEM, Serial: is.Serial,
		KeyType: string(is.KeyType), NotAfter: is.NotAfter}, err
}

func (testIssuer) Verify(record, der []byte, now time.Time) (string, error) {
	ca, err := pki.ParseCA(record)
	if err != nil {
		return "", err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return "", err
	}
	return pki.SerialHex(cert), ca.Verify(cert, now)
}

// certDER returns the DER of the certificate of a credential.
func certDER(t *testing.T, c service.Credential) []byte {
	t.Helper()
	b, _ := pem.Decode([]byte(c.CertificatePEM))
	if b == nil {
		t.Fatalf("credential %s holds no PEM certificate", c.ID)
	}
	return b.Bytes
}

// eachPKIBackend runs test on a fixture with access certificates, on
// every backend.
func eachPKIBackend(t *testing.T, test func(t *testing.T, f *fixture)) {
	for name, open := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, newFixtureWith(t, open(t), func(o *service.Options) { o.Certs = testIssuer{} }))
		})
	}
}

func TestService_Credentials(t *testing.T) {
	eachPKIBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		if _, err := f.svc.CreateGroup(ctx, f.root, service.GroupInput{Name: "ops"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateUser(ctx, f.root, service.UserInput{Login: "alice", Group: str("ops")}); err != nil {
			t.Fatal(err)
		}
		aliceURN := "urn:v1:eu:identity:user:coffer/alice"

		m := f.mark()
		cred, key, err := f.svc.CreateCredential(ctx, f.root, f.domain, service.CredentialInput{Name: "ci", Description: "the CI",
			IdentityURNs: []string{aliceURN}, ValidityDays: 30, CertificateType: "ECDSA"})
		if err != nil {
			t.Fatalf("CreateCredential: %v", err)
		}
		if cred.ID == "" || cred.Name != "ci" || cred.Description != "the CI" || cred.Status != service.CredentialReady || cred.FromCSR ||
			cred.CertificateType != "ECDSA" || !cred.CreatedAt.Equal(f.clock.Now()) || !cred.ExpiredAt.Equal(f.clock.Now().Add(30*24*time.Hour)) ||
			!slices.Equal(cred.IdentityURNs, []string{aliceURN}) || cred.Serial == "" || len(key) == 0 {
			t.Errorf("CreateCredential = %+v (key %d bytes)", cred, len(key))
		}
		f.wantAudited(t, m, "okms:apiovh:credential/create", f.svc.DomainURN(f.domain), audit.Allowed)

		got, err := f.svc.GetCredential(ctx, f.root, f.domain, cred.ID)
		if err != nil || got.ID != cred.ID || got.CertificatePEM != cred.CertificatePEM || got.Serial != cred.Serial {
			t.Errorf("GetCredential = %+v, %v; want %+v", got, err, cred)
		}
		if _, err := f.svc.GetCredential(ctx, f.root, f.domain, "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"); !errors.Is(err, service.ErrCredentialNotFound) {
			t.Errorf("GetCredential(unknown) = %v, want ErrCredentialNotFound", err)
		}
		if _, _, err := f.svc.ListCredentials(ctx, f.root, "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f", "", 0); !errors.Is(err, service.ErrDomainNotFound) {
			t.Errorf("ListCredentials(unknown domain) = %v, want ErrDomainNotFound", err)
		}
		if list, _, err := f.svc.ListCredentials(ctx, f.root, f.domain, "", 0); err != nil || len(list) != 1 || list[0].ID != cred.ID {
			t.Errorf("ListCredentials = %+v, %v", list, err)
		}

		// The certificate authenticates as the identities it binds, users
		// expanded with their group; only in its own domain.
		p, err := f.svc.AuthenticateCertificate(ctx, f.domain, certDER(t, cred))
		want := []string{"urn:v1:eu:identity:group:coffer/ops", aliceURN}
		if err != nil || p.Kind != auth.KindCertificate || p.Name != "ci" || p.Root || !slices.Equal(p.Identities, want) {
			t.Errorf("AuthenticateCertificate = %+v, %v; want %v", p, err, want)
		}
		other, err := f.svc.CreateDomain(ctx, f.root, "local", "other")
		if err != nil {
			t.Fatal(err)
		}
		f.svc.Wait()
		if _, err := f.svc.AuthenticateCertificate(ctx, other.ID, certDER(t, cred)); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("AuthenticateCertificate in another domain = %v, want ErrUnauthenticated", err)
		}

		// An expired credential is listed as such and authenticates no more.
		f.clock.Advance(30 * 24 * time.Hour)
		if got, _ := f.svc.GetCredential(ctx, f.root, f.domain, cred.ID); got.Status != service.CredentialExpired {
			t.Errorf("status at expiry = %q, want EXPIRED", got.Status)
		}
		if _, err := f.svc.AuthenticateCertificate(ctx, f.domain, certDER(t, cred)); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("AuthenticateCertificate at expiry = %v, want ErrUnauthenticated", err)
		}

		// Revocation takes effect at once.
		live, _, err := f.svc.CreateCredential(ctx, f.root, f.domain, service.CredentialInput{Name: "live", IdentityURNs: []string{f.svc.AccountURN()}})
		if err != nil {
			t.Fatal(err)
		}
		if p, err := f.svc.AuthenticateCertificate(ctx, f.domain, certDER(t, live)); err != nil || !p.Root {
			t.Fatalf("AuthenticateCertificate(account URN) = %+v, %v; want the root", p, err)
		}
		m = f.mark()
		revoked, err := f.svc.RevokeCredential(ctx, f.root, f.domain, live.ID)
		if err != nil || revoked.Status != service.CredentialDeleting {
			t.Errorf("RevokeCredential = %+v, %v; want DELETING", revoked, err)
		}
		f.wantAudited(t, m, "okms:apiovh:credential/delete", f.svc.DomainURN(f.domain), audit.Allowed)
		if _, err := f.svc.AuthenticateCertificate(ctx, f.domain, certDER(t, live)); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("AuthenticateCertificate after revocation = %v, want ErrUnauthenticated", err)
		}
		if _, err := f.svc.RevokeCredential(ctx, f.root, f.domain, live.ID); !errors.Is(err, service.ErrCredentialNotFound) {
			t.Errorf("RevokeCredential again = %v, want ErrCredentialNotFound", err)
		}
	})
}

func TestService_CredentialValidation(t *testing.T) {
	eachPKIBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		urns := []string{f.svc.AccountURN()}
		tests := []struct {
			in    service.CredentialInput
			field string
		}{
			{service.CredentialInput{IdentityURNs: urns}, "CredentialNameMaximumExceeded"},
			{service.CredentialInput{Name: "a<b", IdentityURNs: urns}, "CredentialNameInvalidCharacter"},
			{service.CredentialInput{Name: "n"}, "CredentialIdentityURNsMinimumRequired"},
			{service.CredentialInput{Name: "n", IdentityURNs: []string{"bob"}}, "CredentialIdentityURNsInvalidURN"},
			{service.CredentialInput{Name: "n", IdentityURNs: urns, ValidityDays: 366}, "CredentialValidityMaximumExceeded"},
			{service.CredentialInput{Name: "n", IdentityURNs: urns, ValidityDays: -1}, "CredentialValidityMinimumRequired"},
			{service.CredentialInput{Name: "n", IdentityURNs: urns, CertificateType: "DSA"}, "CredentialCertificateTypeInvalidEnum"},
			{service.CredentialInput{Name: "n", IdentityURNs: urns, CertificateType: "RSA", CSR: "x"}, "CredentialCertificateTypeIncompatibleFields"},
			{service.CredentialInput{Name: "n", IdentityURNs: urns, CSR: "not a CSR"}, "CredentialCSRInvalidCharacter"},
		}
		for _, tc := range tests {
			if _, _, err := f.svc.CreateCredential(ctx, f.root, f.domain, tc.in); !isInvalid(err, tc.field) {
				t.Errorf("CreateCredential(%+v) = %v, want an invalid %s", tc.in, err, tc.field)
			}
		}
		if list, _, err := f.svc.ListCredentials(ctx, f.root, f.domain, "", 0); err != nil || len(list) != 0 {
			t.Errorf("invalid requests made credentials: %+v, %v", list, err)
		}
	})
}

// TestService_CredentialsAuthorization checks the credential actions and
// the escalation guard: a caller binds only identities it holds.
func TestService_CredentialsAuthorization(t *testing.T) {
	eachPKIBackend(t, func(t *testing.T, f *fixture) {
		ctx := t.Context()
		bob := f.asUser(t, "bob", "")
		bobURN := bob.Principal.Identities[0]
		cred, _, err := f.svc.CreateCredential(ctx, f.root, f.domain, service.CredentialInput{Name: "root", IdentityURNs: []string{f.svc.AccountURN()}})
		if err != nil {
			t.Fatal(err)
		}
		f.wantRefused(t, map[string]func() error{
			"okms:apiovh:credential/create": func() error {
				_, _, err := f.svc.CreateCredential(ctx, bob, f.domain, service.CredentialInput{Name: "b", IdentityURNs: []string{bobURN}})
				return err
			},
			"okms:apiovh:credential/get": func() error { _, _, err := f.svc.ListCredentials(ctx, bob, f.domain, "", 0); return err },
			"okms:apiovh:credential/delete": func() error {
				_, err := f.svc.RevokeCredential(ctx, bob, f.domain, cred.ID)
				return err
			},
		})
		_, err = f.svc.CreatePolicy(ctx, f.root, policy.Policy{Name: "creds", Identities: []string{bobURN},
			Allow: []string{"okms:apiovh:credential/create", "okms:apiovh:credential/get"}, Resources: []string{f.svc.DomainURN(f.domain)}})
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.CreateCredential(ctx, bob, f.domain, service.CredentialInput{Name: "root", IdentityURNs: []string{f.svc.AccountURN()}}); !errors.Is(err, service.ErrDenied) {
			t.Errorf("a user binding the account = %v, want ErrDenied", err)
		}
		mine, _, err := f.svc.CreateCredential(ctx, bob, f.domain, service.CredentialInput{Name: "mine", IdentityURNs: []string{bobURN}})
		if err != nil {
			t.Fatalf("a user binding itself = %v", err)
		}
		if list, _, err := f.svc.ListCredentials(ctx, bob, f.domain, "", 0); err != nil || len(list) != 2 {
			t.Errorf("ListCredentials with a policy = %+v, %v", list, err)
		}
		if p, err := f.svc.AuthenticateCertificate(ctx, f.domain, certDER(t, mine)); err != nil || p.Root || !slices.Equal(p.Identities, []string{bobURN}) {
			t.Errorf("AuthenticateCertificate(bob's) = %+v, %v", p, err)
		}
		// Deleting the user leaves its certificate without identity.
		if err := f.svc.DeleteUser(ctx, f.root, "bob"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AuthenticateCertificate(ctx, f.domain, certDER(t, mine)); !errors.Is(err, service.ErrUnauthenticated) {
			t.Errorf("AuthenticateCertificate of a deleted user's certificate = %v, want ErrUnauthenticated", err)
		}
	})
}

func TestService_CredentialsWithoutPKI(t *testing.T) {
	f := newFixture(t, memstore.New())
	_, _, err := f.svc.CreateCredential(t.Context(), f.root, f.domain, service.CredentialInput{Name: "n", IdentityURNs: []string{f.svc.AccountURN()}})
	if !errors.Is(err, service.ErrNoPKI) {
		t.Errorf("CreateCredential without an issuer = %v, want ErrNoPKI", err)
	}
	if _, err := f.svc.AuthenticateCertificate(t.Context(), f.domain, []byte("der")); !errors.Is(err, service.ErrUnauthenticated) {
		t.Errorf("AuthenticateCertificate without an issuer = %v, want ErrUnauthenticated", err)
	}
}
