package webui

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// regionChoice is one region of the first step of the creation.
type regionChoice struct {
	ID       string
	Domains  int // ready domains the caller may use
	Creating int
}

// createStartData is the first steps of the creation: the region, then
// the domain, or the activation of a domain when the region has none.
type createStartData struct {
	Regions     []regionChoice
	Region      string
	Choose      []service.PanelDomain // domains of the region the caller may create secrets in
	Refused     bool                  // the region has domains, but none the caller may create secrets in
	Creating    []service.PanelDomain
	CanActivate bool
}

// createStart is the first step of the creation of a secret: choose the
// region; then the domain when the region has several, or activate one
// when it has none.
func (u *UI) createStart(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	ds, _, err := u.panel(r.Context(), rc)
	if err != nil {
		return err
	}
	d := createStartData{Region: r.URL.Query().Get("region"), CanActivate: u.svc.CanAdminister(rc.caller)}
	if all := u.svc.Regions(); d.Region == "" && len(all) == 1 {
		// One region: nothing to choose.
		d.Region = all[0].ID
	}
	for _, reg := range u.svc.Regions() {
		c := regionChoice{ID: reg.ID}
		for _, pd := range ds {
			switch {
			case pd.Region != reg.ID:
			case pd.State == service.DomainReady:
				c.Domains++
			case pd.State == service.DomainCreating:
				c.Creating++
			}
		}
		d.Regions = append(d.Regions, c)
	}
	if d.Region != "" {
		if !u.svc.HasRegion(d.Region) {
			return service.ErrRegionNotFound
		}
		ready := readyIn(ds, d.Region)
		for _, pd := range ready {
			if u.canCreateIn(rc.caller, pd.ID) {
				d.Choose = append(d.Choose, pd)
			}
		}
		d.Refused = len(ready) > 0 && len(d.Choose) == 0
		if len(d.Choose) == 1 {
			http.Redirect(w, r, "/ui/d/"+d.Choose[0].ID+"/create", http.StatusSeeOther)
			return nil
		}
		for _, pd := range ds {
			if pd.Region == d.Region && pd.State == service.DomainCreating {
				d.Creating = append(d.Creating, pd)
			}
		}
	}
	u.render(w, r, rc, http.StatusOK, "create-start", &view{Title: "Create a secret", Section: "create", Data: d})
	return nil
}

// activate creates an OKMS domain in a region; its progress page follows.
func (u *UI) activate(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	region := r.PostFormValue("region")
	name := strings.TrimSpace(r.PostFormValue("name"))
	if name == "" {
		name = region
	}
	dom, err := u.svc.CreateDomain(r.Context(), rc.caller, region, name)
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/ui/d/"+dom.ID+"/activation", http.StatusSeeOther)
	return nil
}

// activation shows a domain being created until it is ready. The script
// polls /state; without it, the page refreshes itself.
func (u *UI) activation(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	info, err := u.svc.GetDomain(r.Context(), rc.caller, r.PathValue("okms"))
	if err != nil {
		return err
	}
	dom := info.Domain
	u.render(w, r, rc, http.StatusOK, "activation", &view{Title: "Activating an OKMS domain", Section: "create", Domain: &dom, Data: dom})
	return nil
}

// domainState answers the activation page's poll.
func (u *UI) domainState(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	info, err := u.svc.GetDomain(r.Context(), rc.caller, r.PathValue("okms"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"state": info.State, "ready": info.State == service.DomainReady})
	return nil
}

// metaRow is one custom-metadata row of a form.
type metaRow struct{ Key, Value string }

// settingsForm is the settings of a secret as a form holds them: text as
// typed, so that a form with an error comes back as it was sent.
type settingsForm struct {
	MaxVersions     string
	DeactivateAfter string
	CAS             bool
	Meta            []metaRow
}

// secretForm is the creation form.
type secretForm struct {
	Path     string
	Value    string
	Settings settingsForm
}

// createData is the creation form page.
type createData struct {
	D        service.Domain
	Form     secretForm
	Defaults *secret.Config // the domain's configuration, when the caller may read it
	// Errors are the mistakes of a form sent back, by field ("path",
	// "value", "settings"), shown next to the field.
	Errors map[string]string
	// Existing links to the secret already at the path asked for.
	Existing string
}

// domainOf returns a domain the caller may use in the panel.
func (u *UI) domainOf(r *http.Request, rc *reqCtx, id string) (service.Domain, error) {
	ds, _, err := u.panel(r.Context(), rc)
	if err != nil {
		return service.Domain{}, err
	}
	for _, d := range ds {
		if d.ID == id {
			return d.Domain, nil
		}
	}
	// Not listed (the caller's secrets may lie beyond the records the list
	// reads): the operations themselves will say whether the domain exists
	// and what the caller may do in it.
	return service.Domain{ID: id, DisplayName: id, State: service.DomainReady}, nil
}

// defaults returns the domain's configuration when the caller may read it
// (asked first, so that a caller who may not is not refused and audited
// on every page).
func (u *UI) defaults(r *http.Request, rc *reqCtx, domain string) *secret.Config {
	if !u.may(rc.caller, u.svc.DomainURN(domain), policy.SecretConfigGet) {
		return nil
	}
	cfg, err := u.svc.GetConfig(r.Context(), rc.caller, domain)
	if err != nil {
		return nil
	}
	return &cfg
}

