package e2e

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/seed-3e8d63de/coffer/internal/server"
)

// TestHiddenCursors is issue 13's reproduction, end to end through surfaces
// A and B (and C's paginated list): a domain holds 1,005 secrets
// aaa/hidden-0000…1004 and zzz/secret, and a user without any policy lists
// it. Each page reads at most 1,000 records, so the first page is empty
// but has a next cursor. That cursor must not name (in any decoding) a
// path the caller may not see, and cursors must be opaque and bound: a
// forged one, another caller's, another list's or another domain's is a
// 400 in the surface's own cursor error. A user allowed zzz/* pages
// through to exactly zzz/secret.
func TestHiddenCursors(t *testing.T) {
	l := startLive(t, liveOptions{config: func(c *server.Config) { c.Storage = "memory" }})
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < 1005; i += 8 {
				body := fmt.Sprintf(`{"path":"aaa/hidden-%04d","version":{"data":{"k":"v"}}}`, i)
				if st, _, b := l.do(t, "POST", "/api/"+l.domain+"/v2/secret", body); st != 200 {
					errs <- fmt.Sprintf("create %d: %d %s", i, st, b)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	mustStatus(t, l, 200, "POST", "/api/"+l.domain+"/v2/secret", `{"path":"zzz/secret","version":{"data":{"k":"v"}}}`)
	nobody := userToken(t, l, "nobody")
	reader := userToken(t, l, "reader")
	mustStatus(t, l, 200, "POST", "/v2/iam/policy", `{"name":"zzz","identities":["urn:v1:eu:identity:user:coffer/reader"],`+
		`"resources":[{"urn":"urn:v1:eu:resource:okms:`+l.domain+`/secret/zzz%2F*"}],`+
		`"permissions":{"allow":[{"action":"okms:apikms:secret/get"},{"action":"okms:apiovh:secret/get"}]}}`)
	other := strings.Trim(string(mustStatus(t, l, 200, "POST", "/v2/okms/resource", `{"displayName":"other","region":"local"}`)), "\n")
	var od struct{ ID string }
	if err := json.Unmarshal([]byte(other), &od); err != nil || od.ID == "" {
		t.Fatalf("create a second domain: %s", other)
	}

	surfaces := []struct {
		name, list, errID string
	}{
		{"B", "/api/" + l.domain + "/v2/secret", "PaginationCursorInvalid"},
		{"A", "/v2/okms/resource/" + l.domain + "/secret", "PaginationCursorInvalid"},
	}
	for _, s := range surfaces {
		t.Run(s.name, func(t *testing.T) {
			// The caller without a policy: empty pages, opaque cursors.
			cursors := walk(t, l, nobody, s.list, nil)
			if len(cursors) == 0 {
				t.Fatal("the first page has no next cursor: the scan budget no longer applies, so this test proves nothing")
			}
			for _, c := range cursors {
				checkOpaque(t, c)
			}
			// Forged cursors in coffer's former format, naming a hidden
			// path, and garbage.
			for _, forged := range []string{
				b64(`{"d":"` + l.domain + `","k":"secrets","a":"aaa/hidden-1003"}`),
				b64(`{"a":"aaa/hidden-1003"}`),
				cursors[0][:len(cursors[0])-2] + "AA", // altered
				"!!", strings.Repeat("A", 5000),
			} {
				expectCursorError(t, l, nobody, s.list, forged, s.errID)
			}
			// A cursor made for the root, presented by the user; the
			// user's cursor on another domain, on a version list and on
			// the credential list.
			rootCursors := walk(t, l, l.token, s.list, nil)
			if len(rootCursors) == 0 {
				t.Fatal("the root's list has no second page")
			}
			expectCursorError(t, l, nobody, s.list, rootCursors[0], s.errID)
			expectCursorError(t, l, reader, s.list, cursors[0], s.errID)
			expectCursorError(t, l, l.token, strings.Replace(s.list, l.domain, od.ID, 1), rootCursors[0], s.errID)
			expectCursorError(t, l, l.token, s.list+"/aaa%2Fhidden-0001/version", rootCursors[0], s.errID)
			// The reader sees exactly zzz/secret, whatever the page size.
			var seen []string
			walk(t, l, reader, s.list, func(items []map[string]any) {
				for _, it := range items {
					if p, ok := it["path"].(string); ok {
						seen = append(seen, p)
					}
				}
			})
			if fmt.Sprint(seen) != "[zzz/secret]" {
				t.Errorf("the reader's pages hold %v, want [zzz/secret]", seen)
			}
		})
	}
	// Surface A's credential list has a cursor error of its own.
	expectCursorError(t, l, l.token, "/v2/okms/resource/"+l.domain+"/credential", b64(`{"a":"x"}`), "CredentialPaginationCursorInvalidValue")
	t.Run("C", func(t *testing.T) {
		// Vault's LIST, paginated with the OKMS headers (vault-kv2.md 4.7).
		path := "/api/" + l.domain + "/v1/secret/metadata/?list=true"
		st, h, b := l.doToken(t, nobody, "GET", path, "", "X-Pagination-Size", "10")
		next := h.Get("X-Pagination-Cursor-Next")
		if st != 200 || next == "" {
			t.Fatalf("first paginated LIST page: %d %s, next %q", st, b, next)
		}
		checkOpaque(t, next)
		for _, forged := range []string{b64(`{"a":"aaa/hidden-1003"}`), "!!"} {
			st, _, b := l.doToken(t, nobody, "GET", path, "", "X-Pagination-Size", "10", "X-Pagination-Cursor", forged)
			if st != 400 || !strings.Contains(string(b), `"errors":["the pagination cursor is invalid"]`) {
				t.Errorf("LIST with a forged cursor: %d %s, want 400 in Vault's envelope", st, b)
			}
		}
		st, _, b = l.doToken(t, reader, "GET", path, "", "X-Pagination-Size", "10", "X-Pagination-Cursor", next)
		if st != 400 {
			t.Errorf("LIST with another caller's cursor: %d %s, want 400", st, b)
		}
		// Without pagination headers the list is whole: the reader sees
		// its one folder, the user without policy nothing (404).
		if st, _, b := l.doToken(t, reader, "LIST", "/api/"+l.domain+"/v1/secret/metadata/", ""); st != 200 || !strings.Contains(string(b), `"keys":["zzz/"]`) {
			t.Errorf("the reader's LIST: %d %s, want keys [zzz/]", st, b)
		}
		if st, _, b := l.doToken(t, nobody, "LIST", "/api/"+l.domain+"/v1/secret/metadata/", ""); st != 404 {
			t.Errorf("LIST without a policy: %d %s, want 404", st, b)
		}
	})
}

// walk lists every page of list as token's holder (pages of 10), calling
// each with the page's items, and returns the next cursors it was given.
func walk(t *testing.T, l *live, token, list string, each func([]map[string]any)) []string {
	t.Helper()
	var cursors []string
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 400 {
			t.Fatalf("%s: paging does not end", list)
		}
		hdr := []string{"X-Pagination-Size", "10"}
		if cursor != "" {
			hdr = append(hdr, "X-Pagination-Cursor", cursor)
		}
		st, h, b := l.doToken(t, token, "GET", list, "", hdr...)
		if st != 200 {
			t.Fatalf("GET %s: %d %s", list, st, b)
		}
		var items []map[string]any
		if err := json.Unmarshal(b, &items); err != nil {
			t.Fatalf("GET %s: %v in %s", list, err, b)
		}
		if each != nil {
			each(items)
		}
		if cursor = h.Get("X-Pagination-Cursor-Next"); cursor == "" {
			return cursors
		}
		cursors = append(cursors, cursor)
	}
}

// checkOpaque fails if cursor shows a path in any of the encodings a
// client could try: as sent, base64 (both alphabets, padded or not), JSON.
func checkOpaque(t *testing.T, cursor string) {
	t.Helper()
	forms := []string{cursor}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		if b, err := enc.DecodeString(cursor); err == nil {
			forms = append(forms, string(b))
		}
	}
	for _, f := range forms {
		for _, leak := range []string{"hidden", "aaa", "zzz", `"a"`} {
			if strings.Contains(f, leak) {
				t.Fatalf("cursor %q shows %q", cursor, leak)
			}
		}
	}
}

