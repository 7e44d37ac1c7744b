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
	// filterCalls bounds the list calls one page makes (each reads at most
	// 1,000 records): a filter over a huge domain pages on.
	filterCalls = 20
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
	Size      int
	Entries   []entry
	After     string // cursor of this page ("" for the first), opaque
	Next      string // cursor of the next page; "" when this is the last
	CanCreate bool
	Truncated bool // a filtered page stopped before finding a full page
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
		http.Redirect(w, r, "/ui/d/"+in[0].ID+"/secrets", http.StatusSeeOther)
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
// under a prefix, or, with a filter, every secret below it whose path
// contains the filter. Pages are cut at a position (a path) and continue
// after it.
func (u *UI) listSecrets(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	id := r.PathValue("okms")
	q := r.URL.Query()
	d := listData{Prefix: q.Get("prefix"), Query: strings.TrimSpace(q.Get("q")), After: q.Get("after"), Size: defaultPageSize}
	if n, err := strconv.Atoi(q.Get("size")); err == nil && n > 0 {
		d.Size = min(n, maxPageSize)
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
	if d.Query == "" {
		d.Entries, d.Next, err = u.folderPage(r.Context(), rc.caller, id, d.Prefix, d.After, d.Size)
	} else {
		d.Entries, d.Next, d.Truncated, err = u.filterPage(r.Context(), rc.caller, id, d.Prefix, d.Query, d.After, d.Size)
	}
	if err != nil {
		return err
	}
	d.Crumbs = crumbs(d.Prefix)
	d.CanCreate = u.canCreateIn(rc.caller, id)
	u.render(w, r, rc, http.StatusOK, "secrets", &view{Title: "Secrets", Section: "secrets", Domain: &dom, Data: d})
	return nil
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

// folderPage returns up to size entries directly under prefix, from the
// cursor after: folders (each once) and secrets, in byte order. next is
// the cursor of the following page, "" when there is none. It makes at most
// filterCalls list calls, each reading a bounded number of records.
func (u *UI) folderPage(ctx context.Context, c service.Caller, domain, prefix, after string, size int) (entries []entry, next string, err error) {
	opt := service.ChildOptions{Prefix: prefix, Cursor: after}
	for calls := 0; len(entries) < size && calls < filterCalls; calls++ {
		opt.Limit = size - len(entries)
		page, err := u.svc.ListChildren(ctx, c, domain, opt)
		if err != nil {
			return nil, "", err
		}
		for _, ch := range page.Items {
			e := entry{Name: strings.TrimSuffix(ch.Name, "/"), Path: prefix + ch.Name, Folder: ch.Folder}
			if !ch.Folder {
				e.Version, e.Secret = ch.Secret.Version, ch.Secret.Secret
			}
			entries = append(entries, e)
		}
		if opt.Cursor = page.Next; opt.Cursor == "" {
			return entries, "", nil
		}
	}
	// The page is full: is there anything the caller may see after it?
	probe, err := u.svc.ListChildren(ctx, c, domain, service.ChildOptions{Prefix: prefix, Cursor: opt.Cursor, Limit: 1})
	if err != nil {
		return nil, "", err
	}
	if len(probe.Items) == 0 && probe.Next == "" {
		return entries, "", nil
	}
	return entries, opt.Cursor, nil
}

// filterPage returns up to size secrets below prefix whose path, relative
// to prefix, contains query (ignoring case), from the cursor after.
// truncated is set when it stopped after filterCalls list calls.
func (u *UI) filterPage(ctx context.Context, c service.Caller, domain, prefix, query, after string, size int) (entries []entry, next string, truncated bool, err error) {
	cursor, last := after, ""
	needle := strings.ToLower(query)
	for calls := 0; ; calls++ {
		if calls == filterCalls {
			return entries, cursor, true, nil
		}
		page, err := u.svc.ListSecrets(ctx, c, domain, service.ListOptions{Prefix: prefix, Cursor: cursor, Limit: 1000})
		if err != nil {
			return nil, "", false, err
		}
		for _, it := range page.Items {
			if len(entries) == size {
				// The next page starts after the last secret this one
				// went through, one the caller sees.
				next, err := u.svc.Cursor(c, service.Listing{Kind: service.ListSecrets, Domain: domain, Of: prefix}, last)
				return entries, next, false, err
			}
			p := it.Secret.Path.String()
			last = p
			if strings.Contains(strings.ToLower(strings.TrimPrefix(p, prefix)), needle) {
				entries = append(entries, entry{Name: p, Path: p, Version: it.Version, Secret: it.Secret})
			}
		}
		if page.Next == "" {
			return entries, "", false, nil
		}
		cursor = page.Next
	}
}
