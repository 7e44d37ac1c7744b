package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/seed-3e8d63de/coffer/client"
	"github.com/seed-3e8d63de/coffer/internal/buildinfo"
)

// defaultAddr is the server address when none is configured: the
// server's default listener.
const defaultAddr = "http://127.0.0.1:8200"

// cli holds what the client commands of one invocation share: the
// environment, the connection flags and the output format. Every client
// command group registers the same persistent flags into it.
type cli struct {
	e *env

	addr, token, okmsID, ca, clientCert, clientKey, profile string
	format                                                  string
	flags                                                   []*pflag.FlagSet // where the connection flags live
	in                                                      *bufio.Reader    // standard input, when secrets are read from it (seal.go)
}

// connFlags registers the connection and output flags on a group (or a
// top-level command) as persistent flags.
func (x *cli) connFlags(c *cobra.Command, withFormat bool) {
	f := c.PersistentFlags()
	f.StringVar(&x.addr, "addr", defaultAddr, "server address, http:// or https:// (COFFER_ADDR)")
	f.StringVar(&x.token, "token", "", "token to authenticate with (COFFER_TOKEN; default: the token saved by coffer login)")
	f.StringVar(&x.okmsID, "okms-id", "", "OKMS domain id (COFFER_OKMS_ID; default: the server's default domain)")
	f.StringVar(&x.ca, "ca", "", "PEM file of the CA that signed the server's certificate (COFFER_CA)")
	f.StringVar(&x.clientCert, "client-cert", "", "access certificate to authenticate with, PEM (COFFER_CLIENT_CERT)")
	f.StringVar(&x.clientKey, "client-key", "", "private key of --client-cert, PEM (COFFER_CLIENT_KEY)")
	f.StringVar(&x.profile, "profile", "", "profile of the configuration file to use (COFFER_PROFILE)")
	if withFormat {
		f.StringVar(&x.format, "format", "table", "output format: table or json")
	}
	x.flags = append(x.flags, f)
}

// changed reports whether the flag name was given on the command line.
func (x *cli) changed(name string) bool {
	for _, f := range x.flags {
		if fl := f.Lookup(name); fl != nil && fl.Changed {
			return true
		}
	}
	return false
}

// json reports whether the output is JSON; it checks --format.
func (x *cli) json() (bool, error) {
	switch x.format {
	case "table", "":
		return false, nil
	case "json":
		return true, nil
	}
	return false, usagef("--format must be table or json, not %q", x.format)
}

// settings are the connection settings in effect.
type settings struct {
	Addr       string `json:"addr,omitempty"`
	Token      string `json:"token,omitempty"`
	OkmsID     string `json:"okmsId,omitempty"`
	CA         string `json:"ca,omitempty"`
	ClientCert string `json:"clientCert,omitempty"`
	ClientKey  string `json:"clientKey,omitempty"`
	// A profile logged in as a service account (coffer login --client-id)
	// keeps the client id, the path of the file holding the client secret
	// (never the secret) and the expiry of Token, an OAuth2 access token
	// renewed from them when it expires (serviceaccount.go).
	ClientID         string `json:"clientId,omitempty"`
	ClientSecretFile string `json:"clientSecretFile,omitempty"`
	TokenExpiry      string `json:"tokenExpiry,omitempty"`
}

// configFile is the client configuration file: named profiles of
// connection settings, and the one in use.
type configFile struct {
	Current  string              `json:"current,omitempty"`
	Profiles map[string]settings `json:"profiles"`
}

// configDir returns the directory of coffer's client configuration:
// COFFER_CONFIG_DIR, else <user config dir>/coffer, where the user config
// dir is os.UserConfigDir's, read through the command's environment.
func (x *cli) configDir() (string, error) {
	if d := x.e.getenv("COFFER_CONFIG_DIR"); d != "" {
		return d, nil
	}
	var base string
	switch runtime.GOOS {
	case "windows":
		base = x.e.getenv("AppData")
	case "darwin", "ios":
		if h := x.e.getenv("HOME"); h != "" {
			base = filepath.Join(h, "Library", "Application Support")
		}
	default:
		base = x.e.getenv("XDG_CONFIG_HOME")
		if !filepath.IsAbs(base) {
			base = ""
			if h := x.e.getenv("HOME"); h != "" {
				base = filepath.Join(h, ".config")
			}
		}
	}
	if base == "" {
		return "", errors.New("cannot find the user configuration directory (set HOME or COFFER_CONFIG_DIR)")
	}
	return filepath.Join(base, "coffer"), nil
}

