package webui_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/seed-3e8d63de/coffer/internal/service"
)

// setSelect chooses an option of a select, as a person does.
func (b *tab) setSelect(sel, value string) {
	b.t.Helper()
	b.do(chromedp.SetValue(chromedp.CSS(sel), value, chromedp.NodeVisible))
}

// TestBrowser_Keys walks the Keys area of a domain (issue 15): the list,
// the creation form that offers only what fits the type, the key's page
// with its public key copied, rename, deactivation with a reason, and
// deletion with the name typed.
func TestBrowser_Keys(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.putSecret(e.domain, "app/db", `{"k":"v"}`)
	for _, in := range []service.KeyInput{
		{Name: "payments", Type: "oct", Size: 256, Context: "billing"},
		{Name: "release-signing", Type: "EC", Curve: "P-256"},
		{Name: "tls-backup", Type: "RSA", Size: 2048, Operations: []string{"wrapKey", "unwrapKey"}},
	} {
		e.createKey(in)
	}
	old := e.createKey(service.KeyInput{Name: "legacy-aes", Type: "oct", Size: 128})
	reason := "superseded"
	if _, err := e.svc.UpdateServiceKey(e.ctx(), root, e.domain, old, service.KeyChange{Deactivate: &reason}); err != nil {
		t.Fatal(err)
	}
	b := e.openTab(t)
	b.grantClipboard()
	b.signInToken(e.root)

	b.clickText("Keys")
	b.at("/ui/d/" + e.domain + "/keys")
	b.shows("payments", "release-signing", "tls-backup", "legacy-aes", "P-256", "256 bits", "wrapKey, unwrapKey", "Deactivated")
	if n := b.count("#key-rows tr"); n != 4 {
		t.Errorf("the list shows %d keys, want 4", n)
	}
	b.screenshot("keys")
	b.axe()

	// The type first; then only the curves and usages of an EC key.
	b.clickText("Create a key")
	b.shows("1. Type of key")
	if b.count("#key-form") != 0 {
		t.Error("the parameters show before a type is chosen")
	}
	b.click("input[name=type][value=EC]")
	b.clickText("Continue")
	b.shows("2. Parameters of the EC key")
	curves := b.eval(`JSON.stringify([...document.querySelectorAll("#curve option")].map(o => o.value))`)
	if got := jsonOf[[]string](t, curves); strings.Join(got, " ") != "P-256 P-384 P-521" {
		t.Errorf("the EC form offers the curves %q", got)
	}
	if b.count("#size") != 0 || b.count("input[name=usage]") != 1 {
		t.Errorf("the EC form offers %d sizes and %d usage combinations, want none and one", b.count("#size"), b.count("input[name=usage]"))
	}
	b.axe()
	b.typeIn("#name", "browser-signer")
	b.setSelect("#curve", "P-384")
	b.clickText("Create the key")
	b.shows("Key browser-signer created.", "P-384", "Public key (JWK)", "Public key (PEM)")
	pemText := b.value("#public-pem")
	if !strings.HasPrefix(pemText, "-----BEGIN PUBLIC KEY-----") || !strings.Contains(b.value("#public-jwk"), `"crv": "P-384"`) {
		t.Fatalf("the key's page shows %q and %q", pemText, b.value("#public-jwk"))
	}
	b.click("[data-copy-from=public-pem]")
	if got := b.eval(`navigator.clipboard.readText()`); got != pemText {
		t.Errorf("Copy put %q on the clipboard, want the PEM", got)
	}
	b.screenshot("key-details")
	b.axe()

	// Rename, then deactivate with a reason.
	b.replace("#new-name", "browser-signer-2")
	b.clickText("Rename")
	b.shows("Key renamed to browser-signer-2.")
	b.setSelect("#reason", "key_compromise")
	b.clickNav("#deactivate-form button[type=submit]")
	b.shows("Key browser-signer-2 deactivated.", "Compromised", "reason: key_compromise")
	if b.count("#deactivate-form") != 0 {
		t.Error("a compromised key is offered deactivation")
	}

	// Delete: the name must be typed.
	b.clickText("Delete")
	b.shows("Type the key's name")
	b.axe()
	b.typeIn("#confirm", "browser-signer")
	b.clickText("Delete the key")
	b.shows("does not match")
	b.replace("#confirm", "browser-signer-2")
	b.clickText("Delete the key")
	b.at("/ui/d/" + e.domain + "/keys")
	b.shows("Key browser-signer-2 deleted: its material is destroyed.")
	row := b.eval(fmt.Sprintf(`[...document.querySelectorAll("#key-rows tr")].map(r => r.innerText).filter(t => t.includes(%q)).join("")`, "browser-signer-2"))
	if !strings.Contains(strings.ToLower(row.(string)), "destroyed") {
		t.Errorf("the deleted key's row reads %q, want destroyed", row)
	}
	b.noXSS()
}
