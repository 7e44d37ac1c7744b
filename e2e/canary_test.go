package e2e

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// No leaks, reliability-security.md T8: a canary value, canary tokens and a
// service account's client secret go through every surface and many
// failure paths of a live server (bbolt, audit file). Afterwards the
// canaries may appear only in the answers of authorized value reads
// (getData) and in the answers that create a token or a client secret:
// never in another answer (errors, lists, metadata), the access and server
// log, the audit file, /metrics or the data directory. Service keys
// (issue 15) add imported key material, plaintexts and ciphertexts: they
// appear only in the answers that return them (decrypt, data keys,
// encrypt), never in the logs, the audit file, the store or the backup.
//
//	go test ./e2e -run TestCanary -v

// canaryRun records every answer and whether it may hold a canary.
type canaryRun struct {
	t       *testing.T
	l       *live
	answers []canaryAnswer
}

type canaryAnswer struct {
	what    string
	body    []byte
	allowed bool // an authorized getData answer, or the token creation
}

func (c *canaryRun) send(what, token, method, path, body string, allowed bool, hdr ...string) (int, []byte) {
	c.t.Helper()
	st, h, b := c.l.doToken(c.t, token, method, path, body, hdr...)
	var all bytes.Buffer
	for k, vs := range h {
		fmt.Fprintf(&all, "%s: %s\n", k, strings.Join(vs, ", "))
	}
	all.Write(b)
	c.answers = append(c.answers, canaryAnswer{what: fmt.Sprintf("%s (%s %s → %d)", what, method, path, st), body: all.Bytes(), allowed: allowed})
	return st, b
}

func (c *canaryRun) want(what string, st, want int, body []byte) {
	c.t.Helper()
	if st != want {
		c.t.Errorf("%s = %d %s, want %d", what, st, body, want)
	}
}

