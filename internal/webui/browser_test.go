package webui_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The browser tests drive Debian's Chromium, headless, through the
// DevTools protocol with chromedp: one browser for the package, one
// isolated browser context (cookies, storage) per test, one coffer server
// per test. They skip when Chromium is missing, unless
// COFFER_BROWSER_TESTS=1 (CI), which makes a missing browser a failure.
// COFFER_SCREENSHOTS=1 writes the screenshots of docs/screenshots/.

const chromiumPath = "/usr/bin/chromium"

var (
	browserOnce   sync.Once
	browserCtx    context.Context
	browserCancel context.CancelFunc
	browserErr    error
	browserDir    string
)

func TestMain(m *testing.M) {
	// The browser tests spend their time waiting for the browser and for
	// password hashing, not computing: unless -parallel says otherwise,
	// run more of them at once than GOMAXPROCS, which is the default.
	flag.Parse()
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		_ = flag.Set("test.parallel", "4")
	}
	code := m.Run()
	if browserCancel != nil {
		browserCancel()
	}
	if browserDir != "" {
		os.RemoveAll(browserDir)
	}
	os.Exit(code)
}

func startBrowser() {
	browserDir, browserErr = os.MkdirTemp("", "coffer-chromium-")
	if browserErr != nil {
		return
	}
	actx, acancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(browserDir),
		chromedp.WindowSize(1280, 800),
	)
	bctx, bcancel := chromedp.NewContext(actx)
	if err := chromedp.Do(bctx); err != nil {
		browserErr = fmt.Errorf("start %s: %w", chromiumPath, err)
		bcancel()
		acancel()
		return
	}
	browserCtx = bctx
	browserCancel = func() { bcancel(); acancel() }
}

// tab is one browser tab, in its own browser context, on one server.
type tab struct {
	t   testing.TB
	e   *env
	ctx context.Context
}

// openTab returns a fresh tab at desktop size, skipping the test when
// Chromium is missing (failing it under COFFER_BROWSER_TESTS=1).
func (e *env) openTab(t testing.TB) *tab {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("COFFER_BROWSER_TESTS") == "1" {
			t.Fatalf("COFFER_BROWSER_TESTS=1 but %s is missing: install Debian's chromium package", chromiumPath)
		}
		t.Skipf("browser test skipped: %s is not installed (apt-get install chromium); set COFFER_BROWSER_TESTS=1 to make this a failure", chromiumPath)
	}
	browserOnce.Do(startBrowser)
	if browserErr != nil {
		t.Fatalf("Chromium: %v", browserErr)
	}
	tctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
	ctx, cancelTimeout := context.WithTimeout(tctx, 240*time.Second) // tours with axe-core on a loaded machine, -race included
	t.Cleanup(func() { cancelTimeout(); cancel() })
	b := &tab{t: t, e: e, ctx: ctx}
	b.do(chromedp.EmulateViewport(1280, 800))
	return b
}

func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v (at %s)", err, b.location())
	}
}

// open loads a page of the panel.
func (b *tab) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.e.ts.URL + path))
}

// location returns the path and query of the page shown.
func (b *tab) location() string {
	loc, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		return "?"
	}
	return strings.TrimPrefix(loc, b.e.ts.URL)
}

// click clicks the first visible element matching a CSS selector.
func (b *tab) click(sel string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible))
}

// navTimeout bounds the wait for a page a click or a key loads.
const navTimeout = 20 * time.Second

// nav runs steps that load a new page and waits for it.
func (b *tab) nav(steps ...chromedp.Action[chromedp.Void]) error {
	ctx, cancel := context.WithTimeout(b.ctx, navTimeout)
	defer cancel()
	_, err := chromedp.RunResponse(ctx, steps...)
	return err
}

// clickNav clicks an element that loads a new page and waits for it.
func (b *tab) clickNav(sel string) {
	b.t.Helper()
	if err := b.nav(chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		b.t.Fatalf("click %s: %v (at %s)", sel, err, b.location())
	}
}

// clickText clicks the link or button whose text contains text, and
// waits for the page it loads.
func (b *tab) clickText(text string) {
	b.t.Helper()
	xp := fmt.Sprintf(`//*[self::a or self::button or self::summary][contains(normalize-space(.), %q)]`, text)
	if err := b.nav(chromedp.Click(chromedp.Search(xp), chromedp.NodeVisible)); err != nil {
		b.t.Fatalf("click %q: %v (at %s)", text, err, b.location())
	}
}

// typeIn types text into a field, as keystrokes.
func (b *tab) typeIn(sel, text string) {
	b.t.Helper()
	b.do(chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible))
}

// replace selects what a field holds and types text over it, as a person
// does with Ctrl+A.
func (b *tab) replace(sel, text string) {
	b.t.Helper()
	b.do(selectAll(sel), chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible))
}

