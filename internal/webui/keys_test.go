package webui_test

import (
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/service"
)

// createKey creates a service key as the test's root caller and returns
// its id.
func (e *env) createKey(in service.KeyInput) string {
	e.t.Helper()
	v, err := e.svc.CreateServiceKey(e.ctx(), root, e.domain, in)
	if err != nil {
		e.t.Fatalf("CreateServiceKey(%s): %v", in.Name, err)
	}
	return v.Key.ID
}

func (e *env) keyState(id string) string {
	e.t.Helper()
	v, err := e.svc.GetServiceKey(e.ctx(), root, e.domain, id, service.KeyGetOptions{})
	if err != nil {
		e.t.Fatalf("GetServiceKey(%s): %v", id, err)
	}
	return v.Key.State.String()
}

var keyIDInPath = regexp.MustCompile(`/keys/([0-9a-f-]{36})$`)

// TestKeys walks the Keys area over HTTP: the creation form offers only
// what fits the type chosen, then details with the public key, rename,
// deactivation with a reason, activation, and deletion with the name
// typed.
func TestKeys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	c := e.client()
	csrf := c.signIn("", e.root)
	base := "/ui/d/" + e.domain + "/keys"

	if r := c.get(base); r.status != http.StatusOK || !strings.Contains(r.body, "No key yet") || !strings.Contains(r.body, "Create a key") {
		t.Fatalf("GET %s = %d, want the empty list with Create a key:\n%.3000s", base, r.status, r.body)
	}
	// The creation form: the type first, then only what fits it.
	r := c.get(base + "/new")
	for _, want := range []string{`value="oct"`, `value="RSA"`, `value="EC"`, "Continue"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the first step lacks %s", want)
		}
	}
	if strings.Contains(r.body, `id="key-form"`) {
		t.Error("the first step shows the parameters before a type is chosen")
	}
	for _, tc := range []struct {
		typ       string
		want, not []string
	}{
		{"oct", []string{`<option value="128"`, `<option value="256" selected`, `value="encrypt,decrypt" checked`, `value="wrapKey,unwrapKey"`},
			[]string{`name="curve"`, `value="sign,verify"`, `value="2048"`}},
		{"RSA", []string{`<option value="2048" selected`, `<option value="4096"`, `value="sign,verify" checked`, `value="encrypt,decrypt"`},
			[]string{`name="curve"`, `value="128"`}},
		{"EC", []string{`<option value="P-256" selected`, `<option value="P-521"`, `value="sign,verify" checked`},
			[]string{`name="size"`, `value="encrypt,decrypt"`, `value="wrapKey,unwrapKey"`}},
	} {
		r := c.get(base + "/new?type=" + tc.typ)
		for _, w := range tc.want {
			if !strings.Contains(r.body, w) {
				t.Errorf("the %s form lacks %s", tc.typ, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(r.body, n) {
				t.Errorf("the %s form offers %s, which does not fit the type", tc.typ, n)
			}
		}
	}
	if r := c.get(base + "/new?type=DSA"); r.status != http.StatusNotFound {
		t.Errorf("the form of an unknown type = %d, want 404", r.status)
	}

	// Bad input: the form again with the reason, nothing created.
	for _, tc := range []struct {
		name string
		form url.Values
		want string
	}{
		{"400/no name", url.Values{"type": {"EC"}, "name": {""}, "curve": {"P-256"}, "usage": {"sign,verify"}}, "name"},
		{"400/curve not in the table", url.Values{"type": {"EC"}, "name": {"x"}, "curve": {"P-192"}, "usage": {"sign,verify"}}, "curve"},
		{"400/usage of another type", url.Values{"type": {"EC"}, "name": {"x"}, "curve": {"P-256"}, "usage": {"encrypt,decrypt"}}, "operations"},
	} {
		tc.form.Set("csrf", csrf)
		r := c.post(base+"/new", tc.form)
		if r.status != http.StatusBadRequest || !strings.Contains(strings.ToLower(r.body), tc.want) || !strings.Contains(r.body, `id="key-form"`) {
			t.Errorf("%s: %d, want 400 and the form naming %q:\n%.2000s", tc.name, r.status, tc.want, r.body)
		}
	}
	if ks, _ := e.svc.ListServiceKeys(e.ctx(), root, e.domain, service.KeyListOptions{Limit: 10}); len(ks.Items) != 0 {
		t.Fatalf("refused forms created %d keys", len(ks.Items))
	}

	// Create an EC key: to its page, with the public key as JWK and PEM.
	r = c.post(base+"/new", url.Values{"csrf": {csrf}, "type": {"EC"}, "name": {"signer"}, "context": {"release"},
		"curve": {"P-384"}, "usage": {"sign,verify"}})
	m := keyIDInPath.FindStringSubmatch(r.header.Get("Location"))
	if r.status != http.StatusSeeOther || m == nil {
		t.Fatalf("create = %d %q, want a redirect to the key", r.status, r.header.Get("Location"))
	}
	id := m[1]
	page := c.get(base + "/" + id)
	for _, want := range []string{"Key signer created.", "P-384", "sign, verify", "release", "Public key (JWK)", "Public key (PEM)",
		"-----BEGIN PUBLIC KEY-----", `&#34;kty&#34;: &#34;EC&#34;`, "Rename", "Deactivate", `<option value="key_compromise">`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the key's page lacks %s", want)
		}
	}
	if strings.Contains(page.body, `&#34;d&#34;`) {
		t.Error("the key's page shows a private member")
	}
	// Downloads.
	pemFile := c.get(base + "/" + id + "/public.pem")
	block, _ := pem.Decode([]byte(pemFile.body))
	if pemFile.status != http.StatusOK || block == nil || !strings.Contains(pemFile.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("public.pem = %d %q", pemFile.status, pemFile.body)
	}
	if pub, err := x509.ParsePKIXPublicKey(block.Bytes); err != nil {
		t.Errorf("public.pem does not parse: %v", err)
	} else if k, ok := pub.(*ecdsa.PublicKey); !ok || k.Curve.Params().Name != "P-384" {
		t.Errorf("public.pem holds a %T", pub)
	}
	var jwk map[string]any
	if r := c.get(base + "/" + id + "/public.jwk"); json.Unmarshal([]byte(r.body), &jwk) != nil || jwk["crv"] != "P-384" || jwk["d"] != nil {
		t.Errorf("public.jwk = %q", r.body)
	}

	// Rename, deactivate (compromised), activate.
	if r := c.post(base+"/"+id+"/rename", url.Values{"csrf": {csrf}, "name": {"release-signer"}}); r.status != http.StatusSeeOther {
		t.Errorf("rename = %d", r.status)
	}
	if r := c.post(base+"/"+id+"/deactivate", url.Values{"csrf": {csrf}, "reason": {"bored"}}); r.status != http.StatusBadRequest {
		t.Errorf("deactivate with an unknown reason = %d, want 400", r.status)
	}
	if r := c.post(base+"/"+id+"/deactivate", url.Values{"csrf": {csrf}, "reason": {"key_compromise"}}); r.status != http.StatusSeeOther {
		t.Errorf("deactivate = %d", r.status)
	}
	if s := e.keyState(id); s != "compromised" {
		t.Errorf("after deactivation for key_compromise the key is %s", s)
	}
	page = c.get(base + "/" + id)
	if !strings.Contains(page.body, "release-signer") || !strings.Contains(page.body, "Activate") || !strings.Contains(page.body, "/delete") ||
		strings.Contains(page.body, `id="deactivate-form"`) {
		t.Errorf("the compromised key's page: want its new name, Activate and Delete, no deactivation")
	}
	if r := c.post(base+"/"+id+"/activate", url.Values{"csrf": {csrf}}); r.status != http.StatusSeeOther || e.keyState(id) != "active" {
		t.Errorf("activate = %d, state %s", r.status, e.keyState(id))
	}
	// An active key offers no deletion, and the server refuses it.
	if page := c.get(base + "/" + id); strings.Contains(page.body, "/delete") {
		t.Error("an active key's page offers Delete")
	}
	if r := c.post(base+"/"+id+"/delete", url.Values{"csrf": {csrf}, "confirm": {"release-signer"}}); r.status != http.StatusConflict {
		t.Errorf("delete an active key = %d, want 409", r.status)
	}

	// Deletion needs the name typed.
	c.post(base+"/"+id+"/deactivate", url.Values{"csrf": {csrf}, "reason": {"superseded"}})
	if r := c.get(base + "/" + id + "/delete"); !strings.Contains(r.body, "Type the key") {
		t.Errorf("the deletion page does not ask for the name")
	}
	if r := c.post(base+"/"+id+"/delete", url.Values{"csrf": {csrf}, "confirm": {"release"}}); r.status != http.StatusBadRequest ||
		!strings.Contains(r.body, "does not match") || e.keyState(id) != "deactivated" {
		t.Errorf("delete with the wrong name = %d, state %s; want 400 and nothing deleted", r.status, e.keyState(id))
	}
	if r := c.post(base+"/"+id+"/delete", url.Values{"csrf": {csrf}, "confirm": {"release-signer"}}); r.status != http.StatusSeeOther ||
		e.keyState(id) != "destroyed" {
		t.Errorf("delete = %d, state %s; want the key destroyed", r.status, e.keyState(id))
	}
	if r := c.get(base + "/" + id + "/public.pem"); r.status != http.StatusNotFound {
		t.Errorf("the public key of a destroyed key = %d, want 404", r.status)
	}
	if r := c.get(base); !strings.Contains(r.body, "release-signer") || !strings.Contains(r.body, "destroyed") {
		t.Errorf("the list does not show the destroyed key")
	}
	if r := c.get(base + "/7e57e57e-0000-4000-8000-000000000000"); r.status != http.StatusNotFound {
		t.Errorf("an unknown key = %d, want 404", r.status)
	}
	if r := c.post(base+"/"+id+"/rename", url.Values{"name": {"x"}}); r.status != http.StatusForbidden {
		t.Errorf("a POST without the CSRF token = %d, want 403", r.status)
	}
}

