package central_test

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/wiretest"
)

// pageNames returns n secret paths whose byte-wise order differs from
// their natural order and from the order they are created in.
func pageNames(n int) []string {
	prefixes := []string{"app", "App", "app-x", "app.x", "app/x", "_z", "0", "z:y", "z=y", "z@y"}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s/%d", prefixes[i%len(prefixes)], i)
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
	return names
}

// manySecrets creates n secrets named by pageNames.
func manySecrets(n int) func(*env) {
	return func(e *env) {
		for _, p := range pageNames(n) {
			e.CreateSecret(p, `{}`)
		}
	}
}

// manyVersions creates secret p with n versions, all retained.
func manyVersions(n int) func(*env) {
	return func(e *env) {
		e.CreateSecret("p", `{"n":0}`, `"metadata":{"maxVersions":1000}`)
		for i := 1; i < n; i++ {
			e.Must("POST", "/secret/p/version", fmt.Sprintf(`{"data":{"n":%d}}`, i))
		}
	}
}

// page checks the size of a page and whether a next cursor came with it.
func page(items int, more bool) func(*testing.T, *env, *response) {
	return func(t *testing.T, _ *env, r *response) {
		t.Helper()
		want(t, "items", len(wiretest.DecodeBody[[]any](t, r)), items)
		want(t, "X-Pagination-Cursor-Next present", r.Header.Get(hCursorNext) != "", more)
	}
}

// iterate follows the cursor from the first page r, requesting size
// items per page, checks the page sizes and returns every item.
func iterate[T any](t *testing.T, e *env, target, size string, r *response, sizes []int) []T {
	t.Helper()
	var all []T
	for i := 0; ; i++ {
		items := wiretest.DecodeBody[[]T](t, r)
		all = append(all, items...)
		next := r.Header.Get(hCursorNext)
		if i < len(sizes) && len(items) != sizes[i] {
			t.Errorf("page %d has %d items, want %d", i+1, len(items), sizes[i])
		}
		if next == "" {
			if i+1 != len(sizes) {
				t.Errorf("the cursor ended after %d pages, want %d", i+1, len(sizes))
			}
			return all
		}
		if i+1 >= len(sizes) {
			t.Fatalf("page %d (the last) carries X-Pagination-Cursor-Next %q", i+1, next)
		}
		r = e.Send(request{Method: "GET", Target: target, Header: map[string]string{hPageSize: size, hCursor: next}})
		r.Expect(t, 200, "")
	}
}

// cursorOf returns the next cursor of the first page of a listing, with
// pages of 10.
func cursorOf(e *env, target string) string {
	e.t.Helper()
	r := e.Send(request{Method: "GET", Target: target, Header: map[string]string{hPageSize: "10"}})
	c := r.Header.Get(hCursorNext)
	if r.Status != 200 || c == "" {
		e.t.Fatalf("GET %s: %d, cursor %q; want a first page with a cursor", target, r.Status, c)
	}
	return c
}

func size(n string) map[string]string { return map[string]string{hPageSize: n} }

// pagingCases are the cases every listing shares (okms-rest.md 7). setup
// must give the listing at least 120 items and the secrets p and q at
// least 11 versions each; others are listings of other kinds.
func pagingCases(target string, others []string) []apiCase {
	const (
		sizeInvalid   = "Client::BadRequest::PaginationSizeInvalid"
		cursorInvalid = "Client::BadRequest::PaginationCursorInvalid"
	)
	cases := []apiCase{
		{Name: "200/no size: 100 items and a cursor", Target: target, Status: 200, Check: page(100, true)},
		{Name: "200/size 10", Target: target, Header: size("10"), Status: 200, Check: page(10, true)},
		{Name: "200/size 1 is clamped to 10", Target: target, Header: size("1"), Status: 200, Check: page(10, true)},
		{Name: "200/size 1000 is clamped to 100", Target: target, Header: size("1000"), Status: 200, Check: page(100, true)},
		{Name: "200/size beyond 64 bits is clamped to 100", Target: target, Header: size("99999999999999999999999"),
			Status: 200, Check: page(100, true)},
		{Name: "400/size 0", Target: target, Header: size("0"), Status: 400, Err: sizeInvalid, Golden: pin(target, "error_PaginationSizeInvalid")},
		{Name: "400/negative size", Target: target, Header: size("-10"), Status: 400, Err: sizeInvalid},
		{Name: "400/size that is not a number", Target: target, Header: size("ten"), Status: 400, Err: sizeInvalid},
		{Name: "400/garbage cursor", Target: target, Header: map[string]string{hCursor: "garbage!"}, Status: 400,
			Err: cursorInvalid, Golden: pin(target, "error_PaginationCursorInvalid")},
		{Name: "400/base64url cursor that is not a position", Target: target, Status: 400, Err: cursorInvalid,
			Header: map[string]string{hCursor: base64.RawURLEncoding.EncodeToString([]byte("prod/db"))}},
		{Name: "400/empty position", Target: target, Status: 400, Err: cursorInvalid,
			Header: map[string]string{hCursor: base64.RawURLEncoding.EncodeToString([]byte("{}"))}},
	}
	for _, other := range others {
		cases = append(cases, apiCase{Name: "400/cursor of " + other, Target: target, Status: 400, Err: cursorInvalid,
			HeaderFn: func(e *env) map[string]string { return map[string]string{hCursor: cursorOf(e, other)} }})
	}
	return cases
}

