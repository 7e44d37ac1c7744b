package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/seed-3e8d63de/coffer/internal/buildinfo"
)

// env is what every command receives instead of reaching for globals.
type env struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	now    func() time.Time // nil: time.Now
}

// clock returns the current time of the command's clock.
func (e *env) clock() time.Time {
	if e.now == nil {
		return time.Now()
	}
	return e.now()
}

// usageError marks an error in the command line (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usagef returns a usageError with a formatted message.
func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// exitCode ends the command with a given exit code and no message: the
// exit code of the child of `coffer run`.
type exitCode int

func (c exitCode) Error() string { return fmt.Sprintf("exit code %d", int(c)) }

// run executes the coffer command line and returns the process exit code:
// 0 on success, 1 when the operation failed, 2 on a usage error (and the
// child's exit code for `coffer run`). It never calls os.Exit, so commands
// are testable in-process. An error is reported on one line of stderr.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) int {
	return runEnv(ctx, &env{getenv: getenv, stdin: stdin, stdout: stdout, stderr: stderr, now: time.Now}, args)
}

// runEnv is run in the environment e (tests give it a clock of their own).
func runEnv(ctx context.Context, e *env, args []string) int {
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	stderr := e.stderr
	root := newRootCmd(e)
	root.SetArgs(vaultStyleFlags(args))
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var code exitCode
	if errors.As(err, &code) {
		return int(code)
	}
	fmt.Fprintln(stderr, "coffer:", oneLine(err.Error()))
	var ue usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// oneLine keeps an error message on one line of the terminal.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// vaultStyleFlags lets `coffer kv` take flags the way `vault kv` does,
// with one dash (-field=password, -format=json): before the first "--",
// every -name or -name=value of a kv command whose name has two letters or
// more becomes --name. No kv flag has a one-letter shorthand but -h.
func vaultStyleFlags(args []string) []string {
	if len(args) == 0 || args[0] != "kv" {
		return args
	}
	out := make([]string, len(args))
	copy(out, args)
	for i, a := range out {
		if a == "--" {
			break
		}
		name, _, _ := strings.Cut(strings.TrimPrefix(a, "-"), "=")
		if strings.HasPrefix(a, "-") && !strings.HasPrefix(a, "--") && len(name) >= 2 && isFlagName(name) {
			out[i] = "-" + a
		}
	}
	return out
}

func isFlagName(s string) bool {
	for _, r := range s {
		if (r < 'a' || r > 'z') && r != '-' {
			return false
		}
	}
	return true
}

func newRootCmd(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:   "coffer",
		Short: "coffer is a self-hosted secret manager",
		Long: `coffer is a self-hosted secret manager that speaks OVHcloud's Secret Manager APIs.

Start a server with ` + "`coffer server`" + `; every other command is a client of a
running server, chosen with --addr (COFFER_ADDR), authenticated with --token
(COFFER_TOKEN, or the token saved by ` + "`coffer login`" + `) or an access
certificate (--client-cert, --client-key).

Exit codes: 0 success, 1 the server refused or the operation failed, 2 a
usage error (unknown flag, malformed DATA, missing argument).`,
		Example: `  # Run a throw-away server, log in, store and read a secret
  coffer server --dev &
  coffer login --token root
  coffer secret create app/db login=admin password=s3cr3t
  coffer secret get app/db --include-data`,
		Version:       buildinfo.Read().Text(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.ArbitraryArgs,
		RunE:          groupRunE,
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.SetVersionTemplate("{{.Version}}") // --version prints what coffer version prints
	root.AddCommand(newServerCmd(e))
	x := &cli{e: e}
	root.AddCommand(newOperatorCmd(x))
	// --format is checked before any command runs, so that a command with
	// effects never fails on it afterwards.
	root.PersistentPreRunE = func(*cobra.Command, []string) error {
		_, err := x.json()
		return err
	}
	root.AddCommand(
		newLoginCmd(x), newLogoutCmd(x), newProfileCmd(x),
		newSecretCmd(x), newKVCmd(x), newDomainCmd(x),
		newUserCmd(x), newGroupCmd(x), newTokenCmd(x), newPolicyCmd(x),
		newCredentialCmd(x), newAuditCmd(x), newRunCmd(x), newExportCmd(x),
		newServiceAccountCmd(x), newKeyCmd(x),
	)
	root.AddCommand(newBenchCmd(x), newBuildVersionCmd(x), newHealthcheckCmd(e))
	// The completion commands capture the output writer when they are
	// made: set it first.
	root.SetIn(e.stdin)
	root.SetOut(e.stdout)
	root.SetErr(e.stderr)
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	for _, c := range root.Commands() {
		switch c.Name() {
		case "help":
			c.Example = "  coffer help secret create"
		case "completion":
			completionExamples(c)
		}
	}
	return root
}

// completionExamples documents the completion commands cobra provides.
func completionExamples(c *cobra.Command) {
	c.Example = `  # bash, for the current shell
  source <(coffer completion bash)
  # zsh, for every new shell
  coffer completion zsh > "${fpath[1]}/_coffer"
  # fish
  coffer completion fish > ~/.config/fish/completions/coffer.fish`
	// An unknown shell is a usage error, like an unknown command.
	c.Args, c.RunE = cobra.ArbitraryArgs, groupRunE
	for _, sub := range c.Commands() {
		switch sub.Name() {
		case "bash":
			sub.Example = "  source <(coffer completion bash)"
		case "zsh":
			sub.Example = `  coffer completion zsh > "${fpath[1]}/_coffer"`
		case "fish":
			sub.Example = "  coffer completion fish > ~/.config/fish/completions/coffer.fish"
		case "powershell":
			sub.Example = "  coffer completion powershell | Out-String | Invoke-Expression"
		}
	}
}

// groupRunE is the RunE of commands that only group others: without
// arguments it prints the help, with one it reports an unknown command
// (exit code 2) instead of cobra's silent help.
func groupRunE(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return cmd.Help()
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if cmd.SuggestionsMinimumDistance <= 0 {
		cmd.SuggestionsMinimumDistance = 2
	}
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", s[0])
	}
	return usageError{fmt.Errorf("%s (see %s --help)", msg, cmd.CommandPath())}
}

// group returns a command that groups subcommands.
func group(use, short, long, example string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Long: long, Example: example, Args: cobra.ArbitraryArgs, RunE: groupRunE}
	c.AddCommand(subs...)
	return c
}

// Argument validators whose errors are usage errors (exit code 2).

func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %s; got %d argument(s) (see --help)", cmd.CommandPath(), names, len(args))
		}
		return nil
	}
}

func rangeArgs(lo, hi int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return usagef("%s takes %s; got %d argument(s) (see --help)", cmd.CommandPath(), names, len(args))
		}
		return nil
	}
}

func minArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usagef("%s takes %s; got %d argument(s) (see --help)", cmd.CommandPath(), names, len(args))
		}
		return nil
	}
}
