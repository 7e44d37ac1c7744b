package webui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// One browser test per flow of the control panel (issue 6). Each clicks and
// types as a person does and checks what the page shows.

// Flow 1: sign in with a login and password or with a token, sign out,
// sessions expire.
func TestBrowser_SignIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.createUser("alice", "correct horse battery staple", "")
	e.allow("alice", []string{e.domainURN(e.domain)}, "okms:apiovh:secret/get")
	e.putSecret(e.domain, "app/db", `{"password":"x"}`)
	b := e.openTab(t)

	b.open("/")
	b.at("/ui/signin")
	b.shows("Sign in to coffer", "Sign in with a token")
	b.screenshot("signin")

	// A wrong password is refused without saying which part was wrong.
	b.typeIn("#login", "alice")
	b.submitWith("#password", "not the password")
	b.shows("The login or password is incorrect.")
	if got := b.value("#login"); got != "alice" {
		t.Errorf("the login field holds %q after a failure, want alice", got)
	}
	// (An unknown login gets the very same page: TestSignInFailuresAreAlike.)

	// The right password, typed and sent with Enter.
	b.replace("#login", "alice")
	b.submitWith("#password", "correct horse battery staple")
	b.shows("Secrets", "app/")
	if who := b.text(".who"); !strings.Contains(who, "alice") {
		t.Errorf("the account area shows %q, want alice", who)
	}
	if c := b.eval(`document.cookie`); c != "" {
		t.Errorf("scripts can read cookies: %q (the session cookie must be HttpOnly)", c)
	}

	// Sign out: the session is gone.
	b.clickText("Sign out")
	b.shows("You are signed out.")
	b.open("/ui/secrets")
	b.at("/ui/signin")

	// A token, through the "Sign in with a token" form.
	b.signInToken(e.root)
	b.shows("Secrets")
	if who := b.text(".who"); !strings.Contains(who, "root") || !strings.Contains(who, "ADMIN") {
		t.Errorf("the account area shows %q, want root, admin", who)
	}
	if strings.Contains(b.location(), e.root) || strings.Contains(b.html(), e.root) {
		t.Error("the token is in the URL or the page")
	}

	// 31 idle minutes later the session has expired; signing in again
	// returns to the page asked for.
	e.clock.Advance(31 * time.Minute)
	b.open("/ui/d/" + e.domain + "/secrets?prefix=app/")
	b.at("/ui/signin")
	b.shows("Your session has expired. Sign in again.")
	b.click("details.token-signin summary")
	b.typeIn("#token", e.root)
	b.clickNav("#signin-token button[type=submit]")
	b.at("/ui/d/" + e.domain + "/secrets?prefix=app")
	b.shows("db")
}

// Flow 2: the secrets list: region selector, domain table when a region
// has several domains, folders, filter box, paging, at phone width too.
func TestBrowser_SecretsList(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{regions: []string{"eu-west-par", "ca-east-bhs"}})
	for _, p := range []string{"prod/database/MySQL", "prod/database/PostgreSQL", "prod/api/stripe", "dev/app", "shared-key"} {
		e.putSecret(e.domain, p, `{"k":"v"}`)
	}
	for i := range 1200 {
		e.putSecret(e.domain, fmt.Sprintf("bulk/item-%04d", i), `{"n":"x"}`)
	}
	apps, data := e.activate("ca-east-bhs", "bhs-apps"), e.activate("ca-east-bhs", "bhs-data")
	e.putSecret(apps, "apps/web", `{"k":"v"}`)
	e.putSecret(data, "warehouse/etl", `{"k":"v"}`)
	b := e.openTab(t)
	b.signInToken(e.root)

	// The default domain, folders first by path.
	b.at("/ui/d/" + e.domain + "/secrets")
	rows := b.eval(`JSON.stringify([...document.querySelectorAll("#secret-rows tr a.name")].map(td => td.innerText.trim()))`)
	if got := jsonOf[[]string](t, rows); strings.Join(got, " ") != "bulk/ dev/ prod/ shared-key" {
		t.Errorf("the root of the domain lists %q, want bulk/ dev/ prod/ shared-key", got)
	}
	regions := b.eval(`JSON.stringify([...document.querySelectorAll("#region option")].map(o => o.value))`)
	if got := jsonOf[[]string](t, regions); strings.Join(got, " ") != "ca-east-bhs eu-west-par" {
		t.Errorf("the region selector offers %q, want the two regions with secrets", got)
	}
	b.screenshot("secrets")

	// Into the folders, and back with the breadcrumb.
	b.clickText("prod/")
	b.shows("api/", "database/")
	b.clickText("database/")
	b.shows("MySQL", "PostgreSQL")
	b.lacks("stripe")
	b.clickText("prod")
	b.shows("api/")

	// The filter box: typing filters the rows shown at once, Enter
	// searches every secret of the domain.
	b.open("/ui/d/" + e.domain + "/secrets")
	b.typeIn(".filter input[name=q]", "mysql")
	if b.count("#secret-rows tr:not([hidden])") != 0 || !b.visible("[data-filter-empty]") {
		t.Error("typing a filter does not narrow the rows of the page")
	}
	b.submitWith(".filter input[name=q]", "")
	b.shows("prod/database/MySQL")
	if n := b.count("#secret-rows tr"); n != 1 {
		t.Errorf("the filter found %d secrets, want 1", n)
	}
	b.replace(".filter input[name=q]", "item-1150")
	b.submitWith(".filter input[name=q]", "")
	b.shows("bulk/item-1150")

	// Paging through a folder of 1,200 secrets, 50 a page.
	b.open("/ui/d/" + e.domain + "/secrets?prefix=bulk/")
	if n := b.count("#secret-rows tr"); n != 50 {
		t.Fatalf("the first page has %d rows, want 50", n)
	}
	b.shows("item-0000", "item-0049")
	b.clickText("Next page")
	b.shows("item-0050", "item-0099")
	b.lacks("item-0049")
	b.clickText("Next page")
	b.shows("item-0100")
	b.clickText("First page")
	b.shows("item-0000")

	// Another region, with two domains: choose one.
	b.open("/ui/d/" + e.domain + "/secrets")
	b.do(chromedpSelect("#region", "ca-east-bhs"))
	b.shows("OKMS domains in ca-east-bhs", "bhs-apps", "bhs-data")
	b.clickText("bhs-data")
	b.at("/ui/d/" + data + "/secrets")
	b.shows("warehouse/")
	b.lacks("apps/")

	// At phone width nothing overflows sideways.
	b.do(emulatePhone())
	b.open("/ui/d/" + e.domain + "/secrets?prefix=prod/database/")
	b.shows("MySQL")
	if over := b.eval(`document.documentElement.scrollWidth - window.innerWidth`); over.(float64) > 0 {
		t.Errorf("at 390 px the page is %v px too wide", over)
	}
}

