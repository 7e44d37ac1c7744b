package webui

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Versions: compare two, restore an old one as a new version, change the
// state of several at once.

// diffLine is one key of a comparison.
type diffLine struct {
	Key      string
	Change   string // "added", "removed", "changed", "same"
	From, To string // the values, shown only when revealed
}

// compareData is the comparison page.
type compareData struct {
	D        service.Domain
	Path     string
	From, To uint32
	Versions []secret.Version
	Lines    []diffLine
	Added    int
	Removed  int
	Changed  int
	Message  string
}

// versionParam parses a version number of a form.
func versionParam(s string) (uint32, error) {
	n, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, secret.ErrVersionNotFound
	}
	id, err := secret.ParseVersionID(n)
	if err != nil {
		return 0, secret.ErrVersionNotFound
	}
	return id, nil
}

// compare shows which keys two versions add, remove or change. It reads
// both values, so it is a POST (never a URL holding a value) and needs
// secret/version/getData, checked by the service on each read. Values are
// in the page but hidden until revealed, key by key.
func (u *UI) compare(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	from, err := versionParam(r.PostFormValue("from"))
	if err != nil {
		return err
	}
	to, err := versionParam(r.PostFormValue("to"))
	if err != nil {
		return err
	}
	d := compareData{Path: p.String(), From: from, To: to}
	a, err := u.readVersion(r, rc, domain, p, from)
	if err != nil {
		return err
	}
	b, err := u.readVersion(r, rc, domain, p, to)
	if err != nil {
		return err
	}
	switch {
	case a == nil || b == nil:
		d.Message = "Only active versions can be compared: a deactivated version's value cannot be read, a deleted one's is destroyed."
	default:
		d.Lines = diffEntries(a, b)
		for _, l := range d.Lines {
			switch l.Change {
			case "added":
				d.Added++
			case "removed":
				d.Removed++
			case "changed":
				d.Changed++
			}
		}
	}
	if d.D, err = u.domainOf(r, rc, domain); err != nil {
		return err
	}
	if d.Versions, _, err = u.svc.ListVersions(r.Context(), rc.caller, domain, p, "", 0); err != nil {
		return err
	}
	slices.Reverse(d.Versions)
	u.render(w, r, rc, http.StatusOK, "compare", &view{Title: fmt.Sprintf("Versions %d and %d of %s", from, to, p), Section: "secrets", Domain: &d.D, Data: d})
	return nil
}

// readVersion returns the entries of a version's value, nil when the
// version is not active.
func (u *UI) readVersion(r *http.Request, rc *reqCtx, domain string, p secret.Path, id uint32) ([]valueEntry, error) {
	v, data, err := u.svc.GetVersion(r.Context(), rc.caller, domain, p, id, true)
	if errors.Is(err, secret.ErrVersionInactive) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if v.State != secret.Active || data == nil {
		return nil, nil
	}
	return entriesOf(*data)
}

// diffEntries compares two values key by key: the keys of b in b's order
// (added, changed or the same), then those only in a (removed).
func diffEntries(a, b []valueEntry) []diffLine {
	old := make(map[string]valueEntry, len(a))
	for _, e := range a {
		old[e.Key] = e
	}
	var out []diffLine
	seen := map[string]bool{}
	for _, e := range b {
		seen[e.Key] = true
		o, ok := old[e.Key]
		switch {
		case !ok:
			out = append(out, diffLine{Key: e.Key, Change: "added", To: e.Value})
		case o.Value != e.Value || o.Raw != e.Raw:
			out = append(out, diffLine{Key: e.Key, Change: "changed", From: o.Value, To: e.Value})
		default:
			out = append(out, diffLine{Key: e.Key, Change: "same", From: o.Value, To: e.Value})
		}
	}
	for _, e := range a {
		if !seen[e.Key] {
			out = append(out, diffLine{Key: e.Key, Change: "removed", From: e.Value})
		}
	}
	return out
}

// restore saves an older version's value as a new version, in one action:
// check-and-set on the version the page showed as current, so that a
// version saved meanwhile is not silently replaced.
func (u *UI) restore(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	id, err := versionParam(r.PostFormValue("version"))
	if err != nil {
		return err
	}
	current, err := versionParam(r.PostFormValue("cas"))
	if err != nil {
		return errBadForm
	}
	_, data, err := u.svc.GetVersion(r.Context(), rc.caller, domain, p, id, true)
	if err != nil {
		return err
	}
	if data == nil {
		return secret.ErrVersionInactive
	}
	v, _, err := u.svc.PutVersion(r.Context(), rc.caller, domain, p, *data, service.PutOptions{CAS: &current})
	if errors.Is(err, secret.ErrCASMismatch) {
		u.redirect(w, r, rc, secretLink(domain, p.String(), "tab", "versions"),
			fmt.Sprintf("Nothing was restored: a version was saved after version %d. Check the versions and restore again.", current))
		return nil
	}
	if err != nil {
		return err
	}
	u.redirect(w, r, rc, secretLink(domain, p.String(), "tab", "versions"), fmt.Sprintf("Version %d restored as version %d.", id, v.ID))
	return nil
}

// bulkData is the summary of a state change of several versions.
type bulkData struct {
	D        service.Domain
	Path     string
	To       string // "deactivated", "deleted"
	Change   []uint32
	Unchange []string // versions left as they are, and why
	Verb     string
}

