package webui_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

func TestNaturalOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	for _, p := range []string{"p/10", "p/2", "p/1", "p/B", "p/a", "p/item-010", "p/item-9"} {
		e.putSecret(e.domain, p, `{"k":"v"}`)
	}
	c := e.client()
	c.signIn("", e.root)
	names, _ := listPage(t, c, "/ui/d/"+e.domain+"/secrets?prefix=p/")
	if got := strings.Join(names, " "); got != "1 2 10 a B item-9 item-010" {
		t.Errorf("natural order: %q", got)
	}
}

// Search by path and custom metadata across the domain, sorted, counted
// and paged by number, showing only what the caller may see (no count of
// the rest); bulk deletion of secrets after a summary.
func TestBrowser_SearchAndBulk(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	team := map[string]string{"team": "payments"}
	for i := 1; i <= 12; i++ {
		p := fmt.Sprintf("svc/app-%d", i)
		e.putSecret(e.domain, p, `{"k":"v"}`)
		if i%2 == 0 {
			e.setSettings(e.domain, p, secret.MetadataUpdate{CustomMetadata: &team})
		}
	}
	e.putSecret(e.domain, "hidden/payments-root", `{"k":"v"}`)
	e.createUser("ann", "", "")
	e.allow("ann", []string{e.domainURN(e.domain) + "/secret/svc%2F*"}, "okms:apiovh:secret/get")

	// Ann sees only svc/: the search finds 6 by metadata, none below
	// hidden/, and says nothing of it.
	a := e.openTab(t)
	a.signInToken(e.createPAT("ann", "t"))
	a.open("/ui/d/" + e.domain + "/secrets?q=payments&size=25")
	a.shows("6 secrets found", "team=payments")
	a.lacks("hidden")
	a.lacks("7 secrets")
	if n := a.count("#secret-rows tr"); n != 6 {
		t.Errorf("ann's search lists %d rows, want 6", n)
	}
	if a.count("#bulk-secrets") != 0 {
		t.Error("a reader is offered a bulk deletion")
	}
	a.axe()
	// From a folder, the search can widen to the whole domain.
	a.open("/ui/d/" + e.domain + "/secrets?prefix=svc/&q=app-1")
	a.shows("4 secrets found") // app-1, app-10, app-11, app-12
	a.clickNav("#search-everywhere")
	a.at("/ui/d/" + e.domain + "/secrets?q=app-1")

	b := e.openTab(t)
	b.signInToken(e.root)
	b.open("/ui/d/" + e.domain + "/secrets?prefix=svc/&size=25")
	b.shows("12 secrets")
	rows := b.eval(`JSON.stringify([...document.querySelectorAll("#secret-rows tr td:nth-child(2)")].map(td => td.innerText.trim()))`)
	if got := strings.Join(jsonOf[[]string](t, rows), " "); !strings.HasPrefix(got, "app-1 app-2 app-3") || !strings.HasSuffix(got, "app-10 app-11 app-12") {
		t.Errorf("natural order: %q", got)
	}
	// Pages by number, of the size chosen.
	b.do(chromedpSelect("#size", "25"))
	b.open("/ui/d/" + e.domain + "/secrets?prefix=svc/&size=5")
	b.shows("page 1 of 3")
	b.clickNav(`a[aria-label="Page 3"]`)
	b.shows("page 3 of 3", "app-11", "app-12")
	// Sorted by last update: the latest first.
	e.clock.Advance(60e9)
	e.putSecret(e.domain, "svc/app-3", `{"k":"w"}`)
	b.open("/ui/d/" + e.domain + "/secrets?prefix=svc/&sort=updated")
	if got := b.text("#secret-rows tr:first-child td:nth-child(2)"); got != "app-3" {
		t.Errorf("sorted by update, the first is %q", got)
	}
	b.axe()

	// Bulk deactivation of the current versions, after a summary.
	b.click(`input[aria-label="Select svc/app-5"]`)
	b.click(`input[aria-label="Select svc/app-7"]`)
	b.clickText("Deactivate the current versions")
	b.shows("Deactivate the current version of 2 secret(s)?", "svc/app-5", "(version 1)", "Nothing is deleted.")
	b.clickText("Deactivate 2 current version(s)")
	b.shows("The current version of 2 secret(s) deactivated.")
	for _, p := range []string{"svc/app-5", "svc/app-7"} {
		v, err := e.svc.GetSecret(e.ctx(), root, e.domain, secret.MustParsePath(p), service.GetOptions{})
		if err != nil || v.Version.State != secret.Deactivated {
			t.Errorf("%s after the bulk deactivation: %v, %v", p, v.Version, err)
		}
	}
	b.open("/ui/d/" + e.domain + "/secrets?prefix=svc/&sort=updated")

	// Bulk deletion, after a summary.
	b.click(`input[aria-label="Select svc/app-1"]`)
	b.click(`input[aria-label="Select svc/app-3"]`)
	b.clickText("Delete the selected secrets")
	b.shows("Delete 2 secret(s)?", "svc/app-1", "(1 version)", "svc/app-3", "(2 versions)")
	b.axe()
	b.clickText("Delete 2 secret(s)")
	b.shows("2 secret(s) deleted.")
	for _, p := range []string{"svc/app-1", "svc/app-3"} {
		if _, err := e.svc.GetSecret(e.ctx(), root, e.domain, secret.MustParsePath(p), service.GetOptions{}); err == nil {
			t.Errorf("%s still exists", p)
		}
	}
}