// Flow 3: create a secret: the region, the activation of a domain with its
// progress, the domain, the JSON value checked as you type, settings and
// custom metadata.
func TestBrowser_CreateSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{regions: []string{"eu-west-par", "ca-east-bhs"}})
	par2 := e.activate("eu-west-par", "par-2")
	e.putSecret(par2, "shared/key", `{"k":"v"}`)
	b := e.openTab(t)
	b.signInToken(e.root)

	b.clickText("Create a secret")
	b.shows("1. Choose the region", "eu-west-par", "2 OKMS domains", "ca-east-bhs", "No OKMS domain yet")
	b.click(`input[name=region][value="ca-east-bhs"]`)
	b.clickText("Continue")
	b.shows("Activate an OKMS domain in ca-east-bhs")
	b.replace("#name", "secrets-canada")
	b.clickText("Activate")
	b.at("/ui/d/")
	b.shows("secrets-canada", "The OKMS domain is ready.")
	b.waitVisible("[data-continue]")
	b.clickText("Continue: create a secret")
	b.shows("Create a secret", "ca-east-bhs")

	// The browser checks the path before sending it.
	b.typeIn("#path", "bad path!")
	if !b.eval(`document.querySelector("#path").validity.patternMismatch`).(bool) {
		t.Error("the browser accepts a path with a space and a !")
	}
	// The value is checked as it is typed.
	b.replace("#path", "prod/database/MySQL")
	b.replace("#value", `[1, 2]`)
	b.waitText("[data-json-status]", "must be a JSON object")
	b.replace("#value", "{\n  \"login\": \"admin\",\n  \"password\": ")
	b.waitText("[data-json-status]", "Not valid JSON")
	b.typeIn("#value", "\"s3cr3t-Tr0ub4dor\",\n  \"host\": \"db.internal\",\n  \"port\": 3306\n}")
	b.waitText("[data-json-status]", "Valid JSON object · 4 keys")
	b.shows("of 64 KiB")
	b.screenshot("create")
	// 70 KB does not fit.
	b.eval(`(() => { const t = document.querySelector("#value"); const keep = t.value;
		t.value = JSON.stringify({big: "x".repeat(70000)}); t.dispatchEvent(new Event("input"));
		window.__tooBig = document.querySelector("[data-json-status]").innerText;
		t.value = keep; t.dispatchEvent(new Event("input")); return true })()`)
	if s := b.eval(`window.__tooBig`).(string); !strings.Contains(s, "Too large") || !strings.Contains(s, "64 KiB") {
		t.Errorf("a 70 KB value shows %q, want it too large", s)
	}

	// Optional settings and custom metadata.
	b.click("details.more summary")
	b.typeIn("#maxVersions", "5")
	b.typeIn("#deactivateAfter", "30d")
	b.click(`input[name=cas]`)
	b.typeIn(`.meta-row input[name=meta_key]`, "team")
	b.typeIn(`.meta-row input[name=meta_value]`, "dba")
	b.click("[data-add-row]")
	b.do(typeLast(`.meta-row input[name=meta_key]`, "env"), typeLast(`.meta-row input[name=meta_value]`, "production"))
	b.clickText("Create the secret")

	b.shows("Secret prod/database/MySQL created, with version 1.", "General information")
	if got := b.value("#maxVersions") + " " + b.value("#deactivateAfter"); got != "5 30d" {
		t.Errorf("the saved parameters read %q, want 5 30d", got)
	}
	if !b.eval(`document.querySelector("input[name=cas]").checked`).(bool) {
		t.Error("CAS is not required after creating with it")
	}
	meta := b.eval(`JSON.stringify([...document.querySelectorAll(".meta-row")].map(r => [...r.querySelectorAll("input")].map(i => i.value).join("=")))`)
	if got := strings.Join(jsonOf[[]string](t, meta), " "); !strings.Contains(got, "env=production") || !strings.Contains(got, "team=dba") {
		t.Errorf("the custom metadata reads %q", got)
	}

	// A region with several domains: choose the domain; a path taken is
	// explained and the value typed is kept.
	b.clickText("Create a secret")
	b.click(`input[name=region][value="eu-west-par"]`)
	b.clickText("Continue")
	b.shows("2. Choose the OKMS domain", "par-2", "default")
	b.clickText("Use par-2")
	b.at("/ui/d/" + par2 + "/create")
	b.typeIn("#path", "shared/key")
	b.replace("#value", `{"token": "abc"}`)
	b.clickText("Create the secret")
	b.shows("A secret already exists at this path.")
	if got := b.value("#value"); got != `{"token": "abc"}` {
		t.Errorf("the value typed became %q after the error", got)
	}
}

