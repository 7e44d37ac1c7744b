package httpapi

import (
	"errors"
	"net/http"

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
	var (
		p   auth.Principal
		err error
	)
	switch tok := Token(r); {
	case tok != "":
		p, err = svc.Authenticate(r.Context(), tok)
	case domain != "" && r.TLS != nil && len(r.TLS.PeerCertificates) > 0:
		p, err = svc.AuthenticateCertificate(r.Context(), domain, r.TLS.PeerCertificates[0].Raw)
	default:
		err = service.ErrUnauthenticated
	}
	if errors.Is(err, service.ErrUnauthenticated) && svc.AuthFailed(r.RemoteAddr) {
		// iam.md 7.1: failed authentications are limited per address.
		return auth.Principal{}, service.ErrTooManyRequests
	}
	if err != nil {
		return auth.Principal{}, err
	}
	NotePrincipal(r.Context(), p.Name)
	return p, nil
}
