package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestKill9AfterAcknowledgedWrite kills the server with SIGKILL right after
// acknowledged writes, restarts it on the same data directory and checks
// that every write is there and readable, and that no value appears in
// plaintext anywhere in the data directory.
func TestKill9AfterAcknowledgedWrite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	dir := t.TempDir()
	const token = "cof_root_e2e-durability-token"
	env := []string{"COFFER_INIT_ROOT_TOKEN=" + token}
	p := start(t, env, "--data-dir", dir)
	domain := p.domainID(t, token)
	base := "/api/" + domain + "/v2/secret"

	const canary = "CANARY-5b0d1c7e-durable"
	const writes = 20
	for i := range writes {
		body := fmt.Sprintf(`{"path":"app/s%02d","version":{"data":{"password":"%s-%02d"}}}`, i, canary, i)
		if st, b := p.do(t, token, "POST", base, body); st != 200 {
			t.Fatalf("create app/s%02d = %d %s", i, st, b)
		}
	}
	// One more version on the last secret: the last acknowledged write.
	if st, b := p.do(t, token, "POST", base+"/app%2Fs19/version", `{"data":{"password":"`+canary+`-last"}}`); st != 200 {
		t.Fatalf("add version = %d %s", st, b)
	}
	p.kill9(t)

	p = start(t, env, "--data-dir", dir)
	if got := p.domainID(t, token); got != domain {
		t.Fatalf("after restart the default domain is %s, want %s", got, domain)
	}
	for i := range writes {
		st, b := p.do(t, token, "GET", fmt.Sprintf("%s/app%%2Fs%02d?includeData=true&version=1", base, i), "")
		var got struct {
			Version struct {
				Data map[string]string `json:"data"`
			} `json:"version"`
		}
		if st != 200 || json.Unmarshal(b, &got) != nil {
			t.Fatalf("read app/s%02d after kill -9 = %d %s", i, st, b)
		}
		if want := fmt.Sprintf("%s-%02d", canary, i); got.Version.Data["password"] != want {
			t.Errorf("app/s%02d after kill -9: password %q, want %q", i, got.Version.Data["password"], want)
		}
	}
	st, b := p.do(t, token, "GET", base+"/app%2Fs19?includeData=true", "")
	if st != 200 || !bytes.Contains(b, []byte(canary+"-last")) || !bytes.Contains(b, []byte(`"currentVersion":2`)) {
		t.Errorf("last acknowledged version after kill -9 = %d %s", st, b)
	}
	p.kill9(t)

	// No value in clear anywhere in the data directory.
	var files int
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		files++
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.Contains(raw, []byte("CANARY")) {
			t.Errorf("%s holds a secret value in plaintext", path)
		}
		if strings.HasSuffix(path, "root.key") {
			if info, _ := d.Info(); info.Mode().Perm() != 0o600 {
				t.Errorf("root.key has mode %v, want 0600", info.Mode().Perm())
			}
		}
		return nil
	})
	if err != nil || files == 0 {
		t.Fatalf("scan data directory: %v (%d files)", err, files)
	}
	if strings.Contains(p.logs.String(), "CANARY") || strings.Contains(p.logs.String(), token) {
		t.Errorf("the server log holds a value or the token:\n%s", p.logs.String())
	}
}