func (x *cli) configPath() (string, error) {
	d, err := x.configDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(d, "config.json"), nil
}

// loadConfig reads the configuration file; a missing file is an empty
// configuration.
func (x *cli) loadConfig() (*configFile, string, error) {
	path, err := x.configPath()
	if err != nil {
		return nil, "", err
	}
	cfg := &configFile{Profiles: map[string]settings{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return cfg, path, nil
	}
	if err != nil {
		return nil, path, fmt.Errorf("read the configuration: %w", err)
	}
	if err := json.Unmarshal(b, cfg); err != nil {
		return nil, path, fmt.Errorf("configuration file %s: %w", path, err)
	}
	if cfg.Profiles == nil {
		cfg.Profiles = map[string]settings{}
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 && runtime.GOOS != "windows" {
		fmt.Fprintf(x.e.stderr, "coffer: warning: %s holds tokens and is readable by others; run chmod 600 %s\n", path, path)
	}
	return cfg, path, nil
}

// saveConfig writes the configuration file with mode 0600, in a directory
// of mode 0700, atomically.
func saveConfig(path string, cfg *configFile) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create the configuration directory: %w", err)
	}
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".config-*.json")
	if err != nil {
		return fmt.Errorf("write the configuration: %w", err)
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		f.Close()
		return fmt.Errorf("write the configuration: %w", err)
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("write the configuration: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write the configuration: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write the configuration: %w", err)
	}
	return nil
}

// profileName returns the profile in use: --profile, COFFER_PROFILE, the
// file's current profile, or "default"; explicit says whether it was
// named by the flag or the environment.
func (x *cli) profileName(cfg *configFile) (name string, explicit bool) {
	switch {
	case x.changed("profile"):
		return x.profile, true
	case x.e.getenv("COFFER_PROFILE") != "":
		return x.e.getenv("COFFER_PROFILE"), true
	case cfg.Current != "":
		return cfg.Current, false
	}
	return "default", false
}

// resolve returns the settings in effect: each one from its flag, else its
// environment variable, else the profile, else the default. A profile
// named explicitly must exist.
func (x *cli) resolve() (settings, error) { return x.resolveProfile(false) }

// resolveProfile is resolve; newOK lets an explicitly named profile not
// exist yet (coffer login creates it).
func (x *cli) resolveProfile(newOK bool) (settings, error) {
	cfg, _, err := x.loadConfig()
	if err != nil {
		return settings{}, err
	}
	name, explicit := x.profileName(cfg)
	prof, ok := cfg.Profiles[name]
	if !ok && explicit && !newOK {
		return settings{}, usagef("no profile %q in the configuration (see coffer profile list)", name)
	}
	pick := func(flag, value, envName, fromProfile, def string) string {
		switch {
		case x.changed(flag):
			return value
		case x.e.getenv(envName) != "":
			return x.e.getenv(envName)
		case fromProfile != "":
			return fromProfile
		}
		return def
	}
	s := settings{
		Addr:       pick("addr", x.addr, "COFFER_ADDR", prof.Addr, defaultAddr),
		Token:      pick("token", x.token, "COFFER_TOKEN", prof.Token, ""),
		OkmsID:     pick("okms-id", x.okmsID, "COFFER_OKMS_ID", prof.OkmsID, ""),
		CA:         pick("ca", x.ca, "COFFER_CA", prof.CA, ""),
		ClientCert: pick("client-cert", x.clientCert, "COFFER_CLIENT_CERT", prof.ClientCert, ""),
		ClientKey:  pick("client-key", x.clientKey, "COFFER_CLIENT_KEY", prof.ClientKey, ""),
	}
	if (s.ClientCert == "") != (s.ClientKey == "") {
		return settings{}, usagef("--client-cert and --client-key go together")
	}
	if !x.changed("token") && x.e.getenv("COFFER_TOKEN") == "" {
		// The profile's own token: renewable if it came from a service
		// account's credentials.
		s.ClientID, s.ClientSecretFile, s.TokenExpiry = prof.ClientID, prof.ClientSecretFile, prof.TokenExpiry
	}
	return s, nil
}

// client returns a client of the server with the settings in effect,
// renewing the profile's OAuth2 access token first if it has expired.
func (x *cli) client() (*client.Client, error) {
	s, err := x.resolve()
	if err != nil {
		return nil, err
	}
	if err := x.renewToken(&s); err != nil {
		return nil, err
	}
	return x.clientWith(s)
}

