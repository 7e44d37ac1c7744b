package webui

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/audit"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// tab is one tab of the domain settings.
type tab struct{ ID, Label string }

// userTokens are the personal access tokens of one user.
type userTokens struct {
	Login string
	PATs  []service.PAT
}

// settingsData is the domain settings page. Only the tabs the caller may
// use are listed.
type settingsData struct {
	D    service.Domain
	URN  string
	Tab  string
	Tabs []tab

	Config        *secret.Config
	CanEditConfig bool
	// Admin: the caller may rename and delete the domain.
	Admin bool

	Credentials   []service.Credential
	CanCreateCred bool
	CanRevokeCred bool
	Identities    string // default identity URNs of a new certificate, one per line

	Users    []service.User
	Groups   []service.Group
	Tokens   []userTokens
	Policies []policy.Policy
	Actions  []string // the catalogue's actions, for the policy form
	Audit    []audit.Event
	// AuditError says why the audit log cannot be shown.
	AuditError string

	Form map[string]string // what a form with a mistake sent back
	// ErrField is the id of the input a mistake is about, ErrMsg the
	// mistake, shown next to it.
	ErrField, ErrMsg string

	// ServiceAccounts: the service accounts tab (serviceaccounts.go).
	ServiceAccounts []service.ServiceAccount
}

// settingsTabs lists the tabs of the domain settings the caller may use.
func (u *UI) settingsTabs(c service.Caller, domain string) []tab {
	urn := u.svc.DomainURN(domain)
	var tabs []tab
	if u.may(c, urn, policy.SecretConfigGet) {
		tabs = append(tabs, tab{"general", "Secret configuration"})
	}
	if u.may(c, urn, policy.CredentialGet) {
		tabs = append(tabs, tab{"certificates", "Access certificates"})
	}
	if u.svc.CanAdminister(c) {
		tabs = append(tabs, tab{"users", "Users"}, tab{"tokens", "Tokens"}, tab{"service-accounts", "Service accounts"},
			tab{"policies", "Policies"}, tab{"audit", "Audit log"})
	}
	return tabs
}

// settings shows one tab of a domain's settings.
func (u *UI) settings(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	return u.showSettings(w, r, rc, r.URL.Query().Get("tab"), http.StatusOK, "", nil)
}

// showSettings renders a settings tab, with an error and the form sent
// back when a form had a mistake.
func (u *UI) showSettings(w http.ResponseWriter, r *http.Request, rc *reqCtx, tabID string, status int, errMsg string, form map[string]string) error {
	return u.showSettingsField(w, r, rc, tabID, status, errMsg, form, "")
}

// showSettingsField is showSettings with the mistake shown next to the
// input whose id is field (when set), the top of the page saying so.
func (u *UI) showSettingsField(w http.ResponseWriter, r *http.Request, rc *reqCtx, tabID string, status int, errMsg string, form map[string]string, field string) error {
	domain := r.PathValue("okms")
	dom, err := u.domainOf(r, rc, domain)
	if err != nil {
		return err
	}
	d := settingsData{D: dom, URN: u.svc.DomainURN(domain), Tabs: u.settingsTabs(rc.caller, domain), Form: form}
	if len(d.Tabs) == 0 {
		return service.ErrDenied
	}
	d.Tab = d.Tabs[0].ID
	for _, t := range d.Tabs {
		if t.ID == tabID {
			d.Tab = tabID
		}
	}
	if d.Form == nil {
		d.Form = map[string]string{}
	}
	if field != "" {
		d.ErrField, d.ErrMsg = field, errMsg
		errMsg = "Nothing was saved: correct the field marked below."
	}
	if err := u.loadTab(r, rc, &d); err != nil {
		return err
	}
	u.render(w, r, rc, status, "settings", &view{Title: "Domain settings", Section: "settings", Domain: &dom, Error: errMsg, Data: d})
	return nil
}

