package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// coffer export: print secrets in a format other programs read.

func newExportCmd(x *cli) *cobra.Command {
	var (
		format    string
		normalize bool
	)
	cmd := &cobra.Command{
		Use:   "export PATH [PATH...]",
		Short: "Print the keys of secrets as env, JSON or YAML",
		Long: `Print the keys of the current value of each secret (merged, the later secret
winning on a shared key; a PATH ending in "/" stands for every secret under
it) in one of three formats:

  env   export KEY='value' lines that sh, bash and zsh can source: every value
        is single-quoted, a ' inside written as '\'', so sourcing the output
        never runs anything, whatever the values hold. String values are
        exported as they are, null as '', other values as compact JSON. Keys
        must be valid variable names ([A-Za-z_][A-Za-z0-9_]*): the command
        fails on any other key, unless --normalize-keys, which turns every
        other character into "_" (db.password becomes db_password, 2fa
        becomes _2fa).
  json  one JSON object, values with their JSON types.
  yaml  one YAML mapping, keys and string values double-quoted.

Progress goes to stderr when there are several secrets.`,
		Example: `  coffer export prod/db --format env > db.env && . ./db.env
  eval "$(coffer export prod/db)"
  coffer export prod/ --format json > prod.json
  coffer export prod/db prod/api --format yaml`,
		Args: minArgs(1, "one PATH or more"),
		RunE: func(cmd *cobra.Command, args []string) error {
			switch format {
			case "env", "json", "yaml":
			default:
				return usagef("--format must be env, json or yaml, not %q", format)
			}
			c, err := x.client()
			if err != nil {
				return err
			}
			o, from, err := loadSecrets(cmd.Context(), c, args, x.e.stderr)
			if err != nil {
				return err
			}
			var b bytes.Buffer
			switch format {
			case "json":
				if err := printJSON(&b, o); err != nil {
					return err
				}
			case "yaml":
				if err := writeYAML(&b, o); err != nil {
					return err
				}
			case "env":
				vars, err := envVars(o, from, normalize)
				if err != nil {
					return err
				}
				for _, v := range vars {
					fmt.Fprintf(&b, "export %s=%s\n", v.name, shellQuote(v.value))
				}
			}
			_, err = x.e.stdout.Write(b.Bytes())
			return err
		},
	}
	cmd.Flags().StringVar(&format, "format", "env", "output format: env, json or yaml")
	cmd.Flags().BoolVar(&normalize, "normalize-keys", false, "env: rename keys that are not variable names instead of failing")
	x.connFlags(cmd, false)
	return cmd
}

// shellQuote quotes s for POSIX shells: inside single quotes nothing is
// special but the single quote itself, which is written as
//
//	'\''
//
// (close the quotes, an escaped quote, reopen them). Newlines, $,
// backquotes and ; stay literal.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// writeYAML writes o as a YAML block mapping whose keys and values are
// written in JSON syntax, which YAML 1.2 reads as flow nodes: every string
// is double-quoted, so no value can be read as another type (no, 1e3,
// null...) or as YAML syntax. Characters YAML does not allow unescaped
// (control characters, DEL, C1 controls, line and paragraph separators,
// BOM) are escaped as \uXXXX.
func writeYAML(b *bytes.Buffer, o *object) error {
	if o.len() == 0 {
		b.WriteString("{}\n")
		return nil
	}
	for _, k := range o.keys {
		b.WriteString(yamlQuote(k))
		b.WriteString(": ")
		if err := yamlFlow(b, o.vals[k]); err != nil {
			return err
		}
		b.WriteByte('\n')
	}
	return nil
}

// yamlFlow writes a JSON value as a YAML flow node, token by token, so
// that object keys keep their order.
func yamlFlow(b *bytes.Buffer, raw json.RawMessage) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	type frame struct {
		obj bool
		n   int
	}
	var stack []frame
	sep := func() {
		if len(stack) == 0 {
			return
		}
		f := &stack[len(stack)-1]
		switch {
		case f.obj && f.n%2 == 1:
			b.WriteString(": ")
		case f.n > 0:
			b.WriteString(", ")
		}
		f.n++
	}
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				sep()
				b.WriteByte(byte(t))
				stack = append(stack, frame{obj: t == '{'})
			} else {
				stack = stack[:len(stack)-1]
				b.WriteByte(byte(t))
			}
		case string:
			sep()
			b.WriteString(yamlQuote(t))
		case json.Number:
			sep()
			b.WriteString(t.String())
		case bool:
			sep()
			fmt.Fprint(b, t)
		case nil:
			sep()
			b.WriteString("null")
		}
	}
}

// yamlQuote double-quotes s for YAML with escapes YAML and JSON share.
func yamlQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0x2028 || r == 0x2029 || r == 0xfeff:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
