package webui_test

import (
	"crypto/x509"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"
)

// The API page gives a domain's endpoints, a ready VAULT_ADDR line and
// examples for the okms CLI, the Vault CLI and External Secrets Operator,
// each with a copy button; the Vault address it gives works.
func TestBrowser_APIAccess(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.putSecret(e.domain, "prod/app", `{"user":"alice"}`)
	b := e.openTab(t)
	b.grantClipboard()
	b.signInToken(e.root)
	b.open("/ui/d/" + e.domain + "/secrets")
	b.clickText("API access")
	vaultAddr := e.ts.URL + "/api/" + e.domain
	b.shows("REST endpoint", e.ts.URL, "export VAULT_ADDR="+vaultAddr, e.ts.URL+"/docs",
		"okms secrets get prod/app", "--okmsId "+e.domain, "kind: SecretStore", `server: "`+vaultAddr+`"`,
		"plain HTTP")
	if got := b.eval(`document.querySelector("a[href$='/docs']").href`); got != e.ts.URL+"/docs" {
		t.Errorf("the docs link goes to %v", got)
	}
	b.axe()
	b.screenshot("api-access")
	b.click(`button[aria-label="Copy the export VAULT_ADDR line"]`)
	b.waitText(`button[aria-label="Copy the export VAULT_ADDR line"]`, "Copied")
	line := b.eval(`navigator.clipboard.readText()`).(string)
	if line != "export VAULT_ADDR="+vaultAddr {
		t.Fatalf("copied %q", line)
	}
	b.click(`button[aria-label="Copy the SecretStore example"]`)
	b.waitText(`button[aria-label="Copy the SecretStore example"]`, "Copied")
	if got := b.eval(`navigator.clipboard.readText()`).(string); !strings.HasPrefix(got, "apiVersion: external-secrets.io/v1\n") || !strings.Contains(got, "version: v2") {
		t.Errorf("copied SecretStore %q", got)
	}

	// The address copied is the domain's Vault API.
	addr := strings.TrimPrefix(line, "export VAULT_ADDR=")
	req, _ := http.NewRequestWithContext(t.Context(), "GET", addr+"/v1/secret/data/prod/app", nil)
	req.Header.Set("X-Vault-Token", e.root)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `"user":"alice"`) {
		t.Errorf("GET %s/v1/secret/data/prod/app = %d %s", addr, res.StatusCode, body)
	}
	// No CA to download on plain HTTP.
	if r := e.client(); r != nil {
		r.signIn("", e.root)
		if res := r.get("/ui/ca.pem"); res.status != http.StatusNotFound {
			t.Errorf("GET /ui/ca.pem without a CA = %d, want 404", res.status)
		}
	}
}

// With an installation CA, the API page offers it for download, and the
// examples use it.
func TestAPIAccessPublicCA(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{tlsAuto: true})
	c := e.client()
	c.signIn("", e.root)
	page := c.get("/ui/d/" + e.domain + "/api")
	for _, want := range []string{"Download the CA certificate (ca.pem)", "export VAULT_CACERT=ca.pem", "--ca ca.pem", "caBundle"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the API page lacks %q", want)
		}
	}
	res := c.get("/ui/ca.pem")
	block, _ := pem.Decode([]byte(res.body))
	if res.status != http.StatusOK || block == nil || block.Type != "CERTIFICATE" ||
		!strings.Contains(res.header.Get("Content-Disposition"), `filename="ca.pem"`) {
		t.Fatalf("GET /ui/ca.pem = %d %q %.80q", res.status, res.header.Get("Content-Disposition"), res.body)
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil || !cert.IsCA {
		t.Errorf("the CA downloaded: %v, IsCA %v", err, cert != nil && cert.IsCA)
	}
	// Signed out, nothing.
	if res := e.client().get("/ui/ca.pem"); res.status != http.StatusSeeOther {
		t.Errorf("GET /ui/ca.pem signed out = %d, want 303 to the sign-in", res.status)
	}
}
