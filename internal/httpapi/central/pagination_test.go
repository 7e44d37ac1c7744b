package central_test

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"
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
		want(t, "items", len(decode[[]any](t, r)), items)
		want(t, "X-Pagination-Cursor-Next present", r.Header.Get(hCursorNext) != "", more)
	}
}

// iterate follows the cursor from the first page r, requesting size
// items per page, checks the page sizes and returns every item.
func iterate[T any](t *testing.T, e *env, target, size string, r *response, sizes []int) []T {
	t.Helper()
	var all []T
	for i := 0; ; i++ {
		items := decode[[]T](t, r)
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
		{name: "200/no size: 100 items and a cursor", target: target, status: 200, check: page(100, true)},
		{name: "200/size 10", target: target, header: size("10"), status: 200, check: page(10, true)},
		{name: "200/size 1 is clamped to 10", target: target, header: size("1"), status: 200, check: page(10, true)},
		{name: "200/size 1000 is clamped to 100", target: target, header: size("1000"), status: 200, check: page(100, true)},
		{name: "200/size beyond 64 bits is clamped to 100", target: target, header: size("99999999999999999999999"),
			status: 200, check: page(100, true)},
		{name: "400/size 0", target: target, header: size("0"), status: 400, class: sizeInvalid, golden: pin(target, "error_PaginationSizeInvalid")},
		{name: "400/negative size", target: target, header: size("-10"), status: 400, class: sizeInvalid},
		{name: "400/size that is not a number", target: target, header: size("ten"), status: 400, class: sizeInvalid},
		{name: "400/garbage cursor", target: target, header: map[string]string{hCursor: "garbage!"}, status: 400,
			class: cursorInvalid, golden: pin(target, "error_PaginationCursorInvalid")},
		{name: "400/base64url cursor that is not a position", target: target, status: 400, class: cursorInvalid,
			header: map[string]string{hCursor: base64.RawURLEncoding.EncodeToString([]byte("prod/db"))}},
		{name: "400/empty position", target: target, status: 400, class: cursorInvalid,
			header: map[string]string{hCursor: base64.RawURLEncoding.EncodeToString([]byte("{}"))}},
	}
	for _, other := range others {
		cases = append(cases, apiCase{name: "400/cursor of " + other, target: target, status: 400, class: cursorInvalid,
			headerFn: func(e *env) map[string]string { return map[string]string{hCursor: cursorOf(e, other)} }})
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
		cases[i].setup = paginationSetup
	}
	cases = append(cases,
		apiCase{name: "200/every secret once, by pages of 25, in byte-wise order", setup: paginationSetup, target: "/secret",
			header: size("25"), status: 200,
			check: func(t *testing.T, e *env, r *response) {
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
		apiCase{name: "200/a page with a cursor", setup: manySecrets(15), target: "/secret", header: size("10"), status: 200,
			golden: "secret_list_page", check: page(10, true)},
		apiCase{name: "200/a surface-B cursor continues the same listing", setup: manySecrets(15), target: "/secret", status: 200,
			headerFn: func(e *env) map[string]string {
				return map[string]string{hCursor: cursorOf(e, "/api/{okmsId}/v2/secret")}
			},
			check: page(5, false)},
		apiCase{name: "200/200 secrets by 100: no cursor on a full last page", setup: manySecrets(200), target: "/secret",
			status: 200, check: func(t *testing.T, e *env, r *response) {
				iterate[secretOut](t, e, "/secret", "100", r, []int{100, 100})
			}},
		apiCase{name: "200/fewer secrets than a page: no cursor", setup: manySecrets(7), target: "/secret", status: 200,
			check: page(7, false)},
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
		cases[i].setup = setup
	}
	cases = append(cases,
		apiCase{name: "200/every retained version once, by pages of 30", setup: setup, target: target, header: size("30"), status: 200,
			check: func(t *testing.T, e *env, r *response) {
				items := iterate[versionOut](t, e, target, "30", r, []int{30, 30, 30, 30})
				for i, v := range items {
					want(t, "id", v.ID, uint32(1+i))
				}
			}},
		apiCase{name: "200/a page with a cursor", setup: manyVersions(15), target: target, header: size("10"), status: 200,
			golden: "version_list_page", check: page(10, true)},
		apiCase{name: "200/fewer versions than a page: no cursor", setup: manyVersions(7), target: target, status: 200,
			check: page(7, false)},
	)
	runCases(t, "GET", target, cases)
}
