package wiretest

import (
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"testing"
)

var (
	uuidV4    = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)
	wholeSecZ = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$`)
)

// Contract is what every answer of one of coffer's JSON surfaces carries
// (okms-rest.md 1.1, 2.8, 8): [Contract.Expect] checks it.
type Contract struct {
	// QueryID asks for X-Ovh-QueryID equal to X-Request-Id (okms-rest.md
	// 8.2: the OVH surfaces).
	QueryID bool
	// TimeMember matches the names of the members that hold times: each
	// must be a string in whole seconds with Z, or null.
	TimeMember *regexp.Regexp
	// Envelope checks an error body in the surface's own format: that it
	// names err, and carries the request id rid where the format has one.
	Envelope func(t *testing.T, r *Response, rid, err string)
}

// Expect checks the status and what every answer carries: X-Request-Id
// (a UUID v4), Cache-Control: no-store, a JSON body with Content-Type:
// application/json (204: no body), times in whole seconds with Z, and
// for errors the surface's envelope naming err. It stops the test if the
// status is not the one expected.
func (c Contract) Expect(t *testing.T, r *Response, status int, err string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status = %d, want %d; body %s", r.Status, status, r.Body)
	}
	rid := r.Header.Get("X-Request-Id")
	if !uuidV4.MatchString(rid) {
		t.Errorf("X-Request-Id = %q, want a UUID v4", rid)
	}
	if got := r.Header.Get("X-Ovh-QueryID"); c.QueryID && got != rid {
		t.Errorf("X-Ovh-QueryID = %q, want the request id %q", got, rid)
	}
	if got := r.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if status == http.StatusNoContent {
		if len(r.Body) != 0 {
			t.Errorf("204 body = %q, want none", r.Body)
		}
		return
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	var v any
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatalf("body is not JSON: %v: %s", err, r.Body)
	}
	if status < 400 {
		if err != "" {
			t.Fatalf("test bug: error %q given for status %d", err, status)
		}
		c.checkTimes(t, "", v)
		return
	}
	c.Envelope(t, r, rid, err)
}

// checkTimes verifies every time member of a decoded body.
func (c Contract) checkTimes(t *testing.T, name string, v any) {
	t.Helper()
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			c.checkTimes(t, k, x)
		}
	case []any:
		for _, x := range v {
			c.checkTimes(t, name, x)
		}
	case string:
		if c.TimeMember.MatchString(name) && !wholeSecZ.MatchString(v) {
			t.Errorf("%s = %q, want RFC 3339 UTC in whole seconds with Z", name, v)
		}
	}
}

// Members checks that the JSON object body has exactly the members
// named, in any order; it stops the test if body is not an object.
func Members(t *testing.T, body []byte, names ...string) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not an object: %s", body)
	}
	if keys := slices.Sorted(maps.Keys(m)); !slices.Equal(keys, slices.Sorted(slices.Values(names))) {
		t.Errorf("members = %v, want %v", keys, names)
	}
}

// OVHError is the error envelope of the OVH routes (okms-rest.md 8.2).
type OVHError struct {
	Class   string `json:"class"`
	Message string `json:"message"`
}

// CheckOVHError checks an error body in the OVH envelope: exactly class
// and message, the class given, a message. It returns the envelope.
func CheckOVHError(t *testing.T, r *Response, class string) OVHError {
	t.Helper()
	Members(t, r.Body, "class", "message")
	e := Decode[OVHError](t, r.Body)
	if e.Class != class {
		t.Errorf("class = %q, want %q; body %s", e.Class, class, r.Body)
	}
	if e.Message == "" {
		t.Errorf("message is empty: %s", r.Body)
	}
	return e
}