func (x *cli) clientWith(s settings) (*client.Client, error) {
	opts := []client.Option{client.WithUserAgent("coffer-cli/" + buildinfo.Version())}
	if s.Token != "" {
		opts = append(opts, client.WithToken(s.Token))
	}
	if s.OkmsID != "" {
		opts = append(opts, client.WithDomain(s.OkmsID))
	}
	if s.CA != "" {
		opts = append(opts, client.WithCAFile(s.CA))
	}
	if s.ClientCert != "" {
		opts = append(opts, client.WithClientCertificateFiles(s.ClientCert, s.ClientKey))
	}
	c, err := client.New(s.Addr, opts...)
	if err != nil {
		return nil, usageError{errors.New(strings.TrimPrefix(err.Error(), "client: "))}
	}
	return c, nil
}

func newLoginCmd(x *cli) *cobra.Command {
	var clientID, secretFile string
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Check a token and save it in the configuration file",
		Long: `Check a token against the server, then save it, with the connection settings
given (--addr, --okms-id, --ca, --client-cert, --client-key), in a profile of
the configuration file: <user config dir>/coffer/config.json (on Linux
~/.config/coffer/config.json; COFFER_CONFIG_DIR overrides the directory),
written with mode 0600. Later commands use the profile's settings unless a
flag or an environment variable overrides them.

The token comes from --token, COFFER_TOKEN, or the first line of standard
input. Nothing is saved if the server refuses it.

A service account logs in with --client-id and --client-secret-file instead:
the command exchanges them for an OAuth2 access token (one hour) and saves
the token, the client id and the path of the secret file, never the secret.
Later commands renew the token from the file when it expires.`,
		Example: `  # Save the root token of a local server in the default profile
  coffer login --token cof_root_...

  # Log in as a service account; the token is renewed when it expires
  coffer login --client-id 3f2a9c0d1b4e5f60 --client-secret-file ~/.config/coffer/ci.secret

  # Read the token from standard input, for another server, in a profile
  pass show coffer/prod | coffer login --profile prod --addr https://coffer.example.com:8200 --ca ca.pem`,
		Args: exactArgs(0, "no argument"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			asJSON, err := x.json()
			if err != nil {
				return err
			}
			if cmd.Flags().Changed("client-id") || cmd.Flags().Changed("client-secret-file") {
				return x.loginServiceAccount(cmd, asJSON, clientID, secretFile)
			}
			s, err := x.resolveProfile(true)
			if err != nil {
				return err
			}
			if !x.changed("token") && x.e.getenv("COFFER_TOKEN") == "" {
				if s.Token, err = x.readToken(); err != nil {
					return err
				}
			}
			if s.Token == "" {
				return usagef("no token: give --token, set COFFER_TOKEN or write it on standard input")
			}
			c, err := x.clientWith(s)
			if err != nil {
				return err
			}
			info, err := c.LookupSelf(cmd.Context())
			if err != nil {
				return fmt.Errorf("the server refused the token, nothing saved: %w", err)
			}
			cfg, path, err := x.loadConfig()
			if err != nil {
				return err
			}
			name, _ := x.profileName(cfg)
			prof := cfg.Profiles[name]
			prof.Addr, prof.Token = s.Addr, s.Token
			prof.ClientID, prof.ClientSecretFile, prof.TokenExpiry = "", "", ""
			x.keepConnection(&prof, s)
			cfg.Profiles[name] = prof
			if cfg.Current == "" {
				cfg.Current = name
			}
			if err := saveConfig(path, cfg); err != nil {
				return err
			}
			out := struct {
				Profile    string  `json:"profile"`
				Addr       string  `json:"addr"`
				Identity   string  `json:"identity"`
				ExpireTime *string `json:"expireTime"`
				ConfigFile string  `json:"configFile"`
			}{name, s.Addr, info.DisplayName, info.ExpireTime, path}
			if asJSON {
				return printJSON(x.e.stdout, out)
			}
			exp := "never expires"
			if info.ExpireTime != nil {
				exp = "expires " + *info.ExpireTime
			}
			fmt.Fprintf(x.e.stdout, "Logged in to %s as %s (the token %s).\nSaved in profile %q of %s.\n", s.Addr, info.DisplayName, exp, name, path)
			return nil
		},
	}
	cmd.Flags().StringVar(&clientID, "client-id", "", "log in as the service account with this client id")
	cmd.Flags().StringVar(&secretFile, "client-secret-file", "", "file holding the service account's client secret (with --client-id)")
	x.connFlags(cmd, true)
	return cmd
}

