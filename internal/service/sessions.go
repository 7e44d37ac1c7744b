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

// SignIn is a password sign-in: the login and password presented, and the
// request they came with.
type SignIn struct {
	Login, Password                string
	Surface, RequestID, RemoteAddr string
}

// String keeps the password out of any formatted output.
func (in SignIn) String() string { return "SignIn{login: " + in.Login + ", password: REDACTED}" }

// GoString is String.
func (in SignIn) GoString() string { return in.String() }

// Login checks a user's password (the web panel's sign-in) behind the
// failure budgets and hashing slots of passwords.go: it returns
// ErrLoginFailed for an unknown login and a wrong password alike, after the
// same amount of work, and a *RetryError (ErrTooManyRequests, ErrBusy)
// when the attempt is refused before any hashing. A password hashed with
// former parameters is re-hashed with the current ones on success.
func (s *Service) Login(ctx context.Context, in SignIn) (auth.Principal, error) {
	var r userRecord
	err := s.store.View(ctx, func(tx storage.Tx) error {
		return getJSON(tx, userKey(in.Login), &r, ErrUserNotFound)
	})
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		return auth.Principal{}, internal("Login", err)
	}
	a := Attempt{Login: in.Login, Surface: in.Surface, RequestID: in.RequestID, RemoteAddr: in.RemoteAddr}
	if err == nil {
		a.Resource = s.userURN(in.Login)
	}
	var p auth.Principal
	err = s.checkSecret(ctx, a, true, func() ([]string, error) {
		if auth.CheckPassword(r.PasswordHash, in.Password) != nil {
			return nil, ErrLoginFailed
		}
		var err error
		if p, err = s.userPrincipal(ctx, in.Login, r.id(), auth.KindPassword, "password:"+in.Login); err != nil {
			if errors.Is(err, ErrUnauthenticated) {
				return nil, ErrLoginFailed // deleted meanwhile
			}
			return nil, internal("Login", err)
		}
		if auth.NeedsRehash(r.PasswordHash) {
			s.rehash(ctx, in.Login, r.PasswordHash, in.Password)
		}
		return p.Identities, nil
	})
	if err != nil {
		return auth.Principal{}, err
	}
	return p, nil
}

// rehash replaces a user's password hash made with former parameters by
// one with the current parameters, unless the hash changed meanwhile. It
// runs in the caller's hashing slot. A failure is logged: the sign-in
// stands, and the next one tries again.
func (s *Service) rehash(ctx context.Context, login, old, password string) {
	h, err := auth.HashPassword(password)
	if err == nil {
		err = s.store.Update(ctx, func(tx storage.Tx) error {
			var r userRecord
			if err := getJSON(tx, userKey(login), &r, ErrUserNotFound); err != nil || r.PasswordHash != old {
				return err
			}
			r.PasswordHash = h
			return putJSON(tx, userKey(login), r)
		})
	}
	if err != nil && !errors.Is(err, ErrUserNotFound) {
		s.log.WarnContext(ctx, "re-hash a password with the current parameters", "err", err)
	}
}

// userPrincipal is userPrincipalTx (users.go) in a transaction of its own.
func (s *Service) userPrincipal(ctx context.Context, login, id string, kind auth.Kind, credID string) (auth.Principal, error) {
	var p auth.Principal
	err := s.store.View(ctx, func(tx storage.Tx) error {
		var err error
		p, err = s.userPrincipalTx(tx, login, id, kind, credID)
		return err
	})
	return p, err
}

// RefreshLogin returns the current principal of a user signed in to the
// web panel with a password: its group and ADMIN role as they are now. id
// is the user's immutable id at sign-in (Principal.UserID). It returns
// ErrUnauthenticated when the user no longer exists, or is another user of
// the same login, which ends the session.
func (s *Service) RefreshLogin(ctx context.Context, login, id string) (auth.Principal, error) {
	if id == "" {
		return auth.Principal{}, ErrUnauthenticated
	}
	p, err := s.userPrincipal(ctx, login, id, auth.KindPassword, "password:"+login)
	if err != nil {
		return auth.Principal{}, internalUnlessIAM("RefreshLogin", err)
	}
	return p, nil
}
