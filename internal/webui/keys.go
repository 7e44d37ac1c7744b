package webui

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/seed-3e8d63de/coffer/api"
	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/service"
	"github.com/seed-3e8d63de/coffer/internal/servicekey"
)

// The Keys area of a domain (issue 15): its service keys, as OVHcloud's
// KMS pages show them. The panel acts on keys as surface A does: with the
// okms:apiovh:serviceKey/* actions, and it offers only what the caller may
// do. Key material never reaches a page: only public keys.

// keyRoutes registers the pages of the Keys area.
func (u *UI) keyRoutes(mux *http.ServeMux) {
	const k = "/ui/d/{okms}/keys/{key}"
	mux.Handle("GET /ui/d/{okms}/keys", u.page(u.listKeys))
	mux.Handle("GET /ui/d/{okms}/keys/new", u.page(u.newKeyForm))
	mux.Handle("POST /ui/d/{okms}/keys/new", u.page(u.createKey))
	mux.Handle("GET "+k, u.page(u.keyDetails))
	mux.Handle("GET "+k+"/public.pem", u.page(u.downloadPublicKey))
	mux.Handle("GET "+k+"/public.jwk", u.page(u.downloadPublicKey))
	mux.Handle("POST "+k+"/rename", u.page(u.renameKey))
	mux.Handle("POST "+k+"/activate", u.page(u.activateKey))
	mux.Handle("POST "+k+"/deactivate", u.page(u.deactivateKey))
	mux.Handle("GET "+k+"/delete", u.page(u.confirmDeleteKey))
	mux.Handle("POST "+k+"/delete", u.page(u.deleteKey))
}

// keyCaller is the caller of the Keys area: surface A's actions.
func keyCaller(rc *reqCtx) service.Caller {
	c := rc.caller
	c.Dialect = service.Central
	return c
}

// keyMay reports whether the caller may do action (a serviceKey/...
// suffix) on a key of the domain.
func (u *UI) keyMay(c service.Caller, action, domain, id string) bool {
	return u.svc.Allowed(c, policy.NamespaceCentral+action, u.svc.ServiceKeyURN(domain, id))
}

// newKeyID stands for a key not created yet: a policy on every key of
// the domain (…/serviceKey/*) allows creating it, one on a given key does
// not.
const newKeyID = "00000000-0000-4000-8000-000000000000"

// keyRow is one key of the list.
type keyRow struct {
	ID, Name, Type, Size, Usages, State string
	Created                             time.Time
}

func rowOf(k *servicekey.Key) keyRow {
	return keyRow{ID: k.ID, Name: k.Name, Type: string(k.Type), Size: keySize(k), Usages: usageText(k.Usages),
		State: k.State.String(), Created: k.CreatedAt}
}

func keySize(k *servicekey.Key) string {
	if k.Curve != "" {
		return string(k.Curve)
	}
	return strconv.Itoa(k.Size) + " bits"
}

func usageText(u servicekey.Usages) string { return strings.Join(httpapi.UsageNames(u), ", ") }

// keysData is the Keys page of a domain.
type keysData struct {
	D         *service.Domain
	Keys      []keyRow
	After     string
	Next      string
	CanCreate bool
}

const keysPageSize = 50

func (u *UI) listKeys(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	id := r.PathValue("okms")
	dom, err := u.domainOf(r, rc, id)
	if err != nil {
		return err
	}
	c := keyCaller(rc)
	d := keysData{D: &dom, After: r.URL.Query().Get("after"), CanCreate: u.keyMay(c, policy.ServiceKeyCreate, id, newKeyID)}
	page, err := u.svc.ListServiceKeys(r.Context(), c, id, service.KeyListOptions{Cursor: d.After, Limit: keysPageSize})
	if err != nil {
		return err
	}
	for _, k := range page.Items {
		d.Keys = append(d.Keys, rowOf(k))
	}
	d.Next = page.Next
	u.render(w, r, rc, http.StatusOK, "keys", &view{Title: "Keys", Section: "keys", Domain: &dom, Data: d})
	return nil
}