// Flow 4: the dashboard: general information and editable parameters.
func TestBrowser_Dashboard(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for i := range 3 {
		e.putSecret(e.domain, "prod/api/stripe", fmt.Sprintf(`{"key":"sk_%d"}`, i))
	}
	meta := map[string]string{"owner": "payments"}
	e.setSettings(e.domain, "prod/api/stripe", secret.MetadataUpdate{CustomMetadata: &meta})
	b := e.openTab(t)
	b.signInToken(e.root)

	b.clickText("prod/")
	b.clickText("api/")
	b.clickText("stripe")
	b.shows("General information", "Parameters", "prod/api/stripe",
		"urn:v1:eu:resource:okms:"+e.domain+"/secret/prod%2Fapi%2Fstripe",
		"In effect for the next versions: the latest 10 kept")
	facts := b.text(".facts")
	for _, want := range []string{"Current version\n3", "Number of versions\n3", "Created", "Last updated"} {
		if !strings.Contains(strings.ReplaceAll(facts, "\t", "\n"), want) {
			t.Errorf("the general information lacks %q:\n%s", want, facts)
		}
	}

	// A mistake is explained and the form keeps what was typed.
	b.replace("#maxVersions", "4")
	b.replace("#deactivateAfter", "ninety days")
	b.clickText("Save the parameters")
	b.shows("The expiration period must be a duration such as 30d")
	if got := b.value("#deactivateAfter"); got != "ninety days" {
		t.Errorf("the field holds %q after the error", got)
	}
	b.replace("#deactivateAfter", "90d")
	b.do(replaceFirst(`.meta-row input[name=meta_value]`, "billing"))
	b.clickText("Save the parameters")
	b.shows("Parameters saved.", "In effect for the next versions: the latest 4 kept", "each deactivated 90d after it is created")
	b.open(b.location())
	if got := b.value("#maxVersions") + " " + b.value("#deactivateAfter") + " " + b.value(`.meta-row input[name=meta_value]`); got != "4 90d billing" {
		t.Errorf("after saving, the parameters read %q", got)
	}
}

