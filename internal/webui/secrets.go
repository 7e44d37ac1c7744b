package webui

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/seed-3e8d63de/coffer/internal/policy"
	"github.com/seed-3e8d63de/coffer/internal/secret"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Paging of the secrets list.
const (
	defaultPageSize = 50
	maxPageSize     = 200
)

// entry is one row of the secrets list: a folder or a secret.
type entry struct {
	Name    string // last element (folder: its name)
	Path    string // full path (folder: its prefix, ending in "/")
	Folder  bool
	Version *secret.Version
	Secret  *secret.Secret
}

type crumb struct {
	Name   string
	Prefix string
}

// listData is the secrets page: a region selector, then the domains of
// the region to choose from, or the secrets of one domain.
type listData struct {
	Regions   []string // regions of the domains the caller may use, secrets or not
	Region    string
	Choose    []service.PanelDomain // several domains in the region: choose one
	D         *service.Domain       // the domain listed
	Prefix    string
	Crumbs    []crumb
	Query     string
	Sort      string // "name" or "updated"
	Size      int
	Page      int // 1-based
	Pages     int
	PageLinks []int // page numbers to link, 0 for a gap
	Entries   []entry
	Folders   int // visible folders listed, all pages
	Secrets   int // visible secrets listed, all pages
	CanCreate bool
	CanDelete bool // may delete secrets anywhere in the domain
	// CanDeactivate: may deactivate versions anywhere in the domain.
	CanDeactivate bool
	CanBulk       bool // either: the rows can be selected
	Truncated     bool // the folder or search was cut after listCalls list calls
}

// panel returns the domains the caller may use in the panel and their
// regions, those holding no secret yet included (an activated region must
// be reachable before its first secret). They are read once per request.
func (u *UI) panel(ctx context.Context, rc *reqCtx) ([]service.PanelDomain, []string, error) {
	if rc.loaded {
		return rc.domains, slices.Clone(rc.regions), nil
	}
	ds, err := u.svc.PanelDomains(ctx, rc.caller)
	if err != nil {
		return nil, nil, err
	}
	var regions []string
	for _, d := range ds {
		if !slices.Contains(regions, d.Region) {
			regions = append(regions, d.Region)
		}
	}
	slices.Sort(regions)
	rc.domains, rc.regions, rc.loaded = ds, regions, true
	return ds, slices.Clone(regions), nil
}

// canCreateIn reports whether the caller may create secrets anywhere in a
// domain (a policy on the domain as a whole).
func (u *UI) canCreateIn(c service.Caller, domain string) bool {
	return u.may(c, u.svc.DomainURN(domain), policy.SecretCreate)
}

// canCreate reports whether the caller may create secrets in one of its
// domains, or activate a domain: the panel then offers "Create a secret".
func (u *UI) canCreate(ctx context.Context, rc *reqCtx) bool {
	if u.svc.CanAdminister(rc.caller) {
		return true
	}
	ds, _, err := u.panel(ctx, rc)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(ds, func(d service.PanelDomain) bool {
		return d.State == service.DomainReady && u.canCreateIn(rc.caller, d.ID)
	})
}

func readyIn(ds []service.PanelDomain, region string) []service.PanelDomain {
	var out []service.PanelDomain
	for _, d := range ds {
		if d.Region == region && d.State == service.DomainReady {
			out = append(out, d)
		}
	}
	return out
}

// secretsHome chooses what to list: the region asked for, else the
// default domain's region when the caller sees secrets there, else the
// first region where the caller has secrets, else the first region. One
// domain in the region: its secrets; several: a table to choose from.
func (u *UI) secretsHome(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	ds, regions, err := u.panel(r.Context(), rc)
	if err != nil {
		return err
	}
	region := r.URL.Query().Get("region")
	if region == "" {
		def := u.svc.DefaultDomain()
		for _, d := range ds {
			if d.ID == def && d.HasSecrets {
				region = d.Region
			}
		}
	}
	for _, d := range ds {
		if region == "" && d.HasSecrets {
			region = d.Region
		}
	}
	if region == "" && len(regions) > 0 {
		region = regions[0]
	}
	in := readyIn(ds, region)
	if len(in) == 1 {
		u.redirect(w, r, rc, "/ui/d/"+in[0].ID+"/secrets", rc.flash) // the message goes on to the page shown
		return nil
	}
	if region != "" && !slices.Contains(regions, region) {
		regions = append(regions, region)
		slices.Sort(regions)
	}
	d := listData{Regions: regions, Region: region, Choose: in}
	u.render(w, r, rc, http.StatusOK, "secrets", &view{Title: "Secrets", Section: "secrets", Data: d})
	return nil
}

