package iam

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// t0 is where every fake clock starts.
var t0 = time.Date(2026, 1, 10, 9, 0, 0, 0, time.UTC)

// URNs of the account (zone eu, account coffer: the server's defaults).
const accountURN = "urn:v1:eu:identity:account:coffer"

func userURN(login string) string { return "urn:v1:eu:identity:user:coffer/" + login }

// env is one running server behind an httptest listener.
type env struct {
	srv    *server.Server
	ts     *httptest.Server
	clock  *testenv.Clock
	domain string
	root   string       // the root token
	client *http.Client // trusts the server's certificate when TLS is on
}

// options choose how newEnv builds its server.
type options struct {
	tls       bool   // serve TLS from the installation CA (Config.TLSAuto)
	dataDir   string // non-empty: a bolt store there instead of dev mode
	auditFile string // Config.AuditFile
}

// newEnv starts a server with opt and stops it when the test ends.
func newEnv(t *testing.T, opt options) *env {
	t.Helper()
	root := "cof_root_" + randomHex(16) // unique: the audit test looks for it
	te := testenv.Start(t, testenv.WithClock(testenv.NewClock(t0)), testenv.Configure(func(cfg *server.Config) {
		cfg.Listen = "127.0.0.1:0"
		cfg.AuditFile = opt.auditFile
		cfg.TLSAuto = opt.tls
		if opt.dataDir != "" {
			cfg.Dev, cfg.DataDir, cfg.RootToken = false, opt.dataDir, root
		} else {
			cfg.DevRootToken = root
		}
	}))
	srv, ts := te.Server, te.HTTP
	if opt.tls && srv.TLSConfig() == nil {
		t.Fatal("server.New with TLSAuto returned no TLS configuration")
	}
	// With TLS in dev mode the installation CA lives in memory only:
	// httptest's client trusts the server's certificate itself. With a
	// data directory, clients trust the CA file, as coffer's do.
	client := ts.Client()
	if opt.tls && opt.dataDir != "" {
		client = caClient(t, filepath.Join(opt.dataDir, "ca.pem"))
	}
	return &env{srv: srv, ts: ts, clock: te.Clock, domain: te.Domain, root: root, client: client}
}

// caClient returns a client that trusts the installation CA whose
// certificate is at path, as coffer's clients do (--ca).
func caClient(t testing.TB, path string) *http.Client {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the installation CA certificate: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatalf("%s holds no certificate", path)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	c := &http.Client{Transport: tr, CheckRedirect: noRedirect}
	t.Cleanup(c.CloseIdleConnections)
	return c
}

// withCertificate returns a client that trusts what c trusts and presents
// cert as its client certificate.
func withCertificate(c *http.Client, cert tls.Certificate) *http.Client {
	base, ok := c.Transport.(*http.Transport)
	if !ok {
		base = http.DefaultTransport.(*http.Transport)
	}
	tr := base.Clone()
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{}
	}
	tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
	return &http.Client{Transport: tr, CheckRedirect: noRedirect}
}

// spread returns a client like c whose requests leave, in turn, from 16
// loopback addresses of their own (127.0.0.x, a block per call), one
// kept-alive connection each, so that the many failed authentications of
// the matrix, which stand for as many clients, stay within the per-address
// limit of failed authentications (iam.md 7.1), which is not what these
// tests are about. Where the loopback aliases cannot be bound (outside
// Linux), it dials as usual.
func spread(c *http.Client) *http.Client {
	base := c.Transport.(*http.Transport)
	rt := &rotating{}
	first := 2 + 16*int(addressBlocks.Add(1)-1)%240
	for i := range 16 {
		tr := base.Clone()
		local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(first+i))}
		tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
			d := net.Dialer{LocalAddr: local}
			if conn, err := d.DialContext(ctx, network, addr); err == nil {
				return conn, nil
			}
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
		rt.trs = append(rt.trs, tr)
	}
	return &http.Client{Transport: rt, CheckRedirect: noRedirect}
}

// addressBlocks counts the blocks of loopback addresses spread handed out.
var addressBlocks atomic.Uint32

