package webui

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// can says which actions the caller may take on a secret: the panel
// offers only those.
type can struct {
	GetData, NewVersion, Edit, Delete, Activate, Deactivate, DeleteVersion bool
}

func (u *UI) canOn(c service.Caller, domain string, p secret.Path) can {
	urn := u.svc.SecretURN(domain, p)
	a := func(actions ...string) bool { return u.may(c, urn, actions...) }
	// The actions of surface A's routes (iam.md 6): a settings change is a
	// PUT (secret/edit too), a state change a PUT of the version
	// (secret/version/edit too).
	return can{
		GetData: a(policy.SecretGet, policy.SecretVersionGetData), NewVersion: a(policy.SecretVersionCreate),
		Edit: a(policy.SecretEdit, policy.SecretUpdateMetadata), Delete: a(policy.SecretDelete),
		Activate:      a(policy.SecretVersionEdit, policy.SecretVersionActivate),
		Deactivate:    a(policy.SecretVersionEdit, policy.SecretVersionDeactivate),
		DeleteVersion: a(policy.SecretVersionEdit, policy.SecretVersionDelete),
	}
}

// secretData is the dashboard of a secret and its versions tab.
type secretData struct {
	D         service.Domain
	Path      string
	Crumbs    []crumb
	Name      string
	URN       string
	Secret    *secret.Secret
	Current   *secret.Version
	Versions  []secret.Version // newest first
	Tab       string
	Can       can
	Settings  settingsForm
	Defaults  *secret.Config
	Effective *secret.Effective
}

// loadSecret reads a secret's metadata and versions for a page.
func (u *UI) loadSecret(r *http.Request, rc *reqCtx, domain string, p secret.Path) (*secretData, error) {
	dom, err := u.domainOf(r, rc, domain)
	if err != nil {
		return nil, err
	}
	view, err := u.svc.GetSecret(r.Context(), rc.caller, domain, p, service.GetOptions{})
	if err != nil {
		return nil, err
	}
	versions, _, err := u.svc.ListVersions(r.Context(), rc.caller, domain, p, "", 0)
	if err != nil {
		return nil, err
	}
	slices.Reverse(versions)
	parent, name := "", p.String()
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		parent, name = name[:i+1], name[i+1:]
	}
	d := &secretData{D: dom, Path: p.String(), Crumbs: crumbs(parent), Name: name, URN: u.svc.SecretURN(domain, p),
		Secret: view.Secret, Current: view.Version, Versions: versions, Can: u.canOn(rc.caller, domain, p),
		Settings: settingsOf(view.Secret), Defaults: u.defaults(r, rc, domain)}
	if d.Defaults != nil {
		eff := secret.EffectiveSettings(*d.Defaults, view.Secret.Settings)
		d.Effective = &eff
	}
	return d, nil
}

// pathParam parses the secret path of a request (query or form).
func pathParam(r *http.Request) (secret.Path, error) {
	p, err := secret.ParsePath(r.FormValue("path"))
	if err != nil {
		return secret.Path{}, secret.ErrNotFound
	}
	return p, nil
}

func secretLink(domain, p string, kv ...string) string {
	return link("/ui/d/"+domain+"/secret", append([]string{"path", p}, kv...)...)
}

// dashboard shows a secret: general information and parameters, or the
// versions tab.
func (u *UI) dashboard(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	d, err := u.loadSecret(r, rc, r.PathValue("okms"), p)
	if err != nil {
		return err
	}
	d.Tab = "general"
	if r.URL.Query().Get("tab") == "versions" {
		d.Tab = "versions"
	}
	u.render(w, r, rc, http.StatusOK, "secret", &view{Title: d.Path, Section: "secrets", Domain: &d.D, Data: d})
	return nil
}

// updateSettings saves the parameters and custom metadata of a secret.
func (u *UI) updateSettings(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	f := readSettings(r)
	err = func() error {
		meta, err := f.update()
		if err != nil {
			return err
		}
		_, err = u.svc.UpdateSecret(r.Context(), rc.caller, domain, p, service.UpdateSecretInput{Metadata: &meta})
		return err
	}()
	if err == nil {
		u.redirect(w, r, rc, secretLink(domain, p.String()), "Parameters saved.")
		return nil
	}
	if !formError(err) {
		return err
	}
	d, lerr := u.loadSecret(r, rc, domain, p)
	if lerr != nil {
		return lerr
	}
	d.Tab, d.Settings = "general", f
	status, msg := describe(err)
	u.render(w, r, rc, status, "secret", &view{Title: d.Path, Section: "secrets", Domain: &d.D, Error: msg, Data: d})
	return nil
}

