package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/client"
)

// coffer service-account: OAuth2 service accounts (iam.md 3, 7.2, 7.4),
// for the account root and ADMIN users; and the service-account side of
// coffer login: obtaining an access token from a client id and a secret
// file, and renewing it when it expires.

// tokenRenewMargin is how long before its expiry a saved access token is
// renewed, so that a request never leaves with a token about to expire.
const tokenRenewMargin = time.Minute

// tokenTimeout bounds a token request made to renew a saved token.
const tokenTimeout = 30 * time.Second

func newServiceAccountCmd(x *cli) *cobra.Command {
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the service accounts",
		Example: "  coffer service-account list",
		Args:    exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) ([]*client.ServiceAccount, error) {
				return readAll(ctx, c.ListServiceAccounts, c.GetServiceAccount)
			}, func(w io.Writer, sas []*client.ServiceAccount) error {
				t := newTable(w, "CLIENT ID", "NAME", "DESCRIPTION")
				for _, sa := range sas {
					t.row(sa.ClientID, sa.Name, dash(sa.Description))
				}
				return t.flush()
			})
		},
	}
	var desc, secretFile string
	create := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a service account; its client secret is shown once",
		Long: `Create a service account: an OAuth2 client of the client-credentials flow.
Its client secret is printed once, or written to --secret-file (mode 0600,
never overwritten): the server keeps only a digest. With --format json it
is the "clientSecret" member.

Give the account rights with a policy naming its identity URN, then log in
with coffer login --client-id, or exchange the id and secret for a token at
<server>/auth/oauth2/token as any OAuth2 client does.`,
		Example: `  coffer service-account create external-secrets --description "ESO, prod" --secret-file eso.secret
  coffer login --client-id 3f2a9c0d1b4e5f60 --client-secret-file eso.secret`,
		Args: exactArgs(1, "NAME"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if secretFile != "" {
				if _, err := os.Lstat(secretFile); err == nil {
					return usagef("--secret-file %s exists: it is never overwritten", secretFile)
				}
			}
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*createdServiceAccount, error) {
				return createServiceAccount(ctx, c, client.ServiceAccountRequest{Name: args[0], Description: desc}, secretFile)
			}, printCreatedServiceAccount)
		},
	}
	create.Flags().StringVar(&desc, "description", "", "description")
	create.Flags().StringVar(&secretFile, "secret-file", "", "write the client secret to this new file (mode 0600) instead of printing it")
	get := &cobra.Command{
		Use:     "get CLIENT_ID",
		Short:   "Show a service account (never its secret)",
		Example: "  coffer service-account get 3f2a9c0d1b4e5f60",
		Args:    exactArgs(1, "CLIENT_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return show(cmd, x, func(ctx context.Context, c *client.Client) (*client.ServiceAccount, error) {
				return c.GetServiceAccount(ctx, args[0])
			}, serviceAccountPairs)
		},
	}
	del := &cobra.Command{
		Use:     "delete CLIENT_ID",
		Short:   "Delete a service account: its tokens stop working at once",
		Example: "  coffer service-account delete 3f2a9c0d1b4e5f60",
		Args:    exactArgs(1, "CLIENT_ID"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return act(cmd, x, func(ctx context.Context, c *client.Client) error { return c.DeleteServiceAccount(ctx, args[0]) },
				map[string]any{"clientId": args[0], "deleted": true}, "Deleted service account "+args[0]+".")
		},
	}
	cmd := group("service-account", "Manage service accounts (OAuth2 clients)",
		`Service accounts are identities for machines: an OAuth2 client id and secret,
exchanged at <server>/auth/oauth2/token for one-hour access tokens that work on
every API. Policies and access certificates name a service account by its
identity URN (urn:v1:eu:identity:credential:<account>/oauth2-<client id>).`+identityLong,
		"  coffer service-account create ci --secret-file ci.secret\n  coffer service-account list\n  coffer service-account delete 3f2a9c0d1b4e5f60",
		list, create, get, del)
	x.connFlags(cmd, true)
	return cmd
}

// createdServiceAccount is what service-account create prints: the account
// and its secret, or the file the secret went to.
type createdServiceAccount struct {
	*client.ServiceAccount
	ClientSecret string `json:"clientSecret,omitempty"`
	SecretFile   string `json:"secretFile,omitempty"`
}

// createServiceAccount creates a service account, reads it back for its
// identity URN, and keeps its secret in secretFile when one is given.
func createServiceAccount(ctx context.Context, c *client.Client, req client.ServiceAccountRequest, secretFile string) (*createdServiceAccount, error) {
	creds, err := c.CreateServiceAccount(ctx, req)
	if err != nil {
		return nil, err
	}
	sa, err := c.GetServiceAccount(ctx, creds.ClientID)
	if err != nil {
		return nil, err
	}
	out := &createdServiceAccount{ServiceAccount: sa, ClientSecret: creds.ClientSecret}
	if secretFile != "" {
		if err := writeSecretFile(secretFile, creds.ClientSecret); err != nil {
			return nil, fmt.Errorf("service account %s created, but its secret could not be saved (delete the account and start again): %w", sa.ClientID, err)
		}
		out.ClientSecret, out.SecretFile = "", absPath(secretFile, "client-secret-file")
	}
	return out, nil
}

