package kv2

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"net/http/httptest"
	"testing"
)

// replyData writes exactly what reply writes for a data read: status,
// headers and body byte for byte, on random values (compact or not, with
// every character encoding/json escapes or keeps), custom metadata (none,
// or maps with such keys and values), times, versions and mounts, and
// through reply when parameters were ignored or the value does not encode.
func TestReplyData_matchesReply(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 1))
	pieces := []string{"", "a", "pass word", `"`, `\`, "\n", "\t", "\x01", "<", ">", "&", "é", "日本", "\u2028", "\xff", "%2F", "{", "}"}
	str := func() string {
		var s string
		for range rng.IntN(4) {
			s += pieces[rng.IntN(len(pieces))]
		}
		return s
	}
	values := func() json.RawMessage {
		switch rng.IntN(8) {
		case 0:
			return nil
		case 1:
			return json.RawMessage(`{ "a" : [1, 2.5e3, true, null] ,"b":{}}`) // not compact
		case 2:
			return json.RawMessage(`{"a":`) // does not encode
		}
		m := map[string]any{}
		for range rng.IntN(5) {
			switch rng.IntN(3) {
			case 0:
				m[str()] = str()
			case 1:
				m[str()] = rng.Float64() * 1e6
			default:
				m[str()] = []any{str(), map[string]any{str(): nil}}
			}
		}
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(rng.IntN(2) == 0)
		enc.Encode(m)
		return bytes.TrimSpace(buf.Bytes())
	}
	for i := range 5000 {
		body := dataResponse{Data: values(), Metadata: versionMetadata{
			CreatedTime: "2026-12-08T02:03:04.123456789Z", DeletionTime: []string{"", "2027-01-01T00:00:00Z", str()}[rng.IntN(3)],
			Destroyed: rng.IntN(2) == 0, Version: rng.Uint32(),
		}}
		if rng.IntN(2) == 0 {
			body.Metadata.CustomMetadata = map[string]string{}
			for range rng.IntN(4) {
				body.Metadata.CustomMetadata[str()] = str()
			}
		}
		c := &call{mount: []string{"kv", "", "k\"v"}[rng.IntN(3)]}
		if rng.IntN(10) == 0 {
			c.ignored = []string{"x", str()}
		}
		r := httptest.NewRequest("GET", "/v1/secret/data/a", nil)
		want, got := httptest.NewRecorder(), httptest.NewRecorder()
		if err := reply(want, r, c, body); err != nil {
			t.Fatal(err)
		}
		if err := replyData(got, r, c, body); err != nil {
			t.Fatal(err)
		}
		if got.Code != want.Code || got.Header().Get("Content-Type") != want.Header().Get("Content-Type") || !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
			t.Fatalf("case %d (%+v):\n got %d %s\nwant %d %s", i, body, got.Code, got.Body, want.Code, want.Body)
		}
	}
}