// listSecrets lists one domain's secrets: the folders and secrets directly
// under a prefix, or, with a search, every secret below it whose path,
// custom-metadata key or custom-metadata value contains the text. Only
// what the caller may see is read (the service filters every list), so
// totals and pages count nothing else. Entries are sorted by name
// (natural order, folders first) or by last update, and cut into
// numbered pages.
func (u *UI) listSecrets(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	id := r.PathValue("okms")
	q := r.URL.Query()
	d := listData{Prefix: q.Get("prefix"), Query: strings.TrimSpace(q.Get("q")), Size: defaultPageSize, Sort: "name", Page: 1}
	if n, err := strconv.Atoi(q.Get("size")); err == nil && n > 0 {
		d.Size = min(n, maxPageSize)
	}
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n > 0 {
		d.Page = n
	}
	if q.Get("sort") == "updated" {
		d.Sort = "updated"
	}
	if d.Prefix != "" {
		if _, err := secret.ParsePath(strings.TrimSuffix(d.Prefix, "/")); err != nil || !strings.HasSuffix(d.Prefix, "/") {
			return errNotFound
		}
	}
	ds, regions, err := u.panel(r.Context(), rc)
	if err != nil {
		return err
	}
	dom := service.Domain{ID: id}
	for _, pd := range ds {
		if pd.ID == id {
			dom = pd.Domain
		}
	}
	d.D, d.Region = &dom, dom.Region
	if dom.Region != "" && !slices.Contains(regions, dom.Region) {
		regions = append(regions, dom.Region)
		slices.Sort(regions)
	}
	d.Regions = regions
	var all []entry
	if d.Query == "" {
		all, d.Truncated, err = u.folderEntries(r.Context(), rc.caller, id, d.Prefix)
	} else {
		all, d.Truncated, err = u.searchEntries(r.Context(), rc.caller, id, d.Prefix, d.Query)
	}
	if err != nil {
		return err
	}
	sortEntries(all, d.Sort)
	for _, e := range all {
		if e.Folder {
			d.Folders++
		} else {
			d.Secrets++
		}
	}
	d.Pages = max(1, (len(all)+d.Size-1)/d.Size)
	d.Page = min(d.Page, d.Pages)
	d.Entries = all[min(len(all), (d.Page-1)*d.Size):min(len(all), d.Page*d.Size)]
	d.PageLinks = pageLinks(d.Page, d.Pages)
	d.Crumbs = crumbs(d.Prefix)
	d.CanCreate = u.canCreateIn(rc.caller, id)
	d.CanDelete = u.may(rc.caller, u.svc.DomainURN(id), policy.SecretDelete)
	d.CanDeactivate = u.may(rc.caller, u.svc.DomainURN(id), policy.SecretVersionEdit, policy.SecretVersionDeactivate)
	d.CanBulk = d.CanDelete || d.CanDeactivate
	u.render(w, r, rc, http.StatusOK, "secrets", &view{Title: "Secrets", Section: "secrets", Domain: &dom, Data: d})
	return nil
}

// pageLinks returns the page numbers a pager shows: the first, the last,
// and those around the current one; 0 stands for a gap.
func pageLinks(page, pages int) []int {
	var out []int
	for i := 1; i <= pages; i++ {
		switch {
		case i == 1, i == pages, i >= page-2 && i <= page+2:
			out = append(out, i)
		case len(out) > 0 && out[len(out)-1] != 0:
			out = append(out, 0)
		}
	}
	return out
}

