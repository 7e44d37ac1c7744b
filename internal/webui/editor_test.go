package webui_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// The key/value rows and the raw JSON edit the same value, each checked
// as it is typed; a new version starts from the current value; the
// mistakes of the form sit next to their fields.
func TestBrowser_Editor(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.putSecret(e.domain, "taken", `{"a":"b"}`)
	b := e.openTab(t)
	b.signInToken(e.root)
	b.open("/ui/d/" + e.domain + "/create")
	b.waitVisible(".kv-row .kv-key")
	b.axe()

	// Rows write the JSON.
	b.typeIn(".kv-row:nth-child(1) .kv-key", "login")
	b.typeIn(".kv-row:nth-child(1) .kv-val", "admin")
	b.click("[data-kv-add]")
	b.typeIn(".kv-row:nth-child(2) .kv-key", "login")
	b.waitText(".kv-row:nth-child(2) .kv-error", "This key is given twice.")
	b.shows("One pair needs a correction.")
	b.replace(".kv-row:nth-child(2) .kv-key", "password")
	b.typeIn(".kv-row:nth-child(2) .kv-val", `p"w`)
	if got := b.value("#value"); got != "{\n  \"login\": \"admin\",\n  \"password\": \"p\\\"w\"\n}" {
		t.Errorf("the rows wrote %q", got)
	}
	if b.visible(".kv-row:nth-child(2) .kv-error") {
		t.Error("a corrected row still shows its error")
	}
	b.screenshot("editor")
	// The JSON rewrites the rows; a number is kept as JSON.
	b.replace("#value", `{"login": "root", "port": 5432}`)
	b.waitVisible(".kv-row:nth-child(2) .tag")
	if got := b.value(".kv-row:nth-child(2) .kv-val"); got != "5432" {
		t.Errorf("the port row holds %q", got)
	}
	if n := b.count(".kv-row"); n != 2 {
		t.Errorf("%d rows after the JSON changed, want 2", n)
	}
	// Only the rows, then only the JSON.
	b.click(`[data-editor-mode="rows"]`)
	if b.visible("#value") || !b.visible(".kv-row") {
		t.Error("the rows mode still shows the JSON, or no rows")
	}
	b.click(`[data-editor-mode="json"]`)
	if !b.visible("#value") || b.visible(".kv-row") {
		t.Error("the JSON mode still shows the rows")
	}
	b.click(`[data-editor-mode="both"]`)

	// Mistakes next to their fields.
	b.typeIn("#path", "a//b")
	b.do(jsSubmit("#create-form"))
	b.waitText("#path-error", "must not contain //")
	b.shows("A path uses letters, digits")
	if got := b.eval(`document.querySelector("#path").getAttribute("aria-invalid")`); got != "true" {
		t.Errorf("the path field is not marked invalid: %v", got)
	}
	b.replace("#path", "taken")
	b.do(jsSubmit("#create-form"))
	b.waitText("#path-error", "A secret already exists at this path.")
	b.clickText("Open the existing secret")
	b.at("/ui/d/" + e.domain + "/secret?path=taken")

	// A new version starts from the current value.
	b.clickText("New version")
	waitValue(b, ".kv-row:nth-child(1) .kv-key", "a")
	if got := b.value(".kv-row:nth-child(1) .kv-val"); got != "b" {
		t.Errorf("the new version starts from %q, want the current value", got)
	}
	b.typeIn(".kv-row:nth-child(1) .kv-val", "c")
	b.clickText("Save the version")
	b.shows("Version 2 saved.")
	v, err := e.svc.GetSecret(e.ctx(), root, e.domain, secret.MustParsePath("taken"), service.GetOptions{IncludeData: true})
	if err != nil || string(v.Data.JSON()) != `{"a":"bc"}` {
		t.Errorf("version 2 holds %v (%v)", v.Data, err)
	}
}

// jsSubmit submits a form as its submit button does (the checks of the
// browser skipped, to reach the server's) and waits for the page.
func jsSubmit(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := chromedp.RunResponse(ctx, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).submit()`, sel)))
		return err
	})
}

// waitValue waits until the field matching sel holds want.
func waitValue(b *tab, sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if got := b.eval(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.value : "" })()`, sel)); got == want {
			return
		}
		time.Sleep(40 * time.Millisecond)
	}
	b.t.Fatalf("%s never held %q", sel, want)
}
