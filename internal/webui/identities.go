package webui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Administration beyond creation: edit a user (description, email, group,
// a new password), disable or enable it, change a group's role, edit a
// policy (form and JSON document), rename or delete the domain. Root and
// ADMIN users only, as the service decides.

// userData is the page of one user.
type userData struct {
	D      service.Domain
	User   service.User
	Groups []service.Group
	Self   bool // the user signed in: it may not disable itself
}

func (u *UI) userPage(w http.ResponseWriter, r *http.Request, rc *reqCtx, status int, errMsg string) error {
	domain, login := r.PathValue("okms"), r.PathValue("login")
	usr, err := u.svc.GetUser(r.Context(), rc.caller, login)
	if err != nil {
		return err
	}
	groups, err := u.svc.ListGroups(r.Context(), rc.caller)
	if err != nil {
		return err
	}
	dom, err := u.domainOf(r, rc, domain)
	if err != nil {
		return err
	}
	d := userData{D: dom, User: usr, Groups: groups, Self: rc.caller.Principal.User == usr.Login}
	u.render(w, r, rc, status, "user", &view{Title: "User " + usr.Login, Section: "settings", Domain: &dom, Error: errMsg, Data: d})
	return nil
}

func (u *UI) editUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	return u.userPage(w, r, rc, http.StatusOK, "")
}

// updateUser saves a user's description, email and group, and its
// password when a new one is typed.
func (u *UI) updateUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain, login := r.PathValue("okms"), r.PathValue("login")
	in := service.UserInput{Login: login, Description: optional(r.PostFormValue("description")),
		Email: optional(r.PostFormValue("email")), Group: optional(r.PostFormValue("group"))}
	if pw := r.PostFormValue("password"); pw != "" {
		in.Password = &pw
	}
	if _, err := u.svc.UpdateUser(r.Context(), rc.caller, in); err != nil {
		if !formError(err) {
			return err
		}
		status, msg := describe(err)
		return u.userPage(w, r, rc, status, msg)
	}
	msg := "User " + login + " saved."
	if in.Password != nil {
		msg = "User " + login + " saved, with the new password."
	}
	u.redirect(w, r, rc, "/ui/d/"+domain+"/users/"+login, msg)
	return nil
}

// disableUser disables (disabled=yes) or enables a user. Disabling revokes
// its tokens and the certificates it issued, in the service.
func (u *UI) disableUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain, login := r.PathValue("okms"), r.PathValue("login")
	disabled := r.PostFormValue("disabled") == "yes"
	if _, err := u.svc.SetUserDisabled(r.Context(), rc.caller, login, disabled); err != nil {
		if !formError(err) {
			return err
		}
		status, msg := describe(err)
		return u.userPage(w, r, rc, status, msg)
	}
	msg := "User " + login + " enabled: it may sign in again."
	if disabled {
		msg = "User " + login + " disabled: its sessions end, its tokens and the certificates it issued are revoked."
	}
	u.redirect(w, r, rc, "/ui/d/"+domain+"/users/"+login, msg)
	return nil
}

// updateGroup changes a group's role and description.
func (u *UI) updateGroup(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	role := r.PostFormValue("role")
	g, err := u.svc.UpdateGroup(r.Context(), rc.caller, service.GroupInput{Name: r.PathValue("name"), Role: &role,
		Description: optional(r.PostFormValue("description"))})
	if err != nil {
		return u.formFailed(w, r, rc, "users", err)
	}
	u.redirect(w, r, rc, settingsLink(domain, "users"), "Group "+g.Name+" saved: role "+g.Role+".")
	return nil
}

// policyData is the page of one policy: the form and the document.
type policyData struct {
	D        service.Domain
	Policy   policy.Policy
	Actions  []string // catalogue actions, ticked when allowed
	Allowed  map[string]bool
	More     string // allowed patterns not in the catalogue, one per line
	Document string // the policy as the identity API writes it
}

// policyDocument is a policy in the shape of OVHcloud's POST /v2/iam/policy
// (iam.md 4.1), for the JSON view.
func policyDocument(p policy.Policy) string {
	type action struct {
		Action string `json:"action"`
	}
	type resource struct {
		URN string `json:"urn"`
	}
	acts := func(as []string) []action {
		out := make([]action, 0, len(as))
		for _, a := range as {
			out = append(out, action{a})
		}
		return out
	}
	res := make([]resource, 0, len(p.Resources))
	for _, r := range p.Resources {
		res = append(res, resource{r})
	}
	doc := struct {
		ID          string     `json:"id,omitempty"`
		Name        string     `json:"name"`
		Description string     `json:"description"`
		Identities  []string   `json:"identities"`
		Resources   []resource `json:"resources"`
		Permissions struct {
			Allow  []action `json:"allow"`
			Except []action `json:"except"`
			Deny   []action `json:"deny"`
		} `json:"permissions"`
	}{ID: p.ID, Name: p.Name, Description: p.Description, Identities: p.Identities, Resources: res}
	if doc.Identities == nil {
		doc.Identities = []string{}
	}
	doc.Permissions.Allow, doc.Permissions.Except, doc.Permissions.Deny = acts(p.Allow), acts(p.Except), acts(p.Deny)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(doc)
	return strings.TrimSpace(buf.String())
}

