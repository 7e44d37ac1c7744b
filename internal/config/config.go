// Package config reads coffer's configuration file: the server's settings
// (server.go) and the regions an installation serves with, for each, where
// its data is stored. The file is YAML, decoded strictly (an unknown key is
// an error that names its line), and validated as a whole: every problem is
// reported at once. The YAML library stays inside this package.
package config

import (
	"errors"
	"fmt"
	"regexp"

	yaml "go.yaml.in/yaml/v3"
)

// Storage kinds.
const (
	StorageBolt     = "bolt"
	StorageMemory   = "memory"
	StoragePostgres = "postgres"
)

// File is the configuration file.
//
//	# coffer.yaml
//	defaultRegion: eu-west-par      # optional: the first region otherwise
//	regions:
//	  - id: eu-west-par
//	    storage:
//	      type: bolt                # bolt (default), memory or postgres
//	      path: /var/lib/coffer/eu-west-par.db
//	  - id: ca-east-bhs
//	    storage:
//	      type: postgres
//	      url: postgres://coffer@db-bhs/coffer
type File struct {
	DefaultRegion string   `yaml:"defaultRegion"`
	Regions       []Region `yaml:"regions"`
}

// Region declares one region and its storage.
type Region struct {
	ID      string  `yaml:"id"`
	Storage Storage `yaml:"storage"`
}

// Storage says where a region's data lives.
type Storage struct {
	Type string `yaml:"type"`
	Path string `yaml:"path"` // bolt: the database file
	URL  string `yaml:"url"`  // postgres: the connection URL
}

var regionRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// Parse decodes and validates a file that declares regions and nothing
// else. Unknown keys are errors that name their line.
func Parse(b []byte) (File, error) {
	doc, err := ParseDocument(b, nil)
	if err != nil {
		return File{}, err
	}
	if doc.Regions == nil {
		return File{}, errors.New("regions: at least one region is required")
	}
	return *doc.Regions, nil
}

// regionLines returns the line of each item of the regions list.
func regionLines(doc *yaml.Node) []int {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == "regions" {
			var lines []int
			for _, it := range m.Content[i+1].Content {
				lines = append(lines, it.Line)
			}
			return lines
		}
	}
	return nil
}

// validate reports every problem of f at once (errors.Join).
func (f *File) validate(lines []int) error {
	var errs []error
	at := func(i int) string {
		if i < len(lines) {
			return fmt.Sprintf("line %d: regions[%d]", lines[i], i)
		}
		return fmt.Sprintf("regions[%d]", i)
	}
	if len(f.Regions) == 0 {
		errs = append(errs, errors.New("regions: at least one region is required"))
	}
	seen := map[string]bool{}
	for i := range f.Regions {
		r := &f.Regions[i]
		switch {
		case !regionRE.MatchString(r.ID):
			errs = append(errs, fmt.Errorf("%s: id %q must be 1 to 63 characters of a-z, 0-9 and -", at(i), r.ID))
		case seen[r.ID]:
			errs = append(errs, fmt.Errorf("%s: region %q is declared twice", at(i), r.ID))
		}
		seen[r.ID] = true
		if r.Storage.Type == "" {
			r.Storage.Type = StorageBolt
		}
		switch r.Storage.Type {
		case StorageBolt:
			if r.Storage.Path == "" {
				errs = append(errs, fmt.Errorf("%s: storage: a bolt region needs a path", at(i)))
			}
			if r.Storage.URL != "" {
				errs = append(errs, fmt.Errorf("%s: storage: url is for postgres, not bolt", at(i)))
			}
		case StoragePostgres:
			if r.Storage.URL == "" {
				errs = append(errs, fmt.Errorf("%s: storage: a postgres region needs a url", at(i)))
			}
			if r.Storage.Path != "" {
				errs = append(errs, fmt.Errorf("%s: storage: path is for bolt, not postgres", at(i)))
			}
		case StorageMemory:
			if r.Storage.Path != "" || r.Storage.URL != "" {
				errs = append(errs, fmt.Errorf("%s: storage: a memory region takes neither path nor url", at(i)))
			}
		default:
			errs = append(errs, fmt.Errorf("%s: storage: type %q is not one of bolt, memory, postgres", at(i), r.Storage.Type))
		}
	}
	paths := map[string]int{}
	for i, r := range f.Regions {
		if r.Storage.Type == StorageBolt && r.Storage.Path != "" {
			if j, dup := paths[r.Storage.Path]; dup {
				errs = append(errs, fmt.Errorf("%s: storage: path is already used by regions[%d]; each region keeps its data apart", at(i), j))
			}
			paths[r.Storage.Path] = i
		}
	}
	if f.DefaultRegion != "" && !seen[f.DefaultRegion] {
		errs = append(errs, fmt.Errorf("defaultRegion: %q is not a declared region", f.DefaultRegion))
	}
	if f.DefaultRegion == "" && len(f.Regions) > 0 {
		f.DefaultRegion = f.Regions[0].ID
	}
	return errors.Join(errs...)
}
