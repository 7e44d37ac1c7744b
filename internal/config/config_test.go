package config

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		wantErr []string // substrings of the error; none means valid
	}{
		{"two regions", `
regions:
  - id: eu-west-par
    storage: {type: bolt, path: /data/par.db}
  - id: ca-east-bhs
    storage: {type: postgres, url: "postgres://db/coffer"}
defaultRegion: ca-east-bhs
`, nil},
		{"bolt is the default type", "regions:\n  - id: local\n    storage: {path: x.db}\n", nil},
		{"memory", "regions:\n  - id: local\n    storage: {type: memory}\n", nil},
		{"unknown key names its line", "regions:\n  - id: a\n    storage: {type: memory}\n    colour: blue\n", []string{"line 4", "colour"}},
		{"unknown top-level key", "region: a\n", []string{"line 1", "region"}},
		{"no region", "regions: []\n", []string{"at least one region"}},
		{"region without storage path", "regions:\n  - id: a\n    storage: {type: bolt}\n", []string{"line 2", "needs a path"}},
		{"postgres without url", "regions:\n  - id: a\n  - id: b\n    storage: {type: postgres}\n", []string{"line 3: regions[1]", "needs a url"}},
		{"bad type", "regions:\n  - id: a\n    storage: {type: s3}\n", []string{`type "s3"`}},
		{"bad id", "regions:\n  - id: EU_West\n    storage: {type: memory}\n", []string{"EU_West"}},
		{"duplicate id", "regions:\n  - id: a\n    storage: {type: memory}\n  - id: a\n    storage: {type: memory}\n", []string{"declared twice"}},
		{"shared path", "regions:\n  - id: a\n    storage: {path: x.db}\n  - id: b\n    storage: {path: x.db}\n", []string{"already used"}},
		{"unknown default", "defaultRegion: z\nregions:\n  - id: a\n    storage: {type: memory}\n", []string{`"z" is not a declared region`}},
		{"not yaml", "regions: [\n", []string{"yaml"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse([]byte(tc.in))
			if len(tc.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Parse = %v, want no error", err)
				}
				if f.DefaultRegion == "" || f.Regions[0].Storage.Type == "" {
					t.Errorf("defaults not applied: %+v", f)
				}
				return
			}
			if err == nil {
				t.Fatalf("Parse succeeded, want an error containing %q", tc.wantErr)
			}
			for _, w := range tc.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Parse error %q does not contain %q", err, w)
				}
			}
		})
	}
}