// valueEntry is one key of a displayed value. Raw is set when the value
// is not a string and is shown as JSON.
type valueEntry struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	Raw   bool   `json:"raw"`
}

// valueData is what the side panel (or, without JavaScript, the value
// page) shows for one version.
type valueData struct {
	Version   uint32       `json:"version"`
	State     string       `json:"state"`
	Current   bool         `json:"current"`
	CreatedAt string       `json:"createdAt"`
	Entries   []valueEntry `json:"entries"`
	Message   string       `json:"message,omitempty"`
	// JSON is the value as indented JSON, sent only when asked for (as=json,
	// to start a new version from it).
	JSON *string `json:"json,omitempty"`
	// The no-JavaScript page also needs these.
	D        service.Domain   `json:"-"`
	Path     string           `json:"-"`
	Versions []secret.Version `json:"-"`
}

// value returns a version's value: to the side panel's fetch as JSON, or
// as a page to a browser without JavaScript. It is reached only by POST,
// so the value is never in a URL, a history entry or a cache; nothing is
// shown for a version that is not active.
func (u *UI) value(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	var version uint32
	if s := r.PostFormValue("version"); s != "" && s != "0" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return secret.ErrVersionNotFound
		}
		if version, err = secret.ParseVersionID(n); err != nil {
			return secret.ErrVersionNotFound
		}
	}
	sv, err := u.svc.GetSecret(r.Context(), rc.caller, domain, p, service.GetOptions{Version: version, IncludeData: true})
	if err != nil {
		return err
	}
	d := valueData{Entries: []valueEntry{}}
	switch v := sv.Version; {
	case v == nil:
		d.Message = "This secret has no version."
	default:
		d.Version, d.State, d.CreatedAt = v.ID, v.State.String(), when(v.CreatedAt)
		d.Current = v.ID == sv.Secret.CurrentVersion
		switch {
		case v.State == secret.Deactivated:
			d.Message = fmt.Sprintf("Version %d is deactivated: its value cannot be displayed. Reactivate it to read it.", v.ID)
		case v.State == secret.Deleted:
			d.Message = fmt.Sprintf("Version %d is deleted: its value is destroyed.", v.ID)
		case sv.Data != nil:
			if d.Entries, err = entriesOf(*sv.Data); err != nil {
				return err
			}
			if r.PostFormValue("as") == "json" {
				var buf bytes.Buffer
				if err := json.Indent(&buf, sv.Data.JSON(), "", "  "); err != nil {
					return err
				}
				s := buf.String()
				d.JSON = &s
			}
			if len(d.Entries) == 0 {
				d.Message = "This version holds an empty object."
			}
		}
	}
	if wantsJSON(r) {
		writeJSON(w, http.StatusOK, d)
		return nil
	}
	dom, err := u.domainOf(r, rc, domain)
	if err != nil {
		return err
	}
	d.D, d.Path = dom, p.String()
	if d.Versions, _, err = u.svc.ListVersions(r.Context(), rc.caller, domain, p, "", 0); err != nil {
		return err
	}
	slices.Reverse(d.Versions)
	u.render(w, r, rc, http.StatusOK, "value", &view{Title: "Value of " + d.Path, Section: "secrets", Domain: &dom, Data: d})
	return nil
}

// entriesOf lists the members of a value in their stored order: strings
// as they are, anything else as compact JSON.
func entriesOf(d secret.Data) ([]valueEntry, error) {
	dec := json.NewDecoder(bytes.NewReader(d.JSON()))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // {
		return nil, err
	}
	out := []valueEntry{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		var s string
		if err := json.Unmarshal(raw, &s); err == nil {
			out = append(out, valueEntry{Key: key, Value: s})
		} else {
			out = append(out, valueEntry{Key: key, Value: string(raw), Raw: true})
		}
	}
	return out, nil
}