// pin names a golden file for the secret listing only, so that each
// envelope is written once.
func pin(target, name string) string {
	if target == "/secret" {
		return name
	}
	return ""
}

// paginationSetup gives 120 secrets, two of which (p and q) have 20
// versions.
func paginationSetup(e *env) {
	manySecrets(118)(e)
	manyVersions(20)(e)
	e.CreateSecret("q", `{}`, `"metadata":{"maxVersions":100}`)
	for range 19 {
		e.Must("POST", "/secret/q/version", `{"data":{}}`)
	}
}

func TestListSecrets_Pagination(t *testing.T) {
	t.Parallel()
	cases := pagingCases("/secret", []string{"/secret/p/version"})
	for i := range cases {
		cases[i].Setup = paginationSetup
	}
	cases = append(cases,
		apiCase{Name: "200/every secret once, by pages of 25, in byte-wise order", Setup: paginationSetup, Target: "/secret",
			Header: size("25"), Status: 200,
			Check: func(t *testing.T, e *env, r *response) {
				items := iterate[secretOut](t, e, "/secret", "25", r, []int{25, 25, 25, 25, 20})
				var paths []string
				for _, s := range items {
					paths = append(paths, s.Path)
					want(t, s.Path+" iam.displayName", s.IAM.DisplayName, s.Path)
				}
				wantPaths := append(pageNames(118), "p", "q")
				sort.Strings(wantPaths)
				if !slices.Equal(paths, wantPaths) {
					t.Errorf("paths = %v\nwant %v", paths, wantPaths)
				}
			}},
		apiCase{Name: "200/a page with a cursor", Setup: manySecrets(15), Target: "/secret", Header: size("10"), Status: 200,
			Golden: "secret_list_page", Check: page(10, true)},
		apiCase{Name: "200/a surface-B cursor continues the same listing", Setup: manySecrets(15), Target: "/secret", Status: 200,
			HeaderFn: func(e *env) map[string]string {
				return map[string]string{hCursor: cursorOf(e, "/api/{okmsId}/v2/secret")}
			},
			Check: page(5, false)},
		apiCase{Name: "200/200 secrets by 100: no cursor on a full last page", Setup: manySecrets(200), Target: "/secret",
			Status: 200, Check: func(t *testing.T, e *env, r *response) {
				iterate[secretOut](t, e, "/secret", "100", r, []int{100, 100})
			}},
		apiCase{Name: "200/fewer secrets than a page: no cursor", Setup: manySecrets(7), Target: "/secret", Status: 200,
			Check: page(7, false)},
	)
	runCases(t, "GET", "/secret", cases)
}

func TestListVersions_Pagination(t *testing.T) {
	t.Parallel()
	const target = "/secret/p/version"
	setup := func(e *env) {
		manyVersions(120)(e)
		e.CreateSecret("q", `{}`, `"metadata":{"maxVersions":100}`)
		for range 19 {
			e.Must("POST", "/secret/q/version", `{"data":{}}`)
		}
		for i := range 10 {
			e.CreateSecret("s"+strconv.Itoa(i), `{}`)
		}
	}
	cases := pagingCases(target, []string{"/secret", "/secret/q/version"})
	for i := range cases {
		cases[i].Setup = setup
	}
	cases = append(cases,
		apiCase{Name: "200/every retained version once, by pages of 30", Setup: setup, Target: target, Header: size("30"), Status: 200,
			Check: func(t *testing.T, e *env, r *response) {
				items := iterate[versionOut](t, e, target, "30", r, []int{30, 30, 30, 30})
				for i, v := range items {
					want(t, "id", v.ID, uint32(1+i))
				}
			}},
		apiCase{Name: "200/a page with a cursor", Setup: manyVersions(15), Target: target, Header: size("10"), Status: 200,
			Golden: "version_list_page", Check: page(10, true)},
		apiCase{Name: "200/fewer versions than a page: no cursor", Setup: manyVersions(7), Target: target, Status: 200,
			Check: page(7, false)},
	)
	runCases(t, "GET", target, cases)
}