// keyForm is the creation form: the type first, then only the sizes,
// curves and usages of the reference table that fit it.
type keyForm struct {
	D       *service.Domain
	Types   []keyTypeChoice
	Type    string // chosen type, "" on the first step
	Sizes   []int
	Curves  []string
	Usages  []usageChoice // the combinations of usages offered
	Name    string
	Context string
	Size    int
	Curve   string
	Usage   string // the chosen combination, usages joined by ","
}

// usageChoice is a combination of usages: the form's value (joined by
// ","), and its label.
type usageChoice struct{ Value, Label string }

type keyTypeChoice struct {
	Type, Title, Text string
}

var keyTypeChoices = []keyTypeChoice{
	{"oct", "Symmetric key (AES)", "Encrypts and decrypts data up to 4 KiB, makes data keys, or wraps other keys."},
	{"RSA", "RSA key pair", "Signs and verifies, or encrypts and wraps with its public key."},
	{"EC", "Elliptic-curve key pair", "Signs and verifies (ECDSA), with short keys and signatures."},
}

// usageValue is a combination of usages as the form sends it.
func usageValue(us []servicekey.Usage) string {
	s := make([]string, len(us))
	for i, x := range us {
		s[i] = string(x)
	}
	return strings.Join(s, ",")
}

func (u *UI) keyFormOf(dom *service.Domain, typ string) (*keyForm, error) {
	f := &keyForm{D: dom, Types: keyTypeChoices}
	if typ == "" {
		return f, nil
	}
	for _, ref := range servicekey.ReferenceTable() {
		if string(ref.Type) != typ {
			continue
		}
		f.Type = typ
		for _, s := range ref.Sizes {
			f.Sizes = append(f.Sizes, s.Value)
			if s.Default {
				f.Size = s.Value
			}
		}
		for _, c := range ref.Curves {
			f.Curves = append(f.Curves, string(c.Value))
			if c.Default {
				f.Curve = string(c.Value)
			}
		}
		for _, o := range ref.Operations {
			v := usageValue(o.Value)
			f.Usages = append(f.Usages, usageChoice{v, strings.ReplaceAll(v, ",", ", ")})
			if o.Default {
				f.Usage = usageValue(o.Value)
			}
		}
		return f, nil
	}
	return nil, errNotFound
}

func (u *UI) newKeyForm(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	id := r.PathValue("okms")
	if !u.keyMay(keyCaller(rc), policy.ServiceKeyCreate, id, newKeyID) {
		return service.ErrDenied
	}
	dom, err := u.domainOf(r, rc, id)
	if err != nil {
		return err
	}
	f, err := u.keyFormOf(&dom, r.URL.Query().Get("type"))
	if err != nil {
		return err
	}
	u.render(w, r, rc, http.StatusOK, "key-new", &view{Title: "Create a key", Section: "keys", Domain: &dom, Data: f})
	return nil
}

func (u *UI) createKey(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	id := r.PathValue("okms")
	dom, err := u.domainOf(r, rc, id)
	if err != nil {
		return err
	}
	f, err := u.keyFormOf(&dom, r.PostFormValue("type"))
	if err != nil || f.Type == "" {
		return errBadForm
	}
	f.Name, f.Context = strings.TrimSpace(r.PostFormValue("name")), strings.TrimSpace(r.PostFormValue("context"))
	f.Usage = r.PostFormValue("usage")
	in := service.KeyInput{Name: f.Name, Context: f.Context, Type: f.Type}
	if f.Usage != "" {
		in.Operations = strings.Split(f.Usage, ",")
	}
	if len(f.Curves) > 0 {
		f.Curve = r.PostFormValue("curve")
		in.Curve = f.Curve
	} else {
		if f.Size, err = strconv.Atoi(r.PostFormValue("size")); err != nil {
			return errBadForm
		}
		in.Size = f.Size
	}
	v, err := u.svc.CreateServiceKey(r.Context(), keyCaller(rc), id, in)
	if err != nil {
		status, msg := describe(err)
		if status != http.StatusBadRequest && status != http.StatusConflict {
			return err
		}
		httpapi.NoteError(r.Context(), err)
		u.render(w, r, rc, status, "key-new", &view{Title: "Create a key", Section: "keys", Domain: &dom, Error: msg, Data: f})
		return nil
	}
	u.redirect(w, r, rc, keyLink(id, v.Key.ID), "Key "+v.Key.Name+" created.")
	return nil
}