// versionData is the new-version form.
type versionData struct {
	D        service.Domain
	Path     string
	Current  uint32
	Next     uint32 // the id the new version will get
	CAS      bool   // check-and-set applies: the form sends the version it started from
	From     uint32 // the version the form started from
	Value    string
	Conflict string
	CanRead  bool
	// Auto: the form starts from the current value (read by the script,
	// by POST), which the caller may read and which is active.
	Auto bool
}

func (u *UI) newVersionForm(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	sd, err := u.loadSecret(r, rc, r.PathValue("okms"), p)
	if err != nil {
		return err
	}
	d := versionData{D: sd.D, Path: sd.Path, Current: sd.Secret.CurrentVersion, Next: sd.Secret.CurrentVersion + 1,
		From: sd.Secret.CurrentVersion, CAS: casApplies(sd), Value: "{\n  \n}", CanRead: sd.Can.GetData}
	d.Auto = d.CanRead && sd.Current != nil && sd.Current.State == secret.Active
	u.render(w, r, rc, http.StatusOK, "new-version", &view{Title: "New version of " + d.Path, Section: "secrets", Domain: &d.D, Data: d})
	return nil
}

// casApplies reports whether check-and-set is required for the secret, as
// far as the caller can tell (the domain's setting may be unreadable to
// it; the server then answers that CAS is required, and the form says so).
func casApplies(sd *secretData) bool {
	if sd.Effective != nil {
		return sd.Effective.CASRequired
	}
	return sd.Secret.Settings.CASRequired
}

// newVersion saves a new version. With check-and-set the form carries the
// version it started from; when another version was saved meanwhile,
// nothing is saved and the form explains the conflict, keeping the value
// typed and offering to save over the new current version.
func (u *UI) newVersion(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	value := r.PostFormValue("value")
	var cas *uint32
	if s := r.PostFormValue("cas"); s != "" {
		n, err := strconv.ParseUint(s, 10, 32)
		if err != nil {
			return errBadForm
		}
		c := uint32(n)
		cas = &c
	}
	err = func() error {
		data, err := secret.ParseData([]byte(value))
		if err != nil {
			return err
		}
		v, _, err := u.svc.PutVersion(r.Context(), rc.caller, domain, p, data, service.PutOptions{CAS: cas})
		if err != nil {
			return err
		}
		u.redirect(w, r, rc, secretLink(domain, p.String()), fmt.Sprintf("Version %d saved.", v.ID))
		return nil
	}()
	if err == nil || !formError(err) {
		return err
	}
	sd, lerr := u.loadSecret(r, rc, domain, p)
	if lerr != nil {
		return lerr
	}
	d := versionData{D: sd.D, Path: sd.Path, Current: sd.Secret.CurrentVersion, Next: sd.Secret.CurrentVersion + 1,
		From: sd.Secret.CurrentVersion, CAS: cas != nil || casApplies(sd), Value: value, CanRead: sd.Can.GetData}
	status, msg := describe(err)
	switch {
	case errors.Is(err, secret.ErrCASMismatch) && cas != nil:
		d.CAS = true
		d.Conflict = fmt.Sprintf("Your value was not saved: you started from version %d, but version %d has been saved since. "+
			"Check the current version; to replace it with your value, save again.", *cas, d.Current)
		msg = ""
	case errors.Is(err, secret.ErrCASRequired):
		d.CAS = true
		d.Conflict = fmt.Sprintf("Check-and-set is required for this secret. Your value was not saved; save again to add it after version %d.", d.Current)
		msg = ""
	}
	u.render(w, r, rc, status, "new-version", &view{Title: "New version of " + d.Path, Section: "secrets", Domain: &d.D, Error: msg, Data: d})
	return nil
}