func expectCursorError(t *testing.T, l *live, token, list, cursor, errID string) {
	t.Helper()
	st, _, b := l.doToken(t, token, "GET", list, "", "X-Pagination-Size", "10", "X-Pagination-Cursor", cursor)
	if st != 400 || !strings.Contains(string(b), errID) {
		t.Errorf("GET %s with cursor %.40q: %d %s, want 400 %s", list, cursor, st, b, errID)
	}
	if strings.Contains(string(b), "hidden") || strings.Contains(string(b), "zzz") {
		t.Errorf("GET %s: the error names a path: %s", list, b)
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// mustStatus sends a request with the root token and fails unless it is
// answered with status; it returns the body.
func mustStatus(t *testing.T, l *live, status int, method, path, body string) []byte {
	t.Helper()
	st, _, b := l.do(t, method, path, body)
	if st != status {
		t.Fatalf("%s %s: %d %s, want %d", method, path, st, b, status)
	}
	return b
}

// userToken creates a user without a group and returns a personal access
// token of it.
func userToken(t *testing.T, l *live, login string) string {
	t.Helper()
	mustStatus(t, l, 200, "POST", "/1.0/me/identity/user", `{"login":"`+login+`"}`)
	b := mustStatus(t, l, 200, "POST", "/1.0/me/identity/user/"+login+"/token", `{"name":"t"}`)
	var tok struct{ Token string }
	if err := json.Unmarshal(b, &tok); err != nil || tok.Token == "" {
		t.Fatalf("create a token for %s: %s", login, b)
	}
	return tok.Token
}

// TestKeyListCursors: the service key lists follow the same rule (issue 13,
// point 1): surface B's continuation token and surface A's cursor show no
// key id and are bound to the list and the caller.
func TestKeyListCursors(t *testing.T) {
	l := startLive(t, liveOptions{config: func(c *server.Config) { c.Storage = "memory" }})
	keys := "/api/" + l.domain + "/v1/servicekey"
	var ids []string
	for i := range 12 {
		b := mustStatus(t, l, 201, "POST", keys, fmt.Sprintf(`{"name":"k%02d","type":"oct","size":256,"operations":["encrypt","decrypt"]}`, i))
		var k struct{ ID string }
		if err := json.Unmarshal(b, &k); err != nil || k.ID == "" {
			t.Fatalf("create a key: %s", b)
		}
		ids = append(ids, k.ID)
	}
	other := userToken(t, l, "other")
	mustStatus(t, l, 200, "POST", "/v2/iam/policy", `{"name":"other","identities":["urn:v1:eu:identity:user:coffer/other"],`+
		`"resources":[{"urn":"urn:v1:eu:resource:okms:`+l.domain+`"}],"permissions":{"allow":[{"action":"okms:apikms:serviceKey/get"}]}}`)
	st, _, b := l.do(t, "GET", keys+"?max=10", "")
	var page struct {
		Next string `json:"continuation_token"`
		More bool   `json:"is_truncated"`
	}
	if st != 200 || json.Unmarshal(b, &page) != nil || !page.More || page.Next == "" {
		t.Fatalf("first page of keys: %d %s", st, b)
	}
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.StdEncoding} {
		d, _ := enc.DecodeString(page.Next)
		for _, id := range ids {
			if strings.Contains(page.Next, id) || strings.Contains(string(d), id) {
				t.Fatalf("continuation token %q shows key id %s", page.Next, id)
			}
		}
	}
	for name, tc := range map[string]struct{ token, cursor string }{
		"forged":         {l.token, b64(`{"d":"` + l.domain + `","k":"serviceKeys","a":"` + ids[0] + `"}`)},
		"another caller": {other, page.Next},
	} {
		st, _, b := l.doToken(t, tc.token, "GET", keys+"?max=10&continuation-token="+url.QueryEscape(tc.cursor), "")
		if st != 400 {
			t.Errorf("%s continuation token: %d %s, want 400", name, st, b)
		}
	}
	if st, _, b := l.do(t, "GET", keys+"?max=10&continuation-token="+url.QueryEscape(page.Next), ""); st != 200 {
		t.Errorf("the next page: %d %s", st, b)
	}
	// Surfaces A and B list the same keys: the cursor continues on A for
	// the same caller, and for no one else.
	if st, _, b := l.do(t, "GET", "/v2/okms/resource/"+l.domain+"/serviceKey", "", "X-Pagination-Cursor", page.Next); st != 200 {
		t.Errorf("the cursor on surface A: %d %s", st, b)
	}
	expectCursorError(t, l, other, "/v2/okms/resource/"+l.domain+"/serviceKey", page.Next, "PaginationCursorInvalid")
}
