package sys_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/server"
)

const passphrase = "correct horse battery staple"

// backupOf takes a backup of e with the root token.
func backupOf(t *testing.T, e *env) []byte {
	t.Helper()
	r := e.do(t, rootToken, "POST", "/sys/backup", strings.NewReader(`{"passphrase":"`+passphrase+`"}`),
		"Content-Type", "application/json")
	if r.status != http.StatusOK || !bytes.HasPrefix(r.body, []byte("COFFERBK")) {
		t.Fatalf("POST /sys/backup = %d %.200q", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("backup Content-Type %q", ct)
	}
	if cd := r.header.Get("Content-Disposition"); cd != `attachment; filename="coffer.backup"` {
		t.Errorf("backup Content-Disposition %q", cd)
	}
	return r.body
}

// TestBackup: POST /sys/backup answers the file; bad bodies and callers
// are refused with the reason.
func TestBackup(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil).withUsers(t)
	backupOf(t, e)
	const target = "/sys/backup"
	json := []string{"Content-Type", "application/json"}
	e.run(t, []apiCase{
		{name: "400/short passphrase", token: rootToken, target: target, body: `{"passphrase":"short"}`, header: json, status: 400,
			msg: "the backup passphrase is too short: it must be at least 12 characters"},
		{name: "400/no passphrase", token: rootToken, target: target, body: `{}`, header: json, status: 400, msg: "too short"},
		{name: "400/passphrase not a string", token: rootToken, target: target, body: `{"passphrase":5}`, header: json, status: 400,
			msg: `invalid JSON body: field "passphrase" must be of type string`},
		{name: "400/not JSON", token: rootToken, target: target, body: `passphrase=x`, status: 400, msg: "invalid JSON body"},
		{name: "400/empty body", token: rootToken, target: target, status: 400, msg: "invalid JSON body: the body is empty"},
		{name: "400/duplicate member", token: rootToken, target: target, body: `{"passphrase":"` + passphrase + `","passphrase":"x"}`,
			header: json, status: 400, msg: "invalid JSON body"},
		{name: "400/form body", token: rootToken, target: target, body: `passphrase=` + passphrase,
			header: []string{"Content-Type", "application/x-www-form-urlencoded"}, status: 400, msg: "form-encoded"},
		{name: "413/body over 1 MiB", token: rootToken, target: target, body: `{"passphrase":"` + strings.Repeat("a", 1<<20) + `"}`,
			header: json, status: 413, msg: "the request body is too large"},
		{name: "401/no token", target: target, body: `{"passphrase":"` + passphrase + `"}`, header: json, status: 401},
		{name: "403/not ADMIN", token: e.user, target: target, body: `{"passphrase":"` + passphrase + `"}`, header: json, status: 403,
			msg: "permission denied: the /sys routes are for the account root and ADMIN users"},
		{name: "200/ADMIN user", token: e.admin, target: target, body: `{"passphrase":"` + passphrase + `"}`, header: json, status: 200},
	})
}

