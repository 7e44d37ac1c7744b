package service

import (
	"context"
	"errors"

	"github.com/seed-3e8d63de/coffer/internal/secret"
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
)

// knownErrors are the errors every surface knows how to render; anything
// else that reaches a surface is an internal error.
var knownErrors = []error{
	secret.ErrNotFound, secret.ErrVersionNotFound, secret.ErrExists,
	secret.ErrCASRequired, secret.ErrCASMismatch, secret.ErrTransition, secret.ErrVersionLimit,
	secret.ErrVersionInactive, ErrDomainNotFound, ErrDenied, ErrUnauthenticated, ErrAuditUnavailable,
	ErrRegionNotFound, ErrDomainNotReady, ErrConfirmationRequired, ErrTooManyRequests,
	context.Canceled, context.DeadlineExceeded,
}
