package service

import (
	"context"
	"errors"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// Errors of the service layer, on top of the domain sentinels of package
// secret. None carries an HTTP status; each surface maps them in its own
// error table.
var (
	// ErrUnauthenticated: no credential, or one that is unknown, expired or
	// revoked.
	ErrUnauthenticated = errors.New("service: unauthenticated")
	// ErrDenied: the caller is authenticated but IAM refuses the action.
	ErrDenied = errors.New("service: permission denied")
	// ErrDomainNotFound: no OKMS domain has that id.
	ErrDomainNotFound = errors.New("service: domain not found")
	// ErrAuditUnavailable: the audit request event could not be written,
	// so the operation did not run (fail closed).
	ErrAuditUnavailable = errors.New("service: audit sink unavailable")
	// ErrNotInitialized: the store holds no installation yet.
	ErrNotInitialized = errors.New("service: not initialized")
	// ErrUnavailable: the storage cannot be reached (a database restarting
	// or failing over, no free connection). The operation did not run —
	// or, for a write whose commit was cut off, its outcome is unknown. It
	// is transient: surfaces answer 503 with Retry-After.
	ErrUnavailable = storage.ErrUnavailable
)

// DeniedError is the [ErrDenied] of one decision: the action refused and
// the resource it was refused on, so that an interface can say what is
// missing (the panel names both). errors.Is(err, ErrDenied) holds, and its
// text is ErrDenied's: surfaces that do not look inside it answer as
// before.
type DeniedError struct {
	Action   string // full action name, e.g. "okms:apiovh:secret/get"
	Resource string // URN
}

func (e *DeniedError) Error() string { return ErrDenied.Error() }

// Unwrap returns [ErrDenied].
func (e *DeniedError) Unwrap() error { return ErrDenied }

// knownErrors are the errors every surface knows how to render; anything
// else that reaches a surface is an internal error.
var knownErrors = []error{
	secret.ErrNotFound, secret.ErrVersionNotFound, secret.ErrExists, ErrCursorInvalid, ErrBusy,
	secret.ErrCASRequired, secret.ErrCASMismatch, secret.ErrTransition, secret.ErrVersionLimit,
	secret.ErrVersionInactive, ErrDomainNotFound, ErrDenied, ErrUnauthenticated, ErrAuditUnavailable,
	ErrRegionNotFound, ErrDomainNotReady, ErrConfirmationRequired, ErrTooManyRequests,
	ErrSealed, ErrAlreadyInitialized, ErrUnsealKeys, ErrSealParameters, ErrNoSealChange, ErrUnavailable,
	context.Canceled, context.DeadlineExceeded,
}

// Errors of identity management shared by its use cases; each use case's
// own errors are declared in its file (users.go, groups.go, …).
var (
	// ErrIdentityExists: a user, group, token name or policy name is taken.
	ErrIdentityExists = errors.New("service: already exists")
)

// InvalidError is an invalid identity-management input; its message names
// the field and the rule, never a password.
type InvalidError struct {
	Field  string
	Reason string
}

func (e *InvalidError) Error() string { return e.Field + ": " + e.Reason }

func invalid(field, reason string) error { return &InvalidError{Field: field, Reason: reason} }

// iamErrors are the identity-management errors surfaces render.
var iamErrors = []error{ErrUserNotFound, ErrGroupNotFound, ErrTokenNotFound, ErrPolicyNotFound,
	ErrIdentityExists, ErrGroupInUse, ErrLoginFailed, ErrAuditNotReadable, ErrCredentialNotFound, ErrNoPKI,
	ErrServiceAccountNotFound}

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

// cmpErr returns err if it is set (a storage failure), else sentinel.
func cmpErr(err, sentinel error) error {
	if err != nil {
		return err
	}
	return sentinel
}

// internalUnlessDomain wraps err unless it is one the surfaces map.
func internalUnlessDomain(op string, err error) error {
	if err == nil || isDomainError(err) {
		return err
	}
	return internal(op, err)
}

// isDomainError reports whether err is one the surfaces know how to render:
// anything else is an internal error.
func isDomainError(err error) bool {
	if _, ok := secret.AsViolations(err); ok {
		return true
	}
	for _, e := range knownErrors {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}
