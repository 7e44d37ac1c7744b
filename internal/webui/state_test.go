package webui_test

import (
	"strings"
	"testing"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/secret"
)

// What the pages say matches what is stored: each version's own schedule,
// no value offered for a deleted current version, when pruning happens,
// every activated region reachable, a single region preselected.
func TestBrowser_StoredState(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{regions: []string{"eu-west-par", "ca-east-bhs"}})
	p := "app/token"
	e.putSecret(e.domain, p, `{"t":"1"}`) // before any schedule
	dva, err := secret.ParseDuration("90d")
	if err != nil {
		t.Fatal(err)
	}
	e.setSettings(e.domain, p, secret.MetadataUpdate{DeactivateAfter: &dva})
	e.clock.Advance(time.Hour)
	e.putSecret(e.domain, p, `{"t":"2"}`) // scheduled
	e.putSecret(e.domain, p, `{"t":"3"}`)
	e.setState(e.domain, p, 3, secret.Deleted)
	e.activate("ca-east-bhs", "bhs-empty") // a region without any secret
	b := e.openTab(t)
	b.signInToken(e.root)

	b.open("/ui/d/" + e.domain + "/secret?path=" + p)
	if b.count("[data-value-form]") != 0 {
		t.Error(`"Display the value" is offered while the current version is deleted`)
	}
	b.shows("In effect for the next versions", "fixed when it was created")
	b.shows("at the next write of a version")
	b.clickText("Versions")
	rows := b.eval(`JSON.stringify([...document.querySelectorAll("#versions tbody tr")].map(tr => tr.dataset.version + ": " + tr.querySelector(".schedule").innerText))`)
	got := strings.Join(jsonOf[[]string](t, rows), " | ")
	want2 := "Deactivates on " + e.clock.Now().Add(90*24*time.Hour).UTC().Format("2006-01-02 15:04 UTC")
	if !strings.Contains(got, "3: Value destroyed") || !strings.Contains(got, "2: "+want2) || !strings.Contains(got, "1: No automatic deactivation") {
		t.Errorf("the versions' schedules read %q, want 3 destroyed, 2 %s, 1 none", got, want2)
	}
	b.axe()

	// The region of a domain without secrets can be reached.
	b.open("/ui/secrets")
	regions := b.eval(`JSON.stringify([...document.querySelectorAll("#region option")].map(o => o.value))`)
	if got := strings.Join(jsonOf[[]string](t, regions), " "); got != "ca-east-bhs eu-west-par" {
		t.Errorf("the region selector offers %q, want both regions", got)
	}
	b.do(chromedpSelect("#region", "ca-east-bhs"))
	b.shows("No secret yet")
	b.shows("bhs-empty")

	// The domain settings explain when lowering the maximum prunes.
	b.open("/ui/d/" + e.domain + "/settings")
	b.shows("lowering it removes nothing until then")
}

// With one region, Create goes straight to its domain.
func TestBrowser_CreateOneRegion(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.openTab(t)
	b.signInToken(e.root)
	b.open("/ui/secrets")
	b.clickText("Create a secret")
	b.at("/ui/d/" + e.domain + "/create")
	b.axe()
}
