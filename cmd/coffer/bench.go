package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/internal/loadgen"
)

// newBenchCmd is `coffer bench`: the load generator of docs/performance.md.
func newBenchCmd(x *cli) *cobra.Command {
	var (
		scenarioList string
		cfg          loadgen.Config
		maxErrors    uint64
	)
	var names []string
	for _, s := range loadgen.Scenarios() {
		names = append(names, "  "+s.Name+": "+s.Doc)
	}
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure a running server under load",
		Long: `Drive a running coffer server over HTTP(S) with --connections concurrent
keep-alive connections, each sending its next request as soon as the previous
answer is read, for --duration (or --requests), and report the rate, the
latency percentiles and the errors of each scenario.

A setup phase first creates the secrets the scenario reads, under
bench/<random>/ in the domain (they are left there). Write scenarios add
versions to secrets of their own.

With --baseline, the same requests are then sent to a minimal Go HTTP server
started in this process on 127.0.0.1, which answers each with a body of the
size of the scenario's real responses: the rate this machine allows for that
request shape. The report shows the server's rate as a percentage of it.

The command fails (exit code 1) when a scenario has more than --max-errors
errors: answers other than 2xx, and requests that got no answer.

With --server-pid (the server on the same Linux machine), the report also
gives the CPU time per request of the server and of the load tool, and the
percentage of the baseline a machine doing nothing else would give (CPU): a
figure that hardly moves when other processes compete for the CPUs, unlike
rates.

Scenarios (--scenario, comma-separated, or all):
` + strings.Join(names, "\n"),
		Example: `  # KV2 reads of one secret, 32 connections, 10 seconds, against the baseline
  coffer bench --token root --scenario kv2-read --baseline

  # Durable writes, 32 writers, JSON output
  coffer bench --scenario kv2-write --duration 20s --format json

  # Every scenario
  coffer bench --scenario all --baseline --duration 5s`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := x.json()
			if err != nil {
				return err
			}
			s, err := x.resolve()
			if err != nil {
				return err
			}
			if s.ClientCert != "" {
				return usagef("coffer bench authenticates with a token only, not --client-cert")
			}
			scs, err := benchScenarios(scenarioList)
			if err != nil {
				return err
			}
			cfg.Addr, cfg.Token, cfg.OkmsID = s.Addr, s.Token, s.OkmsID
			if s.CA != "" {
				if cfg.TLS, err = caConfig(s.CA); err != nil {
					return err
				}
			}
			if cfg.OkmsID == "" && needsDomain(scs) {
				c, err := x.clientWith(s)
				if err != nil {
					return err
				}
				if cfg.OkmsID, err = c.Domain(cmd.Context()); err != nil {
					return err
				}
			}
			rep := loadgen.Report{}
			for _, name := range scs {
				c := cfg
				c.Scenario = name
				if !asJSON {
					fmt.Fprintf(x.e.stderr, "coffer bench: %s...\n", name)
				}
				res, err := loadgen.Run(cmd.Context(), c)
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				rep.Results = append(rep.Results, res)
			}
			rep.Machine = loadgen.ThisMachine()
			if asJSON {
				err = loadgen.WriteJSON(x.e.stdout, rep)
			} else {
				err = loadgen.WriteTable(x.e.stdout, rep)
			}
			if err != nil {
				return err
			}
			for _, r := range rep.Results {
				if r.Errors > maxErrors {
					return fmt.Errorf("%s: %d errors, more than --max-errors %d (first: %s)", r.Scenario, r.Errors, maxErrors, r.FirstError)
				}
			}
			if cmd.Context().Err() != nil {
				return cmd.Context().Err()
			}
			return nil
		},
	}
	x.connFlags(cmd, true)
	f := cmd.Flags()
	f.StringVar(&scenarioList, "scenario", "kv2-read", "scenarios to run, comma-separated, or all")
	f.IntVar(&cfg.Connections, "connections", 32, "concurrent keep-alive connections")
	f.DurationVar(&cfg.Duration, "duration", 10*time.Second, "length of each measurement (0 with --requests: no time limit)")
	f.Int64Var(&cfg.Requests, "requests", 0, "end each measurement after this many requests instead")
	f.DurationVar(&cfg.Warmup, "warmup", time.Second, "uncounted warm-up before each measurement")
	f.IntVar(&cfg.Secrets, "secrets", 1000, "secrets read by kv2-read-many, list and mixed (created in the setup)")
	f.IntVar(&cfg.ValueSize, "value-size", 64, "bytes of JSON in each secret value written")
	f.IntVar(&cfg.PageSize, "page-size", 100, "X-Pagination-Size of the list scenario")
	f.BoolVar(&cfg.Baseline, "baseline", false, "also measure a minimal in-process HTTP server answering with bodies of the same size")
	f.Uint64Var(&maxErrors, "max-errors", 0, "fail (exit code 1) when a scenario has more errors than this")
	f.StringVar(&cfg.Prefix, "prefix", "", "path under which the secrets are created and read: <prefix>/r/<n> (default bench/<random>)")
	f.BoolVar(&cfg.NoSetup, "no-setup", false, "do not create the secrets read: <prefix>/r/0 to <prefix>/r/<secrets-1> exist already")
	f.IntVar(&cfg.ServerPID, "server-pid", 0, "process id of the server, on this machine, to report its CPU time per request (Linux)")
	cmd.PreRunE = func(cmd *cobra.Command, _ []string) error {
		// --requests alone means no time limit.
		if cmd.Flags().Changed("requests") && !cmd.Flags().Changed("duration") {
			cfg.Duration = 0
		}
		if cfg.Connections < 1 {
			return usagef("--connections must be at least 1")
		}
		if cfg.NoSetup && cfg.Prefix == "" {
			return usagef("--no-setup needs --prefix: the secrets <prefix>/r/<n> must exist")
		}
		return nil
	}
	return cmd
}

// benchScenarios parses --scenario.
func benchScenarios(list string) ([]string, error) {
	var all []string
	for _, s := range loadgen.Scenarios() {
		all = append(all, s.Name)
	}
	if list == "all" {
		return all, nil
	}
	var out []string
	for _, n := range strings.Split(list, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		known := false
		for _, a := range all {
			known = known || a == n
		}
		if !known {
			return nil, usagef("--scenario: unknown scenario %q (one of %s, or all)", n, strings.Join(all, ", "))
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, usagef("--scenario: name at least one scenario")
	}
	return out, nil
}

// needsDomain reports whether a scenario uses surface B, whose URLs name
// the OKMS domain.
func needsDomain(names []string) bool {
	for _, n := range names {
		if strings.HasPrefix(n, "rest-") || strings.HasPrefix(n, "key-") || n == "list" {
			return true
		}
	}
	return false
}

// caConfig trusts the CA certificates of a PEM file.
func caConfig(path string) (*tls.Config, error) {
	pem, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, usagef("--ca %s: no PEM certificate in the file", path)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}
