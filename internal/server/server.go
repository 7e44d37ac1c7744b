package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/buildinfo"
	"github.com/seed-3e8d63de/coffer/internal/config"
	"github.com/seed-3e8d63de/coffer/internal/crypto"
	"github.com/seed-3e8d63de/coffer/internal/crypto/keyops"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/central"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/docs"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/iamapi"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/kv2"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/rest"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/sys"
	"github.com/seed-3e8d63de/coffer/internal/httpapi/transit"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/boltstore"
	"github.com/seed-3e8d63de/coffer/internal/storage/memstore"
	"github.com/seed-3e8d63de/coffer/internal/storage/pgstore"
	"github.com/seed-3e8d63de/coffer/internal/webui"
)

// Config configures a server. The zero value is not valid; start from
// [Defaults].
type Config struct {
	Listen      string // address to listen on, default 127.0.0.1:8200
	ConfigFile  string // regions and their storage (internal/config); default: one region on DataDir
	DataDir     string // embedded store directory, default ./coffer-data
	Region      string // region served, default "local"
	PublicURL   string // base URL clients use; derived from Listen if empty
	RootKeyFile string // root key; default <DataDir>/root.key, created on first start
	// Seal is the seal type (internal/seal): "file" (the default), "shamir",
	// "passphrase", "okms" or "transit". It decides a new installation's seal; an existing
	// installation's seal is in its store, and a different Seal is refused.
	Seal string
	// The okms seal's KMS: the OKMS REST API's base URL, the domain
	// (okmsId) and the symmetric service key that wraps the root key; a
	// bearer token, or an access certificate and its key (PEM files); the
	// CA bundle that verifies the KMS (default: the system's roots).
	SealOKMSEndpoint, SealOKMSID, SealOKMSKeyID  string
	SealOKMSToken, SealOKMSCert, SealOKMSCertKey string
	SealOKMSCA                                   string
	// The transit seal's server (Vault, OpenBao, another coffer): its
	// address, token, Transit key and mount path (default "transit/"),
	// and the CA file that verifies it.
	SealTransitAddress, SealTransitToken, SealTransitKeyName string
	SealTransitMountPath, SealTransitCACert                  string
	// SealRetryMax caps the wait between two attempts to unseal through
	// the KMS of an okms or transit seal while it does not answer
	// (autounseal.go); default 30 seconds.
	SealRetryMax time.Duration
	// KDFTime, KDFMemory (KiB) and KDFThreads set the Argon2id cost of a
	// new passphrase seal; zero means RFC 9106's (tests lower them).
	KDFTime, KDFMemory uint32
	KDFThreads         uint8
	RootToken          string // root token to set on first start instead of generating one
	Dev                bool   // in-memory, ephemeral store (implies Storage "memory")
	Storage            string // without ConfigFile: "bolt" (default when empty), "memory" or "postgres"
	PGURL              string // PostgreSQL URL for Storage "postgres"; see package pgstore for TLS and pool settings
	DevRootToken       string // root token in dev mode, default "root"
	AuditFile          string // audit log file (JSON lines); default: the server log
	TLSCert            string // server certificate (PEM); with TLSKey
	TLSKey             string // server key (PEM)
	TLSAuto            bool   // serve TLS from the installation CA even on loopback
	Zone               string // IAM zone, default "eu"
	Account            string // account name, default "coffer"
	// Limits are the optional request-rate and quota limits
	// (reliability-security.md T11); the zero value sets none.
	Limits service.Limits

	Logger *slog.Logger     // default: JSON to stderr
	Out    io.Writer        // where the first-start root token is printed once; default stdout
	Now    func() time.Time // clock; default time.Now

	// LogFlush, if set, waits until everything Logger wrote has reached
	// its output (logio.Writer.Flush, for a log written asynchronously):
	// audit events of state-changing operations, when they go to the log,
	// are then written before the operation proceeds.
	LogFlush func() error

	// ReloadInterval is how often a serving server checks whether the
	// files of TLSCert and TLSKey changed, or AuditFile was moved (log
	// rotation), and reloads them (reload.go); zero: never.
	ReloadInterval time.Duration
	// Reloads, if set, delivers reload requests to a serving server
	// (SIGHUP, a changed configuration file).
	Reloads <-chan Reload
	// Notify, if set, is told of the server's state in the sd_notify
	// protocol's words: "READY=1…" once it serves, "STOPPING=1" when it
	// starts shutting down.
	Notify func(state string)
}

