package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// newHealthcheckCmd is `coffer healthcheck`: the HEALTHCHECK of the
// container image, which holds no curl. It asks the server running beside
// it whether it is ready.
func newHealthcheckCmd(e *env) *cobra.Command {
	var (
		addr    string
		live    bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Check that the coffer server on this machine answers (for container health checks)",
		Long: `Ask the coffer server on this machine whether it is ready (GET /readyz:
it answers and its storage answers too) or, with --live, whether it answers
at all (GET /healthz), and exit 0 if so, 1 otherwise. It is the container
image's HEALTHCHECK.

The address is --addr, else the server's own COFFER_LISTEN with a wildcard
host (0.0.0.0, ::) replaced by loopback, else 127.0.0.1:8200. HTTPS is tried
first, then plain HTTP. The server's certificate is not verified: the check
sends no credential and reads nothing but the status.`,
		Example: `  coffer healthcheck
  coffer healthcheck --live --addr 127.0.0.1:8200
  # Dockerfile
  HEALTHCHECK CMD ["/coffer", "healthcheck"]`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if addr == "" {
				addr = localAddr(e.getenv("COFFER_LISTEN"))
			}
			path := "/readyz"
			if live {
				path = "/healthz"
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			status, err := probe(ctx, addr, path)
			if err != nil {
				return fmt.Errorf("healthcheck %s: %w", addr, err)
			}
			if status != http.StatusOK {
				return fmt.Errorf("healthcheck %s: GET %s answered %d", addr, path, status)
			}
			fmt.Fprintf(e.stdout, "ok: GET %s answered 200\n", path)
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "", "host:port of the server (default: from COFFER_LISTEN, else 127.0.0.1:8200)")
	cmd.Flags().BoolVar(&live, "live", false, "check only that the server answers (/healthz), not its storage (/readyz)")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
	return cmd
}

// localAddr is where to reach a server listening on listen from the same
// machine.
func localAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	switch {
	case listen == "" || err != nil:
		return "127.0.0.1:8200"
	case host == "" || host == "0.0.0.0":
		host = "127.0.0.1"
	case host == "::":
		host = "::1"
	}
	return net.JoinHostPort(host, port)
}

// probe GETs path over HTTPS, or plain HTTP when the server speaks that.
func probe(ctx context.Context, addr, path string) (int, error) {
	c := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, // status only, no credential sent
		Proxy:           nil,
	}}
	get := func(scheme string) (int, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+addr+path, nil)
		if err != nil {
			return 0, err
		}
		resp, err := c.Do(req)
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return resp.StatusCode, nil
	}
	status, err := get("https")
	if err != nil && (errors.As(err, new(tls.RecordHeaderError)) || strings.Contains(err.Error(), "HTTP response to HTTPS client")) {
		return get("http")
	}
	return status, err
}
