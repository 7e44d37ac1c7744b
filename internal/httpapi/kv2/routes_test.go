package kv2_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestOperationMatrix checks every cell of vault-kv2.md 4.10: what each
// path family answers to each operation, 405 where Vault's route has no
// such operation, and the catch-all 404 where the list operation's
// trailing slash leaves the route.
func TestOperationMatrix(t *testing.T) {
	t.Parallel()
	type cell struct {
		method string
		query  string
		body   string
		header []string
	}
	ops := map[string]cell{
		"read":   {method: "GET"},
		"list":   {method: "LIST"},
		"write":  {method: "PUT", body: `{"versions":[1],"data":{"n":1},"max_versions":3}`},
		"patch":  {method: "PATCH", body: `{"data":{"n":2},"max_versions":4}`, header: patchType},
		"delete": {method: "DELETE"},
	}
	const catchAll = 4040 // a raw 404 with the catch-all warning
	matrix := []struct {
		path string
		want map[string]int
	}{
		{"config", map[string]int{"read": 200, "list": catchAll, "write": 204, "patch": 405, "delete": 405}},
		{"data/%s", map[string]int{"read": 200, "list": catchAll, "write": 200, "patch": 200, "delete": 204}},
		{"metadata/%s", map[string]int{"read": 200, "list": 404, "write": 204, "patch": 204, "delete": 204}},
		{"delete/%s", map[string]int{"read": 405, "list": 405, "write": 204, "patch": 405, "delete": 405}},
		{"undelete/%s", map[string]int{"read": 405, "list": 405, "write": 204, "patch": 405, "delete": 405}},
		{"destroy/%s", map[string]int{"read": 405, "list": 405, "write": 204, "patch": 405, "delete": 405}},
		{"subkeys/%s", map[string]int{"read": 200, "list": 405, "write": 405, "patch": 405, "delete": 405}},
	}
	h := newHarness(t)
	for _, row := range matrix {
		for op, want := range row.want {
			name := strings.SplitN(row.path, "/", 2)[0] + "/" + op
			t.Run(name, func(t *testing.T) {
				key := "matrix/" + strings.ReplaceAll(name, "/", "-")
				expect(t, "setup", h.do("PUT", "/v1/secret/data/"+key, `{"data":{"n":0}}`), 200)
				path := "/v1/secret/" + row.path
				if strings.Contains(path, "%s") {
					path = fmt.Sprintf(path, key)
				}
				c := ops[op]
				r := h.do(c.method, path+c.query, c.body, c.header...)
				status := want
				if want == catchAll {
					status = 404
				}
				expect(t, name, r, status)
				switch {
				case want == catchAll:
					if w := get(r.json(t), "warnings"); w == nil {
						t.Fatalf("catch-all without a warning: %s", r.body)
					}
				case want == 405:
					if e := r.errors(t); len(e) != 1 || !strings.Contains(e[0], "unsupported operation") {
						t.Fatalf("405 errors %q", e)
					}
				}
			})
		}
	}
}

