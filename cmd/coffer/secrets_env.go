package main

import (
	"context"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/seed-3e8d63de/coffer/client"
)

// Secrets as environment variables, for coffer run and coffer export.

// envKey is a valid shell variable name (POSIX: letters, digits and
// underscores, not starting with a digit).
var envKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// normalizeKey turns a key into a shell variable name: every character
// outside [A-Za-z0-9_] becomes "_", and a leading digit gets a "_" before
// it. "db.password" → "db_password", "2fa" → "_2fa".
func normalizeKey(k string) string {
	b := []byte(k)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			b[i] = '_'
		}
	}
	s := string(b)
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	return s
}

// loadSecrets reads the current value of each PATH (a PATH ending in "/"
// stands for every secret under it) and merges them into one object in
// the order given: a key of a later secret replaces the same key of an
// earlier one, with a warning on stderr that names the key, never the
// value. Progress is shown on stderr when there are several secrets.
func loadSecrets(ctx context.Context, c *client.Client, paths []string, stderr io.Writer) (*object, map[string]string, error) {
	var all []string
	for _, p := range paths {
		if !strings.HasSuffix(p, "/") {
			all = append(all, p)
			continue
		}
		n := 0
		for s, err := range c.Secrets(ctx, 100) {
			if err != nil {
				return nil, nil, err
			}
			if strings.HasPrefix(s.Path, p) {
				all = append(all, s.Path)
				n++
			}
		}
		if n == 0 {
			return nil, nil, fmt.Errorf("no secret under %s", p)
		}
	}
	var prog *progress
	if len(all) > 1 {
		prog = startProgress(stderr, "reading secrets", len(all))
	}
	merged := newObject()
	from := map[string]string{} // key → the secret it comes from
	for _, p := range all {
		s, err := c.GetSecret(ctx, p, client.GetSecretOptions{IncludeData: true})
		if err != nil {
			return nil, nil, fmt.Errorf("secret %s: %w", p, err)
		}
		if s.Version == nil || len(s.Version.Data) == 0 {
			state := "missing"
			if s.Version != nil {
				state = s.Version.State
			}
			return nil, nil, fmt.Errorf("secret %s has no readable value: its current version is %s", p, state)
		}
		o, err := parseObject(s.Version.Data)
		if err != nil {
			return nil, nil, fmt.Errorf("secret %s: %w", p, err)
		}
		for _, k := range o.keys {
			if prev, ok := from[k]; ok && prev != p {
				fmt.Fprintf(stderr, "coffer: warning: key %s of %s replaces the one of %s\n", k, p, prev)
			}
			merged.set(k, o.vals[k])
			from[k] = p
		}
		if prog != nil {
			prog.step()
		}
	}
	if prog != nil {
		prog.done(fmt.Sprintf("%d secrets, %d keys", len(all), merged.len()))
	}
	return merged, from, nil
}

// envPair is one environment variable.
type envPair struct{ name, value string }

// envVars turns the keys of o into environment variables: string values as
// they are, null as "", other values as compact JSON. A key that is not a
// shell variable name is an error, unless normalize, which renames it with
// normalizeKey. A value holding a NUL byte is an error: no environment can
// carry it.
func envVars(o *object, from map[string]string, normalize bool) ([]envPair, error) {
	var out []envPair
	seen := map[string]string{}
	for _, k := range o.keys {
		name := k
		if !envKey.MatchString(k) {
			if !normalize {
				return nil, fmt.Errorf("key %q of secret %s is not a valid environment variable name ([A-Za-z_][A-Za-z0-9_]*); rename it, or pass --normalize-keys to use %s", k, from[k], normalizeKey(k))
			}
			name = normalizeKey(k)
		}
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("keys %q and %q both become the variable %s", prev, k, name)
		}
		seen[name] = k
		v := valueText(o.vals[k])
		if strings.ContainsRune(v, 0) {
			return nil, fmt.Errorf("the value of key %q of secret %s holds a NUL byte, which an environment variable cannot", k, from[k])
		}
		out = append(out, envPair{name, v})
	}
	return out, nil
}