// Flow 5: display the value in a side panel: never before it is asked
// for, never in a URL, versions with their states, nothing for an inactive
// version, a copy button per key, forgotten when the panel closes; keys
// and values are shown as text, never run.
func TestBrowser_DisplayValue(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	p := "prod/database/MySQL"
	// The passwords double as canaries: they must appear nowhere but in
	// the panel, and only while it is open.
	const pw1, pw2, pw3 = "oLd-Pa55-w0rd1", "0lder-Pa55-w0rd2", "hX9q-2Lw7-vT4p"
	e.putSecret(e.domain, p, `{"login":"admin","password":"`+pw1+`"}`)
	e.putSecret(e.domain, p, `{"login":"admin","password":"`+pw2+`"}`)
	e.putSecret(e.domain, p, `{"login":"admin","password":"`+pw3+`","host":"db.internal","port":3306,"replicas":["db-1","db-2"]}`)
	e.setState(e.domain, p, 1, secret.Deactivated)
	xss := `{"<img src=x onerror=window.__xss=1>":"<script>window.__xss=2</script>","a\"><svg onload=window.__xss=3>":"</code><b>bold</b>"}`
	e.putSecret(e.domain, "test/xss", xss)
	b := e.openTab(t)
	b.grantClipboard()
	b.signInToken(e.root)

	b.open("/ui/d/" + e.domain + "/secret?path=" + p)
	canaries := func() bool {
		h := b.html()
		return strings.Contains(h, pw1) || strings.Contains(h, pw2) || strings.Contains(h, pw3)
	}
	if canaries() {
		t.Fatal("the value is in the page before it is asked for")
	}
	dashboard := b.location()
	b.click("[data-value-form] button")
	b.waitVisible("#value-panel")
	// Masked until revealed: one key, then all.
	b.waitVisible(`#value-panel button[aria-label="Reveal the value of password"]`)
	if canaries() || strings.Contains(b.html(), "db.internal") {
		t.Fatal("a value is shown before it is revealed")
	}
	b.click(`#value-panel button[aria-label="Reveal the value of host"]`)
	b.waitText("#value-panel", "db.internal")
	if canaries() {
		t.Error("revealing one key revealed another")
	}
	b.click("[data-reveal-all]")
	b.waitText("#value-panel", pw3)
	b.shows("login", "admin", "db.internal", "3306", `["db-1","db-2"]`)
	b.click("[data-reveal-all]")
	b.waitText("[data-reveal-all]", "Reveal all")
	if canaries() {
		t.Error("hide all left a value shown")
	}
	opts := b.eval(`JSON.stringify([...document.querySelectorAll("#value-version option")].map(o => o.text))`)
	if got := strings.Join(jsonOf[[]string](t, opts), " | "); got != "Version 3 · active · current | Version 2 · active | Version 1 · deactivated" {
		t.Errorf("the version selector offers %q", got)
	}
	b.screenshot("value-panel")

	// Copy the password.
	b.click(`#value-panel button[aria-label="Copy the value of password"]`)
	b.waitText(`#value-panel button[aria-label="Copy the value of password"]`, "Copied")
	if got := b.eval(`navigator.clipboard.readText()`); got != pw3 {
		t.Errorf("the clipboard holds %q, want the password", got)
	}
	// The whole value, as JSON, to the clipboard and as files.
	b.click("[data-copy-json]")
	b.waitText("[data-copy-json]", "Copied")
	if got := b.eval(`navigator.clipboard.readText()`).(string); !strings.Contains(got, `"password": "`+pw3+`"`) || !strings.Contains(got, `"port": 3306`) {
		t.Errorf("copy as JSON gave %q", got)
	}
	dl := t.TempDir()
	b.allowDownloads(dl)
	b.click("[data-download-env]")
	env := waitFile(t, filepath.Join(dl, "prod-database-MySQL-v3.env"))
	if !strings.Contains(env, `password="`+pw3+`"`+"\n") || !strings.Contains(env, `port="3306"`) {
		t.Errorf("the .env download holds %q", env)
	}
	b.click("[data-download-json]")
	if got := waitFile(t, filepath.Join(dl, "prod-database-MySQL-v3.json")); !strings.Contains(got, `"host": "db.internal"`) {
		t.Errorf("the JSON download holds %q", got)
	}

	// A deactivated version shows nothing; an active one its value.
	b.do(chromedpSelect("#value-version", "Version 1"))
	b.waitText("#value-panel", "Version 1 is deactivated: its value cannot be displayed.")
	if n := b.count("#value-panel .kv"); n != 0 || strings.Contains(b.html(), pw1) {
		t.Errorf("a deactivated version shows %d entries", n)
	}
	b.do(chromedpSelect("#value-version", "Version 2"))
	b.waitVisible(`#value-panel button[aria-label="Reveal the value of password"]`)
	b.click("[data-reveal-all]")
	b.waitText("#value-panel", pw2)

	// Escape closes the panel, forgets the value and gives the focus back.
	b.key(kb.Escape)
	b.waitHidden("#value-panel")
	if canaries() {
		t.Error("the value stays in the page after the panel closed")
	}
	if got := b.eval(`document.activeElement.innerText`).(string); !strings.Contains(got, "Display the value") {
		t.Errorf("after closing, the focus is on %q, want the button that opened the panel", got)
	}
	// With the keyboard: Enter on the focused button opens it again.
	b.key(kb.Enter)
	b.waitVisible(`#value-panel button[aria-label="Reveal the value of password"]`)
	b.click("[data-panel-close]")
	b.waitHidden("#value-panel")

	// No URL ever held the value.
	if b.location() != dashboard {
		t.Errorf("the page moved to %s", b.location())
	}
	hist := b.eval(`JSON.stringify(performance.getEntriesByType("resource").map(r => r.name).concat([location.href]))`).(string)
	if strings.Contains(hist, pw3) || strings.Contains(hist, pw2) {
		t.Errorf("a URL holds the value: %s", hist)
	}

	// Keys and values that look like markup are shown as text.
	b.open("/ui/d/" + e.domain + "/secret?path=test/xss")
	b.click("[data-value-form] button")
	b.waitVisible("[data-reveal-all]")
	b.click("[data-reveal-all]")
	b.waitText("#value-panel", "<script>window.__xss=2</script>")
	b.shows("<img src=x onerror=window.__xss=1>", "</code><b>bold</b>")
	if b.count("#value-panel img, #value-panel script, #value-panel svg:not(.icon), #value-panel b") != 0 {
		t.Error("a key or value became markup")
	}
	b.noXSS()
	if l := e.log.String(); strings.Contains(l, pw3) || strings.Contains(l, pw2) {
		t.Error("the server log holds a value")
	}
}