// rotating sends each request through the next of its transports.
type rotating struct {
	n   atomic.Uint32
	trs []*http.Transport
}

func (r *rotating) RoundTrip(req *http.Request) (*http.Response, error) {
	return r.trs[int(r.n.Add(1))%len(r.trs)].RoundTrip(req)
}

func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func randomHex(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b)
}

// cred is how a request authenticates: a token, a client (carrying a
// client certificate), both or neither.
type cred struct {
	token  string       // "" sends no token
	client *http.Client // nil: the env's client
}

// request is one HTTP request. target is the escaped path and query.
type request struct {
	method string
	target string
	body   string
	// vault sends the token as X-Vault-Token (Vault clients) instead of
	// Authorization: Bearer.
	vault bool
	// contentType overrides application/json.
	contentType string
}

// response is what came back, body read in full.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// normalized is the status and the body with the request id replaced,
// for comparing two answers.
func (r response) normalized() string {
	body := string(r.body)
	if rid := r.header.Get("X-Request-Id"); rid != "" {
		body = strings.ReplaceAll(body, rid, "<request-id>")
	}
	return fmt.Sprintf("%d %s", r.status, body)
}

// do sends rq with c; a transport error fails the test.
func (e *env) do(t testing.TB, c cred, rq request) response {
	t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	req, err := http.NewRequestWithContext(t.Context(), rq.method, e.ts.URL+rq.target, body)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.target, err)
	}
	if c.token != "" {
		if rq.vault {
			req.Header.Set("X-Vault-Token", c.token)
		} else {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
	}
	if rq.body != "" {
		ct := rq.contentType
		if ct == "" {
			ct = "application/json"
		}
		req.Header.Set("Content-Type", ct)
	}
	client := c.client
	if client == nil {
		client = e.client
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", rq.method, rq.target, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read the body: %v", rq.method, rq.target, err)
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// asRoot sends rq with the root token.
func (e *env) asRoot(t testing.TB, rq request) response {
	t.Helper()
	return e.do(t, cred{token: e.root}, rq)
}

// must sends rq as the account root; it has to succeed.
func (e *env) must(t testing.TB, method, target, body string) response {
	t.Helper()
	r := e.asRoot(t, request{method: method, target: target, body: body, vault: strings.Contains(target, "/v1/")})
	if r.status/100 != 2 {
		t.Fatalf("root %s %s = %s, want a success", method, target, r)
	}
	return r
}

func decode[T any](t testing.TB, r response) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(r.body, &v); err != nil {
		t.Fatalf("decode %T from %s: %v", v, r, err)
	}
	return v
}

// Paths of each surface.

func (e *env) restURL(rest string) string    { return "/api/" + e.domain + "/v2" + rest }
func (e *env) centralURL(rest string) string { return "/v2/okms/resource/" + e.domain + rest }

// esc escapes a secret path for surfaces A and B (okms-rest.md 1.2).
func esc(path string) string { return strings.ReplaceAll(path, "/", "%2F") }

// Identity management, through the API as the account root (iam.md 7.4).

func (e *env) createGroup(t testing.TB, name, role string) {
	t.Helper()
	e.must(t, "POST", "/1.0/me/identity/group", fmt.Sprintf(`{"name":%q,"role":%q}`, name, role))
}

// createUser creates a user (password "" for none) in group ("" for none).
func (e *env) createUser(t testing.TB, login, group, password string) {
	t.Helper()
	m := map[string]string{"login": login}
	if group != "" {
		m["group"] = group
	}
	if password != "" {
		m["password"] = password
	}
	b, _ := json.Marshal(m)
	e.must(t, "POST", "/1.0/me/identity/user", string(b))
}

