package service

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// ErrUserNotFound: no user has that login.
var ErrUserNotFound = errors.New("service: user not found")

var nameRE = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// validName reports whether s is a valid login, group or token name: 1..64
// characters of [A-Za-z0-9._@-], and not "." or ".." (which would make
// URNs and storage keys ambiguous).
func validName(s string) bool { return nameRE.MatchString(s) && s != "." && s != ".." }

// User is a local user (iam.md 3, 7.4). It never holds the password.
type User struct {
	Login       string
	Description string
	Email       string
	Group       string
	URN         string
	HasPassword bool
	// Disabled: the user may not sign in or use any credential.
	Disabled  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// UserInput creates or changes a user; nil fields are left unchanged on
// update.
type UserInput struct {
	Login       string
	Description *string
	Email       *string
	Group       *string
	Password    *string
}

func (s *Service) userURN(login string) string { return policy.UserURN(s.zone, s.account, login) }

func (s *Service) toUser(r userRecord) User {
	return User{Login: r.Login, Description: r.Description, Email: r.Email, Group: r.Group, URN: s.userURN(r.Login),
		HasPassword: r.PasswordHash != "", Disabled: r.Disabled, CreatedAt: fromNano(r.Created), UpdatedAt: fromNano(r.Updated)}
}

// validateUser checks a user input; the password is hashed here, outside
// any transaction and in a hashing slot (passwords.go), because Argon2id
// is deliberately slow.
func (s *Service) validateUser(ctx context.Context, in UserInput, create bool) (hash string, err error) {
	if create && !validName(in.Login) {
		return "", invalid("login", "must be 1 to 64 characters of A-Z a-z 0-9 . _ @ -")
	}
	if in.Description != nil && len(*in.Description) > 1024 {
		return "", invalid("description", "must be at most 1024 characters")
	}
	if in.Email != nil && len(*in.Email) > 254 {
		return "", invalid("email", "must be at most 254 characters")
	}
	if in.Group != nil && *in.Group != "" && !validName(*in.Group) {
		return "", invalid("group", "must name an existing group")
	}
	if in.Password != nil {
		if n := len(*in.Password); n < auth.MinPasswordLength || n > 1024 {
			return "", invalid("password", fmt.Sprintf("must be %d to 1024 characters long", auth.MinPasswordLength))
		}
		return s.hashPassword(ctx, *in.Password)
	}
	return "", nil
}

// CreateUser creates a local user (iam.md 7.4). Root or ADMIN only.
func (s *Service) CreateUser(ctx context.Context, c Caller, in UserInput) (User, error) {
	var out User
	now, id := s.clock(), s.newID()
	err := s.requireAdmin(ctx, c, "user/create", s.userURN(in.Login), func() error {
		// Validate (and hash, which is deliberately slow) only for an
		// administrator: nobody else can make the server do that work.
		hash, err := s.validateUser(ctx, in, true)
		if err != nil {
			return err
		}
		return s.store.Update(ctx, func(tx storage.Tx) error {
			if ok, err := exists(tx, userKey(in.Login)); err != nil || ok {
				return cmpErr(err, ErrIdentityExists)
			}
			r := userRecord{F: recordFormat, ID: id, Login: in.Login, PasswordHash: hash, Created: unixNano(now), Updated: unixNano(now)}
			if err := applyUser(tx, &r, in); err != nil {
				return err
			}
			out = s.toUser(r)
			return putJSON(tx, userKey(in.Login), r)
		})
	})
	return out, internalUnlessIAM("CreateUser", err)
}

func applyUser(tx storage.Tx, r *userRecord, in UserInput) error {
	if in.Description != nil {
		r.Description = *in.Description
	}
	if in.Email != nil {
		r.Email = *in.Email
	}
	if in.Group != nil {
		if *in.Group != "" {
			if _, err := tx.Get(groupKey(*in.Group)); err != nil {
				if errors.Is(err, storage.ErrNotFound) {
					return invalid("group", "no group has this name")
				}
				return err
			}
		}
		r.Group = *in.Group
	}
	return nil
}

// UpdateUser changes a user. Root or ADMIN only.
func (s *Service) UpdateUser(ctx context.Context, c Caller, in UserInput) (User, error) {
	var out User
	now := s.clock()
	err := s.requireAdmin(ctx, c, "user/update", s.userURN(in.Login), func() error {
		hash, err := s.validateUser(ctx, in, false)
		if err != nil {
			return err
		}
		return s.store.Update(ctx, func(tx storage.Tx) error {
			var r userRecord
			if err := getJSON(tx, userKey(in.Login), &r, ErrUserNotFound); err != nil {
				return err
			}
			if err := applyUser(tx, &r, in); err != nil {
				return err
			}
			if hash != "" {
				r.PasswordHash = hash
			}
			r.Updated = unixNano(now)
			out = s.toUser(r)
			return putJSON(tx, userKey(in.Login), r)
		})
	})
	return out, internalUnlessIAM("UpdateUser", err)
}

// GetUser returns a user. Root or ADMIN only.
func (s *Service) GetUser(ctx context.Context, c Caller, login string) (User, error) {
	var out User
	err := s.requireAdmin(ctx, c, "user/get", s.userURN(login), func() error {
		return s.store.View(ctx, func(tx storage.Tx) error {
			var r userRecord
			if err := getJSON(tx, userKey(login), &r, ErrUserNotFound); err != nil {
				return err
			}
			out = s.toUser(r)
			return nil
		})
	})
	return out, internalUnlessIAM("GetUser", err)
}

// ListUsers returns every user, by login. Root or ADMIN only.
func (s *Service) ListUsers(ctx context.Context, c Caller) ([]User, error) {
	var out []User
	err := s.requireAdmin(ctx, c, "user/list", policy.AccountURN(s.zone, s.account), func() error {
		return s.store.View(ctx, func(tx storage.Tx) error {
			rs, err := listJSON[userRecord](tx, prefixUsers)
			out = make([]User, len(rs))
			for i, r := range rs {
				out[i] = s.toUser(r)
			}
			return err
		})
	})
	return out, internalUnlessIAM("ListUsers", err)
}

// DeleteUser deletes a user and everything that carries its rights beyond
// a request (identities.go): its tokens (and their child tokens), its URN
// in policies, and the access certificates it issued; its panel sessions
// end at their next request. Root or ADMIN only.
func (s *Service) DeleteUser(ctx context.Context, c Caller, login string) error {
	err := s.requireAdmin(ctx, c, "user/delete", s.userURN(login), func() error {
		var (
			u       userRecord
			changed []policy.Policy
		)
		err := s.store.Update(ctx, func(tx storage.Tx) error {
			if err := getJSON(tx, userKey(login), &u, ErrUserNotFound); err != nil {
				return err
			}
			pats, err := listJSON[patRecord](tx, patPrefix(login))
			if err != nil {
				return err
			}
			for _, p := range pats {
				if err := revokeTokenTree(tx, p.Digest); err != nil {
					return err
				}
				if err := tx.Delete(patKey(login, p.Name)); err != nil {
					return err
				}
			}
			if changed, err = dropFromPolicies(tx, s.userURN(login)); err != nil {
				return err
			}
			return tx.Delete(userKey(login))
		})
		if err != nil {
			return err
		}
		s.forgotten(ctx, c, s.userURN(login), changed)
		s.revokeIssued(ctx, c, u.id(), "deleted")
		return nil
	})
	return internalUnlessIAM("DeleteUser", err)
}

// SetUserDisabled disables a user, or enables it again. A disabled user
// may not sign in, and nothing authenticates as it: every credential that
// carries its rights beyond a request is revoked at once, as on deletion
// (identities.go) — its personal access tokens and their child tokens, and
// the access certificates it issued — and its panel sessions end at their
// next request (they re-check the user). Certificates that merely bind its
// URN grant nothing while it is disabled. Enabling it restores none of
// them: it signs in with its password again and gets new tokens. The user
// itself, its group and the policies naming it are kept. Root or ADMIN
// only; a caller may not disable itself.
func (s *Service) SetUserDisabled(ctx context.Context, c Caller, login string, disabled bool) (User, error) {
	var (
		out User
		u   userRecord
	)
	what := "user/enable"
	if disabled {
		what = "user/disable"
	}
	now := s.clock()
	err := s.requireAdmin(ctx, c, what, s.userURN(login), func() error {
		if disabled && c.Principal.User == login {
			return invalid("login", "you may not disable yourself")
		}
		err := s.store.Update(ctx, func(tx storage.Tx) error {
			if err := getJSON(tx, userKey(login), &u, ErrUserNotFound); err != nil {
				return err
			}
			if disabled {
				pats, err := listJSON[patRecord](tx, patPrefix(login))
				if err != nil {
					return err
				}
				for _, p := range pats {
					if err := revokeTokenTree(tx, p.Digest); err != nil {
						return err
					}
					if err := tx.Delete(patKey(login, p.Name)); err != nil {
						return err
					}
				}
			}
			u.Disabled, u.Updated = disabled, unixNano(now)
			out = s.toUser(u)
			return putJSON(tx, userKey(login), u)
		})
		if err != nil {
			return err
		}
		if disabled {
			s.revokeIssued(ctx, c, u.id(), "disabled")
		}
		return nil
	})
	return out, internalUnlessIAM("SetUserDisabled", err)
}

// userPrincipalTx builds the principal of a user, in a transaction on the
// system store: its URN, its group's URN, the ADMIN flag of its group's
// role, and its immutable id. It returns ErrUnauthenticated when the user
// does not exist, or when id is set and the user of that login now is
// another one (deleted, then created again). Every way of signing in as a
// user (password, token, certificate) ends here, so that group changes and
// deletions apply at once.
func (s *Service) userPrincipalTx(tx storage.Tx, login, id string, kind auth.Kind, credID string) (auth.Principal, error) {
	var u userRecord
	if err := getJSON(tx, userKey(login), &u, ErrUnauthenticated); err != nil {
		return auth.Principal{}, err
	}
	if id != "" && id != u.id() {
		return auth.Principal{}, ErrUnauthenticated
	}
	if u.Disabled {
		return auth.Principal{}, ErrUnauthenticated
	}
	p := auth.Principal{Identities: []string{s.userURN(login)}, Name: login, Kind: kind, CredentialID: credID,
		UserID: u.id(), User: login}
	if u.Group != "" {
		var g groupRecord
		if err := getJSON(tx, groupKey(u.Group), &g, storage.ErrNotFound); err == nil {
			p.Identities = append(p.Identities, s.groupURN(g.Name))
			p.Admin = g.Role == RoleAdmin
		} else if !errors.Is(err, storage.ErrNotFound) {
			return auth.Principal{}, err
		}
	}
	return p, nil
}