// Flow 6: a new version; with check-and-set the version started from is
// sent, and a conflict is explained.
func TestBrowser_NewVersion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	p := "app/config"
	e.putSecret(e.domain, p, `{"mode":"blue"}`)
	cas := true
	e.setSettings(e.domain, p, secret.MetadataUpdate{CASRequired: &cas})
	b := e.openTab(t)
	b.signInToken(e.root)

	b.open("/ui/d/" + e.domain + "/secret?path=" + p)
	b.clickText("New version")
	b.shows("Check-and-set applies to this secret: the new version is saved only if version 1 is still the current one")
	b.click("[data-load-current]")
	b.waitText("[data-json-status]", "Valid JSON object · 1 key")
	if got := b.value("#value"); !strings.Contains(got, `"mode": "blue"`) {
		t.Errorf("starting from the current value gives %q", got)
	}
	b.replace("#value", `{"mode": "green"}`)

	// Meanwhile someone else saves version 2.
	one := uint32(1)
	d, _ := secret.ParseData([]byte(`{"mode":"red"}`))
	if _, _, err := e.svc.PutVersion(e.ctx(), root, e.domain, secret.MustParsePath(p), d, service.PutOptions{CAS: &one}); err != nil {
		t.Fatal(err)
	}
	b.clickText("Save the version")
	b.shows("Conflict.", "you started from version 1, but version 2 has been saved since")
	if got := b.value("#value"); got != `{"mode": "green"}` {
		t.Errorf("the value typed became %q after the conflict", got)
	}
	b.shows("only if version 2 is still the current one")
	b.clickText("Save the version")
	b.shows("Version 3 saved.")
	b.waitText(".facts", "3")
	v, err := e.svc.GetSecret(e.ctx(), root, e.domain, secret.MustParsePath(p), service.GetOptions{IncludeData: true})
	if err != nil || string(v.Data.JSON()) != `{"mode":"green"}` {
		t.Errorf("version 3 holds %v (%v)", v.Data, err)
	}
}

// Flow 7: the versions tab: states, dates, per-version actions, a
// confirmation to delete, pruned versions gone.
func TestBrowser_Versions(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	p := "app/token"
	e.putSecret(e.domain, p, `{"t":"1"}`)
	three := uint32(3)
	e.setSettings(e.domain, p, secret.MetadataUpdate{MaxVersions: &three})
	for i := 2; i <= 4; i++ {
		e.clock.Advance(time.Hour)
		e.putSecret(e.domain, p, fmt.Sprintf(`{"t":"%d"}`, i))
	}
	b := e.openTab(t)
	b.signInToken(e.root)

	b.open("/ui/d/" + e.domain + "/secret?path=" + p)
	b.clickText("Versions")
	if got := versionRows(t, b); got != "4 active|3 active|2 active" {
		t.Errorf("versions: %q, want 4, 3, 2 (1 pruned beyond 3 versions)", got)
	}
	b.clickNav(`button[aria-label="Deactivate version 3"]`) // Deactivate
	b.shows("Version 3 deactivated.")
	b.screenshot("versions")
	if got := versionRows(t, b); got != "4 active|3 deactivated|2 active" {
		t.Errorf("after deactivating 3: %q", got)
	}
	if b.count(`tr[data-version="3"] [data-value-form]`) != 0 {
		t.Error("a deactivated version offers to display its value")
	}
	b.clickNav(`tr[data-version="3"] form[action$="/secret/state"] button`) // Reactivate
	b.shows("Version 3 reactivated.")

	b.clickNav(`tr[data-version="2"] a.btn-danger-ghost`)
	b.shows("Delete version 2 of app/token?", "This cannot be undone.")
	b.clickText("Delete version 2")
	b.shows("Version 2 deleted.")
	if got := versionRows(t, b); got != "4 active|3 active|2 deleted" {
		t.Errorf("after deleting 2: %q", got)
	}
	if b.count(`tr[data-version="2"] form, tr[data-version="2"] a`) != 0 {
		t.Error("a deleted version still offers actions")
	}

	// A fifth version prunes the oldest one.
	b.clickText("New version")
	b.replace("#value", `{"t": "5"}`)
	b.clickText("Save the version")
	b.clickText("Versions")
	if got := versionRows(t, b); got != "5 active|4 active|3 active" {
		t.Errorf("after a fifth version: %q, want 5, 4, 3", got)
	}
}

func versionRows(t *testing.T, b *tab) string {
	t.Helper()
	s := b.eval(`JSON.stringify([...document.querySelectorAll("#versions tbody tr")].map(tr =>
		tr.dataset.version + " " + tr.querySelector(".badge").innerText.toLowerCase()))`)
	return strings.Join(jsonOf[[]string](t, s), "|")
}

