package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

const testToken = "cof_root_operator-test"

// startServer runs server.New with cfg behind an httptest server, both
// closed when the test ends (or earlier by the returned function).
func startServer(t *testing.T, cfg server.Config) (*server.Server, *httptest.Server, func()) {
	t.Helper()
	cfg.RootToken = testToken
	cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Out = io.Discard
	te := testenv.Serve(t, cfg, nil)
	stop := func() { te.Close() }
	return te.Server, te.HTTP, stop
}

func call(t *testing.T, ts *httptest.Server, method, path, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// runCoffer runs the command line in-process with an empty environment.
func runCoffer(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, func(string) string { return "" }, strings.NewReader(""), &out, &errOut)
	return code, out.String(), errOut.String()
}

// secretData reads version of the secret at path with its data.
func secretData(t *testing.T, ts *httptest.Server, domain, path string, version int) map[string]string {
	t.Helper()
	st, b := call(t, ts, "GET", fmt.Sprintf("/api/%s/v2/secret/%s?includeData=true&version=%d", domain, url.PathEscape(path), version), "")
	var got struct {
		Version struct {
			Data map[string]string `json:"data"`
		} `json:"version"`
	}
	if st != 200 || json.Unmarshal(b, &got) != nil {
		t.Fatalf("GET secret %s version %d = %d %s", path, version, st, b)
	}
	return got.Version.Data
}

// TestOperatorMigrate builds an embedded installation through the real
// server, migrates it with `coffer operator migrate`, and serves the same
// secrets from PostgreSQL with the same root key.
func TestOperatorMigrate(t *testing.T) {
	pgURL := testenv.PGSchema(t)
	dir := t.TempDir()

	cfg := server.Defaults()
	cfg.DataDir = dir
	bolt, ts, stop := startServer(t, cfg)
	domain := bolt.DefaultDomain()
	want := map[string]string{}
	for i := range 5 {
		path := fmt.Sprintf("app/s%d", i)
		want[path] = fmt.Sprintf("value-%d", i)
		body := fmt.Sprintf(`{"path":%q,"version":{"data":{"password":%q}}}`, path, want[path])
		if st, b := call(t, ts, "POST", "/api/"+domain+"/v2/secret", body); st != 200 {
			t.Fatalf("create %s = %d %s", path, st, b)
		}
	}
	if st, b := call(t, ts, "POST", "/api/"+domain+"/v2/secret/"+url.PathEscape("app/s4")+"/version", `{"data":{"password":"second"}}`); st != 200 {
		t.Fatalf("add a version to app/s4 = %d %s", st, b)
	}
	// A service key and a ciphertext it made: the key's records move too.
	keyID, ciphertext := migrateKey(t, ts, domain)

	// The store is locked while its server runs.
	code, _, stderr := runCoffer(t, "operator", "migrate", "--from", dir, "--to", pgURL)
	if code != 1 || !strings.Contains(stderr, "stop the coffer server") {
		t.Errorf("migrate while the server runs = exit %d, stderr %q; want 1 and a request to stop the server", code, stderr)
	}
	stop()

	code, stdout, stderr := runCoffer(t, "operator", "migrate", "--from", dir, "--to", pgURL)
	if code != 0 {
		t.Fatalf("migrate = exit %d, stderr:\n%s", code, stderr)
	}
	for _, w := range []string{"migrated ", "verified: the target holds", "--storage postgres"} {
		if !strings.Contains(stdout, w) {
			t.Errorf("migrate summary does not say %q:\n%s", w, stdout)
		}
	}
	for _, w := range []string{"copied ", "verified "} {
		if !strings.Contains(stderr, w) {
			t.Errorf("migrate progress does not show %q:\n%s", w, stderr)
		}
	}
	if u, _ := url.Parse(pgURL); u.User != nil {
		if p, ok := u.User.Password(); ok && strings.Contains(stdout+stderr, p) {
			t.Errorf("migrate output shows the database password")
		}
	}

	// Again: refused without --force, accepted with it.
	code, _, stderr = runCoffer(t, "operator", "migrate", "--from", dir, "--to", pgURL)
	if code != 1 || !strings.Contains(stderr, "already holds") || !strings.Contains(stderr, "--force") {
		t.Errorf("migrate into a non-empty target = exit %d, stderr %q; want 1, naming --force", code, stderr)
	}
	code, stdout, stderr = runCoffer(t, "operator", "migrate", "--from", dir, "--to", pgURL, "--force", "--batch-size", "7")
	if code != 0 || !strings.Contains(stdout, "deleted ") {
		t.Fatalf("migrate --force = exit %d, stdout %q, stderr:\n%s", code, stdout, stderr)
	}

	// A server on PostgreSQL, with the installation's root key, serves the
	// same installation.
	pgCfg := server.Defaults()
	pgCfg.DataDir = t.TempDir()
	pgCfg.Storage = "postgres"
	pgCfg.PGURL = pgURL
	pgCfg.RootKeyFile = filepath.Join(dir, "root.key")
	pg, pts, _ := startServer(t, pgCfg)
	if pg.DefaultDomain() != domain {
		t.Errorf("default domain on PostgreSQL = %s, want %s", pg.DefaultDomain(), domain)
	}
	for path, v := range want {
		if got := secretData(t, pts, domain, path, 1)["password"]; got != v {
			t.Errorf("%s version 1 on PostgreSQL: password %q, want %q", path, got, v)
		}
	}
	if got := secretData(t, pts, domain, "app/s4", 2)["password"]; got != "second" {
		t.Errorf("app/s4 version 2 on PostgreSQL: password %q, want %q", got, "second")
	}
	if st, b := call(t, pts, "POST", "/api/"+domain+"/v1/servicekey/"+keyID+"/decrypt", `{"ciphertext":"`+ciphertext+`"}`); st != 200 ||
		!strings.Contains(string(b), `"plaintext":"bWlncmF0ZWQ="`) {
		t.Errorf("decrypt with the migrated service key on PostgreSQL = %d %s", st, b)
	}
	body := `{"path":"app/after","version":{"data":{"password":"on-postgres"}}}`
	if st, b := call(t, pts, "POST", "/api/"+domain+"/v2/secret", body); st != 200 {
		t.Fatalf("create a secret on PostgreSQL = %d %s", st, b)
	}
	if got := secretData(t, pts, domain, "app/after", 1)["password"]; got != "on-postgres" {
		t.Errorf("app/after on PostgreSQL: password %q, want on-postgres", got)
	}
}

