package rest_test

import (
	"encoding/base64"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"

	"github.com/seed-3e8d63de/coffer/api"
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

// manyVersions creates secret p with n versions (maxVersions 100).
func manyVersions(n int) func(*env) {
	return func(e *env) {
		e.CreateSecret("p", `{"n":1}`, `"metadata":{"maxVersions":100}`)
		e.writeN("p", n-1)
	}
}

// page checks the size of a page and whether a next cursor came with it.
func page(items int, more bool) func(*testing.T, *env, *response) {
	return func(t *testing.T, e *env, r *response) {
		t.Helper()
		want(t, "items", len(wiretest.DecodeBody[[]any](t, r)), items)
		want(t, "X-Pagination-Cursor-Next present", r.Header.Get(api.HeaderCursorNext) != "", more)
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
		next := r.Header.Get(api.HeaderCursorNext)
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
		r = e.Send(request{Method: "GET", Target: target, Header: map[string]string{api.HeaderPageSize: size, api.HeaderCursor: next}})
		r.Expect(t, 200, "")
	}
}

func iterateSecrets(size string, sizes ...int) func(*testing.T, *env, *response) {
	return func(t *testing.T, e *env, r *response) {
		t.Helper()
		var got []string
		for _, s := range iterate[api.GetSecretResponse](t, e, "/secret", size, r, sizes) {
			got = append(got, s.Path)
		}
		n := 0
		for _, s := range sizes {
			n += s
		}
		wantNames := pageNames(n)
		sort.Strings(wantNames) // byte-wise
		if !slices.Equal(got, wantNames) {
			t.Errorf("iteration returned %d paths, want every one of the %d exactly once in byte-wise order\ngot  %q\nwant %q",
				len(got), len(wantNames), got, wantNames)
		}
	}
}

func iterateVersions(size string, sizes ...int) func(*testing.T, *env, *response) {
	return func(t *testing.T, e *env, r *response) {
		t.Helper()
		var got []uint32
		for _, v := range iterate[api.SecretVersion](t, e, "/secret/p/version", size, r, sizes) {
			got = append(got, v.ID)
		}
		n := 0
		for _, s := range sizes {
			n += s
		}
		wantIDs(t, "ids", got, seq(n))
	}
}

// cursorOf returns the next cursor of the first page of a listing.
func cursorOf(e *env, target string) string {
	e.t.Helper()
	r := e.Send(request{Method: "GET", Target: target, Header: map[string]string{api.HeaderPageSize: "10"}})
	c := r.Header.Get(api.HeaderCursorNext)
	if r.Status != 200 || c == "" {
		e.t.Fatalf("GET %s: %d, cursor %q; want a first page with a cursor", target, r.Status, c)
	}
	return c
}

// paginationCases returns the pagination table of a listing, read on a
// shared server where the listing has more than 100 items and each of the
// listings named in others has a second page of 10.
func paginationCases(target string, others []string, pinErrors bool) []apiCase {
	size := func(s string) map[string]string { return map[string]string{api.HeaderPageSize: s} }
	g := func(name string) string {
		if pinErrors {
			return name
		}
		return ""
	}
	cases := []apiCase{
		{Name: "200/no size: 100 items and a cursor", Target: target, Status: 200, Check: page(100, true)},
		{Name: "200/size 1 is clamped to 10", Target: target, Header: size("1"), Status: 200, Check: page(10, true)},
		{Name: "200/size 9 is clamped to 10", Target: target, Header: size("9"), Status: 200, Check: page(10, true)},
		{Name: "200/size 10", Target: target, Header: size("10"), Status: 200, Check: page(10, true)},
		{Name: "200/size 55", Target: target, Header: size("55"), Status: 200, Check: page(55, true)},
		{Name: "200/size 100", Target: target, Header: size("100"), Status: 200, Check: page(100, true)},
		{Name: "200/size 101 is clamped to 100", Target: target, Header: size("101"), Status: 200, Check: page(100, true)},
		{Name: "200/size 500 is clamped to 100", Target: target, Header: size("500"), Status: 200, Check: page(100, true)},
		{Name: "200/size beyond 64 bits is clamped to 100", Target: target, Header: size("99999999999999999999999"),
			Status: 200, Check: page(100, true)},
		{Name: "400/size abc", Target: target, Header: size("abc"), Status: 400, Err: "PaginationSizeInvalid",
			Golden: g("error_PaginationSizeInvalid")},
		{Name: "400/size 0", Target: target, Header: size("0"), Status: 400, Err: "PaginationSizeInvalid"},
		{Name: "400/size -10", Target: target, Header: size("-10"), Status: 400, Err: "PaginationSizeInvalid"},
		{Name: "400/size below -2^63", Target: target, Header: size("-99999999999999999999999"), Status: 400,
			Err: "PaginationSizeInvalid"},
		{Name: "400/size 1.5", Target: target, Header: size("1.5"), Status: 400, Err: "PaginationSizeInvalid"},
		{Name: "400/garbage cursor", Target: target, Header: map[string]string{api.HeaderCursor: "garbage!"},
			Status: 400, Err: "PaginationCursorInvalid", Golden: g("error_PaginationCursorInvalid")},
		{Name: "400/base64url cursor that is not a position", Target: target, Status: 400, Err: "PaginationCursorInvalid",
			Header: map[string]string{api.HeaderCursor: base64.RawURLEncoding.EncodeToString([]byte("prod/db"))}},
		{Name: "400/empty position", Target: target, Status: 400, Err: "PaginationCursorInvalid",
			Header: map[string]string{api.HeaderCursor: base64.RawURLEncoding.EncodeToString([]byte("{}"))}},
	}
	for _, other := range others {
		// A cursor of another listing: the right format, the wrong list.
		cases = append(cases, apiCase{Name: "400/cursor of " + other, Target: target, Status: 400,
			Err: "PaginationCursorInvalid", HeaderFn: func(e *env) map[string]string {
				return map[string]string{api.HeaderCursor: cursorOf(e, other)}
			}})
	}
	return cases
}

func TestListSecrets_Pagination(t *testing.T) {
	t.Parallel()
	size := func(s string) map[string]string { return map[string]string{api.HeaderPageSize: s} }
	// Shared: the 250 secrets of pageNames, one of them with 16 versions.
	withVersions := pageNames(250)[0]
	shared := func(e *env) {
		manySecrets(250)(e)
		e.Must("PUT", "/secret/"+esc(withVersions), `{"metadata":{"maxVersions":100}}`)
		e.writeN(withVersions, 15)
	}
	cases := paginationCases("/secret", []string{"/secret/" + esc(withVersions) + "/version"}, true)
	cases = append(cases,
		apiCase{Name: "200/250 secrets by 100: every path once, byte-wise", Target: "/secret", Header: size("100"),
			Status: 200, Check: iterateSecrets("100", 100, 100, 50)},
		apiCase{Name: "200/250 secrets by 10", Target: "/secret", Header: size("10"), Status: 200,
			Check: iterateSecrets("10", slices.Repeat([]int{10}, 25)...)},
		apiCase{Name: "200/200 secrets by 100: no cursor on a full last page", Setup: manySecrets(200), Target: "/secret",
			Header: size("100"), Status: 200, Check: iterateSecrets("100", 100, 100)},
		apiCase{Name: "200/fewer secrets than a page: no cursor", Setup: manySecrets(7), Target: "/secret", Status: 200,
			Check: iterateSecrets("100", 7)},
		apiCase{Name: "200/a secret deleted between pages is skipped", Setup: manySecrets(30), Target: "/secret",
			Header: size("10"), Status: 200, Check: func(t *testing.T, e *env, r *response) {
				names := pageNames(30)
				sort.Strings(names)
				e.Must("DELETE", "/secret/"+esc(names[15]), "")
				r = e.Send(request{Method: "GET", Target: "/secret",
					Header: map[string]string{api.HeaderPageSize: "10", api.HeaderCursor: r.Header.Get(api.HeaderCursorNext)}})
				r.Expect(t, 200, "")
				items := wiretest.DecodeBody[[]api.GetSecretResponse](t, r)
				want(t, "first path of page 2", items[0].Path, names[10])
				want(t, "last path of page 2", items[9].Path, names[20])
			}},
	)
	runShared(t, shared, cases)
}

func TestListVersions_Pagination(t *testing.T) {
	t.Parallel()
	size := func(s string) map[string]string { return map[string]string{api.HeaderPageSize: s} }
	const target = "/secret/p/version"
	// Shared: p has 120 versions, q 15, and there are 17 secrets: each
	// listing has a second page of 10.
	shared := func(e *env) {
		e.CreateSecret("p", `{"n":1}`, `"metadata":{"maxVersions":200}`)
		e.writeN("p", 119)
		e.CreateSecret("q", `{}`, `"metadata":{"maxVersions":100}`)
		e.writeN("q", 14)
		manySecrets(15)(e)
	}
	cases := paginationCases(target, []string{"/secret", "/secret/q/version"}, false)
	cases = append(cases,
		apiCase{Name: "200/120 versions by 100", Target: target, Header: size("100"), Status: 200,
			Check: iterateVersions("100", 100, 20)},
		apiCase{Name: "200/120 versions by 10: no cursor on a full last page", Target: target, Header: size("10"), Status: 200,
			Check: iterateVersions("10", slices.Repeat([]int{10}, 12)...)},
		apiCase{Name: "200/25 versions by 10", Setup: manyVersions(25), Target: target, Header: size("10"), Status: 200,
			Check: iterateVersions("10", 10, 10, 5)},
		apiCase{Name: "200/fewer versions than a page: no cursor", Setup: manyVersions(7), Target: target, Status: 200,
			Check: iterateVersions("100", 7)},
		apiCase{Name: "200/pruned versions are not counted", Target: target, Header: size("10"), Status: 200,
			Setup: func(e *env) {
				e.CreateSecret("p", `{}`, `"metadata":{"maxVersions":15}`)
				e.writeN("p", 19)
			}, Check: func(t *testing.T, e *env, r *response) {
				var got []uint32
				for _, v := range iterate[api.SecretVersion](t, e, target, "10", r, []int{10, 5}) {
					got = append(got, v.ID)
				}
				wantIDs(t, "ids", got, seq(20)[5:])
			}},
		apiCase{Name: "404/unknown secret with a page size", Target: "/secret/nope/version", Header: size("10"), Status: 404,
			Err: "SecretNotFound"},
	)
	runShared(t, shared, cases)
}
