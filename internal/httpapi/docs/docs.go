// Package docs serves the OpenAPI 3.0.3 description of coffer's REST
// surfaces: surface A (/v2/okms/...), surface B (/api/{okmsId}/v2/...),
// identity management (/1.0/me/identity/..., /v2/iam/policy...) and the
// operator routes (/sys/...). The
// document is the hand-maintained openapi.json beside this file, embedded
// in the binary; GET /docs/openapi.json serves it and GET /docs renders it
// as a small HTML page, the swaggerEndpoint of every domain (okms-rest.md
// 5.3).
//
// Tests check the document against the route tables of the rest, central,
// iamapi and sys packages in both directions: every route they register is
// documented and every documented route is served. A route added to one of
// them must be added to openapi.json.
package docs

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
)

//go:embed openapi.json
var document []byte

// Document returns the OpenAPI document, JSON.
func Document() []byte { return bytes.Clone(document) }

// ContentSecurityPolicy is the policy of the HTML page: it loads nothing,
// runs no script, and styles itself inline.
const ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'"

// DocumentHandler serves GET /docs/openapi.json.
func DocumentHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(document)
	})
}

// PageHandler serves GET /docs: the routes of the document, grouped by
// surface, with their method, path, summary and IAM actions. The page is
// rendered once, server-side, and has no script and no external asset.
func PageHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := page()
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		if err != nil {
			// Unreachable while the tests pass: the document is embedded.
			h.Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte(`{"errors":["the API documentation could not be rendered"]}`))
			return
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", ContentSecurityPolicy)
		h.Set("Referrer-Policy", "no-referrer")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(b)
	})
}

// page renders the HTML page once.
var page = sync.OnceValues(func() ([]byte, error) {
	m, err := parse(document)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
})

// The parts of the OpenAPI document the page shows.
type openAPI struct {
	OpenAPI string `json:"openapi"`
	Info    struct {
		Title       string `json:"title"`
		Version     string `json:"version"`
		Description string `json:"description"`
	} `json:"info"`
	Tags []struct {
		Name        string `json:"name"`
		Description string `json:"description"`
	} `json:"tags"`
	Paths map[string]map[string]json.RawMessage `json:"paths"`
}

type operation struct {
	Tags        []string `json:"tags"`
	Summary     string   `json:"summary"`
	Description string   `json:"description"`
}

// methods are the HTTP methods of an OpenAPI path item, in the order the
// page lists them.
var methods = []string{"get", "post", "put", "patch", "delete", "head", "options", "trace"}

// model is what the page template renders.
type model struct {
	Title, Version string
	Intro          []string // paragraphs
	Sections       []section
}

type section struct {
	Name   string
	Intro  []string
	Routes []route
}

type route struct {
	Method, Path, Summary string
	IAM                   []iamRow
}

// iamRow is one row of the "Action IAM" table of an operation's
// description, as in OVHcloud's swagger: an action (or "—" for routes
// governed otherwise) and what it is needed for.
type iamRow struct {
	Action, Note string
}

// IsAction reports whether the row names an IAM action.
func (r iamRow) IsAction() bool { return strings.HasPrefix(r.Action, "okms:") }

// parse builds the page model from the document.
func parse(doc []byte) (model, error) {
	var d openAPI
	if err := json.Unmarshal(doc, &d); err != nil {
		return model{}, fmt.Errorf("openapi.json: %w", err)
	}
	m := model{Title: d.Info.Title, Version: d.Info.Version, Intro: paragraphs(d.Info.Description)}
	index := map[string]int{}
	for _, t := range d.Tags {
		index[t.Name] = len(m.Sections)
		m.Sections = append(m.Sections, section{Name: t.Name, Intro: paragraphs(t.Description)})
	}
	paths := make([]string, 0, len(d.Paths))
	for p := range d.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		for _, meth := range methods {
			raw, ok := d.Paths[p][meth]
			if !ok {
				continue
			}
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				return model{}, fmt.Errorf("openapi.json: %s %s: %w", meth, p, err)
			}
			if len(op.Tags) == 0 {
				return model{}, fmt.Errorf("openapi.json: %s %s has no tag", meth, p)
			}
			i, ok := index[op.Tags[0]]
			if !ok {
				return model{}, fmt.Errorf("openapi.json: %s %s: tag %q is not declared", meth, p, op.Tags[0])
			}
			m.Sections[i].Routes = append(m.Sections[i].Routes, route{
				Method: strings.ToUpper(meth), Path: p, Summary: op.Summary, IAM: iamRows(op.Description),
			})
		}
	}
	if len(m.Sections) == 0 || !slices.ContainsFunc(m.Sections, func(s section) bool { return len(s.Routes) > 0 }) {
		return model{}, errors.New("openapi.json: no route")
	}
	return m, nil
}

// iamRows returns the rows of the "Action IAM" table of a description: the
// lines "| action | note |" after its header and separator lines.
func iamRows(description string) []iamRow {
	var rows []iamRow
	for line := range strings.SplitSeq(description, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "|") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 2 {
			continue
		}
		action, note := strings.TrimSpace(cells[0]), strings.TrimSpace(cells[1])
		if action == "Action IAM" || strings.HasPrefix(action, "---") {
			continue
		}
		rows = append(rows, iamRow{Action: action, Note: note})
	}
	return rows
}

// paragraphs splits text at blank lines.
func paragraphs(text string) []string {
	var out []string
	for p := range strings.SplitSeq(text, "\n\n") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

var pageTemplate = template.Must(template.New("docs").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} {{.Version}}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 80rem; padding: 0 1rem; color: #1b1b1b; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.5rem; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; width: 100%; font-size: 0.92rem; }
th, td { text-align: left; vertical-align: top; padding: 0.35rem 0.6rem; border-bottom: 1px solid #e3e3e3; }
th { background: #f3f3f3; }
code { font-family: ui-monospace, monospace; font-size: 0.9em; }
.method { font-family: ui-monospace, monospace; font-weight: bold; white-space: nowrap; }
.path { font-family: ui-monospace, monospace; word-break: break-all; }
ul.iam { margin: 0; padding-left: 1rem; }
.note { color: #555; }
</style>
</head>
<body>
<h1>{{.Title}} <small>{{.Version}}</small></h1>
<p>The machine-readable OpenAPI 3.0.3 document is <a href="docs/openapi.json">/docs/openapi.json</a>.</p>
{{range .Intro}}<p>{{.}}</p>
{{end}}
{{- range .Sections}}
<section>
<h2>{{.Name}}</h2>
{{range .Intro}}<p>{{.}}</p>
{{end -}}
<table>
<thead><tr><th>Method</th><th>Path</th><th>Summary</th><th>IAM actions</th></tr></thead>
<tbody>
{{- range .Routes}}
<tr><td class="method">{{.Method}}</td><td class="path">{{.Path}}</td><td>{{.Summary}}</td><td><ul class="iam">
{{- range .IAM}}<li>{{if .IsAction}}<code>{{.Action}}</code>{{else}}{{.Action}}{{end}} <span class="note">{{.Note}}</span></li>{{end -}}
</ul></td></tr>
{{- end}}
</tbody>
</table>
</section>
{{- end}}
</body>
</html>
`))
