package sys_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/server"
)

const unknownDomain = "6a0f0b6e-3c1d-4a53-9a7e-1f2b3c4d5e6f"

// TestRotateRootKey: POST /sys/master-key/rotate writes a new key file
// and says so; only the account root and ADMIN users may; an unfinished
// rotation is a 409.
func TestRotateRootKey(t *testing.T) {
	t.Parallel()
	e := newKeyFileEnv(t, nil).withUsers(t)
	keyFile := filepath.Join(e.dir, "root.key")
	before, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	r := e.do(t, rootToken, "POST", "/sys/master-key/rotate", nil)
	var out struct {
		KeyFile string   `json:"keyFile"`
		Regions []string `json:"regions"`
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &out) != nil || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("POST /sys/master-key/rotate = %d %s", r.status, r.body)
	}
	if out.KeyFile != keyFile || !slices.Equal(out.Regions, []string{"local"}) {
		t.Errorf("answer %s, want key file %s and region local", r.body, keyFile)
	}
	after, _ := os.ReadFile(keyFile)
	if bytes.Equal(before, after) {
		t.Error("the key file did not change")
	}
	if _, err := os.Stat(keyFile + ".next"); err == nil {
		t.Error("the pending key is left after a finished rotation")
	}
	// The installation still opens: a secret written and read back.
	e.mustJSON(t, "POST", "/api/"+e.srv.DefaultDomain()+"/v2/secret", `{"path":"after/rotation","version":{"data":{"k":"v"}}}`)

	if err := os.WriteFile(keyFile+".next", []byte("pending"), 0o600); err != nil {
		t.Fatal(err)
	}
	const target = "/sys/master-key/rotate"
	e.run(t, []apiCase{
		{name: "409/a rotation is unfinished", token: rootToken, target: target, status: 409,
			msg: "a previous root key rotation did not finish: " + keyFile + ".next exists"},
		{name: "401/no token", target: target, status: 401, msg: "missing or invalid credentials"},
		{name: "401/unknown token", token: "cof_pat_nope", target: target, status: 401, msg: "missing or invalid credentials"},
		{name: "403/not ADMIN", token: e.user, target: target, status: 403, msg: "permission denied"},
		// The ADMIN user passes authorization and meets the pending key.
		{name: "409/ADMIN user", token: e.admin, target: target, status: 409, msg: "did not finish"},
		{name: "405/GET", token: rootToken, method: "GET", target: target, status: 405, msg: "method not allowed"},
	})
	if got, _ := os.ReadFile(keyFile); !bytes.Equal(got, after) {
		t.Error("a refused rotation changed the key file")
	}
}

// TestRotateRootKeyDev: in dev mode the key lives in memory; the answer
// has no keyFile.
func TestRotateRootKeyDev(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	r := e.do(t, rootToken, "POST", "/sys/master-key/rotate", strings.NewReader(`{"ignored":true}`))
	if r.status != http.StatusOK || string(r.body) != `{"regions":["local"]}` {
		t.Fatalf("POST /sys/master-key/rotate = %d %q, want 200 {\"regions\":[\"local\"]}", r.status, r.body)
	}
}