// bulkVersions deactivates or deletes the versions selected: first a page
// saying what will happen to each, then, confirmed, the changes one by
// one (each authorized and audited by the service).
func (u *UI) bulkVersions(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	p, err := pathParam(r)
	if err != nil {
		return err
	}
	to, err := secret.ParseState(r.PostFormValue("state"))
	if err != nil || to == secret.Active {
		return errBadForm
	}
	var ids []uint32
	for _, s := range r.PostForm["version"] {
		id, err := versionParam(s)
		if err != nil {
			return err
		}
		if !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		u.redirect(w, r, rc, secretLink(domain, p.String(), "tab", "versions"), "Select at least one version.")
		return nil
	}
	versions, _, err := u.svc.ListVersions(r.Context(), rc.caller, domain, p, "", 0)
	if err != nil {
		return err
	}
	d := bulkData{Path: p.String(), To: to.String(), Verb: map[secret.State]string{secret.Deactivated: "Deactivate", secret.Deleted: "Delete"}[to]}
	for _, id := range ids {
		i := slices.IndexFunc(versions, func(v secret.Version) bool { return v.ID == id })
		switch {
		case i < 0:
			d.Unchange = append(d.Unchange, fmt.Sprintf("Version %d no longer exists.", id))
		case versions[i].State == to:
			d.Unchange = append(d.Unchange, fmt.Sprintf("Version %d is already %s.", id, to))
		case versions[i].State == secret.Deleted:
			d.Unchange = append(d.Unchange, fmt.Sprintf("Version %d is deleted: it cannot change.", id))
		default:
			d.Change = append(d.Change, id)
		}
	}
	if r.PostFormValue("confirm") != "yes" {
		if d.D, err = u.domainOf(r, rc, domain); err != nil {
			return err
		}
		u.render(w, r, rc, http.StatusOK, "bulk-versions", &view{Title: d.Verb + " versions of " + d.Path, Section: "secrets", Domain: &d.D, Data: d})
		return nil
	}
	for _, id := range d.Change {
		if _, err := u.svc.SetVersionState(r.Context(), rc.caller, domain, p, id, to); err != nil {
			return err
		}
	}
	u.redirect(w, r, rc, secretLink(domain, p.String(), "tab", "versions"), fmt.Sprintf("%d version(s) %s.", len(d.Change), to))
	return nil
}

// bulkSecretsData is the summary of a change of several secrets: their
// deletion, or the deactivation of their current versions.
type bulkSecretsData struct {
	D          service.Domain
	Deactivate bool // deactivate the current versions; else delete the secrets
	Secrets    []bulkSecret
	Unchanged  []string // secrets left as they are, and why
	Missing    []string // paths no longer there (or not visible)
}

type bulkSecret struct {
	Path     string
	Versions int
	Current  uint32
}

// bulkDeleteSecrets deletes the secrets selected in the list: first a
// summary of each (its versions, destroyed with it), then, confirmed, the
// deletions one by one (each authorized and audited by the service).
func (u *UI) bulkDeleteSecrets(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	var d bulkSecretsData
	var paths []secret.Path
	for _, s := range r.PostForm["path"] {
		p, err := secret.ParsePath(s)
		if err != nil {
			return errBadForm
		}
		if !slices.ContainsFunc(paths, func(q secret.Path) bool { return q.String() == p.String() }) {
			paths = append(paths, p)
		}
	}
	if len(paths) == 0 {
		u.redirect(w, r, rc, "/ui/d/"+domain+"/secrets", "Select at least one secret.")
		return nil
	}
	d.Deactivate = r.PostFormValue("action") == "deactivate"
	if r.PostFormValue("confirm") == "yes" {
		n := 0
		for _, p := range paths {
			var err error
			if d.Deactivate {
				var v service.SecretView
				if v, err = u.svc.GetSecret(r.Context(), rc.caller, domain, p, service.GetOptions{}); err == nil && v.Version != nil && v.Version.State == secret.Active {
					_, err = u.svc.SetVersionState(r.Context(), rc.caller, domain, p, v.Version.ID, secret.Deactivated)
					n++
				}
			} else if err = u.svc.DeleteSecret(r.Context(), rc.caller, domain, p); err == nil {
				n++
			}
			if err != nil && !errors.Is(err, secret.ErrNotFound) {
				return err
			}
		}
		msg := fmt.Sprintf("%d secret(s) deleted.", n)
		if d.Deactivate {
			msg = fmt.Sprintf("The current version of %d secret(s) deactivated.", n)
		}
		u.redirect(w, r, rc, "/ui/d/"+domain+"/secrets", msg)
		return nil
	}
	for _, p := range paths {
		v, err := u.svc.GetSecret(r.Context(), rc.caller, domain, p, service.GetOptions{})
		switch {
		case errors.Is(err, secret.ErrNotFound):
			d.Missing = append(d.Missing, p.String())
		case err != nil:
			return err
		case d.Deactivate && (v.Version == nil || v.Version.State != secret.Active):
			d.Unchanged = append(d.Unchanged, p.String()+": its current version is not active.")
		default:
			b := bulkSecret{Path: p.String(), Versions: len(v.Secret.Versions)}
			if v.Version != nil {
				b.Current = v.Version.ID
			}
			d.Secrets = append(d.Secrets, b)
		}
	}
	var err error
	if d.D, err = u.domainOf(r, rc, domain); err != nil {
		return err
	}
	title := "Delete secrets"
	if d.Deactivate {
		title = "Deactivate current versions"
	}
	u.render(w, r, rc, http.StatusOK, "bulk-secrets", &view{Title: title, Section: "secrets", Domain: &d.D, Data: d})
	return nil
}