// Flow 8: delete a secret, with a confirmation.
func TestBrowser_DeleteSecret(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.putSecret(e.domain, "tmp/old-key", `{"k":"v"}`)
	e.putSecret(e.domain, "tmp/keep", `{"k":"v"}`)
	b := e.openTab(t)
	b.signInToken(e.root)

	b.open("/ui/d/" + e.domain + "/secret?path=tmp/old-key")
	b.clickText("Delete")
	b.shows("Delete the secret tmp/old-key?", "This cannot be undone.")
	b.clickText("Cancel")
	b.at("/ui/d/" + e.domain + "/secret?path=tmp")
	b.clickText("Delete")
	// The name must be typed: the button waits for it, and the server
	// checks it again.
	if b.eval(`document.querySelector("[data-confirm-button]").disabled`) != true {
		t.Error("the delete button is enabled before the name is typed")
	}
	b.replace("#typed", "tmp/old")
	b.do(chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-confirm-button]").disabled = false`))
	b.clickText("Delete the secret")
	b.shows("What you typed is not tmp/old-key: nothing was deleted.")
	b.typeIn("#typed", "tmp/old-key")
	b.clickText("Delete the secret")
	b.shows("Secret tmp/old-key deleted.", "keep")
	b.lacks("old-key\n")
	if n := b.count("#secret-rows tr"); n != 1 {
		t.Errorf("the folder lists %d secrets after the deletion, want 1", n)
	}
	if _, err := e.svc.GetSecret(e.ctx(), root, e.domain, secret.MustParsePath("tmp/old-key"), service.GetOptions{}); err == nil {
		t.Error("the secret still exists")
	}
}

// Flow 9: domain settings: the secret configuration, access certificates
// (created, downloaded once, revoked), and for administrators users,
// tokens, policies and the audit log.
func TestBrowser_DomainSettings(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{audit: true})
	e.putSecret(e.domain, "app/db", `{"k":"v"}`)
	b := e.openTab(t)
	downloads := t.TempDir()
	b.allowDownloads(downloads)
	b.signInToken(e.root)

	b.clickText("Domain settings")
	b.shows("Secret configuration", "Access certificates", "Users", "Tokens", "Policies", "Audit log")
	b.replace("#cfg-maxVersions", "20")
	b.click(`#config-form input[name=cas]`)
	b.clickText("Save the configuration")
	b.shows("Secret configuration saved.")
	if got := b.value("#cfg-maxVersions"); got != "20" {
		t.Errorf("max versions reads %q after saving", got)
	}
	b.screenshot("domain-settings")

	// An access certificate: created, its key shown and downloaded once.
	b.clickText("Access certificates")
	b.shows("No access certificate yet.")
	b.typeIn("#cred-name", "ci-runner")
	b.replace("#cred-validity", "30")
	b.clickText("Create the certificate")
	b.shows("Download the private key now.", "Access certificate ci-runner created.")
	if !strings.HasPrefix(b.value("#cert-pem"), "-----BEGIN CERTIFICATE-----") || !strings.Contains(b.value("#key-pem"), "PRIVATE KEY-----") {
		t.Fatal("the certificate page lacks the certificate or the key")
	}
	b.click("[data-download=key-pem]")
	if key := waitFile(t, filepath.Join(downloads, "ci-runner.key.pem")); !strings.Contains(key, "PRIVATE KEY") {
		t.Errorf("the downloaded key file holds %q", key)
	}
	b.clickText("Back to the access certificates")
	b.shows("ci-runner", "READY")
	if strings.Contains(b.html(), "PRIVATE KEY") {
		t.Error("the private key is shown again")
	}
	b.clickText("Revoke")
	b.shows("Revoke the access certificate ci-runner?")
	b.clickText("Revoke the certificate")
	b.shows("Access certificate ci-runner revoked.", "No access certificate yet.")

	// Users, a token shown once, a policy.
	b.clickText("Users")
	b.typeIn("#u-login", "carol")
	b.clickText("Add the user")
	b.shows("User carol created.")
	b.clickText("Tokens")
	b.typeIn("#t-name", "deploy")
	b.typeIn("#t-days", "30")
	b.clickText("Create the token")
	b.shows("Token deploy of carol", "Copy it now.")
	carolToken := b.value("#once-secret")
	if !strings.HasPrefix(carolToken, "cof_pat_") {
		t.Errorf("the token shown is %q", carolToken)
	}
	b.clickText("Done")
	b.shows("carol", "deploy")
	b.clickText("Policies")
	b.typeIn("#p-name", "carol-reads")
	b.typeIn("#p-ids", "urn:v1:eu:identity:user:coffer/carol")
	b.click(`input[name=allow][value="okms:apiovh:secret/get"]`)
	b.clickText("Create the policy")
	b.shows("Policy carol-reads created.", "urn:v1:eu:identity:user:coffer/carol")

	// The audit log of the domain.
	b.clickText("Audit log")
	b.shows("okms:apiovh:secretConfig/update", "Allowed")

	// A user who is not an administrator sees none of this.
	other := e.openTab(t)
	other.signInToken(carolToken)
	other.shows("Secrets", "app/")
	if other.count(`a[href$="/settings"]`) != 0 {
		t.Error("a reader is offered the domain settings")
	}
	other.open("/ui/d/" + e.domain + "/settings?tab=users")
	other.shows("You are not allowed to do this.")
}