func catalogueActions() []string {
	var out []string
	for _, a := range policy.Catalogue() {
		if a.Used {
			out = append(out, a.Name)
		}
	}
	return out
}

func (u *UI) policyPage(w http.ResponseWriter, r *http.Request, rc *reqCtx, p policy.Policy, status int, errMsg string) error {
	dom, err := u.domainOf(r, rc, r.PathValue("okms"))
	if err != nil {
		return err
	}
	d := policyData{D: dom, Policy: p, Actions: catalogueActions(), Allowed: map[string]bool{}, Document: policyDocument(p)}
	var more []string
	for _, a := range p.Allow {
		if slices.Contains(d.Actions, a) {
			d.Allowed[a] = true
		} else {
			more = append(more, a)
		}
	}
	d.More = strings.Join(more, "\n")
	u.render(w, r, rc, status, "policy", &view{Title: "Policy " + p.Name, Section: "settings", Domain: &dom, Error: errMsg, Data: d})
	return nil
}

func (u *UI) editPolicy(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := u.svc.GetPolicy(r.Context(), rc.caller, r.PathValue("id"))
	if err != nil {
		return err
	}
	return u.policyPage(w, r, rc, p, http.StatusOK, "")
}

// policyForm reads the policy form shared by creation and edition.
func policyForm(r *http.Request) policy.Policy {
	return policy.Policy{
		Name:        strings.TrimSpace(r.PostFormValue("name")),
		Description: strings.TrimSpace(r.PostFormValue("description")),
		Identities:  lines(r.PostFormValue("identities")),
		Resources:   lines(r.PostFormValue("resources")),
		Allow:       append(r.PostForm["allow"], lines(r.PostFormValue("allowMore"))...),
		Deny:        lines(r.PostFormValue("deny")),
	}
}

// updatePolicy replaces a policy with the form; its except patterns,
// which the form does not show, are kept.
func (u *UI) updatePolicy(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	cur, err := u.svc.GetPolicy(r.Context(), rc.caller, r.PathValue("id"))
	if err != nil {
		return err
	}
	p := policyForm(r)
	p.ID, p.Except = cur.ID, cur.Except
	if _, err := u.svc.UpdatePolicy(r.Context(), rc.caller, p); err != nil {
		if !formError(err) {
			return err
		}
		status, msg := describe(err)
		return u.policyPage(w, r, rc, p, status, msg)
	}
	u.redirect(w, r, rc, "/ui/d/"+domain+"/policies/"+p.ID, "Policy "+p.Name+" saved.")
	return nil
}

// renameDomain changes the domain's display name.
func (u *UI) renameDomain(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	d, err := u.svc.RenameDomain(r.Context(), rc.caller, domain, strings.TrimSpace(r.PostFormValue("displayName")))
	if err != nil {
		return u.formFailed(w, r, rc, "general", err)
	}
	u.redirect(w, r, rc, settingsLink(domain, "general"), "OKMS domain renamed "+d.DisplayName+".")
	return nil
}

// domainDeletion is the warning of OVHcloud's documentation: an OKMS
// domain is shared by the Secret Manager and the Key Management Service.
const domainDeletion = "The OKMS domain is shared by both products: deleting it deletes its secrets and every version (Secret Manager) and its service keys (Key Management Service), with its access certificates and settings. Applications using them stop working."

func (u *UI) confirmDeleteDomain(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	info, err := u.svc.GetDomain(r.Context(), rc.caller, domain)
	if err != nil {
		return err
	}
	dom := info.Domain
	u.confirm(w, r, rc, &dom, "settings", confirmData{
		Heading: "Delete the OKMS domain " + dom.DisplayName + "?",
		Message: fmt.Sprintf("%s It holds %d secret(s) with %d version(s) and %d service key(s).", domainDeletion,
			info.SecretCount, info.SecretVersionCount, info.ServiceKeyCount),
		Warning: "This cannot be undone.",
		Action:  "/ui/d/" + domain + "/delete",
		Button:  "Delete the OKMS domain",
		Cancel:  settingsLink(domain, "general"),
		Typed:   dom.ID, Mistyped: r.URL.Query().Get("mistyped") == "1",
	})
	return nil
}

func (u *UI) deleteDomain(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	if r.PostFormValue("typed") != domain {
		http.Redirect(w, r, link("/ui/d/"+domain+"/delete", "mistyped", "1"), http.StatusSeeOther)
		return nil
	}
	if err := u.svc.DeleteDomain(r.Context(), rc.caller, domain, r.PostFormValue("typed")); err != nil {
		return err
	}
	u.redirect(w, r, rc, "/ui/secrets", "OKMS domain "+domain+" deleted.")
	return nil
}
