package webui_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Administration: edit a user (description, group, password), change a
// group's role, edit a policy with its JSON view, disable a user (its
// session and tokens stop at once), rename and delete a domain.
func TestBrowser_Administration(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.putSecret(e.domain, "app/db", `{"k":"v"}`)
	e.createUser("dan", "", "")
	e.createGroup("ops", service.RoleRegular)
	e.allow("dan", []string{e.domainURN(e.domain)}, "okms:apiovh:secret/get")
	danToken := e.createPAT("dan", "laptop")
	dan := e.openTab(t)
	dan.signInToken(danToken)
	dan.shows("app/")

	b := e.openTab(t)
	b.signInToken(e.root)
	d := "/ui/d/" + e.domain

	// A user.
	b.open(d + "/settings?tab=users")
	b.clickNav(`a[aria-label="Edit the user dan"]`)
	b.shows("User dan", "The user has no password yet")
	b.axe()
	b.typeIn("#e-desc", "on call")
	b.do(chromedpSelect("#e-group", "ops"))
	b.typeIn("#e-password", "a long enough password")
	b.clickText("Save the user")
	b.shows("User dan saved, with the new password.")
	usr, err := e.svc.GetUser(e.ctx(), root, "dan")
	if err != nil || usr.Description != "on call" || usr.Group != "ops" || !usr.HasPassword {
		t.Errorf("dan after the edit: %+v, %v", usr, err)
	}

	// A group's role.
	b.open(d + "/settings?tab=users")
	b.do(chromedpSelect("#role-ops", "ADMIN"))
	b.clickNav(`button[aria-label="Save the role of the group ops"]`)
	b.shows("Group ops saved: role ADMIN.")
	if g, err := e.svc.GetGroup(e.ctx(), root, "ops"); err != nil || g.Role != service.RoleAdmin {
		t.Errorf("the group after the edit: %+v, %v", g, err)
	}

	// A policy: the form and its JSON.
	b.open(d + "/settings?tab=policies")
	b.clickNav(`a[aria-label="Edit the policy p-dan"]`)
	b.shows(`"action": "okms:apiovh:secret/get"`, `"identities": [`)
	b.axe()
	b.screenshot("policy")
	b.click(`input[name=allow][value="okms:apiovh:secret/version/getData"]`)
	b.clickText("Save the policy")
	b.shows("Policy p-dan saved.", `"action": "okms:apiovh:secret/version/getData"`)
	ps, _ := e.svc.ListPolicies(e.ctx(), root)
	if len(ps) != 1 || !slices.Equal(ps[0].Allow, []string{"okms:apiovh:secret/get", "okms:apiovh:secret/version/getData"}) {
		t.Errorf("the policy after the edit: %+v", ps)
	}

	// Disable dan: its session and token stop at once.
	b.open(d + "/users/dan")
	b.clickText("Disable the user dan")
	b.shows("User dan disabled")
	dan.open("/ui/secrets")
	dan.at("/ui/signin")
	if _, err := e.svc.Authenticate(e.ctx(), danToken); !errors.Is(err, service.ErrUnauthenticated) {
		t.Errorf("dan's token after disabling: %v", err)
	}
	b.open(d + "/settings?tab=users")
	if b.count(".tag-off") != 1 {
		t.Error("the users list does not mark dan disabled")
	}
	b.open(d + "/users/dan")
	b.clickText("Enable the user dan")
	b.shows("User dan enabled")

	// Rename, then delete a domain, typing its id.
	other := e.activate("local", "scratch")
	b.open("/ui/d/" + other + "/settings")
	b.replace("#displayName", "scratch-2")
	b.clickText("Rename")
	b.shows("OKMS domain renamed scratch-2.")
	b.clickText("Delete the OKMS domain scratch-2")
	b.shows("shared by both products", "service keys", "Type "+other+" to confirm", "It holds 0 secret(s) with 0 version(s) and 0 service key(s).")
	b.axe()
	b.typeIn("#typed", other)
	b.clickText("Delete the OKMS domain")
	b.shows("OKMS domain " + other + " deleted.")
	if _, err := e.svc.GetDomain(e.ctx(), root, other); err == nil {
		t.Error("the domain still exists")
	}
	if strings.Contains(b.html(), "scratch-2") {
		t.Error("the deleted domain is still listed")
	}
}

// A mistake in a settings form is shown next to its field, which is
// marked invalid and focused; what was typed is kept.
func TestBrowser_SettingsFieldErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	e.createUser("taken", "", "")
	b := e.openTab(t)
	b.signInToken(e.root)
	d := "/ui/d/" + e.domain

	b.open(d + "/settings?tab=users")
	b.typeIn("#u-login", "bad login!")
	b.clickText("Add the user")
	b.waitText("#u-login-error", "Login must be 1 to 64 characters")
	b.shows("Nothing was saved: correct the field marked below.")
	if got := b.eval(`[document.activeElement.id, document.querySelector("#u-login").getAttribute("aria-invalid"), document.querySelector("#u-login").value].join(" ")`); got != "u-login true bad login!" {
		t.Errorf("after the mistake: %q", got)
	}
	b.axe()
	b.replace("#u-login", "taken")
	b.clickText("Add the user")
	b.waitText("#u-login-error", "This name is already taken.")

	b.open(d + "/settings?tab=policies")
	b.typeIn("#p-name", "p1")
	b.typeIn("#p-ids", "urn:v1:eu:identity:user:coffer/taken")
	b.typeIn("#p-more", "okms:apiovh:secret/update")
	b.clickText("Create the policy")
	b.waitText("#p-more-error", "okms:apiovh:secret/update")

	b.open(d + "/settings")
	b.replace("#cfg-deactivateAfter", "soon")
	b.clickText("Save")
	b.waitText("#cfg-deactivateAfter-error", "The expiration period must be a duration")
}