// The IAM test: a metadata-only user (okms:apiovh:secret/get only) sees
// the dashboard and the versions but is offered no value and no change,
// and a crafted request for the value is refused.
func TestBrowser_MetadataOnlyUser(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.putSecret(e.domain, "app/db", `{"password":"CANARY-meta-1"}`)
	e.putSecret(e.domain, "app/db", `{"password":"CANARY-meta-2"}`)
	e.createUser("auditor", "", "")
	e.allow("auditor", []string{e.domainURN(e.domain)}, "okms:apiovh:secret/get")
	b := e.openTab(t)
	// The user's own token (flow 1 covers the password form).
	b.signInToken(e.createPAT("auditor", "laptop"))

	b.clickText("app/")
	b.clickText("db")
	b.shows("General information", "Current version", "app/db")
	for sel, what := range map[string]string{
		"[data-value-form]":                         "Display the value",
		`a[href*="/secret/new-version"]`:            "New version",
		`a[href*="/secret/delete"]`:                 "Delete",
		"#settings-form":                            "editable parameters",
		`a[href$="/settings"]`:                      "Domain settings",
		`a[href^="/ui/create"], a[href$="/create"]`: "Create a secret",
	} {
		if b.count(sel) != 0 {
			t.Errorf("a metadata-only user is offered %s", what)
		}
	}
	b.lacks("Display the value")
	b.clickText("Versions")
	if got := versionRows(t, b); got != "2 active|1 active" {
		t.Errorf("versions: %q", got)
	}
	if n := b.count("#versions form, #versions a"); n != 0 {
		t.Errorf("the versions offer %d actions to a metadata-only user", n)
	}

	// A crafted request for the value, from the user's own signed-in page
	// with its valid CSRF token: refused by the server.
	res := b.eval(`(async () => {
		const csrf = document.querySelector("input[name=csrf]").value;
		const r = await fetch("/ui/d/` + e.domain + `/secret/value", {method: "POST",
			headers: {Accept: "application/json"}, body: new URLSearchParams({csrf, path: "app/db", version: "2"})});
		return r.status + " " + await r.text();
	})()`).(string)
	if !strings.HasPrefix(res, "403 ") || strings.Contains(res, "CANARY") {
		t.Errorf("the crafted value request got %q, want 403 without the value", res)
	}
	res = b.eval(`(async () => {
		const csrf = document.querySelector("input[name=csrf]").value;
		const r = await fetch("/ui/d/` + e.domain + `/secret/state", {method: "POST",
			body: new URLSearchParams({csrf, path: "app/db", version: "2", state: "deactivated"})});
		return r.status + " " + await r.text();
	})()`).(string)
	if !strings.HasPrefix(res, "403 ") {
		t.Errorf("the crafted deactivation got %.80q, want 403", res)
	}
	v, err := e.svc.GetSecret(e.ctx(), root, e.domain, secret.MustParsePath("app/db"), service.GetOptions{})
	if err != nil || v.Version.State != secret.Active {
		t.Errorf("version 2 after the refused deactivation: %v %v", v.Version, err)
	}
	if strings.Contains(b.html(), "CANARY") {
		t.Error("the value reached the page")
	}
}

// chromedpSelect picks the option of a select whose text starts with
// text with the keyboard, as a person does: focus the closed select and
// press the arrow keys, which selects the option and fires change.
func chromedpSelect(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		pos, err := chromedp.Evaluate[[]int](fmt.Sprintf(`(() => { const s = document.querySelector(%q);
			return [s.selectedIndex, [...s.options].findIndex(o => o.text.startsWith(%q))] })()`, sel, text))(ctx, t)
		if err != nil {
			return err
		}
		if pos[1] < 0 {
			return fmt.Errorf("%s has no option %q", sel, text)
		}
		if _, err := chromedp.Focus(chromedp.CSS(sel))(ctx, t); err != nil {
			return err
		}
		key, n := kb.ArrowDown, pos[1]-pos[0]
		if n < 0 {
			key, n = kb.ArrowUp, -n
		}
		for range n {
			if _, err := chromedp.KeyEvent(key)(ctx, t); err != nil {
				return err
			}
		}
		return nil
	})
}

// emulatePhone makes the viewport a phone's.
func emulatePhone() chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2))
}

// typeLast types into the last element matching sel.
func typeLast(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.SendKeys(chromedp.JSPath(fmt.Sprintf(`[...document.querySelectorAll(%q)].pop()`, sel)), text, chromedp.NodeVisible)
}

// replaceFirst empties the first element matching sel and types text.
func replaceFirst(sel, text string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(chromedp.Clear(chromedp.CSS(sel)), chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible))
}

