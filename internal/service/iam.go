package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Errors of identity management.
var (
	ErrUserNotFound   = errors.New("service: user not found")
	ErrGroupNotFound  = errors.New("service: group not found")
	ErrTokenNotFound  = errors.New("service: token not found")
	ErrPolicyNotFound = errors.New("service: policy not found")
	// ErrIdentityExists: a user, group, token name or policy name is taken.
	ErrIdentityExists = errors.New("service: already exists")
	// ErrGroupInUse: a group still has members and cannot be deleted.
	ErrGroupInUse = errors.New("service: the group still has members")
	// ErrLoginFailed: a password login failed. It never says whether the
	// login exists.
	ErrLoginFailed = errors.New("service: invalid login or password")
	// ErrAuditNotReadable: the audit goes to a sink that cannot be read
	// back (the log); configure an audit file.
	ErrAuditNotReadable = errors.New("service: the audit log is not readable: configure --audit-file")
)

// InvalidError is an invalid identity-management input; its message names
// the field and the rule, never a password.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Reason }

func invalid(field, reason string) error { return &InvalidError{Field: field, Reason: reason} }

// Group roles (iam.md 3). Only ADMIN has an effect: its users pass without
// any policy.
const (
	RoleAdmin        = "ADMIN"
	RoleRegular      = "REGULAR"
	RoleUnprivileged = "UNPRIVILEGED"
	RoleNone         = "NONE"
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9._@-]{1,64}$`)

// validName reports whether s is a valid login, group or token name: 1..64
// characters of [A-Za-z0-9._@-], and not "." or ".." (which would make
// URNs and storage keys ambiguous).
func validName(s string) bool { return nameRE.MatchString(s) && s != "." && s != ".." }

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

// Storage keys of identities.
const (
	prefixUsers    = "iam/user/"
	prefixGroups   = "iam/group/"
	prefixPolicies = "iam/policy/"
	prefixPATs     = "iam/pat/"
)

func userKey(login string) string      { return prefixUsers + login }
func groupKey(name string) string      { return prefixGroups + name }
func policyKey(id string) string       { return prefixPolicies + id }
func patKey(login, name string) string { return prefixPATs + login + "/" + name }
func patPrefix(login string) string    { return prefixPATs + login + "/" }

// User is a local user (iam.md 3, 7.4). It never holds the password.
type User struct {
	Login       string
	Description string
	Email       string
	Group       string
	URN         string
	HasPassword bool
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

type userRecord struct {
	F            int    `json:"f"`
	Login        string `json:"login"`
	Description  string `json:"description,omitempty"`
	Email        string `json:"email,omitempty"`
	Group        string `json:"group,omitempty"`
	PasswordHash string `json:"pw,omitempty"`
	Created      int64  `json:"created"`
	Updated      int64  `json:"updated"`
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

// Group is a group of users with a role.
type Group struct {
	Name        string
	Description string
	Role        string
	URN         string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

type groupRecord struct {
	F           int    `json:"f"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Role        string `json:"role"`
	Created     int64  `json:"created"`
	Updated     int64  `json:"updated"`
}

// GroupInput creates or changes a group; nil fields are left unchanged on
// update.
type GroupInput struct {
	Name        string
	Description *string
	Role        *string
}

// requireAdmin runs fn as an identity-management operation: only the
// account root and ADMIN users may (iam.md 7.4). It is audited like every
// other call, under the pseudo-action "coffer:iam/<what>".
func (s *Service) requireAdmin(ctx context.Context, c Caller, what, resource string, fn func() error) error {
	return s.Operate(ctx, c, "coffer:iam/"+what, resource, fn)
}

func adminDecision(c Caller) (outcome, reason string) {
	switch {
	case c.Principal.Root:
		return audit.Allowed, "root"
	case c.Principal.Admin:
		return audit.Allowed, "admin"
	}
	return audit.Denied, "identity management needs the account root or an ADMIN user"
}

func (s *Service) userURN(login string) string { return policy.UserURN(s.zone, s.account, login) }
func (s *Service) groupURN(name string) string { return policy.GroupURN(s.zone, s.account, name) }