// TestRestore: a backup restores into another installation (another root
// key), whose objects and tokens become the source's; a wrong passphrase,
// an altered file, a non-empty target and a target of other regions are
// refused and change nothing.
func TestRestore(t *testing.T) {
	t.Parallel()
	src := newKeyFileEnv(t, nil).withUsers(t)
	domain := src.srv.DefaultDomain()
	src.mustJSON(t, "POST", "/api/"+domain+"/v2/secret", `{"path":"app/db","version":{"data":{"k":"restored"}}}`)
	file := backupOf(t, src)

	dst := newKeyFileEnv(t, nil).withUsers(t)
	// withUsers made users and a group: the target holds data until they
	// are gone.
	for _, p := range []string{"/1.0/me/identity/user/ada", "/1.0/me/identity/user/bob", "/1.0/me/identity/group/ops"} {
		if r := dst.do(t, rootToken, "DELETE", p, nil); r.status != http.StatusNoContent {
			t.Fatalf("DELETE %s = %d %s", p, r.status, r.body)
		}
	}
	altered := bytes.Clone(file)
	altered[len(altered)/2] ^= 1
	other := newEnv(t, func(c *server.Config) { c.Region = "other" })
	const target = "/sys/restore"
	pass := []string{"X-Coffer-Backup-Passphrase", passphrase}
	src.run(t, []apiCase{
		{name: "409/not empty", token: rootToken, target: target, body: string(file), header: pass, status: 409,
			msg: "the installation is not empty: restore needs one with no secret, user, group or policy"},
		{name: "403/not ADMIN", token: src.user, target: target, body: string(file), header: pass, status: 403, msg: "permission denied"},
		{name: "401/no token", target: target, body: string(file), header: pass, status: 401},
	})
	dst.run(t, []apiCase{
		{name: "400/wrong passphrase", token: rootToken, target: target, body: string(file),
			header: []string{"X-Coffer-Backup-Passphrase", passphrase + "x"}, status: 400, msg: "the backup does not open"},
		{name: "400/no passphrase", token: rootToken, target: target, body: string(file), status: 400, msg: "the backup does not open"},
		{name: "400/altered file", token: rootToken, target: target, body: string(altered), header: pass, status: 400, msg: "the backup does not open"},
		{name: "400/not a backup", token: rootToken, target: target, body: `{"passphrase":"x"}`, header: pass, status: 400, msg: "the backup does not open"},
		{name: "400/empty body", token: rootToken, target: target, header: pass, status: 400, msg: "the backup does not open"},
	})
	other.run(t, []apiCase{
		{name: "409/other regions", token: rootToken, target: target, body: string(file), header: pass, status: 409,
			msg: "the backup's regions are not this server's: the backup has [local] (default local), this server [other] (default other)"},
	})
	if r := dst.do(t, rootToken, "GET", "/api/"+dst.srv.DefaultDomain()+"/v2/secret", nil); r.status != http.StatusOK {
		t.Fatalf("the target after refused restores = %d %s, want its own installation", r.status, r.body)
	}

	r := dst.do(t, rootToken, "POST", target, bytes.NewReader(file), pass...)
	var out struct {
		Records int      `json:"records"`
		Regions []string `json:"regions"`
		Created string   `json:"created"`
	}
	if r.status != http.StatusOK || json.Unmarshal(r.body, &out) != nil || out.Records == 0 || !slices.Equal(out.Regions, []string{"local"}) || out.Created == "" {
		t.Fatalf("POST /sys/restore = %d %s", r.status, r.body)
	}
	// The source's objects and tokens; the target's tokens are gone.
	if r := dst.do(t, src.admin, "GET", "/api/"+domain+"/v2/secret/app%2Fdb?includeData=true", nil); r.status != http.StatusOK ||
		!strings.Contains(string(r.body), "restored") {
		t.Errorf("the restored secret with the source's ADMIN token = %d %s", r.status, r.body)
	}
	if r := dst.do(t, dst.admin, "GET", "/1.0/me/identity/user", nil); r.status != http.StatusUnauthorized {
		t.Errorf("the target's own token after the restore = %d %s, want 401", r.status, r.body)
	}
}

// TestRestoreTooLarge: a restore whose declared body exceeds
// sys.MaxBackupSize is refused before any of it is read.
func TestRestoreTooLarge(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	conn, err := net.Dial("tcp", strings.TrimPrefix(e.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_, err = conn.Write([]byte("POST /sys/restore HTTP/1.1\r\nHost: coffer\r\nAuthorization: Bearer " + rootToken +
		"\r\nX-Coffer-Backup-Passphrase: " + passphrase + "\r\nContent-Length: 1073741825\r\n\r\nCOFFERBK"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("a 1 GiB + 1 restore = %d %s, want 413", res.StatusCode, b.Bytes())
	}
	checkError(t, reply{res.StatusCode, res.Header, b.Bytes()}, "the request body is too large")
}

// TestAudited: every operator call is audited under its action, with
// the sys surface; passphrases never reach the audit log.
func TestAudited(t *testing.T) {
	t.Parallel()
	auditFile := filepath.Join(t.TempDir(), "audit.log")
	e := newEnv(t, func(c *server.Config) { c.AuditFile = auditFile })
	e.do(t, rootToken, "POST", "/sys/master-key/rotate", nil)
	e.do(t, rootToken, "POST", "/sys/domains/"+e.srv.DefaultDomain()+"/key/rotate", nil)
	file := backupOf(t, e)
	e.do(t, rootToken, "POST", "/sys/restore", bytes.NewReader(file), "X-Coffer-Backup-Passphrase", passphrase)
	log, err := os.ReadFile(auditFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, action := range []string{"coffer:sys/masterKey/rotate", "coffer:sys/domainKey/rotate", "coffer:sys/backup", "coffer:sys/restore"} {
		n := 0
		for line := range strings.SplitSeq(string(log), "\n") {
			if strings.Contains(line, `"`+action+`"`) && strings.Contains(line, `"sys"`) {
				n++
			}
		}
		if n != 2 {
			t.Errorf("%d audit events of %s from the sys surface, want 2 (request and response)", n, action)
		}
	}
	if strings.Contains(string(log), passphrase) {
		t.Error("the audit log holds a backup passphrase")
	}
}