func (u *UI) loadTab(r *http.Request, rc *reqCtx, d *settingsData) error {
	ctx, c, domain := r.Context(), rc.caller, d.D.ID
	var err error
	switch d.Tab {
	case "general":
		cfg, err := u.svc.GetConfig(ctx, c, domain)
		if err != nil {
			return err
		}
		d.Config = &cfg
		d.CanEditConfig = u.may(c, d.URN, policy.SecretConfigUpdate)
		d.Admin = u.svc.CanAdminister(c)
	case "certificates":
		if d.Credentials, _, err = u.svc.ListCredentials(ctx, c, domain, "", 0); err != nil {
			return err
		}
		d.CanCreateCred = u.may(c, d.URN, policy.CredentialCreate)
		d.CanRevokeCred = u.may(c, d.URN, policy.CredentialDelete)
		d.Identities = strings.Join(c.Principal.Identities, "\n")
	case "users":
		if d.Users, err = u.svc.ListUsers(ctx, c); err != nil {
			return err
		}
		if d.Groups, err = u.svc.ListGroups(ctx, c); err != nil {
			return err
		}
	case "tokens":
		users, err := u.svc.ListUsers(ctx, c)
		if err != nil {
			return err
		}
		d.Users = users
		for _, usr := range users {
			pats, err := u.svc.ListPATs(ctx, c, usr.Login)
			if err != nil {
				return err
			}
			d.Tokens = append(d.Tokens, userTokens{Login: usr.Login, PATs: pats})
		}
	case "service-accounts":
		if d.ServiceAccounts, err = u.svc.ListServiceAccounts(ctx, c); err != nil {
			return err
		}
	case "policies":
		if d.Policies, err = u.svc.ListPolicies(ctx, c); err != nil {
			return err
		}
		d.Actions = catalogueActions()
	case "audit":
		events, err := u.svc.AuditTail(ctx, c, 2000)
		if errors.Is(err, service.ErrAuditNotReadable) {
			_, d.AuditError = describe(err)
			return nil
		}
		if err != nil {
			return err
		}
		// The domain's events: on the domain and on what lies in it.
		for _, e := range slices.Backward(events) {
			if e.Resource == d.URN || strings.HasPrefix(e.Resource, d.URN+"/") {
				d.Audit = append(d.Audit, e)
				if len(d.Audit) == 100 {
					break
				}
			}
		}
	}
	return nil
}

func settingsLink(domain, tab string) string {
	return link("/ui/d/"+domain+"/settings", "tab", tab)
}

// formValues returns the first value of each field of a form, passwords
// and the CSRF token left out, to send a form with a mistake back.
func formValues(r *http.Request) map[string]string {
	m := map[string]string{}
	for k, v := range r.PostForm {
		if k != "password" && k != "csrf" && len(v) > 0 {
			m[k] = v[0]
		}
	}
	return m
}

// formFailed shows a settings tab again with the mistake of its form, or
// returns err when it is not a mistake.
func (u *UI) formFailed(w http.ResponseWriter, r *http.Request, rc *reqCtx, tabID string, err error) error {
	if !formError(err) {
		return err
	}
	status, msg := describe(err)
	form := r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]
	return u.showSettingsField(w, r, rc, tabID, status, msg, formValues(r), settingsField(form, err))
}

// updateConfig saves the domain's secret configuration.
func (u *UI) updateConfig(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	err := func() error {
		cur, err := u.svc.GetConfig(r.Context(), rc.caller, domain)
		if err != nil {
			return err
		}
		var up secret.ConfigUpdate
		n, err := strconv.ParseInt(strings.TrimSpace(r.PostFormValue("maxVersions")), 10, 64)
		if err != nil {
			return &formErr{msg: "The maximum number of versions must be a whole number.", field: "maxVersions"}
		}
		mv, err := secret.ParseMaxVersions(n)
		if err != nil {
			return err
		}
		up.MaxVersions = &mv
		// A disabled deactivation (Vault's negative value) reads "-1s",
		// which the OKMS grammar cannot express: kept unless changed.
		if s := strings.TrimSpace(r.PostFormValue("deactivateAfter")); s != cur.DeactivateAfter.Text() {
			if s == "" {
				s = "0s"
			}
			dva, err := secret.ParseDuration(s)
			if err != nil {
				return err
			}
			up.DeactivateAfter = &dva
		}
		cas := r.PostFormValue("cas") != ""
		up.CASRequired = &cas
		_, err = u.svc.UpdateConfig(r.Context(), rc.caller, domain, up)
		return err
	}()
	if err != nil {
		return u.formFailed(w, r, rc, "general", err)
	}
	u.redirect(w, r, rc, settingsLink(domain, "general"), "Secret configuration saved.")
	return nil
}

