package kms

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"
	okms "github.com/ovh/okms-sdk-go"

	"github.com/seed-3e8d63de/coffer/internal/server"
	"github.com/seed-3e8d63de/coffer/internal/testenv"
)

// kms is a dev server over TLS (the installation CA, in memory) behind an
// httptest listener on 127.0.0.1.
type kms struct {
	t      *testing.T
	srv    *server.Server
	ts     *httptest.Server
	root   string
	domain uuid.UUID
	http   *http.Client // trusts the server's certificate
}

const rootToken = "cof_root_e2e_kms"

func newKMS(t *testing.T) *kms {
	t.Helper()
	te := testenv.Start(t, testenv.Configure(func(cfg *server.Config) {
		cfg.Listen, cfg.DevRootToken, cfg.TLSAuto = "127.0.0.1:0", rootToken, true
	}))
	srv, ts := te.Server, te.HTTP
	return &kms{t: t, srv: srv, ts: ts, root: rootToken, domain: uuid.MustParse(srv.DefaultDomain()), http: ts.Client()}
}

// sdk returns okms-sdk-go's client on the server, authenticated by token
// as okms-cli's token mode does (Authorization: Bearer).
func (k *kms) sdk(token string) *okms.Client {
	k.t.Helper()
	c, err := okms.NewRestAPIClientWithHttp(k.ts.URL, k.http)
	if err != nil {
		k.t.Fatal(err)
	}
	return c.WithCustomHeader("Authorization", "Bearer "+token)
}

// sdkMTLS returns okms-sdk-go's client presenting an access certificate,
// without any token, as okms-cli's mTLS mode does.
func (k *kms) sdkMTLS(cert tls.Certificate) (*okms.Client, *http.Client) {
	k.t.Helper()
	tr := k.http.Transport.(*http.Transport).Clone()
	tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
	hc := &http.Client{Transport: tr}
	k.t.Cleanup(hc.CloseIdleConnections)
	c, err := okms.NewRestAPIClientWithHttp(k.ts.URL, hc)
	if err != nil {
		k.t.Fatal(err)
	}
	return c, hc
}

// call sends a request with the root token and decodes a JSON answer
// into out (when not nil). It returns the status and the body.
func (k *kms) call(method, path, body string, out any) (int, []byte) {
	k.t.Helper()
	return k.callWith(k.http, "Bearer "+k.root, method, path, body, out)
}

func (k *kms) callWith(c *http.Client, auth, method, path, body string, out any) (int, []byte) {
	k.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(k.t.Context(), method, k.ts.URL+strings.ReplaceAll(path, "{okmsId}", k.domain.String()), rd)
	if err != nil {
		k.t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.Do(req)
	if err != nil {
		k.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode/100 == 2 {
		if err := json.NewDecoder(bytes.NewReader(b)).Decode(out); err != nil {
			k.t.Fatalf("%s %s: decode %s: %v", method, path, b, err)
		}
	}
	return res.StatusCode, b
}

// accessCertificate makes a user holding policy (actions on the domain)
// and issues it an access certificate through surface A.
func (k *kms) accessCertificate(login string, actions ...string) tls.Certificate {
	k.t.Helper()
	must := func(status int, b []byte, what string) {
		k.t.Helper()
		if status/100 != 2 {
			k.t.Fatalf("%s: %d %s", what, status, b)
		}
	}
	user := "urn:v1:eu:identity:user:coffer/" + login
	s, b := k.call("POST", "/1.0/me/identity/user", `{"login":"`+login+`"}`, nil)
	must(s, b, "create user")
	pol, _ := json.Marshal(map[string]any{"name": login, "identities": []string{user},
		"resources":   []map[string]string{{"urn": "urn:v1:eu:resource:okms:" + k.domain.String()}},
		"permissions": map[string]any{"allow": actionsOf(actions)}})
	s, b = k.call("POST", "/v2/iam/policy", string(pol), nil)
	must(s, b, "create policy")
	var cr struct{ CertificatePEM, PrivateKeyPEM string }
	s, b = k.call("POST", "/v2/okms/resource/{okmsId}/credential", `{"name":"kms-e2e","identityURNs":["`+user+`"],"validity":30}`, &cr)
	must(s, b, "create credential")
	kp, err := tls.X509KeyPair([]byte(cr.CertificatePEM), []byte(cr.PrivateKeyPEM))
	if err != nil {
		k.t.Fatal(err)
	}
	return kp
}

func actionsOf(actions []string) []map[string]string {
	out := make([]map[string]string, len(actions))
	for i, a := range actions {
		out[i] = map[string]string{"action": a}
	}
	return out
}
