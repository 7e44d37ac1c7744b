package server

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/buildinfo"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/kv2"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/transit"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
)

// metrics are the Prometheus collectors of one server, in a registry of
// its own so that several servers can run in one process (tests).
//
// Labels are bounded and never carry secret data (reliability-security.md
// 6): surfaces, route patterns (never the path of a request), normalised
// methods, status codes, region ids, IAM action names and audit outcomes.
type metrics struct {
	reg       *prometheus.Registry
	requests  *prometheus.CounterVec   // surface, route, method, code
	latency   *prometheus.HistogramVec // surface, route
	storage   *prometheus.HistogramVec // region, op
	denials   *prometheus.CounterVec   // surface, action
	authFails *prometheus.CounterVec   // surface
	logins    *prometheus.CounterVec   // outcome of password checks refused or failed
	integrity prometheus.Counter
	audits    *prometheus.CounterVec // outcome

	unavailable   *prometheus.CounterVec // region
	auditFailures *prometheus.CounterVec // phase
	// sealed reports whether the server is sealed (coffer_sealed): the
	// service's state, set by New.
	sealed func() bool
}

func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_http_requests_total",
			Help: "HTTP requests answered, by API surface (A, B, C, transit, iam, ui, system), route pattern, method and status code.",
		}, []string{"surface", "route", "method", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "coffer_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by API surface and route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"surface", "route"}),
		storage: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "coffer_storage_operation_duration_seconds",
			Help:    "Duration of storage transactions (view: read-only, update: read-write and durable), by region, below the encryption layer.",
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"region", "op"}),
		denials: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_authorization_denials_total",
			Help: "Requests of authenticated callers refused by IAM policy, by API surface and IAM action.",
		}, []string{"surface", "action"}),
		authFails: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_authentication_failures_total",
			Help: "Requests refused for want of a valid credential, by API surface.",
		}, []string{"surface"}),
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_login_refusals_total",
			Help: "Password sign-ins refused, by reason: wrong (login or password), delayed (the login's failure budget), address (the client address's), busy (every hashing slot taken).",
		}, []string{"reason"}),
		integrity: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "coffer_integrity_failures_total",
			Help: "Requests failed because a stored record did not open (altered or moved).",
		}),
		audits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_audit_events_total",
			Help: "Audit events recorded, by outcome.",
		}, []string{"outcome"}),
		unavailable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_storage_unavailable_total",
			Help: "Storage transactions that failed because the storage could not be reached (a database down, restarting or failing over, no free connection), by region; their requests were answered 503.",
		}, []string{"region"}),
		auditFailures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coffer_audit_failures_total",
			Help: "Audit events that could not be written, by phase: request (the operation was refused, 503) or response (the operation was done, its response event lost).",
		}, []string{"phase"}),
		sealed: func() bool { return false },
	}
	sealed := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "coffer_sealed",
		Help: "1 while the server is sealed (it holds no root key and answers 503), else 0.",
	}, func() float64 {
		if m.sealed() {
			return 1
		}
		return 0
	})
	bi := buildinfo.Read()
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "coffer_build_info",
		Help:        "Always 1; the module version, VCS revision and Go version of the running binary as labels.",
		ConstLabels: prometheus.Labels{"version": bi.Version, "revision": bi.Revision, "goversion": bi.GoVersion},
	})
	info.Set(1)
	m.reg.MustRegister(m.requests, m.latency, m.storage, m.denials, m.authFails, m.logins, m.integrity, m.audits, info,
		m.unavailable, m.auditFailures, sealed,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// observe is the httpapi.Observer of the server's middleware.
func (m *metrics) observe(r *http.Request, route string, status int, elapsed time.Duration) {
	surface := surfaceOf(r.URL.Path)
	route = routeLabel(route)
	m.requests.WithLabelValues(surface, route, methodLabel(r.Method), strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(surface, route).Observe(elapsed.Seconds())
}

var _ httpapi.Observer = (*metrics)(nil).observe

// surfaceOf names the API surface of a URL path, as the server routes it.
func surfaceOf(p string) string {
	switch {
	case transit.Matches(p):
		return "transit"
	case strings.HasPrefix(p, "/v1/"), kv2.HasDomainPrefix(p):
		return "C"
	case strings.HasPrefix(p, "/api/"):
		return "B"
	case strings.HasPrefix(p, "/1.0/"), strings.HasPrefix(p, "/v2/iam/"):
		return "iam"
	case strings.HasPrefix(p, "/v2/"):
		return "A"
	case strings.HasPrefix(p, "/ui"):
		return "ui"
	}
	return "system"
}

// routeLabel strips the method from a ServeMux pattern ("GET /healthz")
// and names requests no route matched. Patterns come from the routing
// tables, so the label set is bounded and holds no request path.
func routeLabel(pattern string) string {
	if _, p, ok := strings.Cut(pattern, " "); ok {
		pattern = p
	}
	if pattern == "" {
		return "unmatched"
	}
	return pattern
}

// methodLabel keeps the methods coffer serves and folds every other token
// into "OTHER": clients choose methods, and labels must stay bounded.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodOptions, "LIST":
		return m
	}
	return "OTHER"
}

