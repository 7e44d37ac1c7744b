package rest

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/seed-3e8d63de/coffer/api"
)

// Page sizes (okms-rest.md 7): any positive integer, clamped to 10..100.
const (
	minPageSize     = 10
	maxPageSize     = 100
	defaultPageSize = 100
)

// Listing kinds a cursor may belong to.
const (
	cursorSecrets  = "secrets"
	cursorVersions = "versions"
)

// cursor is coffer's position record, sent base64url-encoded (no padding)
// in X-Pagination-Cursor(-Next). It names the domain and the listing so
// that a cursor cannot be replayed on another list.
type cursor struct {
	Domain string `json:"d"`
	Kind   string `json:"k"`
	Of     string `json:"o,omitempty"` // the secret path, for version lists
	After  string `json:"a"`
}

type paging struct {
	size  int
	after string
}

// readPaging parses X-Pagination-Size and X-Pagination-Cursor for a
// listing of kind in domain (of: the secret path for version lists).
func readPaging(r *http.Request, domain, kind, of string) (paging, error) {
	pg := paging{size: defaultPageSize}
	if s := r.Header.Get(api.HeaderPageSize); s != "" {
		n, err := strconv.Atoi(s)
		if errors.Is(err, strconv.ErrRange) && s[0] != '-' {
			// okms-rest.md 7: any positive integer is clamped, even one
			// too large for an int.
			n, err = maxPageSize, nil
		}
		if err != nil || n < 1 {
			return pg, errPageSizeInvalid
		}
		pg.size = min(max(n, minPageSize), maxPageSize)
	}
	if s := r.Header.Get(api.HeaderCursor); s != "" {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			return pg, errCursorInvalid
		}
		var c cursor
		if err := json.Unmarshal(b, &c); err != nil || c.Domain != domain || c.Kind != kind || c.Of != of || c.After == "" {
			return pg, errCursorInvalid
		}
		pg.after = c.After
	}
	return pg, nil
}

// writeNext sets X-Pagination-Cursor-Next when more items follow (next is
// the last position of this page); it is absent on the last page.
func writeNext(w http.ResponseWriter, domain, kind, of, next string) {
	if next == "" {
		return
	}
	b, _ := json.Marshal(cursor{Domain: domain, Kind: kind, Of: of, After: next})
	w.Header().Set(api.HeaderCursorNext, base64.RawURLEncoding.EncodeToString(b))
}