// setState deactivates, reactivates or deletes a version. Deleting comes
// from the confirmation page, which sends confirm=yes.
func (u *UI) setState(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(r.PostFormValue("version"), 10, 64)
	if err != nil {
		return secret.ErrVersionNotFound
	}
	id, err := secret.ParseVersionID(n)
	if err != nil {
		return secret.ErrVersionNotFound
	}
	to, err := secret.ParseState(r.PostFormValue("state"))
	if err != nil {
		return errBadForm
	}
	if to == secret.Deleted && r.PostFormValue("confirm") != "yes" {
		http.Redirect(w, r, link("/ui/d/"+domain+"/secret/delete-version", "path", p.String(), "version", strconv.Itoa(int(id))), http.StatusSeeOther)
		return nil
	}
	if _, err := u.svc.SetVersionState(r.Context(), rc.caller, domain, p, id, to); err != nil {
		return err
	}
	done := map[secret.State]string{secret.Active: "reactivated", secret.Deactivated: "deactivated", secret.Deleted: "deleted"}[to]
	u.redirect(w, r, rc, secretLink(domain, p.String(), "tab", "versions"), fmt.Sprintf("Version %d %s.", id, done))
	return nil
}

// field is a hidden field of a confirmation form.
type field struct{ Name, Value string }

// confirmData is a confirmation page: what will happen, and one button.
// With Typed set, the name of what is deleted must be typed first (the
// form's "typed" field, checked again by the handler).
type confirmData struct {
	Heading string
	Message string
	Warning string
	Action  string
	Fields  []field
	Button  string
	Cancel  string
	Typed   string
	// Mistyped says the name typed did not match.
	Mistyped bool
}

func (u *UI) confirm(w http.ResponseWriter, r *http.Request, rc *reqCtx, dom *service.Domain, section string, d confirmData) {
	u.render(w, r, rc, http.StatusOK, "confirm", &view{Title: d.Heading, Section: section, Domain: dom, Data: d})
}

func (u *UI) confirmDeleteVersion(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	n, err := strconv.ParseInt(r.URL.Query().Get("version"), 10, 64)
	if err != nil {
		return secret.ErrVersionNotFound
	}
	v, _, err := u.svc.GetVersion(r.Context(), rc.caller, domain, p, uint32(n), false)
	if err != nil {
		return err
	}
	dom, err := u.domainOf(r, rc, domain)
	if err != nil {
		return err
	}
	u.confirm(w, r, rc, &dom, "secrets", confirmData{
		Heading: fmt.Sprintf("Delete version %d of %s?", v.ID, p),
		Message: fmt.Sprintf("The value of version %d is destroyed. The version stays in the list, in the deleted state.", v.ID),
		Warning: "This cannot be undone.",
		Action:  "/ui/d/" + domain + "/secret/state",
		Fields:  []field{{"path", p.String()}, {"version", strconv.Itoa(int(v.ID))}, {"state", "deleted"}, {"confirm", "yes"}},
		Button:  fmt.Sprintf("Delete version %d", v.ID),
		Cancel:  secretLink(domain, p.String(), "tab", "versions"),
	})
	return nil
}

func (u *UI) confirmDeleteSecret(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	view, err := u.svc.GetSecret(r.Context(), rc.caller, domain, p, service.GetOptions{})
	if err != nil {
		return err
	}
	dom, err := u.domainOf(r, rc, domain)
	if err != nil {
		return err
	}
	n := len(view.Secret.Versions)
	u.confirm(w, r, rc, &dom, "secrets", confirmData{
		Heading: "Delete the secret " + p.String() + "?",
		Message: fmt.Sprintf("The secret and its %d version(s) are deleted, and every value is destroyed.", n),
		Warning: "This cannot be undone.",
		Action:  "/ui/d/" + domain + "/secret/delete",
		Fields:  []field{{"path", p.String()}},
		Button:  "Delete the secret",
		Cancel:  secretLink(domain, p.String()),
		Typed:   p.String(), Mistyped: r.URL.Query().Get("mistyped") == "1",
	})
	return nil
}

func (u *UI) deleteSecret(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	if r.PostFormValue("typed") != p.String() {
		http.Redirect(w, r, link("/ui/d/"+domain+"/secret/delete", "path", p.String(), "mistyped", "1"), http.StatusSeeOther)
		return nil
	}
	if err := u.svc.DeleteSecret(r.Context(), rc.caller, domain, p); err != nil {
		return err
	}
	parent := ""
	if i := strings.LastIndexByte(p.String(), '/'); i >= 0 {
		parent = p.String()[:i+1]
	}
	u.redirect(w, r, rc, link("/ui/d/"+domain+"/secrets", "prefix", parent), "Secret "+p.String()+" deleted.")
	return nil
}
