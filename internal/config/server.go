package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// The server configuration file (`coffer server --config FILE`) holds the
// regions section of [File] (defaultRegion, regions) beside the server's
// settings, one top-level key per setting. The settings are the server
// command's flags under their lowerCamelCase names; this package does not
// know them: the command passes the keys it accepts and applies the values
// (cmd/coffer), so that a new flag is a new key without a change here.
//
//	# /etc/coffer/server.yaml
//	listen: 0.0.0.0:8200
//	dataDir: /var/lib/coffer
//	tlsCert: /etc/coffer/tls/server.crt
//	tlsKey: /etc/coffer/tls/server.key
//	auditFile: /var/log/coffer/audit.log
//	rateLimit: 50
//	regions:                      # optional: one region on dataDir otherwise
//	  - id: eu-west-par
//	    storage: {type: postgres, url: "postgres://coffer@db/coffer"}

// Kind is the shape of a setting's value.
type Kind uint8

// Kinds of settings.
const (
	String   Kind = iota // a YAML scalar, taken as text
	Bool                 // true or false
	Int                  // a whole number
	Float                // a number
	Duration             // a Go duration: 10s, 5m
	List                 // a YAML sequence of scalars
)

// Setting is one top-level key of a configuration file other than the
// regions section, with the line it is on.
type Setting struct {
	Key   string
	Line  int
	Value string   // the scalar, for every kind but List
	List  []string // the items, for List
}

// Document is a decoded server configuration file.
type Document struct {
	Settings []Setting // in the order of the file
	Regions  *File     // nil when the file declares no regions
}

// document is the decoding target: the regions section is decoded
// strictly (KnownFields applies to Region and Storage), every other
// top-level key lands in Rest, which ParseDocument checks against the
// known keys.
type document struct {
	DefaultRegion *string              `yaml:"defaultRegion"`
	Regions       *[]Region            `yaml:"regions"`
	Rest          map[string]yaml.Node `yaml:",inline"`
}

// ParseDocument decodes a server configuration file strictly: every
// top-level key must be defaultRegion, regions or one of known, a setting
// of kind List must be a sequence of scalars and any other a scalar, and
// the regions section is validated as [Parse] does. Every problem is
// reported at once (errors.Join), each naming its line and key.
func ParseDocument(b []byte, known map[string]Kind) (Document, error) {
	d, err := decodeDocument(b)
	if err != nil {
		return Document{}, err
	}
	var errs []error
	keys := make([]string, 0, len(d.Rest))
	for k := range d.Rest {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return d.Rest[keys[i]].Line < d.Rest[keys[j]].Line })
	var doc Document
	for _, k := range keys {
		n := d.Rest[k]
		kind, ok := known[k]
		if !ok {
			errs = append(errs, fmt.Errorf("line %d: unknown key %q%s", n.Line, k, suggest(k, known)))
			continue
		}
		s, err := setting(k, kind, &n)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		doc.Settings = append(doc.Settings, s)
	}
	regions, err := d.regions(b)
	if err != nil {
		errs = append(errs, err)
	}
	doc.Regions = regions
	return doc, errors.Join(errs...)
}

// LoadRegions reads the regions section of the configuration file at
// path, strictly and validated; the other keys are the command's to check.
// declared is false when the file has no regions section.
func LoadRegions(path string) (f File, declared bool, err error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return File{}, false, fmt.Errorf("config: %w", err)
	}
	d, err := decodeDocument(b)
	if err == nil {
		var r *File
		if r, err = d.regions(b); err == nil && r != nil {
			return *r, true, nil
		}
	}
	if err != nil {
		return File{}, false, fmt.Errorf("config %s: %w", path, err)
	}
	return File{}, false, nil
}

func decodeDocument(b []byte) (document, error) {
	var d document
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil && !errors.Is(err, io.EOF) {
		return document{}, err
	}
	return d, nil
}