// TestKeys_Authorization: the panel acts with surface A's actions
// (okms:apiovh:serviceKey/*) and offers only what the caller may do.
func TestKeys_Authorization(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	const pw = "correct horse battery staple"
	id := e.createKey(service.KeyInput{Name: "app", Type: "RSA", Size: 2048})
	keys := e.svc.ServiceKeyURN(e.domain, "*")
	e.createUser("reader", pw, "")
	e.allow("reader", []string{keys}, "okms:apiovh:serviceKey/get")
	e.createUser("kmsonly", pw, "")
	e.allow("kmsonly", []string{keys}, "okms:apikms:serviceKey/get", "okms:apikms:serviceKey/update", "okms:apikms:serviceKey/create")
	e.createUser("manager", pw, "")
	e.allow("manager", []string{keys}, "okms:apiovh:serviceKey/get", "okms:apiovh:serviceKey/update", "okms:apiovh:serviceKey/deactivate")
	base := "/ui/d/" + e.domain + "/keys"

	reader := e.client()
	csrf := reader.signIn("reader", pw)
	list := reader.get(base)
	if !strings.Contains(list.body, "app") || strings.Contains(list.body, "Create a key") {
		t.Errorf("a reader's list: want the key, no Create a key")
	}
	page := reader.get(base + "/" + id)
	if page.status != http.StatusOK || !strings.Contains(page.body, "-----BEGIN PUBLIC KEY-----") {
		t.Errorf("a reader's key page = %d", page.status)
	}
	for _, offer := range []string{`id="rename-form"`, `id="deactivate-form"`, "/delete"} {
		if strings.Contains(page.body, offer) {
			t.Errorf("a reader is offered %s", offer)
		}
	}
	if r := reader.post(base+"/"+id+"/rename", url.Values{"csrf": {csrf}, "name": {"x"}}); r.status != http.StatusForbidden {
		t.Errorf("a reader's rename = %d, want 403", r.status)
	}
	if r := reader.get(base + "/new"); r.status != http.StatusForbidden {
		t.Errorf("a reader's creation form = %d, want 403", r.status)
	}

	// Surface B's actions do not open the panel's Keys area.
	kms := e.client()
	kcsrf := kms.signIn("kmsonly", pw)
	if r := kms.get(base); strings.Contains(r.body, ">app<") {
		t.Errorf("a user with okms:apikms actions only sees the key in the panel")
	}
	if r := kms.get(base + "/" + id); r.status != http.StatusForbidden {
		t.Errorf("a user with okms:apikms actions only opens the key: %d, want 403", r.status)
	}
	if r := kms.post(base+"/"+id+"/rename", url.Values{"csrf": {kcsrf}, "name": {"x"}}); r.status != http.StatusForbidden {
		t.Errorf("a user with okms:apikms actions only renames: %d, want 403", r.status)
	}

	manager := e.client()
	mcsrf := manager.signIn("manager", pw)
	page = manager.get(base + "/" + id)
	if !strings.Contains(page.body, `id="rename-form"`) || !strings.Contains(page.body, `id="deactivate-form"`) {
		t.Errorf("a manager is not offered rename and deactivation")
	}
	if r := manager.post(base+"/"+id+"/deactivate", url.Values{"csrf": {mcsrf}, "reason": {"superseded"}}); r.status != http.StatusSeeOther {
		t.Errorf("a manager's deactivation = %d", r.status)
	}
	page = manager.get(base + "/" + id)
	if strings.Contains(page.body, "/activate") || strings.Contains(page.body, "/delete") {
		t.Errorf("a manager without activate and delete is offered them")
	}
	if r := manager.post(base+"/"+id+"/activate", url.Values{"csrf": {mcsrf}}); r.status != http.StatusForbidden {
		t.Errorf("a manager's activation = %d, want 403", r.status)
	}
}
