package service

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Tokens: the personal access tokens of users (the identity API, iam.md
// 7.2), child tokens (Vault's token calls, vault-kv2.md 6.3, 6.4), and the
// authentication of a bearer token of any kind. Only a token's digest is
// stored (records.go); the principals of recently seen tokens are cached
// (authcache.go).

// Errors of tokens.
var (
	// ErrTokenNotFound: a user has no personal access token of that name.
	ErrTokenNotFound = errors.New("service: token not found")
	// ErrTokenNotRevocable is returned by [Service.RevokeChildToken] for a
	// token that is not a child token: root tokens, PATs and OAuth2 tokens
	// are revoked through the identity API (vault-kv2.md 6.4).
	ErrTokenNotRevocable = errors.New("service: only a child token can revoke itself")
)

// DefaultChildTokenTTL is the lifetime of a child token created without a
// ttl (vault-kv2.md 6.4).
const DefaultChildTokenTTL = time.Hour

// PAT is a personal access token as listed: never its value.
type PAT struct {
	Name        string
	Description string
	CreatedAt   time.Time
	ExpiresAt   time.Time // zero: never
	LastUsed    time.Time // zero: never used
}

func (r patRecord) pat(lastUsed int64) PAT {
	return PAT{Name: r.Name, Description: r.Description, CreatedAt: fromNano(r.Created), ExpiresAt: fromNano(r.Expires), LastUsed: fromNano(lastUsed)}
}

// CreatePAT creates a personal access token for a user and returns it,
// shown once; only its digest is stored (iam.md 7.2). Root or ADMIN only.
func (s *Service) CreatePAT(ctx context.Context, c Caller, login, name, description string, expiresAt time.Time) (string, PAT, error) {
	var (
		out   PAT
		token string
	)
	now := s.clock()
	err := s.requireAdmin(ctx, c, "token/create", s.userURN(login), func() error {
		switch {
		case !validName(name):
			return invalid("name", "must be 1 to 64 characters of A-Z a-z 0-9 . _ @ -")
		case len(description) > 1024:
			return invalid("description", "must be at most 1024 characters")
		case !expiresAt.IsZero() && !expiresAt.After(now):
			return invalid("expiresAt", "must be in the future")
		}
		var err error
		if token, err = auth.NewToken(auth.KindPAT, s.rand); err != nil {
			return err
		}
		digest, err := s.tokenDigest(token)
		if err != nil {
			return err
		}
		return s.store.Update(ctx, func(tx storage.Tx) error {
			var u userRecord
			if err := getJSON(tx, userKey(login), &u, ErrUserNotFound); err != nil {
				return err
			}
			if ok, err := exists(tx, patKey(login, name)); err != nil || ok {
				return cmpErr(err, ErrIdentityExists)
			}
			pr := patRecord{F: recordFormat, Name: name, Description: description, Digest: digest,
				Created: unixNano(now), Expires: unixNano(expiresAt)}
			tr := childTokenRecord{tokenRecord: tokenRecord{F: recordFormat, Kind: string(auth.KindPAT), Name: name,
				Login: login, UserID: u.id(), Created: unixNano(now), Expires: unixNano(expiresAt)}}
			out = pr.pat(0)
			if err := putJSON(tx, tokenKey(digest), tr); err != nil {
				return err
			}
			return putJSON(tx, patKey(login, name), pr)
		})
	})
	if err != nil {
		return "", PAT{}, internalUnlessIAM("CreatePAT", err)
	}
	return token, out, nil
}

// ListPATs lists a user's tokens, without their values. Root or ADMIN only.
func (s *Service) ListPATs(ctx context.Context, c Caller, login string) ([]PAT, error) {
	var out []PAT
	err := s.requireAdmin(ctx, c, "token/list", s.userURN(login), func() error {
		return s.store.View(ctx, func(tx storage.Tx) error {
			if ok, err := exists(tx, userKey(login)); err != nil || !ok {
				return cmpErr(err, ErrUserNotFound)
			}
			rs, err := listJSON[patRecord](tx, patPrefix(login))
			out = make([]PAT, len(rs))
			for i, r := range rs {
				out[i] = r.pat(lastUsedOf(tx, r.Digest))
			}
			return err
		})
	})
	return out, internalUnlessIAM("ListPATs", err)
}

// GetPAT returns one of a user's tokens, without its value.
func (s *Service) GetPAT(ctx context.Context, c Caller, login, name string) (PAT, error) {
	var out PAT
	err := s.requireAdmin(ctx, c, "token/get", s.userURN(login), func() error {
		return s.store.View(ctx, func(tx storage.Tx) error {
			var r patRecord
			if err := getJSON(tx, patKey(login, name), &r, ErrTokenNotFound); err != nil {
				return err
			}
			out = r.pat(lastUsedOf(tx, r.Digest))
			return nil
		})
	})
	return out, internalUnlessIAM("GetPAT", err)
}

// RevokePAT revokes a user's token and its child tokens. Root or ADMIN
// only.
func (s *Service) RevokePAT(ctx context.Context, c Caller, login, name string) error {
	err := s.requireAdmin(ctx, c, "token/delete", s.userURN(login), func() error {
		return s.store.Update(ctx, func(tx storage.Tx) error {
			var r patRecord
			if err := getJSON(tx, patKey(login, name), &r, ErrTokenNotFound); err != nil {
				return err
			}
			if err := revokeTokenTree(tx, r.Digest); err != nil {
				return err
			}
			return tx.Delete(patKey(login, name))
		})
	})
	return internalUnlessIAM("RevokePAT", err)
}

func lastUsedOf(tx storage.Tx, digest string) int64 {
	var rec childTokenRecord
	if getJSON(tx, tokenKey(digest), &rec, storage.ErrNotFound) != nil {
		return 0
	}
	return rec.LastUsed
}

// Authenticate returns the principal a bearer token acts as, or
// ErrUnauthenticated for a token that is unknown, expired or revoked, whose
// user no longer exists, or whose parent token is gone. The token is looked
// up by its digest and never logged. The principal is cached for at most a
// second (authcache.go); revocations through the service apply at once.
func (s *Service) Authenticate(ctx context.Context, token string) (auth.Principal, error) {
	if err := s.sealedErr(); err != nil {
		return auth.Principal{}, err
	}
	digest, err := s.tokenDigest(token)
	if err != nil {
		return auth.Principal{}, err
	}
	now := s.clock()
	if e, ok := s.principals.get(digest, now); ok {
		s.touchIfStale(ctx, digest, e, now)
		return e.p, nil
	}
	gen := s.principals.generation()
	var (
		p        auth.Principal
		lastUsed int64
		expires  int64 // the earliest expiry of the token and its parents
	)
	err = s.store.View(ctx, func(tx storage.Tx) error {
		expires = 0
		rec, err := loadToken(tx, digest, now)
		if err != nil {
			return err
		}
		lastUsed = rec.LastUsed
		// A child token acts as its parent, and dies with it.
		origin := rec
		for depth := 0; ; depth++ {
			if origin.Expires != 0 && (expires == 0 || origin.Expires < expires) {
				expires = origin.Expires
			}
			if origin.Parent == "" {
				break
			}
			if depth > 16 {
				return ErrUnauthenticated
			}
			if origin, err = loadToken(tx, origin.Parent, now); err != nil {
				return err
			}
		}
		if origin.Login != "" {
			p, err = s.userPrincipalTx(tx, origin.Login, origin.UserID, auth.Kind(rec.Kind), auth.Accessor(digest))
			return err
		}
		if origin.ClientID != "" {
			p, err = s.serviceAccountPrincipalTx(tx, origin.ClientID, auth.Kind(rec.Kind), auth.Accessor(digest))
			return err
		}
		p = auth.Principal{Identities: rec.Identities, Root: origin.Root, Name: rec.Name,
			Kind: auth.Kind(rec.Kind), CredentialID: auth.Accessor(digest)}
		return nil
	})
	switch {
	case errors.Is(err, ErrUnauthenticated):
		return auth.Principal{}, ErrUnauthenticated
	case err != nil:
		return auth.Principal{}, internal("Authenticate", err)
	}
	e := newCachedPrincipal(p, now, expires, lastUsed)
	s.principals.put(digest, e, gen)
	s.touchIfStale(ctx, digest, e, now)
	return e.p, nil
}

// touchIfStale records a token's use when its recorded last use is more
// than a minute old (iam.md 7.2); of concurrent requests with the same
// token, one does it.
func (s *Service) touchIfStale(ctx context.Context, digest string, e *cachedPrincipal, now time.Time) {
	last := e.lastUsed.Load()
	if now.UnixNano()-last > int64(time.Minute) && e.lastUsed.CompareAndSwap(last, now.UnixNano()) {
		s.touchToken(ctx, digest, now)
	}
}

// touchToken records a token's last use, at most once a minute (iam.md
// 7.2). Failing to record it does not fail the request.
func (s *Service) touchToken(ctx context.Context, digest string, now time.Time) {
	err := s.store.Update(ctx, func(tx storage.Tx) error {
		var rec childTokenRecord
		if err := getJSON(tx, tokenKey(digest), &rec, storage.ErrNotFound); err != nil {
			return err
		}
		rec.LastUsed = now.UnixNano()
		return putJSON(tx, tokenKey(digest), rec)
	})
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.log.WarnContext(ctx, "record token use", "err", err)
	}
}

