package httpapi

import (
	"fmt"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/seed-3e8d63de/coffer/internal/secret"
)

// FuzzSplitSecretRoute splits escaped URL tails of surfaces A and B
// (okms-rest.md 1.2). It never panics and returns secret.Violations or a
// valid route; a route re-escaped splits back to itself.
func FuzzSplitSecretRoute(f *testing.F) {
	for _, s := range []string{
		"a", "prod%2Fdb", "prod/db", "prod/db/version", "prod/db/version/3", "prod%2Fdb/version/24000",
		"prod/db/version/24001", "prod/db/version/0", "prod/db/version/99999999999999999999999",
		"version", "/version", "a/version/", "a/version/x", "a/version/1/version/2", "%", "%zz", "%2e%2e",
		"..%2Fb", "a%00b", "a%252Fb", "%C3%A9", "%ff", "a//b", "", "a/b/c/version/007",
		strings.Repeat("a", 255), strings.Repeat("a", 256), strings.Repeat("%2F", 90),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, r string) {
		rt, err := SplitSecretRoute(r)
		if err != nil {
			if _, ok := secret.AsViolations(err); !ok {
				t.Fatalf("SplitSecretRoute(%q) error %v is not Violations", r, err)
			}
			return
		}
		p, perr := secret.ParsePath(rt.Path.String())
		if perr != nil || p != rt.Path {
			t.Fatalf("SplitSecretRoute(%q) path %q does not parse back: %v", r, rt.Path, perr)
		}
		again := url.PathEscape(rt.Path.String())
		switch rt.Kind {
		case RouteSecret:
			if rt.Version != 0 {
				t.Fatalf("SplitSecretRoute(%q) = secret route with version %d", r, rt.Version)
			}
		case RouteVersions:
			again += "/version"
		case RouteVersion:
			if rt.Version < 1 || rt.Version > secret.MaxVersionID {
				t.Fatalf("SplitSecretRoute(%q) version %d out of range", r, rt.Version)
			}
			again += fmt.Sprintf("/version/%d", rt.Version)
		default:
			t.Fatalf("SplitSecretRoute(%q) kind %d", r, rt.Kind)
		}
		back, err := SplitSecretRoute(again)
		if err != nil || back != rt {
			t.Fatalf("SplitSecretRoute(%q) = %+v; re-escaped as %q it gives %+v, %v", r, rt, again, back, err)
		}
	})
}

// FuzzParsePage parses pagination headers. It never panics; sizes are
// clamped to 10..100; only a cursor of the same listing is accepted, and
// every cursor coffer issues parses back to its position.
func FuzzParsePage(f *testing.F) {
	l := Listing{Domain: "0b9f2a6e-3c1d-4a53-9a7e-1f2b3c4d5e6f", Kind: ListVersions, Of: "prod/db"}
	for _, s := range []struct{ size, cursor string }{
		{"", ""}, {"1", ""}, {"10", ""}, {"100", ""}, {"101", ""}, {"0", ""}, {"-1", ""}, {"+5", ""},
		{"99999999999999999999999", ""}, {"-99999999999999999999999", ""}, {"1e3", ""}, {" 5", ""},
		{"", l.Cursor("12")}, {"", Listing{Domain: l.Domain, Kind: ListSecrets}.Cursor("a/b")},
		{"", "!!"}, {"", "eyJ9"}, {"", "bnVsbA"}, {"", "e30"}, {"", "eyJkIjoxfQ"},
	} {
		f.Add(s.size, s.cursor, "after/position")
	}
	f.Fuzz(func(t *testing.T, size, cursor, after string) {
		pg, err := l.ParsePage(size, cursor)
		if err != nil {
			if err != ErrPageSizeInvalid && err != ErrCursorInvalid {
				t.Fatalf("ParsePage(%q, %q) error %v", size, cursor, err)
			}
		} else {
			if pg.Size < MinPageSize || pg.Size > MaxPageSize {
				t.Fatalf("ParsePage(%q, %q) size %d", size, cursor, pg.Size)
			}
			if cursor != "" && pg.After == "" {
				t.Fatalf("ParsePage(%q, %q) accepted a cursor without a position", size, cursor)
			}
		}
		if after == "" || !utf8.ValidString(after) {
			return // positions are secret paths and version ids: valid UTF-8
		}
		c := l.Cursor(after)
		pg, err = l.ParsePage("", c)
		if err != nil || pg.After != after {
			t.Fatalf("the cursor of %q parses to %q, %v", after, pg.After, err)
		}
		for _, other := range []Listing{{Domain: l.Domain, Kind: ListSecrets}, {Domain: l.Domain, Kind: ListVersions, Of: "prod/db2"},
			{Domain: "1b9f2a6e-3c1d-4a53-9a7e-1f2b3c4d5e6f", Kind: ListVersions, Of: "prod/db"}} {
			if _, err := other.ParsePage("", c); err != ErrCursorInvalid {
				t.Fatalf("a cursor of %+v was accepted by %+v: %v", l, other, err)
			}
		}
	})
}
