package webui_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestBrowser_ServiceAccounts: an administrator creates a service account
// in the domain settings, sees its client secret once with a copy button,
// the secret obtains a token, and deleting the account, after a
// confirmation, revokes it; a user who is not an administrator is offered
// none of it.
func TestBrowser_ServiceAccounts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	b := e.openTab(t)
	b.grantClipboard()
	b.signInToken(e.root)

	b.clickText("Domain settings")
	b.clickText("Service accounts")
	b.shows("No service account yet.", "Create a service account")

	// A name that is only spaces is refused with the form kept.
	b.typeIn("#sa-name", "   ")
	b.typeIn("#sa-desc", "kept")
	b.clickText("Create the service account")
	b.shows("must be 1 to 256 characters")
	if got := b.value("#sa-desc"); got != "kept" {
		t.Errorf("the description reads %q after a refusal", got)
	}

	b.replace("#sa-name", "external-secrets")
	b.replace("#sa-desc", "ESO, prod")
	b.clickText("Create the service account")
	b.shows("Service account external-secrets", "Copy the client secret now.", "Service account external-secrets created.")
	clientID, secret := b.value("#sa-client-id"), b.value("#once-secret")
	if len(clientID) != 16 || !strings.HasPrefix(secret, "cof_ocs_") || b.value("#sa-identity") != "urn:v1:eu:identity:credential:coffer/oauth2-"+clientID {
		t.Fatalf("the page shows client id %q, secret %q, identity %q", clientID, secret, b.value("#sa-identity"))
	}
	b.click(`[data-copy-from="once-secret"]`)
	b.waitText(`[data-copy-from="once-secret"]`, "Copied")
	if got := b.eval(`navigator.clipboard.readText()`); got != secret {
		t.Errorf("the clipboard holds %q, want the client secret", got)
	}
	b.screenshot("service-account")

	// The secret works at the token endpoint.
	token := func() int {
		res, err := http.PostForm(e.ts.URL+"/auth/oauth2/token", url.Values{"grant_type": {"client_credentials"}, "scope": {"all"},
			"client_id": {clientID}, "client_secret": {secret}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if st := token(); st != 200 {
		t.Errorf("token exchange with the secret shown = %d", st)
	}

	b.clickText("Done")
	b.at("/ui/d/" + e.domain + "/settings?tab=service-accounts")
	b.shows("external-secrets", "ESO, prod", clientID)
	if strings.Contains(b.html(), secret) {
		t.Error("the secret is shown again")
	}

	b.clickText("Delete")
	b.shows("Delete the service account external-secrets?", "Its access tokens stop working at once")
	b.clickText("Delete the service account")
	b.shows("Service account external-secrets deleted.", "No service account yet.")
	if st := token(); st != 401 {
		t.Errorf("token exchange after the deletion = %d, want 401", st)
	}

	// A user who is not an administrator sees no such tab, and is refused.
	e.createUser("carol", "", "")
	e.allow("carol", []string{e.domainURN(e.domain)}, "okms:apiovh:secretConfig/get")
	other := e.openTab(t)
	other.signInToken(e.createPAT("carol", "t"))
	other.open("/ui/d/" + e.domain + "/settings")
	other.shows("Secret configuration")
	other.lacks("Service accounts")
	other.open("/ui/d/" + e.domain + "/settings?tab=service-accounts")
	other.lacks("Create a service account")
	other.open("/ui/d/" + e.domain + "/service-accounts/0123456789abcdef/delete")
	other.shows("You are not allowed to do this.")
}