// TokenInfo describes a token for Vault's lookup-self and token create
// (vault-kv2.md 6.3, 6.4). It never holds the token itself.
type TokenInfo struct {
	// Accessor is the token's stable, non-secret identifier.
	Accessor string
	Kind     auth.Kind
	// Name is the display name: the login of the user the token acts as,
	// "token-<name>" or "token" for a child token (as Vault names them),
	// the token's own name otherwise ("root").
	Name string
	// Identities are the identity URNs the token acts as, its own first
	// (a user's URN, then its group's).
	Identities []string
	// Policies are the sorted names of the IAM policies naming one of
	// Identities and not expired: what the caller is subject to. Nil for
	// the account root, which IAM does not restrict.
	Policies []string
	// Root is true for a token acting as the account root.
	Root bool
	// Child is true for a child token.
	Child     bool
	CreatedAt time.Time
	// ExpiresAt is zero for a token that does not expire.
	ExpiresAt time.Time
	// TTL is the lifetime left at the time of the call, zero when the token
	// does not expire.
	TTL time.Duration
}

// ChildTokenOptions are the parameters of a child token (vault-kv2.md 6.4).
type ChildTokenOptions struct {
	// DisplayName is appended to "token-" as Vault does; empty gives "token".
	DisplayName string
	// TTL is the requested lifetime; zero or negative means
	// DefaultChildTokenTTL.
	TTL time.Duration
	// MaxTTL caps the lifetime when positive (Vault's explicit_max_ttl).
	MaxTTL time.Duration
}

