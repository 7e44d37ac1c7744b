package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"
)

// coffer run: start a command with secrets in its environment.

func newRunCmd(x *cli) *cobra.Command {
	var (
		paths     []string
		normalize bool
	)
	cmd := &cobra.Command{
		Use:   "run --secret PATH [--secret PATH...] -- COMMAND [ARGS...]",
		Short: "Run a command with the keys of secrets as environment variables",
		Long: `Read the current value of each secret and start COMMAND with ARGS, its
environment being coffer's plus one variable per key of the secrets. The
values are never printed nor put on a command line: the child's arguments
are exactly COMMAND and ARGS. Standard input, output and error are the
child's; coffer exits with the child's exit code (127 if COMMAND cannot be
found, 126 if it cannot be started, 128+N if signal N ended it). coffer
passes SIGTERM and SIGHUP on to the child; Ctrl-C reaches the child from the
terminal directly, and coffer waits for it to exit.

A PATH ending in "/" stands for every secret under it. When two secrets have
the same key, the later one wins (a warning names the key). String values
are passed as they are, null as an empty string, numbers, booleans, objects
and arrays as compact JSON. Keys must be valid variable names
([A-Za-z_][A-Za-z0-9_]*); --normalize-keys turns any other character into
"_" (db.password becomes db_password) instead of failing.`,
		Example: `  coffer run --secret prod/db -- ./migrate --verbose
  coffer run --secret prod/db --secret prod/api -- sh -c 'psql "postgres://$login:$password@db/app"'
  coffer run --secret prod/ --normalize-keys -- env`,
		Args: minArgs(1, "COMMAND and its ARGS after --"),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(paths) == 0 {
				return usagef("give at least one --secret PATH")
			}
			c, err := x.client()
			if err != nil {
				return err
			}
			o, from, err := loadSecrets(cmd.Context(), c, paths, x.e.stderr)
			if err != nil {
				return err
			}
			vars, err := envVars(o, from, normalize)
			if err != nil {
				return err
			}
			environ := os.Environ()
			for _, v := range vars {
				environ = append(environ, v.name+"="+v.value)
			}
			return runChild(x, args, environ)
		},
	}
	cmd.Flags().StringArrayVar(&paths, "secret", nil, "secret whose keys become variables (repeatable; PATH/ for every secret under PATH)")
	cmd.Flags().BoolVar(&normalize, "normalize-keys", false, "rename keys that are not variable names instead of failing")
	// Flags after COMMAND are COMMAND's: `coffer run --secret a ls -l`.
	cmd.Flags().SetInterspersed(false)
	x.connFlags(cmd, false)
	return cmd
}

// runChild runs the command with environ and returns its exit code as an
// exitCode error (nil for 0).
func runChild(x *cli, args []string, environ []string) error {
	path, err := exec.LookPath(args[0])
	if err != nil {
		fmt.Fprintf(x.e.stderr, "coffer: run: %s: command not found\n", args[0])
		return exitCode(127)
	}
	child := exec.Command(path, args[1:]...)
	child.Args[0] = args[0] // as given, like a shell does
	child.Env = environ
	child.Stdin, child.Stdout, child.Stderr = x.e.stdin, x.e.stdout, x.e.stderr
	// SIGINT from a terminal reaches the whole process group, the child
	// included: coffer only keeps waiting (run's context catches it).
	// SIGTERM and SIGHUP, which supervisors send to coffer alone, are
	// passed on.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGHUP)
	defer signal.Stop(sigs)
	if err := child.Start(); err != nil {
		fmt.Fprintf(x.e.stderr, "coffer: run: %s: %v\n", args[0], err)
		return exitCode(126)
	}
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = child.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err = child.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return exitCode(128 + int(ws.Signal()))
		}
		return exitCode(ee.ExitCode())
	}
	return fmt.Errorf("run %s: %w", args[0], err)
}