// keepConnection copies into prof the connection settings of s that a flag
// or an environment variable gave (coffer login saves them).
func (x *cli) keepConnection(prof *settings, s settings) {
	for _, f := range []struct {
		flag, env string
		dst       *string
		v         string
	}{
		{"okms-id", "COFFER_OKMS_ID", &prof.OkmsID, s.OkmsID}, {"ca", "COFFER_CA", &prof.CA, s.CA},
		{"client-cert", "COFFER_CLIENT_CERT", &prof.ClientCert, s.ClientCert},
		{"client-key", "COFFER_CLIENT_KEY", &prof.ClientKey, s.ClientKey},
	} {
		if x.changed(f.flag) || x.e.getenv(f.env) != "" {
			*f.dst = absPath(f.v, f.flag)
		}
	}
}

// absPath makes the path of a file setting absolute, so that a saved
// profile works from any directory; flag names which settings are files.
func absPath(v, flag string) string {
	switch flag {
	case "ca", "client-cert", "client-key", "client-secret-file":
	default:
		return v
	}
	if v == "" {
		return v
	}
	if a, err := filepath.Abs(v); err == nil {
		return a
	}
	return v
}

// readToken reads a token from the first line of standard input,
// prompting on stderr when it is a terminal.
func (x *cli) readToken() (string, error) {
	if isTerminal(x.e.stdin) {
		fmt.Fprint(x.e.stderr, "Token (input is shown): ")
	}
	line, err := bufio.NewReader(x.e.stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the token: %w", err)
	}
	return strings.TrimSpace(line), nil
}

func newLogoutCmd(x *cli) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Remove the saved token of a profile",
		Long: `Remove the token saved by coffer login from the profile in use (--profile,
COFFER_PROFILE or the current profile). The profile's other settings stay.
The token itself stays valid on the server: revoke it with coffer token revoke.`,
		Example: `  coffer logout
  coffer logout --profile prod`,
		Args: exactArgs(0, "no argument"),
		RunE: func(*cobra.Command, []string) error {
			cfg, path, err := x.loadConfig()
			if err != nil {
				return err
			}
			name, _ := x.profileName(cfg)
			prof, ok := cfg.Profiles[name]
			if !ok || prof.Token == "" {
				return x.done(map[string]any{"profile": name, "loggedOut": false}, fmt.Sprintf("Profile %q has no saved token.", name))
			}
			prof.Token, prof.ClientID, prof.ClientSecretFile, prof.TokenExpiry = "", "", "", ""
			cfg.Profiles[name] = prof
			if err := saveConfig(path, cfg); err != nil {
				return err
			}
			return x.done(map[string]any{"profile": name, "loggedOut": true}, fmt.Sprintf("Removed the token of profile %q.", name))
		},
	}
	x.connFlags(cmd, true)
	return cmd
}

// done prints the outcome of a command that has no object to show: v as
// JSON with --format json, msg otherwise.
func (x *cli) done(v any, msg string) error {
	asJSON, err := x.json()
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(x.e.stdout, v)
	}
	fmt.Fprintln(x.e.stdout, msg)
	return nil
}

