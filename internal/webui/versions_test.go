package webui_test

import (
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Compare two versions (keys added, removed, changed; values hidden until
// revealed), restore an old one as a new version, and deactivate or delete
// several at once after a summary.
func TestBrowser_CompareRestoreBulk(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	p := "app/cfg"
	e.putSecret(e.domain, p, `{"host":"db1","user":"app","old":"gone-CANARY"}`)
	e.putSecret(e.domain, p, `{"host":"db2","user":"app","new":"fresh-CANARY"}`)
	b := e.openTab(t)
	b.signInToken(e.root)
	b.open("/ui/d/" + e.domain + "/secret?path=" + p + "&tab=versions")
	b.axe()
	b.clickText("Compare")
	b.shows("Versions 1 and 2", "1 added · 1 removed · 1 changed")
	rows := b.eval(`JSON.stringify([...document.querySelectorAll("#diff tbody tr")].map(tr => tr.dataset.key + " " + tr.className))`)
	if got := strings.Join(jsonOf[[]string](t, rows), "|"); got != "host diff-changed|user diff-same|new diff-added|old diff-removed" {
		t.Errorf("the comparison lists %q", got)
	}
	if txt := b.eval(`document.body.innerText`).(string); strings.Contains(txt, "db1") || strings.Contains(txt, "db2") || strings.Contains(txt, "CANARY") {
		t.Error("a value is shown before it is revealed")
	}
	b.click(`summary[aria-label="Reveal the value of host in version 2"]`)
	b.waitText(`tr[data-key="host"]`, "db2")
	b.screenshot("compare")
	if strings.Contains(b.eval(`document.body.innerText`).(string), "db1") {
		t.Error("revealing one value revealed another")
	}
	b.axe()

	// Restore version 1 as version 3.
	b.clickText("Back to the versions")
	b.clickNav(`button[aria-label="Restore version 1 as a new version"]`)
	b.shows("Version 1 restored as version 3.")
	v, err := e.svc.GetSecret(e.ctx(), root, e.domain, secret.MustParsePath(p), service.GetOptions{IncludeData: true})
	if err != nil || v.Version.ID != 3 || string(v.Data.JSON()) != `{"host":"db1","user":"app","old":"gone-CANARY"}` {
		t.Errorf("after the restore: version %v %v (%v)", v.Version, v.Data, err)
	}
	// A restore from a page that missed a newer version saves nothing.
	e.putSecret(e.domain, p, `{"host":"db4"}`)
	b.clickNav(`button[aria-label="Restore version 2 as a new version"]`)
	b.shows("Nothing was restored: a version was saved after version 3.")
	if got := versionRows(t, b); got != "4 active|3 active|2 active|1 active" {
		t.Errorf("after the refused restore: %q", got)
	}

	// Bulk: deactivate 1 and 2, with a summary first.
	b.click(`input[aria-label="Select version 1"]`)
	b.click(`input[aria-label="Select version 2"]`)
	b.clickText("Deactivate the selected versions")
	b.shows("Deactivate versions of app/cfg?")
	if got := b.text("#bulk-change"); got != "1, 2" {
		t.Errorf("the summary lists %q", got)
	}
	b.axe()
	b.clickText("Deactivate 2 version(s)")
	b.shows("2 version(s) deactivated.")
	if got := versionRows(t, b); got != "4 active|3 active|2 deactivated|1 deactivated" {
		t.Errorf("after the bulk deactivation: %q", got)
	}
	// Bulk delete: an already deleted version is left, and said so.
	e.setState(e.domain, p, 1, secret.Deleted)
	b.click(`input[aria-label="Select version 2"]`)
	b.click(`input[aria-label="Select version 3"]`)
	b.clickText("Delete the selected versions")
	b.shows("This cannot be undone.")
	b.clickText("Delete 2 version(s)")
	if got := versionRows(t, b); got != "4 active|3 deleted|2 deleted|1 deleted" {
		t.Errorf("after the bulk deletion: %q", got)
	}
}