// xssPayloads are texts that would run or inject markup if a page put them
// in HTML without escaping (reliability-security.md T18).
var xssPayloads = []string{
	`<script>window.__xss=1</script>`,
	`<img src=x onerror="window.__xss=2">`,
	`"><svg/onload=window.__xss=3>`,
	`'><iframe srcdoc="<script>parent.__xss=4</script>">`,
	`javascript:window.__xss=5`,
	`</textarea><script>window.__xss=6</script>`,
	`</title><script>window.__xss=7</script>`,
	`<a href="javascript:window.__xss=8">x</a>`,
	`{{.}}${window.__xss=9}`,
	`<style>body{display:none}</style>`,
	`<details open ontoggle=window.__xss=10>`,
	`<body onload=window.__xss=11>`,
	"\u2028\u2029</script><script>window.__xss=12</script>",
	`<math><mi xlink:href="javascript:window.__xss=13">x</mi></math>`,
	`<input autofocus onfocus=window.__xss=14>`,
	`" onmouseover="window.__xss=15`,
	`<noscript><p title="</noscript><img src=x onerror=window.__xss=16>">`,
	`<svg><animate onbegin=window.__xss=17 attributeName=x dur=1s>`,
	`%3Cscript%3Ewindow.__xss=18%3C/script%3E`,
	`<meta http-equiv="refresh" content="0;url=javascript:window.__xss=19">`,
	`<base href="javascript:/">`,
	`<object data="javascript:window.__xss=20">`,
}

// injected counts the elements a payload could have injected.
const injected = `document.querySelectorAll("script:not([src]), iframe, object, embed, base, style, img:not(.icon), ` +
	`meta[http-equiv], details[ontoggle], [onerror], [onload], [onfocus], [onmouseover], [onbegin], main a[href^=javascript]").length`

// TestBrowser_XSSPayloads puts markup-like texts everywhere people can
// type free text — the keys and values of a secret, a domain's name, the
// descriptions of users, groups, tokens and policies — and checks that
// every page shows them as text and runs nothing.
func TestBrowser_XSSPayloads(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	obj := map[string]string{}
	for i, p := range xssPayloads {
		obj[fmt.Sprintf("k%02d %s", i, p)] = p
	}
	raw, _ := json.Marshal(obj)
	e.putSecret(e.domain, "web/app", string(raw))
	evil := e.activate("local", xssPayloads[1])
	e.putSecret(evil, "x/y", `{"k":"v"}`)
	desc := xssPayloads[2]
	role := "REGULAR"
	if _, err := e.svc.CreateGroup(e.ctx(), root, service.GroupInput{Name: "g", Description: &xssPayloads[10], Role: &role}); err != nil {
		t.Fatal(err)
	}
	pw := "correct horse battery staple"
	if _, err := e.svc.CreateUser(e.ctx(), root, service.UserInput{Login: "u", Password: &pw, Description: &desc, Email: &xssPayloads[15]}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CreatePAT(e.ctx(), root, "u", "t", xssPayloads[6], time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreatePolicy(e.ctx(), root, policy.Policy{Name: "p", Description: xssPayloads[7],
		Identities: []string{policy.UserURN("eu", "coffer", "u")}, Resources: []string{e.domainURN(e.domain)},
		Allow: []string{"okms:apikms:secret/get"}}); err != nil {
		t.Fatal(err)
	}
	b := e.openTab(t)
	b.signInToken(e.root)

	clean := func(where string) {
		t.Helper()
		b.noXSS()
		if n := b.eval(injected).(float64); n != 0 {
			t.Errorf("%s: %v injected elements", where, n)
		}
	}
	d := "/ui/d/" + e.domain
	for _, p := range []string{"/ui/secrets?region=local", "/ui/create?region=local", "/ui/d/" + evil + "/secrets",
		"/ui/d/" + evil + "/activation", "/ui/d/" + evil + "/settings", d + "/settings?tab=users",
		d + "/settings?tab=tokens", d + "/settings?tab=policies", d + "/secret?path=web/app"} {
		b.open(p)
		clean(p)
	}
	b.open("/ui/secrets?region=local")
	b.shows(xssPayloads[1])
	b.open(d + "/settings?tab=users")
	b.shows(desc, xssPayloads[10])

	// The side panel shows every key and value as text.
	b.open(d + "/secret?path=web/app")
	b.click("[data-value-form] button")
	b.waitText("#value-panel", "k00 ")
	b.click("[data-reveal-all]")
	if n := b.count("#value-panel .kv"); n != len(xssPayloads) {
		t.Errorf("the panel shows %d entries, want %d", n, len(xssPayloads))
	}
	for _, p := range xssPayloads[:8] {
		b.waitText("#value-panel", strings.TrimSpace(p))
	}
	clean("value panel")
	// The page for browsers without script shows them as text too.
	if err := b.nav(chromedp.Evaluate[chromedp.Void](`document.querySelector("[data-value-form]").submit()`)); err != nil {
		t.Fatalf("post the value form without script: %v", err)
	}
	b.shows("Value of", xssPayloads[0])
	clean("value page")
}
