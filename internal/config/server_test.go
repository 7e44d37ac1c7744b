package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var knownKeys = map[string]Kind{
	"listen": String, "dataDir": String, "tlsAuto": Bool, "rateLimit": Float,
	"rateBurst": Int, "reloadInterval": Duration, "tags": List,
}

func TestParseDocument(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		in      string
		want    []Setting
		regions bool
		wantErr []string // substrings of the error; none means valid
	}{
		{"settings only", "listen: 0.0.0.0:8200\ntlsAuto: true\nrateLimit: 2.5\n", []Setting{
			{Key: "listen", Line: 1, Value: "0.0.0.0:8200"}, {Key: "tlsAuto", Line: 2, Value: "true"}, {Key: "rateLimit", Line: 3, Value: "2.5"},
		}, false, nil},
		{"empty file", "", nil, false, nil},
		{"comments only", "# nothing yet\n", nil, false, nil},
		{"list", "tags: [a, b]\n", []Setting{{Key: "tags", Line: 1, List: []string{"a", "b"}}}, false, nil},
		{"settings and regions", "dataDir: /d\ndefaultRegion: b\nregions:\n  - id: a\n    storage: {type: memory}\n  - id: b\n    storage: {type: memory}\n",
			[]Setting{{Key: "dataDir", Line: 1, Value: "/d"}}, true, nil},
		{"explicit empty string", "dataDir: ''\n", []Setting{{Key: "dataDir", Line: 1, Value: ""}}, false, nil},
		{"unknown key", "listen: x\ncolour: blue\n", nil, false, []string{`line 2: unknown key "colour"`}},
		{"misspelt key", "data_dir: /d\n", nil, false, []string{`line 1: unknown key "data_dir"; did you mean "dataDir"?`}},
		{"flag spelling", "data-dir: /d\n", nil, false, []string{`did you mean "dataDir"?`}},
		{"every problem at once", "colour: blue\nlisten: [a]\nsize: 3\n", nil, false,
			[]string{`line 1: unknown key "colour"`, "line 2: listen: want a single value", `line 3: unknown key "size"`}},
		{"null value", "listen:\n", nil, false, []string{"line 1: listen: no value"}},
		{"map for a scalar", "listen:\n  host: a\n", nil, false, []string{"line 2: listen: want a single value"}},
		{"scalar for a list", "tags: a\n", nil, false, []string{"line 1: tags: want a list"}},
		{"duplicate key", "listen: a\nlisten: b\n", nil, false, []string{"line 2", `"listen" already defined at line 1`}},
		{"nested unknown key in regions", "regions:\n  - id: a\n    storage: {type: memory}\n    colour: blue\n", nil, false, []string{"line 4", "colour"}},
		{"bad region and bad setting", "regions:\n  - id: A\n    storage: {type: memory}\nsize: 1\n", nil, false, []string{`id "A"`, `line 4: unknown key "size"`}},
		{"defaultRegion without regions", "defaultRegion: a\n", nil, false, []string{"defaultRegion", "set region"}},
		{"not a mapping", "- a\n", nil, false, []string{"yaml"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			doc, err := ParseDocument([]byte(tc.in), knownKeys)
			if len(tc.wantErr) > 0 {
				if err == nil {
					t.Fatalf("ParseDocument succeeded, want an error containing %q", tc.wantErr)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseDocument = %v", err)
			}
			if !reflect.DeepEqual(doc.Settings, tc.want) {
				t.Errorf("settings = %+v, want %+v", doc.Settings, tc.want)
			}
			if (doc.Regions != nil) != tc.regions {
				t.Errorf("regions = %+v, want declared %v", doc.Regions, tc.regions)
			}
		})
	}
}

func TestLoadRegions(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, s string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// Other keys are the command's to check: LoadRegions takes the regions.
	f, declared, err := LoadRegions(write("a.yaml", "listen: x\nregions:\n  - id: a\n    storage: {path: a.db}\n"))
	if err != nil || !declared || f.DefaultRegion != "a" || f.Regions[0].Storage.Type != StorageBolt {
		t.Errorf("LoadRegions = %+v, %v, %v", f, declared, err)
	}
	if _, declared, err := LoadRegions(write("b.yaml", "listen: x\n")); err != nil || declared {
		t.Errorf("LoadRegions of a file without regions = %v, %v; want none declared", declared, err)
	}
	_, _, err = LoadRegions(write("c.yaml", "regions:\n  - id: a\n    storage: {type: bolt}\n"))
	if err == nil || !strings.Contains(err.Error(), "c.yaml") || !strings.Contains(err.Error(), "needs a path") {
		t.Errorf("LoadRegions of an invalid region = %v", err)
	}
	if _, _, err := LoadRegions(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("LoadRegions of a missing file succeeded")
	}
}

// TestEncodeRoundTrip: what Encode writes parses back to the same values,
// comments and all kinds included.
func TestEncodeRoundTrip(t *testing.T) {
	t.Parallel()
	entries := []Entry{
		{Key: "listen", Kind: String, Value: "0.0.0.0:8200", Comment: "from COFFER_LISTEN", Head: "address to listen on"},
		{Key: "dataDir", Kind: String, Value: ""},
		{Key: "tlsAuto", Kind: Bool, Value: "false"},
		{Key: "rateLimit", Kind: Float, Value: "0"},
		{Key: "rateBurst", Kind: Int, Value: "12"},
		{Key: "reloadInterval", Kind: Duration, Value: "10s"},
		{Key: "tags", Kind: List, List: []string{}},
	}
	regions := &File{DefaultRegion: "b", Regions: []Region{
		{ID: "a", Storage: Storage{Type: StorageBolt, Path: "/d/a.db"}},
		{ID: "b", Storage: Storage{Type: StoragePostgres, URL: "postgres://coffer@db/coffer"}},
	}}
	b, err := Encode(entries, regions)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := ParseDocument(b, knownKeys)
	if err != nil {
		t.Fatalf("ParseDocument of Encode's output = %v\n%s", err, b)
	}
	if len(doc.Settings) != len(entries) {
		t.Fatalf("%d settings back, want %d:\n%s", len(doc.Settings), len(entries), b)
	}
	for i, s := range doc.Settings {
		e := entries[i]
		if s.Key != e.Key || s.Value != e.Value || (e.Kind == List && !reflect.DeepEqual(s.List, e.List)) {
			t.Errorf("setting %d = %+v, want %+v", i, s, e)
		}
	}
	if !reflect.DeepEqual(doc.Regions, regions) {
		t.Errorf("regions = %+v, want %+v", doc.Regions, regions)
	}
	for _, w := range []string{"# address to listen on\nlisten: 0.0.0.0:8200 # from COFFER_LISTEN\n", "dataDir: \"\"\n", "tags: []\n"} {
		if !strings.Contains(string(b), w) {
			t.Errorf("Encode output lacks %q:\n%s", w, b)
		}
	}
}
