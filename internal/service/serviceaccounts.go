package service

import (
	"context"
	"crypto/hmac"
	"encoding/hex"
	"errors"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Service accounts: OAuth2 clients of the client-credentials flow (iam.md
// 3, 7.2, 7.4). An administrator creates one and receives its client id and
// client secret once; only the secret's digest is kept (HMAC-SHA256 under
// the installation pepper, like tokens: the secret is 256 random bits, so a
// fast keyed digest is enough and Argon2id would buy nothing). The account
// exchanges them at the OAuth2 token endpoint for one-hour access tokens
// (cof_oat_…) that act as its URN,
// urn:v1:<zone>:identity:credential:<account>/oauth2-<clientId>, on every
// surface. Deleting it revokes its tokens, and certificates naming it no
// longer authenticate as it (credentials.go), at once.

// Errors of service accounts.
var (
	// ErrServiceAccountNotFound: no service account has that client id.
	ErrServiceAccountNotFound = errors.New("service: service account not found")
)

// FlowClientCredentials is the only OAuth2 flow coffer's service accounts
// use (OVHcloud also has AUTHORIZATION_CODE, for applications acting for a
// person, which coffer does not offer).
const FlowClientCredentials = "CLIENT_CREDENTIALS"

// OAuth2TokenTTL is the lifetime of an OAuth2 access token (iam.md 7.2).
const OAuth2TokenTTL = time.Hour

// maxSweep bounds the expired tokens of a service account removed by one
// token issuance.
const maxSweep = 64

// MaxLiveOAuth2Tokens bounds the live access tokens of one service account.
// Issuing one more revokes the oldest (the first to expire), with the child
// tokens made from it: a client that fetches a token per request cannot
// fill the store, and one that refreshes hourly never meets the bound.
const MaxLiveOAuth2Tokens = 100

// ServiceAccount is an OAuth2 client (iam.md 7.4). It never holds the
// client secret.
type ServiceAccount struct {
	ClientID    string
	Name        string
	Description string
	Flow        string
	URN         string
	CreatedAt   time.Time
}

// ServiceAccountInput creates a service account.
type ServiceAccountInput struct {
	Name        string
	Description string
	// Flow must be FlowClientCredentials.
	Flow string
	// CallbackURLs belong to the authorization-code flow: they must be
	// empty.
	CallbackURLs []string
}

// ServiceAccountURN returns the URN of the service account clientID
// (iam.md 2), whether or not it exists.
func (s *Service) ServiceAccountURN(clientID string) string {
	return policy.ServiceAccountURN(s.zone, s.account, clientID)
}

func (s *Service) toServiceAccount(r serviceAccountRecord) ServiceAccount {
	return ServiceAccount{ClientID: r.ClientID, Name: r.Name, Description: r.Description, Flow: r.Flow,
		URN: s.ServiceAccountURN(r.ClientID), CreatedAt: fromNano(r.Created)}
}

// validText reports whether s is valid UTF-8 of at most max bytes without
// control characters.
func validText(s string, max int) bool {
	return len(s) <= max && utf8.ValidString(s) && strings.IndexFunc(s, unicode.IsControl) < 0
}

func validateServiceAccount(in ServiceAccountInput) error {
	switch {
	case strings.TrimSpace(in.Name) == "" || !validText(in.Name, 256):
		return invalid("name", "must be 1 to 256 characters, without control characters")
	case !validText(in.Description, 1024):
		return invalid("description", "must be at most 1024 characters, without control characters")
	case in.Flow != FlowClientCredentials:
		return invalid("flow", `must be "CLIENT_CREDENTIALS": coffer's service accounts use the client-credentials flow only`)
	case len(in.CallbackURLs) > 0:
		return invalid("callbackUrls", "must be empty: callback URLs belong to the authorization-code flow")
	}
	return nil
}

// newClientID returns 16 lowercase hexadecimal characters (iam.md 2).
func newClientID(r io.Reader) (string, error) {
	var b [8]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	return hex.EncodeToString(b[:]), nil
}

// CreateServiceAccount creates a service account and returns it with its
// client secret, shown once: only the secret's digest is stored. Root or
// ADMIN only.
func (s *Service) CreateServiceAccount(ctx context.Context, c Caller, in ServiceAccountInput) (ServiceAccount, string, error) {
	var (
		out    ServiceAccount
		secret string
	)
	now := s.clock()
	id, err := newClientID(s.rand)
	if err != nil {
		return ServiceAccount{}, "", internal("CreateServiceAccount", err)
	}
	err = s.requireAdmin(ctx, c, "serviceAccount/create", s.ServiceAccountURN(id), func() error {
		if err := validateServiceAccount(in); err != nil {
			return err
		}
		var err error
		if secret, err = auth.NewToken(auth.KindClientSecret, s.rand); err != nil {
			return err
		}
		digest, err := s.tokenDigest(secret)
		if err != nil {
			return err
		}
		return s.store.Update(ctx, func(tx storage.Tx) error {
			// 64 random bits: a collision is a broken random source.
			if ok, err := exists(tx, saKey(id)); err != nil || ok {
				return cmpErr(err, ErrIdentityExists)
			}
			r := serviceAccountRecord{F: recordFormat, ClientID: id, Name: in.Name, Description: in.Description,
				Flow: in.Flow, SecretDigest: digest, Created: unixNano(now)}
			out = s.toServiceAccount(r)
			return putJSON(tx, saKey(id), r)
		})
	})
	if err != nil {
		return ServiceAccount{}, "", internalUnlessIAM("CreateServiceAccount", err)
	}
	return out, secret, nil
}

// ListServiceAccounts returns every service account, by client id. Root or
// ADMIN only.
func (s *Service) ListServiceAccounts(ctx context.Context, c Caller) ([]ServiceAccount, error) {
	var out []ServiceAccount
	err := s.requireAdmin(ctx, c, "serviceAccount/list", policy.AccountURN(s.zone, s.account), func() error {
		return s.store.View(ctx, func(tx storage.Tx) error {
			rs, err := listJSON[serviceAccountRecord](tx, prefixSAs)
			out = make([]ServiceAccount, len(rs))
			for i, r := range rs {
				out[i] = s.toServiceAccount(r)
			}
			return err
		})
	})
	return out, internalUnlessIAM("ListServiceAccounts", err)
}

// GetServiceAccount returns a service account. Root or ADMIN only.
func (s *Service) GetServiceAccount(ctx context.Context, c Caller, clientID string) (ServiceAccount, error) {
	var out ServiceAccount
	err := s.requireAdmin(ctx, c, "serviceAccount/get", s.ServiceAccountURN(clientID), func() error {
		return s.store.View(ctx, func(tx storage.Tx) error {
			var r serviceAccountRecord
			if err := getJSON(tx, saKey(clientID), &r, ErrServiceAccountNotFound); err != nil {
				return err
			}
			out = s.toServiceAccount(r)
			return nil
		})
	})
	return out, internalUnlessIAM("GetServiceAccount", err)
}

// DeleteServiceAccount deletes a service account, revokes its access
// tokens and the child tokens made from them and removes its URN from the
// policies, in one transaction: the principal cache is dropped on every
// node when it commits (authcache.go). Certificates naming the account no
// longer authenticate as it from then on (AuthenticateCertificate); those
// that bind it alone are revoked, each audited. Root or ADMIN only.
func (s *Service) DeleteServiceAccount(ctx context.Context, c Caller, clientID string) error {
	urn := s.ServiceAccountURN(clientID)
	err := s.requireAdmin(ctx, c, "serviceAccount/delete", urn, func() error {
		var changed []policy.Policy
		err := s.store.Update(ctx, func(tx storage.Tx) error {
			if ok, err := exists(tx, saKey(clientID)); err != nil || !ok {
				return cmpErr(err, ErrServiceAccountNotFound)
			}
			keys, err := tx.List(oatPrefix(clientID), "", 0)
			if err != nil {
				return err
			}
			digests := make([]string, 0, len(keys))
			for _, k := range keys {
				if _, d, ok := parseOATKey(k, oatPrefix(clientID)); ok {
					digests = append(digests, d)
				}
				if err := tx.Delete(k); err != nil {
					return err
				}
			}
			if err := revokeTokenTree(tx, digests...); err != nil {
				return err
			}
			if changed, err = dropFromPolicies(tx, urn); err != nil {
				return err
			}
			return tx.Delete(saKey(clientID))
		})
		if err != nil {
			return err
		}
		s.forgotten(ctx, c, urn, changed)
		s.revokeBoundTo(ctx, c, urn)
		return nil
	})
	return internalUnlessIAM("DeleteServiceAccount", err)
}

// AuthenticateClient checks a service account's client credentials (the
// OAuth2 token endpoint's client authentication, RFC 6749 2.3.1) and
// returns the principal they prove, of kind auth.KindClientSecret. It
// returns ErrUnauthenticated for an unknown client id and a wrong secret
// alike, after the same work: the secret's digest is compared in constant
// time with the stored one. The caller records the failure with
// [Service.AuthFailed] and [Service.AuditUnauthenticated], as for a bad
// token. The secret is never logged.
func (s *Service) AuthenticateClient(ctx context.Context, clientID, secret string) (auth.Principal, error) {
	digest, err := s.tokenDigest(secret)
	if errors.Is(err, ErrNotInitialized) {
		return auth.Principal{}, err
	}
	// An implausible secret (empty, too long) is still looked up, so that
	// the answer takes the same path; it can match no digest.
	var r serviceAccountRecord
	if policy.ValidClientID(clientID) {
		err = s.store.View(ctx, func(tx storage.Tx) error {
			return getJSON(tx, saKey(clientID), &r, ErrUnauthenticated)
		})
	} else {
		err = ErrUnauthenticated
	}
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return auth.Principal{}, ErrUnauthenticated
	case err != nil:
		return auth.Principal{}, internal("AuthenticateClient", err)
	case digest == "" || !hmac.Equal([]byte(digest), []byte(r.SecretDigest)):
		return auth.Principal{}, ErrUnauthenticated
	}
	return auth.Principal{Identities: []string{s.ServiceAccountURN(clientID)}, Name: r.Name,
		Kind: auth.KindClientSecret, CredentialID: clientID}, nil
}

// ClientAttempt is an OAuth2 client authentication: the client id and
// secret presented, and the request they came with.
type ClientAttempt struct {
	ClientID, Secret               string
	Surface, RequestID, RemoteAddr string
}

// String keeps the secret out of any formatted output.
func (in ClientAttempt) String() string {
	return "ClientAttempt{clientId: " + in.ClientID + ", secret: REDACTED}"
}

// GoString is String.
func (in ClientAttempt) GoString() string { return in.String() }

// CheckClient is [Service.AuthenticateClient] behind the failure budgets
// of password checks (passwords.go): the client address's and the client
// id's are consulted before the check, a refusal is a *RetryError
// (ErrTooManyRequests), a wrong or unknown client ErrUnauthenticated, and
// every attempt is audited (action authenticate). It is what the token
// endpoint calls.
func (s *Service) CheckClient(ctx context.Context, in ClientAttempt) (auth.Principal, error) {
	a := Attempt{Login: in.ClientID, Surface: in.Surface, RequestID: in.RequestID, RemoteAddr: in.RemoteAddr,
		Kind: auth.KindClientSecret}
	if policy.ValidClientID(in.ClientID) {
		a.Resource = s.ServiceAccountURN(in.ClientID)
	}
	var p auth.Principal
	err := s.checkSecret(ctx, a, false, func() ([]string, error) {
		var err error
		if p, err = s.AuthenticateClient(ctx, in.ClientID, in.Secret); errors.Is(err, ErrUnauthenticated) {
			return nil, ErrLoginFailed
		}
		return p.Identities, err
	})
	if errors.Is(err, ErrLoginFailed) {
		return auth.Principal{}, ErrUnauthenticated
	}
	return p, err
}

// OAuth2Token is an access token issued to a service account: shown once,
// stored only as a digest.
type OAuth2Token struct {
	Token     string
	ExpiresAt time.Time
	// TTL is the lifetime, OAuth2TokenTTL.
	TTL time.Duration
}

// IssueOAuth2Token issues an access token to the service account that c
// authenticated with its client credentials ([Service.AuthenticateClient]):
// it lives OAuth2TokenTTL, acts as the account's URN on every surface and
// is revoked with the account. Expired tokens of the account are removed
// in the same transaction. It returns ErrUnauthenticated when the account
// was deleted meanwhile, and ErrDenied for a caller not authenticated by
// client credentials. It is audited under "coffer:iam/oauth2/token" on the
// account's URN; the token is not.
func (s *Service) IssueOAuth2Token(ctx context.Context, c Caller) (OAuth2Token, error) {
	p := c.Principal
	urn := ""
	if len(p.Identities) == 1 {
		urn = p.Identities[0]
	}
	o := newOp(c, urn, "coffer:iam/oauth2/token")
	outcome, reason := audit.Allowed, "client credentials"
	if p.Kind != auth.KindClientSecret || urn != s.ServiceAccountURN(p.CredentialID) {
		outcome, reason = audit.Denied, "only a service account's client credentials obtain an OAuth2 token"
	}
	if err := s.start(ctx, o, outcome, reason); err != nil {
		return OAuth2Token{}, err
	}
	out, err := s.issueOAuth2Token(ctx, p.CredentialID)
	err = s.finish(ctx, o, err)
	if err != nil {
		return OAuth2Token{}, internalUnlessIAM("IssueOAuth2Token", err)
	}
	return out, nil
}

func (s *Service) issueOAuth2Token(ctx context.Context, clientID string) (OAuth2Token, error) {
	now := s.clock()
	token, err := auth.NewToken(auth.KindOAuth2, s.rand)
	if err != nil {
		return OAuth2Token{}, err
	}
	digest, err := s.tokenDigest(token)
	if err != nil {
		return OAuth2Token{}, err
	}
	expires := now.Add(OAuth2TokenTTL)
	err = s.store.Update(ctx, func(tx storage.Tx) error {
		var sa serviceAccountRecord
		if err := getJSON(tx, saKey(clientID), &sa, ErrUnauthenticated); err != nil {
			return err
		}
		if err := pruneOAuth2Tokens(tx, clientID, now, MaxLiveOAuth2Tokens-1); err != nil {
			return err
		}
		rec := childTokenRecord{tokenRecord: tokenRecord{F: recordFormat, Kind: string(auth.KindOAuth2), Name: sa.Name,
			Identities: []string{s.ServiceAccountURN(clientID)}, ClientID: clientID,
			Created: unixNano(now), Expires: expires.UnixNano()}}
		if err := putJSON(tx, tokenKey(digest), rec); err != nil {
			return err
		}
		return tx.Put(oatKey(clientID, expires.UnixNano(), digest), nil)
	})
	if err != nil {
		return OAuth2Token{}, err
	}
	return OAuth2Token{Token: token, ExpiresAt: expires, TTL: OAuth2TokenTTL}, nil
}

// pruneOAuth2Tokens reads a service account's token index once and, in
// tx, removes up to maxSweep expired access tokens (so that a client
// fetching a token every hour does not leave a record behind each time;
// their child tokens expired with them and are refused, their records
// stay), then revokes the oldest live ones with their child tokens until
// at most keep are left. Index keys sort by expiry, expired ones first.
func pruneOAuth2Tokens(tx storage.Tx, clientID string, now time.Time, keep int) error {
	prefix := oatPrefix(clientID)
	keys, err := tx.List(prefix, "", 0)
	if err != nil {
		return err
	}
	swept := 0
	for _, k := range keys {
		exp, digest, ok := parseOATKey(k, prefix)
		if swept == maxSweep || ok && exp > now.UnixNano() {
			break
		}
		if ok {
			if err := tx.Delete(tokenKey(digest)); err != nil {
				return err
			}
		}
		if err := tx.Delete(k); err != nil {
			return err
		}
		swept++
	}
	live := keys[swept:]
	if len(live) <= keep {
		return nil
	}
	var digests []string
	for _, k := range live[:len(live)-keep] {
		if _, d, ok := parseOATKey(k, prefix); ok {
			digests = append(digests, d)
		}
		if err := tx.Delete(k); err != nil {
			return err
		}
	}
	return revokeTokenTree(tx, digests...)
}

// serviceAccountPrincipalTx builds the principal of an OAuth2 access token
// of clientID, in a transaction on the system store. It returns
// ErrUnauthenticated when the service account no longer exists.
func (s *Service) serviceAccountPrincipalTx(tx storage.Tx, clientID string, kind auth.Kind, credID string) (auth.Principal, error) {
	var r serviceAccountRecord
	if err := getJSON(tx, saKey(clientID), &r, ErrUnauthenticated); err != nil {
		return auth.Principal{}, err
	}
	return auth.Principal{Identities: []string{s.ServiceAccountURN(clientID)}, Name: r.Name, Kind: kind,
		CredentialID: credID}, nil
}