// TestRotateDomainKey: each rotation gives the domain the next key term;
// old versions still read.
func TestRotateDomainKey(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil).withUsers(t)
	domain := e.srv.DefaultDomain()
	b := "/api/" + domain + "/v2/secret"
	e.mustJSON(t, "POST", b, `{"path":"app/db","version":{"data":{"k":"v1"}}}`)
	target := "/sys/domains/" + domain + "/key/rotate"
	for _, want := range []uint32{2, 3} {
		token := rootToken
		if want == 3 {
			token = e.admin
		}
		r := e.do(t, token, "POST", target, nil)
		var out struct {
			OkmsID  string `json:"okmsId"`
			KeyTerm uint32 `json:"keyTerm"`
		}
		if r.status != http.StatusOK || json.Unmarshal(r.body, &out) != nil || out.OkmsID != domain || out.KeyTerm != want {
			t.Fatalf("POST %s = %d %s, want key term %d", target, r.status, r.body, want)
		}
	}
	e.mustJSON(t, "POST", b+"/app%2Fdb/version", `{"data":{"k":"v2"}}`)
	for v, want := range map[string]string{"1": "v1", "2": "v2"} {
		r := e.do(t, rootToken, "GET", b+"/app%2Fdb/version/"+v+"?includeData=true", nil)
		if r.status != http.StatusOK || !strings.Contains(string(r.body), `"k":"`+want+`"`) {
			t.Errorf("version %s after the rotations = %d %s, want %s", v, r.status, r.body, want)
		}
	}
	e.run(t, []apiCase{
		{name: "404/unknown domain", token: rootToken, target: "/sys/domains/" + unknownDomain + "/key/rotate", status: 404,
			msg: "OKMS domain not found"},
		{name: "404/not a domain id", token: rootToken, target: "/sys/domains/nope/key/rotate", status: 404, msg: "OKMS domain not found"},
		// Authorization comes first: a caller who may not learns nothing
		// of which domains exist.
		{name: "403/not ADMIN", token: e.user, target: target, status: 403, msg: "permission denied"},
		{name: "403/not ADMIN, unknown domain", token: e.user, target: "/sys/domains/" + unknownDomain + "/key/rotate", status: 403},
		{name: "401/no token", target: target, status: 401},
		{name: "405/PUT", token: rootToken, method: "PUT", target: target, body: `{}`, status: 405},
		{name: "404/without the domain", token: rootToken, target: "/sys/domains/key/rotate", status: 404,
			msg: "no route matches POST /sys/domains/key/rotate"},
	})
}

// TestRoutes_Fallbacks: anything under /sys/ that is not a route answers
// in this surface's envelope, never with a redirect or a text body.
func TestRoutes_Fallbacks(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	e.run(t, []apiCase{
		{name: "404/unknown route", token: rootToken, method: "GET", target: "/sys/seal-status", status: 404,
			msg: "no route matches GET /sys/seal-status"},
		{name: "404/without a token", target: "/sys/nothing", status: 404, msg: "no route matches POST /sys/nothing"},
		{name: "404/trailing slash", token: rootToken, target: "/sys/backup/", status: 404},
		{name: "404/dot-dot segment", token: rootToken, target: "/sys/x/../backup", status: 404},
		{name: "404/empty segment", token: rootToken, target: "/sys//backup", status: 404},
		{name: "405/GET on the backup", token: rootToken, method: "GET", target: "/sys/backup", status: 405,
			msg: "method not allowed on this route"},
		{name: "405/DELETE on a restore", token: rootToken, method: "DELETE", target: "/sys/restore", status: 405},
	})
}

// TestAuditUnavailable: when the audit event cannot be written, nothing
// runs and the answer is 503 (fail closed). /dev/full refuses every write.
func TestAuditUnavailable(t *testing.T) {
	t.Parallel()
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full on this system")
	}
	e := newKeyFileEnv(t, func(c *server.Config) { c.AuditFile = "/dev/full" })
	keyFile := filepath.Join(e.dir, "root.key")
	before, _ := os.ReadFile(keyFile)
	const msg = "the audit log is unavailable"
	e.run(t, []apiCase{
		{name: "503/root key rotation", token: rootToken, target: "/sys/master-key/rotate", status: 503, msg: msg},
		{name: "503/domain key rotation", token: rootToken, target: "/sys/domains/" + e.srv.DefaultDomain() + "/key/rotate", status: 503, msg: msg},
		{name: "503/backup", token: rootToken, target: "/sys/backup", body: `{"passphrase":"correct horse battery"}`, status: 503, msg: msg},
		{name: "503/restore", token: rootToken, target: "/sys/restore", body: "COFFERBK", status: 503, msg: msg},
	})
	if after, _ := os.ReadFile(keyFile); !bytes.Equal(before, after) {
		t.Error("the root key changed though the audit event could not be written")
	}
}
