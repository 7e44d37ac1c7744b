package iamapi

import (
	"net/http"

	"github.com/seed-3e8d63de/coffer/internal/httpapi"
	"github.com/seed-3e8d63de/coffer/internal/service"
)

// pageOf returns the part of a complete identity list (users, groups, a
// user's tokens, policies, service accounts; sorted by key) that the request asks for. A
// request without pagination headers gets all of it, as OVHcloud's /1.0
// routes answer; with X-Pagination-Size or X-Pagination-Cursor it gets one
// page and X-Pagination-Cursor-Next while more follow, as OVHcloud's /v2
// routes and surface A do (okms-rest.md 7). Cursors are the service's,
// opaque and bound to the list and the caller (service.PageOf).
func pageOf[T any](w http.ResponseWriter, r *http.Request, svc *service.Service, c service.Caller, l service.Listing,
	items []T, key func(T) string) ([]T, error) {
	if r.Header.Get(httpapi.HeaderPageSize) == "" && r.Header.Get(httpapi.HeaderCursor) == "" {
		return items, nil
	}
	pg, err := httpapi.ReadPage(r.Header)
	if err != nil {
		return nil, err
	}
	items, next, err := service.PageOf(svc, c, l, items, key, pg.Cursor, pg.Size)
	if err != nil {
		return nil, err
	}
	httpapi.SetNext(w.Header(), next)
	return items, nil
}
