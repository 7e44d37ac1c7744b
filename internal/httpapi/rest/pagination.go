package rest

import (
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
)

// Listing kinds a cursor may belong to. The cursor codec and the page size
// rules of okms-rest.md 7 are shared with surface A (httpapi.Listing).
const (
	cursorSecrets  = httpapi.ListSecrets
	cursorVersions = httpapi.ListVersions
)

type paging struct {
	size  int
	after string
}

// readPaging parses X-Pagination-Size and X-Pagination-Cursor for a
// listing of kind in domain (of: the secret path for version lists).
func readPaging(r *http.Request, domain, kind, of string) (paging, error) {
	pg, err := httpapi.Listing{Domain: domain, Kind: kind, Of: of}.ReadPage(r.Header)
	return paging{size: pg.Size, after: pg.After}, err
}

// writeNext sets X-Pagination-Cursor-Next when more items follow (next is
// the last position of this page); it is absent on the last page.
func writeNext(w http.ResponseWriter, domain, kind, of, next string) {
	httpapi.Listing{Domain: domain, Kind: kind, Of: of}.SetNext(w.Header(), next)
}