// regions returns the validated regions section, nil if there is none.
func (d *document) regions(b []byte) (*File, error) {
	if d.Regions == nil {
		if d.DefaultRegion != nil {
			return nil, errors.New("defaultRegion: it names one of the regions declared under regions; without them, set region")
		}
		return nil, nil
	}
	f := File{Regions: *d.Regions}
	if d.DefaultRegion != nil {
		f.DefaultRegion = *d.DefaultRegion
	}
	var doc yaml.Node
	_ = yaml.Unmarshal(b, &doc)
	if err := f.validate(regionLines(&doc)); err != nil {
		return nil, err
	}
	return &f, nil
}

// setting checks the shape of key's value n against kind.
func setting(key string, kind Kind, n *yaml.Node) (Setting, error) {
	s := Setting{Key: key, Line: n.Line}
	scalar := func(n *yaml.Node) (string, bool) {
		if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
			return "", false
		}
		return n.Value, true
	}
	if kind == List {
		if n.Kind != yaml.SequenceNode {
			return s, fmt.Errorf("line %d: %s: want a list (- item per line, or [a, b])", n.Line, key)
		}
		s.List = []string{}
		for _, it := range n.Content {
			v, ok := scalar(it)
			if !ok {
				return s, fmt.Errorf("line %d: %s: each item must be a single value", it.Line, key)
			}
			s.List = append(s.List, v)
		}
		return s, nil
	}
	v, ok := scalar(n)
	switch {
	case n.Kind == yaml.ScalarNode && !ok:
		return s, fmt.Errorf("line %d: %s: no value (remove the key to keep the default)", n.Line, key)
	case !ok:
		return s, fmt.Errorf("line %d: %s: want a single value, not a list or a map", n.Line, key)
	}
	s.Value = v
	return s, nil
}

// suggest proposes the known key that k is most likely a misspelling of:
// the same letters in another case, with - or _ (data_dir, data-dir and
// DataDir for dataDir).
func suggest(k string, known map[string]Kind) string {
	norm := func(s string) string { return strings.ToLower(strings.NewReplacer("-", "", "_", "").Replace(s)) }
	want := norm(k)
	if want == "defaultregion" {
		return `; did you mean "defaultRegion"?`
	}
	for name := range known {
		if norm(name) == want {
			return fmt.Sprintf("; did you mean %q?", name)
		}
	}
	return ""
}

// Entry is one setting of an encoded configuration ([Encode]).
type Entry struct {
	Key     string
	Kind    Kind
	Value   string   // every kind but List
	List    []string // List
	Comment string   // written on the line of the key, after #
	Head    string   // written on the lines above the key
}

// Encode writes a configuration file holding entries, in their order,
// then the regions section when regions is not nil. What it writes parses
// back with [ParseDocument] to the same values.
func Encode(entries []Entry, regions *File) ([]byte, error) {
	root := &yaml.Node{Kind: yaml.MappingNode}
	for _, e := range entries {
		k := &yaml.Node{Kind: yaml.ScalarNode, Value: e.Key, HeadComment: e.Head, LineComment: e.Comment}
		var v *yaml.Node
		if e.Kind == List {
			v = &yaml.Node{Kind: yaml.SequenceNode}
			for _, it := range e.List {
				v.Content = append(v.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: it})
			}
			if len(e.List) == 0 {
				v.Style = yaml.FlowStyle
			}
		} else {
			v = &yaml.Node{Kind: yaml.ScalarNode, Value: e.Value}
			if e.Kind == String {
				v.Tag = "!!str" // quoted if it would read as another type
			}
		}
		root.Content = append(root.Content, k, v)
	}
	if regions != nil {
		type storage struct {
			Type string `yaml:"type"`
			Path string `yaml:"path,omitempty"`
			URL  string `yaml:"url,omitempty"`
		}
		type region struct {
			ID      string  `yaml:"id"`
			Storage storage `yaml:"storage"`
		}
		rs := make([]region, len(regions.Regions))
		for i, r := range regions.Regions {
			rs[i] = region{r.ID, storage(r.Storage)}
		}
		var v yaml.Node
		if err := v.Encode(rs); err != nil {
			return nil, err
		}
		root.Content = append(root.Content,
			&yaml.Node{Kind: yaml.ScalarNode, Value: "defaultRegion"},
			&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: regions.DefaultRegion},
			&yaml.Node{Kind: yaml.ScalarNode, Value: "regions"}, &v)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(&yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