// credentialData is the page shown once after a certificate is issued.
type credentialData struct {
	D          service.Domain
	Credential service.Credential
	Key        string
}

// createCredential issues an access certificate and shows it, with its
// private key when coffer generated it, once: the key is not stored.
func (u *UI) createCredential(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	in := service.CredentialInput{
		Name:            strings.TrimSpace(r.PostFormValue("name")),
		Description:     strings.TrimSpace(r.PostFormValue("description")),
		IdentityURNs:    lines(r.PostFormValue("identities")),
		CertificateType: r.PostFormValue("keyType"),
		CSR:             strings.TrimSpace(r.PostFormValue("csr")),
	}
	if in.CSR != "" {
		in.CertificateType = ""
	}
	if s := strings.TrimSpace(r.PostFormValue("validity")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return u.formFailed(w, r, rc, "certificates", &formErr{msg: "The validity must be a number of days.", field: "validity"})
		}
		in.ValidityDays = n
	}
	cred, key, err := u.svc.CreateCredential(r.Context(), rc.caller, domain, in)
	if err != nil {
		return u.formFailed(w, r, rc, "certificates", err)
	}
	dom, err := u.domainOf(r, rc, domain)
	if err != nil {
		return err
	}
	u.render(w, r, rc, http.StatusOK, "credential", &view{Title: "Access certificate created", Section: "settings", Domain: &dom,
		Flash: "Access certificate " + cred.Name + " created.", Data: credentialData{D: dom, Credential: cred, Key: string(key)}})
	return nil
}

// lines splits a text area into its non-empty lines.
func lines(s string) []string {
	var out []string
	for l := range strings.Lines(s) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// downloadCertificate sends a certificate (public) as a PEM file.
func (u *UI) downloadCertificate(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	cred, err := u.svc.GetCredential(r.Context(), rc.caller, r.PathValue("okms"), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("Content-Disposition", `attachment; filename="`+fileName(cred.Name)+`.crt.pem"`)
	_, _ = w.Write([]byte(cred.CertificatePEM))
	return nil
}

// fileName keeps the characters of s that are safe in a file name.
func fileName(s string) string {
	out := strings.Map(func(r rune) rune {
		switch {
		case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '-'
	}, s)
	if out == "" {
		return "certificate"
	}
	return out
}

func (u *UI) confirmRevokeCredential(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	cred, err := u.svc.GetCredential(r.Context(), rc.caller, domain, r.PathValue("id"))
	if err != nil {
		return err
	}
	dom, err := u.domainOf(r, rc, domain)
	if err != nil {
		return err
	}
	u.confirm(w, r, rc, &dom, "settings", confirmData{
		Heading: "Revoke the access certificate " + cred.Name + "?",
		Message: "Clients presenting this certificate are refused from now on.",
		Warning: "This cannot be undone.",
		Action:  "/ui/d/" + domain + "/credentials/" + cred.ID + "/revoke",
		Button:  "Revoke the certificate",
		Cancel:  settingsLink(domain, "certificates"),
	})
	return nil
}

func (u *UI) revokeCredential(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	cred, err := u.svc.RevokeCredential(r.Context(), rc.caller, domain, r.PathValue("id"))
	if err != nil {
		return err
	}
	u.redirect(w, r, rc, settingsLink(domain, "certificates"), "Access certificate "+cred.Name+" revoked.")
	return nil
}