// createPAT creates a personal access token for login and returns it;
// expires is zero for none.
func (e *env) createPAT(t testing.TB, login, name string, expires time.Time) string {
	t.Helper()
	body := fmt.Sprintf(`{"name":%q,"description":"e2e"}`, name)
	if !expires.IsZero() {
		body = fmt.Sprintf(`{"name":%q,"description":"e2e","expiresAt":%q}`, name, expires.Format(time.RFC3339))
	}
	r := e.must(t, "POST", "/1.0/me/identity/user/"+login+"/token", body)
	tok := decode[struct{ Token string }](t, r).Token
	if tok == "" {
		t.Fatalf("token creation for %s returned no token: %s", login, r)
	}
	return tok
}

func (e *env) revokePAT(t testing.TB, login, name string) {
	t.Helper()
	e.must(t, "DELETE", "/1.0/me/identity/user/"+login+"/token/"+name, "")
}

// policyDoc is a policy as POST /v2/iam/policy takes it (iam.md 4.1).
type policyDoc struct {
	name       string
	identities []string
	resources  []string // resource URNs
	allow      []string
	except     []string
	deny       []string
	expiredAt  time.Time // zero: never
}

// createPolicy creates p and returns its id.
func (e *env) createPolicy(t testing.TB, p policyDoc) string {
	t.Helper()
	type ref struct {
		URN    string `json:"urn,omitempty"`
		Action string `json:"action,omitempty"`
	}
	refs := func(kind string, xs []string) []ref {
		out := []ref{}
		for _, x := range xs {
			if kind == "urn" {
				out = append(out, ref{URN: x})
			} else {
				out = append(out, ref{Action: x})
			}
		}
		return out
	}
	doc := map[string]any{
		"name": p.name, "identities": p.identities, "resources": refs("urn", p.resources),
		"permissions": map[string]any{"allow": refs("action", p.allow), "except": refs("action", p.except), "deny": refs("action", p.deny)},
	}
	if !p.expiredAt.IsZero() {
		doc["expiredAt"] = p.expiredAt.Format(time.RFC3339)
	}
	b, _ := json.Marshal(doc)
	r := e.must(t, "POST", "/v2/iam/policy", string(b))
	return decode[struct{ ID string }](t, r).ID
}

func (e *env) domainURN() string { return "urn:v1:eu:resource:okms:" + e.domain }

// serviceAccountURN is the URN of the service account clientID (iam.md 2).
func serviceAccountURN(clientID string) string {
	return "urn:v1:eu:identity:credential:coffer/oauth2-" + clientID
}

// createServiceAccount creates a service account as the root and returns
// its client id and secret.
func (e *env) createServiceAccount(t testing.TB, name string) (string, string) {
	t.Helper()
	r := e.must(t, "POST", "/1.0/me/api/oauth2/client", fmt.Sprintf(`{"name":%q,"flow":"CLIENT_CREDENTIALS"}`, name))
	v := decode[struct{ ClientID, ClientSecret string }](t, r)
	return v.ClientID, v.ClientSecret
}

// oauthToken exchanges a service account's client credentials for an
// access token at the token endpoint (iam.md 7.2).
func (e *env) oauthToken(t testing.TB, clientID, secret string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "scope": {"all"}, "client_id": {clientID}, "client_secret": {secret}}
	r := e.do(t, cred{}, request{method: "POST", target: "/auth/oauth2/token", body: form.Encode(),
		contentType: "application/x-www-form-urlencoded"})
	tok := decode[struct {
		AccessToken string `json:"access_token"`
	}](t, r).AccessToken
	if r.status != http.StatusOK || tok == "" {
		t.Fatalf("token exchange for %s: %s", clientID, r)
	}
	return tok
}

// credential is a created access certificate (okms-rest.md 5.4).
type credential struct {
	ID             string `json:"id"`
	Status         string `json:"status"`
	ExpiredAt      string `json:"expiredAt"`
	CertificatePEM string `json:"certificatePEM"`
	PrivateKeyPEM  string `json:"privateKeyPEM"`
}

// createCredential issues an access certificate of domain bound to urns,
// through surface A, with c (the root when c is zero).
func (e *env) createCredential(t testing.TB, c cred, domain string, validityDays int, urns ...string) (credential, response) {
	t.Helper()
	if c == (cred{}) {
		c = cred{token: e.root}
	}
	b, _ := json.Marshal(map[string]any{"name": "e2e", "identityURNs": urns, "validity": validityDays})
	r := e.do(t, c, request{method: "POST", target: "/v2/okms/resource/" + domain + "/credential", body: string(b)})
	if r.status != http.StatusOK {
		return credential{}, r
	}
	return decode[credential](t, r), r
}

