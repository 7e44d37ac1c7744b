package webui

import (
	"net/http"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/service"
)

// The service accounts tab of the domain settings (administrators only):
// create one and see its client secret once, delete one after a
// confirmation. The tab itself is rendered with the others (domain.go,
// settings.html).

// serviceAccountCreated is the page that shows a new service account's
// client secret, once.
type serviceAccountCreated struct {
	service.ServiceAccount
	Secret string
	Back   string
}

// createServiceAccount creates a service account and shows its client
// secret once: only its digest is stored.
func (u *UI) createServiceAccount(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	sa, secret, err := u.svc.CreateServiceAccount(r.Context(), rc.caller, service.ServiceAccountInput{
		Name: strings.TrimSpace(r.PostFormValue("name")), Description: strings.TrimSpace(r.PostFormValue("description")),
		Flow: service.FlowClientCredentials})
	if err != nil {
		return u.formFailed(w, r, rc, "service-accounts", err)
	}
	dom, err := u.domainOf(r, rc, domain)
	if err != nil {
		return err
	}
	u.render(w, r, rc, http.StatusOK, "service-account-created", &view{Title: "Service account created", Section: "settings",
		Domain: &dom, Flash: "Service account " + sa.Name + " created.",
		Data: serviceAccountCreated{ServiceAccount: sa, Secret: secret, Back: settingsLink(domain, "service-accounts")}})
	return nil
}

func (u *UI) confirmDeleteServiceAccount(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	sa, err := u.svc.GetServiceAccount(r.Context(), rc.caller, r.PathValue("clientId"))
	if err != nil {
		return err
	}
	dom, err := u.domainOf(r, rc, domain)
	if err != nil {
		return err
	}
	u.confirm(w, r, rc, &dom, "settings", confirmData{
		Heading: "Delete the service account " + sa.Name + "?",
		Message: "Its access tokens stop working at once, and access certificates naming it no longer act as it.",
		Warning: "This cannot be undone.",
		Action:  "/ui/d/" + domain + "/service-accounts/" + sa.ClientID + "/delete",
		Button:  "Delete the service account",
		Cancel:  settingsLink(domain, "service-accounts"),
	})
	return nil
}

func (u *UI) deleteServiceAccount(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain, id := r.PathValue("okms"), r.PathValue("clientId")
	sa, err := u.svc.GetServiceAccount(r.Context(), rc.caller, id)
	if err != nil {
		return err
	}
	if err := u.svc.DeleteServiceAccount(r.Context(), rc.caller, id); err != nil {
		return err
	}
	u.redirect(w, r, rc, settingsLink(domain, "service-accounts"), "Service account "+sa.Name+" deleted.")
	return nil
}