func (s *Service) toUser(r userRecord) User {
	return User{Login: r.Login, Description: r.Description, Email: r.Email, Group: r.Group, URN: s.userURN(r.Login),
		HasPassword: r.PasswordHash != "", CreatedAt: fromNano(r.Created), UpdatedAt: fromNano(r.Updated)}
}

func (s *Service) toGroup(r groupRecord) Group {
	return Group{Name: r.Name, Description: r.Description, Role: r.Role, URN: s.groupURN(r.Name),
		CreatedAt: fromNano(r.Created), UpdatedAt: fromNano(r.Updated)}
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

// validateUser checks a user input; the password is hashed here, outside
// any transaction, because Argon2id is deliberately slow.
func validateUser(in UserInput, create bool) (hash string, err error) {
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
		return auth.HashPassword(*in.Password)
	}
	return "", nil
}

// CreateUser creates a local user (iam.md 7.4). Root or ADMIN only.
func (s *Service) CreateUser(ctx context.Context, c Caller, in UserInput) (User, error) {
	var out User
	now := s.clock()
	err := s.requireAdmin(ctx, c, "user/create", s.userURN(in.Login), func() error {
		// Validate (and hash, which is deliberately slow) only for an
		// administrator: nobody else can make the server do that work.
		hash, err := validateUser(in, true)
		if err != nil {
			return err
		}
		return s.store.Update(ctx, func(tx storage.Tx) error {
			if ok, err := exists(tx, userKey(in.Login)); err != nil || ok {
				return cmpErr(err, ErrIdentityExists)
			}
			r := userRecord{F: recordFormat, Login: in.Login, PasswordHash: hash, Created: unixNano(now), Updated: unixNano(now)}
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
		hash, err := validateUser(in, false)
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

// DeleteUser deletes a user and revokes its tokens (and their child
// tokens). Root or ADMIN only.
func (s *Service) DeleteUser(ctx context.Context, c Caller, login string) error {
	err := s.requireAdmin(ctx, c, "user/delete", s.userURN(login), func() error {
		return s.store.Update(ctx, func(tx storage.Tx) error {
			if _, err := tx.Get(userKey(login)); err != nil {
				if errors.Is(err, storage.ErrNotFound) {
					return ErrUserNotFound
				}
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
			return tx.Delete(userKey(login))
		})
	})
	return internalUnlessIAM("DeleteUser", err)
}

var roles = []string{RoleAdmin, RoleRegular, RoleUnprivileged, RoleNone}

func validateGroup(in GroupInput, create bool) error {
	if create && !validName(in.Name) {
		return invalid("name", "must be 1 to 64 characters of A-Z a-z 0-9 . _ @ -")
	}
	if in.Role != nil && !slices.Contains(roles, *in.Role) {
		return invalid("role", "must be one of ADMIN, REGULAR, UNPRIVILEGED, NONE")
	}
	if in.Description != nil && len(*in.Description) > 1024 {
		return invalid("description", "must be at most 1024 characters")
	}
	return nil
}

// CreateGroup creates a group (role NONE unless given). Root or ADMIN only.
func (s *Service) CreateGroup(ctx context.Context, c Caller, in GroupInput) (Group, error) {
	var out Group
	now := s.clock()
	err := s.requireAdmin(ctx, c, "group/create", s.groupURN(in.Name), func() error {
		if err := validateGroup(in, true); err != nil {
			return err
		}
		return s.store.Update(ctx, func(tx storage.Tx) error {
			if ok, err := exists(tx, groupKey(in.Name)); err != nil || ok {
				return cmpErr(err, ErrIdentityExists)
			}
			r := groupRecord{F: recordFormat, Name: in.Name, Role: RoleNone, Created: unixNano(now), Updated: unixNano(now)}
			applyGroup(&r, in)
			out = s.toGroup(r)
			return putJSON(tx, groupKey(in.Name), r)
		})
	})
	return out, internalUnlessIAM("CreateGroup", err)
}

func applyGroup(r *groupRecord, in GroupInput) {
	if in.Description != nil {
		r.Description = *in.Description
	}
	if in.Role != nil {
		r.Role = *in.Role
	}
}

// UpdateGroup changes a group. Root or ADMIN only.
func (s *Service) UpdateGroup(ctx context.Context, c Caller, in GroupInput) (Group, error) {
	var out Group
	now := s.clock()
	err := s.requireAdmin(ctx, c, "group/update", s.groupURN(in.Name), func() error {
		if err := validateGroup(in, false); err != nil {
			return err
		}
		return s.store.Update(ctx, func(tx storage.Tx) error {
			var r groupRecord
			if err := getJSON(tx, groupKey(in.Name), &r, ErrGroupNotFound); err != nil {
				return err
			}
			applyGroup(&r, in)
			r.Updated = unixNano(now)
			out = s.toGroup(r)
			return putJSON(tx, groupKey(in.Name), r)
		})
	})
	return out, internalUnlessIAM("UpdateGroup", err)
}

// GetGroup returns a group. Root or ADMIN only.
func (s *Service) GetGroup(ctx context.Context, c Caller, name string) (Group, error) {
	var out Group
	err := s.requireAdmin(ctx, c, "group/get", s.groupURN(name), func() error {
		return s.store.View(ctx, func(tx storage.Tx) error {
			var r groupRecord
			if err := getJSON(tx, groupKey(name), &r, ErrGroupNotFound); err != nil {
				return err
			}
			out = s.toGroup(r)
			return nil
		})
	})
	return out, internalUnlessIAM("GetGroup", err)
}

// ListGroups returns every group, by name. Root or ADMIN only.
func (s *Service) ListGroups(ctx context.Context, c Caller) ([]Group, error) {
	var out []Group
	err := s.requireAdmin(ctx, c, "group/list", policy.AccountURN(s.zone, s.account), func() error {
		return s.store.View(ctx, func(tx storage.Tx) error {
			rs, err := listJSON[groupRecord](tx, prefixGroups)
			out = make([]Group, len(rs))
			for i, r := range rs {
				out[i] = s.toGroup(r)
			}
			return err
		})
	})
	return out, internalUnlessIAM("ListGroups", err)
}

// DeleteGroup deletes a group that has no members. Root or ADMIN only.
func (s *Service) DeleteGroup(ctx context.Context, c Caller, name string) error {
	err := s.requireAdmin(ctx, c, "group/delete", s.groupURN(name), func() error {
		return s.store.Update(ctx, func(tx storage.Tx) error {
			if _, err := tx.Get(groupKey(name)); err != nil {
				if errors.Is(err, storage.ErrNotFound) {
					return ErrGroupNotFound
				}
				return err
			}
			users, err := listJSON[userRecord](tx, prefixUsers)
			if err != nil {
				return err
			}
			for _, u := range users {
				if u.Group == name {
					return ErrGroupInUse
				}
			}
			return tx.Delete(groupKey(name))
		})
	})
	return internalUnlessIAM("DeleteGroup", err)
}

// PAT is a personal access token as listed: never its value.
type PAT struct {
	Name        string
	Description string
	CreatedAt   time.Time
	ExpiresAt   time.Time // zero: never
	LastUsed    time.Time // zero: never used
}

type patRecord struct {
	F           int    `json:"f"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	Digest      string `json:"digest"`
	Created     int64  `json:"created"`
	Expires     int64  `json:"expires,omitempty"`
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
			if ok, err := exists(tx, userKey(login)); err != nil || !ok {
				return cmpErr(err, ErrUserNotFound)
			}
			if ok, err := exists(tx, patKey(login, name)); err != nil || ok {
				return cmpErr(err, ErrIdentityExists)
			}
			pr := patRecord{F: recordFormat, Name: name, Description: description, Digest: digest,
				Created: unixNano(now), Expires: unixNano(expiresAt)}
			tr := childTokenRecord{tokenRecord: tokenRecord{F: recordFormat, Kind: string(auth.KindPAT), Name: name,
				Login: login, Created: unixNano(now), Expires: unixNano(expiresAt)}}
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

// CreatePolicy validates, canonicalises and stores a policy (iam.md 4.1).
// Names are unique. Root or ADMIN only.
func (s *Service) CreatePolicy(ctx context.Context, c Caller, p policy.Policy) (policy.Policy, error) {
	p.ID = s.newID()
	return s.writePolicy(ctx, c, p, true)
}

// UpdatePolicy replaces a policy. Root or ADMIN only.
func (s *Service) UpdatePolicy(ctx context.Context, c Caller, p policy.Policy) (policy.Policy, error) {
	return s.writePolicy(ctx, c, p, false)
}

func (s *Service) writePolicy(ctx context.Context, c Caller, p policy.Policy, create bool) (policy.Policy, error) {
	now := s.clock()
	what := "policy/update"
	if create {
		what = "policy/create"
	}
	var out policy.Policy
	err := s.requireAdmin(ctx, c, what, "urn:v1:"+s.zone+":iam:policy:"+p.ID, func() error {
		if err := p.Validate(); err != nil {
			return err
		}
		p = p.Canonical()
		return s.store.Update(ctx, func(tx storage.Tx) error {
			all, err := listJSON[policy.Policy](tx, prefixPolicies)
			if err != nil {
				return err
			}
			i := slices.IndexFunc(all, func(q policy.Policy) bool { return q.ID == p.ID })
			switch {
			case create && s.limits.Policies > 0 && len(all) >= s.limits.Policies:
				return &LimitError{What: "policies", Scope: "account", Limit: s.limits.Policies}
			case create:
				p.CreatedAt, p.UpdatedAt = now, now
			case i < 0:
				return ErrPolicyNotFound
			default:
				p.CreatedAt, p.UpdatedAt = all[i].CreatedAt, now
			}
			if slices.ContainsFunc(all, func(q policy.Policy) bool { return q.ID != p.ID && q.Name == p.Name }) {
				return ErrIdentityExists
			}
			p.Owner, p.ReadOnly = s.account, false
			out = p
			return putJSON(tx, policyKey(p.ID), p)
		})
	})
	if err == nil {
		s.reloadPolicies(ctx)
		s.notify(ctx, changedPolicies)
	}
	return out, internalUnlessIAM("writePolicy", err)
}

// GetPolicy returns a policy. Root or ADMIN only.
func (s *Service) GetPolicy(ctx context.Context, c Caller, id string) (policy.Policy, error) {
	var out policy.Policy
	err := s.requireAdmin(ctx, c, "policy/get", "urn:v1:"+s.zone+":iam:policy:"+id, func() error {
		return s.store.View(ctx, func(tx storage.Tx) error {
			return getJSON(tx, policyKey(id), &out, ErrPolicyNotFound)
		})
	})
	return out, internalUnlessIAM("GetPolicy", err)
}

// ListPolicies returns every policy, sorted by name. Root or ADMIN only.
func (s *Service) ListPolicies(ctx context.Context, c Caller) ([]policy.Policy, error) {
	var out []policy.Policy
	err := s.requireAdmin(ctx, c, "policy/list", policy.AccountURN(s.zone, s.account), func() error {
		return s.store.View(ctx, func(tx storage.Tx) (err error) {
			out, err = listJSON[policy.Policy](tx, prefixPolicies)
			return err
		})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, internalUnlessIAM("ListPolicies", err)
}

// DeletePolicy deletes a policy. Root or ADMIN only.
func (s *Service) DeletePolicy(ctx context.Context, c Caller, id string) error {
	err := s.requireAdmin(ctx, c, "policy/delete", "urn:v1:"+s.zone+":iam:policy:"+id, func() error {
		return s.store.Update(ctx, func(tx storage.Tx) error {
			if _, err := tx.Get(policyKey(id)); errors.Is(err, storage.ErrNotFound) {
				return ErrPolicyNotFound
			} else if err != nil {
				return err
			}
			return tx.Delete(policyKey(id))
		})
	})
	if err == nil {
		s.reloadPolicies(ctx)
		s.notify(ctx, changedPolicies)
	}
	return internalUnlessIAM("DeletePolicy", err)
}

// reloadPolicies rebuilds the in-memory policy index from storage. A
// failure keeps the previous index and is logged: the write it follows is
// committed.
func (s *Service) reloadPolicies(ctx context.Context) {
	if err := s.loadPolicies(ctx); err != nil {
		s.log.ErrorContext(ctx, "reload policies", "err", err)
	}
}

func (s *Service) loadPolicies(ctx context.Context) error {
	var ps []policy.Policy
	err := s.store.View(ctx, func(tx storage.Tx) (err error) {
		ps, err = listJSON[policy.Policy](tx, prefixPolicies)
		return err
	})
	if err != nil {
		return internal("loadPolicies", err)
	}
	s.policies.Store(policy.NewIndex(ps))
	return nil
}

// Login checks a user's password (the web panel's sign-in). It returns
// ErrLoginFailed for an unknown login and a wrong password alike, after the
// same amount of work.
func (s *Service) Login(ctx context.Context, login, password string) (auth.Principal, error) {
	var r userRecord
	err := s.store.View(ctx, func(tx storage.Tx) error {
		return getJSON(tx, userKey(login), &r, ErrUserNotFound)
	})
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		return auth.Principal{}, internal("Login", err)
	}
	if auth.CheckPassword(r.PasswordHash, password) != nil {
		return auth.Principal{}, ErrLoginFailed
	}
	return s.userPrincipal(ctx, login, auth.KindPassword, "password:"+login)
}

// userPrincipal builds the principal of a user: its URN, its group's URN,
// and the ADMIN flag of its group's role.
func (s *Service) userPrincipal(ctx context.Context, login string, kind auth.Kind, credID string) (auth.Principal, error) {
	var p auth.Principal
	err := s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		p, err = s.userPrincipalTx(tx, login, kind, credID)
		return err
	})
	return p, err
}

func (s *Service) userPrincipalTx(tx storage.Tx, login string, kind auth.Kind, credID string) (auth.Principal, error) {
	var u userRecord
	if err := getJSON(tx, userKey(login), &u, ErrUnauthenticated); err != nil {
		return auth.Principal{}, err
	}
	p := auth.Principal{Identities: []string{s.userURN(login)}, Name: login, Kind: kind, CredentialID: credID}
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

// iamErrors are the identity-management errors surfaces render.
var iamErrors = []error{ErrUserNotFound, ErrGroupNotFound, ErrTokenNotFound, ErrPolicyNotFound,
	ErrIdentityExists, ErrGroupInUse, ErrLoginFailed, ErrAuditNotReadable, ErrCredentialNotFound, ErrNoPKI}

func internalUnlessIAM(op string, err error) error {
	if err == nil {
		return nil
	}
	var ie *InvalidError
	if errors.As(err, &ie) {
		return err
	}
	if errors.Is(err, policy.ErrInvalidPolicy) {
		return err
	}
	if _, ok := errors.AsType[*LimitError](err); ok {
		return err
	}
	for _, e := range iamErrors {
		if errors.Is(err, e) {
			return err
		}
	}
	return internalUnlessDomain(op, err)
}

// AuditTail returns the last n audit events, when the audit sink can be
// read back. Root or ADMIN only; the read is itself audited.
func (s *Service) AuditTail(ctx context.Context, c Caller, n int) ([]audit.Event, error) {
	r, ok := s.audit.(audit.Reader)
	if !ok {
		return nil, ErrAuditNotReadable
	}
	var out []audit.Event
	err := s.requireAdmin(ctx, c, "audit/list", policy.AccountURN(s.zone, s.account), func() (err error) {
		out, err = r.Tail(n)
		return err
	})
	return out, internalUnlessIAM("AuditTail", err)
}

// cmpErr returns err if it is set (a storage failure), else sentinel.
func cmpErr(err, sentinel error) error {
	if err != nil {
		return err
	}
	return sentinel
}
