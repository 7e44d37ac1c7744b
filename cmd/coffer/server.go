package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"time"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/internal/logio"
	"github.com/seed-3e8d63de/coffer/internal/server"
)

func newServerCmd(e *env) *cobra.Command {
	cfg := server.Defaults()
	var (
		logLevel    = new(slog.LevelVar)
		cpuProfile  string
		printConfig bool
		lf          limitFlags
	)
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the coffer server",
		Long: `Run the coffer server.

By default it stores secrets, encrypted, in an embedded database under
--data-dir and listens on 127.0.0.1:8200. On the first start it creates the
root key (<data-dir>/root.key, unless --root-key-file is given), the first
OKMS domain and the root token, which it prints once.

With --storage postgres it keeps the data in PostgreSQL instead (--pg-url),
creating and migrating its tables itself, and any number of servers may run
on the same database. They must all unseal with the same root key: copy the
first server's <data-dir>/root.key to every node, or give each the same
--root-key-file. Prefer COFFER_PG_URL, or a ~/.pgpass file, to a password
on the command line; add sslmode=verify-full to the URL for TLS to the
database. To move an embedded installation to PostgreSQL, see
` + "`coffer operator migrate`" + `.

Every flag can also be set through the environment variable named in its
help, and in the configuration file given with --config under its name in
lowerCamelCase (--data-dir is dataDir; docs/configuration.md lists every
key). A flag given on the command line wins over the environment, which wins
over the file. --print-config shows the result, secrets redacted.`,
		Example: `  # Run on the embedded store in ./coffer-data
  coffer server

  # Try it out: in memory, root token "root"
  coffer server --dev

  # Run on PostgreSQL, with the installation's root key
  COFFER_PG_URL='postgres://coffer@db.example.com/coffer?sslmode=verify-full' \
    coffer server --storage postgres --root-key-file /etc/coffer/root.key

  # Run from a configuration file; show what it amounts to first
  coffer server --config /etc/coffer/server.yaml --print-config
  coffer server --config /etc/coffer/server.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			settings, err := layerSettings(cmd.Flags(), e.getenv, cfg.ConfigFile)
			if err != nil {
				return err
			}
			if printConfig {
				b, err := printSettings(settings)
				if err != nil {
					return err
				}
				_, err = e.stdout.Write(b)
				return err
			}
			if err := checkStorage(cfg, settings.regions != nil); err != nil {
				return usageError{err}
			}
			cfg.Limits = limitsOf(cmd.Flags())
			// The log is written in batches from a goroutine of its own
			// (three lines per request: access log and audit pair);
			// audit events of writes still reach stderr before the write
			// proceeds (LogFlush). See docs/performance.md.
			tuneGC(e.getenv)
			if cpuProfile != "" {
				stop, err := startCPUProfile(cpuProfile)
				if err != nil {
					return err
				}
				defer stop()
			}
			lw := logio.NewWriter(e.stderr)
			defer lw.Close()
			cfg.Logger = slog.New(logio.NewJSONHandler(lw, &slog.HandlerOptions{Level: logLevel}))
			cfg.LogFlush = lw.Flush
			cfg.Out = e.stdout
			if cfg.RootToken == "" {
				cfg.RootToken = e.getenv("COFFER_INIT_ROOT_TOKEN")
			}
			// SIGHUP and a changed configuration file reload what can be
			// reloaded (reload.go).
			ctx, cancel := context.WithCancel(cmd.Context())
			defer cancel()
			reloads := make(chan server.Reload)
			cfg.Reloads = reloads
			// Readiness for systemd's Type=notify (sdnotify.go).
			cfg.Notify = func(state string) {
				if err := sdNotify(e.getenv("NOTIFY_SOCKET"), state); err != nil {
					cfg.Logger.Warn("sd_notify failed", "err", err)
				}
			}
			(&reloader{e: e, running: cmd.Flags(), regions: settings.regions, path: cfg.ConfigFile,
				log: cfg.Logger, out: reloads, every: cfg.ReloadInterval}).start(ctx)
			return server.Run(ctx, cfg)
		},
	}
	f := cmd.Flags()
	envString := func(p *string, name, envName, usage string) {
		if v := e.getenv(envName); v != "" {
			*p = v
		}
		f.StringVar(p, name, *p, usage+" ("+envName+")")
		_ = f.SetAnnotation(name, annotEnv, []string{envName})
	}
	envString(&cfg.Listen, "listen", "COFFER_LISTEN", "address to listen on")
	envString(&cfg.ConfigFile, "config", "COFFER_CONFIG", "configuration file: any of the settings below, and the regions served with their storage (docs/configuration.md)")
	f.BoolVar(&printConfig, "print-config", false, "print the effective configuration (flags, environment, file and defaults), secrets redacted, and exit")
	envString(&cfg.DataDir, "data-dir", "COFFER_DATA_DIR", "directory of the embedded store")
	cfg.Storage = "bolt"
	envString(&cfg.Storage, "storage", "COFFER_STORAGE", "where secrets are stored unless the configuration file declares regions: bolt (embedded, in --data-dir), postgres (--pg-url) or memory")
	envString(&cfg.PGURL, "pg-url", "COFFER_PG_URL", "PostgreSQL URL for --storage postgres, e.g. postgres://coffer@db/coffer?sslmode=verify-full")
	envString(&cfg.Region, "region", "COFFER_REGION", "region this server serves")
	envString(&cfg.RootKeyFile, "root-key-file", "COFFER_ROOT_KEY_FILE", "file holding the root key (default <data-dir>/root.key, created on first start)")
	envString(&cfg.Seal, "seal", "COFFER_SEAL", "seal of a new installation: file (the root key in --root-key-file), shamir (key shares), passphrase, okms (a service key of an OKMS domain: --seal-okms-*) or transit (a Vault Transit key: --seal-transit-*); an existing installation keeps its own (see coffer operator migrate-seal)")
	envString(&cfg.SealOKMSEndpoint, "seal-okms-endpoint", "COFFER_SEAL_OKMS_ENDPOINT", "okms seal: base URL of the KMS's OKMS REST API (OVHcloud's KMS or another coffer), e.g. https://eu-west-rbx.okms.ovh.net")
	envString(&cfg.SealOKMSID, "seal-okms-id", "COFFER_SEAL_OKMS_ID", "okms seal: the OKMS domain (okmsId) of the key")
	envString(&cfg.SealOKMSKeyID, "seal-okms-key-id", "COFFER_SEAL_OKMS_KEY_ID", "okms seal: id of the symmetric service key (oct, encrypt and decrypt) that wraps the root key")
	envString(&cfg.SealOKMSToken, "seal-okms-token", "COFFER_SEAL_OKMS_TOKEN", "okms seal: bearer token for the KMS; prefer the environment variable to the flag (or use an access certificate)")
	envString(&cfg.SealOKMSCert, "seal-okms-cert", "COFFER_SEAL_OKMS_CERT", "okms seal: access certificate for the KMS (PEM file), instead of a token")
	envString(&cfg.SealOKMSCertKey, "seal-okms-cert-key", "COFFER_SEAL_OKMS_CERT_KEY", "okms seal: private key of --seal-okms-cert (PEM file)")
	envString(&cfg.SealOKMSCA, "seal-okms-ca", "COFFER_SEAL_OKMS_CA", "okms seal: CA certificates (PEM file) that verify the KMS (default: the system's)")
	envString(&cfg.SealTransitAddress, "seal-transit-address", "COFFER_SEAL_TRANSIT_ADDRESS", "transit seal: address of the Vault, OpenBao or coffer that holds the Transit key, e.g. https://vault.example.com:8200")
	envString(&cfg.SealTransitToken, "seal-transit-token", "COFFER_SEAL_TRANSIT_TOKEN", "transit seal: token for it; prefer the environment variable to the flag")
	envString(&cfg.SealTransitKeyName, "seal-transit-key-name", "COFFER_SEAL_TRANSIT_KEY_NAME", "transit seal: name of the Transit key that wraps the root key")
	cfg.SealTransitMountPath = "transit/"
	envString(&cfg.SealTransitMountPath, "seal-transit-mount-path", "COFFER_SEAL_TRANSIT_MOUNT_PATH", "transit seal: mount path of the Transit engine")
	envString(&cfg.SealTransitCACert, "seal-transit-ca-cert", "COFFER_SEAL_TRANSIT_CA_CERT", "transit seal: CA certificates (PEM file) that verify the server (default: the system's)")
	envString(&cfg.PublicURL, "public-url", "COFFER_PUBLIC_URL", "base URL clients reach this server at (default http://<listen>)")
	envString(&cfg.AuditFile, "audit-file", "COFFER_AUDIT_FILE", "append audit events to this file as JSON lines (default: the server log)")
	envString(&cfg.TLSCert, "tls-cert", "COFFER_TLS_CERT", "TLS server certificate (PEM)")
	envString(&cfg.TLSKey, "tls-key", "COFFER_TLS_KEY", "TLS server key (PEM)")
	f.BoolVar(&cfg.TLSAuto, "tls-auto", e.getenv("COFFER_TLS_AUTO") == "true", "serve TLS with a certificate from the installation CA even on loopback (COFFER_TLS_AUTO=true); non-loopback addresses get it by default")
	envString(&cfg.Account, "account", "COFFER_ACCOUNT", "account name used in identity URNs")
	envString(&cfg.Zone, "iam-zone", "COFFER_IAM_ZONE", "IAM zone used in URNs")
	f.Var(levelValue{logLevel}, "log-level", "log level: debug, info, warn or error (COFFER_LOG_LEVEL)")
	f.BoolVar(&cfg.Dev, "dev", e.getenv("COFFER_DEV") == "true", "in-memory, ephemeral store for trying coffer out (COFFER_DEV=true)")
	envString(&cfg.DevRootToken, "dev-root-token", "COFFER_DEV_ROOT_TOKEN", "root token in --dev mode")
	f.StringVar(&cpuProfile, "cpu-profile", "", "write a CPU profile (pprof) of the whole run to this file, for docs/performance.md; off by default (COFFER_CPU_PROFILE)")
	f.DurationVar(&cfg.ReloadInterval, "reload-interval", 10*time.Second, "how often to look for a changed configuration file, TLS certificate or key, or a rotated audit file, and reload them as SIGHUP does; 0: only on SIGHUP (COFFER_RELOAD_INTERVAL)")
	lf.register(f)
	return cmd
}

// startCPUProfile profiles the server's CPU until the returned function
// runs (at shutdown). It is only ever enabled by --cpu-profile: coffer has
// no profiling endpoint.
func startCPUProfile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("--cpu-profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("--cpu-profile: %w", err)
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}

// checkStorage rejects storage flags that contradict each other.
// regions tells whether the configuration file declares regions.
func checkStorage(cfg server.Config, regions bool) error {
	switch {
	case cfg.Storage != "bolt" && cfg.Storage != "postgres" && cfg.Storage != "memory":
		return fmt.Errorf("--storage %q: want bolt, postgres or memory", cfg.Storage)
	case regions && (cfg.Storage != "bolt" || cfg.PGURL != ""):
		return errors.New("storage and pgUrl (--storage, --pg-url) do not apply when the configuration file declares regions: declare each region's storage there")
	case cfg.Storage == "postgres" && cfg.PGURL == "":
		return errors.New("--storage postgres needs --pg-url (or COFFER_PG_URL)")
	}
	return nil
}

// tuneGC sets the garbage collector for a server, unless GOGC or
// GOMEMLIMIT say otherwise. A request allocates about 10 KiB and the live
// heap is a few MiB, so Go's default (GOGC=100) collects dozens of times a
// second under load, for about 15% of the CPU. GOGC=400 collects four
// times less often for a few more MiB of heap (docs/performance.md); the
// soft limit makes it collect earlier should the heap ever grow large.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(128 << 20)
	}
}
