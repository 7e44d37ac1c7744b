package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/seed-3e8d63de/coffer/internal/config"
)

// The server's configuration file, environment and flags are one thing:
// every flag of `coffer server` is a key of the file under its name in
// lowerCamelCase (--data-dir is dataDir) and an environment variable
// (COFFER_DATA_DIR), and a value given on the command line wins over the
// environment, which wins over the file, which wins over the default. The
// keys, their types, environment variables and descriptions are read from
// the flag set itself, so that a new flag is a new key, a new variable and a
// new row of docs/configuration.md without anything else to write.

// Flag annotations.
const (
	annotEnv    = "coffer-env"    // the flag's environment variable
	annotSecret = "coffer-secret" // the flag's value is a secret: print-config redacts it
)

// notSettings are the flags of `coffer server` that are not settings.
var notSettings = map[string]bool{"config": true, "print-config": true, "help": true}

// serverKey is one setting: a flag of `coffer server`.
type serverKey struct {
	flag *pflag.Flag
	key  string // in the file: lowerCamelCase
	env  string // the environment variable
	kind config.Kind
}

// settingKeys returns the settings of a flag set, by key.
func settingKeys(f *pflag.FlagSet) []serverKey {
	var keys []serverKey
	f.VisitAll(func(fl *pflag.Flag) {
		if notSettings[fl.Name] {
			return
		}
		keys = append(keys, serverKey{flag: fl, key: keyName(fl.Name), env: envNameOf(fl), kind: kindOf(fl)})
	})
	sort.Slice(keys, func(i, j int) bool { return keys[i].key < keys[j].key })
	return keys
}

// keyName turns a flag name into its key: data-dir → dataDir.
func keyName(flag string) string {
	parts := strings.Split(flag, "-")
	for i := 1; i < len(parts); i++ {
		if parts[i] != "" {
			parts[i] = strings.ToUpper(parts[i][:1]) + parts[i][1:]
		}
	}
	return strings.Join(parts, "")
}

// envNameOf returns the environment variable of a flag: the one it was
// declared with, else COFFER_ and its name in upper case.
func envNameOf(fl *pflag.Flag) string {
	if v := fl.Annotations[annotEnv]; len(v) == 1 {
		return v[0]
	}
	return "COFFER_" + strings.ToUpper(strings.ReplaceAll(fl.Name, "-", "_"))
}

// kindOf maps a flag's type to the shape of its value in the file.
func kindOf(fl *pflag.Flag) config.Kind {
	if _, ok := fl.Value.(pflag.SliceValue); ok {
		return config.List
	}
	switch t := fl.Value.Type(); {
	case t == "bool":
		return config.Bool
	case t == "duration":
		return config.Duration
	case strings.HasPrefix(t, "float"):
		return config.Float
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		return config.Int
	}
	return config.String
}

// secretKey reports whether print-config must hide the value of k: flags
// marked secret, and those whose names end in Token, Password, Passphrase
// or Secret (the value itself rather than the file holding it).
func secretKey(k serverKey) bool {
	if len(k.flag.Annotations[annotSecret]) > 0 {
		return true
	}
	n := strings.ToLower(k.key)
	for _, w := range []string{"token", "password", "passphrase", "secret"} {
		if strings.HasSuffix(n, w) {
			return true
		}
	}
	return false
}

// markSecret marks a flag whose value print-config must never show.
func markSecret(f *pflag.FlagSet, name string) {
	_ = f.SetAnnotation(name, annotSecret, []string{"true"})
}

// serverSettings is the outcome of layering: where each setting came from
// and the regions the file declares.
type serverSettings struct {
	keys    []serverKey
	from    map[string]string // key → "flag", "env NAME", "file line N" or "" for the default
	regions *config.File
}

// layerSettings applies the environment, then the configuration file at
// path (none if ""), to every setting of f that the command line did not
// set. It reports every problem at once.
func layerSettings(f *pflag.FlagSet, getenv func(string) string, path string) (*serverSettings, error) {
	st := &serverSettings{keys: settingKeys(f), from: map[string]string{}}
	file := map[string]config.Setting{}
	var problems []problem
	if path != "" {
		known := map[string]config.Kind{}
		for _, k := range st.keys {
			known[k.key] = k.kind
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, usageError{fmt.Errorf("--config: %w", err)}
		}
		doc, err := config.ParseDocument(b, known)
		if err != nil {
			for _, msg := range strings.Split(err.Error(), "\n") {
				problems = append(problems, problem{lineOf(msg), msg})
			}
		}
		for _, s := range doc.Settings {
			file[s.Key] = s
		}
		st.regions = doc.Regions
	}
	for _, k := range st.keys {
		switch {
		case k.flag.Changed:
			st.from[k.key] = "flag"
		case getenv(k.env) != "":
			if err := k.flag.Value.Set(getenv(k.env)); err != nil {
				problems = append(problems, problem{0, fmt.Sprintf("%s: %v", k.env, err)})
			}
			st.from[k.key] = "env " + k.env
		default:
			s, ok := file[k.key]
			if !ok {
				st.from[k.key] = ""
				continue
			}
			var err error
			if sv, isList := k.flag.Value.(pflag.SliceValue); isList {
				err = sv.Replace(s.List)
			} else {
				err = k.flag.Value.Set(s.Value)
			}
			if err != nil {
				problems = append(problems, problem{s.Line, fmt.Sprintf("line %d: %s: %v", s.Line, k.key, err)})
			}
			st.from[k.key] = fmt.Sprintf("file line %d", s.Line)
		}
	}
	if len(problems) == 0 {
		return st, nil
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].line < problems[j].line })
	msgs := make([]string, len(problems))
	for i, p := range problems {
		msgs[i] = p.msg
	}
	where := "configuration"
	if path != "" {
		where = "configuration " + path
	}
	return nil, usageError{fmt.Errorf("%s: %s", where, strings.Join(msgs, "; "))}
}