func printCreatedServiceAccount(w io.Writer, out *createdServiceAccount) error {
	if err := serviceAccountPairs(w, out.ServiceAccount); err != nil {
		return err
	}
	fmt.Fprintln(w)
	if out.SecretFile != "" {
		fmt.Fprintf(w, "The client secret is in %s (mode 0600); it is not shown again.\n", out.SecretFile)
		return nil
	}
	fmt.Fprintln(w, "The client secret is shown once; keep it safe:")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "    "+out.ClientSecret)
	return nil
}

func serviceAccountPairs(w io.Writer, sa *client.ServiceAccount) error {
	return pairs(w, [2]string{"client_id", sa.ClientID}, [2]string{"name", sa.Name},
		[2]string{"description", dash(sa.Description)}, [2]string{"flow", sa.Flow}, [2]string{"identity", sa.Identity})
}

// writeSecretFile creates path, which must not exist, with mode 0600 and
// the secret on one line.
func writeSecretFile(path, secret string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(secret + "\n"); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// readSecretFile reads a client secret: the first line of the file.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	line, _, _ := strings.Cut(string(b), "\n")
	if s := strings.TrimSpace(line); s != "" {
		return s, nil
	}
	return "", fmt.Errorf("%s holds no client secret on its first line", path)
}

// loginServiceAccount is coffer login --client-id: it exchanges the client
// credentials for an access token, checks it, and saves the token with what
// renews it (the client id, the secret file's path, the expiry) in the
// profile.
func (x *cli) loginServiceAccount(cmd *cobra.Command, asJSON bool, clientID, secretFile string) error {
	switch {
	case clientID == "" || secretFile == "":
		return usagef("--client-id and --client-secret-file go together")
	case x.changed("token"):
		return usagef("--token and --client-id exclude each other")
	}
	secretFile = absPath(secretFile, "client-secret-file")
	s, err := x.resolveProfile(true)
	if err != nil {
		return err
	}
	s.Token, s.ClientID, s.ClientSecretFile = "", clientID, secretFile
	if err := x.fetchToken(cmd.Context(), &s); err != nil {
		return fmt.Errorf("the server refused the client credentials, nothing saved: %w", err)
	}
	c, err := x.clientWith(s)
	if err != nil {
		return err
	}
	info, err := c.LookupSelf(cmd.Context())
	if err != nil {
		return fmt.Errorf("the server refused the access token, nothing saved: %w", err)
	}
	name, path, err := x.saveToken(s, true)
	if err != nil {
		return err
	}
	out := struct {
		Profile     string `json:"profile"`
		Addr        string `json:"addr"`
		Identity    string `json:"identity"`
		ClientID    string `json:"clientId"`
		TokenExpiry string `json:"tokenExpiry"`
		SecretFile  string `json:"clientSecretFile"`
		ConfigFile  string `json:"configFile"`
	}{name, s.Addr, info.DisplayName, clientID, s.TokenExpiry, secretFile, path}
	if asJSON {
		return printJSON(x.e.stdout, out)
	}
	fmt.Fprintf(x.e.stdout, "Logged in to %s as service account %s (%s); the token expires %s and is renewed from %s.\nSaved in profile %q of %s.\n",
		s.Addr, clientID, info.DisplayName, s.TokenExpiry, secretFile, name, path)
	return nil
}

// fetchToken obtains an access token for the service account of s and
// sets s.Token and s.TokenExpiry (by this command's clock).
func (x *cli) fetchToken(ctx context.Context, s *settings) error {
	secret, err := readSecretFile(s.ClientSecretFile)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the client secret file %s does not exist", s.ClientSecretFile)
	}
	if err != nil {
		return fmt.Errorf("read the client secret: %w", err)
	}
	anon := *s
	anon.Token = ""
	c, err := x.clientWith(anon)
	if err != nil {
		return err
	}
	start := x.e.clock()
	at, err := c.ClientCredentialsToken(ctx, s.ClientID, secret)
	if err != nil {
		return err
	}
	s.Token = at.AccessToken
	s.TokenExpiry = start.Add(time.Duration(at.ExpiresIn) * time.Second).UTC().Format(time.RFC3339)
	return nil
}

// renewToken renews the profile's access token when it belongs to a
// service account and expires within tokenRenewMargin, and saves the new
// one. A token given by --token or COFFER_TOKEN is left alone.
func (x *cli) renewToken(s *settings) error {
	if s.ClientID == "" || s.ClientSecretFile == "" {
		return nil
	}
	exp, err := time.Parse(time.RFC3339, s.TokenExpiry)
	if err == nil && x.e.clock().Add(tokenRenewMargin).Before(exp) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), tokenTimeout)
	defer cancel()
	if err := x.fetchToken(ctx, s); err != nil {
		return fmt.Errorf("the saved token of service account %s has expired and could not be renewed (log in again): %w", s.ClientID, err)
	}
	_, _, err = x.saveToken(*s, false)
	return err
}

// saveToken saves a service account's token in the profile in use, with
// the client id and secret file it is renewed from; login also saves the
// connection settings given, as coffer login does for a token.
func (x *cli) saveToken(s settings, login bool) (name, path string, err error) {
	cfg, path, err := x.loadConfig()
	if err != nil {
		return "", "", err
	}
	name, _ = x.profileName(cfg)
	prof := cfg.Profiles[name]
	prof.Token, prof.ClientID, prof.ClientSecretFile, prof.TokenExpiry = s.Token, s.ClientID, s.ClientSecretFile, s.TokenExpiry
	if login {
		prof.Addr = s.Addr
		x.keepConnection(&prof, s)
		if cfg.Current == "" {
			cfg.Current = name
		}
	}
	cfg.Profiles[name] = prof
	return name, path, saveConfig(path, cfg)
}
