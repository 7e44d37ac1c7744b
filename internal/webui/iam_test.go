package webui_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// The panel is a client of the central API: it is authorized with the
// okms:apiovh: actions, as surface A is (iam.md 5.2, 6). A user granted
// exactly the seed's two actions lists the secrets and reads a value, as
// through /v2/okms/..., and is offered nothing else.
func TestBrowser_SeedReader(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.putSecret(e.domain, "app/db", `{"password":"CANARY-seed-1"}`)
	e.putSecret(e.domain, "app/db", `{"password":"CANARY-seed-2"}`)
	e.createUser("reader", "", "")
	e.allow("reader", []string{e.domainURN(e.domain)}, "okms:apiovh:secret/get", "okms:apiovh:secret/version/getData")
	tok := e.createPAT("reader", "laptop")

	// Surface A lets this user read the value: so must the panel.
	req, _ := http.NewRequestWithContext(t.Context(), "GET", e.ts.URL+"/v2/okms/resource/"+e.domain+"/secret/app%2Fdb?includeData=true", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), "CANARY-seed-2") {
		t.Fatalf("surface A read = %d %.200s, want 200 with the value", res.StatusCode, body)
	}

	b := e.openTab(t)
	b.signInToken(tok)
	b.lacks("No secret yet")
	b.clickText("app/")
	b.clickText("db")
	b.shows("General information", "app/db")
	b.click("[data-value-form] button")
	b.waitVisible("#value-panel")
	b.click("[data-reveal-all]")
	b.waitText("#value-panel", "CANARY-seed-2")
	b.key("\x1b")
	b.waitHidden("#value-panel")
	for sel, what := range map[string]string{
		`a[href*="/secret/new-version"]`:            "New version",
		`a[href*="/secret/delete"]`:                 "Delete",
		"#settings-form":                            "editable parameters",
		`a[href$="/settings"]`:                      "Domain settings",
		`a[href^="/ui/create"], a[href$="/create"]`: "Create a secret",
	} {
		if b.count(sel) != 0 {
			t.Errorf("a reader is offered %s", what)
		}
	}
	b.clickText("Versions")
	if n := b.count(`#versions form[action$="/secret/state"], #versions a[href*="delete-version"]`); n != 0 {
		t.Errorf("the versions offer %d state changes to a reader", n)
	}
	b.open("/ui/secrets")
	b.lacks("Create a secret")
	b.axe()
}

// A user with no right at all sees no secret, is invited to create
// nothing, and is told which action a page needs.
func TestBrowser_NoRights(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.putSecret(e.domain, "app/db", `{"password":"CANARY-none"}`)
	e.createUser("nobody", "", "")
	b := e.openTab(t)
	b.signInToken(e.createPAT("nobody", "laptop"))
	b.shows("No secret")
	b.lacks("app/")
	b.lacks("Create a secret to store")
	if n := b.count(`a[href^="/ui/create"], a[href$="/create"]`); n != 0 {
		t.Errorf("a user with no rights is invited to create (%d links)", n)
	}
	b.open("/ui/d/" + e.domain + "/secret?path=app/db")
	b.shows("okms:apiovh:secret/get", "app%2Fdb")
	b.open("/ui/d/" + e.domain + "/create")
	b.lacks("CANARY")
	b.axe()
}
