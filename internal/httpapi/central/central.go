package central

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// API serves surface A.
type API struct {
	svc       *service.Service
	log       *slog.Logger
	publicURL string
	mux       *http.ServeMux
}

// New returns surface A over svc; publicURL is the base URL clients reach
// coffer at, used for the endpoints of each domain.
func New(svc *service.Service, log *slog.Logger, publicURL string) *API {
	a := &API{svc: svc, log: log, publicURL: strings.TrimRight(publicURL, "/"), mux: http.NewServeMux()}
	a.handle("GET /v2/okms/resource", a.listDomains)
	a.handle("/v2/okms/resource", func(http.ResponseWriter, *http.Request) error { return errMethodNotAllowed })
	a.handle("/v2/", func(http.ResponseWriter, *http.Request) error { return errRouteNotFound })
	return a
}

func (a *API) handle(pattern string, h httpapi.Handler) {
	a.mux.Handle(pattern, httpapi.Wrap(a.writeError, a.log, h))
}

// ServeHTTP serves a request under /v2/.
func (a *API) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Ovh-QueryID", httpapi.RequestID(r.Context()))
	a.mux.ServeHTTP(w, r)
}

// domainIAM is the iam block of a domain (iam.ResourceMetadata).
type domainIAM struct {
	ID          string  `json:"id"`
	URN         string  `json:"urn"`
	DisplayName string  `json:"displayName"`
	Tags        *string `json:"tags"`
	State       string  `json:"state"`
}

// domainResponse is okms.resource.ResponseWithIAM, without the counters
// that arrive with the domain lifecycle.
type domainResponse struct {
	ID              string    `json:"id"`
	Region          string    `json:"region"`
	RestEndpoint    string    `json:"restEndpoint"`
	KmipEndpoint    string    `json:"kmipEndpoint"`
	KmipRsaEndpoint *string   `json:"kmipRsaEndpoint"`
	PublicRsaCA     *string   `json:"publicRsaCA"`
	SwaggerEndpoint string    `json:"swaggerEndpoint"`
	IAM             domainIAM `json:"iam"`
}

// listDomains serves GET /v2/okms/resource (okms-rest.md 5.3).
func (a *API) listDomains(w http.ResponseWriter, r *http.Request) error {
	c, err := a.caller(r)
	if err != nil {
		return err
	}
	ds, err := a.svc.ListDomains(r.Context(), c)
	if err != nil {
		return err
	}
	out := make([]domainResponse, len(ds))
	for i, d := range ds {
		out[i] = domainResponse{
			ID: d.ID, Region: d.Region, RestEndpoint: a.publicURL, SwaggerEndpoint: a.publicURL + "/docs",
			IAM: domainIAM{ID: d.ID, URN: a.svc.DomainURN(d.ID), DisplayName: d.DisplayName, State: "OK"},
		}
	}
	httpapi.WriteJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) caller(r *http.Request) (service.Caller, error) {
	tok := httpapi.Token(r)
	if tok == "" {
		return service.Caller{}, service.ErrUnauthenticated
	}
	p, err := a.svc.Authenticate(r.Context(), tok)
	if err != nil {
		return service.Caller{}, err
	}
	httpapi.NotePrincipal(r.Context(), p.Name)
	return service.Caller{Principal: p, Dialect: service.Central, Surface: "A",
		RequestID: httpapi.RequestID(r.Context()), RemoteAddr: r.RemoteAddr}, nil
}

var (
	errRouteNotFound    = errors.New("no route matches this request")
	errMethodNotAllowed = errors.New("method not allowed on this route")
)

// ovhError is the OVH API error envelope.
type ovhError struct {
	Class   string `json:"class"`
	Message string `json:"message"`
}

var table = []struct {
	err    error
	status int
	class  string
	msg    string
}{
	{errRouteNotFound, 404, "Client::NotFound::RouteNotFound", ""},
	{errMethodNotAllowed, 405, "Client::MethodNotAllowed", ""},
	{service.ErrUnauthenticated, 401, "Client::Unauthorized", "missing or invalid credentials"},
	{service.ErrDenied, 403, "Client::Forbidden", "permission denied"},
	{service.ErrAuditUnavailable, 503, "Server::ServiceUnavailable", "the audit log is unavailable; try again later"},
}

func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	for _, row := range table {
		if errors.Is(err, row.err) {
			msg := row.msg
			if msg == "" {
				msg = row.err.Error()
			}
			httpapi.WriteJSON(w, row.status, ovhError{Class: row.class, Message: msg})
			return
		}
	}
	a.log.ErrorContext(r.Context(), "request failed", "err", err, "request_id", httpapi.RequestID(r.Context()))
	httpapi.WriteJSON(w, http.StatusInternalServerError, ovhError{Class: "Server::InternalServerError",
		Message: "internal error; request id " + httpapi.RequestID(r.Context())})
}