func newProfileCmd(x *cli) *cobra.Command {
	list := &cobra.Command{
		Use:     "list",
		Short:   "List the profiles of the configuration file",
		Example: "  coffer profile list",
		Args:    exactArgs(0, "no argument"),
		RunE: func(*cobra.Command, []string) error {
			asJSON, err := x.json()
			if err != nil {
				return err
			}
			cfg, _, err := x.loadConfig()
			if err != nil {
				return err
			}
			current, _ := x.profileName(cfg)
			names := make([]string, 0, len(cfg.Profiles))
			for n := range cfg.Profiles {
				names = append(names, n)
			}
			sort.Strings(names)
			type row struct {
				Name     string `json:"name"`
				Current  bool   `json:"current"`
				Addr     string `json:"addr"`
				OkmsID   string `json:"okmsId"`
				HasToken bool   `json:"hasToken"`
				HasCert  bool   `json:"hasClientCert"`
				ClientID string `json:"clientId,omitempty"` // logged in as this service account
			}
			rows := []row{}
			for _, n := range names {
				p := cfg.Profiles[n]
				rows = append(rows, row{n, n == current, p.Addr, p.OkmsID, p.Token != "", p.ClientCert != "", p.ClientID})
			}
			if asJSON {
				return printJSON(x.e.stdout, rows)
			}
			t := newTable(x.e.stdout, "CURRENT", "NAME", "ADDR", "OKMS ID", "CREDENTIAL")
			for _, r := range rows {
				cred := "-"
				switch {
				case r.HasToken && r.ClientID != "":
					cred = "service account " + r.ClientID
				case r.HasToken:
					cred = "token"
				case r.HasCert:
					cred = "certificate"
				}
				t.row(mark(r.Current), r.Name, r.Addr, dash(r.OkmsID), cred)
			}
			return t.flush()
		},
	}
	use := &cobra.Command{
		Use:     "use NAME",
		Short:   "Make a profile the current one",
		Example: "  coffer profile use prod",
		Args:    exactArgs(1, "NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			if err := x.editProfile(args[0], func(cfg *configFile) { cfg.Current = args[0] }); err != nil {
				return err
			}
			return x.done(map[string]any{"profile": args[0], "current": true}, fmt.Sprintf("Profile %q is now the current profile.", args[0]))
		},
	}
	set := &cobra.Command{
		Use:   "set NAME",
		Short: "Create or change a profile from the connection flags given",
		Long: `Create or change a profile: the connection flags given on the command line
(--addr, --token, --okms-id, --ca, --client-cert, --client-key) replace the
profile's settings; the others stay. Prefer coffer login for tokens: it
checks them first.`,
		Example: `  coffer profile set staging --addr https://staging.example.com:8200 --ca staging-ca.pem
  coffer profile set ci --client-cert ci.crt --client-key ci.key --okms-id 6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f`,
		Args: exactArgs(1, "NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			cfg, path, err := x.loadConfig()
			if err != nil {
				return err
			}
			p := cfg.Profiles[args[0]]
			for _, f := range []struct {
				flag string
				dst  *string
				v    string
			}{
				{"addr", &p.Addr, x.addr}, {"token", &p.Token, x.token}, {"okms-id", &p.OkmsID, x.okmsID},
				{"ca", &p.CA, x.ca}, {"client-cert", &p.ClientCert, x.clientCert}, {"client-key", &p.ClientKey, x.clientKey},
			} {
				if x.changed(f.flag) {
					*f.dst = absPath(f.v, f.flag)
				}
			}
			if (p.ClientCert == "") != (p.ClientKey == "") {
				return usagef("--client-cert and --client-key go together")
			}
			if p.Addr != "" {
				if _, err := client.New(p.Addr); err != nil {
					return usagef("--addr: %s", strings.TrimPrefix(err.Error(), "client: "))
				}
			}
			cfg.Profiles[args[0]] = p
			if cfg.Current == "" {
				cfg.Current = args[0]
			}
			if err := saveConfig(path, cfg); err != nil {
				return err
			}
			return x.done(map[string]any{"profile": args[0], "configFile": path}, fmt.Sprintf("Saved profile %q in %s.", args[0], path))
		},
	}
	del := &cobra.Command{
		Use:     "delete NAME",
		Short:   "Delete a profile and its saved token",
		Example: "  coffer profile delete staging",
		Args:    exactArgs(1, "NAME"),
		RunE: func(_ *cobra.Command, args []string) error {
			err := x.editProfile(args[0], func(cfg *configFile) {
				delete(cfg.Profiles, args[0])
				if cfg.Current == args[0] {
					cfg.Current = ""
				}
			})
			if err != nil {
				return err
			}
			return x.done(map[string]any{"profile": args[0], "deleted": true}, fmt.Sprintf("Deleted profile %q.", args[0]))
		},
	}
	cmd := group("profile", "Manage the connection profiles of the configuration file",
		`Profiles are named sets of connection settings (address, token, domain, CA,
access certificate) kept in <user config dir>/coffer/config.json, mode 0600.
--profile or COFFER_PROFILE chooses one for a command; otherwise the current
profile (coffer profile use), else "default". Flags and environment variables
override the profile's settings one by one.`,
		`  coffer profile list
  coffer profile use prod
  coffer secret list --profile staging`,
		list, use, set, del)
	x.connFlags(cmd, true)
	return cmd
}

// editProfile loads the configuration file, lets edit change it if it has
// the profile name, and saves it.
func (x *cli) editProfile(name string, edit func(*configFile)) error {
	cfg, path, err := x.loadConfig()
	if err != nil {
		return err
	}
	if _, ok := cfg.Profiles[name]; !ok {
		return fmt.Errorf("no profile %q (see coffer profile list)", name)
	}
	edit(cfg)
	return saveConfig(path, cfg)
}

// mark renders a boolean column: "*" or nothing.
func mark(b bool) string {
	if b {
		return "*"
	}
	return ""
}

// dash renders an empty value as "-".
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
