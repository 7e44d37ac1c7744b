package httpapi

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

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
// clamped to 10..100; the cursor is carried as it came, for the service to
// open (service.FuzzPosition checks that).
func FuzzParsePage(f *testing.F) {
	for _, s := range []struct{ size, cursor string }{
		{"", ""}, {"1", ""}, {"10", ""}, {"100", ""}, {"101", ""}, {"0", ""}, {"-1", ""}, {"+5", ""},
		{"99999999999999999999999", ""}, {"-99999999999999999999999", ""}, {"1e3", ""}, {" 5", ""},
		{"", "!!"}, {"", "eyJ9"}, {"", "bnVsbA"}, {"", "e30"}, {"", "eyJkIjoxfQ"},
	} {
		f.Add(s.size, s.cursor)
	}
	f.Fuzz(func(t *testing.T, size, cursor string) {
		pg, err := ParsePage(size, cursor)
		if err != nil {
			if err != ErrPageSizeInvalid {
				t.Fatalf("ParsePage(%q, %q) error %v", size, cursor, err)
			}
			return
		}
		if pg.Size < MinPageSize || pg.Size > MaxPageSize {
			t.Fatalf("ParsePage(%q, %q) size %d", size, cursor, pg.Size)
		}
		if pg.Cursor != cursor {
			t.Fatalf("ParsePage(%q, %q) cursor %q", size, cursor, pg.Cursor)
		}
	})
}