func keyLink(domain, id string) string { return "/ui/d/" + domain + "/keys/" + id }

// keyDetails is the page of one key.
type keyDetails struct {
	D       *service.Domain
	Key     *servicekey.Key
	Row     keyRow
	JWK     string // the public key, indented JSON; "" for a symmetric key
	PEM     string
	Reasons []servicekey.Reason
	// What the caller may do.
	CanRename, CanActivate, CanDeactivate, CanDelete bool
}

// publicKey reads a key with its public part (none for a symmetric or
// destroyed key).
func (u *UI) publicKey(r *http.Request, rc *reqCtx) (service.KeyView, error) {
	return u.svc.GetServiceKey(r.Context(), keyCaller(rc), r.PathValue("okms"), r.PathValue("key"), service.KeyGetOptions{Public: true})
}

func (u *UI) keyDetails(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain := r.PathValue("okms")
	v, err := u.publicKey(r, rc)
	if err != nil {
		return err
	}
	dom, err := u.domainOf(r, rc, domain)
	if err != nil {
		return err
	}
	k, c := v.Key, keyCaller(rc)
	d := keyDetails{D: &dom, Key: k, Row: rowOf(k), Reasons: servicekey.Reasons()}
	if v.Public != nil && k.Type != servicekey.Oct {
		if d.JWK, err = jwkText(k, v.Public); err != nil {
			return err
		}
		d.PEM = v.Public.PEM
	}
	destroyed := k.State.Destroyed()
	d.CanRename = !destroyed && u.keyMay(c, policy.ServiceKeyUpdate, domain, k.ID)
	d.CanActivate = !destroyed && k.State != servicekey.Active && u.keyMay(c, policy.ServiceKeyActivate, domain, k.ID)
	d.CanDeactivate = k.State == servicekey.Active && u.keyMay(c, policy.ServiceKeyDeactivate, domain, k.ID)
	d.CanDelete = !destroyed && k.State != servicekey.Active && u.keyMay(c, policy.ServiceKeyDelete, domain, k.ID)
	u.render(w, r, rc, http.StatusOK, "key", &view{Title: k.Name, Section: "keys", Domain: &dom, Data: d})
	return nil
}

func jwkText(k *servicekey.Key, p *servicekey.Public) (string, error) {
	b, err := json.MarshalIndent(api.JSONWebKey(httpapi.PublicJWK(k, p)), "", "  ")
	return string(b), err
}

// downloadPublicKey serves the public key as a file: public.pem (SPKI)
// or public.jwk (JSON).
func (u *UI) downloadPublicKey(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	v, err := u.publicKey(r, rc)
	if err != nil {
		return err
	}
	if v.Public == nil || v.Key.Type == servicekey.Oct {
		return errNoPublicKey
	}
	name, body, ct := v.Key.ID+".pem", v.Public.PEM, "application/x-pem-file"
	if strings.HasSuffix(r.URL.Path, ".jwk") {
		if body, err = jwkText(v.Key, v.Public); err != nil {
			return err
		}
		name, body, ct = v.Key.ID+".jwk", body+"\n", "application/jwk+json"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+`"`)
	_, _ = w.Write([]byte(body))
	return nil
}

var errNoPublicKey = errors.New("webui: a symmetric or destroyed key has no public key to show")

// change applies a change to the key of the request and returns to its
// page with msg.
func (u *UI) change(w http.ResponseWriter, r *http.Request, rc *reqCtx, ch service.KeyChange, msg string) error {
	domain, id := r.PathValue("okms"), r.PathValue("key")
	k, err := u.svc.UpdateServiceKey(r.Context(), keyCaller(rc), domain, id, ch)
	if err != nil {
		return err
	}
	u.redirect(w, r, rc, keyLink(domain, id), strings.ReplaceAll(msg, "%s", k.Name))
	return nil
}