// keyPair turns a credential into a TLS client certificate.
func keyPair(t testing.TB, cr credential) tls.Certificate {
	t.Helper()
	kp, err := tls.X509KeyPair([]byte(cr.CertificatePEM), []byte(cr.PrivateKeyPEM))
	if err != nil {
		t.Fatalf("the issued certificate and key do not make a key pair: %v", err)
	}
	return kp
}

// createDomain creates a second OKMS domain of this installation through
// the coffer extension POST /v2/okms/resource (okms-rest.md 5.3), as the
// account root, in the server's region, and waits until it is ready (its
// access CA is made in the background). It returns "" and the answer when
// the server does not offer it.
func (e *env) createDomain(t testing.TB) (string, response) {
	t.Helper()
	body := `{"region":"` + server.Defaults().Region + `","displayName":"other"}`
	r := e.asRoot(t, request{method: "POST", target: "/v2/okms/resource", body: body})
	if r.status != http.StatusOK {
		return "", r
	}
	id := decode[struct{ ID string }](t, r).ID
	// The creation finishes in a goroutine of the server: wait for it on
	// the wire, as a client would.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		r = e.asRoot(t, getReq("/v2/okms/resource/"+id))
		var d struct{ IAM struct{ State string } }
		_ = json.Unmarshal(r.body, &d)
		if r.status == http.StatusOK && d.IAM.State == "OK" {
			return id, r
		}
	}
	t.Fatalf("domain %s created but never ready: %s", id, r)
	return "", r
}

// Wire shapes read by several tests.

type restSecret struct {
	Path     string `json:"path"`
	Metadata struct {
		CurrentVersion uint32 `json:"currentVersion"`
	} `json:"metadata"`
	Version *struct {
		ID    uint32          `json:"id"`
		State string          `json:"state"`
		Data  json.RawMessage `json:"data"`
	} `json:"version"`
}

type restVersion struct {
	ID    uint32          `json:"id"`
	State string          `json:"state"`
	Data  json.RawMessage `json:"data"`
}

// Vault's answers to refused requests (vault-kv2.md 2.4).
const (
	vaultNoToken      = "permission denied"
	vaultInvalidToken = "2 errors occurred:\n\t* permission denied\n\t* invalid token\n\n"
	vaultDenied       = "1 error occurred:\n\t* permission denied\n\n"
)

// vaultErrors returns the errors member of a Vault error body.
func vaultErrors(r response) []string {
	var v struct {
		Errors []string `json:"errors"`
	}
	_ = json.Unmarshal(r.body, &v)
	return v.Errors
}

// refusal names the refusal r is, in the envelope of surface: "no token",
// "unauthenticated" or "denied"; "" if r is none of them.
func refusal(surface string, r response) string {
	switch surface {
	case "A", "iam":
		var v struct{ Class string }
		_ = json.Unmarshal(r.body, &v)
		switch {
		case r.status == 401 && v.Class == "Client::Unauthorized":
			return "unauthenticated"
		case r.status == 403 && v.Class == "Client::Forbidden":
			return "denied"
		}
	case "B":
		var v struct {
			ErrorID string `json:"error_id"`
		}
		_ = json.Unmarshal(r.body, &v)
		switch {
		case r.status == 401 && v.ErrorID == "Unauthenticated":
			return "unauthenticated"
		case r.status == 403 && v.ErrorID == "Forbidden":
			return "denied"
		}
	case "C", "T":
		errs := vaultErrors(r)
		if r.status != 403 || len(errs) != 1 {
			return ""
		}
		switch errs[0] {
		case vaultNoToken:
			return "no token"
		case vaultInvalidToken:
			return "unauthenticated"
		case vaultDenied:
			return "denied"
		}
	}
	return ""
}