func crumbs(prefix string) []crumb {
	var out []crumb
	acc := ""
	for el := range strings.SplitSeq(strings.TrimSuffix(prefix, "/"), "/") {
		if el == "" {
			continue
		}
		acc += el + "/"
		out = append(out, crumb{Name: el, Prefix: acc})
	}
	return out
}

// listCalls bounds the list calls one page of the panel makes (each reads
// at most 1,000 records): a larger folder or search says it is cut.
const listCalls = 50

// folderEntries returns the entries the caller may see directly under
// prefix: folders (each once) and secrets. truncated is set when it
// stopped after listCalls list calls.
func (u *UI) folderEntries(ctx context.Context, c service.Caller, domain, prefix string) (entries []entry, truncated bool, err error) {
	opt := service.ChildOptions{Prefix: prefix, Limit: 1000}
	for calls := 0; calls < listCalls; calls++ {
		page, err := u.svc.ListChildren(ctx, c, domain, opt)
		if err != nil {
			return nil, false, err
		}
		for _, ch := range page.Items {
			e := entry{Name: strings.TrimSuffix(ch.Name, "/"), Path: prefix + ch.Name, Folder: ch.Folder}
			if !ch.Folder {
				e.Version, e.Secret = ch.Secret.Version, ch.Secret.Secret
			}
			entries = append(entries, e)
		}
		if opt.Cursor = page.Next; opt.Cursor == "" {
			return entries, false, nil
		}
	}
	return entries, true, nil
}

// searchEntries returns the secrets the caller may see below prefix whose
// path (relative to prefix), or a custom-metadata key or value, contains
// query, ignoring case.
func (u *UI) searchEntries(ctx context.Context, c service.Caller, domain, prefix, query string) (entries []entry, truncated bool, err error) {
	needle := strings.ToLower(query)
	opt := service.ListOptions{Prefix: prefix, Limit: 1000}
	for calls := 0; calls < listCalls; calls++ {
		page, err := u.svc.ListSecrets(ctx, c, domain, opt)
		if err != nil {
			return nil, false, err
		}
		for _, it := range page.Items {
			p := it.Secret.Path.String()
			if matches(strings.TrimPrefix(p, prefix), it.Secret.CustomMetadata, needle) {
				entries = append(entries, entry{Name: p, Path: p, Version: it.Version, Secret: it.Secret})
			}
		}
		if opt.Cursor = page.Next; opt.Cursor == "" {
			return entries, false, nil
		}
	}
	return entries, true, nil
}

func matches(rel string, meta map[string]string, needle string) bool {
	if strings.Contains(strings.ToLower(rel), needle) {
		return true
	}
	for k, v := range meta {
		if strings.Contains(strings.ToLower(k), needle) || strings.Contains(strings.ToLower(v), needle) {
			return true
		}
	}
	return false
}

// sortEntries sorts a list: folders first, then by name in natural order
// (p/2 before p/10), or, by "updated", the most recently updated secrets
// first.
func sortEntries(es []entry, by string) {
	slices.SortStableFunc(es, func(a, b entry) int {
		if a.Folder != b.Folder {
			if a.Folder {
				return -1
			}
			return 1
		}
		if by == "updated" && !a.Folder {
			if c := b.Secret.UpdatedAt.Compare(a.Secret.UpdatedAt); c != 0 {
				return c
			}
		}
		return naturalCompare(a.Name, b.Name)
	})
}

// naturalCompare orders strings as people read them: runs of digits by
// their value (item-2 before item-10), the rest ignoring case, with the
// byte order as the last word so that distinct strings never tie.
func naturalCompare(a, b string) int {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
				j++
			}
			na, nb := strings.TrimLeft(a[si:i], "0"), strings.TrimLeft(b[sj:j], "0")
			if len(na) != len(nb) {
				return cmpInt(len(na), len(nb))
			}
			if c := strings.Compare(na, nb); c != 0 {
				return c
			}
			continue
		}
		la, lb := lower(ca), lower(cb)
		if la != lb {
			return cmpInt(int(la), int(lb))
		}
		i, j = i+1, j+1
	}
	if c := cmpInt(len(a)-i, len(b)-j); c != 0 {
		return c
	}
	return strings.Compare(a, b)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