// A second node on the same database, with the same root key, sees what
// the first wrote.
func TestServer_postgresSharedByTwoNodes(t *testing.T) {
	pgURL := testenv.PGSchema(t)
	keyDir := t.TempDir()
	cfg := server.Defaults()
	cfg.DataDir = keyDir
	cfg.Storage = "postgres"
	cfg.PGURL = pgURL
	first, ts1, _ := startServer(t, cfg)
	domain := first.DefaultDomain()
	if st, b := call(t, ts1, "POST", "/api/"+domain+"/v2/secret", `{"path":"shared","version":{"data":{"k":"v"}}}`); st != 200 {
		t.Fatalf("create on the first node = %d %s", st, b)
	}

	cfg2 := cfg
	cfg2.DataDir = t.TempDir()
	cfg2.RootKeyFile = filepath.Join(keyDir, "root.key")
	second, ts2, _ := startServer(t, cfg2)
	if second.DefaultDomain() != domain {
		t.Errorf("second node's default domain = %s, want %s", second.DefaultDomain(), domain)
	}
	if got := secretData(t, ts2, domain, "shared", 1)["k"]; got != "v" {
		t.Errorf("secret read on the second node = %q, want v", got)
	}
}

func TestStorageFlags(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	regions := filepath.Join(dir, "regions.yaml")
	if err := os.WriteFile(regions, []byte("regions:\n  - id: a\n    storage: {type: memory}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"unknown storage", []string{"server", "--storage", "s3"}, 2, `--storage "s3"`},
		{"postgres without url", []string{"server", "--storage", "postgres"}, 2, "--pg-url"},
		{"storage with regions", []string{"server", "--config", regions, "--storage", "postgres", "--pg-url", "postgres://db/x"}, 2, "declares regions"},
		{"missing configuration file", []string{"server", "--config", filepath.Join(dir, "none.yaml")}, 2, "--config"},
		{"unreachable database", []string{"server", "--data-dir", dir, "--storage", "postgres", "--pg-url", "postgres://coffer:s3cret-pw@127.0.0.1:1/coffer?sslmode=disable"}, 1, "cannot connect to PostgreSQL"},
		{"migrate without from", []string{"operator", "migrate", "--to", "postgres://db/x"}, 2, "--from"},
		{"migrate without to", []string{"operator", "migrate", "--from", dir}, 2, "--to"},
		{"migrate from nothing", []string{"operator", "migrate", "--from", filepath.Join(dir, "none"), "--to", "postgres://db/x"}, 1, "source"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			code, _, stderr := runCoffer(t, tc.args...)
			if code != tc.wantCode || !strings.Contains(stderr, tc.wantErr) {
				t.Errorf("coffer %s = exit %d, stderr %q; want %d and %q", strings.Join(tc.args, " "), code, stderr, tc.wantCode, tc.wantErr)
			}
			if strings.Contains(stderr, "s3cret-pw") {
				t.Errorf("coffer %s reveals the database password: %q", strings.Join(tc.args, " "), stderr)
			}
		})
	}
}

// migrateKey creates a service key and encrypts with it, for
// TestOperatorMigrate.
func migrateKey(t *testing.T, ts *httptest.Server, domain string) (string, string) {
	t.Helper()
	st, b := call(t, ts, "POST", "/api/"+domain+"/v1/servicekey", `{"name":"migrated","type":"oct","size":256}`)
	var key struct{ ID string }
	if st != 201 || json.Unmarshal(b, &key) != nil {
		t.Fatalf("create a service key = %d %s", st, b)
	}
	st, b = call(t, ts, "POST", "/api/"+domain+"/v1/servicekey/"+key.ID+"/encrypt", `{"plaintext":"bWlncmF0ZWQ="}`)
	var enc struct{ Ciphertext string }
	if st != 200 || json.Unmarshal(b, &enc) != nil {
		t.Fatalf("encrypt = %d %s", st, b)
	}
	return key.ID, enc.Ciphertext
}