// TestListForms checks that a list works as the LIST method and as GET
// ?list=true, with and without a trailing slash, through both roots, and
// that GET metadata without a path lists the mount root (vault-kv2.md 2.1,
// 4.7, 8.10).
func TestListForms(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	for _, p := range []string{"team/a", "team/b/c", "team/b", "team/b/d/e", "top"} {
		expect(t, "setup", h.do("PUT", "/v1/secret/data/"+p, `{"data":{}}`), 200)
	}
	expect(t, "metadata-only secret", h.do("PUT", "/v1/secret/metadata/team/meta-only", `{"max_versions":1}`), 204)
	expect(t, "deleted secret", h.do("PUT", "/v1/secret/data/team/gone", `{"data":{}}`), 200)
	expect(t, "deleted secret", h.do("DELETE", "/v1/secret/data/team/gone", ""), 204)
	team := []any{"a", "b", "b/", "gone", "meta-only"}
	root := []any{"team/", "top"}
	tests := []struct {
		method, path string
		want         []any
	}{
		{"LIST", "/v1/secret/metadata/team", team},
		{"LIST", "/v1/secret/metadata/team/", team},
		{"GET", "/v1/secret/metadata/team?list=true", team},
		{"GET", "/v1/secret/metadata/team/?list=true", team},
		{"GET", "/v1/secret/metadata/team?list=1", team},
		{"LIST", "/v1/secret/metadata/team/b", []any{"c", "d/"}},
		{"LIST", "/v1/secret/metadata", root},
		{"LIST", "/v1/secret/metadata/", root},
		{"GET", "/v1/secret/metadata?list=true", root},
		{"GET", "/v1/secret/metadata", root},
		{"LIST", "/api/" + h.Domain + "/v1/secret/metadata/team", team},
		{"GET", "/api/" + h.Domain + "/v1/secret/metadata/team/?list=true", team},
		{"GET", "/v1/secret/metadata/team/?list=true&exclude_deleted=true", []any{"a", "b", "b/", "meta-only"}},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			t.Parallel()
			r := h.do(tc.method, tc.path, "")
			expect(t, tc.path, r, 200)
			if got := get(r.json(t), "data", "keys"); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("keys %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("a leaf has no children", func(t *testing.T) {
		t.Parallel()
		r := h.do("LIST", "/v1/secret/metadata/team/a", "")
		expect(t, "list a leaf", r, 404)
		if e := r.errors(t); len(e) != 0 {
			t.Fatalf("errors %q, want []", e)
		}
	})
	t.Run("list=false is a read with an ignored parameter", func(t *testing.T) {
		t.Parallel()
		r := h.do("GET", "/v1/secret/data/top?list=false", "")
		expect(t, "read", r, 200)
		if w := get(r.json(t), "warnings"); !reflect.DeepEqual(w, []any{"Endpoint ignored these unrecognized parameters: [list]"}) {
			t.Fatalf("warnings %v", w)
		}
	})
}

// TestNoTrailingSlash follows TestRegex_AllNoTrailingSlash: data paths
// with a trailing slash, or none at all, are not data routes.
func TestNoTrailingSlash(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	expect(t, "setup", h.do("PUT", "/v1/secret/data/slash", `{"data":{}}`), 200)
	for _, tc := range []struct {
		method, path, warning string
	}{
		{"GET", "/v1/secret/data/slash/", "vault kv get"},
		{"DELETE", "/v1/secret/data/slash/", "vault kv delete"},
		{"GET", "/v1/secret/data", "Non-listing operations on the root"},
		{"GET", "/v1/secret/data/", "vault kv get"},
		{"GET", "/v1/secret/destroy", "Non-listing operations on the root"},
		{"GET", "/v1/secret/", "vault kv get"},
		{"LIST", "/v1/secret/", "vault kv list"},
		{"DELETE", "/v1/secret/metadata", "Non-listing operations on the root"},
	} {
		r := h.do(tc.method, tc.path, "")
		expect(t, tc.method+" "+tc.path, r, 404)
		w, _ := get(r.json(t), "warnings").([]any)
		if len(w) != 1 || !strings.Contains(w[0].(string), tc.warning) {
			t.Errorf("%s %s: warnings %v, want one containing %q", tc.method, tc.path, w, tc.warning)
		}
		if r.body[len(r.body)-1] == '\n' {
			t.Errorf("%s %s: a raw 404 body must not end with a newline", tc.method, tc.path)
		}
	}
	expect(t, "write to a folder", h.do("PUT", "/v1/secret/data/slash/", `{"data":{}}`), 400)
	expect(t, "HEAD off sys/health", h.do("HEAD", "/v1/secret/data/slash", ""), 405)
	r := h.do("HEAD", "/v1/sys/health?activecode=299", "")
	if r.status != 299 || len(r.body) != 0 {
		t.Fatalf("HEAD sys/health?activecode=299: %d %q", r.status, r.body)
	}
	expect(t, "bad health code", h.do("GET", "/v1/sys/health?sealedcode=abc", ""), 400)
	expect(t, "health with the Go client's codes", h.do("GET", "/v1/sys/health?uninitcode=299&sealedcode=299&standbycode=299", ""), 200)
}