func TestCanary(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a server")
	}
	id := strings.ToLower(rand.Text())
	value := "CANARY-" + id                  // a secret value
	rootToken := "cof_root_CANARYTOKEN" + id // the root token
	l := startLive(t, liveOptions{audit: true, token: rootToken})
	c := &canaryRun{t: t, l: l}
	d := l.domain
	b, a := "/api/"+d+"/v2", "/v2/okms/resource/"+d
	data := `{"password":"` + value + `","nested":{"k":"` + value + `-n"}}`
	root := l.token

	// Surface B: writes, authorized reads, reads without data, lists.
	st, body := c.send("B create", root, "POST", b+"/secret", `{"path":"canary/b","version":{"data":`+data+`}}`, false)
	c.want("B create", st, 200, body)
	st, body = c.send("B add version", root, "POST", b+"/secret/canary%2Fb/version", `{"data":`+data+`}`, false)
	c.want("B add version", st, 200, body)
	st, body = c.send("B update", root, "PUT", b+"/secret/canary%2Fb?cas=2", `{"version":{"data":`+data+`}}`, false)
	c.want("B update", st, 200, body)
	st, body = c.send("B get with data", root, "GET", b+"/secret/canary%2Fb?includeData=true", "", true)
	c.want("B get with data", st, 200, body)
	if !bytes.Contains(body, []byte(value)) {
		t.Fatalf("B get with data does not return the canary: %s", body)
	}
	c.send("B version with data", root, "GET", b+"/secret/canary%2Fb/version/1?includeData=true", "", true)
	c.send("B get", root, "GET", b+"/secret/canary%2Fb", "", false)
	c.send("B version", root, "GET", b+"/secret/canary%2Fb/version/1", "", false)
	c.send("B versions", root, "GET", b+"/secret/canary%2Fb/version", "", false)
	c.send("B list", root, "GET", b+"/secret", "", false)
	c.send("B update version state", root, "PUT", b+"/secret/canary%2Fb/version/1", `{"state":"deactivated"}`, false)
	c.send("B config", root, "GET", b+"/secretConfig", "", false)

	// Surface A.
	st, body = c.send("A create", root, "POST", a+"/secret", `{"path":"canary/a","version":{"data":`+data+`}}`, false)
	c.want("A create", st, 200, body)
	c.send("A add version", root, "POST", a+"/secret/canary%2Fa/version", `{"data":`+data+`}`, false)
	c.send("A get with data", root, "GET", a+"/secret/canary%2Fa?includeData=true", "", true)
	c.send("A version with data", root, "GET", a+"/secret/canary%2Fa/version/2?includeData=true", "", true)
	c.send("A get", root, "GET", a+"/secret/canary%2Fa", "", false)
	c.send("A versions", root, "GET", a+"/secret/canary%2Fa/version", "", false)
	c.send("A list", root, "GET", a+"/secret", "", false)
	c.send("A domain", root, "GET", a, "", false)

	// Surface C.
	st, body = c.send("C write", root, "POST", "/v1/secret/data/canary/c", `{"data":`+data+`}`, false)
	c.want("C write", st, 200, body)
	c.send("C patch", root, "PATCH", "/v1/secret/data/canary/c", `{"data":{"extra":"`+value+`-p"}}`, false, "Content-Type", "application/merge-patch+json")
	c.send("C read", root, "GET", "/v1/secret/data/canary/c", "", true)
	c.send("C read version", root, "GET", "/v1/secret/data/canary/c?version=1", "", true)
	c.send("C metadata", root, "GET", "/v1/secret/metadata/canary/c", "", false)
	c.send("C list", root, "LIST", "/v1/secret/metadata/canary/", "", false)
	c.send("C subkeys", root, "GET", "/v1/secret/subkeys/canary/c", "", false)
	// Vault's lookup-self answers the token to its holder (data.id):
	// authorized, like a getData answer.
	c.send("C lookup-self", root, "GET", "/v1/auth/token/lookup-self", "", true)
	c.send("C domain-prefixed read", root, "GET", "/api/"+d+"/v1/secret/data/canary/c", "", true)

	// Identity: a user with a password, a token (its creation answer is
	// the one place it appears), that token used and refused.
	password := "CANARYPASS-" + id
	st, body = c.send("iam create user", root, "POST", "/1.0/me/identity/user", `{"login":"canary","password":"`+password+`"}`, false)
	c.want("iam create user", st, 200, body)
	st, body = c.send("iam create token", root, "POST", "/1.0/me/identity/user/canary/token", `{"name":"canary"}`, true)
	var tok struct{ Token string }
	if st != 200 || json.Unmarshal(body, &tok) != nil || tok.Token == "" {
		t.Fatalf("create a token = %d %s", st, body)
	}
	c.send("iam list tokens", root, "GET", "/1.0/me/identity/user/canary/token", "", false)
	c.send("iam get token", root, "GET", "/1.0/me/identity/user/canary/token/canary", "", false)
	c.send("iam get user", root, "GET", "/1.0/me/identity/user/canary", "", false)
	c.send("iam audit tail", root, "GET", "/v2/iam/audit?limit=1000", "", false)
	// The user has no policy: every use of the token is denied.
	c.send("denied B read", tok.Token, "GET", b+"/secret/canary%2Fb?includeData=true", "", false)
	c.send("denied A read", tok.Token, "GET", a+"/secret/canary%2Fa?includeData=true", "", false)
	c.send("denied C read", tok.Token, "GET", "/v1/secret/data/canary/c", "", false, "X-Vault-Token", tok.Token)
	c.send("denied write", tok.Token, "POST", b+"/secret", `{"path":"canary/denied","version":{"data":`+data+`}}`, false)

	// A service account: its client secret appears only in the answer that
	// creates it, its access token only in the token endpoint's answer and
	// lookup-self; both go through failure paths too (iam.md 7.2).
	st, body = c.send("iam create service account", root, "POST", "/1.0/me/api/oauth2/client",
		`{"name":"canary","flow":"CLIENT_CREDENTIALS","callbackUrls":[]}`, true)
	var sa struct{ ClientID, ClientSecret string }
	if st != 200 || json.Unmarshal(body, &sa) != nil || sa.ClientSecret == "" {
		t.Fatalf("create a service account = %d %s", st, body)
	}
	c.send("iam list service accounts", root, "GET", "/1.0/me/api/oauth2/client", "", false)
	c.send("iam get service account", root, "GET", "/1.0/me/api/oauth2/client/"+sa.ClientID, "", false)
	form := "application/x-www-form-urlencoded"
	exchange := "grant_type=client_credentials&scope=all&client_id=" + sa.ClientID + "&client_secret=" + url.QueryEscape(sa.ClientSecret)
	st, body = c.send("oauth2 token", "", "POST", "/auth/oauth2/token", exchange, true, "Content-Type", form)
	var oat struct {
		AccessToken string `json:"access_token"`
	}
	if st != 200 || json.Unmarshal(body, &oat) != nil || oat.AccessToken == "" {
		t.Fatalf("token exchange = %d %s", st, body)
	}
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(sa.ClientID+":"+sa.ClientSecret))
	c.send("oauth2 token over Basic", "", "POST", "/auth/oauth2/token", "grant_type=client_credentials&scope=all", true,
		"Content-Type", form, "Authorization", basic)
	c.send("oauth2 token used on B", oat.AccessToken, "GET", b+"/secret", "", false)
	c.send("oauth2 token used on C", "", "GET", "/v1/secret/data/canary/c", "", false, "X-Vault-Token", oat.AccessToken)
	c.send("oauth2 lookup-self", "", "GET", "/v1/auth/token/lookup-self", "", true, "X-Vault-Token", oat.AccessToken)
	for _, f := range []struct{ what, path, body string }{
		{"oauth2 wrong secret", "/auth/oauth2/token", exchange + "x"},
		{"oauth2 secret for an unknown client", "/auth/oauth2/token", strings.Replace(exchange, sa.ClientID, "0123456789abcdef", 1)},
		{"oauth2 secret without a scope", "/auth/oauth2/token", strings.Replace(exchange, "&scope=all", "", 1)},
		{"oauth2 secret with another grant", "/auth/oauth2/token", strings.Replace(exchange, "client_credentials", "password", 1)},
		{"oauth2 secret repeated", "/auth/oauth2/token", exchange + "&client_secret=" + url.QueryEscape(sa.ClientSecret)},
		{"oauth2 secret in the URL", "/auth/oauth2/token?client_secret=" + url.QueryEscape(sa.ClientSecret), "grant_type=client_credentials&scope=all"},
		{"oauth2 secret as a JSON body", "/auth/oauth2/token", `{"client_secret":"` + sa.ClientSecret + `"}`},
	} {
		c.send(f.what, "", "POST", f.path, f.body, false, "Content-Type", form)
	}
	c.send("oauth2 secret as a bearer token", sa.ClientSecret, "GET", b+"/secret", "", false)
	c.send("oauth2 token refused by IAM", oat.AccessToken, "GET", b+"/secret/canary%2Fb?includeData=true", "", false)
	c.send("oauth2 wrong access token", oat.AccessToken+"x", "GET", b+"/secret", "", false)

	// Failure paths, each carrying the canary in the value or the token.
	bad := []struct{ what, token, method, path, body string }{
		{"wrong token", rootToken + "x", "GET", b + "/secret", ""},
		{"wrong token C", rootToken + "x", "GET", "/v1/secret/data/canary/c", ""},
		{"wrong token A", rootToken + "x", "GET", a + "/secret", ""},
		{"wrong token iam", rootToken + "x", "GET", "/1.0/me/identity/user", ""},
		{"duplicate keys", root, "POST", b + "/secret", `{"path":"canary/f1","version":{"data":{"k":"` + value + `","k":"` + value + `"}}}`},
		{"data too large", root, "POST", b + "/secret", `{"path":"canary/f2","version":{"data":{"k":"` + value + strings.Repeat("x", 70000) + `"}}}`},
		{"body too large", root, "POST", b + "/secret", `{"path":"canary/f3","version":{"data":{"k":"` + value + strings.Repeat("x", 1<<20) + `"}}}`},
		{"invalid JSON", root, "POST", b + "/secret", `{"path":"canary/f4","version":{"data":{"k":"` + value},
		{"invalid UTF-8", root, "POST", b + "/secret", "{\"path\":\"canary/f5\",\"version\":{\"data\":{\"k\":\"" + value + "\xff\"}}}"},
		{"too deep", root, "POST", b + "/secret", `{"path":"canary/f6","version":{"data":` + strings.Repeat(`{"k":`, 70) + `"` + value + `"` + strings.Repeat("}", 70) + `}}`},
		{"not an object", root, "POST", b + "/secret/canary%2Fb/version", `{"data":"` + value + `"}`},
		{"CAS mismatch B", root, "PUT", b + "/secret/canary%2Fb?cas=1", `{"version":{"data":` + data + `}}`},
		{"CAS mismatch A", root, "PUT", a + "/secret/canary%2Fa?cas=1", `{"version":{"data":` + data + `}}`},
		{"CAS mismatch C", root, "POST", "/v1/secret/data/canary/c", `{"data":` + data + `,"options":{"cas":1}}`},
		{"bad cas C", root, "POST", "/v1/secret/data/canary/c", `{"data":` + data + `,"options":{"cas":"` + value + `"}}`},
		{"missing secret", root, "POST", b + "/secret/canary%2Fnone/version", `{"data":` + data + `}`},
		{"exists", root, "POST", b + "/secret", `{"path":"canary/b","version":{"data":` + data + `}}`},
		{"C data not an object", root, "POST", "/v1/secret/data/canary/c", `{"data":"` + value + `"}`},
		{"C bad patch", root, "PATCH", "/v1/secret/data/canary/c", `{"data":["` + value + `"]}`},
		{"C form", root, "POST", "/v1/secret/data/canary/c", "data=" + value},
		{"A too deep", root, "POST", a + "/secret", `{"path":"canary/f7","version":{"data":` + strings.Repeat(`{"k":`, 70) + `"` + value + `"` + strings.Repeat("}", 70) + `}}`},
		{"short password", root, "POST", "/1.0/me/identity/user", `{"login":"canary2","password":"C-` + id[:4] + `"}`},
		{"password on a bad user", root, "POST", "/1.0/me/identity/user", `{"login":"../x","password":"` + password + `"}`},
		{"unknown member", root, "POST", "/v2/iam/policy", `{"name":"p","secret":"` + value + `"}`},
	}
	for _, f := range bad {
		c.send(f.what, f.token, f.method, f.path, f.body, false)
	}
	c.send("vault token header", "", "GET", "/v1/secret/data/canary/c", "", false, "X-Vault-Token", rootToken+"x")
	keyNeedles := c.serviceKeys(d, root, value, tok.Token)
	c.send("metrics", root, "GET", "/metrics", "", false)
	// A backup holds every value, encrypted under its passphrase.
	if st, body := c.send("backup", root, "POST", "/sys/backup", `{"passphrase":"canary backup passphrase"}`, false); st != 200 {
		t.Errorf("backup = %d %.200s", st, body)
	}
	c.send("restore refused", root, "POST", "/sys/restore", value, false, "X-Coffer-Backup-Passphrase", password)
	l.stop()

	needles := append([]string{value, id, rootToken, tok.Token, password, sa.ClientSecret, oat.AccessToken}, keyNeedles...)
	var leaks []string
	var scanned int
	check := func(where string, b []byte) {
		scanned += len(b)
		for _, n := range needles {
			if bytes.Contains(b, []byte(n)) {
				leaks = append(leaks, fmt.Sprintf("%s holds %.24s…", where, n))
			}
		}
	}
	allowed := 0
	for _, ans := range c.answers {
		if ans.allowed {
			allowed++
			continue
		}
		check("the answer to "+ans.what, ans.body)
	}
	check("the server log (access and server records)", []byte(l.logs.String()))
	auditLog, err := os.ReadFile(l.audit)
	if err != nil || len(auditLog) == 0 {
		t.Fatalf("the audit file: %v (%d bytes)", err, len(auditLog))
	}
	check("the audit file", auditLog)
	var files int
	err = filepath.WalkDir(l.dir, func(path string, de fs.DirEntry, err error) error {
		if err != nil || de.IsDir() || path == l.audit {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		files++
		check(path, raw)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("T8 canary scan: %d answers (%d authorized getData or token creation, not scanned), server log, audit file (%d lines) and %d data files: %d bytes scanned, canary occurrences outside authorized answers: %d",
		len(c.answers), allowed, bytes.Count(auditLog, []byte("\n")), files, scanned, len(leaks))
	for _, leak := range leaks {
		t.Errorf("leak: %s", leak)
	}
}