// selectAll focuses a field and selects its content.
func selectAll(sel string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const e = document.querySelector(%q); e.focus(); e.select(); })()`, sel)))
}

// submitWith types text into a field and presses Enter, which submits its
// form, and waits for the new page.
func (b *tab) submitWith(sel, text string) {
	b.t.Helper()
	if err := b.nav(chromedp.SendKeys(chromedp.CSS(sel), text+kb.Enter, chromedp.NodeVisible)); err != nil {
		b.t.Fatalf("type into %s and press Enter: %v", sel, err)
	}
}

// key presses keys on the focused element.
func (b *tab) key(keys string) {
	b.t.Helper()
	b.do(chromedp.KeyEvent(keys))
}

// text returns the visible text of the first element matching sel.
func (b *tab) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeReady))
	if err != nil {
		b.t.Fatalf("text of %s: %v (at %s)", sel, err, b.location())
	}
	return s
}

func (b *tab) value(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("value of %s: %v", sel, err)
	}
	return s
}

// waitText waits until the element matching sel shows want.
func (b *tab) waitText(sel, want string) {
	b.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		got, err := chromedp.Run(b.ctx, b.evalString(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return e ? e.innerText : "" })()`, sel)))
		if err == nil {
			last = got
			if strings.Contains(got, want) {
				return
			}
		}
		time.Sleep(40 * time.Millisecond)
	}
	b.t.Fatalf("%s never showed %q (at %s); it shows:\n%s", sel, want, b.location(), last)
}

// shows asserts that the page's main area shows every text.
func (b *tab) shows(texts ...string) {
	b.t.Helper()
	for _, s := range texts {
		b.waitText("body", s)
	}
}

// lacks asserts that the page does not show text (visible text).
func (b *tab) lacks(text string) {
	b.t.Helper()
	if got := b.eval(`document.body.innerText`); strings.Contains(got.(string), text) {
		b.t.Errorf("the page shows %q (at %s)", text, b.location())
	}
}

func (b *tab) evalString(expr string) chromedp.Action[string] {
	return chromedp.Evaluate[string](expr)
}

// eval evaluates a JavaScript expression in the page.
func (b *tab) eval(expr string) any {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return v
}

func (b *tab) count(sel string) int {
	b.t.Helper()
	n := b.eval(fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
	return int(n.(float64))
}

func (b *tab) visible(sel string) bool {
	b.t.Helper()
	v := b.eval(fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && !e.closest("[hidden]") && e.getClientRects().length > 0 })()`, sel))
	return v.(bool)
}

func (b *tab) waitVisible(sel string) {
	b.t.Helper()
	b.do(chromedp.WaitVisible(chromedp.CSS(sel)))
}

func (b *tab) waitHidden(sel string) {
	b.t.Helper()
	b.do(chromedp.WaitNotVisible(chromedp.CSS(sel)))
}

// html returns the whole document as the browser holds it.
func (b *tab) html() string {
	b.t.Helper()
	return b.eval(`document.documentElement.outerHTML`).(string)
}

// at asserts the path the page is at.
func (b *tab) at(prefix string) {
	b.t.Helper()
	if loc := b.location(); !strings.HasPrefix(loc, prefix) {
		b.t.Fatalf("at %s, want %s", loc, prefix)
	}
}

// screenshot saves the viewport as docs/screenshots/name.png when
// COFFER_SCREENSHOTS=1.
func (b *tab) screenshot(name string) {
	b.t.Helper()
	if os.Getenv("COFFER_SCREENSHOTS") != "1" {
		return
	}
	// From the top of the page, once the transitions have settled.
	b.do(chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`), chromedp.Sleep(150*time.Millisecond))
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// signInToken signs in with a token through the form, as a person does.
func (b *tab) signInToken(token string) {
	b.t.Helper()
	b.open("/ui/signin")
	b.click("details.token-signin summary")
	b.typeIn("#token", token)
	b.clickNav("#signin-token button[type=submit]")
}

// noXSS asserts that no payload ran.
func (b *tab) noXSS() {
	b.t.Helper()
	if v := b.eval(`String(window.__xss)`); v != "undefined" {
		b.t.Errorf("a script payload ran: window.__xss = %v", v)
	}
}

// jsonOf decodes the JSON text of a value evaluated in the page.
func jsonOf[T any](t testing.TB, s any) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s.(string)), &v); err != nil {
		t.Fatalf("decode %v: %v", s, err)
	}
	return v
}

// grantClipboard lets the page of this tab read and write the clipboard.
func (b *tab) grantClipboard() {
	b.t.Helper()
	id := chromedp.FromContext(b.ctx).BrowserContextID
	for _, name := range []string{"clipboard-read", "clipboard-write"} {
		_, err := chromedp.CallBrowser(b.ctx, browser.SetPermission, browser.SetPermissionParams{
			Permission: &browser.PermissionDescriptor{Name: name, AllowWithoutSanitization: true},
			Setting:    browser.PermissionSetting("granted"), Origin: b.e.ts.URL, BrowserContextID: id,
		})
		if err != nil {
			b.t.Fatalf("grant %s: %v", name, err)
		}
	}
}

// allowDownloads saves the tab's downloads in dir.
func (b *tab) allowDownloads(dir string) {
	b.t.Helper()
	id := chromedp.FromContext(b.ctx).BrowserContextID
	_, err := chromedp.CallBrowser(b.ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
		Behavior: browser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir, BrowserContextID: id,
	})
	if err != nil {
		b.t.Fatalf("allow downloads: %v", err)
	}
}

// waitFile waits for a downloaded file and returns its content.
func waitFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(path)
		if err == nil && len(b) > 0 {
			return string(b)
		}
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("%s was never downloaded", path)
	return ""
}
