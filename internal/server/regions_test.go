package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/storage"
	"github.com/seed-3e8d63de/coffer/internal/storage/boltstore"
)

const token = "cof_root_regions-test"

type client struct {
	t   *testing.T
	url string
}

func (c client) do(method, path, body string) (int, map[string]any, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.url+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m, b
}

// activate creates a domain in region through the central API and waits
// until it is ready.
func (c client) activate(region, name string) string {
	c.t.Helper()
	st, m, b := c.do("POST", "/v2/okms/resource", fmt.Sprintf(`{"region":%q,"displayName":%q}`, region, name))
	if st != 200 {
		c.t.Fatalf("activate in %s = %d %s", region, st, b)
	}
	id := m["id"].(string)
	if state := m["iam"].(map[string]any)["state"]; state != "IN_CREATION" && state != "OK" {
		c.t.Fatalf("a new domain is in state %v, want IN_CREATION (or already OK)", state)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		st, m, b = c.do("GET", "/v2/okms/resource/"+id, "")
		if st == 200 && m["iam"].(map[string]any)["state"] == "OK" {
			return id
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("domain %s never became ready: %d %s", id, st, b)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func writeConfig(t *testing.T, dir string) (cfgPath, parDB, bhsDB string) {
	t.Helper()
	parDB, bhsDB = filepath.Join(dir, "par", "coffer.db"), filepath.Join(dir, "bhs", "coffer.db")
	cfgPath = filepath.Join(dir, "coffer.yaml")
	yaml := fmt.Sprintf("defaultRegion: eu-west-par\nregions:\n  - id: eu-west-par\n    storage: {type: bolt, path: %s}\n  - id: ca-east-bhs\n    storage: {type: bolt, path: %s}\n", parDB, bhsDB)
	if err := os.WriteFile(cfgPath, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return
}

// keysOf lists every key of a bolt file, opened raw (ciphertext).
func keysOf(t *testing.T, path string) []string {
	t.Helper()
	b, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var keys []string
	err = b.View(context.Background(), func(tx storage.Tx) (err error) {
		keys, err = tx.List("", "", 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

func countPrefix(keys []string, prefix string) int {
	n := 0
	for _, k := range keys {
		if strings.HasPrefix(k, prefix) {
			n++
		}
	}
	return n
}

// TestRegionsAndDomainLifecycle runs the activation flow of issue #5 on a
// two-region configuration whose regions are two separate bolt files.
func TestRegionsAndDomainLifecycle(t *testing.T) {
	dir := t.TempDir()
	cfgPath, parDB, bhsDB := writeConfig(t, dir)
	cfg := server.Defaults()
	cfg.ConfigFile, cfg.DataDir, cfg.RootToken = cfgPath, filepath.Join(dir, "data"), token
	cfg.Logger, cfg.Out = slog.New(slog.DiscardHandler), io.Discard
	srv, err := server.New(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	c := client{t: t, url: hs.URL}

	st, _, b := c.do("GET", "/v2/okms/reference/regions", "")
	if st != 200 || !strings.Contains(string(b), `"id":"ca-east-bhs"`) || !strings.Contains(string(b), `"id":"eu-west-par"`) {
		t.Fatalf("regions = %d %s", st, b)
	}
	if st, _, b = c.do("GET", "/v2/okms/reference/secretConfig?region=ca-east-bhs", ""); st != 200 || string(b) != `{"casRequired":false,"maxVersions":10}` {
		t.Errorf("region secretConfig = %d %s", st, b)
	}
	if st, m, _ := c.do("GET", "/v2/okms/reference/secretConfig?region=mars", ""); st != 404 || m["class"] != "Client::NotFound::RegionNotFound" {
		t.Errorf("secretConfig of an unknown region = %d %v", st, m)
	}
	if st, m, _ := c.do("POST", "/v2/okms/resource", `{"region":"mars"}`); st != 404 || m["class"] != "Client::NotFound::RegionNotFound" {
		t.Errorf("activate in an unknown region = %d %v", st, m)
	}
	// No domain in ca-east-bhs yet.
	_, _, b = c.do("GET", "/v2/okms/resource", "")
	if strings.Contains(string(b), "ca-east-bhs") {
		t.Fatalf("ca-east-bhs has a domain before activation: %s", b)
	}

	d1 := c.activate("ca-east-bhs", "bhs-one")
	if st, _, b := c.do("POST", "/api/"+d1+"/v2/secret", `{"path":"app/db","version":{"data":{"password":"BHS-ONE"}}}`); st != 200 {
		t.Fatalf("create in d1 = %d %s", st, b)
	}
	d2 := c.activate("ca-east-bhs", "bhs-two")
	if st, _, b := c.do("POST", "/api/"+d2+"/v2/secret", `{"path":"app/db","version":{"data":{"password":"BHS-TWO"}}}`); st != 200 {
		t.Fatalf("create in d2 = %d %s", st, b)
	}
	// Kept apart by domain: same path, different values.
	for id, want := range map[string]string{d1: "BHS-ONE", d2: "BHS-TWO"} {
		if _, _, b := c.do("GET", "/api/"+id+"/v2/secret/app%2Fdb?includeData=true", ""); !strings.Contains(string(b), want) {
			t.Errorf("domain %s reads %s, want %s", id, b, want)
		}
	}
	st, m, _ := c.do("GET", "/v2/okms/resource/"+d1, "")
	if st != 200 || m["secretCount"] != 1.0 || m["secretVersionCount"] != 1.0 || m["region"] != "ca-east-bhs" {
		t.Errorf("GET domain d1 = %d %v", st, m)
	}
	if st, m, _ := c.do("PUT", "/v2/okms/resource/"+d1, `{"displayName":"renamed"}`); st != 200 || m["iam"].(map[string]any)["displayName"] != "renamed" {
		t.Errorf("rename = %d %v", st, m)
	}
	// Delete without confirmation changes nothing; with it, d2 is untouched.
	if st, m, _ := c.do("DELETE", "/v2/okms/resource/"+d1, ""); st != 400 || m["class"] != "Client::BadRequest::ConfirmationRequired" {
		t.Errorf("delete without confirmation = %d %v", st, m)
	}
	if st, _, b := c.do("DELETE", "/v2/okms/resource/"+d1+"?confirm="+d1, ""); st != 204 {
		t.Fatalf("delete with confirmation = %d %s", st, b)
	}
	if st, _, _ := c.do("GET", "/api/"+d1+"/v2/secret/app%2Fdb", ""); st != 404 {
		t.Errorf("read in a deleted domain = %d, want 404", st)
	}
	if _, _, b := c.do("GET", "/api/"+d2+"/v2/secret/app%2Fdb?includeData=true", ""); !strings.Contains(string(b), "BHS-TWO") {
		t.Errorf("the other domain lost its secret: %s", b)
	}
	// A secret in the default region too.
	def := srv.DefaultDomain()
	if st, _, b := c.do("POST", "/api/"+def+"/v2/secret", `{"path":"app/db","version":{"data":{"password":"PAR"}}}`); st != 200 {
		t.Fatalf("create in the default domain = %d %s", st, b)
	}
	hs.Close()
	srv.Close()

	// Each region's secrets are found only in its own storage.
	par, bhs := keysOf(t, parDB), keysOf(t, bhsDB)
	if countPrefix(par, "d/"+d2+"/") != 0 || countPrefix(bhs, "d/"+d2+"/s/app/db") != 1 {
		t.Errorf("domain %s (ca-east-bhs): %d keys in the par store, %d secret keys in the bhs store", d2, countPrefix(par, "d/"+d2+"/"), countPrefix(bhs, "d/"+d2+"/s/"))
	}
	if countPrefix(bhs, "d/"+def+"/") != 0 || countPrefix(par, "d/"+def+"/s/app/db") != 1 {
		t.Errorf("default domain (eu-west-par) found in the wrong store")
	}
	if countPrefix(bhs, "d/"+d1+"/") != 0 {
		t.Errorf("the deleted domain left records: %v", bhs)
	}
	for _, f := range []string{parDB, bhsDB} {
		raw, _ := os.ReadFile(f)
		for _, v := range []string{"BHS-ONE", "BHS-TWO", "PAR\""} {
			if strings.Contains(string(raw), v) {
				t.Errorf("%s holds %s in plaintext", f, v)
			}
		}
	}
}

func TestBadConfigFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "coffer.yaml")
	os.WriteFile(path, []byte("regions:\n  - id: a\n    storage: {type: bolt, path: x.db}\n    colour: blue\n"), 0o600)
	cfg := server.Defaults()
	cfg.ConfigFile, cfg.DataDir = path, dir
	cfg.Logger, cfg.Out = slog.New(slog.DiscardHandler), io.Discard
	_, err := server.New(t.Context(), cfg)
	if err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("server.New with an unknown key = %v, want an error naming line 4", err)
	}
	if _, statErr := os.Stat(filepath.Join(dir, "x.db")); statErr == nil {
		t.Error("a refused configuration still created a store")
	}
}

// TestFirstStartLogsDefaultRegion checks that the first start's log line
// names the region the installation was created in: the configuration
// file's default region when it declares regions, not --region.
func TestFirstStartLogsDefaultRegion(t *testing.T) {
	tests := []struct {
		name   string
		file   bool   // a configuration file declares two regions
		def    string // its defaultRegion, if any
		region string // --region
		want   string
	}{
		{"no file/--region", false, "", "eu-west-gra", "eu-west-gra"},
		{"file/defaultRegion", true, "ca-east-bhs", "local", "ca-east-bhs"},
		{"file/first region", true, "", "local", "eu-west-par"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := server.Defaults()
			cfg.DataDir, cfg.RootToken, cfg.Region, cfg.Out = filepath.Join(dir, "data"), token, tc.region, io.Discard
			if tc.file {
				cfg.ConfigFile = filepath.Join(dir, "coffer.yaml")
				yaml := "regions:\n  - id: eu-west-par\n    storage: {type: memory}\n  - id: ca-east-bhs\n    storage: {type: memory}\n"
				if tc.def != "" {
					yaml = "defaultRegion: " + tc.def + "\n" + yaml
				}
				if err := os.WriteFile(cfg.ConfigFile, []byte(yaml), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var logs strings.Builder
			cfg.Logger = slog.New(slog.NewJSONHandler(&logs, nil))
			srv, err := server.New(t.Context(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer srv.Close()
			for line := range strings.Lines(logs.String()) {
				var e struct{ Msg, Region string }
				if json.Unmarshal([]byte(line), &e) == nil && e.Msg == "initialised a new installation" {
					if e.Region != tc.want {
						t.Errorf("region = %q, want %q", e.Region, tc.want)
					}
					return
				}
			}
			t.Fatalf("no first-start line in the log:\n%s", logs.String())
		})
	}
}
