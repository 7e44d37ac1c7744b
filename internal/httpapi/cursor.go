package httpapi

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
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

// Listing kinds a cursor may belong to. Surfaces A and B list the same
// objects, so a cursor of one is valid on the other.
const (
	ListSecrets  = "secrets"
	ListVersions = "versions"
)

// Errors of pagination. Surfaces map them in their error tables.
var (
	// ErrCursorInvalid: the cursor does not decode or belongs to another
	// listing.
	ErrCursorInvalid = errors.New("the pagination cursor is invalid")
	// ErrPageSizeInvalid: the page size is not a positive integer.
	ErrPageSizeInvalid = errors.New("X-Pagination-Size must be a positive integer")
)

// Listing names one paginated list: a kind of listing in a domain, and
// for version lists the secret path they belong to. Its cursors cannot be
// replayed on another listing.
type Listing struct {
	Domain string
	Kind   string // ListSecrets or ListVersions
	Of     string // the secret path, for version lists
}

// cursorRecord is coffer's position record, sent base64url-encoded (no
// padding) in X-Pagination-Cursor(-Next).
type cursorRecord struct {
	Domain string `json:"d"`
	Kind   string `json:"k"`
	Of     string `json:"o,omitempty"`
	After  string `json:"a"`
}

// Page is the part of a listing a request asks for.
type Page struct {
	Size  int    // MinPageSize..MaxPageSize
	After string // the position after which the page starts; "" from the start
}

// ReadPage parses the X-Pagination-Size and X-Pagination-Cursor headers of
// a request on l. It returns ErrPageSizeInvalid or ErrCursorInvalid.
func (l Listing) ReadPage(h http.Header) (Page, error) {
	return l.ParsePage(h.Get(HeaderPageSize), h.Get(HeaderCursor))
}

// ParsePage is ReadPage on the header values ("" when absent).
func (l Listing) ParsePage(size, cursor string) (Page, error) {
	pg := Page{Size: DefaultPageSize}
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
	if cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil {
			return pg, ErrCursorInvalid
		}
		var c cursorRecord
		if err := json.Unmarshal(b, &c); err != nil || c.Domain != l.Domain || c.Kind != l.Kind || c.Of != l.Of || c.After == "" {
			return pg, ErrCursorInvalid
		}
		pg.After = c.After
	}
	return pg, nil
}

// SetNext sets X-Pagination-Cursor-Next in h to the cursor of the page of
// l that follows position after. An empty after means this page is the
// last: the header is then not set (okms-rest.md 7).
func (l Listing) SetNext(h http.Header, after string) {
	if c := l.Cursor(after); c != "" {
		h.Set(HeaderCursorNext, c)
	}
}

// Cursor returns the cursor of the page of l that follows position after,
// "" when after is "".
func (l Listing) Cursor(after string) string {
	if after == "" {
		return ""
	}
	b, _ := json.Marshal(cursorRecord{Domain: l.Domain, Kind: l.Kind, Of: l.Of, After: after})
	return base64.RawURLEncoding.EncodeToString(b)
}
