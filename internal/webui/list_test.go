package webui_test

import (
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var rowNameRE = regexp.MustCompile(`<a class="name" href="([^"]+)">.*?<span>([^<]+)</span></a>`)

// listPage returns the names listed by a page of the secrets list and the
// link to the next page, "" if none.
func listPage(t *testing.T, c *client, path string) (names []string, next string) {
	t.Helper()
	r := c.get(path)
	if r.status != http.StatusOK {
		t.Fatalf("GET %s = %d", path, r.status)
	}
	for _, m := range rowNameRE.FindAllStringSubmatch(r.body, -1) {
		names = append(names, html.UnescapeString(m[2]))
	}
	if m := regexp.MustCompile(`rel="next" href="([^"]+)"`).FindStringSubmatch(r.body); m != nil {
		next = html.UnescapeString(m[1])
	}
	return names, next
}

// TestSecretsListPaging: folders are listed once each, whatever the number
// of secrets below them, pages hold 50 entries and follow each other
// without a gap or a repeat, and a filter pages too.
func TestSecretsListPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envOptions{})
	var want []string
	for i := range 60 {
		for j := range 3 {
			e.putSecret(e.domain, fmt.Sprintf("f%02d/s%d", i, j), `{"k":"v"}`)
		}
		want = append(want, fmt.Sprintf("f%02d/", i))
	}
	for i := range 10 {
		e.putSecret(e.domain, fmt.Sprintf("z%02d", i), `{"k":"v"}`)
		want = append(want, fmt.Sprintf("z%02d", i))
	}
	c := e.client()
	c.signIn("", e.root)

	var got []string
	next := "/ui/d/" + e.domain + "/secrets"
	for pages := 0; next != ""; pages++ {
		if pages == 5 {
			t.Fatal("the list does not end")
		}
		names, n := listPage(t, c, next)
		if len(names) > 50 {
			t.Errorf("a page lists %d entries", len(names))
		}
		got, next = append(got, names...), n
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("the pages list\n%v\nwant\n%v", got, want)
	}

	// A filter over the whole domain, paged.
	got = nil
	next = "/ui/d/" + e.domain + "/secrets?q=/s1&size=25"
	for pages := 0; next != ""; pages++ {
		if pages == 5 {
			t.Fatal("the filtered list does not end")
		}
		names, n := listPage(t, c, next)
		got, next = append(got, names...), n
	}
	if len(got) != 60 || got[0] != "f00/s1" || got[59] != "f59/s1" {
		t.Errorf("the filter found %d secrets (%v…), want the 60 f*/s1", len(got), got[:min(3, len(got))])
	}
}