func (u *UI) renameKey(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	name := strings.TrimSpace(r.PostFormValue("name"))
	return u.change(w, r, rc, service.KeyChange{Name: &name}, "Key renamed to %s.")
}

func (u *UI) activateKey(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	return u.change(w, r, rc, service.KeyChange{Activate: true}, "Key %s activated.")
}

func (u *UI) deactivateKey(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	reason := r.PostFormValue("reason")
	return u.change(w, r, rc, service.KeyChange{Deactivate: &reason}, "Key %s deactivated.")
}

// deleteData is the typed confirmation of a deletion.
type deleteData struct {
	D     *service.Domain
	Key   *servicekey.Key
	Typed string
}

func (u *UI) confirmDeleteKey(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	v, err := u.svc.GetServiceKey(r.Context(), keyCaller(rc), r.PathValue("okms"), r.PathValue("key"), service.KeyGetOptions{})
	if err != nil {
		return err
	}
	dom, err := u.domainOf(r, rc, r.PathValue("okms"))
	if err != nil {
		return err
	}
	u.render(w, r, rc, http.StatusOK, "key-delete", &view{Title: "Delete " + v.Key.Name, Section: "keys", Domain: &dom,
		Data: deleteData{D: &dom, Key: v.Key}})
	return nil
}

// deleteKey deletes a key once the name typed matches it.
func (u *UI) deleteKey(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	domain, id := r.PathValue("okms"), r.PathValue("key")
	c := keyCaller(rc)
	v, err := u.svc.GetServiceKey(r.Context(), c, domain, id, service.KeyGetOptions{})
	if err != nil {
		return err
	}
	if typed := r.PostFormValue("confirm"); typed != v.Key.Name {
		dom, err := u.domainOf(r, rc, domain)
		if err != nil {
			return err
		}
		u.render(w, r, rc, http.StatusBadRequest, "key-delete", &view{Title: "Delete " + v.Key.Name, Section: "keys", Domain: &dom,
			Error: "The name typed does not match the key's name: nothing was deleted.", Data: deleteData{D: &dom, Key: v.Key, Typed: typed}})
		return nil
	}
	if err := u.svc.DeleteServiceKey(r.Context(), c, domain, id); err != nil {
		return err
	}
	u.redirect(w, r, rc, "/ui/d/"+domain+"/keys", "Key "+v.Key.Name+" deleted: its material is destroyed.")
	return nil
}

// keyErrors words the service key errors for the panel (describe).
var keyErrors = []struct {
	err     error
	status  int
	message string
}{
	{servicekey.ErrNotFound, http.StatusNotFound, "There is no such key in this domain."},
	{servicekey.ErrExists, http.StatusConflict, "A key with this id already exists."},
	{servicekey.ErrActive, http.StatusConflict, "An active key cannot be deleted: deactivate it first."},
	{servicekey.ErrTransition, http.StatusConflict, "This key cannot change to that state: a destroyed key stays destroyed."},
	{servicekey.ErrDestroyed, http.StatusConflict, "This key is destroyed: only its description remains."},
	{errNoPublicKey, http.StatusNotFound, "This key has no public key: it is symmetric or destroyed."},
	{service.ErrNoKMS, http.StatusServiceUnavailable, "Service keys are not available on this server."},
}

// describeKeyError returns the status and message of a service key error,
// ok false for other errors.
func describeKeyError(err error) (int, string, bool) {
	if vs, ok := servicekey.AsViolations(err); ok {
		msgs := make([]string, len(vs))
		for i, v := range vs {
			msgs[i] = sentence(v.Reason)
			if v.Reason == "" {
				msgs[i] = sentence(v.Error())
			}
		}
		return http.StatusBadRequest, strings.Join(slices.Compact(msgs), " "), true
	}
	for _, e := range keyErrors {
		if errors.Is(err, e.err) {
			return e.status, e.message, true
		}
	}
	return 0, "", false
}