// timedBackend measures the latency of a backend's transactions. Unwrap
// keeps the backend's optional capabilities reachable (storage.NotifierOf).
// It also counts the transactions that fail because the storage cannot
// be reached.
type timedBackend struct {
	storage.Backend
	view, update prometheus.Observer
	unavailable  prometheus.Counter
}

func (m *metrics) timed(region string, b storage.Backend) storage.Backend {
	return &timedBackend{Backend: b,
		view: m.storage.WithLabelValues(region, "view"), update: m.storage.WithLabelValues(region, "update"),
		unavailable: m.unavailable.WithLabelValues(region)}
}

func (b *timedBackend) View(ctx context.Context, fn func(storage.Tx) error) error {
	start := time.Now()
	err := b.Backend.View(ctx, fn)
	b.view.Observe(time.Since(start).Seconds())
	b.count(err)
	return err
}

// GetMany implements [storage.MultiGetter], timed as a view.
func (b *timedBackend) GetMany(ctx context.Context, keys []string) ([][]byte, error) {
	start := time.Now()
	vals, err := storage.GetMany(ctx, b.Backend, keys)
	b.view.Observe(time.Since(start).Seconds())
	b.count(err)
	return vals, err
}

func (b *timedBackend) Update(ctx context.Context, fn func(storage.Tx) error) error {
	start := time.Now()
	err := b.Backend.Update(ctx, fn)
	b.update.Observe(time.Since(start).Seconds())
	b.count(err)
	return err
}

func (b *timedBackend) count(err error) {
	if err != nil && errors.Is(err, storage.ErrUnavailable) {
		b.unavailable.Inc()
	}
}

// Unwrap returns the measured backend.
func (b *timedBackend) Unwrap() storage.Backend { return b.Backend }

// countingSink counts the audit events on their way to the sink:
// authorization denials, failed authentications and integrity failures.
type countingSink struct {
	next audit.Sink
	m    *metrics
}

// countingReader is a countingSink whose sink can be read back
// (GET /v2/iam/audit).
type countingReader struct {
	countingSink
	audit.Reader
}

// counted wraps sink, keeping its ability to be read back.
func (m *metrics) counted(sink audit.Sink) audit.Sink {
	c := countingSink{next: sink, m: m}
	if r, ok := sink.(audit.Reader); ok {
		return countingReader{countingSink: c, Reader: r}
	}
	return c
}

func (c countingSink) Record(ctx context.Context, e audit.Event) error {
	err := c.next.Record(ctx, e)
	if err != nil {
		// The one event of an operation that changes nothing refuses the
		// operation as a request event does.
		phase := "request"
		if e.Phase == audit.PhaseResponse {
			phase = "response"
		}
		c.m.auditFailures.WithLabelValues(phase).Inc()
	}
	switch {
	case e.Action == "authenticate" && e.Outcome == audit.Denied:
		// A refused authentication has one event, no pair.
		c.m.authFails.WithLabelValues(surfaceLabel(e.Surface)).Inc()
		if r, ok := loginReasons[e.Reason]; ok {
			c.m.logins.WithLabelValues(r).Inc()
		}
	case e.Phase != audit.PhaseResponse && e.Phase != audit.PhaseRequestResponse:
		return err // a request is counted once, at its response event
	case e.Outcome == audit.Denied:
		c.m.denials.WithLabelValues(surfaceLabel(e.Surface), e.Action).Inc()
	case e.Reason == "integrity":
		c.m.integrity.Inc()
	}
	c.m.audits.WithLabelValues(e.Outcome).Inc()
	return err
}

// loginReasons label the refusals of password checks (service
// passwords.go) by their audit reason.
var loginReasons = map[string]string{
	service.ReasonWrongPassword: "wrong", service.ReasonLoginDelayed: "delayed",
	service.ReasonAddressLimited: "address", service.ReasonBusy: "busy",
}

// delayedLogins exposes how many logins wait out a delay now.
func (m *metrics) delayedLogins(svc *service.Service) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "coffer_logins_delayed",
		Help: "Logins (or trusted addresses of a login) whose next password sign-in must wait after repeated failures.",
	}, func() float64 { return float64(svc.DelayedLogins()) }))
}

// surfaceLabel keeps the surfaces the service names in audit events.
func surfaceLabel(s string) string {
	switch s {
	case "A", "B", "C", "iam", "sys", "ui":
		return s
	}
	return "other"
}

// ready answers GET /readyz: 200 when the system store answers a read
// within two seconds, else 503 (the process lives but cannot serve).
func (s *Server) ready(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	err := s.store.system.View(ctx, func(tx storage.Tx) error {
		_, err := tx.List("sys/", "", 1)
		return err
	})
	if errors.Is(err, service.ErrSealed) {
		httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "sealed", "errors": []string{"coffer is sealed"}})
		return
	}
	if err != nil {
		s.log.WarnContext(ctx, "readiness check failed", "err", err)
		httpapi.SetRetryAfter(w, http.StatusServiceUnavailable)
		httpapi.WriteJSON(w, http.StatusServiceUnavailable, map[string]any{"status": "unavailable", "errors": []string{"the storage does not answer"}})
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}