// problem is an error of the configuration and the line it is on (0 for
// the environment).
type problem struct {
	line int
	msg  string
}

var lineRE = regexp.MustCompile(`^line (\d+)`)

// lineOf returns the line number a message of the YAML decoder or
// ParseDocument starts with, 0 if none.
func lineOf(msg string) int {
	m := lineRE.FindStringSubmatch(strings.TrimPrefix(msg, "yaml: "))
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// value returns the effective value of k as the file spells it.
func (k serverKey) value() (string, []string) {
	if sv, ok := k.flag.Value.(pflag.SliceValue); ok {
		return "", sv.GetSlice()
	}
	return k.flag.Value.String(), nil
}

// redacted is what print-config shows instead of a secret.
const redacted = "<redacted>"

// redactURL hides the password of a URL (postgres://u:pw@host/db, or a
// password= parameter in it or in a key=value connection string).
func redactURL(v string) string {
	if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Host != "" {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), redacted)
		}
		q := u.Query()
		for p := range q {
			if strings.Contains(strings.ToLower(p), "password") {
				q.Set(p, redacted)
			}
		}
		if len(q) > 0 {
			u.RawQuery = q.Encode()
		}
		s := u.String()
		return strings.ReplaceAll(s, url.QueryEscape(redacted), redacted)
	}
	return passwordParam.ReplaceAllString(v, "${1}"+redacted)
}

var passwordParam = regexp.MustCompile(`(?i)(password\s*=\s*)('[^']*'|\S+)`)

// printSettings writes the effective configuration as a configuration file
// that coffer server --config reads back, secrets redacted, each key with
// its description above it and where its value came from beside it.
func printSettings(st *serverSettings) ([]byte, error) {
	var entries []config.Entry
	for _, k := range st.keys {
		v, list := k.value()
		if secretKey(k) && (v != "" || len(list) > 0) {
			v, list = redacted, []string{redacted}
		} else {
			v = redactURL(v)
			for i := range list {
				list[i] = redactURL(list[i])
			}
		}
		from := st.from[k.key]
		if from == "" {
			from = "default"
		}
		entries = append(entries, config.Entry{Key: k.key, Kind: k.kind, Value: v, List: list,
			Head: description(k.flag), Comment: from})
	}
	var regions *config.File
	if st.regions != nil {
		r := *st.regions
		r.Regions = append([]config.Region(nil), r.Regions...)
		for i := range r.Regions {
			r.Regions[i].Storage.URL = redactURL(r.Regions[i].Storage.URL)
		}
		regions = &r
	}
	return config.Encode(entries, regions)
}

// envMention matches the "(COFFER_X)" a flag's usage ends with.
var envMention = regexp.MustCompile(`\s*\(COFFER_[A-Z0-9_]+(=[a-z]+)?\)`)

// description is a flag's usage without its environment variable.
func description(fl *pflag.Flag) string {
	return envMention.ReplaceAllString(fl.Usage, "")
}

// referenceTable is the table of docs/configuration.md: every key, its
// flag, environment variable, type, default and description.
func referenceTable(f *pflag.FlagSet) string {
	types := map[config.Kind]string{config.String: "string", config.Bool: "boolean", config.Int: "integer",
		config.Float: "number", config.Duration: "duration", config.List: "list"}
	var b strings.Builder
	b.WriteString("| key | flag | environment | type | default | description |\n|---|---|---|---|---|---|\n")
	cell := strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace
	for _, k := range settingKeys(f) {
		def := k.flag.DefValue
		switch {
		case def == "" || def == "[]":
			def = ""
		default:
			def = "`" + def + "`"
		}
		fmt.Fprintf(&b, "| `%s` | `--%s` | `%s` | %s | %s | %s |\n", k.key, k.flag.Name, k.env, types[k.kind], def, cell(description(k.flag)))
	}
	return b.String()
}

// levelValue is the --log-level flag: a level name, checked as it is set.
type levelValue struct{ v *slog.LevelVar }

func (l levelValue) Set(s string) error {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(s)); err != nil {
		return errors.New("want debug, info, warn or error")
	}
	l.v.Set(lv)
	return nil
}

func (l levelValue) String() string {
	if l.v == nil {
		return "info"
	}
	return strings.ToLower(l.v.Level().String())
}

func (levelValue) Type() string { return "string" }