func (u *UI) createForm(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	dom, err := u.domainOf(r, rc, r.PathValue("okms"))
	if err != nil {
		return err
	}
	if dom.State != service.DomainReady {
		http.Redirect(w, r, "/ui/d/"+dom.ID+"/activation", http.StatusSeeOther)
		return nil
	}
	d := createData{D: dom, Defaults: u.defaults(r, rc, dom.ID)}
	d.Form.Value = "{\n  \n}"
	d.Form.Path = r.URL.Query().Get("prefix")
	u.render(w, r, rc, http.StatusOK, "create", &view{Title: "Create a secret", Section: "create", Domain: &dom, Data: d})
	return nil
}

// createSecret creates a secret from the form; a form with a mistake comes
// back with the mistake explained and what was typed kept.
func (u *UI) createSecret(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	dom, err := u.domainOf(r, rc, r.PathValue("okms"))
	if err != nil {
		return err
	}
	f := secretForm{Path: strings.TrimSpace(r.PostFormValue("path")), Value: r.PostFormValue("value"), Settings: readSettings(r)}
	err = func() error {
		p, err := secret.ParsePath(f.Path)
		if err != nil {
			return err
		}
		data, err := secret.ParseData([]byte(f.Value))
		if err != nil {
			return err
		}
		meta, err := f.Settings.update()
		if err != nil {
			return err
		}
		if _, err := u.svc.CreateSecret(r.Context(), rc.caller, dom.ID, p, data, meta); err != nil {
			return err
		}
		u.redirect(w, r, rc, link("/ui/d/"+dom.ID+"/secret", "path", p.String()), "Secret "+p.String()+" created, with version 1.")
		return nil
	}()
	if err == nil || !formError(err) {
		return err
	}
	status, msg := describe(err)
	d := createData{D: dom, Form: f, Defaults: u.defaults(r, rc, dom.ID), Errors: map[string]string{}}
	if errors.Is(err, secret.ErrExists) {
		d.Existing = link("/ui/d/"+dom.ID+"/secret", "path", f.Path)
	}
	if field := fieldOf(err); field != "" {
		d.Errors[field], msg = msg, "The secret was not created: correct the field marked below."
	}
	u.render(w, r, rc, status, "create", &view{Title: "Create a secret", Section: "create", Domain: &dom, Error: msg, Data: d})
	return nil
}

// formError reports whether err is a mistake in a form, which the form
// shows, rather than a refusal or a failure, which the error page shows.
func formError(err error) bool {
	if _, ok := secret.AsViolations(err); ok {
		return true
	}
	var ie *service.InvalidError
	var fe *formErr
	return errors.As(err, &ie) || errors.As(err, &fe) || errors.Is(err, secret.ErrExists) ||
		errors.Is(err, secret.ErrCASMismatch) || errors.Is(err, secret.ErrCASRequired) || errors.Is(err, policy.ErrInvalidPolicy) ||
		errors.Is(err, service.ErrIdentityExists)
}

// formErr is a mistake found by the panel itself, about one field of the
// form when field is set.
type formErr struct{ msg, field string }

func (e *formErr) Error() string { return e.msg }

// readSettings reads the settings fields of a form: maxVersions,
// deactivateAfter, cas (a checkbox) and the custom-metadata rows
// meta_key/meta_value.
func readSettings(r *http.Request) settingsForm {
	f := settingsForm{
		MaxVersions:     strings.TrimSpace(r.PostFormValue("maxVersions")),
		DeactivateAfter: strings.TrimSpace(r.PostFormValue("deactivateAfter")),
		CAS:             r.PostFormValue("cas") != "",
	}
	keys, values := r.PostForm["meta_key"], r.PostForm["meta_value"]
	for i, k := range keys {
		v := ""
		if i < len(values) {
			v = values[i]
		}
		if k = strings.TrimSpace(k); k != "" || strings.TrimSpace(v) != "" {
			f.Meta = append(f.Meta, metaRow{Key: k, Value: v})
		}
	}
	return f
}

// update turns the settings of a form into a metadata update that sets
// every field (empty fields mean "the domain's default").
func (f settingsForm) update() (secret.MetadataUpdate, error) {
	var u secret.MetadataUpdate
	var mv uint32
	if f.MaxVersions != "" {
		n, err := strconv.ParseInt(f.MaxVersions, 10, 64)
		if err != nil {
			return u, &formErr{"The maximum number of versions must be a whole number (0 for the domain's default).", "settings"}
		}
		if mv, err = secret.ParseMaxVersions(n); err != nil {
			return u, err
		}
	}
	u.MaxVersions = &mv
	var dva secret.Duration
	if f.DeactivateAfter != "" {
		var err error
		if dva, err = secret.ParseDuration(f.DeactivateAfter); err != nil {
			return u, err
		}
	}
	u.DeactivateAfter = &dva
	cas := f.CAS
	u.CASRequired = &cas
	m := map[string]string{}
	for _, row := range f.Meta {
		if _, dup := m[row.Key]; dup {
			return u, &formErr{"The custom metadata key " + strconv.Quote(row.Key) + " is given twice.", "settings"}
		}
		m[row.Key] = row.Value
	}
	u.CustomMetadata = &m
	return u, nil
}

// settingsOf returns the form of a secret's current settings.
func settingsOf(s *secret.Secret) settingsForm {
	f := settingsForm{CAS: s.Settings.CASRequired}
	if s.Settings.MaxVersions != 0 {
		f.MaxVersions = strconv.FormatUint(uint64(s.Settings.MaxVersions), 10)
	}
	if !s.Settings.DeactivateAfter.IsZero() {
		f.DeactivateAfter = s.Settings.DeactivateAfter.Text()
	}
	keys := make([]string, 0, len(s.CustomMetadata))
	for k := range s.CustomMetadata {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		f.Meta = append(f.Meta, metaRow{Key: k, Value: s.CustomMetadata[k]})
	}
	return f
}