// LookupToken describes token, which must be the credential of c (Vault's
// lookup-self, vault-kv2.md 6.3). It returns ErrUnauthenticated for a token
// that is unknown or expired. It needs a valid credential and no action; the
// call is audited.
func (s *Service) LookupToken(ctx context.Context, c Caller, token string) (TokenInfo, error) {
	var out TokenInfo
	now := s.clock()
	err := s.run(ctx, c, tokenResource(c), nil, func() error {
		digest, err := s.tokenDigest(token)
		if err != nil {
			return err
		}
		return s.store.View(ctx, func(tx storage.Tx) error {
			rec, err := loadToken(tx, digest, now)
			if err != nil {
				return err
			}
			out = rec.info(digest, now)
			return nil
		})
	})
	if err == nil {
		s.describeCaller(&out, c, now)
	}
	return out, internalUnlessDomain("LookupToken", err)
}

// describeCaller completes the description of a token of c, or of a child
// token acting as c, with what authentication derived: the login it acts
// as, its identities and the policies naming them at now.
func (s *Service) describeCaller(ti *TokenInfo, c Caller, now time.Time) {
	if !ti.Child && c.Principal.Name != "" {
		ti.Name = c.Principal.Name
	}
	ti.Identities = slices.Clone(c.Principal.Identities)
	if !ti.Root {
		ti.Policies = s.policies.Load().Names(ti.Identities, now)
	}
}

// CreateChildToken issues a child token of parent, the credential of c
// (Vault's auth/token/create, vault-kv2.md 6.4, iam.md 7.2): it acts as the
// same identities as its parent, lives opt.TTL (capped by opt.MaxTTL and by
// the parent's expiry), is not renewable, and is revoked with its parent. It
// returns the new token, shown once and stored only as a digest, and its
// description. It needs a valid credential and no action; the call is
// audited.
func (s *Service) CreateChildToken(ctx context.Context, c Caller, parent string, opt ChildTokenOptions) (string, TokenInfo, error) {
	ttl := opt.TTL
	if ttl <= 0 {
		ttl = DefaultChildTokenTTL
	}
	if opt.MaxTTL > 0 && ttl > opt.MaxTTL {
		ttl = opt.MaxTTL
	}
	name := "token"
	if opt.DisplayName != "" {
		name = "token-" + opt.DisplayName
	}
	token, err := auth.NewToken(auth.KindChildToken, s.rand)
	if err != nil {
		return "", TokenInfo{}, internal("CreateChildToken", err)
	}
	now := s.clock()
	var out TokenInfo
	err = s.run(ctx, c, tokenResource(c), nil, func() error {
		pd, err := s.tokenDigest(parent)
		if err != nil {
			return err
		}
		cd, _ := s.tokenDigest(token)
		return s.store.Update(ctx, func(tx storage.Tx) error {
			prec, err := loadToken(tx, pd, now)
			if err != nil {
				return err
			}
			expires := now.Add(ttl).UnixNano()
			if prec.Expires != 0 && prec.Expires < expires {
				expires = prec.Expires
			}
			// iam.md 3: a child token acts as its parent's principal, so it
			// inherits the whole parent record (identities, root, and
			// whatever authentication derives the principal from); only what
			// makes it a distinct credential changes.
			rec := childTokenRecord{tokenRecord: prec.tokenRecord, Parent: pd}
			rec.F, rec.Kind, rec.Name = recordFormat, string(auth.KindChildToken), name
			rec.Identities = slices.Clone(prec.Identities)
			rec.Created, rec.Expires = unixNano(now), expires
			b, err := json.Marshal(rec)
			if err != nil {
				return err
			}
			out = rec.info(cd, now)
			return tx.Put(tokenKey(cd), b)
		})
	})
	if err != nil {
		return "", TokenInfo{}, internalUnlessDomain("CreateChildToken", err)
	}
	s.describeCaller(&out, c, now)
	return token, out, nil
}

