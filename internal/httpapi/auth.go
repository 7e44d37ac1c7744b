package httpapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/auth"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Authenticate returns the principal of a request (iam.md 7.1): its bearer
// token if it carries one (a token wins over a certificate), else the client
// certificate verified during the TLS handshake, which must be an access
// certificate of domain (data-plane routes; pass "" where certificates are
// not accepted). It returns service.ErrUnauthenticated when the request
// carries no usable credential. The caller is recorded on the access log.
func Authenticate(r *http.Request, svc *service.Service, domain string) (auth.Principal, error) {
	return authenticate(r, svc, Token(r), domain)
}

// TokenCaller authenticates a request by its token alone (routes that
// belong to no OKMS domain, where no access certificate is valid) and
// describes it for the service as a call through surface.
func TokenCaller(r *http.Request, svc *service.Service, surface string) (service.Caller, error) {
	p, err := Authenticate(r, svc, "")
	if err != nil {
		return service.Caller{}, err
	}
	return service.Caller{Principal: p, Surface: surface, RequestID: RequestID(r.Context()), RemoteAddr: r.RemoteAddr}, nil
}

// AuthenticateBearer is Authenticate for surfaces that accept only an
// Authorization: Bearer token (surface A, okms-rest.md 1).
func AuthenticateBearer(r *http.Request, svc *service.Service) (auth.Principal, error) {
	tok := ""
	if a := r.Header.Get("Authorization"); len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		tok = strings.TrimSpace(a[7:])
	}
	return authenticate(r, svc, tok, "")
}

func authenticate(r *http.Request, svc *service.Service, tok, domain string) (auth.Principal, error) {
	if svc.Sealed() {
		// Before the credential: a sealed server says so to anyone.
		return auth.Principal{}, service.ErrSealed
	}
	var (
		p   auth.Principal
		err error
	)
	switch {
	case tok != "":
		p, err = svc.Authenticate(r.Context(), tok)
	case domain != "" && r.TLS != nil && len(r.TLS.PeerCertificates) > 0:
		p, err = svc.AuthenticateCertificate(r.Context(), domain, r.TLS.PeerCertificates[0].Raw)
	default:
		err = service.ErrUnauthenticated
	}
	if errors.Is(err, service.ErrUnauthenticated) {
		svc.AuditUnauthenticated(r.Context(), surfaceOf(r.URL.Path), RequestID(r.Context()), r.RemoteAddr,
			r.URL.EscapedPath(), "no valid credential")
		if svc.AuthFailed(r.RemoteAddr) {
			// iam.md 7.1: failed authentications are limited per address.
			return auth.Principal{}, service.ErrTooManyRequests
		}
	}
	if err != nil {
		return auth.Principal{}, err
	}
	NotePrincipal(r.Context(), p.Name)
	if !svc.AllowRequest(p) {
		// reliability-security.md 8: the optional per-identity rate limit.
		return auth.Principal{}, service.ErrRateLimited
	}
	return p, nil
}

// surfaceOf names the API surface of a request path, for the audit log.
func surfaceOf(path string) string {
	switch {
	case strings.HasPrefix(path, "/v1/"):
		return "C"
	case strings.HasPrefix(path, "/v2/okms/"):
		return "A"
	case strings.HasPrefix(path, "/api/"):
		if strings.Contains(path, "/v1/") {
			return "C"
		}
		return "B"
	}
	return "iam"
}
