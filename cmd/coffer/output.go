package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
)

// Output helpers shared by the command groups: JSON, tables, progress.

// printJSON writes v as indented JSON, HTML characters unescaped.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table writes aligned columns with text/tabwriter.
type table struct {
	tw *tabwriter.Writer
}

// newTable starts a table with a header row; no header if none given.
func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

// row writes one row; cells are sanitised so that a value cannot break
// the table (tabs, newlines and other control characters are escaped).
func (t *table) row(cells ...string) {
	for i, c := range cells {
		cells[i] = cell(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// cell shows s on one line: a string holding control characters is shown
// quoted, with Go escapes.
func cell(s string) string {
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		q := fmt.Sprintf("%q", s)
		return q
	}
	return s
}

// pairs writes a vertical key/value table, as vault does.
func pairs(w io.Writer, kv ...[2]string) error {
	t := newTable(w, "Key", "Value")
	t.row("---", "-----")
	for _, p := range kv {
		t.row(p[0], p[1])
	}
	return t.flush()
}

// heading writes a section title: "== title ==".
func heading(w io.Writer, title string) {
	fmt.Fprintf(w, "== %s ==\n", title)
}

// valueText renders a JSON value for a table or an environment variable:
// a string as itself, null as "", anything else as compact JSON.
func valueText(raw json.RawMessage) string {
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return s
	}
	if string(bytes.TrimSpace(raw)) == "null" {
		return ""
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return string(raw)
	}
	return b.String()
}

// mapText renders a string map as k=v pairs sorted by key, "-" if empty.
func mapText(m map[string]string) string {
	if len(m) == 0 {
		return "-"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + m[k]
	}
	return strings.Join(parts, ",")
}

// optText renders an optional string, "-" if nil or empty.
func optText(s *string) string {
	if s == nil {
		return "-"
	}
	return dash(*s)
}

// isTerminal reports whether f is an interactive terminal. Tests pass
// writers that report it themselves.
func isTerminal(f any) bool {
	if t, ok := f.(interface{ IsTerminal() bool }); ok {
		return t.IsTerminal()
	}
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	fi, err := file.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// progress reports a long operation on stderr: on a terminal it rewrites
// one line ("exporting 12/40"); elsewhere it writes one line when it
// starts and one when it ends, so that logs stay readable.
type progress struct {
	w     io.Writer
	tty   bool
	label string
	total int
	n     int
	start time.Time
}

// startProgress begins reporting; total 0 means unknown (a spinner).
func startProgress(w io.Writer, label string, total int) *progress {
	p := &progress{w: w, tty: isTerminal(w), label: label, total: total, start: time.Now()}
	if !p.tty {
		if total > 0 {
			fmt.Fprintf(w, "%s: %d to do\n", label, total)
		} else {
			fmt.Fprintf(w, "%s...\n", label)
		}
	} else {
		p.draw()
	}
	return p
}

var spinner = []string{"|", "/", "-", "\\"}

func (p *progress) draw() {
	if p.total > 0 {
		fmt.Fprintf(p.w, "\r%s: %d/%d", p.label, p.n, p.total)
		return
	}
	fmt.Fprintf(p.w, "\r%s %s %ds", p.label, spinner[p.n%len(spinner)], int(time.Since(p.start).Seconds()))
}

// step marks one more unit done (or one more tick of the spinner).
func (p *progress) step() {
	p.n++
	if p.tty {
		p.draw()
	}
}

// done ends the report with a final message.
func (p *progress) done(msg string) {
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, "%s: %s\n", p.label, msg)
}
