package audit

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
	"time"
)

// appendEvent writes exactly json.Marshal's bytes, on random events whose
// strings mix plain ASCII with every character encoding/json escapes or
// replaces (quotes, backslashes, controls, <>&, U+2028, invalid UTF-8).
func TestAppendEvent_matchesJSONMarshal(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 21))
	pieces := []string{"", "a", "urn:v1:eu:resource:okms:x/secret/a%2Fb", "req-1", "\"", "\\", "\n", "\x00", "\x1f", "<", ">", "&",
		"é", "\u2028", "\u2029", "\xff", "\xe2\x82", "日本", "allow: account root", "okms:apikms:secret/get,okms:apikms:secret/version/getData"}
	str := func() string {
		var s string
		for range rng.IntN(4) {
			s += pieces[rng.IntN(len(pieces))]
		}
		return s
	}
	times := []time.Time{time.Time{}, time.Date(2026, 12, 8, 2, 3, 4, 0, time.UTC), time.Date(2026, 12, 8, 2, 3, 4, 123456789, time.UTC),
		time.Date(1999, 1, 2, 3, 4, 5, 100, time.FixedZone("x", 3600+1800)), time.Now(), time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}
	for i := range 20000 {
		e := Event{Time: times[rng.IntN(len(times))], Phase: str(), RequestID: str(), Surface: str(), Credential: str(),
			Action: str(), Resource: str(), Outcome: str(), Reason: str(), Decision: str(), RemoteAddr: str(), Durable: rng.IntN(2) == 0}
		switch rng.IntN(3) {
		case 1:
			e.Principal = []string{}
		case 2:
			for range 1 + rng.IntN(3) {
				e.Principal = append(e.Principal, str())
			}
		}
		want, werr := json.Marshal(e)
		got, gerr := appendEvent(nil, e)
		if (werr != nil) != (gerr != nil) || (werr == nil && !bytes.Equal(got, want)) {
			t.Fatalf("event %d %#v:\n got %s (%v)\nwant %s (%v)", i, e, got, gerr, want, werr)
		}
	}
}

func BenchmarkEncodeEvent(b *testing.B) {
	e := Event{Time: time.Now(), Phase: PhaseRequestResponse, RequestID: "3f2a9c1d7e5b4a60", Surface: "C",
		Principal: []string{"urn:v1:eu:identity:account:coffer"}, Credential: "root-token:acc_0123456789abcdef01234567",
		Action: "okms:apikms:secret/get,okms:apikms:secret/version/getData", Resource: "urn:v1:eu:resource:okms:0e3ce9e9-dc1f-4226-be3b-70d3887592a0/secret/bench%2Fread",
		Outcome: Allowed, Decision: "allow: account root", RemoteAddr: "127.0.0.1:53422"}
	b.Run("json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			json.Marshal(e)
		}
	})
	b.Run("appendEvent", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for b.Loop() {
			buf, _ = appendEvent(buf[:0], e)
		}
	})
}
