package httpapi

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/seed-3e8d63de/coffer/internal/service"
)

// Pagination headers of surfaces A and B (okms-rest.md 7); the same names
// as the api package's, which httpapi may not import.
const (
	HeaderPageSize   = "X-Pagination-Size"
	HeaderCursor     = "X-Pagination-Cursor"
	HeaderCursorNext = "X-Pagination-Cursor-Next"
)

// Page sizes of the OKMS REST surfaces A and B (okms-rest.md 7): any
// positive integer, clamped to MinPageSize..MaxPageSize.
const (
	MinPageSize     = 10
	MaxPageSize     = 100
	DefaultPageSize = 100
)

// Errors of pagination. Surfaces map them in their error tables.
var (
	// ErrCursorInvalid: the cursor is not one the service issued for this
	// list and this caller. Cursors are opaque and sealed by the service
	// (service.Cursor), which returns this error; surfaces only carry them.
	ErrCursorInvalid = service.ErrCursorInvalid
	// ErrPageSizeInvalid: the page size is not a positive integer.
	ErrPageSizeInvalid = errors.New("X-Pagination-Size must be a positive integer")
)

// Page is the part of a listing a request asks for.
type Page struct {
	Size   int    // MinPageSize..MaxPageSize
	Cursor string // opaque, as the service issued it; "" from the start
}

// ReadPage parses the X-Pagination-Size and X-Pagination-Cursor headers of
// a request. It returns ErrPageSizeInvalid; the cursor is checked by the
// service, which alone can open it.
func ReadPage(h http.Header) (Page, error) {
	return ParsePage(h.Get(HeaderPageSize), h.Get(HeaderCursor))
}

// ParsePage is ReadPage on the header values ("" when absent).
func ParsePage(size, cursor string) (Page, error) {
	pg := Page{Size: DefaultPageSize, Cursor: cursor}
	if size != "" {
		n, err := strconv.Atoi(size)
		if errors.Is(err, strconv.ErrRange) && size[0] != '-' {
			// okms-rest.md 7: any positive integer is clamped, even one
			// too large for an int.
			n, err = MaxPageSize, nil
		}
		if err != nil || n < 1 {
			return pg, ErrPageSizeInvalid
		}
		pg.Size = min(max(n, MinPageSize), MaxPageSize)
	}
	return pg, nil
}

// SetNext sets X-Pagination-Cursor-Next in h to next, the cursor the
// service returned for the following page. An empty next means this page
// is the last: the header is then not set (okms-rest.md 7).
func SetNext(h http.Header, next string) {
	if next != "" {
		h.Set(HeaderCursorNext, next)
	}
}
