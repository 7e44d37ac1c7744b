package webui

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/seed-3e8d63de/coffer/internal/service"
)

// The administrators' tabs of the domain settings: users and groups,
// personal access tokens, policies. The service allows them to the account
// root and ADMIN users only; the panel shows the tabs to them only.

func optional(s string) *string {
	s = strings.TrimSpace(s)
	return &s
}

func (u *UI) createUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	in := service.UserInput{Login: strings.TrimSpace(r.PostFormValue("login")),
		Description: optional(r.PostFormValue("description")), Email: optional(r.PostFormValue("email")),
		Group: optional(r.PostFormValue("group"))}
	if pw := r.PostFormValue("password"); pw != "" {
		in.Password = &pw
	}
	usr, err := u.svc.CreateUser(r.Context(), rc.caller, in)
	if err != nil {
		return u.formFailed(w, r, rc, "users", err)
	}
	u.redirect(w, r, rc, settingsLink(domain, "users"), "User "+usr.Login+" created.")
	return nil
}

func (u *UI) confirmDeleteUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain, login := r.PathValue("okms"), r.PathValue("login")
	usr, err := u.svc.GetUser(r.Context(), rc.caller, login)
	if err != nil {
		return err
	}
	dom, err := u.domainOf(r, rc, domain)
	if err != nil {
		return err
	}
	u.confirm(w, r, rc, &dom, "settings", confirmData{
		Heading: "Delete the user " + usr.Login + "?",
		Message: "The user can no longer sign in, and every token of the user is revoked.",
		Warning: "This cannot be undone.",
		Action:  "/ui/d/" + domain + "/users/" + usr.Login + "/delete",
		Button:  "Delete the user",
		Cancel:  settingsLink(domain, "users"),
	})
	return nil
}

func (u *UI) deleteUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain, login := r.PathValue("okms"), r.PathValue("login")
	if err := u.svc.DeleteUser(r.Context(), rc.caller, login); err != nil {
		return err
	}
	u.redirect(w, r, rc, settingsLink(domain, "users"), "User "+login+" deleted.")
	return nil
}

func (u *UI) createGroup(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	role := r.PostFormValue("role")
	g, err := u.svc.CreateGroup(r.Context(), rc.caller, service.GroupInput{Name: strings.TrimSpace(r.PostFormValue("groupName")),
		Description: optional(r.PostFormValue("groupDescription")), Role: &role})
	if err != nil {
		return u.formFailed(w, r, rc, "users", err)
	}
	u.redirect(w, r, rc, settingsLink(domain, "users"), "Group "+g.Name+" created.")
	return nil
}

// shownOnceData is the page that shows a new token once.
type shownOnceData struct {
	Heading string
	Label   string
	Secret  string
	Back    string
}

// createToken creates a personal access token and shows it once: only its
// digest is stored.
func (u *UI) createToken(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	var expires time.Time
	if s := strings.TrimSpace(r.PostFormValue("days")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 3650 {
			return u.formFailed(w, r, rc, "tokens", &formErr{msg: "The lifetime must be a number of days between 1 and 3650, or empty for a token that does not expire.", field: "days"})
		}
		expires = u.now().Add(time.Duration(n) * 24 * time.Hour)
	}
	login, name := r.PostFormValue("login"), strings.TrimSpace(r.PostFormValue("name"))
	token, _, err := u.svc.CreatePAT(r.Context(), rc.caller, login, name, strings.TrimSpace(r.PostFormValue("description")), expires)
	if err != nil {
		return u.formFailed(w, r, rc, "tokens", err)
	}
	dom, err := u.domainOf(r, rc, domain)
	if err != nil {
		return err
	}
	u.render(w, r, rc, http.StatusOK, "shown-once", &view{Title: "Token created", Section: "settings", Domain: &dom,
		Flash: "Token " + name + " created for " + login + ".",
		Data:  shownOnceData{Heading: "Token " + name + " of " + login, Label: "Token", Secret: token, Back: settingsLink(domain, "tokens")}})
	return nil
}

func (u *UI) confirmRevokeToken(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	q := r.URL.Query()
	pat, err := u.svc.GetPAT(r.Context(), rc.caller, q.Get("login"), q.Get("name"))
	if err != nil {
		return err
	}
	dom, err := u.domainOf(r, rc, domain)
	if err != nil {
		return err
	}
	u.confirm(w, r, rc, &dom, "settings", confirmData{
		Heading: "Revoke the token " + pat.Name + " of " + q.Get("login") + "?",
		Message: "Requests and panel sessions using this token are refused from now on.",
		Warning: "This cannot be undone.",
		Action:  "/ui/d/" + domain + "/tokens/revoke",
		Fields:  []field{{"login", q.Get("login")}, {"name", pat.Name}},
		Button:  "Revoke the token",
		Cancel:  settingsLink(domain, "tokens"),
	})
	return nil
}

func (u *UI) revokeToken(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	login, name := r.PostFormValue("login"), r.PostFormValue("name")
	if err := u.svc.RevokePAT(r.Context(), rc.caller, login, name); err != nil {
		return err
	}
	u.redirect(w, r, rc, settingsLink(domain, "tokens"), "Token "+name+" of "+login+" revoked.")
	return nil
}

// createPolicy creates a policy from the form: identities and resources
// one per line, allowed actions ticked or written (wildcards allowed), denied
// actions written.
func (u *UI) createPolicy(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	p := policyForm(r)
	created, err := u.svc.CreatePolicy(r.Context(), rc.caller, p)
	if err != nil {
		return u.formFailed(w, r, rc, "policies", err)
	}
	u.redirect(w, r, rc, settingsLink(domain, "policies"), "Policy "+created.Name+" created.")
	return nil
}

func (u *UI) confirmDeletePolicy(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	p, err := u.svc.GetPolicy(r.Context(), rc.caller, r.PathValue("id"))
	if err != nil {
		return err
	}
	dom, err := u.domainOf(r, rc, domain)
	if err != nil {
		return err
	}
	u.confirm(w, r, rc, &dom, "settings", confirmData{
		Heading: "Delete the policy " + p.Name + "?",
		Message: "What it allows is refused from now on, unless another policy allows it.",
		Warning: "This cannot be undone.",
		Action:  "/ui/d/" + domain + "/policies/" + p.ID + "/delete",
		Button:  "Delete the policy",
		Cancel:  settingsLink(domain, "policies"),
	})
	return nil
}

func (u *UI) deletePolicy(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	if err := u.svc.DeletePolicy(r.Context(), rc.caller, r.PathValue("id")); err != nil {
		return err
	}
	u.redirect(w, r, rc, settingsLink(domain, "policies"), "Policy deleted.")
	return nil
}
