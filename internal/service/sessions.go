package service

import (
	"context"
	"errors"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Sessions: the web panel's sign-in with a password, and the refresh of a
// signed-in user's principal. The session itself (its cookie) is the
// panel's (internal/webui).

// ErrLoginFailed: a password login failed. It never says whether the
// login exists.
var ErrLoginFailed = errors.New("service: invalid login or password")

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

// userPrincipal is userPrincipalTx (users.go) in a transaction of its own.
func (s *Service) userPrincipal(ctx context.Context, login string, kind auth.Kind, credID string) (auth.Principal, error) {
	var p auth.Principal
	err := s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		p, err = s.userPrincipalTx(tx, login, kind, credID)
		return err
	})
	return p, err
}

// RefreshLogin returns the current principal of a user signed in to the
// web panel with a password: its group and ADMIN role as they are now. It
// returns ErrUnauthenticated when the user no longer exists, which ends
// the session.
func (s *Service) RefreshLogin(ctx context.Context, login string) (auth.Principal, error) {
	p, err := s.userPrincipal(ctx, login, auth.KindPassword, "password:"+login)
	if err != nil {
		return auth.Principal{}, internalUnlessIAM("RefreshLogin", err)
	}
	return p, nil
}