// RevokeChildToken revokes token, the credential of c, and every token
// created from it, directly or not (Vault's revoke-self, vault-kv2.md 6.4).
// It returns ErrTokenNotRevocable unless token is a child token, and
// ErrUnauthenticated if it is unknown or expired. It needs a valid
// credential and no action; the call is audited.
func (s *Service) RevokeChildToken(ctx context.Context, c Caller, token string) error {
	now := s.clock()
	err := s.run(ctx, c, tokenResource(c), nil, func() error {
		digest, err := s.tokenDigest(token)
		if err != nil {
			return err
		}
		return s.store.Update(ctx, func(tx storage.Tx) error {
			rec, err := loadToken(tx, digest, now)
			if err != nil {
				return err
			}
			if rec.Kind != string(auth.KindChildToken) {
				return ErrTokenNotRevocable
			}
			return revokeTokenTree(tx, digest)
		})
	})
	if errors.Is(err, ErrTokenNotRevocable) {
		return err
	}
	return internalUnlessDomain("RevokeChildToken", err)
}

// revokeTokenTree deletes the tokens with the given digests and all their
// descendants. The identity API's revocations (iam.md 7.2: deleting a PAT
// revokes its child tokens) can call it too.
func revokeTokenTree(tx storage.Tx, digests ...string) error {
	if len(digests) == 0 {
		return nil
	}
	keys, err := tx.List(prefixTokens, "", 0)
	if err != nil {
		return err
	}
	children := map[string][]string{}
	for _, k := range keys {
		b, err := tx.Get(k)
		if err != nil {
			return err
		}
		var rec childTokenRecord
		if json.Unmarshal(b, &rec) == nil && rec.Parent != "" {
			children[rec.Parent] = append(children[rec.Parent], k[len(prefixTokens):])
		}
	}
	for queue := slices.Clone(digests); len(queue) > 0; queue = queue[1:] {
		d := queue[0]
		if err := tx.Delete(tokenKey(d)); err != nil {
			return err
		}
		queue = append(queue, children[d]...)
	}
	return nil
}

// tokenDigest returns the storage digest of token.
func (s *Service) tokenDigest(token string) (string, error) {
	pp := s.pepper.Load()
	if pp == nil {
		return "", ErrNotInitialized
	}
	if !auth.PlausibleToken(token) {
		return "", ErrUnauthenticated
	}
	return auth.Digest(*pp, token), nil
}

// loadToken reads a token record, refusing one that is unknown or expired
// at now as Authenticate does.
func loadToken(tx storage.Tx, digest string, now time.Time) (childTokenRecord, error) {
	var rec childTokenRecord
	b, err := tx.Get(tokenKey(digest))
	if errors.Is(err, storage.ErrNotFound) {
		return rec, ErrUnauthenticated
	}
	if err != nil {
		return rec, err
	}
	if err := json.Unmarshal(b, &rec); err != nil {
		return rec, err
	}
	if rec.Expires != 0 && now.UnixNano() >= rec.Expires {
		return rec, ErrUnauthenticated
	}
	return rec, nil
}

func (r childTokenRecord) info(digest string, now time.Time) TokenInfo {
	ti := TokenInfo{
		Accessor: auth.Accessor(digest), Kind: auth.Kind(r.Kind), Name: r.Name, Root: r.Root,
		Child: r.Kind == string(auth.KindChildToken), CreatedAt: fromNano(r.Created),
	}
	if r.Expires != 0 {
		ti.ExpiresAt = fromNano(r.Expires)
		ti.TTL = ti.ExpiresAt.Sub(now)
	}
	return ti
}

// tokenResource names what a token call acts on in the audit log: the
// caller's own identity, since Vault's token calls act on the caller's
// credential.
func tokenResource(c Caller) string {
	if len(c.Principal.Identities) > 0 {
		return c.Principal.Identities[0]
	}
	return "token:" + c.Principal.CredentialID
}