// Defaults returns the default configuration.
func Defaults() Config {
	return Config{Listen: "127.0.0.1:8200", DataDir: "./coffer-data", Region: "local", DevRootToken: "root", Zone: "eu", Account: "coffer"}
}

// Server is a running coffer: its service and HTTP handler.
type Server struct {
	cfg     Config
	log     *slog.Logger
	store   *stores
	svc     *service.Service
	handler http.Handler

	auditFile *audit.FileSink // nil when auditing to the log
	metrics   *metrics        // Prometheus collectors, served at /metrics
	rotating  sync.Mutex      // serialises root key rotations (keys.go)
	sealer    *sealer         // the seal: unseals, seals, and holds the root key
	tls       *tls.Config     // nil: plain HTTP
	publicCA  string          // PEM of the installation CA clients trust, "" if none

	certFiles *certFiles // the pair of --tls-cert and --tls-key, reloadable; nil otherwise

	// retry unseals through the KMS while it does not answer
	// (autounseal.go); nil when not running.
	retry *autoUnseal
}

// New opens the storage, initialises the installation on first start and
// builds the HTTP handler. Close releases the storage.
func New(ctx context.Context, cfg Config) (*Server, error) {
	def := Defaults()
	for _, f := range []struct{ v, d *string }{
		{&cfg.Listen, &def.Listen}, {&cfg.DataDir, &def.DataDir}, {&cfg.Region, &def.Region},
		{&cfg.DevRootToken, &def.DevRootToken}, {&cfg.Zone, &def.Zone}, {&cfg.Account, &def.Account},
	} {
		if *f.v == "" {
			*f.v = *f.d
		}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if cfg.Out == nil {
		cfg.Out = os.Stdout
	}
	log := cfg.Logger
	m := newMetrics()
	store, err := openStores(ctx, cfg, log, m)
	if err != nil {
		return nil, err
	}
	sl, err := newSealer(ctx, cfg, store.raws, store.region, log)
	if err != nil {
		store.Close()
		return nil, err
	}
	var sink audit.Sink = audit.SlogSink{Logger: log, Flush: cfg.LogFlush}
	var auditFile *audit.FileSink
	if cfg.AuditFile != "" {
		if auditFile, err = audit.OpenFile(cfg.AuditFile); err != nil {
			store.Close()
			return nil, err
		}
		sink = auditFile
	}
	svc := service.New(service.Options{
		Sealer: sl, Audit: m.counted(sink), Logger: log, Now: cfg.Now,
		Zone: cfg.Zone, Account: cfg.Account, Region: store.region, Certs: certIssuer{}, Limits: cfg.Limits,
		Keys:    keyops.New(nil),
		Cursors: crypto.NewTokenSealer("coffer list cursors"),
	})
	m.sealed = svc.Sealed // coffer_sealed
	store.regions = svc.Stores()
	store.system = store.regions[store.region]
	m.delayedLogins(svc)
	token := cfg.RootToken
	if cfg.Dev {
		token = cfg.DevRootToken
	}
	s := &Server{cfg: cfg, log: log, store: store, svc: svc, auditFile: auditFile, metrics: m, sealer: sl}
	res, err := svc.Start(ctx, service.InitOptions{RootToken: token})
	switch {
	case errors.Is(err, service.ErrSealed) && sl.kmsSeal():
		// The KMS did not answer: serve sealed (503) and try again.
		log.Warn("sealed: the KMS did not unwrap the root key; retrying until it does", "seal", sl.sealType(ctx), "err", err)
		s.startAutoUnseal(token)
	case errors.Is(err, service.ErrSealed):
		st, _ := svc.SealStatus(ctx)
		if st.Initialized {
			log.Warn("sealed: unseal with `coffer operator unseal` (or PUT /v1/sys/unseal)", "seal", st.Type, "threshold", st.T, "shares", st.N)
		} else {
			log.Warn("not initialized: initialise with `coffer operator init` (or PUT /v1/sys/init), then unseal", "seal", st.Type)
		}
	case err != nil:
		s.Close()
		return nil, fmt.Errorf("initialise: %w", err)
	default:
		s.started(res)
	}
	if s.tls, s.publicCA, s.certFiles, err = tlsConfig(cfg, log); err != nil {
		s.Close()
		return nil, err
	}
	s.handler = s.routes()
	return s, nil
}

// started reports a start that unsealed: a new installation's root token
// is printed once, to the terminal, never to the log.
func (s *Server) started(res service.InitResult) {
	if res.Created {
		s.log.Info("initialised a new installation", "default_domain", res.DefaultDomain, "region", s.store.region)
		if res.RootToken != "" {
			fmt.Fprintf(s.cfg.Out, "\ncoffer: this is the first start. The root token is shown once; keep it safe:\n\n    %s\n\n", res.RootToken)
		}
	}
	s.log.Info("default OKMS domain", "okms_id", res.DefaultDomain)
}

// stores are the region stores of an installation.
type stores struct {
	system  storage.Backend            // the default region's store: IAM and the domain registry live there too
	regions map[string]storage.Backend // region id → its store as the service sees it (sealed: ErrSealed)
	region  string                     // the default region
	raws    map[string]storage.Backend // region id → its raw store, under the encryption layer
}

// Close closes every raw region store.
func (st *stores) Close() error {
	var errs []error
	for _, b := range st.raws {
		errs = append(errs, b.Close())
	}
	return errors.Join(errs...)
}

// regionsOf returns the regions to serve: those the configuration file
// declares, or one region (--region) on the storage the flags choose.
func regionsOf(cfg Config) (config.File, error) {
	if cfg.ConfigFile != "" {
		if f, declared, err := config.LoadRegions(cfg.ConfigFile); err != nil || declared {
			return f, err
		}
	}
	st := config.Storage{Type: config.StorageBolt, Path: filepath.Join(cfg.DataDir, "coffer.db")}
	switch {
	case cfg.Dev || cfg.Storage == config.StorageMemory:
		st = config.Storage{Type: config.StorageMemory}
	case cfg.Storage == config.StoragePostgres:
		// The root key is still <data-dir>/root.key unless --root-key-file
		// is given, and every node on the database must use the same key.
		if cfg.PGURL == "" {
			return config.File{}, errors.New("storage postgres needs a PostgreSQL URL (--pg-url or COFFER_PG_URL)")
		}
		st = config.Storage{Type: config.StoragePostgres, URL: cfg.PGURL}
	case cfg.Storage != "" && cfg.Storage != config.StorageBolt:
		return config.File{}, fmt.Errorf("storage %q is not one of bolt, memory, postgres", cfg.Storage)
	}
	return config.File{DefaultRegion: cfg.Region, Regions: []config.Region{{ID: cfg.Region, Storage: st}}}, nil
}

// openStores opens every region's raw backend. Each region's data stays
// in its own storage.
func openStores(ctx context.Context, cfg Config, log *slog.Logger, m *metrics) (*stores, error) {
	file, err := regionsOf(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Dev {
		log.Warn("dev mode: secrets are kept in memory and lost when the server stops")
	} else if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory: %w", err)
	}
	raws := map[string]storage.Backend{}
	for _, r := range file.Regions {
		raw, err := openBackend(ctx, cfg, r.Storage)
		if err != nil {
			for _, b := range raws {
				b.Close()
			}
			return nil, fmt.Errorf("region %s: %w", r.ID, err)
		}
		raws[r.ID] = m.timed(r.ID, raw)
	}
	// The encryption layer goes over the raw stores once the seal gives
	// the root key (sealer.go).
	return &stores{raws: raws, region: file.DefaultRegion}, nil
}

// openBackend opens one raw backend: an explicit switch, no registry.
func openBackend(ctx context.Context, _ Config, spec config.Storage) (storage.Backend, error) {
	switch spec.Type {
	case config.StoragePostgres:
		return pgstore.Open(ctx, spec.URL, pgstore.Options{})
	case config.StorageMemory:
		return memstore.New(), nil
	case config.StorageBolt:
		if err := os.MkdirAll(filepath.Dir(spec.Path), 0o700); err != nil {
			return nil, fmt.Errorf("directory of %s: %w", spec.Path, err)
		}
		return boltstore.Open(spec.Path, boltstore.Options{})
	}
	return nil, fmt.Errorf("storage type %q is not supported", spec.Type)
}

// rootKey loads the root key, creating <data-dir>/root.key on the first
// start when no key file is configured.
func rootKey(ctx context.Context, cfg Config, raws map[string]storage.Backend, log *slog.Logger) (crypto.Key, error) {
	if cfg.RootKeyFile != "" {
		return crypto.LoadRootKeyFile(cfg.RootKeyFile)
	}
	path := filepath.Join(cfg.DataDir, "root.key")
	k, err := crypto.LoadRootKeyFile(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return k, err
	}
	for id, raw := range raws {
		used := false
		err := raw.View(ctx, func(tx storage.Tx) error {
			keys, err := tx.List("", "", 1)
			used = len(keys) > 0
			return err
		})
		if err != nil {
			return crypto.Key{}, fmt.Errorf("region %s: %w", id, err)
		}
		if used {
			return crypto.Key{}, fmt.Errorf("region %s already holds an installation but there is no root key at %s: give its key with --root-key-file (every node of an installation uses the same key)", id, path)
		}
	}
	k, err = crypto.CreateRootKeyFile(path, rand.Reader)
	if err != nil {
		return crypto.Key{}, err
	}
	log.Warn("generated a new root key beside the data; move it elsewhere and pass --root-key-file for production", "path", path)
	return k, nil
}

// Handler returns the server's HTTP handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Service returns the server's service (tests and tools).
func (s *Server) Service() *service.Service { return s.svc }

// DefaultDomain returns the default OKMS domain id ("" while sealed on a
// first start).
func (s *Server) DefaultDomain() string { return s.svc.DefaultDomain() }

// TLSConfig returns the server's TLS configuration, nil for plain HTTP.
func (s *Server) TLSConfig() *tls.Config { return s.tls }

// Close waits for background work (domain creations), then releases the
// storage and the audit file.
func (s *Server) Close() error {
	s.stopAutoUnseal()
	s.svc.Close()
	err := errors.Join(s.sealer.Seal(context.Background()), s.store.Close())
	if s.auditFile != nil {
		err = errors.Join(err, s.auditFile.Close())
	}
	return err
}

// serverHeader is the Server header of every response: the release
// version, never the exact revision of the build (a pseudo-version names
// the commit), which is for /metrics and coffer version.
var serverHeader = "coffer/" + buildinfo.Read().Release()

// hsts is the Strict-Transport-Security of every response over TLS: two
// years, as the HSTS preload list asks, without includeSubDomains, which
// would bind hosts coffer does not serve.
const hsts = "max-age=63072000"

// routes mounts every surface on one handler. Dispatch is by prefix rather
// than through one ServeMux so that each surface receives its requests
// unmodified (ServeMux would redirect non-canonical secret paths) and
// answers every error, "no route" included, in its own envelope.
func (s *Server) routes() http.Handler {
	publicURL := s.cfg.PublicURL
	if publicURL == "" {
		publicURL = "http://" + s.cfg.Listen
		if s.tls != nil {
			publicURL = "https://" + s.cfg.Listen
		}
	}
	restAPI := rest.New(s.svc, s.log)
	centralAPI := central.New(s.svc, s.log, publicURL, s.publicCA)
	vaultAPI := kv2.New(s.svc, s.log)
	transitAPI := transit.New(s.svc, s.log)
	iamAPI := iamapi.New(s.svc, s.log)
	sysAPI := sys.New(s.svc, operator{s}, s.log)
	// The web panel; its cookies are Secure under TLS, or when clients
	// reach coffer over HTTPS through a proxy.
	panel := webui.New(webui.Options{Service: s.svc, Logger: s.log, Now: s.cfg.Now,
		SecureCookies: strings.HasPrefix(publicURL, "https://"), PublicURL: publicURL, PublicCA: s.publicCA})
	mux := http.NewServeMux()
	// Readiness (the storage answers) and Prometheus metrics, beside
	// liveness; none needs a token, and none carries secret data.
	mux.HandleFunc("GET /readyz", s.ready)
	mux.Handle("GET /metrics", s.metrics.handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok", "version": buildinfo.String()})
	})
	// The OpenAPI document of surfaces A and B and identity management, and
	// its readable page: the swaggerEndpoint of every domain.
	mux.Handle("GET /docs", docs.PageHandler())
	mux.Handle("GET /docs/openapi.json", docs.DocumentHandler())
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		httpapi.WriteJSON(w, http.StatusNotFound, map[string][]string{"errors": {"no route matches " + r.Method + " " + r.URL.EscapedPath()}})
	})
	root := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", serverHeader)
		if r.TLS != nil {
			// Browsers (the panel) and clients keep to HTTPS for a year
			// (RFC 6797); over plain HTTP the header means nothing.
			w.Header().Set("Strict-Transport-Security", hsts)
		}
		p := r.URL.Path
		switch {
		case transit.Matches(p):
			// The Vault Transit surface, default or named domain (issue 16).
			transitAPI.ServeHTTP(w, r)
		case strings.HasPrefix(p, "/v1/"):
			// Surface C on the default domain (vault-kv2.md section 1).
			vaultAPI.ServeHTTP(w, r)
		case rest.HasKeyPrefix(p):
			// Surface B's service keys and random bytes, beside surface C
			// under /api/{okmsId}/v1/.
			restAPI.ServeHTTP(w, r)
		case kv2.HasDomainPrefix(p):
			// Surface C on the domain named by /api/{okmsId}/v1/.
			vaultAPI.ServeHTTP(w, r)
		case strings.HasPrefix(p, "/api/"):
			restAPI.ServeHTTP(w, r)
		case strings.HasPrefix(p, iamapi.PrefixIdentity), strings.HasPrefix(p, iamapi.PrefixPolicy),
			strings.HasPrefix(p, iamapi.PrefixAuth):
			// Identity management and the OAuth2 token endpoint (iam.md
			// 7.2, 7.4); /v2/iam/ before the rest of /v2/, which is
			// surface A.
			iamAPI.ServeHTTP(w, r)
		case strings.HasPrefix(p, "/v2/"):
			centralAPI.ServeHTTP(w, r)
		case strings.HasPrefix(p, sys.Prefix):
			// Key management, backup and restore (internal/httpapi/sys).
			sysAPI.ServeHTTP(w, r)
		case strings.HasPrefix(p, webui.Prefix):
			panel.ServeHTTP(w, r)
		case p == "/" && (r.Method == http.MethodGet || r.Method == http.MethodHead), p == "/ui":
			// The control panel is what a person finds at the root.
			http.Redirect(w, r, webui.Prefix, http.StatusFound)
		default:
			mux.ServeHTTP(w, r)
		}
	})
	return httpapi.MiddlewareWith(s.log, s.metrics.observe, root)
}

// Serve serves HTTP on ln until ctx is done, then shuts down gracefully,
// letting requests in flight finish for up to 10 seconds.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	scheme := "http"
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
		scheme = "https"
	}
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch()
	go s.watch(wctx) // reloads (reload.go)
	s.notify("READY=1\nSTATUS=serving " + scheme + " on " + ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	bi := buildinfo.Read()
	s.log.Info("listening", "addr", ln.Addr().String(), "scheme", scheme, "version", bi.Version,
		"revision", bi.Revision, "vcs_time", bi.Time, "modified", bi.Modified, "go_version", bi.GoVersion)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// Run builds a server from cfg, listens on cfg.Listen and serves until ctx
// is done.
func Run(ctx context.Context, cfg Config) error {
	s, err := New(ctx, cfg)
	if err != nil {
		return err
	}
	defer s.Close()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}
