package service

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Errors of groups.
var (
	ErrGroupNotFound = errors.New("service: group not found")
	// ErrGroupInUse: a group still has members and cannot be deleted.
	ErrGroupInUse = errors.New("service: the group still has members")
)

// Group roles (iam.md 3). Only ADMIN has an effect: its users pass without
// any policy.
const (
	RoleAdmin        = "ADMIN"
	RoleRegular      = "REGULAR"
	RoleUnprivileged = "UNPRIVILEGED"
	RoleNone         = "NONE"
)

// Group is a group of users with a role.
type Group struct {
	Name        string
	Description string
	Role        string
	URN         string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// GroupInput creates or changes a group; nil fields are left unchanged on
// update.
type GroupInput struct {
	Name        string
	Description *string
	Role        *string
}

func (s *Service) groupURN(name string) string { return policy.GroupURN(s.zone, s.account, name) }

func (s *Service) toGroup(r groupRecord) Group {
	return Group{Name: r.Name, Description: r.Description, Role: r.Role, URN: s.groupURN(r.Name),
		CreatedAt: fromNano(r.Created), UpdatedAt: fromNano(r.Updated)}
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
	now, id := s.clock(), s.newID()
	err := s.requireAdmin(ctx, c, "group/create", s.groupURN(in.Name), func() error {
		if err := validateGroup(in, true); err != nil {
			return err
		}
		return s.store.Update(ctx, func(tx storage.Tx) error {
			if ok, err := exists(tx, groupKey(in.Name)); err != nil || ok {
				return cmpErr(err, ErrIdentityExists)
			}
			r := groupRecord{F: recordFormat, ID: id, Name: in.Name, Role: RoleNone, Created: unixNano(now), Updated: unixNano(now)}
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

// DeleteGroup deletes a group that has no members, and removes its URN
// from every policy (identities.go). Root or ADMIN only.
func (s *Service) DeleteGroup(ctx context.Context, c Caller, name string) error {
	err := s.requireAdmin(ctx, c, "group/delete", s.groupURN(name), func() error {
		var changed []policy.Policy
		err := s.store.Update(ctx, func(tx storage.Tx) error {
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
			if changed, err = dropFromPolicies(tx, s.groupURN(name)); err != nil {
				return err
			}
			return tx.Delete(groupKey(name))
		})
		if err == nil {
			s.forgotten(ctx, c, s.groupURN(name), changed)
		}
		return err
	})
	return internalUnlessIAM("DeleteGroup", err)
}
