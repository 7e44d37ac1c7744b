package webui_test

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// dark makes the tab prefer a dark colour scheme, as a system set so does.
func (b *tab) dark() {
	b.t.Helper()
	_, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
	if err != nil {
		b.t.Fatalf("emulate a dark scheme: %v", err)
	}
}

var rgbRE = regexp.MustCompile(`rgba?\((\d+), (\d+), (\d+)`)

// luminance returns the mean of the red, green and blue of a CSS colour.
func luminance(t *testing.T, css string) int {
	t.Helper()
	m := rgbRE.FindStringSubmatch(css)
	if m == nil {
		t.Fatalf("not a colour: %q", css)
	}
	sum := 0
	for _, s := range m[1:] {
		n, _ := strconv.Atoi(s)
		sum += n
	}
	return sum / 3
}

// lookEnv is a server with something on every page of the tour.
func lookEnv(t *testing.T) (*env, []string) {
	e := newEnv(t, envOptions{audit: true})
	for _, p := range []string{"prod/db", "prod/api", "prod/cache"} {
		e.putSecret(e.domain, p, `{"k":"v"}`)
	}
	e.putSecret(e.domain, "prod/db", `{"k":"w"}`)
	e.createUser("ann", "", "")
	e.createUser("bob", "", "")
	e.allow("ann", []string{e.domainURN(e.domain)}, "okms:apiovh:secret/get")
	d := "/ui/d/" + e.domain
	return e, []string{d + "/secrets?prefix=prod/", d + "/secret?path=prod/db", d + "/secret?path=prod/db&tab=versions",
		d + "/secret/new-version?path=prod/db", d + "/create", d + "/api", d + "/settings", d + "/settings?tab=users",
		d + "/settings?tab=tokens", d + "/settings?tab=policies", d + "/settings?tab=audit", d + "/users/ann",
		d + "/secret/delete?path=prod/db", d + "/keys", d + "/keys/new"}
}

// Every page of the tour passes the accessibility check in the light
// theme, and the action buttons of each table name their object.
func TestBrowser_AccessibilityLight(t *testing.T) {
	t.Parallel()
	e, tour := lookEnv(t)
	b := e.openTab(t)
	b.signInToken(e.root)
	for _, p := range tour {
		b.open(p)
		b.axe()
		uniqueActionNames(t, b)
	}
	if bg := luminance(t, b.eval(`getComputedStyle(document.body).backgroundColor`).(string)); bg < 200 {
		t.Errorf("the light background is %d light, want above 200", bg)
	}
}

// The dark theme follows the system, and every page of the tour passes
// the accessibility check in it.
func TestBrowser_AccessibilityDark(t *testing.T) {
	t.Parallel()
	e, tour := lookEnv(t)
	b := e.openTab(t)
	b.signInToken(e.root)
	b.dark()
	d := "/ui/d/" + e.domain
	b.open(d + "/secrets?prefix=prod/")
	if dark := luminance(t, b.eval(`getComputedStyle(document.body).backgroundColor`).(string)); dark > 60 {
		t.Errorf("the dark background is %d light, want below 60", dark)
	}
	for _, p := range tour {
		b.open(p)
		b.axe()
	}
	b.open(d + "/secrets?prefix=prod/")
	b.screenshot("secrets-dark")
	b.open(d + "/secret?path=prod/db&tab=versions")
	b.screenshot("versions-dark")
	b.open(d + "/api")
	b.screenshot("api-access-dark")
}

// The domain settings tabs wrap at 375 px instead of clipping; lists and
// dialogs work with the keyboard.
func TestBrowser_NarrowAndKeyboard(t *testing.T) {
	t.Parallel()
	e, _ := lookEnv(t)
	d := "/ui/d/" + e.domain
	b := e.openTab(t)
	b.signInToken(e.root)

	// 375 px: every settings tab is within the screen.
	b.do(chromedp.EmulateViewport(375, 740))
	b.open(d + "/settings")
	out := b.eval(`JSON.stringify([...document.querySelectorAll(".tabs a")].filter(a => { const r = a.getBoundingClientRect(); return r.right > window.innerWidth || r.left < 0 }).map(a => a.innerText))`)
	if got := jsonOf[[]string](t, out); len(got) != 0 {
		t.Errorf("at 375 px these tabs are clipped: %q", got)
	}
	if n := b.count(".tabs a"); n < 6 {
		t.Errorf("the settings show %d tabs", n)
	}
	if over := b.eval(`document.documentElement.scrollWidth - window.innerWidth`); over.(float64) > 0 {
		t.Errorf("at 375 px the settings are %v px too wide", over)
	}
	b.do(chromedp.EmulateViewport(1280, 800))

	// The keyboard: "/" to search, arrows through the list, Enter to open,
	// the value dialog opened and closed with keys, the focus back.
	b.open(d + "/secrets?prefix=prod/")
	b.key("/")
	if got := b.eval(`document.activeElement.type`); got != "search" {
		t.Errorf(`"/" focuses %v, want the search box`, got)
	}
	// (The protocol's key event types the character even though the page
	// cancels the key down, which a browser would not: take it back.)
	b.do(chromedp.Evaluate[chromedp.Void](`(() => { const s = document.activeElement; s.value = ""; s.dispatchEvent(new Event("input")); })()`))
	b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("#secret-rows a.name").focus()`))
	b.key(kb.ArrowDown)
	b.key(kb.ArrowDown)
	if got := b.eval(`document.activeElement.innerText.trim()`); got != "db" {
		t.Errorf("two arrows down from api focus %q, want db", got)
	}
	b.key(kb.Home)
	if got := b.eval(`document.activeElement.innerText.trim()`); got != "api" {
		t.Errorf("Home focuses %q", got)
	}
	b.key(kb.End)
	if err := b.nav(chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatal(err)
	}
	b.at(d + "/secret?path=prod%2Fdb")
	b.do(chromedp.Focus(chromedp.CSS("[data-value-form] button")))
	b.key(kb.Enter)
	b.waitVisible("[data-reveal-all]")
	if got := b.eval(`document.activeElement.closest("#value-panel") !== null`); got != true {
		t.Error("the dialog does not take the focus")
	}
	b.key(kb.Tab)
	b.key(kb.Tab)
	if got := b.eval(`document.activeElement.closest("#value-panel") !== null`); got != true {
		t.Error("Tab leaves the open dialog")
	}
	b.key(kb.Escape)
	b.waitHidden("#value-panel")
	if got := b.eval(`document.activeElement.innerText`).(string); !strings.Contains(got, "Display the value") {
		t.Errorf("after Escape the focus is on %q", got)
	}
}

// uniqueActionNames checks that within each table the action buttons and
// links (outside the name column) have distinct accessible names: each
// says which object it acts on.
func uniqueActionNames(t *testing.T, b *tab) {
	t.Helper()
	dups := b.eval(`(() => {
		const out = [];
		for (const table of document.querySelectorAll("table")) {
			const seen = new Map();
			for (const el of table.querySelectorAll("tbody .btn, tbody button, tbody summary, tbody input[type=checkbox]")) {
				const name = el.getAttribute("aria-label") || el.innerText.trim();
				if (seen.has(name)) out.push(name);
				seen.set(name, true);
			}
		}
		return JSON.stringify([...new Set(out)]);
	})()`)
	if got := jsonOf[[]string](t, dups); len(got) != 0 {
		t.Errorf("at %s, action buttons share names that do not say their object: %s", b.location(), fmt.Sprint(got))
	}
}
